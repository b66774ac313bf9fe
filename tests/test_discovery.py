"""Sensor suggestions from the household's area, and the "new sensor" repair.

The pure decision (``roles.py``) and the zigpy reading (``monitor.zigbee``) are
tested directly; the config flow and the repair against Home Assistant's real
device, entity, area and issue registries. ZHA devices are real zigpy devices
(real clusters, zone types in the attribute cache) handed to discovery in place of
a running ZHA.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components.repairs import ConfirmRepairFlow, repairs_flow_manager
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol
import zigpy.device
import zigpy.types as zt
from zigpy.zcl.clusters.general import PowerConfiguration
from zigpy.zcl.clusters.measurement import OccupancySensing, TemperatureMeasurement
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell import repairs
from custom_components.silver_bell.const import (
    CONF_ACTIVITY_SENSORS,
    CONF_AREA,
    CONF_DOOR_SENSOR,
    CONF_FIRE_SENSORS,
    CONF_HELP_BUTTONS,
    CONF_KNOWN_DEVICES,
    CONF_NAME,
    CONF_ROLE,
    CONF_TEMPERATURE_SENSORS,
    DOMAIN,
    ROLE_HOUSEHOLD,
)
from custom_components.silver_bell.core.monitor import zigbee
from custom_components.silver_bell.core.monitor.zigbee import (
    KIND_ACTIVITY,
    KIND_DOOR,
    KIND_FIRE,
    KIND_HELP,
    KIND_TEMPERATURE,
)
from custom_components.silver_bell.core.roles import AreaDevice, AreaEntity, suggest
from custom_components.silver_bell.household import discovery
from custom_components.silver_bell.household.discovery import (
    NOTHING,
    async_discover,
    new_sensor_issue_id,
)

from .common import setup_household
from .conftest import HOUSEHOLD_DATA, MOTION_KITCHEN

ZT = IasZone.ZoneType
IAS = IasZone.cluster_id
ZONE_TYPE_ID = IasZone.AttributeDefs.zone_type.id


# -- zigpy devices ---------------------------------------------------------------


def zigpy_device(
    ieee: str, *clusters: int | tuple[int, Any], endpoint_id: int = 1
) -> zigpy.device.Device:
    """A real zigpy device with one endpoint holding these input clusters.

    A cluster given as ``(IAS Zone id, zone type)`` gets the zone type in its
    attribute cache, as ZHA leaves it after the interview.
    """
    application = MagicMock()
    application._dblistener = None
    device = zigpy.device.Device(application, zt.EUI64.convert(ieee), 0x1234)
    endpoint = device.add_endpoint(endpoint_id)
    for item in clusters:
        cluster_id, zone_type = item if isinstance(item, tuple) else (item, None)
        cluster = endpoint.add_input_cluster(cluster_id)
        if zone_type is not None:
            cluster.update_attribute(ZONE_TYPE_ID, zone_type)
    return device


def test_device_kinds_from_real_zigpy_clusters() -> None:
    motion = zigpy_device(
        "00:0d:6f:00:00:00:00:01",
        (IAS, ZT.Motion_Sensor),
        TemperatureMeasurement.cluster_id,
        PowerConfiguration.cluster_id,
    )
    assert zigbee.device_kinds(motion) == {KIND_ACTIVITY, KIND_TEMPERATURE}
    cases = {
        ZT.Fire_Sensor: {KIND_FIRE},
        ZT.Personal_Emergency_Device: {KIND_HELP},
        ZT.Contact_Switch: {KIND_DOOR},
        ZT.Vibration_Movement_Sensor: {KIND_ACTIVITY},
        ZT.Carbon_Monoxide_Sensor: set(),
        ZT.Key_Fob: set(),
        ZT.Remote_Control: set(),
    }
    for zone_type, kinds in cases.items():
        device = zigpy_device("00:0d:6f:00:00:00:00:02", (IAS, zone_type))
        assert zigbee.device_kinds(device) == kinds, zone_type
    occupancy = zigpy_device("00:0d:6f:00:00:00:00:03", OccupancySensing.cluster_id)
    assert zigbee.device_kinds(occupancy) == {KIND_ACTIVITY}
    # A zone whose type was never read suggests nothing; batteries are no role.
    unread = zigpy_device("00:0d:6f:00:00:00:00:04", IAS, PowerConfiguration.cluster_id)
    assert zigbee.device_kinds(unread) == set()
    assert zigbee.device_kinds(object()) == set()


def test_cached_zone_type_fallbacks() -> None:
    device = zigpy_device("00:0d:6f:00:00:00:00:05", (IAS, ZT.Fire_Sensor))
    cluster = device.endpoints[1].in_clusters[IAS]
    assert zigbee.cached_zone_type(cluster) == 0x0028

    @dataclass
    class QuirkCluster:  # a quirk that keeps a plain dict as the cache
        _attr_cache: dict[int, Any]

    assert zigbee.cached_zone_type(QuirkCluster({0x0001: 0x002C})) == 0x002C
    assert zigbee.cached_zone_type(QuirkCluster({0x0001: True})) is None
    assert zigbee.cached_zone_type(QuirkCluster({0x0001: "x"})) is None
    assert zigbee.cached_zone_type(QuirkCluster({})) is None

    class Refusing(QuirkCluster):
        def get(self, key: str) -> Any:
            raise KeyError(key)

    assert zigbee.cached_zone_type(Refusing({0x0001: 0x000D})) == 0x000D
    assert zigbee.cluster_kind(IAS) is None
    assert zigbee.cluster_kind(PowerConfiguration.cluster_id) is None


# -- the pure decision -----------------------------------------------------------


def _entity(entity_id: str, device_class: str | None = None) -> AreaEntity:
    return AreaEntity(entity_id, device_class, entity_id.split(".")[1])


def test_roles_from_device_classes() -> None:
    devices = [
        AreaDevice(
            "z2m_motion",
            "Hall sensor",
            (
                _entity("binary_sensor.hall_occupancy", "occupancy"),
                _entity("sensor.hall_temperature", "temperature"),
                _entity("sensor.hall_humidity", "humidity"),
            ),
        ),
        AreaDevice(
            "z2m_radar",
            "Bedroom radar",
            (_entity("binary_sensor.bed_presence", "presence"),),
        ),
        AreaDevice(
            "z2m_smoke",
            "Smoke",
            (
                _entity("binary_sensor.smoke", "smoke"),
                _entity("binary_sensor.co", "carbon_monoxide"),
            ),
        ),
        AreaDevice(
            "z2m_sos",  # no help button from names or classes
            "SOS button",
            (
                _entity("binary_sensor.sos"),
                _entity("binary_sensor.sos_safety", "safety"),
            ),
        ),
        AreaDevice(None, "", (_entity("binary_sensor.front_door", "door"),)),
        AreaDevice("light", "Lamp", (_entity("light.lamp"),)),
    ]
    suggestion = suggest(devices)
    assert suggestion.sensors == {
        KIND_ACTIVITY: ("binary_sensor.hall_occupancy", "binary_sensor.bed_presence"),
        KIND_FIRE: ("binary_sensor.smoke", "binary_sensor.co"),
        KIND_TEMPERATURE: ("sensor.hall_temperature",),
        KIND_DOOR: ("binary_sensor.front_door",),
    }
    assert suggestion.devices["z2m_smoke"] == {
        KIND_FIRE: ("binary_sensor.smoke", "binary_sensor.co")
    }
    assert None in suggestion.devices
    assert "z2m_sos" not in suggestion.devices
    assert suggestion.doors_left == ()
    assert suggestion.label("binary_sensor.smoke") == "smoke"
    assert not suggestion.empty
    assert suggest([]).empty


def test_one_door_is_chosen_several_are_not() -> None:
    front = AreaDevice("a", "A", (_entity("binary_sensor.front", "door"),))
    garage = AreaDevice("b", "B", (_entity("binary_sensor.garage", "garage_door"),))
    balcony = AreaDevice("c", "C", (_entity("binary_sensor.balcony", "opening"),))
    window = AreaDevice("d", "D", (_entity("binary_sensor.window", "window"),))
    assert suggest([front, window]).sensors == {KIND_DOOR: ("binary_sensor.front",)}
    several = suggest([front, garage, balcony])
    assert KIND_DOOR not in several.sensors
    assert several.doors_left == (
        "binary_sensor.front",
        "binary_sensor.garage",
        "binary_sensor.balcony",
    )
    assert several.devices == {}
    assert not several.empty


def test_zigbee_roles_decide_for_zha_devices() -> None:
    """Known clusters decide; the entity's class only says which entity it is."""
    pendant = AreaDevice(
        "zha_sos",
        "Pendant",
        (
            _entity("binary_sensor.pendant_ias_zone"),
            _entity("sensor.pendant_battery", "battery"),
        ),
        zigbee_kinds=frozenset({KIND_HELP}),
    )
    co = AreaDevice(  # a CO zone: ZHA shows it as gas; its zone type plays no role
        "zha_co",
        "CO",
        (_entity("binary_sensor.co", "gas"),),
        zigbee_kinds=frozenset(),
    )
    bed = AreaDevice(
        "zha_bed",
        "Bed",
        (_entity("binary_sensor.bed_vibration", "vibration"),),
        zigbee_kinds=frozenset({KIND_ACTIVITY}),
    )
    suggestion = suggest([pendant, co, bed])
    assert suggestion.sensors == {
        KIND_ACTIVITY: ("binary_sensor.bed_vibration",),
        KIND_HELP: ("binary_sensor.pendant_ias_zone",),
    }


# -- Home Assistant: registries, the config flow ----------------------------------


@dataclass
class Home:
    """Registries of a test home: an area and the integrations' config entries."""

    hass: HomeAssistant
    area_id: str
    zha: MockConfigEntry
    mqtt: MockConfigEntry
    zigpy: dict[str, zigpy.device.Device]

    def device(
        self,
        name: str,
        entities: Iterable[tuple[str, str, str | None]],
        *,
        zigpy_device: zigpy.device.Device | None = None,
        area_id: str | None = "",
        **entity_kw: Any,
    ) -> tuple[dr.DeviceEntry, list[str]]:
        """Register a device (ZHA when a zigpy device is given, else Zigbee2MQTT).

        ``entities``: (domain, key, device class); returns the device and the
        entity ids, each with a state showing a friendly name.
        """
        key = name.lower().replace(" ", "_")
        if zigpy_device is not None:
            entry, identifier = self.zha, ("zha", str(zigpy_device.ieee))
        else:
            entry, identifier = self.mqtt, ("mqtt", f"zigbee2mqtt_{key}")
        devices = dr.async_get(self.hass)
        device = devices.async_get_or_create(
            config_entry_id=entry.entry_id, identifiers={identifier}, name=name
        )
        device = (
            devices.async_update_device(
                device.id, area_id=self.area_id if area_id == "" else area_id
            )
            or device
        )
        if zigpy_device is not None:
            self.zigpy[device.id] = zigpy_device
        entity_ids = []
        for domain, suffix, device_class in entities:
            entity = er.async_get(self.hass).async_get_or_create(
                domain,
                entry.domain,
                f"{key}_{suffix}",
                device_id=device.id,
                config_entry=entry,
                original_device_class=device_class,
                has_entity_name=True,
                original_name=suffix,
                suggested_object_id=f"{key}_{suffix}",
                **entity_kw,
            )
            self.hass.states.async_set(
                entity.entity_id, "off", {"friendly_name": f"{name} {suffix}"}
            )
            entity_ids.append(entity.entity_id)
        return device, entity_ids


@pytest.fixture
def home(hass: HomeAssistant) -> Generator[Home, None, None]:
    """An area "Grandma's flat" and ZHA/MQTT config entries to hang devices on."""
    area = ar.async_get(hass).async_create("Grandma's flat")
    zha = MockConfigEntry(domain="zha", title="ZHA")
    zha.add_to_hass(hass)
    mqtt = MockConfigEntry(domain="mqtt", title="MQTT")
    mqtt.add_to_hass(hass)
    built = Home(hass, area.id, zha, mqtt, {})
    with patch.object(
        discovery, "zha_zigpy_device", side_effect=lambda _h, d: built.zigpy.get(d)
    ):
        yield built


def _defaults(result: dict[str, Any]) -> dict[str, Any]:
    """What a form shows filled in: defaults and suggested values."""
    values: dict[str, Any] = {}
    for key in result["data_schema"].schema:
        if key.default is not vol.UNDEFINED:
            values[str(key)] = key.default()
        elif key.description and "suggested_value" in key.description:
            values[str(key)] = key.description["suggested_value"]
    return values


async def _sensors_step(
    hass: HomeAssistant, area_id: str | None, name: str = "Grandma Wu"
) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "household"}
    )
    answer: dict[str, Any] = {CONF_NAME: name}
    if area_id:
        answer[CONF_AREA] = area_id
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"].startswith("household_sensors")
    return result


@pytest.fixture
def _entries_not_started() -> Generator[None, None, None]:
    with (
        patch("custom_components.silver_bell.async_setup_entry", return_value=True),
        patch("custom_components.silver_bell.async_unload_entry", return_value=True),
    ):
        yield


@pytest.mark.usefixtures("_entries_not_started")
async def test_flow_suggests_zha_sensors_from_zigpy(
    hass: HomeAssistant, home: Home
) -> None:
    motion, (motion_ias, motion_temp, motion_battery) = home.device(
        "Hall motion",
        [
            ("binary_sensor", "ias_zone", "motion"),
            ("sensor", "temperature", "temperature"),
            ("sensor", "battery", "battery"),
        ],
        zigpy_device=zigpy_device(
            "00:0d:6f:00:0a:00:00:01",
            (IAS, ZT.Motion_Sensor),
            TemperatureMeasurement.cluster_id,
            PowerConfiguration.cluster_id,
        ),
    )
    occupancy, (occupancy_entity,) = home.device(
        "Bedroom occupancy",
        [("binary_sensor", "occupancy", "occupancy")],
        zigpy_device=zigpy_device(
            "00:0d:6f:00:0a:00:00:02", OccupancySensing.cluster_id
        ),
    )
    smoke, (smoke_entity,) = home.device(
        "Kitchen smoke",
        [("binary_sensor", "ias_zone", "smoke")],
        zigpy_device=zigpy_device("00:0d:6f:00:0a:00:00:03", (IAS, ZT.Fire_Sensor)),
    )
    pendant, (pendant_entity,) = home.device(
        "SOS pendant",
        [("binary_sensor", "ias_zone", None)],
        zigpy_device=zigpy_device(
            "00:0d:6f:00:0a:00:00:04", (IAS, ZT.Personal_Emergency_Device)
        ),
    )
    door, (door_entity,) = home.device(
        "Front door",
        [("binary_sensor", "ias_zone", "opening")],
        zigpy_device=zigpy_device("00:0d:6f:00:0a:00:00:05", (IAS, ZT.Contact_Switch)),
    )
    # Diagnostic and disabled entities are never suggested.
    home.device(
        "Plug",
        [("sensor", "device_temperature", "temperature")],
        zigpy_device=zigpy_device(
            "00:0d:6f:00:0a:00:00:06", TemperatureMeasurement.cluster_id
        ),
        entity_category=EntityCategory.DIAGNOSTIC,
    )
    home.device(
        "Spare motion",
        [("binary_sensor", "ias_zone", "motion")],
        zigpy_device=zigpy_device("00:0d:6f:00:0a:00:00:07", (IAS, ZT.Motion_Sensor)),
        disabled_by=er.RegistryEntryDisabler.USER,
    )

    result = await _sensors_step(hass, home.area_id)
    assert _defaults(result) == {
        CONF_ACTIVITY_SENSORS: [occupancy_entity, motion_ias],
        CONF_FIRE_SENSORS: [smoke_entity],
        CONF_TEMPERATURE_SENSORS: [motion_temp],
        CONF_HELP_BUTTONS: [pendant_entity],
        CONF_DOOR_SENSOR: door_entity,
    }
    assert motion_battery not in str(_defaults(result))
    placeholders = result["description_placeholders"]
    assert placeholders["area"] == "Grandma's flat"
    assert placeholders["help"] == "SOS pendant ias_zone"
    assert placeholders["door"] == "Front door ias_zone"
    assert placeholders["doors_left"] == NOTHING
    assert result["step_id"] == "household_sensors"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _defaults(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_ROLE] == ROLE_HOUSEHOLD
    assert data[CONF_AREA] == home.area_id
    assert data[CONF_HELP_BUTTONS] == [pendant_entity]
    assert data[CONF_DOOR_SENSOR] == door_entity
    # Every device of the area is remembered, offered or not (the plug, the spare).
    assert set(data[CONF_KNOWN_DEVICES]) >= {
        motion.id,
        occupancy.id,
        smoke.id,
        pendant.id,
        door.id,
    }
    assert len(data[CONF_KNOWN_DEVICES]) == 7


@pytest.mark.usefixtures("_entries_not_started")
async def test_flow_suggests_zigbee2mqtt_sensors_from_device_classes(
    hass: HomeAssistant, home: Home
) -> None:
    _, (occupancy, temperature, humidity, battery, sos) = home.device(
        "Living room sensor",
        [
            ("binary_sensor", "occupancy", "occupancy"),
            ("sensor", "temperature", "temperature"),
            ("sensor", "humidity", "humidity"),
            ("sensor", "battery", "battery"),
            ("binary_sensor", "sos", None),
        ],
    )
    _, (smoke, battery_low) = home.device(
        "Smoke detector",
        [
            ("binary_sensor", "smoke", "smoke"),
            ("binary_sensor", "battery_low", "battery"),
        ],
    )
    # Two door sensors: neither is chosen as the front door.
    _, (front,) = home.device("Front door", [("binary_sensor", "contact", "door")])
    _, (balcony,) = home.device("Balcony", [("binary_sensor", "contact", "opening")])
    # A sensor placed in the area while its device is elsewhere counts; a sensor of
    # a device in the area that is placed elsewhere does not.
    hallway = ar.async_get(hass).async_create("Hallway")
    _, (placed_here,) = home.device(
        "Hall radar", [("binary_sensor", "presence", "presence")], area_id=hallway.id
    )
    er.async_get(hass).async_update_entity(placed_here, area_id=home.area_id)
    _, (moved_away,) = home.device("Stair motion", [("binary_sensor", "m", "motion")])
    er.async_get(hass).async_update_entity(moved_away, area_id=hallway.id)

    result = await _sensors_step(hass, home.area_id)
    assert _defaults(result) == {
        CONF_ACTIVITY_SENSORS: [placed_here, occupancy],
        CONF_FIRE_SENSORS: [smoke],
        CONF_TEMPERATURE_SENSORS: [temperature],
        CONF_HELP_BUTTONS: [],
    }
    for never in (humidity, battery, sos, battery_low, moved_away):
        assert never not in str(_defaults(result))
    placeholders = result["description_placeholders"]
    assert placeholders["door"] == NOTHING
    assert placeholders["help"] == NOTHING
    assert placeholders["doors_left"] == "Balcony contact, Front door contact"
    assert result["step_id"] == "household_sensors_doors_left"
    assert placeholders["fire"] == "Smoke detector smoke"

    # The user edits the suggestion: the front door after all, no temperature.
    answer = {
        **_defaults(result),
        CONF_TEMPERATURE_SENSORS: [],
        CONF_DOOR_SENSOR: front,
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DOOR_SENSOR] == front
    assert result["data"][CONF_TEMPERATURE_SENSORS] == []
    assert balcony not in str(result["data"])


@pytest.mark.usefixtures("_entries_not_started")
async def test_entities_without_a_device_and_odd_devices(
    hass: HomeAssistant, home: Home
) -> None:
    entities = er.async_get(hass)
    # A template sensor placed in the area (no device, no state yet: its name).
    loose = entities.async_get_or_create(
        "sensor",
        "template",
        "flat_temperature",
        original_device_class="temperature",
        original_name="Flat temperature",
    )
    entities.async_update_entity(loose.entity_id, area_id=home.area_id)
    # A sensor placed here whose device is disabled is left out.
    hallway = ar.async_get(hass).async_create("Hallway")
    device, (disabled_device_sensor,) = home.device(
        "Old radar", [("binary_sensor", "presence", "presence")], area_id=hallway.id
    )
    entities.async_update_entity(disabled_device_sensor, area_id=home.area_id)
    dr.async_get(hass).async_update_device(
        device.id, disabled_by=dr.DeviceEntryDisabler.USER
    )
    found = async_discover(hass, home.area_id)
    assert found.sensor_data()[CONF_TEMPERATURE_SENSORS] == [loose.entity_id]
    assert found.placeholders()[KIND_TEMPERATURE] == "Flat temperature"
    assert found.sensor_data()[CONF_ACTIVITY_SENSORS] == []
    assert found.device_ids == frozenset()


@pytest.mark.usefixtures("_entries_not_started")
async def test_single_door_sensor_is_chosen(hass: HomeAssistant, home: Home) -> None:
    _, (front,) = home.device("Front door", [("binary_sensor", "contact", "door")])
    _, (motion,) = home.device("Motion", [("binary_sensor", "occupancy", "motion")])
    result = await _sensors_step(hass, home.area_id)
    assert _defaults(result)[CONF_DOOR_SENSOR] == front
    assert _defaults(result)[CONF_ACTIVITY_SENSORS] == [motion]


@pytest.mark.usefixtures("_entries_not_started")
async def test_no_area_or_nothing_found_gives_an_empty_step(
    hass: HomeAssistant, home: Home
) -> None:
    home.device("Motion", [("binary_sensor", "occupancy", "motion")])
    for area_id in (None, ar.async_get(hass).async_create("Empty room").id):
        result = await _sensors_step(hass, area_id)
        assert _defaults(result) == {
            CONF_ACTIVITY_SENSORS: [],
            CONF_FIRE_SENSORS: [],
            CONF_TEMPERATURE_SENSORS: [],
            CONF_HELP_BUTTONS: [],
        }
        placeholders = dict(result["description_placeholders"])
        assert placeholders.pop("area") == ("Empty room" if area_id else NOTHING)
        assert set(placeholders.values()) == {NOTHING}
        # The usual validation still applies.
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: []}
        )
        assert result["errors"] == {CONF_ACTIVITY_SENSORS: "activity_required"}
        hass.config_entries.flow.async_abort(result["flow_id"])


@pytest.mark.usefixtures("_entries_not_started")
async def test_sensors_of_another_household_are_skipped(
    hass: HomeAssistant, home: Home, household_entry: MockConfigEntry
) -> None:
    """Grandma Li's kitchen motion sensor is not offered to a second household."""
    _, (kitchen,) = home.device("Kitchen", [("binary_sensor", "motion", "motion")])
    er.async_get(hass).async_update_entity(kitchen, new_entity_id=MOTION_KITCHEN)
    _, (bathroom,) = home.device("Bathroom", [("binary_sensor", "motion", "motion")])
    # Silver Bell's own household device (suggested into the area) is left out.
    own = dr.async_get(hass).async_get_or_create(
        config_entry_id=household_entry.entry_id,
        identifiers={(DOMAIN, household_entry.entry_id)},
        name="Grandma Li",
    )
    dr.async_get(hass).async_update_device(own.id, area_id=home.area_id)
    er.async_get(hass).async_get_or_create(
        "binary_sensor",
        DOMAIN,
        "household01_fire_alarm",
        device_id=own.id,
        original_device_class="smoke",
    )
    result = await _sensors_step(hass, home.area_id, name="Uncle Wang")
    assert _defaults(result)[CONF_ACTIVITY_SENSORS] == [bathroom]
    assert _defaults(result)[CONF_FIRE_SENSORS] == []
    found = async_discover(hass, home.area_id)
    assert found.sensor_data()[CONF_ACTIVITY_SENSORS] == [bathroom]
    assert own.id not in found.device_ids
    # It is not offered either: choosing it anyway is refused.
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN]}
        )


# -- the "new sensor" repair ------------------------------------------------------


def _issue(hass: HomeAssistant, entry_id: str, device_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, new_sensor_issue_id(entry_id, device_id)
    )


def _our_issues(hass: HomeAssistant) -> list[str]:
    return [
        issue_id
        for domain, issue_id in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith("new_sensor_")
    ]


@pytest.fixture
def area_household(hass: HomeAssistant, home: Home) -> Callable[..., MockConfigEntry]:
    """Grandma Li's household in the test area (data as the config flow saves it)."""

    def make(**data: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Grandma Li",
            data={**HOUSEHOLD_DATA, CONF_AREA: home.area_id, **data},
            unique_id="household_grandma_li",
            entry_id="household01",
        )
        entry.add_to_hass(hass)
        return entry

    return make


async def test_new_device_in_the_area_is_offered_and_added(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    old, _ = home.device("Old motion", [("binary_sensor", "motion", "motion")])
    entry = area_household(**{CONF_KNOWN_DEVICES: [old.id]})
    await setup_household(hass, entry, freezer)
    assert _our_issues(hass) == []

    # A pendant and a motion sensor join the area after set-up.
    pendant, (pendant_entity,) = home.device(
        "SOS pendant",
        [("binary_sensor", "ias_zone", None)],
        zigpy_device=zigpy_device(
            "00:0d:6f:00:0b:00:00:01", (IAS, ZT.Personal_Emergency_Device)
        ),
    )
    await hass.async_block_till_done()
    issue = _issue(hass, entry.entry_id, pendant.id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "new_sensor"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"] == "Grandma Li"
    assert issue.translation_placeholders["device"] == "SOS pendant"
    assert issue.translation_placeholders["help"] == "SOS pendant ias_zone"
    assert issue.translation_placeholders["activity"] == NOTHING

    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(
        DOMAIN, data={"issue_id": new_sensor_issue_id(entry.entry_id, pendant.id)}
    )
    assert flow["type"] is FlowResultType.FORM
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["help"] == "SOS pendant ias_zone"
    result = await manager.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.data[CONF_HELP_BUTTONS] == [
        *HOUSEHOLD_DATA[CONF_HELP_BUTTONS],
        pendant_entity,
    ]
    assert pendant.id in entry.data[CONF_KNOWN_DEVICES]
    assert _issue(hass, entry.entry_id, pendant.id) is None
    # Reloaded: the runtime watches the pendant.
    assert pendant_entity in entry.runtime_data.help_buttons
    assert _our_issues(hass) == []


async def test_known_devices_and_existing_installs_raise_nothing(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    before, _ = home.device("Motion", [("binary_sensor", "motion", "motion")])
    entry = area_household()  # saved before Silver Bell remembered devices
    assert CONF_KNOWN_DEVICES not in entry.data
    await setup_household(hass, entry, freezer)
    assert entry.data[CONF_KNOWN_DEVICES] == [before.id]
    assert _our_issues(hass) == []
    # Known: a change of its entities raises nothing either.
    home.device("Motion", [("sensor", "temperature", "temperature")])
    await hass.async_block_till_done()
    assert _our_issues(hass) == []
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_device_whose_sensors_are_watched_raises_nothing(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    # The kitchen sensor the household watches already, on a device elsewhere.
    kitchen, (motion,) = home.device(
        "Kitchen", [("binary_sensor", "motion", "motion")], area_id=None
    )
    er.async_get(hass).async_update_entity(motion, new_entity_id=MOTION_KITCHEN)
    entry = area_household(**{CONF_KNOWN_DEVICES: []})
    await setup_household(hass, entry, freezer)
    dr.async_get(hass).async_update_device(kitchen.id, area_id=home.area_id)
    await hass.async_block_till_done()
    assert _our_issues(hass) == []
    # Its new temperature sensor is new, though.
    home.device("Kitchen", [("sensor", "temperature", "temperature")])
    await hass.async_block_till_done()
    issue = _issue(hass, entry.entry_id, kitchen.id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["activity"] == NOTHING
    assert issue.translation_placeholders["temperature"] == "Kitchen temperature"


async def test_offer_deleted_when_device_leaves_or_is_removed(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = area_household(**{CONF_KNOWN_DEVICES: []})
    await setup_household(hass, entry, freezer)
    devices = dr.async_get(hass)
    # Added elsewhere, then moved into the area.
    device, _ = home.device(
        "Smoke", [("binary_sensor", "smoke", "smoke")], area_id=None
    )
    await hass.async_block_till_done()
    assert _our_issues(hass) == []
    devices.async_update_device(device.id, area_id=home.area_id)
    await hass.async_block_till_done()
    assert _issue(hass, entry.entry_id, device.id) is not None
    devices.async_update_device(device.id, area_id=None)
    await hass.async_block_till_done()
    assert _our_issues(hass) == []

    devices.async_update_device(device.id, area_id=home.area_id)
    await hass.async_block_till_done()
    assert _issue(hass, entry.entry_id, device.id) is not None
    devices.async_remove_device(device.id)
    await hass.async_block_till_done()
    assert _our_issues(hass) == []

    # Removing the household deletes its offers.
    other, _ = home.device("Radar", [("binary_sensor", "presence", "presence")])
    await hass.async_block_till_done()
    assert _issue(hass, entry.entry_id, other.id) is not None
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert _our_issues(hass) == []


async def test_ignored_offer_is_not_raised_again(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = area_household(**{CONF_KNOWN_DEVICES: []})
    await setup_household(hass, entry, freezer)
    device, _ = home.device("Neighbour's motion", [("binary_sensor", "m", "motion")])
    await hass.async_block_till_done()
    issue_id = new_sensor_issue_id(entry.entry_id, device.id)
    ir.async_ignore_issue(hass, DOMAIN, issue_id, True)
    await hass.async_block_till_done()
    assert device.id in entry.data[CONF_KNOWN_DEVICES]
    devices = dr.async_get(hass)
    devices.async_update_device(device.id, area_id=None)
    await hass.async_block_till_done()
    devices.async_update_device(device.id, area_id=home.area_id)
    await hass.async_block_till_done()
    assert _our_issues(hass) == []


async def test_repair_offers_the_door_to_a_household_without_one(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    entry = area_household(**{CONF_KNOWN_DEVICES: [], CONF_DOOR_SENSOR: None})
    await setup_household(hass, entry, freezer)
    door, (contact,) = home.device("Front door", [("binary_sensor", "c", "door")])
    await hass.async_block_till_done()
    issue = _issue(hass, entry.entry_id, door.id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["door"] == "Front door c"
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(
        DOMAIN, data={"issue_id": new_sensor_issue_id(entry.entry_id, door.id)}
    )
    await manager.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()
    assert entry.data[CONF_DOOR_SENSOR] == contact
    # A second door is not offered: the household has its front door now.
    home.device("Back door", [("binary_sensor", "c", "door")])
    await hass.async_block_till_done()
    assert _our_issues(hass) == []


async def test_offer_deleted_when_its_sensor_is_removed(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = area_household(**{CONF_KNOWN_DEVICES: []})
    await setup_household(hass, entry, freezer)
    device, (motion,) = home.device("Motion", [("binary_sensor", "m", "motion")])
    await hass.async_block_till_done()
    assert _issue(hass, entry.entry_id, device.id) is not None
    er.async_get(hass).async_remove(motion)
    await hass.async_block_till_done()
    assert _our_issues(hass) == []


async def test_offer_ignored_while_the_household_was_stopped(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = area_household(**{CONF_KNOWN_DEVICES: []})
    await setup_household(hass, entry, freezer)
    device, _ = home.device("Motion", [("binary_sensor", "m", "motion")])
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    ir.async_ignore_issue(
        hass, DOMAIN, new_sensor_issue_id(entry.entry_id, device.id), True
    )
    assert device.id not in entry.data[CONF_KNOWN_DEVICES]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert device.id in entry.data[CONF_KNOWN_DEVICES]
    # Still listed as ignored while the device is in the area.
    issue = _issue(hass, entry.entry_id, device.id)
    assert issue is not None
    assert issue.dismissed_version is not None


async def test_household_without_an_area_watches_nothing(
    hass: HomeAssistant,
    home: Home,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    home.device("Motion", [("binary_sensor", "m", "motion")])
    await hass.async_block_till_done()
    assert _our_issues(hass) == []
    assert CONF_KNOWN_DEVICES not in household_entry.data


async def test_fix_flow_for_unknown_issues_and_gone_households(
    hass: HomeAssistant,
) -> None:
    flow = await repairs.async_create_fix_flow(hass, "something_else", None)
    assert isinstance(flow, ConfirmRepairFlow)
    flow = await repairs.async_create_fix_flow(
        hass,
        new_sensor_issue_id("gone", "device"),
        {"entry_id": "gone", "device_id": "device"},
    )
    flow.hass = hass
    result = await flow.async_step_init({"issue_id": "ignored"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_to_add"


async def test_fix_flow_aborts_when_nothing_is_left(
    hass: HomeAssistant,
    home: Home,
    area_household: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    entry = area_household(**{CONF_KNOWN_DEVICES: []})
    await setup_household(hass, entry, freezer)
    device, (motion,) = home.device("Motion", [("binary_sensor", "m", "motion")])
    await hass.async_block_till_done()
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(
        DOMAIN, data={"issue_id": new_sensor_issue_id(entry.entry_id, device.id)}
    )
    assert flow["step_id"] == "confirm"
    # Meanwhile the sensor was disabled: nothing to add any more.
    er.async_get(hass).async_update_entity(
        motion, disabled_by=er.RegistryEntryDisabler.USER
    )
    result = await manager.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_to_add"
    assert _our_issues(hass) == []
    assert motion not in entry.data[CONF_ACTIVITY_SENSORS]
