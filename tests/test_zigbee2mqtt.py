"""Zigbee2MQTT end to end: a real Mosquitto broker and Home Assistant's real MQTT integration.

A small Zigbee2MQTT stand-in publishes what Zigbee2MQTT publishes for three Aqara/
HEIMAN sensors (retained Home Assistant discovery, bridge state, device availability,
JSON device states); Home Assistant's MQTT integration, connected to the broker,
creates the entities from that discovery; a Silver Bell household watches them.
Nothing about MQTT is mocked.

The discovery payloads follow Zigbee2MQTT's ``lib/extension/homeassistant.ts``
(``discover()`` and the binary/numeric expose mapping): for Home Assistant 2024.3
the shape of Zigbee2MQTT 1.36 (its contemporary: ``object_id``,
``json_attributes_topic`` from the default ``legacy_entity_attributes``, model
"description (model)"), for Home Assistant 2025.10+ the shape of Zigbee2MQTT 2.x
(``default_entity_id``, ``model_id``, no attributes topic). Each device
publishes its whole state on every report, as Zigbee2MQTT does from its state cache.

Time: the MQTT integration waits on timers (subscribe debouncing) and its
keep-alive reads the clock, so the broker connection, discovery and subscriptions
happen while time runs; the clock is frozen only afterwards (``clock`` fixture),
in one jump, and the client's keep-alive is long enough that stepping the frozen
clock for hours never makes it ping twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import gc
import json
import time
from typing import Any
import uuid

from awesomeversion import AwesomeVersion
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    __version__ as HA_VERSION,
)
from homeassistant.core import Event, HassJob, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.silver_bell.const import (
    CONF_ACTIVITY_SENSORS,
    CONF_FIRE_SENSORS,
    CONF_NAME,
    CONF_ROLE,
    CONF_TEMPERATURE_SENSORS,
    EVENT_INCIDENT,
    ROLE_HOUSEHOLD,
)
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.household.runtime import Household

from . import mqtt_broker
from .common import advance, device_by_identifier, eid, setup_household

STATUS = eid("sensor", "status")
OPEN = eid("sensor", "open_incident")
LAST_ACTIVITY = eid("sensor", "last_activity")
TIME_WITHOUT_ACTIVITY = eid("sensor", "time_without_activity")
FIRE = eid("binary_sensor", "fire_alarm")
TEMP_RISK = eid("binary_sensor", "temperature_risk")
PROBLEM = eid("binary_sensor", "sensor_problem")

TIME_ZONE = "Asia/Shanghai"
# The newest MQTT discovery schema (default_entity_id, device model_id) arrived in
# Home Assistant 2025.10; Zigbee2MQTT 2.x publishes it, 1.x did not.
ZIGBEE2MQTT_2 = AwesomeVersion(HA_VERSION) >= AwesomeVersion("2025.10.0")
Z2M_VERSION = "2.6.0" if ZIGBEE2MQTT_2 else "1.36.0"
BRIDGE_IEEE = "0x00124b0024c1f6a3"
# The MQTT keep-alive is read from the (frozen) clock; the longest MQTT allows
# means one ping after the jump into frozen time and none while tests step hours.
KEEPALIVE = 65535
TRIES = 400  # × 25 ms of real time: how long to wait for the broker round trip
NO_READING = (None, STATE_UNAVAILABLE, STATE_UNKNOWN)


# ------------------------------------------------------------------ Zigbee2MQTT
@dataclass(frozen=True, kw_only=True)
class Expose:
    """One Zigbee2MQTT expose that becomes a Home Assistant entity."""

    component: str  # binary_sensor | sensor
    name: str  # expose name = JSON property = discovery object id
    label: str
    unit: str | None = None
    lookup: dict[str, Any] = field(default_factory=dict)


def binary(name: str, label: str, **lookup: Any) -> Expose:
    """A read-only binary expose (``value_on`` true, ``value_off`` false)."""
    return Expose(component="binary_sensor", name=name, label=label, lookup=lookup)


def numeric(name: str, label: str, unit: str | None, **lookup: Any) -> Expose:
    """A read-only numeric expose."""
    return Expose(component="sensor", name=name, label=label, unit=unit, lookup=lookup)


# BINARY/NUMERIC_DISCOVERY_LOOKUP of homeassistant.ts for the exposes used here.
OCCUPANCY = binary(
    "occupancy", "Occupancy", device_class="occupancy" if ZIGBEE2MQTT_2 else "motion"
)
SMOKE = binary("smoke", "Smoke", device_class="smoke")
BATTERY_LOW = binary(
    "battery_low", "Battery low", device_class="battery", entity_category="diagnostic"
)
TAMPER = binary("tamper", "Tamper", device_class="tamper")
TEST = binary("test", "Test", entity_category="diagnostic", icon="mdi:test-tube")
BATTERY = numeric(
    "battery",
    "Battery",
    "%",
    device_class="battery",
    state_class="measurement",
    **({} if ZIGBEE2MQTT_2 else {"entity_category": "diagnostic"}),
)
TEMPERATURE = numeric(
    "temperature",
    "Temperature",
    "°C",
    device_class="temperature",
    state_class="measurement",
)
HUMIDITY = numeric(
    "humidity", "Humidity", "%", device_class="humidity", state_class="measurement"
)
LINKQUALITY = numeric(
    "linkquality",
    "Linkquality",
    "lqi",
    enabled_by_default=False,
    entity_category="diagnostic",
    icon="mdi:signal",
    state_class="measurement",
)
# advanced.last_seen: ISO_8601 (the sensor is disabled by default, as Zigbee2MQTT does)
LAST_SEEN = numeric(
    "last_seen",
    "Last seen",
    None,
    device_class="timestamp",
    enabled_by_default=False,
    entity_category="diagnostic",
    icon="mdi:clock",
)


@dataclass(frozen=True, kw_only=True)
class Device:
    """A paired Zigbee device as Zigbee2MQTT describes it."""

    ieee: str
    friendly_name: str
    model: str
    vendor: str
    description: str
    exposes: tuple[Expose, ...]
    initial: dict[str, Any]

    @property
    def snake(self) -> str:
        """The object id prefix Zigbee2MQTT derives from the friendly name."""
        return self.friendly_name.replace(" ", "_").lower()


MOTION_SENSOR = Device(
    ieee="0x00158d0002c7a1b2",
    friendly_name="Hallway motion",
    model="RTCGQ11LM",
    vendor="Aqara",
    description="Motion sensor",
    exposes=(OCCUPANCY, BATTERY, LINKQUALITY, LAST_SEEN),
    initial={"occupancy": False, "battery": 100, "voltage": 3025, "linkquality": 120},
)
# An IAS Zone smoke detector in the style of HEIMAN's HS1SA (which Zigbee2MQTT
# exposes as smoke, battery_low and battery), with the ``tamper`` and ``test``
# binary exposes Zigbee2MQTT adds for detectors that report those ZoneStatus bits.
SMOKE_DETECTOR = Device(
    ieee="0x0015bc001a0244f5",
    friendly_name="Kitchen smoke detector",
    model="HS1SA",
    vendor="HEIMAN",
    description="Smoke detector",
    exposes=(SMOKE, BATTERY_LOW, TAMPER, TEST, BATTERY, LINKQUALITY, LAST_SEEN),
    initial={
        "smoke": False,
        "battery_low": False,
        "tamper": False,
        "test": False,
        "battery": 100,
        "linkquality": 96,
    },
)
CLIMATE_SENSOR = Device(
    ieee="0x00158d00045d3e1c",
    friendly_name="Bedroom climate",
    model="WSDCGQ11LM",
    vendor="Aqara",
    description="Temperature, humidity and pressure sensor",
    exposes=(TEMPERATURE, HUMIDITY, BATTERY, LINKQUALITY, LAST_SEEN),
    initial={
        "temperature": 21.5,
        "humidity": 45.2,
        "pressure": 1012.4,
        "battery": 100,
        "voltage": 3005,
        "linkquality": 102,
    },
)
DEVICES = (MOTION_SENSOR, SMOKE_DETECTOR, CLIMATE_SENSOR)


class Zigbee2MQTT:
    """Publishes what Zigbee2MQTT publishes, through the real broker.

    Every test gets its own ``base_topic`` and Home Assistant discovery prefix
    (both are settings of a real installation) so tests that share a broker, e.g.
    two pytest-xdist workers, never see each other's messages.
    """

    def __init__(self, hass: HomeAssistant, broker: mqtt_broker.BrokerAddress) -> None:
        """Prepare an instance with fresh topics."""
        token = uuid.uuid4().hex[:10]
        self.hass = hass
        self.broker = broker
        self.base_topic = f"zigbee2mqtt_{token}"
        self.discovery_prefix = f"homeassistant_{token}"
        self.device_states: dict[str, dict[str, Any]] = {}
        self._retained: set[str] = set()

    # --- what Zigbee2MQTT publishes -------------------------------------------
    def unique_id(self, device: Device, expose: Expose) -> str:
        """``<ieee>_<object id>_<base topic>``, as Zigbee2MQTT sets it."""
        return f"{device.ieee}_{expose.name}_{self.base_topic}"

    def discovery(self, device: Device, expose: Expose) -> tuple[str, dict[str, Any]]:
        """Topic and payload of one entity's Home Assistant discovery config."""
        state_topic = f"{self.base_topic}/{device.friendly_name}"
        payload: dict[str, Any] = {
            "name": expose.label,
            "value_template": (
                f'{{{{ value_json["{expose.name}"] }}}}'
                if ZIGBEE2MQTT_2
                else f"{{{{ value_json.{expose.name} }}}}"
            ),
        }
        if expose.component == "binary_sensor":
            payload |= {"payload_on": True, "payload_off": False}
        else:
            payload["enabled_by_default"] = True  # read-only numeric expose
            if expose.unit is not None:
                payload["unit_of_measurement"] = expose.unit
        payload |= expose.lookup
        if "device_class" in payload:
            # Zigbee2MQTT lets Home Assistant name entities after their device class.
            del payload["name"]
        payload["state_topic"] = state_topic
        if not ZIGBEE2MQTT_2:
            payload["json_attributes_topic"] = state_topic  # legacy_entity_attributes
        object_id = f"{device.snake}_{expose.name}"
        payload["object_id"] = object_id
        if ZIGBEE2MQTT_2:
            payload["default_entity_id"] = f"{expose.component}.{object_id}"
        payload["unique_id"] = self.unique_id(device, expose)
        device_info: dict[str, Any] = {
            "identifiers": [f"zigbee2mqtt_{device.ieee}"],
            "name": device.friendly_name,
            "manufacturer": device.vendor,
            "via_device": f"zigbee2mqtt_bridge_{BRIDGE_IEEE}",
        }
        if ZIGBEE2MQTT_2:
            device_info |= {"model": device.description, "model_id": device.model}
        else:
            device_info["model"] = f"{device.description} ({device.model})"
        payload["device"] = device_info
        payload["origin"] = {
            "name": "Zigbee2MQTT",
            "sw": Z2M_VERSION,
            "url": "https://www.zigbee2mqtt.io",
        }
        payload["availability"] = [
            {
                "topic": f"{self.base_topic}/bridge/state",
                "value_template": "{{ value_json.state }}",
            },
            {
                "topic": f"{state_topic}/availability",
                "value_template": "{{ value_json.state }}",
            },
        ]
        payload["availability_mode"] = "all"
        topic = f"{self.discovery_prefix}/{expose.component}/{device.ieee}/{expose.name}/config"
        return topic, payload

    # --- publishing -------------------------------------------------------------
    async def publish(self, *messages: tuple[str, Any, bool]) -> None:
        """Publish (topic, JSON payload or "", retain) in order, each acknowledged."""
        encoded = [
            (
                topic,
                payload if isinstance(payload, str) else json.dumps(payload),
                retain,
            )
            for topic, payload, retain in messages
        ]
        await self.hass.async_add_executor_job(
            mqtt_broker.publish, self.broker, encoded
        )
        self._retained.update(topic for topic, payload, retain in encoded if retain)

    async def start(self) -> None:
        """Bridge online, discovery of every device (retained), devices online."""
        await self.publish(
            (f"{self.base_topic}/bridge/state", {"state": "online"}, True)
        )
        await self.publish(
            *(
                (*self.discovery(device, expose), True)
                for device in DEVICES
                for expose in device.exposes
            )
        )
        for device in DEVICES:
            self.device_states[device.ieee] = dict(device.initial)
            await self.set_availability(device, online=True)

    async def report(self, device: Device, **changes: Any) -> None:
        """The device reports: Zigbee2MQTT publishes its whole cached state."""
        state = self.device_states[device.ieee]
        state.update(changes)
        state["last_seen"] = dt_util.utcnow().isoformat(timespec="milliseconds")
        await self.publish((f"{self.base_topic}/{device.friendly_name}", state, False))

    async def set_availability(self, device: Device, *, online: bool) -> None:
        """Zigbee2MQTT's availability feature marks the device online/offline."""
        await self.publish(
            (
                f"{self.base_topic}/{device.friendly_name}/availability",
                {"state": "online" if online else "offline"},
                True,
            )
        )

    async def clear_retained(self) -> None:
        """Remove what this instance left retained on the broker."""
        topics = sorted(self._retained)
        await self.publish(*((topic, "", True) for topic in topics))
        self._retained.clear()


def _nothing() -> None:
    """A job that is never run."""


# ---------------------------------------------------------------- waiting helpers
async def poll(
    hass: HomeAssistant, condition: Callable[[], bool], tries: int = TRIES
) -> bool:
    """Let Home Assistant run until ``condition`` holds; False after ``tries``.

    The broker is real, so this waits in real time: in the executor, because the
    frozen clock stops asyncio's timers. Broker messages are processed meanwhile.
    """
    for _ in range(tries):
        await hass.async_block_till_done()
        if condition():
            # The message may have landed after the wait above: let the listeners
            # it woke (2024.3 runs state-change listeners a loop iteration later)
            # finish before the test looks at Silver Bell.
            await hass.async_block_till_done()
            return True
        await hass.async_add_executor_job(time.sleep, 0.025)
    return False


async def wait_for(
    hass: HomeAssistant, condition: Callable[[], bool], what: str
) -> None:
    """Wait until ``condition`` holds; fail the test after about ten seconds."""
    if not await poll(hass, condition):
        pytest.fail(f"timed out waiting for {what}")


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The entity's state, None when it has none."""
    state = hass.states.get(entity_id)
    return None if state is None else state.state


async def wait_for_state(
    hass: HomeAssistant, entity_id: str, expected: str | Callable[[str | None], bool]
) -> None:
    """Wait until ``entity_id`` has the expected state (or satisfies a predicate)."""

    def reached() -> bool:
        current = state_of(hass, entity_id)
        return expected(current) if callable(expected) else current == expected

    await wait_for(hass, reached, f"{entity_id} to become {expected}")


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


# ---------------------------------------------------------------------- fixtures
@pytest.fixture
def broker(socket_enabled: None) -> Iterator[mqtt_broker.BrokerAddress]:
    """The run's broker (SILVER_BELL_MQTT_BROKER), else one started for this test.

    ``socket_enabled`` lifts the harness's socket ban; its host list still allows
    127.0.0.1 only.
    """
    with mqtt_broker.broker_for_tests() as address:
        yield address


@pytest.fixture
def written_first() -> Expose | None:
    """The detector entity Home Assistant must write first (tests parametrize it)."""
    return None


@dataclass
class Zigbee:
    """The Zigbee2MQTT stand-in and the entity ids Home Assistant gave its exposes."""

    hass: HomeAssistant
    bridge: Zigbee2MQTT
    mqtt_entry_id: str
    entity_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    _ballast: list[HassJob[[], None]] = field(default_factory=list)

    def entity(self, device: Device, expose: Expose) -> str:
        """Entity id of ``device``'s ``expose``."""
        return self.entity_ids[(device.ieee, expose.name)]

    def _registered(self, device: Device, expose: Expose) -> str | None:
        return er.async_get(self.hass).async_get_entity_id(
            expose.component, "mqtt", self.bridge.unique_id(device, expose)
        )

    async def until_discovered(self) -> None:
        """Wait until Home Assistant has an entity for every expose."""

        def discovered() -> bool:
            for device in DEVICES:
                for expose in device.exposes:
                    if (entity_id := self._registered(device, expose)) is None:
                        return False
                    self.entity_ids[(device.ieee, expose.name)] = entity_id
            return True

        await wait_for(
            self.hass, discovered, "MQTT discovery of the Zigbee2MQTT devices"
        )

    async def until_reporting(self) -> None:
        """Republish the devices' states until every enabled entity shows them.

        Device states are not retained: a report before Home Assistant has
        subscribed is lost. Zigbee2MQTT republishes its state cache when Home
        Assistant comes online; the stand-in republishes until it is heard.
        """
        registry = er.async_get(self.hass)

        def reporting() -> bool:
            for entity_id in self.entity_ids.values():
                entry = registry.async_get(entity_id)
                if entry is not None and entry.disabled_by is None:
                    if state_of(self.hass, entity_id) in NO_READING:
                        return False
            return True

        for _attempt in range(20):
            for device in DEVICES:
                await self.bridge.report(device)
            if await poll(self.hass, reporting, tries=20):
                return
        pytest.fail("the devices' state reports never reached Home Assistant")

    async def rediscover(self, device: Device, expose: Expose) -> None:
        """Zigbee2MQTT removes and publishes again one entity's discovery config."""
        entity_id = self.entity(device, expose)
        topic, payload = self.bridge.discovery(device, expose)
        await self.bridge.publish((topic, "", True))
        await wait_for(
            self.hass,
            lambda: self._registered(device, expose) is None,
            f"{entity_id} to be removed",
        )
        # Occupy the memory the removed entity's jobs leave free, so the new
        # subscription's job gets a new address (see write_first).
        gc.collect()
        self._ballast.extend(HassJob(_nothing) for _ in range(64))
        await self.bridge.publish((topic, payload, True))
        await self.until_discovered()
        assert self.entity(device, expose) == entity_id
        await self.until_reporting()

    async def write_order(self) -> list[str]:
        """Which of the detector's smoke and test entities one message updates first."""
        watched = {
            self.entity(SMOKE_DETECTOR, SMOKE),
            self.entity(SMOKE_DETECTOR, TEST),
        }
        order: list[str] = []

        @callback
        def record(event: Event) -> None:
            if event.data["entity_id"] in watched:
                order.append(event.data["entity_id"])

        def both(wanted: str) -> Callable[[], bool]:
            return lambda: all(state_of(self.hass, item) == wanted for item in watched)

        unsubscribe = self.hass.bus.async_listen(EVENT_STATE_CHANGED, record)
        try:
            await self.bridge.report(SMOKE_DETECTOR, smoke=True, test=True)
            await wait_for(self.hass, both(STATE_ON), "smoke and test on")
            await self.bridge.report(SMOKE_DETECTOR, smoke=False, test=False)
            await wait_for(self.hass, both(STATE_OFF), "smoke and test off")
        finally:
            unsubscribe()
        return order[:2]

    async def write_first(self, first: Expose) -> None:
        """Make Home Assistant write ``first`` before the other of smoke and test.

        Entities updated by one message are written in an order that follows their
        subscriptions: on 2024.3 the entity subscribed last is written first (one
        rediscovery of ``first`` settles it); newer releases keep a topic's
        subscriptions in a set, ordered by the hash of each subscription's job,
        i.e. by an address, so each rediscovery (of either entity) draws the order
        anew until it holds.
        """
        wanted = self.entity(SMOKE_DETECTOR, first)
        other = TEST if first is SMOKE else SMOKE
        for attempt in range(40):
            if (await self.write_order())[0] == wanted:
                return
            await self.rediscover(SMOKE_DETECTOR, other if attempt % 2 else first)
        pytest.fail(f"could not make Home Assistant write {wanted} first")


@pytest.fixture
async def zigbee(
    hass: HomeAssistant,
    mock_hass_config: None,
    broker: mqtt_broker.BrokerAddress,
    written_first: Expose | None,
) -> AsyncIterator[Zigbee]:
    """Home Assistant's MQTT integration on the broker, with the devices discovered.

    ``mock_hass_config`` stands in for configuration.yaml (there is none in tests;
    the MQTT integration reads it for YAML-configured entities).
    """
    bridge = Zigbee2MQTT(hass, broker)
    mqtt_entry = MockConfigEntry(
        domain="mqtt",
        title=str(broker),
        data={
            "broker": broker.host,
            "port": broker.port,
            "keepalive": KEEPALIVE,
            "discovery": True,
            "discovery_prefix": bridge.discovery_prefix,
            # No birth/will: nothing else on a shared broker hears this instance.
            "birth_message": {},
            "will_message": {},
        },
    )
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    await hass.async_block_till_done()
    zigbee = Zigbee(hass, bridge, mqtt_entry.entry_id)
    try:
        await bridge.start()
        await zigbee.until_discovered()
        await zigbee.until_reporting()
        if written_first is not None:
            await zigbee.write_first(written_first)
        yield zigbee
    finally:
        assert await hass.config_entries.async_unload(mqtt_entry.entry_id)
        await hass.async_block_till_done()
        await bridge.clear_retained()


def _next_local_morning() -> datetime:
    """08:00 in Shanghai, tomorrow or later: the frozen clock only ever jumps ahead."""
    zone = dt_util.get_time_zone(TIME_ZONE)
    assert zone is not None
    morning = (dt_util.now(zone) + timedelta(days=1)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    return dt_util.as_utc(morning)


@pytest.fixture
def clock(zigbee: Zigbee) -> Iterator[FrozenDateTimeFactory]:
    """A frozen clock, started once MQTT has connected and discovered everything."""
    with freeze_time(_next_local_morning()) as frozen:
        assert isinstance(frozen, FrozenDateTimeFactory)
        yield frozen


@pytest.fixture
async def household(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    zigbee: Zigbee,
    clock: FrozenDateTimeFactory,
) -> AsyncIterator[Household]:
    """Grandma Li's household watching the Zigbee2MQTT entities."""
    hass.config_entries.async_update_entry(
        household_entry,
        data={
            CONF_ROLE: ROLE_HOUSEHOLD,
            CONF_NAME: "Grandma Li",
            CONF_ACTIVITY_SENSORS: [zigbee.entity(MOTION_SENSOR, OCCUPANCY)],
            CONF_FIRE_SENSORS: [zigbee.entity(SMOKE_DETECTOR, SMOKE)],
            CONF_TEMPERATURE_SENSORS: [zigbee.entity(CLIMATE_SENSOR, TEMPERATURE)],
        },
    )
    await setup_household(hass, household_entry, clock, start=None)
    runtime: Household = household_entry.runtime_data
    assert _state(hass, STATUS) == "ok"
    assert _state(hass, OPEN) == "none"
    yield runtime
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()


# ------------------------------------------------------------------------- tests
async def test_discovery_is_what_zigbee2mqtt_publishes(
    hass: HomeAssistant, zigbee: Zigbee
) -> None:
    """The MQTT integration made devices and entities from the discovery configs."""
    entities = er.async_get(hass)
    for device in DEVICES:
        entry = device_by_identifier(
            hass, ("mqtt", f"zigbee2mqtt_{device.ieee}"), zigbee.mqtt_entry_id
        )
        assert entry is not None, device.friendly_name
        assert entry.name == device.friendly_name
        assert entry.manufacturer == device.vendor
        assert device.model in str(entry.model) + str(getattr(entry, "model_id", ""))
        for expose in device.exposes:
            entity = entities.async_get(zigbee.entity(device, expose))
            assert entity is not None
            assert entity.device_id == entry.id
            assert (
                entity.entity_id == f"{expose.component}.{device.snake}_{expose.name}"
            )
    linkquality = entities.async_get(zigbee.entity(SMOKE_DETECTOR, LINKQUALITY))
    assert linkquality is not None
    assert linkquality.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert str(linkquality.entity_category) == "diagnostic"
    assert hass.states.get(zigbee.entity(SMOKE_DETECTOR, LAST_SEEN)) is None
    smoke = hass.states.get(zigbee.entity(SMOKE_DETECTOR, SMOKE))
    assert smoke is not None
    assert smoke.state == STATE_OFF
    assert smoke.attributes["device_class"] == "smoke"
    if not ZIGBEE2MQTT_2:  # legacy_entity_attributes: the device's JSON as attributes
        assert smoke.attributes["linkquality"] == 96
    temperature = hass.states.get(zigbee.entity(CLIMATE_SENSOR, TEMPERATURE))
    assert temperature is not None
    assert temperature.state == "21.5"
    assert temperature.attributes["unit_of_measurement"] == "°C"


async def test_motion_is_activity(
    hass: HomeAssistant,
    zigbee: Zigbee,
    clock: FrozenDateTimeFactory,
    household: Household,
) -> None:
    """``{"occupancy": true}`` is a sign of life: last activity and its sensor move."""
    occupancy = zigbee.entity(MOTION_SENSOR, OCCUPANCY)
    started = household.last_activity
    await advance(hass, clock, timedelta(minutes=42))
    assert _state(hass, TIME_WITHOUT_ACTIVITY) == "42 min"

    await zigbee.bridge.report(MOTION_SENSOR, occupancy=True)
    await wait_for_state(hass, occupancy, STATE_ON)
    now = dt_util.utcnow()
    assert household.last_activity == now > started
    assert household.last_activity_sensor == occupancy
    last = hass.states.get(LAST_ACTIVITY)
    assert last is not None
    assert dt_util.parse_datetime(last.state) == now
    assert last.attributes["sensor"] == occupancy
    assert _state(hass, TIME_WITHOUT_ACTIVITY) == "0 min"

    # Occupancy clearing (Zigbee2MQTT's occupancy_timeout) is not another sign of life.
    await advance(hass, clock, timedelta(minutes=1, seconds=30))
    await zigbee.bridge.report(MOTION_SENSOR, occupancy=False)
    await wait_for_state(hass, occupancy, STATE_OFF)
    assert household.last_activity == now


async def test_smoke_opens_a_fire_incident_that_people_close(
    hass: HomeAssistant, zigbee: Zigbee, household: Household
) -> None:
    """``{"smoke": true}`` opens a red fire incident; ``false`` does not close it."""
    smoke = zigbee.entity(SMOKE_DETECTOR, SMOKE)
    await zigbee.bridge.report(SMOKE_DETECTOR, smoke=True)
    await wait_for_state(hass, smoke, STATE_ON)
    assert _state(hass, FIRE) == STATE_ON
    assert _state(hass, STATUS) == "alarm"
    assert _state(hass, OPEN) == "fire"
    open_incident = hass.states.get(OPEN)
    assert open_incident is not None
    assert open_incident.attributes["colour"] == "red"
    fire = household.book.active_of(IncidentKind.FIRE)
    assert fire is not None
    assert fire.details == {"sensor": smoke, "reason": "smoke"}

    await zigbee.bridge.report(SMOKE_DETECTOR, smoke=False)
    await wait_for_state(hass, smoke, STATE_OFF)
    assert _state(hass, FIRE) == STATE_ON
    assert household.book.active_of(IncidentKind.FIRE) is fire
    assert fire.state is IncidentState.OPEN


@pytest.mark.parametrize(
    "written_first",
    [
        pytest.param(TEST, id="test_entity_written_first"),
        # Newer releases run Silver Bell's listener between the two writes.
        pytest.param(SMOKE, id="smoke_entity_written_first"),
    ],
)
async def test_detector_test_is_a_test_not_a_fire(
    hass: HomeAssistant,
    zigbee: Zigbee,
    household: Household,
    written_first: Expose,
) -> None:
    """The test button: one message ``{"smoke": true, "test": true}``, never a fire.

    Both entities change with that one message, and Home Assistant writes them one
    after the other; whichever comes first, the alarm must be judged as a test.
    """
    events = async_capture_events(hass, EVENT_INCIDENT)
    smoke = zigbee.entity(SMOKE_DETECTOR, SMOKE)
    test = zigbee.entity(SMOKE_DETECTOR, TEST)
    await zigbee.bridge.report(SMOKE_DETECTOR, smoke=True, test=True)
    await wait_for(
        hass,
        lambda: state_of(hass, smoke) == STATE_ON and state_of(hass, test) == STATE_ON,
        "smoke and test on",
    )
    await zigbee.bridge.report(SMOKE_DETECTOR, smoke=False, test=False)
    await wait_for(
        hass,
        lambda: (
            state_of(hass, smoke) == STATE_OFF and state_of(hass, test) == STATE_OFF
        ),
        "smoke and test off",
    )

    assert household.book.active_of(IncidentKind.FIRE) is None
    assert {event.data["incident"]["kind"] for event in events} == {"test"}
    incident = household.book.active_of(IncidentKind.TEST)
    assert incident is not None
    assert incident.test
    assert incident.details == {"sensor": smoke, "reason": "detector_test"}
    assert _state(hass, FIRE) == STATE_OFF
    assert _state(hass, OPEN) == "test"
    assert _state(hass, STATUS) == "ok"


def _fault_problems(household: Household) -> dict[str, list[str]]:
    incident = household.book.active_of(IncidentKind.SENSOR_FAULT)
    assert incident is not None
    sensors = incident.details["sensors"]
    assert isinstance(sensors, dict)
    return sensors


async def test_tamper_is_a_sensor_fault_until_cleared(
    hass: HomeAssistant, zigbee: Zigbee, household: Household
) -> None:
    """``{"tamper": true}``: a sensor fault that names the detector and its device."""
    smoke = zigbee.entity(SMOKE_DETECTOR, SMOKE)
    tamper = zigbee.entity(SMOKE_DETECTOR, TAMPER)
    await zigbee.bridge.report(SMOKE_DETECTOR, tamper=True)
    await wait_for_state(hass, tamper, STATE_ON)

    assert _state(hass, PROBLEM) == STATE_ON
    incident = household.book.active_of(IncidentKind.SENSOR_FAULT)
    assert incident is not None
    assert incident.details["sensors"] == {smoke: ["tamper"]}
    assert incident.details["devices"] == {smoke: SMOKE_DETECTOR.friendly_name}
    assert household.book.active_of(IncidentKind.FIRE) is None
    assert _state(hass, FIRE) == STATE_OFF

    await zigbee.bridge.report(SMOKE_DETECTOR, tamper=False)
    await wait_for_state(hass, tamper, STATE_OFF)
    assert _state(hass, PROBLEM) == STATE_OFF
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None
    assert incident.state is IncidentState.RESOLVED


async def test_low_battery_of_the_motion_sensor(
    hass: HomeAssistant, zigbee: Zigbee, household: Household
) -> None:
    """The device's battery sensor below 15 %: a ``battery_low`` sensor fault."""
    occupancy = zigbee.entity(MOTION_SENSOR, OCCUPANCY)
    battery = zigbee.entity(MOTION_SENSOR, BATTERY)
    await zigbee.bridge.report(MOTION_SENSOR, battery=16)
    await wait_for_state(hass, battery, "16")
    assert _state(hass, PROBLEM) == STATE_OFF

    await zigbee.bridge.report(MOTION_SENSOR, battery=12, voltage=2750)
    await wait_for_state(hass, battery, "12")
    assert _state(hass, PROBLEM) == STATE_ON
    problem = hass.states.get(PROBLEM)
    assert problem is not None
    assert problem.attributes["problems"] == {occupancy: ["battery_low"]}
    assert _fault_problems(household) == {occupancy: ["battery_low"]}

    # A new battery.
    await zigbee.bridge.report(MOTION_SENSOR, battery=100, voltage=3100)
    await wait_for_state(hass, battery, "100")
    assert _state(hass, PROBLEM) == STATE_OFF
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None


async def test_battery_low_flag_of_the_smoke_detector(
    hass: HomeAssistant, zigbee: Zigbee, household: Household
) -> None:
    """The IAS detector's ``battery_low`` flag (its own binary sensor) is a fault too."""
    smoke = zigbee.entity(SMOKE_DETECTOR, SMOKE)
    battery_low = zigbee.entity(SMOKE_DETECTOR, BATTERY_LOW)
    await zigbee.bridge.report(SMOKE_DETECTOR, battery_low=True)
    await wait_for_state(hass, battery_low, STATE_ON)
    assert _state(hass, PROBLEM) == STATE_ON
    assert _fault_problems(household) == {smoke: ["battery_low"]}
    assert household.book.active_of(IncidentKind.FIRE) is None

    await zigbee.bridge.report(SMOKE_DETECTOR, battery_low=False)
    await wait_for_state(hass, battery_low, STATE_OFF)
    assert _state(hass, PROBLEM) == STATE_OFF


async def test_offline_devices_are_a_fault_never_activity_or_fire(
    hass: HomeAssistant,
    zigbee: Zigbee,
    clock: FrozenDateTimeFactory,
    household: Household,
) -> None:
    """Availability ``offline``: entities unavailable, after 30 min a sensor fault.

    Coming back, Zigbee2MQTT republishes its cached state; the motion sensor was
    occupied when it dropped out, and that replay is not a new sign of life.
    """
    occupancy = zigbee.entity(MOTION_SENSOR, OCCUPANCY)
    watched = [
        occupancy,
        zigbee.entity(SMOKE_DETECTOR, SMOKE),
        zigbee.entity(CLIMATE_SENSOR, TEMPERATURE),
    ]
    await zigbee.bridge.report(MOTION_SENSOR, occupancy=True)
    await wait_for_state(hass, occupancy, STATE_ON)
    last_activity = household.last_activity
    assert household.last_activity_sensor == occupancy
    await advance(hass, clock, timedelta(minutes=1))
    for device in DEVICES:
        await zigbee.bridge.set_availability(device, online=False)
    for entity_id in watched:
        await wait_for_state(hass, entity_id, STATE_UNAVAILABLE)

    await advance(hass, clock, timedelta(minutes=29))
    assert _state(hass, PROBLEM) == STATE_OFF
    await advance(hass, clock, timedelta(minutes=2))
    assert _state(hass, PROBLEM) == STATE_ON
    problem = hass.states.get(PROBLEM)
    assert problem is not None
    assert problem.attributes["faulty_sensors"] == sorted(watched)
    assert _fault_problems(household) == {
        entity_id: ["unavailable"] for entity_id in sorted(watched)
    }
    assert household.last_activity == last_activity
    assert household.book.active_of(IncidentKind.FIRE) is None
    assert _state(hass, FIRE) == STATE_OFF

    # Back online: Zigbee2MQTT republishes the cached state (occupied, no smoke).
    for device in DEVICES:
        await zigbee.bridge.set_availability(device, online=True)
        await zigbee.bridge.report(device)
    for entity_id in watched:
        await wait_for_state(
            hass, entity_id, lambda state: state not in (None, STATE_UNAVAILABLE)
        )
    assert _state(hass, occupancy) == STATE_ON
    assert _state(hass, PROBLEM) == STATE_OFF
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None
    assert household.last_activity == last_activity
    assert household.book.active_of(IncidentKind.FIRE) is None


async def test_cold_bedroom_raises_a_cold_incident(
    hass: HomeAssistant,
    zigbee: Zigbee,
    clock: FrozenDateTimeFactory,
    household: Household,
) -> None:
    """A JSON temperature report reaches the temperature monitor: 2 h below 16 °C."""
    temperature = zigbee.entity(CLIMATE_SENSOR, TEMPERATURE)
    await zigbee.bridge.report(CLIMATE_SENSOR, temperature=14.5, humidity=51.0)
    await wait_for_state(hass, temperature, "14.5")
    await zigbee.bridge.report(MOTION_SENSOR, occupancy=True)
    await wait_for_state(hass, zigbee.entity(MOTION_SENSOR, OCCUPANCY), STATE_ON)

    await advance(hass, clock, timedelta(hours=1, minutes=59))
    assert _state(hass, TEMP_RISK) == STATE_OFF
    await advance(hass, clock, timedelta(minutes=2))
    assert _state(hass, TEMP_RISK) == STATE_ON
    risk = hass.states.get(TEMP_RISK)
    assert risk is not None
    assert risk.attributes["risks"] == ["cold"]
    assert _state(hass, OPEN) == "cold"
    cold = household.book.active_of(IncidentKind.COLD)
    assert cold is not None
    assert cold.details == {"sensors": [temperature]}

    await zigbee.bridge.report(CLIMATE_SENSOR, temperature=19.0)
    await wait_for_state(hass, temperature, "19.0")
    assert _state(hass, TEMP_RISK) == STATE_OFF
    assert household.book.active_of(IncidentKind.COLD) is None
    assert _state(hass, temperature) not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
