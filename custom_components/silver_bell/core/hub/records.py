"""One hub incident and its log: kinds of log entries, resolutions, serialisation.

Pure logic (no Home Assistant import). The book that holds, merges and answers
the incidents is ``incidents.py``; the figures and the CSV export ``figures.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import gc
from typing import Any

from ...const import ACK_TARGET_SECONDS
from ..models import ACTIVE_STATES, TRIAGE, IncidentKind, IncidentState, Triage
from ..surveys import Survey

OFFLINE_REASON = "offline"
ACTOR_FAMILY = "family"
ACTOR_HOUSEHOLD = "household"
ACTOR_HUB = "silver_bell"
HOUSEHOLD_ACTORS = frozenset({ACTOR_FAMILY, ACTOR_HOUSEHOLD})

STATS_WINDOW = timedelta(days=30)
STATS_MONTHS = 12  # the duty desk's month view: this month and the 11 before
STATS_STOP_AFTER = 100  # older incidents in a row that end the statistics scan
ACK_TARGET = timedelta(seconds=ACK_TARGET_SECONDS)
RESPONSE_COLOURS = frozenset({Triage.RED, Triage.ORANGE})

# What the glue writes at the start of a send's log detail: "page:<step> notify.x",
# "inform notify.x", "accepted …", "handled_by …", "resolved …".
PURPOSE_PAGE = "page"
PURPOSE_INFORM = "inform"


class Resolution(StrEnum):
    """How an incident ended."""

    # Chosen by a person (volunteer, duty desk):
    REAL_EMERGENCY = "real_emergency"
    FALSE_ALARM = "false_alarm"
    RESIDENT_OK = "resident_ok"
    TEST = "test"
    # Set by Silver Bell:
    UNSPECIFIED = "unspecified"  # "Resolved" tapped, no code given (yet)
    HOUSEHOLD = "household"  # closed at the household (family or check-in)
    BACK_ONLINE = "back_online"  # an offline household was heard from again

    @classmethod
    def parse(cls, value: str) -> Resolution:
        """The resolution of ``value``; HubIncidentError ``invalid_resolution`` else."""
        try:
            return cls(value)
        except ValueError:
            raise HubIncidentError(
                "invalid_resolution", resolution=str(value)
            ) from None


RESOLUTION_CODES: tuple[str, ...] = (
    Resolution.REAL_EMERGENCY,
    Resolution.FALSE_ALARM,
    Resolution.RESIDENT_OK,
    Resolution.TEST,
)


class LogEvent(StrEnum):
    """Events of an incident's log (the glue may add its own strings)."""

    RECEIVED = "received"
    MERGED = "merged"
    UPDATED = "updated"
    FAMILY_ACKNOWLEDGED = "family_acknowledged"
    HOUSEHOLD_RESOLVED = "household_resolved"
    ACCEPTED = "accepted"
    ON_THE_WAY = "on_the_way"
    RESOLVED = "resolved"
    RESOLUTION_CHANGED = "resolution_changed"
    OFFLINE = "offline"
    BACK_ONLINE = "back_online"
    SENT = "sent"
    SEND_FAILED = "send_failed"
    UNREACHABLE = "unreachable"
    SURVEY_ANSWERED = "survey_answered"
    SURVEY_NO_ANSWER = "survey_no_answer"


SEND_EVENTS = frozenset({LogEvent.SENT, LogEvent.SEND_FAILED, LogEvent.UNREACHABLE})


class HubIncidentError(ValueError):
    """A refused incident operation; ``code`` is translated by the glue."""

    def __init__(self, code: str, **placeholders: str) -> None:
        """Keep the code and its placeholders."""
        super().__init__(f"{code}: {placeholders}" if placeholders else code)
        self.code = code
        self.placeholders: dict[str, str] = placeholders


def send_purpose(detail: str | None) -> str:
    """The purpose of a send log entry: ``page``, ``inform``, ``accepted`` and so on."""
    return (detail or "").split(" ", 1)[0].split(":", 1)[0]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large ledger is read.

    Reading builds hundreds of thousands of small objects, and each collection
    walks all of them: half the load time of a big ledger. Nothing read here
    forms reference cycles, so pausing for the second it takes is safe.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of an incident's log."""

    at: datetime
    event: str
    actor: str
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "at": self.at.isoformat(),
            "event": self.event,
            "actor": self.actor,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogEntry:
        """Rebuild from storage."""
        detail = data.get("detail")
        return cls(
            at=datetime.fromisoformat(str(data["at"])),
            event=str(data["event"]),
            actor=str(data["actor"]),
            detail=None if detail is None else str(detail),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


@dataclass(kw_only=True, slots=True)
class HubIncident:
    """One incident as the hub handles it (possibly merged from several sources)."""

    id: str
    household_id: str
    kind: IncidentKind
    colour: Triage
    state: IncidentState = IncidentState.OPEN
    test: bool = False
    source_ids: dict[str, int] = field(default_factory=dict)
    # Each source's last state as the household reported it (``IncidentState`` values).
    source_states: dict[str, str] = field(default_factory=dict)
    created_at: datetime
    raised_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    on_the_way_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    escalation_step: int = 0
    next_escalation_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The satisfaction survey, from the incident's closing on (if it is surveyed).
    survey: Survey | None = None
    # The log, built from its stored form on first use: a hub holds years of
    # closed incidents whose logs are only written back (see ``log``).
    entries: list[LogEntry] | None = field(default=None, repr=False)
    stored_log: list[Any] | None = field(default=None, repr=False, compare=False)

    @property
    def log(self) -> list[LogEntry]:
        """The incident's log, oldest first (append with :meth:`add_log`)."""
        if self.entries is None:
            self.entries = [LogEntry.from_dict(item) for item in self.stored_log or ()]
            self.stored_log = None
        return self.entries

    @log.setter
    def log(self, entries: list[LogEntry]) -> None:
        self.entries = list(entries)
        self.stored_log = None

    @property
    def active(self) -> bool:
        """Whether the incident still needs somebody."""
        return self.state in ACTIVE_STATES

    @property
    def offline(self) -> bool:
        """Whether this is a "household offline" incident."""
        return (
            self.kind is IncidentKind.SENSOR_FAULT
            and self.details.get("reason") == OFFLINE_REASON
        )

    @property
    def accepted_by(self) -> str | None:
        """The volunteer who owns the incident (not "family"), if any."""
        if self.acknowledged_by is None or self.acknowledged_by in HOUSEHOLD_ACTORS:
            return None
        return self.acknowledged_by

    @property
    def updated_at(self) -> datetime:
        """When anything last happened to the incident."""
        return self.log[-1].at if self.log else self.created_at

    def add_log(
        self, at: datetime, event: str, actor: str, detail: str | None = None
    ) -> None:
        """Append to the log (the glue logs every send, failed or not, here)."""
        self.log.append(LogEntry(at=at, event=str(event), actor=actor, detail=detail))

    def has_log(self, event: str, *details: str | None) -> bool:
        """True if ``event`` was logged (with one of ``details``, when given)."""
        return any(
            entry.event == event and (not details or entry.detail in details)
            for entry in self.log
        )

    def log_pages(self) -> list[LogEntry]:
        """Send attempts of pages (any outcome): empty until the incident was paged."""
        return [
            entry
            for entry in self.log
            if entry.event in SEND_EVENTS and send_purpose(entry.detail) == PURPOSE_PAGE
        ]

    def paged_volunteers(self) -> list[str]:
        """Who received a page or the informational push, in order, once each."""
        return list(
            dict.fromkeys(
                entry.actor
                for entry in self.log
                if entry.event == LogEvent.SENT
                and send_purpose(entry.detail) in (PURPOSE_PAGE, PURPOSE_INFORM)
            )
        )

    @property
    def surveyed(self) -> bool:
        """Whether the family is asked about this incident once it is closed."""
        return self.colour in RESPONSE_COLOURS and not self.test and not self.offline

    def close(self, at: datetime, resolution: str) -> None:
        """Resolve now with ``resolution`` (no checks: use the book's methods).

        A surveyed incident's satisfaction survey is asked now.
        """
        self.state = IncidentState.RESOLVED
        self.resolved_at = at
        self.resolution = resolution
        self.next_escalation_at = None
        if self.survey is None and self.surveyed:
            self.survey = Survey(asked_at=at)

    def erase_free_text(self) -> None:
        """Drop what the household wrote about the elder; keep times, kinds and actors."""
        self.details = {"reason": OFFLINE_REASON} if self.offline else {}
        if self.survey is not None:
            self.survey.erase()
        self.log = [
            LogEntry(at=entry.at, event=entry.event, actor=entry.actor)
            if entry.actor in HOUSEHOLD_ACTORS
            else entry
            for entry in self.log
        ]

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the per-person export."""
        return {
            "id": self.id,
            "household_id": self.household_id,
            "kind": self.kind.value,
            "colour": self.colour.value,
            "state": self.state.value,
            "test": self.test,
            "source_ids": dict(self.source_ids),
            "source_states": dict(self.source_states),
            "created_at": self.created_at.isoformat(),
            "raised_at": _iso(self.raised_at),
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "on_the_way_at": _iso(self.on_the_way_at),
            "resolved_at": _iso(self.resolved_at),
            "resolution": self.resolution,
            "escalation_step": self.escalation_step,
            "next_escalation_at": _iso(self.next_escalation_at),
            "log": (
                list(self.stored_log)
                if self.entries is None and self.stored_log is not None
                else [entry.as_dict() for entry in self.log]
            ),
            "details": dict(self.details),
            "survey": None if self.survey is None else self.survey.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HubIncident:
        """Rebuild from storage."""
        kind = IncidentKind(data["kind"])
        return cls(
            id=str(data["id"]),
            household_id=str(data["household_id"]),
            kind=kind,
            colour=Triage(data.get("colour", TRIAGE[kind])),
            state=IncidentState(data["state"]),
            test=bool(data.get("test", False)),
            source_ids={
                str(key): int(value)
                for key, value in (data.get("source_ids") or {}).items()
            },
            # Stored before issue 15: a merged incident closed on any source's
            # resolution, so the sources of one still active were all unresolved.
            source_states={
                str(key): str(value)
                for key, value in (data.get("source_states") or {}).items()
            },
            created_at=datetime.fromisoformat(str(data["created_at"])),
            raised_at=_from_iso(data.get("raised_at")),
            acknowledged_at=_from_iso(data.get("acknowledged_at")),
            acknowledged_by=data.get("acknowledged_by"),
            on_the_way_at=_from_iso(data.get("on_the_way_at")),
            resolved_at=_from_iso(data.get("resolved_at")),
            resolution=data.get("resolution"),
            escalation_step=int(data.get("escalation_step", 0)),
            next_escalation_at=_from_iso(data.get("next_escalation_at")),
            stored_log=list(data.get("log") or ()),
            details=dict(data.get("details") or {}),
            # Stored before issue 22: no survey (incidents closed then were not asked).
            survey=(
                Survey.from_dict(data["survey"])
                if isinstance(data.get("survey"), Mapping)
                else None
            ),
        )
