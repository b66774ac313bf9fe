"""Household role: the runtime of one household config entry.

Every decision is the household engine's (``core/household/engine.py``): this module
starts and stops it, hands it the events :mod:`.inputs` makes of Home
Assistant's, and has :mod:`.apply` apply each result in one place (store,
outbox, family, incident event, entities, the next wake-up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_AREA,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NAME,
    CONF_NOTIFY,
    CONF_NOTIFY_LANGUAGES,
    CONF_PRESENCE,
    CONF_SECRET,
    DOMAIN,
)
from ..core import messages
from ..core.bodies import Progress
from ..core.household.engine import HouseholdEngine
from ..core.household.events import (
    CheckIn,
    Event as EngineEvent,
    HubProgress,
    MoveIncident,
    NotifyFailed,
    RaiseIncident,
    Result,
    SetAway,
    SmokeConfirmed,
    Tick,
)
from ..core.household.incidents import IncidentBook, UnknownIncidentError
from ..core.household.people import MoveRefusedError, NoActiveIncidentError
from ..core.models import Incident, IncidentKind, IncidentState
from ..core.monitor.assessment import Assessment
from ..core.monitor.away import AwayState
from ..core.monitor.engine import InactivityEngine
from ..core.monitor.fire import FireMonitor
from ..core.monitor.health import HealthVerdict, SensorHealth
from ..core.monitor.inactivity import InactivityVerdict
from ..core.monitor.routine import Routine
from ..core.monitor.temperature import TemperatureMonitor, TemperatureVerdict
from ..core.protocol import Pairing
from .apply import ResultApplier
from .family import FamilyNotifier
from .forwarder import Forwarder
from .inputs import SensorInputs
from .insights import HouseholdInsights
from .lookup import Lookup
from .settings import engine_settings, settings_of
from .store import HouseholdStore
from .survey import HouseholdSurveys
from .zigbee import ZigbeeLink

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

TICK = timedelta(minutes=1)

# Closed incidents changed this recently are sent again at start-up if their
# last forwarded version is not in the outbox (see HouseholdEngine.unwritten).
REQUEUE_HORIZON = timedelta(days=1)


class Household:
    """Runtime of one household config entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Build the engine from the entry's sensors and settings."""
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        data = entry.data
        self.name: str = data[CONF_NAME]
        self.area_id: str | None = data.get(CONF_AREA)
        self.options = dict(entry.options)
        opts = settings_of(entry.options)
        self.notify_targets: list[str] = list(opts[CONF_NOTIFY])
        self.notify_languages: dict[str, str] = dict(opts[CONF_NOTIFY_LANGUAGES])
        # An inferred outing needs this person/device_tracker to agree (optional).
        self.presence_entity: str | None = opts.get(CONF_PRESENCE) or None
        paired = bool(
            data.get(CONF_HUB_URL)
            and data.get(CONF_HOUSEHOLD_ID)
            and data.get(CONF_SECRET)
        )
        settings = engine_settings(data, entry.options, forwarding=paired)
        sensors = settings.sensors
        self.activity_sensors = list(sensors.activity)
        self.fire_sensors = list(sensors.fire)
        self.temperature_sensors = list(sensors.temperature)
        self.help_buttons = list(sensors.help_buttons)
        self.door_sensor = sensors.door
        self.engine_config = settings.inactivity
        self.baseline_enabled = self.engine_config.learned
        self.grace = settings.grace
        self.windows = self.engine_config.windows
        # Once the routine is learned the fixed windows are only a safety ceiling.
        self.ceiling = self.engine_config.ceiling
        self.inputs = SensorInputs(self)
        self.zigbee = ZigbeeLink(hass, sensors.watched, self.inputs.async_zone_status)
        self.lookup = Lookup(hass, self.zigbee)
        self.core = HouseholdEngine(
            settings, now=dt_util.utcnow(), names=self.lookup, local=dt_util.as_local
        )
        self.applier = ResultApplier(hass, self)
        self.family = FamilyNotifier(
            hass, self.name, self.notify_targets, self.notify_languages, self._failed
        )
        self._store = HouseholdStore(hass, entry.entry_id)
        self._listeners: list[CALLBACK_TYPE] = []
        self.forwarder: Forwarder | None = None
        self.surveys = HouseholdSurveys(
            hass, self, lambda: self.save(incidents_changed=True)
        )
        # What the sensors can do: the routine's figures, sensor advice (issue 17).
        self.insights = HouseholdInsights(self)
        if paired:
            self.forwarder = Forwarder(
                hass,
                self,
                Pairing(data[CONF_HUB_URL], data[CONF_HOUSEHOLD_ID], data[CONF_SECRET]),
                self._async_hub_progress,
            )

    # ----------------------------------------------------------- what it shows
    @property
    def area_name(self) -> str | None:
        """Name of the household's area (suggested area of the device)."""
        return self.lookup.area_name(self.area_id)

    @property
    def watched(self) -> list[str]:
        """Every entity this household reads."""
        return self.core.sensors.watched

    @property
    def book(self) -> IncidentBook:
        """The household's incidents."""
        return self.core.book

    @property
    def engine(self) -> InactivityEngine:
        """The inactivity engine (learned routine, automatic away, fixed windows)."""
        return self.core.inactivity

    @property
    def baseline(self) -> Routine:
        """The learned routine (the engine's)."""
        return self.core.routine

    @property
    def fire(self) -> FireMonitor:
        """Heat detection."""
        return self.core.fire

    @property
    def temperature(self) -> TemperatureMonitor:
        """Cold and heat risk."""
        return self.core.temperature

    @property
    def health(self) -> SensorHealth:
        """Sensor health."""
        return self.core.health

    @property
    def progress(self) -> dict[str, Progress]:
        """The hub's last answer per incident."""
        return self.core.progress

    @property
    def last_activity(self) -> datetime:
        """When the current silence began (UTC)."""
        return self.core.last_activity

    @property
    def last_activity_sensor(self) -> str | None:
        """What showed the last sign of life (a sensor, or who checked in)."""
        return self.core.last_activity_sensor

    @property
    def inactivity(self) -> InactivityVerdict | None:
        """The verdict on the current silence (None while away)."""
        return self.core.verdict

    @property
    def assessment(self) -> Assessment | None:
        """The learned routine's opinion the verdict used."""
        return self.core.assessment

    @property
    def away_state(self) -> AwayState | None:
        """The away state at the last evaluation."""
        return self.core.away_state

    @property
    def temperature_verdict(self) -> TemperatureVerdict | None:
        """Cold and heat risks at the last evaluation."""
        return self.core.temperature_verdict

    @property
    def health_verdict(self) -> HealthVerdict | None:
        """Sensor problems at the last evaluation."""
        return self.core.health_verdict

    @property
    def started(self) -> bool:
        """Whether the household runs (started and not stopped)."""
        return bool(self.inputs.unsubs)

    def context_of(self, entity_id: str | None) -> str | None:
        """The routine's context of an activity sensor: its area, else the sensor itself."""
        return self.lookup.context_of(entity_id)

    def language_of(self, target: str) -> str:
        """The language a family notify target reads (the server's unless chosen)."""
        return self.family.language_of(target)

    def inactivity_details(self) -> dict[str, Any]:
        """Why the current silence is judged as it is (entity attributes, incident details)."""
        return self.core.inactivity_details(dt_util.utcnow())

    def fault_summary(self, language: str | None) -> str | None:
        """Which device has which problem, in words (None when all is well)."""
        health = self.health_verdict
        if health is None or not health.problems:
            return None
        return messages.problem_text(self.core.fault_details(health), language)

    # --------------------------------------------------------------- lifecycle
    async def async_start(self) -> None:
        """Restore the persisted state, subscribe and evaluate once."""
        now = dt_util.utcnow()
        stored = await self._store.async_load()
        self.core.restore(stored, now)
        self.surveys.load(stored.get("surveys"))
        self.insights.load(stored.get("history"), stored.get("insights"))
        self.inputs.find()
        self.zigbee.attach()
        for entity_id in self.fire_sensors:
            if (status := self.zigbee.zone_status(entity_id)) is not None:
                self.core.seed_zone(entity_id, status)
        self.inputs.subscribe()
        self.inputs.unsubs.append(
            async_track_time_interval(self.hass, self._async_tick, TICK)
        )
        self.handle(self.inputs.current(now), now, tick=True)
        self.save()
        self._refresh_insights(now)
        if self.forwarder is not None:
            await self.forwarder.async_start()
            # Anything that left the home while the hub link was down or not yet set up.
            self.applier.apply(self.core.forward_active(now), now)
            for incident in self.core.unwritten(
                now, self.forwarder.queued_seq, REQUEUE_HORIZON
            ):
                self.forwarder.enqueue(incident)
        self.surveys.async_start()

    async def async_stop(self) -> None:
        """Unsubscribe and write everything to disk."""
        self.surveys.async_stop()
        if self.forwarder is not None:
            await self.forwarder.async_stop()
        self.inputs.stop()
        self.zigbee.detach()
        self.applier.cancel()
        await self._store.async_save(self._as_store())

    # ----------------------------------------------------------------- engine
    @callback
    def handle(
        self,
        events: Iterable[EngineEvent],
        now: datetime | None = None,
        *,
        tick: bool = False,
    ) -> Result:
        """Hand events to the engine and apply its result (``tick``: evaluate too)."""
        now = now or dt_util.utcnow()
        events = [*events, Tick()] if tick else events
        result = self.core.handle(events, now)
        self.applier.apply(result, now)
        return result

    @callback
    def evaluate(self, now: datetime) -> None:
        """Evaluate every monitor now."""
        self.handle((), now, tick=True)

    async def async_confirm_smoke(self, entity_id: str, at: datetime) -> None:
        """A smoke alarm from a detector with a test entity: test, or fire."""
        # Newer releases start tasks eagerly: yield once, so the rest of the
        # message's writes happen first.
        await asyncio.sleep(0)
        if not self.started:  # stopped in the meantime
            return
        test_active = self.lookup.test_active(entity_id)
        self.handle(
            [SmokeConfirmed(entity_id=entity_id, at=at, test_active=test_active)]
        )

    # The name tests and earlier releases call it by.
    _async_confirm_smoke = async_confirm_smoke

    @callback
    def _async_tick(self, _now: datetime) -> None:
        if self.zigbee.pending:  # e.g. ZHA finished starting after Silver Bell
            self.zigbee.attach()
        now = dt_util.utcnow()
        self.evaluate(now)
        self._refresh_insights(now)

    def _refresh_insights(self, now: datetime) -> None:
        """Recompute the routine's figures and the advice once a day (background)."""
        if self.insights.due(now):
            self.entry.async_create_task(
                self.hass,
                self.insights.async_refresh(now),
                f"{DOMAIN}_insights_{self.entry_id}",
            )

    @callback
    def insights_changed(self) -> None:
        """New figures or advice: store what was told, update the entities."""
        self.save()
        self.notify_listeners()

    @callback
    def _failed(self, incident: Incident, target: str) -> None:
        """A family notify target failed: log it on the incident."""
        self.handle([NotifyFailed(incident_id=incident.id, target=target)])

    # --------------------------------------------------------------- listeners
    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` whenever the household's state changes."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def notify_listeners(self) -> None:
        """Tell the entities to update."""
        for update in list(self._listeners):
            update()

    @callback
    def _async_hub_progress(self, progress: Progress) -> None:
        """Mirror what the hub says about one of our incidents."""
        self.surveys.hub_progress(progress)
        self.handle([HubProgress(progress=progress)])

    @callback
    def async_forwarder_changed(self) -> None:
        """The hub link changed (connected, repairs): refresh entities."""
        self.notify_listeners()

    # ------------------------------------------------------------------ store
    def _as_store(self) -> dict[str, Any]:
        return self.core.as_store() | {
            "surveys": self.surveys.as_store(),
            "history": self.insights.history.as_dict(),
            "insights": self.insights.told_as_store(),
        }

    def save(self, *, incidents_changed: bool = False) -> None:
        """Write the household's state: at once when incidents changed, else soon."""
        self._store.schedule(self._as_store, immediate=incidents_changed)

    # ------------------------------------------------------- user operations
    @callback
    def async_transition(
        self,
        incident_id: str | None,
        target: IncidentState,
        by: str,
        note: str | None = None,
    ) -> Incident:
        """Acknowledge or resolve an incident for a user (raises translated errors)."""
        event = MoveIncident(incident_id=incident_id, target=target, by=by, note=note)
        try:
            result = self.handle([event])
        except NoActiveIncidentError:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_open_incident",
                translation_placeholders={"name": self.name},
            ) from None
        except UnknownIncidentError:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_incident",
                translation_placeholders={"incident_id": str(incident_id)},
            ) from None
        except MoveRefusedError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_transition",
                translation_placeholders={
                    "incident_id": err.incident_id,
                    "state": str(err.current),
                    "target": str(err.target),
                },
            ) from err
        assert result.incident is not None
        return result.incident

    @callback
    def async_raise(
        self, kind: IncidentKind, by: str, message: str | None = None
    ) -> Incident:
        """Open (or add to) an incident by hand: help button, service, notify.

        It leaves the home at once: whoever raised it has already checked.
        """
        result = self.handle([RaiseIncident(kind=kind, by=by, message=message)])
        assert result.incident is not None
        return result.incident

    @callback
    def async_check_in(self, by: str) -> None:
        """'I'm OK': a sign of life that cancels a pending inactivity check-in."""
        self.handle([CheckIn(by=by)])

    @callback
    def async_test_alarm(self, by: str) -> Incident:
        """Raise a clearly marked test incident through the whole chain."""
        result = self.handle([RaiseIncident(kind=IncidentKind.TEST, by=by, test=True)])
        assert result.incident is not None
        return result.incident

    @callback
    def async_set_away(self, away: bool) -> None:
        """Switch manual away mode."""
        self.handle([SetAway(on=away)])

    def diagnostics(self) -> dict[str, Any]:
        """Runtime state for the diagnostics download (redacted by the caller)."""
        inputs = self.inputs
        return {
            "watched": self.watched,
            "batteries": inputs.battery_of,
            "health_siblings": inputs.sibling_of,
            "last_seen_sensors": inputs.heard_of,
            "zigbee": {
                entity_id: {
                    "read_through_zigpy": entity_id in self.zigbee.attached,
                    "zone_status": self.zigbee.zone_status(entity_id),
                    **self.zigbee.link(entity_id),
                }
                for entity_id in self.watched
            },
            # The activity history is summed up, not listed (bulky, and private).
            "store": self._as_store()
            | {
                "history": {
                    "events": len(self.insights.history),
                    "days": round(self.insights.history.days, 2),
                }
            },
            "baseline_learning": self.baseline.learning,
            "routine": self.baseline.summary(),
            "inactivity": None
            if self.inactivity is None
            else {
                "level": str(self.inactivity.level),
                "source": self.inactivity.source,
                "next_check": None
                if self.inactivity.next_check is None
                else self.inactivity.next_check.isoformat(),
            },
        }
