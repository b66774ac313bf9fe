"""The household <-> hub wire protocol: paths, signing, verification, pairing.

Pure Python (no Home Assistant import); both roles use it. docs/protocol.md is
the human-readable description of everything defined here and must change with it.

The bodies (incidents, heartbeats, progress, surveys) are in ``bodies.py``.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
import hashlib
import hmac
import json
import math
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

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

PAIRING_PREFIX = "SB1-"

_HOUSEHOLD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_SIGNATURE_RE = re.compile(r"[0-9a-fA-F]{64}")
_SECRET_RE = re.compile(r"[!-~]{16,256}")  # printable ASCII, no spaces
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_WHITESPACE_RE = re.compile(r"\s+")


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
