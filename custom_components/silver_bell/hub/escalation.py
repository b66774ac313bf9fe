"""Hub runtime, escalation: one timer for the soonest step due, a tick for the rest.

What is due and when is ``core/hub/escalation.py``'s decision; this part keeps
Home Assistant's timer set to it, runs the due steps exactly once each, opens
the offline incidents of silent households, closes surveys and purges.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.core import callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, OFFLINE_STARTUP_GRACE_MIN
from ..core.hub import escalation
from ..core.hub.records import HubIncident
from .base import HubBase

TICK = timedelta(minutes=1)


class HubEscalation(HubBase):
    """The escalation timer and the minute tick."""

    def _arm(self) -> None:
        """Set the escalation timer to the soonest escalation of any active incident."""
        self._set_timer(escalation.next_timer(self.incidents.open_incidents()))

    def _arm_for(self, incident: HubIncident) -> None:
        """After one incident changed: bring the timer forward if it escalates sooner.

        Constant cost per message (not a scan of every open incident). A timer
        left for an incident that closed or moved later fires, finds nothing
        due and is set again by the full scan (``_async_run_due``).
        """
        armed_at = self._timer_at if self._timer is not None else None
        if (moment := escalation.sooner_timer(incident, armed_at)) is not None:
            self._set_timer(moment)

    def _set_timer(self, moment: datetime | None) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = moment
        if moment is not None:
            self._timer = async_track_point_in_utc_time(
                self.hass, self._async_timer, max(moment, dt_util.utcnow())
            )

    @callback
    def _async_timer(self, _now: datetime) -> None:
        self._timer = None
        self._timer_at = None
        self.entry.async_create_task(
            self.hass, self._async_run_due(dt_util.utcnow()), f"{DOMAIN}_escalate"
        )

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self.entry.async_create_task(
            self.hass, self._async_run_due(dt_util.utcnow()), f"{DOMAIN}_hub_tick"
        )

    async def _async_run_due(self, now: datetime) -> None:
        """Escalate what is due (exactly once each), find offline households, purge."""
        for incident in self.incidents.active:
            if escalation.is_due(incident, now):
                step = escalation.take_due(incident)
                self.incidents.touch(incident)
                await self.async_save()
                await self._async_page(incident, step, now)
                self._fire(incident, "escalated")
        grace = timedelta(minutes=OFFLINE_STARTUP_GRACE_MIN)
        if escalation.checks_offline(now, self.started_at, grace):
            await self._async_open_offline(now)
        if self.incidents.close_surveys(now):
            await self.async_save()
        if self.incidents.purge(now, self.retention):
            await self.async_save()
        if self.links.purge({incident.id for incident in self.incidents.active}):
            await self.links.async_save()
        self._arm()
        self._changed()

    async def _async_open_offline(self, now: datetime) -> None:
        """A yellow incident for each household silent too long (paged once)."""
        for household_id, seen in escalation.offline_households(
            self.ledger.households, self.heartbeats, now, self.offline_after
        ):
            incident, opened = self.incidents.household_offline(
                household_id, now, since=seen
            )
            self._maybe_offline.add(household_id)
            if opened:
                await self.async_save()
                await self._async_page(incident, 0, now)
                self._fire(incident, "received")
