"""Incidents: kinds, triage colours and the incident state machine.

Plain dataclasses with no Home Assistant import, so they are tested directly and
shared by both roles (household and hub).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
import uuid


class IncidentKind(StrEnum):
    """What happened."""

    FIRE = "fire"
    HELP = "help"
    INACTIVITY = "inactivity"
    COLD = "cold"
    HEAT = "heat"
    AWAY_TOO_LONG = "away_too_long"
    SENSOR_FAULT = "sensor_fault"
    TEST = "test"


class Triage(StrEnum):
    """Colour of the one-desk triage: how urgently a human must act."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"


TRIAGE: Mapping[IncidentKind, Triage] = {
    IncidentKind.FIRE: Triage.RED,
    IncidentKind.HELP: Triage.RED,
    IncidentKind.INACTIVITY: Triage.RED,
    IncidentKind.COLD: Triage.ORANGE,
    IncidentKind.HEAT: Triage.ORANGE,
    IncidentKind.AWAY_TOO_LONG: Triage.ORANGE,
    IncidentKind.SENSOR_FAULT: Triage.YELLOW,
    IncidentKind.TEST: Triage.YELLOW,
}

# Order of urgency, most urgent first (used to pick "the" open incident to show).
URGENCY: tuple[IncidentKind, ...] = (
    IncidentKind.FIRE,
    IncidentKind.HELP,
    IncidentKind.INACTIVITY,
    IncidentKind.HEAT,
    IncidentKind.COLD,
    IncidentKind.AWAY_TOO_LONG,
    IncidentKind.SENSOR_FAULT,
    IncidentKind.TEST,
)


class IncidentState(StrEnum):
    """Life cycle of an incident."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


ACTIVE_STATES = frozenset({IncidentState.OPEN, IncidentState.ACKNOWLEDGED})

_TRANSITIONS: Mapping[IncidentState, frozenset[IncidentState]] = {
    IncidentState.OPEN: frozenset(
        {IncidentState.ACKNOWLEDGED, IncidentState.RESOLVED, IncidentState.CANCELLED}
    ),
    IncidentState.ACKNOWLEDGED: frozenset({IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset(),
    IncidentState.CANCELLED: frozenset(),
}


class InvalidTransitionError(ValueError):
    """An incident was asked to move to a state it cannot reach."""

    def __init__(self, current: IncidentState, target: IncidentState) -> None:
        """Describe the refused transition."""
        super().__init__(f"cannot go from {current} to {target}")
        self.current = current
        self.target = target


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition:
    """One entry of an incident's audit trail."""

    at: datetime
    state: IncidentState
    by: str
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and events."""
        return {
            "at": self.at.isoformat(),
            "state": self.state.value,
            "by": self.by,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        """Rebuild from storage."""
        return cls(
            at=datetime.fromisoformat(data["at"]),
            state=IncidentState(data["state"]),
            by=str(data["by"]),
            note=data.get("note"),
        )


@dataclass(kw_only=True, slots=True)
class Incident:
    """Something a human has to look at."""

    kind: IncidentKind
    created_at: datetime
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: IncidentState = IncidentState.OPEN
    test: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    grace_until: datetime | None = None
    escalated_at: datetime | None = None
    seq: int = 0
    audit: list[Transition] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Start the audit trail."""
        if not self.audit:
            self.audit.append(
                Transition(at=self.created_at, state=self.state, by="silver_bell")
            )

    @property
    def colour(self) -> Triage:
        """Triage colour of this incident."""
        return TRIAGE[self.kind]

    @property
    def active(self) -> bool:
        """Whether the incident still needs attention."""
        return self.state in ACTIVE_STATES

    @property
    def updated_at(self) -> datetime:
        """When the incident last changed."""
        return self.audit[-1].at

    def in_grace(self, now: datetime) -> bool:
        """Whether the check-in grace period is still running."""
        return (
            self.state is IncidentState.OPEN
            and self.escalated_at is None
            and self.grace_until is not None
            and now < self.grace_until
        )

    def transition(
        self, target: IncidentState, at: datetime, by: str, note: str | None = None
    ) -> None:
        """Move to ``target`` or raise InvalidTransitionError."""
        if target not in _TRANSITIONS[self.state]:
            raise InvalidTransitionError(self.state, target)
        if target is IncidentState.CANCELLED and not self.in_grace(at):
            raise InvalidTransitionError(self.state, target)
        self.state = target
        self.seq += 1
        self.audit.append(Transition(at=at, state=target, by=by, note=note))

    def escalate(self, at: datetime) -> None:
        """Mark that the incident has left the household (family told, hub informed)."""
        if self.escalated_at is None:
            self.escalated_at = at
            self.seq += 1

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the ``silver_bell_incident`` event."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "colour": self.colour.value,
            "state": self.state.value,
            "test": self.test,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "grace_until": _iso(self.grace_until),
            "escalated_at": _iso(self.escalated_at),
            "seq": self.seq,
            "details": dict(self.details),
            "audit": [item.as_dict() for item in self.audit],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        """Rebuild from storage."""
        return cls(
            id=str(data["id"]),
            kind=IncidentKind(data["kind"]),
            state=IncidentState(data["state"]),
            test=bool(data.get("test", False)),
            created_at=datetime.fromisoformat(data["created_at"]),
            grace_until=_from_iso(data.get("grace_until")),
            escalated_at=_from_iso(data.get("escalated_at")),
            seq=int(data.get("seq", 0)),
            details=dict(data.get("details") or {}),
            audit=[Transition.from_dict(item) for item in data.get("audit", [])],
        )


def most_urgent(incidents: list[Incident]) -> Incident | None:
    """The active incident a dashboard should show first (None if all is well)."""
    active = [item for item in incidents if item.active]
    if not active:
        return None
    return min(active, key=lambda item: (URGENCY.index(item.kind), item.created_at))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))
