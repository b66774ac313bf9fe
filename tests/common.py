"""Helpers for household tests: set-up and time travel."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from .conftest import set_sensor_states

NAME = "grandma_li"


def eid(domain: str, key: str) -> str:
    """Entity id of one of the household's entities."""
    return f"{domain}.{NAME}_{key}"


async def setup_household(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    start: str | None = "2026-11-24 08:00:00",
) -> None:
    """Set the clock (Asia/Shanghai), give sensors states and set up the entry."""
    hass.config.set_time_zone("Asia/Shanghai")
    if start is not None:
        freezer.move_to(dt_util.as_utc(_local(start)))
    set_sensor_states(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _local(text: str) -> datetime:
    parsed = dt_util.parse_datetime(text)
    assert parsed is not None
    return parsed.replace(tzinfo=dt_util.get_time_zone("Asia/Shanghai"))


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let time pass in steps of at most one minute, firing timers on the way."""
    remaining = delta
    while remaining > timedelta(0):
        step = min(remaining, timedelta(minutes=1))
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        remaining -= step


async def set_state(
    hass: HomeAssistant, entity_id: str, state: str, **attrs: object
) -> None:
    """Change a sensor and let Silver Bell react."""
    current = hass.states.get(entity_id)
    attributes = dict(current.attributes) if current else {}
    attributes.update(attrs)
    hass.states.async_set(entity_id, state, attributes)
    await hass.async_block_till_done()
