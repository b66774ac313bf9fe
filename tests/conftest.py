"""Shared fixtures for Silver Bell tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
import logging
from pathlib import Path
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
from custom_components.silver_bell.hub import runtime as hub_runtime
from custom_components.silver_bell.hub.repository import SqliteRepository

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


# The hub's ledger database is a real file (Home Assistant's Store is mocked in
# memory by the test harness): each test gets its own folder.
REAL_DATABASE_PATH = hub_runtime.database_path


@pytest.fixture(autouse=True)
def hub_database_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the hub's database in the test's folder; check it when a hub stops.

    Every hub that stops must have written everything it holds in memory (the
    records it changed are written, not the whole ledger: a change that is not
    marked would be lost on a restart, and this finds it).
    """
    folder = tmp_path / "hub-db"

    def database_path(hass: HomeAssistant, entry_id: str) -> Path:
        return folder / f"{DOMAIN}.hub.{entry_id}.db"

    monkeypatch.setattr(hub_runtime, "database_path", database_path)
    stop = hub_runtime.Hub.async_stop

    async def checked_stop(hub: hub_runtime.Hub) -> None:
        started = hub._repo is not None
        await stop(hub)
        if started:
            stored = await hub.hass.async_add_executor_job(
                stored_hub, hub_runtime.database_path(hub.hass, hub.entry_id)
            )
            assert_same_as_memory(hub, stored)

    monkeypatch.setattr(hub_runtime.Hub, "async_stop", checked_stop)
    return folder


def stored_hub(path: Path) -> dict[str, Any]:
    """What a hub's database holds, in the shape of the Store of earlier releases."""
    repo = SqliteRepository(path)
    try:
        return repo.load().as_store()
    finally:
        repo.close()


def assert_same_as_memory(hub: hub_runtime.Hub, stored: dict[str, Any]) -> None:
    """The database holds exactly what the hub holds in memory."""

    def by_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in items}

    memory = hub.ledger.as_dict()
    assert by_id(stored["ledger"]["households"]) == by_id(memory["households"])
    assert by_id(stored["ledger"]["volunteers"]) == by_id(memory["volunteers"])
    assert by_id(stored["incidents"]["incidents"]) == by_id(
        hub.incidents.as_dict()["incidents"]
    )
    assert stored["heartbeats"] == {
        key: value.isoformat() for key, value in hub.heartbeats.items()
    }


async def async_stored_hub(hub: hub_runtime.Hub) -> dict[str, Any]:
    """What the hub's database holds now (as the Store of earlier releases)."""
    await hub.async_save()
    return await hub.hass.async_add_executor_job(
        stored_hub, hub_runtime.database_path(hub.hass, hub.entry_id)
    )


def database_bytes(hub: hub_runtime.Hub) -> bytes:
    """The raw bytes of the hub's database files (main file, WAL)."""
    path = hub_runtime.database_path(hub.hass, hub.entry_id)
    return b"".join(
        part.read_bytes()
        for part in (path, path.with_name(path.name + "-wal"))
        if part.exists()
    )
