"""Hub runtime, intake: incident messages, progress, surveys and heartbeats of households.

The view has checked the signature, nonce and rate limit; the decisions (whose
incident, new / merged / repeat, what to page and announce) are
``core/hub/intake.py``'s. This part stores them before the answer, starts the
first page and tells the entities.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core.bodies import Heartbeat, IncidentMessage, Progress, SurveyAnswer
from ..core.hub import intake
from ..core.hub.records import HubIncident, HubIncidentError
from ..core.protocol import Rejection
from ..core.surveys import SurveyFigures, SurveyVia
from .base import HubBase


class HubIntake(HubBase):
    """What households send the hub."""

    def secret_for(self, household_id: str) -> str | None:
        """The secret of an active household (None: unknown or revoked)."""
        return intake.secret_of(self.ledger.households.get(household_id))

    async def async_receive(
        self, household_id: str, message: IncidentMessage
    ) -> Progress:
        """Apply an incident message (idempotent), persist, dispatch; return progress."""
        self.refuse_while_held()
        now = dt_util.utcnow()
        received = intake.receive(self.incidents, household_id, message, now)
        if received.incident.offline:  # a household's own report of it
            self._maybe_offline.add(household_id)
        self._seen(household_id, now)
        # From here on nothing may be lost to a cancelled request: Home Assistant
        # cancels the handler when the household hangs up (its timeout, or a hub
        # that was paused), so the rest runs as a task of its own.
        await asyncio.shield(
            self.entry.async_create_task(
                self.hass,
                self._async_settle(household_id, received, now),
                f"{DOMAIN}_receive",
            )
        )
        return self.progress(received.incident, message.id)

    async def _async_settle(
        self, household_id: str, received: intake.Intake, now: datetime
    ) -> None:
        """Persist, page and announce what an incident message changed."""
        incident = received.incident
        if (back := self._back_online(household_id, now)) is not None:
            await self._async_notify_resolved(back)
            self._fire(back, intake.EVENT_RESOLVED)
        # Page first, write second: the page does not need the disk, and a hub
        # that dies in between is told again by the household's retry (which
        # pages what was never paged). Also for a repeat: an incident stored by
        # an earlier attempt that was cut off before its first page is paged now.
        self._page_if_never_paged(incident, now)
        if received.changed:
            await self.async_save()
        if received.event is not None:
            if received.closed_now:
                # Closed at the household: the paged people's notifications are updated.
                await self._async_notify_resolved(incident)
            self._fire(incident, received.event)
            self._arm_for(incident)
        if received.changed or back is not None:
            self._changed(household_id, batch=True)

    def _back_online(self, household_id: str, now: datetime) -> HubIncident | None:
        """Close the household's offline incident, if it may have one (None: none)."""
        if household_id not in self._maybe_offline:
            return None
        if (incident := self.incidents.household_online(household_id, now)) is None:
            self._maybe_offline.discard(household_id)  # none (left): stop looking
        return incident

    def _page_if_never_paged(self, incident: HubIncident, now: datetime) -> None:
        """Start the first page of an active incident nobody was paged for yet."""
        if intake.needs_first_page(incident, self._first_pages):
            # Answer the household at once; page in the background.
            self._first_pages.add(incident.id)
            self.entry.async_create_task(
                self.hass, self._async_first_page(incident, now), f"{DOMAIN}_page"
            )

    async def _async_first_page(self, incident: HubIncident, now: datetime) -> None:
        try:
            await self._async_page(incident, 0, now)
        finally:
            self._first_pages.discard(incident.id)

    def _own_incident(self, household_id: str, source_id: str) -> HubIncident:
        """The hub incident of a household's own incident id (Rejection 404 / 403)."""
        return intake.own_incident(self.incidents, household_id, source_id)

    def progress_for(self, household_id: str, source_id: str) -> Progress:
        """Progress of a household's own incident (403 for another's, 404 unknown)."""
        return self.progress(self._own_incident(household_id, source_id), source_id)

    def progress(self, incident: HubIncident, source_id: str) -> Progress:
        """What the household is told about its incident."""
        return intake.progress(incident, source_id, self.ledger.volunteers)

    # -------------------------------------------------------------- surveys
    async def async_survey(
        self, household_id: str, source_id: str, answer: SurveyAnswer
    ) -> tuple[HubIncident, Progress]:
        """The family's answer to the survey of a household's incident (idempotent).

        Rejection 404 (unknown incident), 403 (another household's), 409
        ``no_survey`` (not resolved yet, or not surveyed) or ``survey_closed``.
        """
        self.refuse_while_held()
        incident = self._own_incident(household_id, source_id)
        try:
            _, stored = self.incidents.answer_survey(
                incident.id,
                rating=answer.rating,
                comment=answer.comment,
                by=answer.by,
                via=SurveyVia.HOUSEHOLD,
                now=dt_util.utcnow(),
            )
        except HubIncidentError as err:
            if err.code == "survey_closed":
                await self.async_save()  # closed just now: the log says so
                raise Rejection(
                    409,
                    "survey_closed",
                    "The survey closed without an answer after its last day.",
                ) from None
            if err.code == "no_survey":
                raise Rejection(
                    409, "no_survey", "This incident has no survey (yet)."
                ) from None
            raise Rejection(400, "invalid", str(err)) from None  # pragma: no cover
        if stored:
            # Written even if the household hangs up meanwhile (its retry is
            # answered from memory as a repeat, so this write must not be lost).
            await asyncio.shield(
                self.entry.async_create_task(
                    self.hass, self._async_survey_stored(incident), f"{DOMAIN}_survey"
                )
            )
        return incident, self.progress(incident, source_id)

    async def async_record_survey(
        self, incident_id: str, rating: int, comment: str | None, by: str
    ) -> tuple[HubIncident, bool]:
        """Record the family's answer at the hub (a volunteer or the duty desk).

        Returns (incident, stored now); HubIncidentError as ``answer_survey``.
        """
        incident, stored = self.incidents.answer_survey(
            incident_id,
            rating=rating,
            comment=comment,
            by=by,
            via=SurveyVia.HUB,
            now=dt_util.utcnow(),
        )
        if stored:
            await self._async_survey_stored(incident)
        return incident, stored

    async def _async_survey_stored(self, incident: HubIncident) -> None:
        await self.async_save()
        self._fire(incident, "survey_answered")
        self._changed(incident.household_id)

    def survey_statistics(self) -> SurveyFigures:
        """Survey figures of the last 30 days for the sensors (numbers only)."""
        return self.view().surveys

    async def async_heartbeat(self, household_id: str, heartbeat: Heartbeat) -> None:
        """A household is alive: close its offline incident if it had one."""
        now = dt_util.utcnow()
        self._seen(household_id, now)
        if (incident := self._back_online(household_id, now)) is not None:
            await self.async_save()
            await self._async_notify_resolved(incident)
            self._fire(incident, "resolved")
        self._changed(household_id, batch=True)
