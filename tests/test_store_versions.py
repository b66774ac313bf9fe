"""Setup tests what an entry depends on: stored state this release can read.

A store written by a newer Silver Bell (a higher major storage version, e.g. after
a downgrade) stops the entry with a translated ConfigEntryError and is not written
over (saving it back as ours would drop what the newer release wrote). The hub is
deliberately no precondition of a household (see test_forwarding).
"""

from __future__ import annotations

import copy
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import DOMAIN, STORE_VERSION
from custom_components.silver_bell.storage import NewerStoreError, silver_bell_store

from .conftest import set_sensor_states

NEWER = STORE_VERSION + 1


def _newer(key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"version": NEWER, "minor_version": 1, "key": key, "data": data}


@pytest.mark.parametrize("kind", ["household", "outbox"])
async def test_household_store_from_a_newer_release_stops_setup(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    kind: str,
) -> None:
    key = f"{DOMAIN}.{kind}.{household_entry.entry_id}"
    hass_storage[key] = _newer(key, {"written_by": "a newer Silver Bell"})
    before = copy.deepcopy(hass_storage[key])
    set_sensor_states(hass)
    assert not await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    assert household_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass_storage[key] == before  # nothing written over it
    # Translated on releases that render exception translations in the entry (2024.4+).
    assert key in str(household_entry.reason)
    # Nothing of the household runs: no entities, no services answering for it.
    assert not hass.states.async_entity_ids("binary_sensor.grandma_li")
    assert not [
        state
        for state in hass.states.async_all()
        if state.entity_id.startswith(("sensor.grandma_li", "button.grandma_li"))
    ]


async def test_hub_store_from_a_newer_release_stops_setup(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hub_entry: MockConfigEntry,
) -> None:
    key = f"{DOMAIN}.hub.{hub_entry.entry_id}"
    hass_storage[key] = _newer(key, {"ledger": {"future": True}})
    before = copy.deepcopy(hass_storage[key])
    assert not await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert hub_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass_storage[key] == before


async def test_current_and_older_stores_load(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
) -> None:
    key = f"{DOMAIN}.household.{household_entry.entry_id}"
    hass_storage[key] = {"version": STORE_VERSION, "key": key, "data": {}}
    set_sensor_states(hass)
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    assert household_entry.state is ConfigEntryState.LOADED


async def test_the_migration_refuses_newer_data(hass: HomeAssistant) -> None:
    store = silver_bell_store(hass, "household", "x")
    assert await store._async_migrate_func(1, 2, {"a": 1}) == {"a": 1}
    with pytest.raises(NewerStoreError) as err:
        await store._async_migrate_func(NEWER, 1, {})
    assert err.value.version == NEWER
    assert err.value.key == "silver_bell.household.x"


async def test_household_store_1_1_gains_an_empty_history(hass: HomeAssistant) -> None:
    """1.1 -> 1.2: the household keeps an activity history (sensor advice), empty at first."""
    household = silver_bell_store(hass, "household", "x")
    assert await household._async_migrate_func(1, 1, {"a": 1}) == {
        "a": 1,
        "history": None,
        "insights": None,
    }
    outbox = silver_bell_store(hass, "outbox", "x")
    assert await outbox._async_migrate_func(1, 1, {"a": 1}) == {"a": 1}
