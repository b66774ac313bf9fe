"""The hub's intake decisions: one verified incident message against the ledger.

Pure logic (no Home Assistant import). The glue has already checked the
signature, the nonce and the rate limit; :func:`receive` decides whether the
message belongs to the household, applies it to the incident book (new,
merged into the open incident of the same household and kind, an update, or a
repeat that changes nothing) and says what follows: whether anything must be
stored, whether the incident must be paged (the first time) and which event
the hub announces. :func:`progress` is what the household is told back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..bodies import IncidentMessage, Progress
from ..protocol import Rejection
from .incidents import HubIncidentBook
from .people import HouseholdRecord, Volunteer
from .records import HubIncident

EVENT_RECEIVED = "received"
EVENT_RESOLVED = "resolved"


def forbidden() -> Rejection:
    """403: a household asks about an incident of another household."""
    return Rejection(403, "forbidden", "This incident belongs to another household.")


def secret_of(record: HouseholdRecord | None) -> str | None:
    """The secret of an active household (None: unknown or revoked)."""
    if record is None or record.revoked or not record.secret:
        return None
    return record.secret


@dataclass(frozen=True, slots=True)
class Intake:
    """What one incident message did to the book."""

    incident: HubIncident
    changed: bool  # False: a repeat (the answer comes from memory, nothing to store)
    was_active: bool  # the incident was active before the message

    @property
    def closed_now(self) -> bool:
        """The message closed an active incident (the paged people are told)."""
        return self.changed and self.was_active and not self.incident.active

    @property
    def event(self) -> str | None:
        """The event the hub announces (None: nothing changed)."""
        if not self.changed:
            return None
        return EVENT_RESOLVED if self.closed_now else EVENT_RECEIVED


def receive(
    book: HubIncidentBook,
    household_id: str,
    message: IncidentMessage,
    now: datetime,
) -> Intake:
    """Apply a verified message (idempotent); Rejection 403 for another's incident."""
    existing = book.by_source(message.id)
    if existing is not None and existing.household_id != household_id:
        raise forbidden()
    was_active = existing.active if existing is not None else False
    incident, changed = book.apply(
        household_id,
        source_id=message.id,
        seq=message.seq,
        kind=message.kind,
        state=message.state,
        test=message.test,
        created_at=message.created_at,
        details=message.details,
        by=message.by,
        note=message.note,
        now=now,
    )
    return Intake(incident, changed, was_active)


def needs_first_page(incident: HubIncident, paging: Collection[str]) -> bool:
    """An active incident nobody was paged for (and no first page under way)."""
    return (
        incident.active
        and incident.escalation_step == 0
        and not incident.log_pages()
        and incident.id not in paging
    )


def own_incident(
    book: HubIncidentBook, household_id: str, source_id: str
) -> HubIncident:
    """The hub incident of a household's own incident id (Rejection 404 / 403)."""
    incident = book.by_source(source_id)
    if incident is None:
        raise Rejection(404, "not_found", "The hub has no such incident.")
    if incident.household_id != household_id:
        raise forbidden()
    return incident


def progress(
    incident: HubIncident, source_id: str, volunteers: Mapping[str, Volunteer]
) -> Progress:
    """What the household is told about its incident (the accepter's display name)."""
    volunteer = volunteers.get(incident.acknowledged_by or "")
    return Progress(
        id=source_id,
        state=incident.state,
        colour=incident.colour.value,
        acknowledged_by=volunteer.name if volunteer else incident.acknowledged_by,
        acknowledged_at=incident.acknowledged_at,
        on_the_way_at=incident.on_the_way_at,
        resolved_at=incident.resolved_at,
        resolution=incident.resolution,
        updated_at=incident.updated_at,
        survey=None if incident.survey is None else incident.survey.state,
    )
