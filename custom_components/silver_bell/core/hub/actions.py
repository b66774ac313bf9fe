"""What people do to an incident: a volunteer's answer, the duty desk's actions.

Pure logic (no Home Assistant import; the clock is an argument). Each function
is one state transition on the incident book and says what follows from it;
the glue sends the pushes it implies, stores and tells the entities.

* Accept (a volunteer or the desk): the incident is owned, escalation stops;
  the accepter is told, the other paged people are told who handles it.
* On my way: recorded (accepting first if nobody did).
* Resolve: closed; the paged people are told; a volunteer who closed it is
  asked what it was. Resolving a closed incident at the desk only corrects the
  resolution code.
* Page again (desk): the current tier again, or one more volunteer.
* Note (desk): a line in the incident's log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from .escalation import stop
from .incidents import HubIncidentBook
from .people import HouseholdRecord, Volunteer
from .pushes import ACTION_ACCEPT, ACTION_ON_THE_WAY, ACTION_RESOLVE, RESOLUTION_ACTIONS
from .records import HubIncident, HubIncidentError

RESOLUTION_UNSPECIFIED = "unspecified"
LOG_DESK_PAGED = "desk_paged"
LOG_DESK_NOTE = "desk_note"
LOG_LINK_USED = "link_used"


class Answer(StrEnum):
    """What a volunteer's answer did."""

    REFUSED = "refused"  # accept: closed, or somebody else accepted first
    ACCEPTED = "accepted"
    ON_THE_WAY = "on_the_way"
    RESOLVED = "resolved"  # closed now
    ALREADY_CLOSED = "already_closed"  # resolve of a closed incident: nothing
    RESOLUTION = "resolution"  # the resolution code was given
    UNKNOWN = "unknown"  # an action this hub does not know


def accept(book: HubIncidentBook, incident_id: str, actor: str, now: datetime) -> bool:
    """Take the incident (escalation stops); False if closed or taken by another."""
    if not book.accept(incident_id, actor, now):
        return False
    incident = book.get(incident_id)
    stop(incident)
    book.touch(incident)
    return True


def answer(
    book: HubIncidentBook,
    action: str,
    incident_id: str,
    volunteer_id: str,
    now: datetime,
) -> Answer:
    """Apply a volunteer's answer from a notification or an accept link."""
    if action == ACTION_ACCEPT:
        if accept(book, incident_id, volunteer_id, now):
            return Answer.ACCEPTED
        return Answer.REFUSED
    if action == ACTION_ON_THE_WAY:
        book.on_the_way(incident_id, volunteer_id, now)
        return Answer.ON_THE_WAY
    if action == ACTION_RESOLVE:
        if book.resolve(incident_id, volunteer_id, RESOLUTION_UNSPECIFIED, now):
            return Answer.RESOLVED
        return Answer.ALREADY_CLOSED
    if action in RESOLUTION_ACTIONS:
        book.set_resolution(incident_id, volunteer_id, RESOLUTION_ACTIONS[action], now)
        return Answer.RESOLUTION
    return Answer.UNKNOWN


def resolve_at_desk(
    book: HubIncidentBook, incident_id: str, actor: str, resolution: str, now: datetime
) -> bool:
    """Resolve from the desk: True if closed now, False if only the code was corrected."""
    if book.resolve(incident_id, actor, resolution, now):
        return True
    book.set_resolution(incident_id, actor, resolution, now)
    return False


def paged_people(
    incident: HubIncident,
    volunteers: Mapping[str, Volunteer],
    *,
    but: str | None = None,
) -> list[Volunteer]:
    """The people paged or informed for the incident (in order), except ``but``."""
    return [
        volunteer
        for volunteer_id in incident.paged_volunteers()
        if (volunteer := volunteers.get(volunteer_id)) is not None
        and volunteer.id != but
    ]


def page_again(
    book: HubIncidentBook,
    households: Mapping[str, HouseholdRecord],
    volunteers: Mapping[str, Volunteer],
    incident_id: str,
    actor: str,
    volunteer_id: str | None,
    now: datetime,
) -> tuple[HubIncident, HouseholdRecord | None, Volunteer | None]:
    """The desk pages again: logged; (incident, household, the one more volunteer).

    Without ``volunteer_id`` the glue runs the current step again. Changes
    nothing on HubIncidentError ``unknown_incident`` / ``incident_closed`` /
    ``unknown_volunteer``.
    """
    incident = book.get(incident_id)
    if not incident.active:
        raise HubIncidentError("incident_closed", incident=incident_id)
    household = households.get(incident.household_id)
    volunteer = None
    if volunteer_id:
        volunteer = volunteers.get(volunteer_id)
        if volunteer is None or household is None:
            raise HubIncidentError("unknown_volunteer", volunteer=volunteer_id)
    incident.add_log(now, LOG_DESK_PAGED, actor, volunteer_id)
    book.touch(incident)
    return incident, household, volunteer


def note(
    book: HubIncidentBook, incident_id: str, actor: str, text: str, now: datetime
) -> HubIncident:
    """A note of the duty desk in the incident's log (HubIncidentError if unknown)."""
    incident = book.get(incident_id)
    incident.add_log(now, LOG_DESK_NOTE, actor, text)
    book.touch(incident)
    return incident


def link_used(
    book: HubIncidentBook,
    action: str,
    incident_id: str,
    volunteer_id: str,
    channel: str | None,
    now: datetime,
) -> None:
    """An accept link was used: logged on the incident (if it is still held)."""
    incident = book.get_or_none(incident_id)
    if incident is not None:
        incident.add_log(now, LOG_LINK_USED, volunteer_id, f"{action} {channel or ''}")
        book.touch(incident)
