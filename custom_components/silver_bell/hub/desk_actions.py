"""Hub runtime, people's actions: volunteers' answers and the duty desk's actions.

Each action is a state transition of ``core/hub/actions.py``; this part listens
for the companion app's answers, sends the pushes an action implies (the
accepter's notification, "handled by" to the others, "resolved", the question
what it was), stores, announces and tells the entities.
"""

from __future__ import annotations

from homeassistant.core import Event, callback
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core.hub import actions
from ..core.hub.actions import Answer, paged_people
from ..core.hub.people import HouseholdRecord, Volunteer
from ..core.hub.pushes import (
    accepted_payload,
    handled_by_payload,
    page_payload,
    parse_action,
    resolution_payload,
)
from ..core.hub.records import HubIncident
from ..core.models import Triage
from .base import HubBase


class HubDeskActions(HubBase):
    """Accept / on my way / resolve / note / page again."""

    @callback
    def _async_action(self, event: Event) -> None:
        parsed = parse_action(str(event.data.get("action", "")))
        if parsed is None:
            return
        self.entry.async_create_task(
            self.hass, self.async_handle_action(*parsed), f"{DOMAIN}_action"
        )

    async def async_handle_action(
        self, action: str, incident_id: str, volunteer_id: str | None
    ) -> None:
        """Accept / on my way / resolve from a volunteer's notification."""
        incident = self.incidents.get_or_none(incident_id)
        volunteer = self.ledger.volunteers.get(volunteer_id or "")
        if incident is None or volunteer is None:
            return
        household = self.ledger.households.get(incident.household_id)
        done = actions.answer(
            self.incidents, action, incident_id, volunteer.id, dt_util.utcnow()
        )
        if done is Answer.REFUSED:
            return
        if done is Answer.ACCEPTED:
            await self.async_save()
            if household is not None:
                await self._async_tell_accepted(incident, household, volunteer)
            self._fire(incident, "accepted")
        elif done is Answer.ON_THE_WAY:
            self._fire(incident, "on_the_way")
        elif done is Answer.RESOLVED:
            await self._async_notify_resolved(incident)
            if household is not None:
                # Ask the person who closed it what it was (for the statistics).
                await self._async_send(
                    incident,
                    volunteer,
                    resolution_payload(
                        incident,
                        household,
                        language=volunteer.language,
                        volunteer_id=volunteer.id,
                    ),
                    "resolution",
                )
            self._fire(incident, "resolved")
        await self.async_save()
        self._arm()
        self._changed(incident.household_id)

    async def _async_tell_accepted(
        self, incident: HubIncident, household: HouseholdRecord, volunteer: Volunteer
    ) -> None:
        """The accepter's notification changes; the others hear who handles it."""
        await self._async_send(
            incident,
            volunteer,
            accepted_payload(incident, household, language=volunteer.language),
            "accepted",
        )
        await self._async_tell_handled_by(
            incident, household, volunteer.name, but=volunteer.id
        )

    async def _async_tell_handled_by(
        self,
        incident: HubIncident,
        household: HouseholdRecord,
        name: str,
        *,
        but: str | None = None,
    ) -> None:
        """Every paged person (but the accepter) hears who handles the incident."""
        for other in paged_people(incident, self.ledger.volunteers, but=but):
            await self._async_send(
                incident,
                other,
                handled_by_payload(incident, household, name, language=other.language),
                "handled_by",
            )

    async def async_link_action(
        self, action: str, incident_id: str, volunteer_id: str, channel: str | None
    ) -> None:
        """Accept / on my way from an accept link (the view checked the token)."""
        actions.link_used(
            self.incidents, action, incident_id, volunteer_id, channel, dt_util.utcnow()
        )
        await self.async_handle_action(action, incident_id, volunteer_id)

    async def async_resolve(
        self, incident_id: str, actor: str, resolution: str
    ) -> HubIncident:
        """Resolve from the duty desk (service)."""
        now = dt_util.utcnow()
        incident = self.incidents.get(incident_id)
        if not actions.resolve_at_desk(
            self.incidents, incident_id, actor, resolution, now
        ):
            # Already closed: the desk only corrected the resolution code.
            await self.async_save()
            self._changed(incident.household_id)
            return incident
        await self._async_notify_resolved(incident)
        await self.async_save()
        self._fire(incident, "resolved")
        self._arm()
        self._changed(incident.household_id)
        return incident

    async def async_desk_accept(self, incident_id: str, actor: str) -> bool:
        """The duty desk takes the incident (``actor``: the staff user's name).

        Like a volunteer's accept: escalation stops and the paged people are told
        who handles it. False if it is closed or a volunteer accepted first.
        HubIncidentError ``unknown_incident``.
        """
        incident = self.incidents.get(incident_id)
        if not actions.accept(self.incidents, incident_id, actor, dt_util.utcnow()):
            return False
        await self.async_save()
        if (household := self.ledger.households.get(incident.household_id)) is not None:
            await self._async_tell_handled_by(incident, household, actor)
        await self.async_save()
        self._fire(incident, "accepted")
        self._arm()
        self._changed(incident.household_id)
        return True

    async def async_desk_page_again(
        self, incident_id: str, actor: str, volunteer_id: str | None = None
    ) -> HubIncident:
        """Page the current tier again, or page one more volunteer (``volunteer_id``).

        Logged as ``desk_paged`` by ``actor``; each send is logged as usual.
        HubIncidentError ``unknown_incident`` / ``incident_closed`` /
        ``unknown_volunteer``.
        """
        now = dt_util.utcnow()
        incident, household, volunteer = actions.page_again(
            self.incidents,
            self.ledger.households,
            self.ledger.volunteers,
            incident_id,
            actor,
            volunteer_id,
            now,
        )
        if volunteer is not None and household is not None:
            red = incident.colour is Triage.RED
            payload = page_payload(
                incident,
                household,
                language=volunteer.language,
                critical=red,
                call_120=red,
                volunteer_id=volunteer.id,
                tz=dt_util.get_time_zone(self.hass.config.time_zone),
            )
            await self._async_send(
                incident, volunteer, payload, f"page:{incident.escalation_step}"
            )
            await self.async_save()
        else:
            await self._async_page(incident, incident.escalation_step, now)
        self._changed(incident.household_id)
        return incident

    async def async_desk_note(self, incident_id: str, actor: str, note: str) -> None:
        """Add a note of the duty desk to the incident's log."""
        incident = actions.note(
            self.incidents, incident_id, actor, note, dt_util.utcnow()
        )
        await self.async_save()
        self._changed(incident.household_id)
