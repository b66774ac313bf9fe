"""Household role: Home Assistant state changes in, incidents and entity updates out.

All decisions are made by the pure modules (``monitor/``, ``incidents.py``); this
module only subscribes to the watched entities, keeps time, persists and notifies.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_RESTORED,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
    UnitOfTemperature,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    CoreState,
    Event,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from ..const import (
    CONF_ACTIVITY_SENSORS,
    CONF_AREA,
    CONF_COLD_BELOW,
    CONF_DOOR_SENSOR,
    CONF_FIRE_RATE,
    CONF_FIRE_RATE_FLOOR,
    CONF_FIRE_SENSORS,
    CONF_FIRE_STATIC,
    CONF_GRACE,
    CONF_HEAT_ABOVE,
    CONF_HELP_BUTTONS,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NAME,
    CONF_NOTIFY,
    CONF_NOTIFY_LANGUAGES,
    CONF_PRESENCE,
    CONF_SECRET,
    CONF_TEMPERATURE_DURATION,
    CONF_TEMPERATURE_SENSORS,
    DEFAULT_BATTERY_LOW_PCT,
    DEFAULT_FIRE_RATE_WINDOW_MIN,
    DEFAULT_MOTION_SILENT_H,
    DEFAULT_SENSOR_FLAPPING_OUTAGES,
    DEFAULT_SENSOR_FLAPPING_SHARE,
    DEFAULT_SENSOR_FLAPPING_SHARE_WITHIN_MIN,
    DEFAULT_SENSOR_FLAPPING_WITHIN_MIN,
    DEFAULT_SENSOR_STEADY_MIN,
    DEFAULT_SENSOR_UNAVAILABLE_MIN,
    DOMAIN,
    EVENT_INCIDENT,
    SENSOR_OUTAGES_KEPT,
)
from ..core import messages
from ..core.bodies import Progress, parse_progress, progress_body
from ..core.incidents import Action, Change, IncidentBook, UnknownIncidentError
from ..core.models import (
    Incident,
    IncidentKind,
    IncidentState,
    InvalidTransitionError,
    Triage,
    most_urgent,
)
from ..core.monitor.assessment import Assessment
from ..core.monitor.away import AwayState, AwayTracker
from ..core.monitor.engine import SOURCE_AWAY_CHECK, InactivityEngine
from ..core.monitor.fire import (
    FireConfig,
    FireMonitor,
    SmokeVerdict,
    classify_smoke,
    classify_zone_change,
)
from ..core.monitor.health import HealthConfig, HealthVerdict, Problem, SensorHealth
from ..core.monitor.inactivity import InactivityVerdict, alarm_moment
from ..core.monitor.replay import ROLE_DOOR_CLOSED, ROLE_DOOR_OPEN
from ..core.monitor.routine import HOME, Routine
from ..core.monitor.states import UNRELIABLE, finite_float
from ..core.monitor.temperature import (
    TemperatureConfig,
    TemperatureMonitor,
    TemperatureRisk,
    TemperatureVerdict,
)
from ..core.protocol import Pairing
from .forwarder import Forwarder
from .insights import HouseholdInsights
from .settings import engine_config, settings_of
from .store import HouseholdStore
from .survey import HouseholdSurveys
from .zigbee import (
    ZigbeeLink,
    device_class_of,
    device_siblings,
    last_seen_sensor,
    sibling_bits,
    sibling_status,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

TICK = timedelta(minutes=1)
DOOR_CLASSES = frozenset({"door", "opening", "window", "garage_door"})
ZONE_STATUS_ATTR = "zone_status"
SYSTEM = "silver_bell"
HUB_ACTOR = "hub:"


# Closed incidents changed this recently are sent again at start-up if their
# last forwarded version is not in the outbox (see Household._requeue_unwritten).
REQUEUE_HORIZON = timedelta(days=1)


class Household:
    """Runtime of one household config entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Build the monitors from the entry's sensors and settings."""
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        data = entry.data
        self.name: str = data[CONF_NAME]
        self.area_id: str | None = data.get(CONF_AREA)
        self.activity_sensors: list[str] = list(data.get(CONF_ACTIVITY_SENSORS, []))
        self.fire_sensors: list[str] = list(data.get(CONF_FIRE_SENSORS, []))
        self.temperature_sensors: list[str] = list(
            data.get(CONF_TEMPERATURE_SENSORS, [])
        )
        self.help_buttons: list[str] = list(data.get(CONF_HELP_BUTTONS, []))
        self.door_sensor: str | None = data.get(CONF_DOOR_SENSOR)
        self.options = dict(entry.options)
        opts = settings_of(entry.options)
        self.notify_targets: list[str] = list(opts[CONF_NOTIFY])
        self.notify_languages: dict[str, str] = dict(opts[CONF_NOTIFY_LANGUAGES])
        # An inferred outing needs this person/device_tracker to agree (optional).
        self.presence_entity: str | None = opts.get(CONF_PRESENCE) or None
        self.engine_config = engine_config(
            entry.options, door_sensor=self.door_sensor is not None
        )
        self.baseline_enabled = self.engine_config.learned
        self.grace = timedelta(minutes=opts[CONF_GRACE])
        self.windows = self.engine_config.windows
        # Once the routine is learned the fixed windows are only a safety ceiling.
        self.ceiling = self.engine_config.ceiling
        self.fire = FireMonitor(
            FireConfig(
                static_c=opts[CONF_FIRE_STATIC],
                rate_c_per_min=opts[CONF_FIRE_RATE],
                rate_floor_c=opts[CONF_FIRE_RATE_FLOOR],
                window=timedelta(minutes=DEFAULT_FIRE_RATE_WINDOW_MIN),
            )
        )
        self._temperature_config = TemperatureConfig(
            cold_below=opts[CONF_COLD_BELOW],
            heat_above=opts[CONF_HEAT_ABOVE],
            duration=timedelta(minutes=opts[CONF_TEMPERATURE_DURATION]),
        )
        self._health_config = HealthConfig(
            unavailable_after=timedelta(minutes=DEFAULT_SENSOR_UNAVAILABLE_MIN),
            battery_low_pct=DEFAULT_BATTERY_LOW_PCT,
            silent_after=timedelta(hours=DEFAULT_MOTION_SILENT_H),
            flapping_outages=DEFAULT_SENSOR_FLAPPING_OUTAGES,
            flapping_within=timedelta(minutes=DEFAULT_SENSOR_FLAPPING_WITHIN_MIN),
            flapping_share=DEFAULT_SENSOR_FLAPPING_SHARE,
            flapping_share_within=timedelta(
                minutes=DEFAULT_SENSOR_FLAPPING_SHARE_WITHIN_MIN
            ),
            steady_after=timedelta(minutes=DEFAULT_SENSOR_STEADY_MIN),
            outages_kept=SENSOR_OUTAGES_KEPT,
        )
        self.temperature = TemperatureMonitor(self._temperature_config)
        self.health = SensorHealth(self._health_config)
        # Inactivity: learned routine, automatic away, fixed windows (one engine).
        self.engine = InactivityEngine(
            self.engine_config, last_activity=dt_util.utcnow()
        )
        self.assessment: Assessment | None = None
        self.book = IncidentBook()
        self.last_activity_sensor: str | None = None
        self.inactivity: InactivityVerdict | None = None
        self.temperature_verdict: TemperatureVerdict | None = None
        self.health_verdict: HealthVerdict | None = None
        self.away_state: AwayState | None = None
        self._next_inactivity_check: datetime | None = None
        self._store = HouseholdStore(hass, entry.entry_id)
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._smoke_reliable: dict[str, str] = {}  # last real state per detector
        self._battery_of: dict[str, str] = {}
        # Health siblings (tamper/problem/battery-low binary sensors) → watched entity.
        self._sibling_of: dict[str, str] = {}
        self._siblings: dict[str, dict[str, int]] = {}
        self._zone_seen: dict[str, int] = {}  # last ZoneStatus per fire sensor
        self._heard_of: dict[str, str] = {}  # last-seen sensor → watched entity
        self.zigbee = ZigbeeLink(hass, self.watched, self._async_zone_status)
        self.progress: dict[str, Progress] = {}
        self._forwarded: dict[str, int] = {}
        self.forwarder: Forwarder | None = None
        self.surveys = HouseholdSurveys(
            hass, self, lambda: self._save(incidents_changed=True)
        )
        # What the sensors can do: the routine's figures, sensor advice (issue 17).
        self.insights = HouseholdInsights(self)
        if (
            data.get(CONF_HUB_URL)
            and data.get(CONF_HOUSEHOLD_ID)
            and data.get(CONF_SECRET)
        ):
            self.forwarder = Forwarder(
                hass,
                self,
                Pairing(data[CONF_HUB_URL], data[CONF_HOUSEHOLD_ID], data[CONF_SECRET]),
                self._async_hub_progress,
            )

    # ------------------------------------------------------------------ set-up
    @property
    def area_name(self) -> str | None:
        """Name of the household's area (suggested area of the device)."""
        if self.area_id and (
            area := ar.async_get(self.hass).async_get_area(self.area_id)
        ):
            return area.name
        return None

    @property
    def baseline(self) -> Routine:
        """The learned routine (the engine's)."""
        return self.engine.routine

    @property
    def last_activity(self) -> datetime:
        """When the current silence began (UTC)."""
        return dt_util.as_utc(self.engine.last_activity)

    @property
    def watched(self) -> list[str]:
        """Every entity this household reads."""
        entities = [
            *self.activity_sensors,
            *self.fire_sensors,
            *self.temperature_sensors,
            *self.help_buttons,
        ]
        if self.door_sensor:
            entities.append(self.door_sensor)
        return list(dict.fromkeys(entities))

    async def async_start(self) -> None:
        """Restore the persisted state, subscribe and evaluate once."""
        now = dt_util.utcnow()
        stored = await self._store.async_load()
        self.book = IncidentBook.from_dict(stored.get("incidents", []))
        self.temperature = TemperatureMonitor.from_dict(
            stored.get("temperature", {}), self._temperature_config
        )
        self.health = SensorHealth.from_dict(
            stored.get("health", {}), self._health_config
        )
        self.surveys.load(stored.get("surveys"))
        self.insights.load(stored.get("history"), stored.get("insights"))
        self.last_activity_sensor = stored.get("last_activity_sensor")
        self.engine = InactivityEngine(
            self.engine_config,
            last_activity=_parse_dt(stored.get("last_activity")) or now,
            context=self.context_of(self.last_activity_sensor),
            routine=Routine.from_dict(
                stored.get("baseline", {}), self.engine_config.routine
            ),
            away=AwayTracker.from_dict(stored.get("away", {}), self.engine_config.away),
            raised_for=_parse_dt(stored.get("inactivity_raised_for")),
        )
        self.progress = self._restore_progress(stored.get("progress"))
        forwarded = stored.get("forwarded")
        self._forwarded = (
            {str(k): int(v) for k, v in forwarded.items() if isinstance(v, int)}
            if isinstance(forwarded, dict)
            else {}
        )
        # Events during the downtime are lost: don't learn the gap across it.
        self.engine.restart(dt_util.as_local(now))

        for entity_id in self.health.sensors - set(self.watched):
            self.health.untrack(entity_id)
        for entity_id in set(self.watched) - self.health.sensors:
            self.health.track(
                entity_id, activity=entity_id in self.activity_sensors, now=now
            )
        self._battery_of = self._find_batteries()
        self._find_siblings()
        self._heard_of = {
            seen: entity_id
            for entity_id in self.watched
            if (seen := last_seen_sensor(self.hass, entity_id)) is not None
        }
        self.zigbee.attach()
        for entity_id in self.fire_sensors:
            if (status := self.zigbee.zone_status(entity_id)) is not None:
                self._zone_seen[entity_id] = status
        self._unsubs.append(
            async_track_state_change_event(
                self.hass, self.watched, self._async_watched_changed
            )
        )
        if self._battery_of:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, list(self._battery_of), self._async_battery_changed
                )
            )
        if self._sibling_of:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, list(self._sibling_of), self._async_sibling_changed
                )
            )
        if self._heard_of:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, list(self._heard_of), self._async_heard
                )
            )
        self._unsubs.append(
            async_track_time_interval(self.hass, self._async_tick, TICK)
        )
        for entity_id in self.watched:
            if (state := self.hass.states.get(entity_id)) is not None:
                self._process(entity_id, None, state, now)
        for battery in self._battery_of:
            if (state := self.hass.states.get(battery)) is not None:
                self._battery(battery, state, now)
        for entity_id in self._siblings:
            self._refresh_zone(entity_id)
        for seen, entity_id in self._heard_of.items():
            if (state := self.hass.states.get(seen)) is not None:
                self.health.heard(entity_id, _aware(state.state))
        if self.presence_entity is not None:
            self._presence(self.hass.states.get(self.presence_entity), now)
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, [self.presence_entity], self._async_presence_changed
                )
            )
        self._evaluate(now)
        self._save()
        self._refresh_insights(now)
        if self.forwarder is not None:
            await self.forwarder.async_start()
            # Anything that left the home while the hub link was down or not yet set up.
            for incident in self.book.active:
                if incident.escalated_at is not None:
                    self._forward(incident)
            self._requeue_unwritten(now)
        self.surveys.async_start()

    async def async_stop(self) -> None:
        """Unsubscribe and write everything to disk."""
        self.surveys.async_stop()
        if self.forwarder is not None:
            await self.forwarder.async_stop()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.zigbee.detach()
        if self._timer is not None:
            self._timer()
            self._timer = None
        await self._store.async_save(self._as_store())

    def _find_batteries(self) -> dict[str, str]:
        """Battery sensors on the same devices as the watched entities."""
        found: dict[str, str] = {}
        for entity_id in self.watched:
            for sibling in device_siblings(self.hass, entity_id):
                if sibling.domain == "sensor" and device_class_of(sibling) == "battery":
                    found.setdefault(sibling.entity_id, entity_id)
        return found

    def _find_siblings(self) -> None:
        """Binary sensors beside the watched ones that report their device's health."""
        watched = set(self.watched)
        for entity_id in self.watched:
            found = {
                sibling: bit
                for sibling, bit in sibling_bits(self.hass, entity_id).items()
                if sibling not in watched
            }
            if found:
                self._siblings[entity_id] = found
                for sibling in found:
                    self._sibling_of.setdefault(sibling, entity_id)

    def _refresh_zone(self, entity_id: str) -> None:
        """Give the health monitor the device's bits from every source there is."""
        status = self.zigbee.zone_status(entity_id)
        if siblings := self._siblings.get(entity_id):
            status = (status or 0) | sibling_status(self.hass, siblings)
        self.health.zone_status(entity_id, status)

    def _test_siblings(self, entity_id: str) -> list[str]:
        """The detector's sibling 'test' binary sensors (Zigbee2MQTT's ``test``)."""
        return [
            sibling.entity_id
            for sibling in device_siblings(self.hass, entity_id)
            if sibling.domain == "binary_sensor"
            and (
                sibling.entity_id.endswith("_test")
                or sibling.translation_key == "test"
                or (sibling.original_name or "").casefold() == "test"
            )
        ]

    def _test_active(self, entity_id: str) -> bool:
        """Whether the detector is in test mode (a sibling 'test' entity is on)."""
        return any(
            (state := self.hass.states.get(sibling)) is not None
            and state.state == STATE_ON
            for sibling in self._test_siblings(entity_id)
        )

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
    def _notify_listeners(self) -> None:
        for update in list(self._listeners):
            update()

    # ------------------------------------------------------------------ inputs
    @callback
    def _async_watched_changed(self, event: Event) -> None:
        now = dt_util.utcnow()
        if self._process(
            event.data["entity_id"],
            event.data.get("old_state"),
            event.data["new_state"],
            now,
        ):
            self._evaluate(now)

    @callback
    def _async_presence_changed(self, event: Event) -> None:
        now = dt_util.utcnow()
        self._presence(event.data.get("new_state"), now)
        self._evaluate(now)

    def _presence(self, state: State | None, now: datetime) -> None:
        """The presence entity's state (removed or unavailable: no information)."""
        self.engine.presence(
            None if state is None else state.state, dt_util.as_local(now)
        )

    @callback
    def _async_battery_changed(self, event: Event) -> None:
        now = dt_util.utcnow()
        if (state := event.data.get("new_state")) is not None:
            self._battery(event.data["entity_id"], state, now)
        self._evaluate(now)

    @callback
    def _async_sibling_changed(self, event: Event) -> None:
        for entity_id, siblings in self._siblings.items():
            if event.data["entity_id"] in siblings:
                self._refresh_zone(entity_id)
        self._evaluate(dt_util.utcnow())

    @callback
    def _async_heard(self, event: Event) -> None:
        """The stack's last-seen time of a watched sensor's device moved."""
        if (state := event.data.get("new_state")) is not None:
            self.health.heard(
                self._heard_of[event.data["entity_id"]], _aware(state.state)
            )
        self._evaluate(dt_util.utcnow())

    @callback
    def _async_zone_status(self, entity_id: str, status: int) -> None:
        """A ZoneStatus the Zigbee stack received (from a report, read or command)."""
        now = dt_util.utcnow()
        self._refresh_zone(entity_id)
        if entity_id in self.fire_sensors:
            previous = self._zone_seen.get(entity_id)
            self._zone_seen[entity_id] = status
            verdict = classify_zone_change(previous, status)
            if verdict is SmokeVerdict.TEST:
                self._open_test(entity_id, now)
            elif verdict is SmokeVerdict.FIRE and previous is not None:
                # Alarm without Test after a test: smoke, whatever the entity shows.
                # (A plain off → alarm change is the entity's own off → on.)
                self._open_fire(entity_id, now)
        self._evaluate(now)

    @callback
    def _async_tick(self, _now: datetime) -> None:
        if self.zigbee.pending:  # e.g. ZHA finished starting after Silver Bell
            self.zigbee.attach()
        now = dt_util.utcnow()
        self._evaluate(now)
        self._refresh_insights(now)

    def _refresh_insights(self, now: datetime) -> None:
        """Recompute the routine's figures and the advice once a day (background)."""
        if self.insights.due(now):
            self.entry.async_create_task(
                self.hass,
                self.insights.async_refresh(now),
                f"{DOMAIN}_insights_{self.entry_id}",
            )

    @property
    def started(self) -> bool:
        """Whether the household runs (started and not stopped)."""
        return bool(self._unsubs)

    @callback
    def insights_changed(self) -> None:
        """New figures or advice: store what was told, update the entities."""
        self._save()
        self._notify_listeners()

    @callback
    def _async_timer(self, _now: datetime) -> None:
        self._timer = None
        self._evaluate(dt_util.utcnow())

    def _battery(self, battery: str, state: State, now: datetime) -> None:
        self.health.battery(self._battery_of[battery], finite_float(state.state), now)

    def _process(
        self, entity_id: str, old: State | None, new: State | None, now: datetime
    ) -> bool:
        """Feed one state change of a watched entity to the monitors.

        Returns whether the monitors need a new evaluation: not for a change
        that tells them nothing new (a motion sensor clearing, an attribute
        update), which is most of a busy home's changes.
        """
        if new is None:  # entity removed
            self.health.state_changed(
                entity_id, "unavailable", now, device_dropout=False
            )
            return True
        old_state = old.state if old is not None else None
        if self.zigbee.is_pending(entity_id):
            self.zigbee.attach(entity_id)
        zone_status = new.attributes.get(ZONE_STATUS_ATTR)
        if not isinstance(zone_status, int):
            zone_status = self.zigbee.zone_status(entity_id)
        # At start-up (no old state) the current state is replayed from when it
        # began, so a sensor that was already offline is caught.
        since = now if old is not None else min(new.last_changed, now)
        self.health.state_changed(
            entity_id,
            new.state,
            since,
            zone_status=zone_status,
            device_dropout=self._device_dropout(new),
        )
        if entity_id in self._siblings:
            self._refresh_zone(entity_id)
        reliable_change = (
            old_state is not None
            and old_state not in UNRELIABLE
            and new.state not in UNRELIABLE
            and old_state != new.state
        )
        informative = (
            old_state is None or old_state in UNRELIABLE or (new.state in UNRELIABLE)
        )
        if entity_id in self.activity_sensors and reliable_change:
            if new.state == STATE_ON or (
                new.attributes.get(ATTR_DEVICE_CLASS) in DOOR_CLASSES
            ):
                self._activity(entity_id, now)
                informative = True
        if entity_id == self.door_sensor and reliable_change:
            checking = (
                self.inactivity is not None
                and self.inactivity.source == SOURCE_AWAY_CHECK
            )
            self.engine.door(new.state, dt_util.as_local(now))
            self.insights.history.add(
                now,
                self.context_of(entity_id),
                ROLE_DOOR_OPEN if new.state == STATE_ON else ROLE_DOOR_CLOSED,
            )
            if checking and new.state == STATE_ON:
                # Coming home answers the check of an outing longer than usual.
                self._apply(self.book.check_in(now, entity_id), now)
        if entity_id in self.help_buttons and reliable_change:
            if (
                entity_id.split(".", maxsplit=1)[0] != "binary_sensor"
                or new.state == STATE_ON
            ):
                self._apply(
                    self.book.open(
                        IncidentKind.HELP, now, details={"source": entity_id}
                    ),
                    now,
                )
        if entity_id in self.fire_sensors:
            self._smoke(entity_id, old_state, new.state, zone_status, now)
        if entity_id in self.temperature_sensors:
            self._temperature(entity_id, new, now)
        return (
            informative
            or zone_status is not None
            or not entity_id.startswith("binary_sensor.")
            or entity_id
            in (
                self.door_sensor,
                *self.help_buttons,
                *self.fire_sensors,
                *self.temperature_sensors,
            )
        )

    def _device_dropout(self, state: State) -> bool:
        """Whether an unreliable state comes from the device, not Home Assistant.

        Home Assistant writes "unavailable" itself while it starts or stops, and
        for the entities of an integration that is not loaded (yet), marked
        ``restored``; those outages don't count for the flapping rule.
        """
        return (
            self.hass.state is CoreState.running
            and state.attributes.get(ATTR_RESTORED) is not True
        )

    def _smoke(
        self,
        entity_id: str,
        old_state: str | None,
        new_state: str,
        zone_status: int | None,
        now: datetime,
    ) -> None:
        # A detector that drops out and comes back alarming is judged against
        # its last real state: off before the dropout, on after it is a fire
        # (a fire may take the detector off the network for a moment).
        if old_state in UNRELIABLE and entity_id in self._smoke_reliable:
            old_state = self._smoke_reliable[entity_id]
        if new_state not in UNRELIABLE:
            self._smoke_reliable[entity_id] = new_state
        verdict = classify_smoke(
            old_state,
            new_state,
            test_active=self._test_active(entity_id),
            zone_status=zone_status,
        )
        if verdict is SmokeVerdict.FIRE and self._test_siblings(entity_id):
            # One message from the stack may carry both ``smoke`` and ``test``, and
            # newer releases write the two entities one after the other, running
            # our listener in between: decide once the whole message is written.
            self.entry.async_create_task(
                self.hass,
                self._async_confirm_smoke(entity_id, now),
                f"{DOMAIN}_confirm_smoke_{entity_id}",
            )
        elif verdict is SmokeVerdict.FIRE:
            self._open_fire(entity_id, now)
        elif verdict is SmokeVerdict.TEST:
            self._open_test(entity_id, now)

    async def _async_confirm_smoke(self, entity_id: str, at: datetime) -> None:
        """A smoke alarm from a detector with a test entity: test, or fire."""
        # Newer releases start tasks eagerly: yield once, so the rest of the
        # message's writes happen first.
        await asyncio.sleep(0)
        if not self._unsubs:  # stopped in the meantime
            return
        if self._test_active(entity_id):
            self._open_test(entity_id, at)
        else:
            self._open_fire(entity_id, at)
        self._evaluate(dt_util.utcnow())

    def _open_fire(self, entity_id: str, now: datetime) -> None:
        self._apply(
            self.book.open(
                IncidentKind.FIRE,
                now,
                details={"sensor": entity_id, "reason": "smoke"},
            ),
            now,
        )

    def _open_test(self, entity_id: str, now: datetime) -> None:
        self._apply(
            self.book.open(
                IncidentKind.TEST,
                now,
                details={"sensor": entity_id, "reason": "detector_test"},
                test=True,
            ),
            now,
        )

    def _temperature(self, entity_id: str, state: State, now: datetime) -> None:
        value = finite_float(state.state)
        if value is None:
            # Keep the samples: the rate of rise is measured over time within a
            # bounded window, so a reading after a short dropout still counts.
            return
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        if unit in (UnitOfTemperature.FAHRENHEIT, UnitOfTemperature.KELVIN):
            value = TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS)
        self.temperature.add_sample(entity_id, value, now)
        heat = self.fire.add_sample(entity_id, value, now)
        if heat is not None:
            details: dict[str, Any] = {
                "sensor": entity_id,
                "reason": heat.reason,
                "temperature": round(heat.value, 1),
            }
            if heat.rate_c_per_min is not None:
                details["rate_c_per_min"] = round(heat.rate_c_per_min, 1)
            self._apply(self.book.open(IncidentKind.FIRE, now, details=details), now)

    def _activity(
        self, entity_id: str | None, now: datetime, by: str | None = None
    ) -> None:
        """A sign of life."""
        self.last_activity_sensor = entity_id
        if entity_id is None or entity_id != self.door_sensor:
            self.insights.history.add(now, self.context_of(entity_id))
        # The door sensor's own changes are read by the away tracker itself.
        self.engine.activity(
            dt_util.as_local(now),
            self.context_of(entity_id),
            front_door=entity_id is not None and entity_id == self.door_sensor,
        )
        by = by or entity_id or SYSTEM
        changes = self.book.check_in(now, by)
        current = self.book.active_of(IncidentKind.INACTIVITY)
        if current is not None and current.audit[-1].note != "activity_resumed":
            changes.append(self.book.note(current, now, by, "activity_resumed"))
        self._apply(changes, now)

    # -------------------------------------------------------------- evaluation
    @callback
    def _evaluate(self, now: datetime) -> None:
        """Re-evaluate every monitor, open/close incidents, schedule the next check."""
        changes: list[Change] = []
        evaluation = self.engine.evaluate(dt_util.as_local(now))
        self.away_state = away = evaluation.away
        self._next_inactivity_check = evaluation.next_check
        if away.too_long:
            changes += self.book.open(
                IncidentKind.AWAY_TOO_LONG,
                now,
                details={"since": away.since.isoformat() if away.since else None},
            )
        else:
            changes += self.book.resolve_kind(
                IncidentKind.AWAY_TOO_LONG, now, SYSTEM, "back_home"
            )

        self.inactivity = evaluation.verdict
        self.assessment = evaluation.assessment
        if evaluation.alarm is not None:
            changes += self.book.open(
                IncidentKind.INACTIVITY,
                now,
                details=self.inactivity_details(),
                grace=self.grace,
            )

        self.temperature_verdict = temps = self.temperature.evaluate(now)
        for risk, kind in (
            (TemperatureRisk.COLD, IncidentKind.COLD),
            (TemperatureRisk.HEAT, IncidentKind.HEAT),
        ):
            if sensors := temps.risks.get(risk):
                changes += self.book.open(
                    kind, now, details={"sensors": sorted(sensors)}
                )
            else:
                changes += self.book.resolve_kind(
                    kind, now, SYSTEM, "temperature_normal"
                )

        self.health_verdict = health = self.health.evaluate(now)
        if health.problems:
            changes += self.book.open(
                IncidentKind.SENSOR_FAULT, now, details=self._fault_details(health)
            )
        else:
            changes += self.book.resolve_kind(
                IncidentKind.SENSOR_FAULT, now, SYSTEM, "sensors_healthy"
            )

        changes += self.book.escalate_due(now)
        self._apply(changes, now)
        self._schedule(now)
        self._save()
        self._notify_listeners()

    def _fault_details(self, health: HealthVerdict) -> dict[str, Any]:
        """Which sensor has which problem, on which device, last heard when.

        The last-seen time is given only for sensors that went quiet (offline,
        silent): a device that still talks would change it with every report.
        """
        details: dict[str, Any] = {
            "sensors": {
                sensor: [str(problem) for problem in problems]
                for sensor, problems in sorted(health.problems.items())
            }
        }
        devices = {
            sensor: name
            for sensor in health.problems
            if (name := self._device_name(sensor)) is not None
        }
        if devices:
            details["devices"] = dict(sorted(devices.items()))
        quiet = {
            sensor: seen
            for sensor, problems in health.problems.items()
            if {Problem.UNAVAILABLE, Problem.SILENT, Problem.NOT_HEARD} & set(problems)
            and (seen := self._last_seen(sensor)) is not None
        }
        if quiet:
            details["last_seen"] = dict(sorted(quiet.items()))
        return details

    def fault_summary(self, language: str | None) -> str | None:
        """Which device has which problem, in words (None when all is well)."""
        health = self.health_verdict
        if health is None or not health.problems:
            return None
        return messages.problem_text(self._fault_details(health), language)

    def _last_seen(self, entity_id: str) -> str | None:
        """When the stack last heard from the sensor's device (ISO), where it says."""
        if (heard := self.health.last_heard(entity_id)) is not None:
            return heard.isoformat()
        seen = self.zigbee.link(entity_id).get("last_seen")
        return seen if isinstance(seen, str) else None

    def _device_name(self, entity_id: str) -> str | None:
        """The name of the entity's device, as the family named it."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None or entry.device_id is None:
            return None
        device = dr.async_get(self.hass).async_get(entry.device_id)
        if device is None:
            return None
        return device.name_by_user or device.name

    def context_of(self, entity_id: str | None) -> str | None:
        """The routine's context of an activity sensor: its area, else the sensor itself."""
        if entity_id is None:
            return None
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None:
            return entity_id
        if entry.area_id:
            return entry.area_id
        if entry.device_id and (
            device := dr.async_get(self.hass).async_get(entry.device_id)
        ):
            return device.area_id or entity_id
        return entity_id

    def inactivity_details(self) -> dict[str, Any]:
        """Why the current silence is judged as it is (entity attributes, incident details)."""
        now = dt_util.utcnow()
        gap = max(now - self.last_activity, timedelta(0))
        assessment = self.assessment
        details: dict[str, Any] = {
            "last_activity": self.last_activity.isoformat(),
            "last_sensor": self.last_activity_sensor,
            "last_room": self._room_name(self.last_activity_sensor),
            "gap_min": round(gap.total_seconds() / 60),
            "rule": None if self.inactivity is None else self.inactivity.source,
            "compared_with": "fixed",
            "normal_up_to": None,
            "alarm_after": None,
        }
        if details["rule"] == SOURCE_AWAY_CHECK:
            # An inferred outing longer than usual: compared with the outings.
            usual = round(self.engine.away.check_after.total_seconds() / 60)
            details.update(
                compared_with="outings", normal_up_to=usual, alarm_after=usual
            )
        elif assessment is None:
            # Fixed windows (routine still learning, or learning off): when they alarm.
            alarm_at = alarm_moment(
                self.windows, self.last_activity, dt_util.as_local(now)
            )
            details["alarm_after"] = round(
                (alarm_at - self.last_activity).total_seconds() / 60
            )
        else:
            details.update(
                compared_with="home" if assessment.context == HOME else "room",
                normal_up_to=round(assessment.normal.total_seconds() / 60),
                alarm_after=round(assessment.alarm_after.total_seconds() / 60),
                longer_than_usual=round(100 * (1 - assessment.survival(gap))),
            )
        return details

    def _room_name(self, entity_id: str | None) -> str | None:
        """Where a sensor is: its area, else its device's or its own name.

        None only when no sensor reported the last activity (the I'm OK button).
        """
        if entity_id is None or "." not in entity_id:
            return None
        context = self.context_of(entity_id)
        if context is not None and context != entity_id:
            area = ar.async_get(self.hass).async_get_area(context)
            if area is not None:
                return area.name
        if name := self._device_name(entity_id):
            return name
        state = self.hass.states.get(entity_id)
        if state is not None and (friendly := state.attributes.get("friendly_name")):
            return str(friendly)
        return entity_id

    def _schedule(self, now: datetime) -> None:
        candidates = [
            self.book.next_grace_end(),
            self._next_inactivity_check,
            self.temperature_verdict.next_check if self.temperature_verdict else None,
            self.health_verdict.next_check if self.health_verdict else None,
        ]
        upcoming = [
            moment for moment in candidates if moment is not None and moment > now
        ]
        wanted = min(upcoming, default=None)
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
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = wanted
        if wanted is not None:
            self._timer = async_track_point_in_utc_time(
                self.hass, self._async_timer, wanted
            )

    # --------------------------------------------------------------- outputs
    def _apply(self, changes: list[Change], now: datetime) -> None:
        """Persist, announce and notify what happened to incidents."""
        if not changes:
            return
        self._save(incidents_changed=True)
        for change in changes:
            self._fire_event(change)
            self._forward(change.incident)
            if self._should_notify(change):
                self.entry.async_create_task(
                    self.hass,
                    self._async_notify_family(change.action, change.incident),
                    f"{DOMAIN}_notify_{change.incident.id}",
                )
        self._notify_listeners()

    def _requeue_unwritten(self, now: datetime) -> None:
        """Queue again a forwarded version that never reached the outbox on disk.

        The household store (which records the version as forwarded) and the
        outbox are two files; a process killed between the two writes would
        leave that version unsent for good. A version the hub already has is
        answered 200 and changes nothing there, so recent ones are simply sent
        again.
        """
        assert self.forwarder is not None
        horizon = now - REQUEUE_HORIZON
        for incident in self.book.incidents:
            seq = self._forwarded.get(incident.id)
            if (
                seq is not None
                and seq == incident.seq
                and self.forwarder.queued_seq(incident.id) < seq
                and (incident.active or incident.updated_at >= horizon)
            ):
                self.forwarder.enqueue(incident)

    def _forward(self, incident: Incident) -> None:
        """Send an incident's new version to the hub, unless it came from the hub."""
        if (
            self.forwarder is None
            or incident.escalated_at is None
            or incident.seq <= self._forwarded.get(incident.id, -1)
            or incident.audit[-1].by.startswith(HUB_ACTOR)
        ):
            return
        self._forwarded[incident.id] = incident.seq
        self._save(incidents_changed=True)
        self.forwarder.enqueue(incident)

    @callback
    def _async_hub_progress(self, progress: Progress) -> None:
        """Mirror what the hub says about one of our incidents."""
        self.surveys.hub_progress(progress)
        try:
            incident = self.book.get(progress.id)
        except UnknownIncidentError:
            return
        self.progress[incident.id] = progress
        now = dt_util.utcnow()
        by = f"{HUB_ACTOR}{progress.acknowledged_by or 'hub'}"
        changes: list[Change] = []
        if (
            progress.state is IncidentState.ACKNOWLEDGED
            and incident.state is IncidentState.OPEN
        ):
            changes = self.book.transition(
                incident.id, IncidentState.ACKNOWLEDGED, now, by
            )
        elif progress.state is IncidentState.RESOLVED and incident.active:
            changes = self.book.transition(
                incident.id, IncidentState.RESOLVED, now, by, progress.resolution
            )
        if changes:
            self._apply(changes, now)
            self._evaluate(now)
        else:
            self._save()  # the answer itself is kept for a restart
            self._notify_listeners()

    @callback
    def async_forwarder_changed(self) -> None:
        """The hub link changed (connected, repairs): refresh entities."""
        self._notify_listeners()

    @staticmethod
    def _should_notify(change: Change) -> bool:
        if change.action is Action.ESCALATED:
            return True
        return (
            change.action in (Action.ACKNOWLEDGED, Action.RESOLVED)
            and change.incident.escalated_at is not None
        )

    def _fire_event(self, change: Change) -> None:
        self.hass.bus.async_fire(
            EVENT_INCIDENT,
            {
                "action": change.action.value,
                "entry_id": self.entry_id,
                "household": self.name,
                "incident": change.incident.as_dict(),
            },
        )

    def language_of(self, target: str) -> str:
        """The language a family notify target reads (the server's unless chosen)."""
        return self.notify_languages.get(target) or self.hass.config.language

    async def _async_notify_family(self, action: Action, incident: Incident) -> None:
        """Send one message to each family notify target; failures are logged on the incident."""
        by = incident.audit[-1].by
        data: dict[str, Any] = {"tag": f"silver_bell_{incident.id}", "group": DOMAIN}
        critical = (
            incident.colour is Triage.RED
            and not incident.test
            and action is Action.ESCALATED
        )
        if critical:
            data.update(
                {
                    "push": {
                        "interruption-level": "critical",
                        "sound": {"name": "default", "critical": 1, "volume": 1.0},
                    },
                    "ttl": 0,
                    "priority": "high",
                    "channel": "alarm_stream",
                }
            )

        def payload(language: str) -> dict[str, Any]:
            return {
                "title": messages.title(language),
                "message": messages.incident_text(
                    Action.OPENED if action is Action.ESCALATED else action,
                    incident,
                    self.name,
                    language,
                    by,
                    messages.details_text(incident, language, dt_util.utcnow()),
                ),
                "data": data,
            }

        for target in self.notify_targets:
            language = self.language_of(target)
            target = target.removeprefix("notify.")
            try:
                await self.hass.services.async_call(
                    "notify", target, payload(language), blocking=True
                )
            except (HomeAssistantError, ValueError) as err:
                _LOGGER.warning(
                    "Could not notify %s about %s: %s", target, incident.id, err
                )
                self.book.note(
                    incident, dt_util.utcnow(), SYSTEM, f"notify_failed:{target}"
                )
                self._save(incidents_changed=True)

    def _as_store(self) -> dict[str, Any]:
        return {
            "incidents": self.book.as_dict(),
            "baseline": self.baseline.as_dict(),
            "temperature": self.temperature.as_dict(),
            "health": self.health.as_dict(),
            "away": self.engine.away.as_dict(),
            "last_activity": _iso(self.last_activity),
            "last_activity_sensor": self.last_activity_sensor,
            "inactivity_raised_for": _iso(
                None
                if self.engine.raised_for is None
                else dt_util.as_utc(self.engine.raised_for)
            ),
            "forwarded": {
                incident_id: seq
                for incident_id, seq in self._forwarded.items()
                if incident_id in {item.id for item in self.book.incidents}
            },
            "surveys": self.surveys.as_store(),
            "history": self.insights.history.as_dict(),
            "insights": self.insights.told_as_store(),
            # The hub's last answer per active incident: Help progress shows it
            # at once after a restart instead of "waiting" until the next poll.
            "progress": {
                incident_id: progress_body(progress)
                for incident_id, progress in self.progress.items()
                if (incident := self.book.find(incident_id)) is not None
                and incident.active
            },
        }

    def _restore_progress(self, stored: Any) -> dict[str, Progress]:
        """The stored answers of the hub, for incidents still active (bad ones dropped)."""
        if not isinstance(stored, dict):
            return {}
        restored: dict[str, Progress] = {}
        for incident_id, body in stored.items():
            incident = self.book.find(str(incident_id))
            if incident is None or not incident.active:
                continue
            try:
                restored[incident.id] = parse_progress(body)
            except ValueError:
                continue
        return restored

    def _save(self, *, incidents_changed: bool = False) -> None:
        self._store.schedule(self._as_store, immediate=incidents_changed)

    # ------------------------------------------------------- user operations
    def _resolve_target(
        self, incident_id: str | None, target: IncidentState
    ) -> Incident:
        """The incident a user means: the given id, else the most urgent that can move."""
        if incident_id is None:
            candidates = [
                item
                for item in self.book.active
                if target is not IncidentState.ACKNOWLEDGED
                or item.state is IncidentState.OPEN
            ]
            incident = most_urgent(candidates)
            if incident is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="no_open_incident",
                    translation_placeholders={"name": self.name},
                )
            return incident
        try:
            return self.book.get(incident_id)
        except UnknownIncidentError:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_incident",
                translation_placeholders={"incident_id": incident_id},
            ) from None

    @callback
    def async_transition(
        self,
        incident_id: str | None,
        target: IncidentState,
        by: str,
        note: str | None = None,
    ) -> Incident:
        """Acknowledge or resolve an incident for a user (raises translated errors)."""
        now = dt_util.utcnow()
        incident = self._resolve_target(incident_id, target)
        try:
            changes = self.book.transition(incident.id, target, now, by, note)
        except InvalidTransitionError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_transition",
                translation_placeholders={
                    "incident_id": incident.id,
                    "state": str(err.current),
                    "target": str(err.target),
                },
            ) from err
        self._apply(changes, now)
        self._evaluate(now)
        return incident

    @callback
    def async_raise(
        self, kind: IncidentKind, by: str, message: str | None = None
    ) -> Incident:
        """Open (or add to) an incident by hand: help button, service, notify.

        It leaves the home at once: whoever raised it has already checked.
        """
        now = dt_util.utcnow()
        details: dict[str, Any] = {"source": by}
        if message:
            details["message"] = message
        self._apply(self.book.open(kind, now, details=details), now)
        incident = self.book.active_of(kind)
        assert incident is not None
        return incident

    @callback
    def async_check_in(self, by: str) -> None:
        """'I'm OK': a sign of life that cancels a pending inactivity check-in."""
        now = dt_util.utcnow()
        self._activity(None, now, by)
        self.last_activity_sensor = by
        self._evaluate(now)

    @callback
    def async_test_alarm(self, by: str) -> Incident:
        """Raise a clearly marked test incident through the whole chain."""
        now = dt_util.utcnow()
        self._apply(
            self.book.open(IncidentKind.TEST, now, details={"source": by}, test=True),
            now,
        )
        incident = self.book.active_of(IncidentKind.TEST)
        assert incident is not None
        return incident

    @callback
    def async_set_away(self, away: bool) -> None:
        """Switch manual away mode."""
        now = dt_util.utcnow()
        self.engine.set_away(away, dt_util.as_local(now))
        self._evaluate(now)

    def diagnostics(self) -> dict[str, Any]:
        """Runtime state for the diagnostics download (redacted by the caller)."""
        return {
            "watched": self.watched,
            "batteries": self._battery_of,
            "health_siblings": self._sibling_of,
            "last_seen_sensors": self._heard_of,
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
                "next_check": _iso(self.inactivity.next_check),
            },
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return dt_util.parse_datetime(value)


def _aware(value: Any) -> datetime | None:
    """A timestamp sensor's state as an aware datetime (None for anything else)."""
    parsed = _parse_dt(value)
    return parsed if parsed is not None and parsed.tzinfo is not None else None
