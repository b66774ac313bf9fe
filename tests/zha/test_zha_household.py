"""Silver Bell on Home Assistant's real ZHA integration, driven by Zigbee frames.

Every input here is a serialized ZCL frame from a simulated device (IAS Zone
status_change_notification, Report_Attributes) that zigpy parses and ZHA turns
into entity states; Silver Bell watches those entities and, for the IAS details
the entities don't show, the zigpy devices behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from zigpy.zcl.clusters.general import PowerConfiguration
from zigpy.zcl.clusters.measurement import OccupancySensing, TemperatureMeasurement
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell.const import (
    CONF_ACTIVITY_SENSORS,
    CONF_FIRE_SENSORS,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NAME,
    CONF_ROLE,
    CONF_SECRET,
    CONF_TEMPERATURE_SENSORS,
    DOMAIN,
    ROLE_HOUSEHOLD,
)
from custom_components.silver_bell.core.models import Incident, IncidentKind
from custom_components.silver_bell.core.protocol import decode_pairing

from ..common import advance, setup_household
from ..test_hub import Pager, _hub, _start_hub, _url
from .conftest import (
    BATTERY_PCT,
    MEASURED,
    OCCUPANCY,
    ZhaNetwork,
    ias_motion_sensor,
    occupancy_sensor,
    smoke_detector,
    temperature_sensor,
)
from .sim import SimDevice

Z = IasZone.ZoneStatus


@dataclass
class Home:
    """A flat's Zigbee sensors, joined to ZHA, and their entities."""

    smoke: SimDevice
    motion: SimDevice
    occupancy: SimDevice
    thermometer: SimDevice
    smoke_entity: str
    motion_entity: str
    occupancy_entity: str
    temperature_entity: str
    smoke_battery: str


async def _join_home(zha: ZhaNetwork) -> Home:
    smoke = smoke_detector(zha.app, "00:0d:6f:00:0a:00:00:01")
    motion = ias_motion_sensor(zha.app, "00:0d:6f:00:0a:00:00:02")
    occupancy = occupancy_sensor(zha.app, "00:0d:6f:00:0a:00:00:03")
    thermometer = temperature_sensor(zha.app, "00:0d:6f:00:0a:00:00:04")
    smoke_id = await zha.async_join(smoke)
    motion_id = await zha.async_join(motion)
    occupancy_id = await zha.async_join(occupancy)
    thermometer_id = await zha.async_join(thermometer)
    return Home(
        smoke=smoke,
        motion=motion,
        occupancy=occupancy,
        thermometer=thermometer,
        smoke_entity=zha.entity(smoke_id, "binary_sensor", "smoke"),
        motion_entity=zha.entity(motion_id, "binary_sensor", "motion"),
        occupancy_entity=zha.entity(occupancy_id, "binary_sensor", "occupancy"),
        temperature_entity=zha.entity(thermometer_id, "sensor", "temperature"),
        smoke_battery=zha.entity(smoke_id, "sensor", "battery"),
    )


def _household_data(home: Home) -> dict[str, Any]:
    return {
        CONF_ROLE: ROLE_HOUSEHOLD,
        CONF_NAME: "Grandma Li",
        CONF_ACTIVITY_SENSORS: [home.motion_entity, home.occupancy_entity],
        CONF_FIRE_SENSORS: [home.smoke_entity],
        CONF_TEMPERATURE_SENSORS: [home.temperature_entity],
    }


async def _household(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    data: dict[str, Any],
) -> Any:
    entry = MockConfigEntry(
        domain=DOMAIN, title="Grandma Li", data=data, entry_id="household01"
    )
    entry.add_to_hass(hass)
    await setup_household(hass, entry, freezer, start=None)
    return entry.runtime_data


def _active(household: Any, kind: IncidentKind) -> Incident | None:
    return household.book.active_of(kind)


async def test_zha_entities_follow_real_frames(
    hass: HomeAssistant, zha: ZhaNetwork
) -> None:
    """The simulated devices' frames move ZHA's own entities."""
    home = await _join_home(zha)
    home.smoke.zone_status_change(Z.Alarm_1)
    home.motion.zone_status_change(Z.Alarm_1)
    home.occupancy.report(OccupancySensing.cluster_id, {OCCUPANCY: 1})
    home.thermometer.report(TemperatureMeasurement.cluster_id, {MEASURED: 2345})
    home.smoke.report(PowerConfiguration.cluster_id, {BATTERY_PCT: 20})
    await hass.async_block_till_done()
    assert hass.states.get(home.smoke_entity).state == STATE_ON
    assert hass.states.get(home.motion_entity).state == STATE_ON
    assert hass.states.get(home.occupancy_entity).state == STATE_ON
    # ZHA 2024.3 rounds to one decimal; newer releases keep two.
    assert float(hass.states.get(home.temperature_entity).state) == pytest.approx(
        23.45, abs=0.06
    )
    assert float(hass.states.get(home.smoke_battery).state) == 10  # half-percent units


async def test_smoke_frame_reaches_the_hub_as_fire(
    hass: HomeAssistant,
    zha: ZhaNetwork,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An IAS Fire_Sensor alarm frame becomes a red incident at the hub."""
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    home = await _join_home(zha)
    household = await _household(
        hass,
        freezer,
        {
            **_household_data(home),
            CONF_HUB_URL: _url(client),
            CONF_HOUSEHOLD_ID: pairing.household_id,
            CONF_SECRET: pairing.secret,
        },
    )
    assert home.smoke_entity in household.zigbee.attached

    home.smoke.zone_status_change(Z.Alarm_1)
    await hass.async_block_till_done()

    fire = _active(household, IncidentKind.FIRE)
    assert fire is not None
    assert fire.details["sensor"] == home.smoke_entity
    assert fire.escalated_at is not None
    await hass.async_block_till_done()
    (at_hub,) = _hub(hub_entry).incidents.active
    assert at_hub.household_id == pairing.household_id
    assert at_hub.kind is IncidentKind.FIRE
    assert not at_hub.test
    assert pager.messages("mobile_app_wang"), "the assigned volunteer was paged"


async def test_detector_test_press_is_only_a_test(
    hass: HomeAssistant, zha: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """Alarm + Test bits (a test press) raise a test incident, never a fire."""
    home = await _join_home(zha)
    household = await _household(hass, freezer, _household_data(home))

    home.smoke.zone_status_change(Z.Alarm_1 | Z.Test)
    await hass.async_block_till_done()
    assert hass.states.get(home.smoke_entity).state == STATE_ON  # ZHA shows an alarm
    test = _active(household, IncidentKind.TEST)
    assert test is not None
    assert test.test
    assert test.details == {"sensor": home.smoke_entity, "reason": "detector_test"}
    assert _active(household, IncidentKind.FIRE) is None

    home.smoke.zone_status_change(0)
    await hass.async_block_till_done()
    assert hass.states.get(home.smoke_entity).state == STATE_OFF
    assert _active(household, IncidentKind.FIRE) is None


async def test_test_bit_alone_and_smoke_after_a_test(
    hass: HomeAssistant, zha: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """A Test bit without alarm bits is a test; alarming on after the test is smoke."""
    home = await _join_home(zha)
    household = await _household(hass, freezer, _household_data(home))

    home.smoke.zone_status_change(Z.Test)
    await hass.async_block_till_done()
    assert hass.states.get(home.smoke_entity).state == STATE_OFF
    assert _active(household, IncidentKind.TEST) is not None
    assert _active(household, IncidentKind.FIRE) is None

    home.smoke.zone_status_change(Z.Alarm_1 | Z.Test)
    await hass.async_block_till_done()
    assert _active(household, IncidentKind.FIRE) is None

    # The test is over but the detector still alarms: real smoke.
    home.smoke.zone_status_change(Z.Alarm_1)
    await hass.async_block_till_done()
    assert _active(household, IncidentKind.FIRE) is not None


@pytest.mark.parametrize(
    ("bits", "problem"),
    [
        (Z.Tamper, "tamper"),
        (Z.Trouble, "trouble"),
        (Z.Battery, "battery_low"),
        (Z.Battery_Defect, "battery_low"),
    ],
)
async def test_device_health_bits_name_the_device(
    hass: HomeAssistant,
    zha: ZhaNetwork,
    freezer: FrozenDateTimeFactory,
    bits: int,
    problem: str,
) -> None:
    """Tamper, Trouble and battery bits (invisible on ZHA's entity) raise a fault."""
    home = await _join_home(zha)
    household = await _household(hass, freezer, _household_data(home))

    home.smoke.zone_status_change(bits)
    await hass.async_block_till_done()
    assert hass.states.get(home.smoke_entity).state == STATE_OFF
    fault = _active(household, IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"] == {home.smoke_entity: [problem]}
    assert fault.details["devices"] == {home.smoke_entity: "HEIMAN SmokeSensor-EM"}
    assert _active(household, IncidentKind.FIRE) is None

    home.smoke.zone_status_change(0)
    await hass.async_block_till_done()
    assert _active(household, IncidentKind.SENSOR_FAULT) is None


async def test_motion_and_temperature_frames_feed_the_monitors(
    hass: HomeAssistant, zha: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """Occupancy and IAS motion count as activity; temperature reports are samples."""
    home = await _join_home(zha)
    household = await _household(hass, freezer, _household_data(home))
    freezer.tick(600)
    home.occupancy.report(OccupancySensing.cluster_id, {OCCUPANCY: 1})
    await hass.async_block_till_done()
    assert household.last_activity_sensor == home.occupancy_entity
    freezer.tick(600)
    home.motion.zone_status_change(Z.Alarm_1)
    await hass.async_block_till_done()
    assert household.last_activity_sensor == home.motion_entity

    home.thermometer.report(TemperatureMeasurement.cluster_id, {MEASURED: 500})
    await hass.async_block_till_done()
    assert hass.states.get(home.temperature_entity).state == "5.0"
    assert household.temperature.as_dict()


async def test_household_set_up_before_zha_is_ready(
    hass: HomeAssistant, zha: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """Sensors whose ZHA device isn't reachable yet are attached at the next minute."""
    home = await _join_home(zha)
    with patch(
        "custom_components.silver_bell.compat._zha_zigpy_device",
        side_effect=LookupError("ZHA is still starting"),
    ):
        household = await _household(hass, freezer, _household_data(home))
    assert home.smoke_entity in household.zigbee.pending
    await advance(hass, freezer, timedelta(minutes=1))
    assert home.smoke_entity in household.zigbee.attached
    assert not household.zigbee.pending

    home.smoke.zone_status_change(Z.Tamper)
    await hass.async_block_till_done()
    fault = _active(household, IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"][home.smoke_entity] == ["tamper"]


async def test_without_zha_internals_entities_still_work(
    hass: HomeAssistant, zha: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """If ZHA's internals can't be reached, Silver Bell falls back to the entities."""
    home = await _join_home(zha)
    with patch(
        "custom_components.silver_bell.compat._zha_zigpy_device",
        side_effect=AttributeError("ZHA's internals are shaped differently"),
    ):
        household = await _household(hass, freezer, _household_data(home))
    assert household.zigbee.attached == frozenset()

    # Unreadable bits stay unread (no fault), but the alarm bit still means fire.
    home.smoke.zone_status_change(Z.Tamper)
    await hass.async_block_till_done()
    assert _active(household, IncidentKind.SENSOR_FAULT) is None
    home.smoke.zone_status_change(Z.Alarm_1)
    await hass.async_block_till_done()
    assert _active(household, IncidentKind.FIRE) is not None


async def test_unload_removes_the_zigpy_listeners(
    hass: HomeAssistant, zha: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """Unloading the household leaves nothing listening on the zigpy cluster."""
    home = await _join_home(zha)
    household = await _household(hass, freezer, _household_data(home))
    cluster = home.smoke.cluster(IasZone.cluster_id)
    listeners = len(cluster._listeners)
    assert await hass.config_entries.async_unload(household.entry.entry_id)
    assert len(cluster._listeners) == listeners - 1
    home.smoke.zone_status_change(Z.Tamper)  # nobody left to hear it
    await hass.async_block_till_done()
