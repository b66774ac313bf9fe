"""The household store writes learned state soon, once per burst of changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.silver_bell.const import SAVE_DELAY_SECONDS
from custom_components.silver_bell.household.store import HouseholdStore


async def test_a_stream_of_changes_is_written_within_the_delay(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """Changes every second never postpone the write (no debounce), nothing is lost."""
    store = HouseholdStore(hass, "entry01")
    key = "silver_bell.household.entry01"
    built: list[int] = []

    def factory(value: int) -> Any:
        def build() -> dict[str, Any]:
            built.append(value)
            return {"value": value}

        return build

    for second in range(3 * SAVE_DELAY_SECONDS):
        store.schedule(factory(second), immediate=False)
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    # Written at least every SAVE_DELAY_SECONDS, each time the state of then.
    assert len(built) >= 2
    assert hass_storage[key]["data"]["value"] == built[-1]
    # An immediate write replaces a pending one; the next change is written again.
    store.schedule(factory(100), immediate=False)
    store.schedule(factory(101), immediate=True)
    await hass.async_block_till_done()
    assert hass_storage[key]["data"]["value"] == 101
    store.schedule(factory(102), immediate=False)
    freezer.tick(timedelta(seconds=SAVE_DELAY_SECONDS + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass_storage[key]["data"]["value"] == 102
