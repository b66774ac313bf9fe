"""The household <-> hub wire protocol: paths, signing, verification and bodies.

Pure Python (no Home Assistant import); both roles use it. docs/protocol.md is
the human-readable description of everything defined here and must change with it.

Validation is our own field-by-field loop (no schema engine), so every error
names the first bad field in the same words on every Home Assistant version.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import hashlib
import hmac
import json
import math
import re
import secrets
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..const import SURVEY_COMMENT_MAX_CHARS, SURVEY_RATING_MAX, SURVEY_RATING_MIN
from .models import Incident, IncidentKind, IncidentState, Triage
from .surveys import Survey, SurveyState

PROTOCOL_VERSION = 1
API_PREFIX = "/api/silver_bell/v1"
PATH_INCIDENTS = f"{API_PREFIX}/incidents"
PATH_HEARTBEAT = f"{API_PREFIX}/heartbeat"

MAX_BODY_BYTES = 64 * 1024
BODY_TIMEOUT_S = 30  # a body announced but not sent within this gets 408
TIMESTAMP_WINDOW_S = 300  # whole seconds, inclusive: |hub second - timestamp| <= 300

HEADER_HOUSEHOLD = "X-Silver-Bell-Household"
HEADER_TIMESTAMP = "X-Silver-Bell-Timestamp"
HEADER_NONCE = "X-Silver-Bell-Nonce"
HEADER_SIGNATURE = "X-Silver-Bell-Signature"

# Every error code the hub answers with, and its HTTP status.
ERRORS: Mapping[str, int] = {
    "invalid": 400,
    "unsupported_version": 400,
    "missing_header": 401,
    "unknown_household": 401,
    "clock_skew": 401,
    "bad_signature": 401,
    "replayed": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "timeout": 408,
    "no_survey": 409,
    "survey_closed": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}

# Limits of the bodies (documented in docs/protocol.md).
MAX_SEQ = 1_000_000
MAX_TEXT_CHARS = 200  # by, note, acknowledged_by, resolution
MAX_DETAILS_KEYS = 32
MAX_DETAILS_BYTES = 8 * 1024
# Lists/objects nested below ``details``: {"a": {"b": {"c": {"d": 1}}}} is three.
MAX_DETAILS_NESTING = 3
MAX_DETAIL_KEY_CHARS = 64
MAX_UNKNOWN_KEYS = 16  # unknown keys per object are ignored, up to this many
MAX_OPEN_INCIDENTS = 10_000
MAX_VERSION_CHARS = 64

PAIRING_PREFIX = "SB1-"

_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_HOUSEHOLD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_SIGNATURE_RE = re.compile(r"[0-9a-fA-F]{64}")
_SECRET_RE = re.compile(r"[!-~]{16,256}")  # printable ASCII, no spaces
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_WHITESPACE_RE = re.compile(r"\s+")
_MAX_TIME_CHARS = 64
_FIT_TEXT_CHARS = 1000


def incident_path(incident_id: str) -> str:
    """Path of one incident's progress (GET)."""
    return f"{PATH_INCIDENTS}/{incident_id}"


def survey_path(incident_id: str) -> str:
    """Path of the satisfaction survey of one incident (POST the family's answer)."""
    return f"{incident_path(incident_id)}/survey"


# ---------------------------------------------------------------- identifiers
def new_household_id() -> str:
    """A fresh household id: ``hh_`` and 12 URL-safe random characters."""
    return "hh_" + secrets.token_urlsafe(9)


def new_secret() -> str:
    """A fresh household secret: 32 random bytes, URL-safe base64 without padding."""
    return secrets.token_urlsafe(32)


def new_nonce() -> str:
    """A fresh 128-bit nonce as 32 lowercase hex digits."""
    return secrets.token_hex(16)


# -------------------------------------------------------------------- signing
def canonical(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """The bytes that are signed.

    Five lines joined by a newline character (no trailing newline), UTF-8: the
    method upper-cased, the path (no query string), the timestamp in decimal,
    the nonce, and the SHA-256 of the body as 64 lowercase hex digits.
    """
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{int(timestamp)}\n{nonce}\n{digest}".encode()


def sign(
    secret: str, method: str, path: str, timestamp: int, nonce: str, body: bytes
) -> str:
    """HMAC-SHA256 of the canonical request, lowercase hex; key = the secret's UTF-8 bytes."""
    return hmac.new(
        secret.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signed_headers(
    household_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    *,
    now: float,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four authentication headers; a fresh nonce on every call (every retry)."""
    timestamp = math.floor(now)
    nonce = new_nonce() if nonce is None else nonce
    return {
        HEADER_HOUSEHOLD: household_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, method, path, timestamp, nonce, body),
    }


# ----------------------------------------------------------------- rejection
class Rejection(Exception):
    """What the hub answers instead of doing the request; nothing was stored.

    The HTTP view turns it into a JSON response (``body()``) with ``status`` and,
    for ``rate_limited``, a ``Retry-After`` header. ``retry_after`` (seconds)
    goes into the body as given (to the millisecond: a household can retry the
    moment it may) and into the header rounded up to whole seconds, as HTTP
    wants it.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
        server_time: float | None = None,
    ) -> None:
        """Describe the rejection."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after
        self.server_time = server_time

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.server_time is not None:
            body["server_time"] = self.server_time
        if self.retry_after is not None:
            wait = math.ceil(self.retry_after * 1000) / 1000  # up, to the ms
            body["retry_after"] = int(wait) if wait.is_integer() else wait
        return body

    @property
    def retry_after_header(self) -> str | None:
        """``Retry-After`` in whole seconds, rounded up (None without a wait)."""
        if self.retry_after is None:
            return None
        return str(max(0, math.ceil(self.retry_after)))


def parse_json(body: bytes) -> Any:
    """Decode a request body; Rejection 400 ``invalid`` (field ``body``) if it is not JSON.

    Catches what ``json.loads`` raises beyond ValueError too (RecursionError on
    deeply nested arrays), so garbage never becomes a 500.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Rejection(400, "invalid", "body: not JSON", field="body") from None


def encode_body(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as the household sends it (NaN/Infinity refused)."""
    return json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


# -------------------------------------------------------- nonces, rate limit
class NonceCache:
    """Remembers (household, nonce) pairs so that a signed request works only once.

    A request is accepted while its timestamp is within ``window_s`` of the hub's
    clock on either side (in whole seconds, inclusive), so a nonce is remembered
    for ``2 * window_s + 1`` seconds after it was first seen (a request stamped
    ``window_s`` in the future stays acceptable that long, up to the end of the
    last accepted second). Memory is bounded: expired entries are dropped and, beyond
    ``max_entries``, the oldest entries are evicted.
    """

    def __init__(
        self, window_s: int = TIMESTAMP_WINDOW_S, max_entries: int = 100_000
    ) -> None:
        """Create an empty cache."""
        if window_s <= 0 or max_entries <= 0:
            raise ValueError("window_s and max_entries must be positive")
        self._keep = 2 * window_s + 1
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __len__(self) -> int:
        """Number of remembered nonces."""
        return len(self._seen)

    def check_and_add(self, household_id: str, nonce: str, now: float) -> bool:
        """Record the nonce; False if it was already seen (a replay)."""
        self._expire(now)
        key = (household_id, nonce)
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen[key] = now + self._keep
        self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    def _expire(self, now: float) -> None:
        while self._seen:
            key, expires = next(iter(self._seen.items()))
            if expires > now:
                return
            del self._seen[key]


class RateLimiter:
    """Token bucket per household: ``burst`` requests at once, ``per_minute`` sustained.

    New alarms first: a request that opens an incident the hub does not have
    yet (``urgent``) is let through even when the bucket is empty, by taking
    the bucket into debt down to ``-reserve`` tokens. Nothing else passes until
    the debt is refilled, so the sustained rate stays ``per_minute`` and a
    burst is at most ``burst + reserve``; a household's routine traffic
    (updates, polls, heartbeats) never delays its next help call.
    """

    prune_above = 10_000  # buckets; full buckets are forgotten beyond this many

    def __init__(
        self, burst: int = 120, per_minute: float = 60.0, reserve: int = 0
    ) -> None:
        """Create the limiter (every household starts with a full bucket)."""
        if burst < 1 or not per_minute > 0 or reserve < 0:
            raise ValueError("burst must be >= 1, per_minute > 0 and reserve >= 0")
        self.burst = burst
        self.per_second = per_minute / 60.0
        self.reserve = reserve
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, at)

    def __len__(self) -> int:
        """Number of households with a bucket that is not full."""
        return len(self._buckets)

    def _tokens(self, household_id: str, now: float) -> float:
        tokens, at = self._buckets.get(household_id, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - at) * self.per_second)

    def acquire(
        self, household_id: str, now: float, *, urgent: bool = False
    ) -> float | None:
        """Take a token: None if allowed, else seconds until a token is available.

        ``urgent`` (a new alarm) may also take one of the reserve's tokens.
        """
        tokens = self._tokens(household_id, now)
        if tokens >= (1.0 - self.reserve if urgent else 1.0):
            self._buckets[household_id] = (tokens - 1.0, now)
            if len(self._buckets) > self.prune_above:
                self._prune(now)
            return None
        self._buckets[household_id] = (tokens, now)
        return (1.0 - tokens) / self.per_second

    def _prune(self, now: float) -> None:
        full = [hid for hid in self._buckets if self._tokens(hid, now) >= self.burst]
        for household_id in full:
            del self._buckets[household_id]


# --------------------------------------------------------------- verification
def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        for key, item in headers.items():
            if key.lower() == wanted:
                value = item
                break
    return value or None


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    secret_for: Callable[[str], str | None],
    nonces: NonceCache,
    now: float,
) -> str:
    """Authenticate a request; return the household id or raise Rejection.

    Order: body size (413) -> headers present and well-formed (401
    ``missing_header``) -> household known (401) -> timestamp within the window
    (401 ``clock_skew`` with the hub's time) -> signature, compared in constant
    time (401 ``bad_signature``) -> nonce not seen before (401 ``replayed``). The
    nonce is recorded only once the signature is valid, so forged requests cannot
    fill the cache or burn a household's nonces.
    """
    if len(body) > MAX_BODY_BYTES:
        raise Rejection(
            413, "too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes."
        )
    values: dict[str, str] = {}
    for name, pattern in (
        (HEADER_HOUSEHOLD, None),
        (HEADER_TIMESTAMP, _TIMESTAMP_RE),
        (HEADER_NONCE, _NONCE_RE),
        (HEADER_SIGNATURE, None),
    ):
        value = _header(headers, name)
        if value is None:
            raise Rejection(401, "missing_header", f"{name} is missing.", field=name)
        if pattern is not None and not pattern.fullmatch(value):
            raise Rejection(401, "missing_header", f"{name} is malformed.", field=name)
        values[name] = value
    household_id = values[HEADER_HOUSEHOLD]
    secret = secret_for(household_id) if _HOUSEHOLD_RE.fullmatch(household_id) else None
    if not secret:
        raise Rejection(401, "unknown_household", "This household is not registered.")
    timestamp = int(values[HEADER_TIMESTAMP])
    # Timestamps are whole seconds: compare with the hub's current whole second,
    # so a request stamped exactly 300 s away is accepted whatever the fraction.
    if abs(math.floor(now) - timestamp) > TIMESTAMP_WINDOW_S:
        raise Rejection(
            401,
            "clock_skew",
            f"The timestamp is more than {TIMESTAMP_WINDOW_S} s from the hub's clock.",
            server_time=now,
        )
    nonce = values[HEADER_NONCE]
    expected = sign(secret, method, path, timestamp, nonce, body)
    given = values[HEADER_SIGNATURE]
    if not _SIGNATURE_RE.fullmatch(given):
        given = "0" * 64  # still compare, so timing does not tell the format apart
    if not hmac.compare_digest(expected, given.lower()):
        raise Rejection(401, "bad_signature", "The signature does not match.")
    if not nonces.check_and_add(household_id, nonce, now):
        raise Rejection(401, "replayed", "This nonce was already used.")
    return household_id


# --------------------------------------------------------------- validation
class InvalidField(ValueError):
    """A body field is missing or wrong; ``field`` names it (e.g. ``incident.kind``)."""

    def __init__(self, field: str, reason: str) -> None:
        """Name the field and say what is wrong."""
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_MISSING: Any = object()
_E = TypeVar("_E", bound=StrEnum)


def _object(value: Any, name: str, known: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidField(name, "must be an object")
    unknown = [key for key in value if key not in known]
    if len(unknown) > MAX_UNKNOWN_KEYS:
        raise InvalidField(
            name, f"has {len(unknown)} unknown keys (at most {MAX_UNKNOWN_KEYS})"
        )
    return value


def _required(data: Mapping[str, Any], key: str, name: str) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING:
        raise InvalidField(name, "is required")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(name, "must be an integer")
    if not low <= value <= high:
        raise InvalidField(name, f"must be between {low} and {high}")
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidField(name, "must be true or false")
    return value


def _ident(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise InvalidField(name, "must be 8-64 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _text(value: Any, name: str, limit: int = MAX_TEXT_CHARS) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(name, "must be a string or null")
    if len(value) > limit:
        raise InvalidField(name, f"must be at most {limit} characters")
    return value


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > _MAX_TIME_CHARS:
        raise InvalidField(name, "must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField(name, "must be an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise InvalidField(name, "must include a time zone offset")
    return moment


def _optional_time(value: Any, name: str) -> datetime | None:
    return None if value is None else _time(value, name)


def _enum(value: Any, name: str, choices: type[_E]) -> _E:
    allowed = [item.value for item in choices]
    if not isinstance(value, str) or value not in allowed:
        raise InvalidField(name, "must be one of " + ", ".join(allowed))
    return choices(value)


def _detail_value(value: Any, name: str, depth: int) -> None:
    """Check one value in ``details``; a list/object here is the ``depth``-th nested one."""
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidField(name, "must be a finite number")
        return
    if not isinstance(value, list | dict):
        raise InvalidField(name, "must be a JSON value")
    if depth > MAX_DETAILS_NESTING:
        raise InvalidField(
            name,
            f"nests more than {MAX_DETAILS_NESTING} lists/objects deep below details",
        )
    if isinstance(value, list):
        for index, item in enumerate(value):
            _detail_value(item, f"{name}[{index}]", depth + 1)
        return
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidField(name, "keys must be strings")
        _detail_value(item, f"{name}.{key}", depth + 1)


def _details_size(details: Mapping[str, Any]) -> int:
    return len(json.dumps(details, separators=(",", ":"), ensure_ascii=False).encode())


def _details(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField(name, "must be an object")
    if len(value) > MAX_DETAILS_KEYS:
        raise InvalidField(name, f"must have at most {MAX_DETAILS_KEYS} keys")
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_DETAIL_KEY_CHARS:
            raise InvalidField(
                name, f"keys must be 1-{MAX_DETAIL_KEY_CHARS} character strings"
            )
        _detail_value(item, f"{name}.{key}", 1)
    if _details_size(value) > MAX_DETAILS_BYTES:
        raise InvalidField(name, f"must serialise to at most {MAX_DETAILS_BYTES} bytes")
    return dict(value)


def _envelope(payload: Any, key: str) -> Any:
    """Check ``{"v": 1, key: {...}}`` and return the inner object."""
    envelope = _object(payload, "body", frozenset({"v", key}))
    version = _required(envelope, "v", "v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidField("v", "must be an integer")
    if version != PROTOCOL_VERSION:
        raise Rejection(
            400,
            "unsupported_version",
            f"This hub speaks protocol version {PROTOCOL_VERSION}, not {version}.",
            field="v",
        )
    return _required(envelope, key, key)


def _rejection(err: InvalidField) -> Rejection:
    return Rejection(400, "invalid", str(err), field=err.field)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:  # Home Assistant's times are aware; never send naive ones
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _optional_iso(value: datetime | None) -> str | None:
    return None if value is None else _iso(value)


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:MAX_TEXT_CHARS]


# ------------------------------------------------------------------ incident
_INCIDENT_KEYS = frozenset(
    {
        "id",
        "seq",
        "kind",
        "state",
        "test",
        "created_at",
        "updated_at",
        "escalated_at",
        "details",
        "by",
        "note",
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentMessage:
    """Household -> hub: a new incident or an update of one (idempotent by (id, seq))."""

    id: str
    seq: int
    kind: IncidentKind
    state: IncidentState
    test: bool
    created_at: datetime
    updated_at: datetime
    escalated_at: datetime | None
    details: dict[str, Any]
    by: str | None
    note: str | None


def _fit_value(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:_FIT_TEXT_CHARS]
    if isinstance(value, list | tuple) and depth <= MAX_DETAILS_NESTING:
        return [_fit_value(item, depth + 1) for item in value]
    if isinstance(value, Mapping) and depth <= MAX_DETAILS_NESTING:
        return {str(key): _fit_value(item, depth + 1) for key, item in value.items()}
    return str(value)[:_FIT_TEXT_CHARS]


def fit_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Make an incident's details acceptable to the hub, keeping as much as possible.

    Keys are strings of 1-64 characters (at most 32 keys), values JSON values
    with at most 3 lists/objects nested below ``details`` (a deeper one becomes
    its string); long strings are cut to 1000 characters, anything
    else becomes its string. If the result is still over 8 KiB, the largest
    entries are dropped until it fits. So a help call's message is never the
    reason an incident cannot be delivered.
    """
    fitted: dict[str, Any] = {}
    for key, value in details.items():
        name = str(key)[:MAX_DETAIL_KEY_CHARS]
        if not name or name in fitted:
            continue
        fitted[name] = _fit_value(value, 1)
        if len(fitted) == MAX_DETAILS_KEYS:
            break
    while _details_size(fitted) > MAX_DETAILS_BYTES:
        largest = max(fitted, key=lambda k: _details_size({k: fitted[k]}))
        del fitted[largest]
    return fitted


def incident_body(
    incident: Incident, *, by: str | None = None, note: str | None = None
) -> dict[str, Any]:
    """``{"v": 1, "incident": {...}}`` for the incident's current version.

    ``by``/``note`` default to the last audit entry's; texts are cut to 200
    characters and details fitted (``fit_details``), so the hub always accepts
    the body's shape.
    """
    last = incident.audit[-1]
    if by is None:
        by = last.by
    if note is None:
        note = last.note
    return {
        "v": PROTOCOL_VERSION,
        "incident": {
            "id": incident.id,
            "seq": incident.seq,
            "kind": incident.kind.value,
            "state": incident.state.value,
            "test": incident.test,
            "created_at": _iso(incident.created_at),
            "updated_at": _iso(incident.updated_at),
            "escalated_at": _optional_iso(incident.escalated_at),
            "details": fit_details(incident.details),
            "by": _cut(by),
            "note": _cut(note),
        },
    }


def parse_incident(payload: Any) -> IncidentMessage:
    """Validate an incident body; Rejection 400 naming the first bad field."""
    try:
        data = _object(_envelope(payload, "incident"), "incident", _INCIDENT_KEYS)
        return IncidentMessage(
            id=_ident(_required(data, "id", "incident.id"), "incident.id"),
            seq=_int(
                _required(data, "seq", "incident.seq"), "incident.seq", 0, MAX_SEQ
            ),
            kind=_enum(
                _required(data, "kind", "incident.kind"), "incident.kind", IncidentKind
            ),
            state=_enum(
                _required(data, "state", "incident.state"),
                "incident.state",
                IncidentState,
            ),
            test=_bool(_required(data, "test", "incident.test"), "incident.test"),
            created_at=_time(
                _required(data, "created_at", "incident.created_at"),
                "incident.created_at",
            ),
            updated_at=_time(
                _required(data, "updated_at", "incident.updated_at"),
                "incident.updated_at",
            ),
            escalated_at=_optional_time(
                data.get("escalated_at"), "incident.escalated_at"
            ),
            details=_details(data.get("details"), "incident.details"),
            by=_text(data.get("by"), "incident.by"),
            note=_text(data.get("note"), "incident.note"),
        )
    except InvalidField as err:
        raise _rejection(err) from None


# ----------------------------------------------------------------- heartbeat
_HEARTBEAT_KEYS = frozenset({"sent_at", "open_incidents", "version"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Heartbeat:
    """Household -> hub: I am alive."""

    sent_at: datetime
    open_incidents: int
    version: str | None


def heartbeat_body(
    *, now: datetime, open_incidents: int, version: str | None
) -> dict[str, Any]:
    """``{"v": 1, "heartbeat": {...}}``."""
    return {
        "v": PROTOCOL_VERSION,
        "heartbeat": {
            "sent_at": _iso(now),
            "open_incidents": max(0, min(open_incidents, MAX_OPEN_INCIDENTS)),
            "version": None if version is None else version[:MAX_VERSION_CHARS],
        },
    }


def parse_heartbeat(payload: Any) -> Heartbeat:
    """Validate a heartbeat body; Rejection 400 naming the first bad field."""
    try:
        data = _object(_envelope(payload, "heartbeat"), "heartbeat", _HEARTBEAT_KEYS)
        return Heartbeat(
            sent_at=_time(
                _required(data, "sent_at", "heartbeat.sent_at"), "heartbeat.sent_at"
            ),
            open_incidents=_int(
                _required(data, "open_incidents", "heartbeat.open_incidents"),
                "heartbeat.open_incidents",
                0,
                MAX_OPEN_INCIDENTS,
            ),
            version=_text(data.get("version"), "heartbeat.version", MAX_VERSION_CHARS),
        )
    except InvalidField as err:
        raise _rejection(err) from None


# ------------------------------------------------------------------ progress
_PROGRESS_KEYS = frozenset(
    {
        "id",
        "state",
        "colour",
        "acknowledged_by",
        "acknowledged_at",
        "on_the_way_at",
        "resolved_at",
        "resolution",
        "updated_at",
        "survey",
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Progress:
    """Hub -> household: what the hub has done about an incident."""

    id: str
    state: IncidentState
    colour: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    on_the_way_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    updated_at: datetime
    # The satisfaction survey of a resolved incident: pending / answered / no_answer;
    # None while the incident is open or when it is not surveyed (and from older hubs).
    survey: SurveyState | None = None


def progress_body(progress: Progress) -> dict[str, Any]:
    """The progress object (the view wraps it as ``{"ok": true, "progress": ...}``).

    Texts are cut to 200 characters, so the household always accepts it.
    """
    return {
        "id": progress.id,
        "state": progress.state.value,
        "colour": progress.colour,
        "acknowledged_by": _cut(progress.acknowledged_by),
        "acknowledged_at": _optional_iso(progress.acknowledged_at),
        "on_the_way_at": _optional_iso(progress.on_the_way_at),
        "resolved_at": _optional_iso(progress.resolved_at),
        "resolution": _cut(progress.resolution),
        "updated_at": _iso(progress.updated_at),
        "survey": None if progress.survey is None else progress.survey.value,
    }


def parse_progress(payload: Any) -> Progress:
    """Validate the hub's progress object; InvalidField (a ValueError) naming the field."""
    data = _object(payload, "progress", _PROGRESS_KEYS)
    return Progress(
        id=_ident(_required(data, "id", "progress.id"), "progress.id"),
        state=_enum(
            _required(data, "state", "progress.state"), "progress.state", IncidentState
        ),
        colour=_enum(
            _required(data, "colour", "progress.colour"), "progress.colour", Triage
        ).value,
        acknowledged_by=_text(data.get("acknowledged_by"), "progress.acknowledged_by"),
        acknowledged_at=_optional_time(
            data.get("acknowledged_at"), "progress.acknowledged_at"
        ),
        on_the_way_at=_optional_time(
            data.get("on_the_way_at"), "progress.on_the_way_at"
        ),
        resolved_at=_optional_time(data.get("resolved_at"), "progress.resolved_at"),
        resolution=_text(data.get("resolution"), "progress.resolution"),
        updated_at=_time(
            _required(data, "updated_at", "progress.updated_at"), "progress.updated_at"
        ),
        survey=(
            None
            if data.get("survey") is None
            else _enum(data["survey"], "progress.survey", SurveyState)
        ),
    )


# -------------------------------------------------------------------- survey
_SURVEY_KEYS = frozenset({"rating", "comment", "by"})


@dataclass(frozen=True, kw_only=True, slots=True)
class SurveyAnswer:
    """Household -> hub: the family's answer to an incident's satisfaction survey."""

    rating: int
    comment: str | None
    by: str | None


def survey_answer_body(
    rating: int, comment: str | None = None, by: str | None = None
) -> dict[str, Any]:
    """``{"v": 1, "survey": {"rating": …, "comment": …, "by": …}}``.

    ``by`` is cut to 200 characters; the rating and the comment are sent as given
    (the household checks them before it queues an answer).
    """
    return {
        "v": PROTOCOL_VERSION,
        "survey": {"rating": rating, "comment": comment, "by": _cut(by)},
    }


def parse_survey_answer(payload: Any) -> SurveyAnswer:
    """Validate a survey answer body; Rejection 400 naming the first bad field."""
    try:
        data = _object(_envelope(payload, "survey"), "survey", _SURVEY_KEYS)
        return SurveyAnswer(
            rating=_int(
                _required(data, "rating", "survey.rating"),
                "survey.rating",
                SURVEY_RATING_MIN,
                SURVEY_RATING_MAX,
            ),
            comment=_text(
                data.get("comment"), "survey.comment", SURVEY_COMMENT_MAX_CHARS
            ),
            by=_text(data.get("by"), "survey.by"),
        )
    except InvalidField as err:
        raise _rejection(err) from None


def survey_body(survey: Survey) -> dict[str, Any]:
    """The stored survey as the hub answers it (``{"ok": true, "survey": …, "progress": …}``)."""
    return {
        "state": survey.state.value,
        "asked_at": _iso(survey.asked_at),
        "deadline": _iso(survey.deadline),
        "answered_at": _optional_iso(survey.answered_at),
        "rating": survey.rating,
        "comment": survey.comment,
        "by": _cut(survey.by),
    }


# ------------------------------------------------------------------- pairing
@dataclass(frozen=True, slots=True)
class Pairing:
    """What a household needs to talk to its hub (the secret is kept out of repr)."""

    url: str
    household_id: str
    secret: str = dataclasses.field(repr=False)


def _valid_url(url: Any) -> str | None:
    if not isinstance(url, str) or _WHITESPACE_RE.search(url) or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        return None
    return url.rstrip("/")


def encode_pairing(pairing: Pairing) -> str:
    """One copy-pasteable line: ``SB1-`` + base64url(compact JSON) without padding."""
    data = {
        "u": pairing.url.rstrip("/"),
        "h": pairing.household_id,
        "s": pairing.secret,
    }
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return PAIRING_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_pairing(code: str) -> Pairing:
    """Read a pairing code; ValueError("wrong_code") if it is not a valid one.

    Whitespace anywhere (line breaks from an e-mail, spaces around it) is ignored;
    the prefix may be in either case; a trailing "/" of the URL is dropped.
    """
    text = _WHITESPACE_RE.sub("", code) if isinstance(code, str) else ""
    if text[: len(PAIRING_PREFIX)].upper() != PAIRING_PREFIX:
        raise ValueError("wrong_code")
    encoded = text[len(PAIRING_PREFIX) :]
    if len(encoded) > 4096 or not _B64URL_RE.fullmatch(encoded):
        raise ValueError("wrong_code")
    encoded = encoded.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, RecursionError):
        raise ValueError("wrong_code") from None
    if not isinstance(data, dict):
        data = {}
    url = _valid_url(data.get("u"))
    household_id = data.get("h")
    secret = data.get("s")
    if (
        url is None
        or not isinstance(household_id, str)
        or not _HOUSEHOLD_RE.fullmatch(household_id)
        or not isinstance(secret, str)
        or not _SECRET_RE.fullmatch(secret)
    ):
        raise ValueError("wrong_code")
    return Pairing(url, household_id, secret)
