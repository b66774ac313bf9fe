"""Apply what the household engine decided, in one place.

One :class:`~..core.household.events.Result` is applied in this order: the activity
history, the store (once: at once when incidents changed, so the book and the
"forwarded" marks are on disk with the outbox entry they announce), the
``silver_bell_incident`` events, the outbox, the family, the smoke
confirmations, the next wake-up (after an evaluation), and last the entities.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, EVENT_INCIDENT
from ..core.household.events import NOTHING, Result, Save

if TYPE_CHECKING:
    from .runtime import Household


class ResultApplier:
    """Turns the engine's results into writes, events, messages and a timer."""

    def __init__(self, hass: HomeAssistant, household: Household) -> None:
        """Apply results for ``household``."""
        self.hass = hass
        self._household = household
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None

    @callback
    def apply(self, result: Result, now: datetime) -> None:
        """Apply one result of the engine."""
        if result is NOTHING:
            return
        household = self._household
        for sighting in result.sightings:
            household.insights.history.add(sighting.at, sighting.room, sighting.role)
        if result.save is not Save.NO:
            household.save(incidents_changed=result.save is Save.NOW)
        for event in result.events:
            self.hass.bus.async_fire(
                EVENT_INCIDENT,
                {
                    "action": event.action.value,
                    "entry_id": household.entry_id,
                    "household": household.name,
                    "incident": event.incident,
                },
            )
        if household.forwarder is not None:
            for incident in result.forward:
                household.forwarder.enqueue(incident)
        for change in result.notify:
            household.entry.async_create_task(
                self.hass,
                household.family.async_notify(change.action, change.incident),
                f"{DOMAIN}_notify_{change.incident.id}",
            )
        for entity_id, at in result.confirm_smoke:
            household.entry.async_create_task(
                self.hass,
                household.async_confirm_smoke(entity_id, at),
                f"{DOMAIN}_confirm_smoke_{entity_id}",
            )
        if result.evaluated:
            self.schedule(result.wake_at, now)
        if result.refresh:
            household.notify_listeners()

    def schedule(self, wanted: datetime | None, now: datetime) -> None:
        """Wake the household at ``wanted`` (None: nothing pending)."""
        if (
            self._timer is not None
            and self._timer_at is not None
            and wanted is not None
            and now < self._timer_at <= wanted
        ):
            # The armed timer comes first: keep it. Activity moves the next check
            # later with every motion event; re-arming each time would cost more
            # than the one early evaluation, which schedules again.
            return
        self.cancel()
        self._timer_at = wanted
        if wanted is not None:
            self._timer = async_track_point_in_utc_time(
                self.hass, self._async_timer, wanted
            )

    @callback
    def cancel(self) -> None:
        """Disarm the wake-up timer."""
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def _async_timer(self, _now: datetime) -> None:
        self._timer = None
        self._household.evaluate(dt_util.utcnow())
