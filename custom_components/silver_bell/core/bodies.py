"""The bodies of the household <-> hub protocol: incidents, heartbeats, progress, surveys.

Pure Python (no Home Assistant import); both roles use it, with the transport
(paths, signing, verification) in ``protocol.py``. docs/protocol.md describes
every body defined here and must change with it.

Validation is our own field-by-field loop (no schema engine), so every error
names the first bad field in the same words on every Home Assistant version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import json
import math
import re
from typing import Any, TypeVar

from ..const import SURVEY_COMMENT_MAX_CHARS, SURVEY_RATING_MAX, SURVEY_RATING_MIN
from .models import Incident, IncidentKind, IncidentState, Triage
from .protocol import PROTOCOL_VERSION, Rejection
from .surveys import Survey, SurveyState

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


_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_MAX_TIME_CHARS = 64
_FIT_TEXT_CHARS = 1000


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
