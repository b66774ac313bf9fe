"""The incident book of one household: which incidents are open, and their history.

Pure logic (no Home Assistant import). The glue persists ``as_dict()`` and turns
the returned :class:`Change` records into events, notifications and entity updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..models import Incident, IncidentKind, IncidentState, Transition, most_urgent

# Closed incidents kept in the household's store (the hub keeps the long ledger).
KEEP_CLOSED = 50

# Kinds that leave the household at once: life safety does not wait for a check-in.
IMMEDIATE = frozenset(
    {
        IncidentKind.FIRE,
        IncidentKind.HELP,
        IncidentKind.COLD,
        IncidentKind.HEAT,
        IncidentKind.AWAY_TOO_LONG,
        IncidentKind.SENSOR_FAULT,
        IncidentKind.TEST,
    }
)


class Action(StrEnum):
    """What happened to an incident (the ``action`` of the incident event)."""

    OPENED = "opened"
    ESCALATED = "escalated"
    UPDATED = "updated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


_ACTION_FOR_STATE = {
    IncidentState.ACKNOWLEDGED: Action.ACKNOWLEDGED,
    IncidentState.RESOLVED: Action.RESOLVED,
    IncidentState.CANCELLED: Action.CANCELLED,
}


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that happened to one incident."""

    action: Action
    incident: Incident


class UnknownIncidentError(KeyError):
    """No incident with that id in this household."""


class IncidentBook:
    """Open and recent incidents of one household; at most one active per kind."""

    def __init__(self, incidents: Iterable[Incident] = ()) -> None:
        """Start with the incidents restored from storage."""
        self._incidents: dict[str, Incident] = {item.id: item for item in incidents}

    @property
    def incidents(self) -> list[Incident]:
        """All kept incidents, oldest first."""
        return sorted(self._incidents.values(), key=lambda item: item.created_at)

    @property
    def active(self) -> list[Incident]:
        """Incidents that still need attention, oldest first."""
        return [item for item in self.incidents if item.active]

    def get(self, incident_id: str) -> Incident:
        """The incident with that id."""
        try:
            return self._incidents[incident_id]
        except KeyError:
            raise UnknownIncidentError(incident_id) from None

    def find(self, incident_id: str) -> Incident | None:
        """The incident with that id, or None."""
        return self._incidents.get(incident_id)

    def active_of(self, kind: IncidentKind) -> Incident | None:
        """The active incident of that kind, if any."""
        for item in self._incidents.values():
            if item.kind is kind and item.active:
                return item
        return None

    def most_urgent(self, *, include_tests: bool = True) -> Incident | None:
        """The active incident to show first."""
        return most_urgent(
            [
                item
                for item in self._incidents.values()
                if include_tests or not item.test
            ]
        )

    def open(
        self,
        kind: IncidentKind,
        now: datetime,
        *,
        details: Mapping[str, Any] | None = None,
        grace: timedelta | None = None,
        test: bool = False,
    ) -> list[Change]:
        """Open an incident of ``kind`` unless one is already active.

        An already active incident of the same kind absorbs the new details instead
        (one incident per household and kind, like the hub's merge rule).
        """
        current = self.active_of(kind)
        if current is not None:
            if details and any(current.details.get(k) != v for k, v in details.items()):
                current.details.update(details)
                current.seq += 1
                return [Change(Action.UPDATED, current)]
            return []
        incident = Incident(
            kind=kind, created_at=now, details=dict(details or {}), test=test
        )
        changes = [Change(Action.OPENED, incident)]
        if kind in IMMEDIATE or not grace:
            incident.escalate(now)
            changes.append(Change(Action.ESCALATED, incident))
        else:
            incident.grace_until = now + grace
        self._incidents[incident.id] = incident
        self._prune()
        return changes

    def escalate_due(self, now: datetime) -> list[Change]:
        """Escalate incidents whose check-in grace period has passed."""
        changes = []
        for item in self.active:
            if (
                item.state is IncidentState.OPEN
                and item.escalated_at is None
                and not item.in_grace(now)
            ):
                item.escalate(now)
                changes.append(Change(Action.ESCALATED, item))
        return changes

    def next_grace_end(self) -> datetime | None:
        """When the next check-in grace period ends."""
        ends = [
            item.grace_until
            for item in self.active
            if item.escalated_at is None and item.grace_until is not None
        ]
        return min(ends, default=None)

    def check_in(self, now: datetime, by: str) -> list[Change]:
        """Cancel the incidents still in their grace period (someone showed a sign of life)."""
        changes = []
        for item in self.active:
            if item.in_grace(now):
                item.transition(IncidentState.CANCELLED, now, by)
                changes.append(Change(Action.CANCELLED, item))
        return changes

    def note(self, incident: Incident, now: datetime, by: str, note: str) -> Change:
        """Add an audit note without changing the state."""
        incident.audit.append(
            Transition(at=now, state=incident.state, by=by, note=note)
        )
        incident.seq += 1
        return Change(Action.UPDATED, incident)

    def transition(
        self,
        incident_id: str,
        target: IncidentState,
        now: datetime,
        by: str,
        note: str | None = None,
    ) -> list[Change]:
        """Acknowledge, resolve or cancel one incident (raises on illegal moves)."""
        incident = self.get(incident_id)
        incident.transition(target, now, by, note)
        return [Change(_ACTION_FOR_STATE[target], incident)]

    def resolve_kind(
        self, kind: IncidentKind, now: datetime, by: str, note: str
    ) -> list[Change]:
        """Resolve the active incident of ``kind`` (its cause went away), if any."""
        current = self.active_of(kind)
        if current is None:
            return []
        return self.transition(current.id, IncidentState.RESOLVED, now, by, note)

    def _prune(self) -> None:
        closed = [item for item in self.incidents if not item.active]
        for item in closed[: max(0, len(closed) - KEEP_CLOSED)]:
            del self._incidents[item.id]

    def as_dict(self) -> list[dict[str, Any]]:
        """Serialise for storage."""
        return [item.as_dict() for item in self.incidents]

    @classmethod
    def from_dict(cls, data: Iterable[Mapping[str, Any]]) -> IncidentBook:
        """Rebuild from storage."""
        return cls(Incident.from_dict(item) for item in data)
