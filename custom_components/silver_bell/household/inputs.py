"""Home Assistant events in, engine events out: the household's listeners.

Each state change of a watched entity, its battery, health or last-seen
siblings, the presence entity and the Zigbee stack's ZoneStatus reports becomes
one or more frozen events of :mod:`~..core.household.events`, handed to the
household in one call (one result, applied once).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_RESTORED,
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfTemperature,
)
from homeassistant.core import CALLBACK_TYPE, CoreState, Event, State, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from ..core.household.events import (
    Battery,
    Event as EngineEvent,
    Heard,
    Presence,
    SensorChange,
    ZoneBits,
    ZoneReport,
)
from ..core.monitor.states import finite_float
from .lookup import aware
from .zigbee import last_seen_sensor, sibling_status

if TYPE_CHECKING:
    from .runtime import Household

DOOR_CLASSES = frozenset({"door", "opening", "window", "garage_door"})
ZONE_STATUS_ATTR = "zone_status"


class SensorInputs:
    """Subscribes to what a household reads and turns it into engine events."""

    def __init__(self, household: Household) -> None:
        """Listen for ``household`` (nothing is subscribed before :meth:`start`)."""
        self._household = household
        self.hass = household.hass
        self.battery_of: dict[str, str] = {}
        # Health siblings (tamper/problem/battery-low binary sensors) → watched entity.
        self.sibling_of: dict[str, str] = {}
        self.siblings: dict[str, dict[str, int]] = {}
        self.heard_of: dict[str, str] = {}  # last-seen sensor → watched entity
        self.unsubs: list[CALLBACK_TYPE] = []

    def find(self) -> None:
        """Find the siblings of the watched entities on their devices."""
        household = self._household
        watched = household.watched
        self.battery_of = household.lookup.batteries(watched)
        self.siblings = household.lookup.health_siblings(watched)
        for entity_id, found in self.siblings.items():
            for sibling in found:
                self.sibling_of.setdefault(sibling, entity_id)
        self.heard_of = {
            seen: entity_id
            for entity_id in watched
            if (seen := last_seen_sensor(self.hass, entity_id)) is not None
        }

    def subscribe(self) -> None:
        """Follow the watched entities and their siblings."""
        hass, track = self.hass, async_track_state_change_event
        self.unsubs.append(
            track(hass, self._household.watched, self._async_watched_changed)
        )
        for entities, action in (
            (self.battery_of, self._async_battery_changed),
            (self.sibling_of, self._async_sibling_changed),
            (self.heard_of, self._async_heard),
        ):
            if entities:
                self.unsubs.append(track(hass, list(entities), action))
        presence = self._household.presence_entity
        if presence is not None:
            self.unsubs.append(track(hass, [presence], self._async_presence_changed))

    def current(self, now: datetime) -> list[EngineEvent]:
        """The events of everything as it is now (start-up)."""
        events: list[EngineEvent] = []
        states = self.hass.states
        for entity_id in self._household.watched:
            if (state := states.get(entity_id)) is not None:
                events += self.changed(entity_id, None, state, now)
        for battery, entity_id in self.battery_of.items():
            if (state := states.get(battery)) is not None:
                events.append(
                    Battery(entity_id=entity_id, percent=finite_float(state.state))
                )
        events += [self.zone_bits(entity_id) for entity_id in self.siblings]
        for seen, entity_id in self.heard_of.items():
            if (state := states.get(seen)) is not None:
                events.append(Heard(entity_id=entity_id, at=aware(state.state)))
        presence = self._household.presence_entity
        if presence is not None:
            events.append(self._presence(states.get(presence)))
        return events

    def stop(self) -> None:
        """Unsubscribe."""
        for unsub in self.unsubs:
            unsub()
        self.unsubs.clear()

    # -------------------------------------------------------------- translating
    def changed(
        self, entity_id: str, old: State | None, new: State | None, now: datetime
    ) -> list[EngineEvent]:
        """The events of one watched entity's state change."""
        household = self._household
        if new is None:  # entity removed
            return [SensorChange(entity_id=entity_id, old=None, new=None, since=now)]
        zigbee = household.zigbee
        if zigbee.is_pending(entity_id):
            zigbee.attach(entity_id)
        zone_status = new.attributes.get(ZONE_STATUS_ATTR)
        if not isinstance(zone_status, int):
            zone_status = zigbee.zone_status(entity_id)
        sensors = household.core.sensors
        smoke = entity_id in sensors.fire
        change = SensorChange(
            entity_id=entity_id,
            old=old.state if old is not None else None,
            new=new.state,
            # At start-up (no old state) the current state is replayed from when
            # it began, so a sensor that was already offline is caught.
            since=now if old is not None else min(new.last_changed, now),
            zone_status=zone_status,
            device_dropout=self._device_dropout(new),
            door_class=new.attributes.get(ATTR_DEVICE_CLASS) in DOOR_CLASSES,
            celsius=_celsius(new) if entity_id in sensors.temperature else None,
            test_active=smoke and household.lookup.test_active(entity_id),
            has_test_entity=smoke and bool(household.lookup.test_siblings(entity_id)),
        )
        if entity_id in self.siblings:
            return [change, self.zone_bits(entity_id)]
        return [change]

    def zone_bits(self, entity_id: str) -> ZoneBits:
        """The device's health bits from every source there is."""
        status = self._household.zigbee.zone_status(entity_id)
        if siblings := self.siblings.get(entity_id):
            status = (status or 0) | sibling_status(self.hass, siblings)
        return ZoneBits(entity_id=entity_id, status=status)

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

    @staticmethod
    def _presence(state: State | None) -> Presence:
        """The presence entity's state (removed or unavailable: no information)."""
        return Presence(state=None if state is None else state.state)

    # ---------------------------------------------------------------- listeners
    @callback
    def _async_watched_changed(self, event: Event) -> None:
        now = dt_util.utcnow()
        self._household.handle(
            self.changed(
                event.data["entity_id"],
                event.data.get("old_state"),
                event.data["new_state"],
                now,
            ),
            now,
        )

    @callback
    def _async_presence_changed(self, event: Event) -> None:
        self._household.handle([self._presence(event.data.get("new_state"))])

    @callback
    def _async_battery_changed(self, event: Event) -> None:
        events: list[EngineEvent] = []
        if (state := event.data.get("new_state")) is not None:
            events.append(
                Battery(
                    entity_id=self.battery_of[event.data["entity_id"]],
                    percent=finite_float(state.state),
                )
            )
        self._household.handle(events, tick=True)

    @callback
    def _async_sibling_changed(self, event: Event) -> None:
        self._household.handle(
            [
                self.zone_bits(entity_id)
                for entity_id, siblings in self.siblings.items()
                if event.data["entity_id"] in siblings
            ],
            tick=True,
        )

    @callback
    def _async_heard(self, event: Event) -> None:
        """The stack's last-seen time of a watched sensor's device moved."""
        events: list[EngineEvent] = []
        if (state := event.data.get("new_state")) is not None:
            events.append(
                Heard(
                    entity_id=self.heard_of[event.data["entity_id"]],
                    at=aware(state.state),
                )
            )
        self._household.handle(events, tick=True)

    @callback
    def async_zone_status(self, entity_id: str, status: int) -> None:
        """A ZoneStatus the Zigbee stack received (from a report, read or command)."""
        self._household.handle(
            [self.zone_bits(entity_id), ZoneReport(entity_id=entity_id, status=status)]
        )


def _celsius(state: State) -> float | None:
    """A temperature sensor's reading in °C (None: not a number)."""
    value = finite_float(state.state)
    if value is None:
        # The samples are kept: the rate of rise is measured over time within a
        # bounded window, so a reading after a short dropout still counts.
        return None
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit in (UnitOfTemperature.FAHRENHEIT, UnitOfTemperature.KELVIN):
        return float(
            TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS)
        )
    return value
