"""Detection paths of a household, end to end through Home Assistant, with time travel."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.loader import async_get_integration
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.silver_bell.const import (
    CONF_AUTO_AWAY,
    CONF_NOTIFY,
    DOMAIN,
    EVENT_INCIDENT,
)
from custom_components.silver_bell.core.models import IncidentKind

from .common import advance, device_by_identifier, eid, set_state, setup_household
from .conftest import DOOR, HELP, MOTION_BEDROOM, MOTION_KITCHEN, SMOKE, TEMPERATURE

STATUS = eid("sensor", "status")
OPEN = eid("sensor", "open_incident")
INACTIVITY = eid("binary_sensor", "inactivity_alarm")
FIRE = eid("binary_sensor", "fire_alarm")
TEMP_RISK = eid("binary_sensor", "temperature_risk")
PROBLEM = eid("binary_sensor", "sensor_problem")
AWAY = eid("switch", "away_mode")
CHECK_IN = eid("button", "i_m_ok")


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _attr(hass: HomeAssistant, entity_id: str, name: str) -> object:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.attributes[name]


async def _motion(hass: HomeAssistant, entity_id: str = MOTION_KITCHEN) -> None:
    await set_state(hass, entity_id, STATE_ON)
    await set_state(hass, entity_id, STATE_OFF)


def _with_family(hass: HomeAssistant, entry: MockConfigEntry) -> list:
    hass.config_entries.async_update_entry(entry, options={CONF_NOTIFY: ["family"]})
    return async_mock_service(hass, "notify", "family")


async def test_setup_unload(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    assert household_entry.state is ConfigEntryState.LOADED
    assert _state(hass, STATUS) == "ok"
    assert _state(hass, OPEN) == "none"
    assert _state(hass, FIRE) == STATE_OFF
    assert _state(hass, eid("sensor", "time_without_activity")) == "0 min"
    assert _state(hass, eid("sensor", "learned_routine")) == "learning"
    device = device_by_identifier(
        hass, (DOMAIN, household_entry.entry_id), household_entry.entry_id
    )
    assert device is not None
    assert device.name == "Grandma Li"
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()
    assert household_entry.state is ConfigEntryState.NOT_LOADED


async def test_household_without_a_zigbee_network_sets_up(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """ZHA is only an after-dependency: a Zigbee2MQTT or plain-entity home never needs it.

    The manifest lists ``zha`` in ``after_dependencies`` (hassfest requires it for the
    lazy ZHA import in compat.py); that only orders set-up when ZHA is configured.
    """
    integration = await async_get_integration(hass, DOMAIN)
    assert "zha" in integration.after_dependencies
    assert "zha" not in integration.dependencies
    # The smoke detector comes from a Zigbee2MQTT bridge (a device of the MQTT
    # integration); the other sensors are plain entities with no device at all.
    mqtt_entry = MockConfigEntry(domain="mqtt")
    mqtt_entry.add_to_hass(hass)
    detector = dr.async_get(hass).async_get_or_create(
        config_entry_id=mqtt_entry.entry_id,
        identifiers={("mqtt", "zigbee2mqtt_0x00158d0001a2b3c4")},
        manufacturer="Xiaomi",
        name="Kitchen smoke detector",
    )
    er.async_get(hass).async_get_or_create(
        "binary_sensor",
        "mqtt",
        "0x00158d0001a2b3c4_smoke_zigbee2mqtt",
        suggested_object_id="kitchen_smoke",
        device_id=detector.id,
    )
    await setup_household(hass, household_entry, freezer)
    assert household_entry.state is ConfigEntryState.LOADED
    assert "zha" not in hass.config.components
    assert _state(hass, STATUS) == "ok"
    await set_state(hass, SMOKE, STATE_ON)
    assert _state(hass, FIRE) == STATE_ON
    await set_state(hass, MOTION_KITCHEN, STATE_ON)
    assert _state(hass, eid("sensor", "time_without_activity")) == "0 min"
    assert "zha" not in hass.config.components


async def test_inactivity_day_with_grace_and_escalation(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    calls = _with_family(hass, household_entry)
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    await _motion(hass)
    await advance(hass, freezer, timedelta(hours=2, minutes=1))
    assert _state(hass, STATUS) == "warning"
    assert _state(hass, INACTIVITY) == STATE_OFF
    await advance(hass, freezer, timedelta(minutes=59))
    # 3 h without activity: check-in period, not yet sent out
    assert _state(hass, OPEN) == "inactivity"
    assert _state(hass, STATUS) == "warning"
    assert hass.states.get(OPEN).attributes["check_in_until"] is not None
    assert calls == []
    await advance(hass, freezer, timedelta(minutes=10))
    assert _state(hass, STATUS) == "alarm"
    assert _state(hass, INACTIVITY) == STATE_ON
    assert len(calls) == 1
    assert calls[0].data["message"] == (
        "No activity at Grandma Li's home: last seen in "
        f"{MOTION_KITCHEN} 3 h 10 min ago"
    )
    assert calls[0].data["data"]["push"]["interruption-level"] == "critical"
    assert calls[0].data["data"]["channel"] == "alarm_stream"
    assert [event.data["action"] for event in events] == ["opened", "escalated"]
    # Movement after escalation does not close it: a person must.
    await _motion(hass)
    assert _state(hass, INACTIVITY) == STATE_ON
    await hass.services.async_call(
        DOMAIN, "resolve", {"resolution": "resident_ok"}, blocking=True
    )
    await hass.async_block_till_done()
    assert _state(hass, INACTIVITY) == STATE_OFF
    assert _state(hass, STATUS) == "ok"
    assert events[-1].data["action"] == "resolved"
    assert len(calls) == 2


async def test_check_in_button_cancels(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    calls = _with_family(hass, household_entry)
    await setup_household(hass, household_entry, freezer)
    await advance(hass, freezer, timedelta(hours=3, minutes=1))
    assert _state(hass, OPEN) == "inactivity"
    await hass.services.async_call(
        "button", "press", {"entity_id": CHECK_IN}, blocking=True
    )
    await hass.async_block_till_done()
    assert _state(hass, OPEN) == "none"
    assert _state(hass, STATUS) == "ok"
    await advance(hass, freezer, timedelta(minutes=15))
    assert calls == []


async def test_motion_during_grace_cancels(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    await advance(hass, freezer, timedelta(hours=3, minutes=2))
    await _motion(hass, MOTION_BEDROOM)
    assert [event.data["action"] for event in events] == ["opened", "cancelled"]
    assert (
        hass.states.get(eid("sensor", "last_activity")).attributes["sensor"]
        == MOTION_BEDROOM
    )


async def test_late_sleeper_is_judged_by_the_night_rule(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Not up since 01:00: the 10 h night rule alarms at 11:00, no page at 10:00.

    "3 h after 07:00" paged late risers every day (Decision amended 2026-12-07).
    """
    await setup_household(hass, household_entry, freezer, start="2026-11-24 01:00:00")
    await advance(hass, freezer, timedelta(hours=9, minutes=1))  # 10:01
    assert _state(hass, OPEN) == "none"
    await advance(hass, freezer, timedelta(minutes=58))  # 10:59
    assert _state(hass, OPEN) == "none"
    await advance(hass, freezer, timedelta(minutes=2))  # 11:01
    assert _state(hass, OPEN) == "inactivity"


async def test_evening_collapse_alarms_at_night(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer, start="2026-11-24 20:30:00")
    await advance(hass, freezer, timedelta(hours=9, minutes=58))  # 06:28
    assert _state(hass, OPEN) == "none"
    await advance(hass, freezer, timedelta(minutes=3))  # 06:31, 10 h after 20:30
    assert _state(hass, OPEN) == "inactivity"


async def test_unavailable_is_not_activity(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await advance(hass, freezer, timedelta(hours=1))
    await set_state(hass, MOTION_KITCHEN, STATE_UNAVAILABLE)
    await set_state(hass, MOTION_KITCHEN, STATE_ON)
    assert _state(hass, eid("sensor", "time_without_activity")) == "1 h"


async def test_fire_by_smoke(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    calls = _with_family(hass, household_entry)
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, SMOKE, STATE_ON)
    assert _state(hass, FIRE) == STATE_ON
    assert _state(hass, STATUS) == "alarm"
    assert _state(hass, OPEN) == "fire"
    await hass.async_block_till_done()
    assert calls[0].data["message"] == "Fire alarm at Grandma Li's home"
    # The detector going quiet does not close the incident.
    await set_state(hass, SMOKE, STATE_OFF)
    assert _state(hass, FIRE) == STATE_ON


async def test_smoke_after_a_dropout_is_judged_by_the_last_real_state(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Off, dropout, on: a fire (a fire may knock the detector off the network).

    "unavailable" itself is never a fire and never clears one; a detector that
    was already alarming before its dropout raises nothing new.
    """
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, SMOKE, STATE_UNAVAILABLE)
    assert _state(hass, FIRE) == STATE_OFF
    await set_state(hass, SMOKE, STATE_ON)
    assert _state(hass, FIRE) == STATE_ON
    household = household_entry.runtime_data
    fire = household.book.active_of(IncidentKind.FIRE)
    await set_state(hass, SMOKE, STATE_UNAVAILABLE)
    await set_state(hass, SMOKE, STATE_ON)
    assert household.book.active_of(IncidentKind.FIRE) is fire
    assert len(fire.audit) == 1


async def test_detector_test_press_is_not_a_fire(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    registry = er.async_get(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=household_entry.entry_id, identifiers={("zha", "smoke")}
    )
    registry.async_get_or_create(
        "binary_sensor",
        "zha",
        "smoke",
        device_id=device.id,
        suggested_object_id="kitchen_smoke",
    )
    registry.async_get_or_create(
        "binary_sensor",
        "zha",
        "smoke_test",
        device_id=device.id,
        suggested_object_id="kitchen_smoke_test",
    )
    await setup_household(hass, household_entry, freezer)
    hass.states.async_set("binary_sensor.kitchen_smoke_test", STATE_ON)
    await set_state(hass, SMOKE, STATE_ON)
    assert _state(hass, FIRE) == STATE_OFF
    assert _state(hass, OPEN) == "test"
    assert _state(hass, STATUS) == "ok"


async def test_fire_by_static_heat(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, TEMPERATURE, "58")
    assert _state(hass, FIRE) == STATE_ON


async def test_fire_by_rate_of_rise(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await advance(hass, freezer, timedelta(minutes=2))
    await set_state(hass, TEMPERATURE, "25")
    await advance(hass, freezer, timedelta(minutes=2))
    await set_state(hass, TEMPERATURE, "45")  # 10 °C/min, above 35 °C
    assert _state(hass, FIRE) == STATE_ON
    assert hass.states.get(OPEN).attributes["colour"] == "red"


async def test_slow_warming_is_not_a_fire(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    for value in ("24", "27", "30", "33", "36"):
        await advance(hass, freezer, timedelta(minutes=5))
        await set_state(hass, TEMPERATURE, value)
    assert _state(hass, FIRE) == STATE_OFF


async def test_fahrenheit_sensor_is_converted(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, TEMPERATURE, "140", unit_of_measurement="°F")  # 60 °C
    assert _state(hass, FIRE) == STATE_ON


async def test_cold_then_normal(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, TEMPERATURE, "14.5")
    await _motion(hass)
    await advance(hass, freezer, timedelta(hours=1, minutes=59))
    assert _state(hass, TEMP_RISK) == STATE_OFF
    await advance(hass, freezer, timedelta(minutes=2))
    assert _state(hass, TEMP_RISK) == STATE_ON
    assert hass.states.get(TEMP_RISK).attributes["risks"] == ["cold"]
    assert _state(hass, OPEN) == "cold"
    await set_state(hass, TEMPERATURE, "19")
    assert _state(hass, TEMP_RISK) == STATE_OFF


async def test_heat(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, TEMPERATURE, "33.5")
    await _motion(hass)
    await advance(hass, freezer, timedelta(hours=2, minutes=1))
    assert _state(hass, OPEN) == "heat"


async def test_offline_sensor(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, MOTION_BEDROOM, STATE_UNAVAILABLE)
    await advance(hass, freezer, timedelta(minutes=29))
    assert _state(hass, PROBLEM) == STATE_OFF
    await advance(hass, freezer, timedelta(minutes=2))
    assert _state(hass, PROBLEM) == STATE_ON
    assert hass.states.get(PROBLEM).attributes["faulty_sensors"] == [MOTION_BEDROOM]
    await set_state(hass, MOTION_BEDROOM, STATE_OFF)
    assert _state(hass, PROBLEM) == STATE_OFF


async def test_low_battery(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    registry = er.async_get(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=household_entry.entry_id, identifiers={("zha", "motion")}
    )
    registry.async_get_or_create(
        "binary_sensor",
        "zha",
        "m1",
        device_id=device.id,
        suggested_object_id="kitchen_motion",
    )
    registry.async_get_or_create(
        "sensor",
        "zha",
        "b1",
        device_id=device.id,
        suggested_object_id="kitchen_motion_battery",
        original_device_class="battery",
    )
    hass.states.async_set("sensor.kitchen_motion_battery", "80")
    await setup_household(hass, household_entry, freezer)
    assert _state(hass, PROBLEM) == STATE_OFF
    await set_state(hass, "sensor.kitchen_motion_battery", "9")
    assert _state(hass, PROBLEM) == STATE_ON
    assert hass.states.get(PROBLEM).attributes["problems"] == {
        MOTION_KITCHEN: ["battery_low"]
    }


async def test_flapping_sensor_is_a_named_sensor_problem(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A motion sensor dropping out again and again: a fault naming the device.

    Each dropout is short (no 30-min outage), the comebacks as "on" are no sign
    of life, the outages survive a reload, and 60 min steady closes the fault
    without any new state change (the household's timer).
    """
    calls = _with_family(hass, household_entry)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=household_entry.entry_id,
        identifiers={("zha", "bedroom_motion")},
        name="Bedroom motion sensor",
    )
    er.async_get(hass).async_get_or_create(
        "binary_sensor",
        "zha",
        "bm1",
        device_id=device.id,
        suggested_object_id="bedroom_motion",
    )
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    await _motion(hass, MOTION_BEDROOM)
    last_activity = household.last_activity

    async def dropout() -> None:
        await set_state(hass, MOTION_BEDROOM, STATE_UNAVAILABLE)
        await advance(hass, freezer, timedelta(minutes=3))
        await set_state(hass, MOTION_BEDROOM, STATE_ON)
        await advance(hass, freezer, timedelta(minutes=7))

    for _ in range(3):
        await dropout()
    assert _state(hass, PROBLEM) == STATE_OFF
    # The outages so far are stored and restored.
    assert await hass.config_entries.async_reload(household_entry.entry_id)
    await hass.async_block_till_done()
    household = household_entry.runtime_data
    await set_state(hass, MOTION_BEDROOM, STATE_UNAVAILABLE)  # the fourth in 30 min
    assert _state(hass, PROBLEM) == STATE_ON
    assert hass.states.get(PROBLEM).attributes["problems"] == {
        MOTION_BEDROOM: ["flapping"]
    }
    fault = household.book.active_of(IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"] == {MOTION_BEDROOM: ["flapping"]}
    assert fault.details["devices"] == {MOTION_BEDROOM: "Bedroom motion sensor"}
    assert len(calls) == 1
    assert calls[0].data["message"] == (
        "Sensor problem at Grandma Li's home: Bedroom motion sensor: keeps dropping"
        " out and coming back (weak signal or battery?)"
    )
    await advance(hass, freezer, timedelta(minutes=2))
    back = dt_util.utcnow()
    await set_state(hass, MOTION_BEDROOM, STATE_ON)
    assert household.last_activity == last_activity  # dropouts are no sign of life
    assert household.health_verdict.next_check == back + timedelta(minutes=60)

    await advance(hass, freezer, timedelta(minutes=59))
    assert _state(hass, PROBLEM) == STATE_ON
    await advance(hass, freezer, timedelta(minutes=1))
    assert _state(hass, PROBLEM) == STATE_OFF
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None
    assert fault.audit[-1].note == "sensors_healthy"


async def test_unavailable_written_by_home_assistant_is_not_flapping(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Reloading a sensor's integration again and again is no flapping sensor."""
    await setup_household(hass, household_entry, freezer)
    for _ in range(5):
        # What Home Assistant writes for the entities of an unloaded integration.
        await set_state(hass, SMOKE, STATE_UNAVAILABLE, restored=True)
        await advance(hass, freezer, timedelta(minutes=1))
        await set_state(hass, SMOKE, STATE_OFF)
    assert _state(hass, PROBLEM) == STATE_OFF


async def test_away_mode_suppresses_inactivity_not_fire(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": AWAY}, blocking=True
    )
    assert _state(hass, AWAY) == STATE_ON
    assert _state(hass, STATUS) == "away"
    await advance(hass, freezer, timedelta(hours=4))
    assert _state(hass, OPEN) == "none"
    await set_state(hass, SMOKE, STATE_ON)
    assert _state(hass, FIRE) == STATE_ON
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": AWAY}, blocking=True
    )
    assert _state(hass, AWAY) == STATE_OFF


async def test_automatic_away_at_front_door(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config_entries.async_update_entry(
        household_entry, options={CONF_AUTO_AWAY: True}
    )
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, DOOR, STATE_ON)
    await set_state(hass, DOOR, STATE_OFF)
    await advance(hass, freezer, timedelta(minutes=31))
    assert _state(hass, AWAY) == STATE_ON
    await advance(hass, freezer, timedelta(hours=1))
    assert _state(hass, OPEN) == "none"
    await _motion(hass)
    assert _state(hass, AWAY) == STATE_OFF
    # The outing (ended by activity inside) is learned; the check: test_household_away.
    assert len(household_entry.runtime_data.engine.away.outings) == 1


async def test_automatic_away_is_on_by_default_and_arrival_is_watched(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With a door sensor and default settings: out, then home and silent → alarm."""
    await setup_household(hass, household_entry, freezer, start="2026-11-02 08:00:00")
    await _motion(hass)
    await set_state(hass, DOOR, STATE_ON)
    await set_state(hass, DOOR, STATE_OFF)
    await advance(hass, freezer, timedelta(minutes=31))
    assert _state(hass, AWAY) == STATE_ON
    await advance(hass, freezer, timedelta(hours=2))
    # Coming home, then nothing: a fall in the hall must not look like an outing.
    await set_state(hass, DOOR, STATE_ON)
    await set_state(hass, DOOR, STATE_OFF)
    assert _state(hass, AWAY) == STATE_OFF
    await advance(hass, freezer, timedelta(minutes=31))
    assert _state(hass, AWAY) == STATE_OFF
    await advance(hass, freezer, timedelta(hours=3))
    assert _state(hass, OPEN) == "inactivity"


async def test_ceiling_is_never_below_the_fixed_alarm(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry saved before the ceiling existed keeps its longer alarm times."""
    hass.config_entries.async_update_entry(
        household_entry, options={"night_alarm": 900, "day_alarm": 420}
    )
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    assert household.ceiling.night_alarm == timedelta(hours=15)
    assert household.ceiling.day_alarm == timedelta(hours=7)


async def test_help_button(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, HELP, STATE_UNAVAILABLE)
    await set_state(hass, HELP, STATE_ON)
    assert _state(hass, OPEN) == "none"
    await set_state(hass, HELP, STATE_OFF)
    await set_state(hass, HELP, STATE_ON)
    assert _state(hass, OPEN) == "help"
    assert _state(hass, STATUS) == "alarm"


async def _jump(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_baseline_learns_and_survives_restart(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Eight days of an hourly daytime routine; then a two-hour gap alarms early."""
    await setup_household(hass, household_entry, freezer, start="2026-11-02 07:00:00")
    routine = eid("sensor", "learned_routine")
    for _day in range(8):
        for _hour in range(15):  # 07:00 … 21:00, motion every hour
            await _motion(hass)
            await _jump(hass, freezer, timedelta(hours=1))
        await _motion(hass, MOTION_BEDROOM)  # 22:00, to bed
        await _jump(hass, freezer, timedelta(hours=9))
    assert _state(hass, routine) == "active"
    assert _state(hass, OPEN) == "none"

    assert await hass.config_entries.async_unload(household_entry.entry_id)
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    assert _state(hass, routine) == "active"

    await _motion(
        hass
    )  # 07:00, then nothing: the baseline knows hourly gaps are normal
    await advance(hass, freezer, timedelta(hours=2, minutes=30))
    assert _state(hass, OPEN) == "inactivity"
    rule = hass.states.get(OPEN)
    assert rule is not None
    household = household_entry.runtime_data
    incident = household.book.active_of(IncidentKind.INACTIVITY)
    assert incident.details["rule"] == "baseline"
    # The details explain the alarm (they travel to the hub) ...
    assert incident.details["gap_min"] == 150
    assert incident.details["alarm_after"] == 150  # the 2.5 h floor
    assert incident.details["normal_up_to"] == 60
    assert incident.details["compared_with"] in ("room", "home")
    # ... and so do the attributes of "Time without activity".
    attributes = hass.states.get(eid("sensor", "time_without_activity")).attributes
    assert attributes["rule"] == "baseline"
    assert attributes["level"] == "alarm"
    assert attributes["normal_up_to"] == 60
    assert attributes["alarm_after"] == 150
    assert attributes["longer_than_usual"] == 100
    diagnostics = household.diagnostics()
    assert diagnostics["routine"]["day"]


async def test_away_too_long_then_back(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": AWAY}, blocking=True
    )
    await _jump(hass, freezer, timedelta(hours=12, minutes=1))
    assert _state(hass, OPEN) == "away_too_long"
    assert _state(hass, STATUS) == "alarm"
    assert hass.states.get(AWAY).attributes["manual"] is True
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": AWAY}, blocking=True
    )
    assert _state(hass, OPEN) == "none"


async def test_failed_family_notification_is_logged_on_incident(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass.config_entries.async_update_entry(
        household_entry, options={CONF_NOTIFY: ["broken"]}
    )

    async def fail(call: ServiceCall) -> None:
        raise HomeAssistantError("gateway down")

    hass.services.async_register("notify", "broken", fail)
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, SMOKE, STATE_ON)
    await hass.async_block_till_done()
    incident = household_entry.runtime_data.book.active_of(IncidentKind.FIRE)
    assert incident.audit[-1].note == "notify_failed:broken"
    assert "gateway down" in caplog.text


async def test_area_and_vanishing_sensors(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    area = ar.async_get(hass).async_create("Living room")
    hass.config_entries.async_update_entry(
        household_entry, data={**household_entry.data, "area": area.id}
    )
    await setup_household(hass, household_entry, freezer)
    device = device_by_identifier(
        hass, (DOMAIN, household_entry.entry_id), household_entry.entry_id
    )
    assert device is not None
    assert device.area_id == area.id
    # Entity ids from the registry: since 2025.x Home Assistant prefixes new entity
    # ids of a device in an area with the area's name (living_room_grandma_li_...).
    entities = er.async_get(hass)
    problem = entities.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{household_entry.entry_id}_sensor_problem"
    )
    fire = entities.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{household_entry.entry_id}_fire_alarm"
    )
    assert problem is not None
    assert fire is not None
    hass.states.async_remove(MOTION_KITCHEN)
    await set_state(hass, TEMPERATURE, STATE_UNAVAILABLE)
    await advance(hass, freezer, timedelta(minutes=31))
    assert _attr(hass, problem, "faulty_sensors") == [MOTION_KITCHEN, TEMPERATURE]
    assert _state(hass, fire) == STATE_OFF
