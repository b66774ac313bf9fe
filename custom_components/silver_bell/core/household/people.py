"""What people do to a household's incidents, as the household engine reads it.

Pure (no Home Assistant import): which incident a person means, moving it (or
a clear refusal that changes nothing), and mirroring what the hub says.
"""

from __future__ import annotations

from datetime import datetime

from ..bodies import Progress
from ..models import Incident, IncidentState, InvalidTransitionError, most_urgent
from .incidents import Change, IncidentBook

#: The prefix of the actor of a change the hub made (mirrored, never sent back).
HUB_ACTOR = "hub:"


class NoActiveIncidentError(LookupError):
    """A person meant 'the current incident' and there is none that can move."""


class MoveRefusedError(InvalidTransitionError):
    """A person asked an incident to move where it cannot go (which incident, too)."""

    def __init__(
        self, incident_id: str, current: IncidentState, target: IncidentState
    ) -> None:
        """Describe the refused move of ``incident_id``."""
        super().__init__(current, target)
        self.incident_id = incident_id


def target_of(
    book: IncidentBook, incident_id: str | None, target: IncidentState
) -> Incident:
    """The incident a person means: the given id, else the most urgent that can move.

    Raises :class:`~.incidents.UnknownIncidentError` or :class:`NoActiveIncidentError`.
    """
    if incident_id is not None:
        return book.get(incident_id)
    incident = most_urgent(
        [
            item
            for item in book.active
            if target is not IncidentState.ACKNOWLEDGED
            or item.state is IncidentState.OPEN
        ]
    )
    if incident is None:
        raise NoActiveIncidentError
    return incident


def move(
    book: IncidentBook,
    incident: Incident,
    target: IncidentState,
    now: datetime,
    by: str,
    note: str | None,
) -> list[Change]:
    """Acknowledge or resolve ``incident`` for a person (:class:`MoveRefusedError`)."""
    try:
        return book.transition(incident.id, target, now, by, note)
    except InvalidTransitionError as err:
        raise MoveRefusedError(incident.id, err.current, err.target) from err


def mirror_hub(
    book: IncidentBook, incident: Incident, progress: Progress, now: datetime
) -> list[Change]:
    """Follow the hub: acknowledge or resolve ``incident`` as the hub says it is."""
    by = f"{HUB_ACTOR}{progress.acknowledged_by or 'hub'}"
    if (
        progress.state is IncidentState.ACKNOWLEDGED
        and incident.state is IncidentState.OPEN
    ):
        return book.transition(incident.id, IncidentState.ACKNOWLEDGED, now, by)
    if progress.state is IncidentState.RESOLVED and incident.active:
        return book.transition(
            incident.id, IncidentState.RESOLVED, now, by, progress.resolution
        )
    return []
