"""Services, buttons and restart survival of a household."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import CONF_ACTIVITY_SENSORS, CONF_NAME, DOMAIN

from .common import advance, device_by_identifier, eid, set_state, setup_household
from .conftest import SMOKE

OPEN = eid("sensor", "open_incident")


def _device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    device = device_by_identifier(hass, (DOMAIN, entry.entry_id), entry.entry_id)
    assert device is not None
    return device.id


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any] | None = None
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data or {}, blocking=True, return_response=True
    )


async def test_help_acknowledge_resolve(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    device_id = _device_id(hass, household_entry)
    response = await _call(
        hass, "raise_help", {"device_id": device_id, "message": "Fell"}
    )
    incident_id = response["incident_id"]
    assert hass.states.get(OPEN).state == "help"
    again = await _call(hass, "raise_help", {})
    assert again["incident_id"] == incident_id
    await _call(hass, "acknowledge", {"incident_id": incident_id})
    assert hass.states.get(OPEN).attributes["state"] == "acknowledged"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge", {"incident_id": incident_id})
    assert err.value.translation_key == "invalid_transition"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge", {})
    assert err.value.translation_key == "no_open_incident"
    await _call(hass, "resolve", {"resolution": "real_emergency"})
    assert hass.states.get(OPEN).state == "none"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "resolve", {"incident_id": "nope"})
    assert err.value.translation_key == "unknown_incident"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "resolve", {})
    assert err.value.translation_key == "no_open_incident"


async def test_device_selection(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Uncle Wang",
        data={
            CONF_NAME: "Uncle Wang",
            CONF_ACTIVITY_SENSORS: ["binary_sensor.wang_motion"],
        },
    )
    second.add_to_hass(hass)
    await setup_household(hass, household_entry, freezer)  # sets up both entries
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "raise_help", {})
    assert err.value.translation_key == "device_required"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "raise_help", {"device_id": "not-a-device"})
    assert err.value.translation_key == "unknown_device"
    await _call(hass, "raise_help", {"device_id": _device_id(hass, second)})
    assert hass.states.get("sensor.uncle_wang_open_incident").state == "help"
    assert hass.states.get(OPEN).state == "none"
    for entry in (household_entry, second):
        assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "raise_help", {})
    assert err.value.translation_key == "no_household"


async def test_buttons(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await hass.services.async_call(
        "button", "press", {"entity_id": eid("button", "test_alarm")}, blocking=True
    )
    assert hass.states.get(OPEN).state == "test"
    assert hass.states.get(OPEN).attributes["test"] is True
    assert hass.states.get(eid("sensor", "status")).state == "ok"
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": eid("button", "acknowledge_alarm")},
        blocking=True,
    )
    assert hass.states.get(OPEN).attributes["state"] == "acknowledged"


async def test_incidents_survive_restart(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, SMOKE, STATE_ON)
    await advance(
        hass, freezer, timedelta(hours=3, minutes=1)
    )  # inactivity in check-in
    stored = hass_storage[f"{DOMAIN}.household.{household_entry.entry_id}"]
    assert {item["kind"] for item in stored["data"]["incidents"]} == {
        "fire",
        "inactivity",
    }
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()
    # Home Assistant was down for 20 minutes: the check-in ran out meanwhile.
    freezer.tick(timedelta(minutes=20))
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(eid("binary_sensor", "fire_alarm")).state == STATE_ON
    assert hass.states.get(eid("binary_sensor", "inactivity_alarm")).state == STATE_ON
    assert hass.states.get(eid("sensor", "status")).state == "alarm"


async def test_entry_removal_deletes_store(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    await setup_household(hass, household_entry, freezer)
    await hass.config_entries.async_remove(household_entry.entry_id)
    await hass.async_block_till_done()
    assert f"{DOMAIN}.household.{household_entry.entry_id}" not in hass_storage


async def test_options_change_reloads(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    hass.config_entries.async_update_entry(
        household_entry, options={"learned_baseline": False}
    )
    await hass.async_block_till_done()
    assert hass.states.get(eid("sensor", "learned_routine")).state == "off"
