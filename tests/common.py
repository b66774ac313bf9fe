"""Helpers for household tests: set-up and time travel."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
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
    await async_set_time_zone(hass, "Asia/Shanghai")
    if start is not None:
        freezer.move_to(dt_util.as_utc(_local(start)))
    set_sensor_states(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def async_set_time_zone(hass: HomeAssistant, time_zone: str) -> None:
    """Set Home Assistant's time zone on every release.

    2024.3 has only the synchronous ``Config.set_time_zone``; newer releases added
    ``async_set_time_zone`` and later removed the synchronous one.
    """
    setter = getattr(hass.config, "async_set_time_zone", None)
    if setter is not None:
        await setter(time_zone)
    else:
        hass.config.set_time_zone(time_zone)


def device_by_identifier(
    hass: HomeAssistant, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """The config entry's device with this identifier, on every release.

    Newer releases (2026.8+) refuse ``async_get_device(identifiers=...)`` (identifiers
    are unique per config entry only) and offer ``async_get_device_by_identifier``.
    """
    registry = dr.async_get(hass)
    by_identifier = getattr(registry, "async_get_device_by_identifier", None)
    if by_identifier is not None:
        device: dr.DeviceEntry | None = by_identifier(identifier, config_entry_id)
        return device
    device = registry.async_get_device(identifiers={identifier})
    if device is not None and config_entry_id not in device.config_entries:
        return None
    return device


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
