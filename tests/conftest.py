"""Shared fixtures for Silver Bell tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
import logging
from typing import Any
from unittest.mock import AsyncMock

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell import blueprint_install
from custom_components.silver_bell.const import (
    CONF_ACTIVITY_SENSORS,
    CONF_DOOR_SENSOR,
    CONF_FIRE_SENSORS,
    CONF_HELP_BUTTONS,
    CONF_HUB_NAME,
    CONF_NAME,
    CONF_ROLE,
    CONF_TEMPERATURE_SENSORS,
    DOMAIN,
    ROLE_HOUSEHOLD,
    ROLE_HUB,
)

MOTION_KITCHEN = "binary_sensor.kitchen_motion"
MOTION_BEDROOM = "binary_sensor.bedroom_motion"
SMOKE = "binary_sensor.kitchen_smoke"
TEMPERATURE = "sensor.living_room_temperature"
HELP = "binary_sensor.help_button"
DOOR = "binary_sensor.front_door"

HOUSEHOLD_DATA: dict[str, Any] = {
    CONF_ROLE: ROLE_HOUSEHOLD,
    CONF_NAME: "Grandma Li",
    CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN, MOTION_BEDROOM],
    CONF_FIRE_SENSORS: [SMOKE],
    CONF_TEMPERATURE_SENSORS: [TEMPERATURE],
    CONF_HELP_BUTTONS: [HELP],
    CONF_DOOR_SENSOR: DOOR,
}


@pytest.fixture
def hub_entry(hass: HomeAssistant) -> MockConfigEntry:
    """The community hub's config entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Jinhua hub",
        data={CONF_ROLE: ROLE_HUB, CONF_HUB_NAME: "Jinhua hub"},
        unique_id=ROLE_HUB,
        entry_id="hub01",
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom integrations in every test."""


@pytest.fixture(autouse=True)
def no_blueprint_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Don't install the blueprints at set-up: the test config dir is in the venv.

    tests/test_blueprint_install.py overrides this fixture and uses a temp dir.
    """
    monkeypatch.setattr(blueprint_install, "async_install_blueprints", AsyncMock())


# Home Assistant logs this (helpers/frame.py) when an integration uses an API that
# is deprecated, usually a year before the API goes away. Both test stages fail on
# it, so the newest-release stage tells us about removals while there is time.
DEPRECATION_REPORT = f"Detected that custom integration '{DOMAIN}'"


def deprecation_reports(records: Iterable[logging.LogRecord]) -> list[str]:
    """The messages among ``records`` that report a deprecated use by Silver Bell."""
    return [
        message
        for record in records
        if DEPRECATION_REPORT in (message := record.getMessage())
    ]


@pytest.fixture(autouse=True)
def fail_on_deprecation_reports(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[None]:
    """Fail any test during which Home Assistant reports a deprecated use by us."""
    yield
    records = [
        record
        for when in ("setup", "call", "teardown")
        for record in caplog.get_records(when)
    ]
    if reports := deprecation_reports(records):
        pytest.fail(
            "Home Assistant reported a deprecated use by Silver Bell:\n"
            + "\n".join(dict.fromkeys(reports)),
            pytrace=False,
        )


def set_sensor_states(hass: HomeAssistant) -> None:
    """Give every watched entity a normal state."""
    hass.states.async_set(MOTION_KITCHEN, "off", {"device_class": "motion"})
    hass.states.async_set(MOTION_BEDROOM, "off", {"device_class": "motion"})
    hass.states.async_set(SMOKE, "off", {"device_class": "smoke"})
    hass.states.async_set(
        TEMPERATURE,
        "21.5",
        {"device_class": "temperature", "unit_of_measurement": "°C"},
    )
    hass.states.async_set(HELP, "off")
    hass.states.async_set(DOOR, "off", {"device_class": "door"})


@pytest.fixture
def household_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A household config entry (not yet set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Grandma Li",
        data=dict(HOUSEHOLD_DATA),
        options={},
        unique_id="household_grandma_li",
        entry_id="household01",
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    return entry
