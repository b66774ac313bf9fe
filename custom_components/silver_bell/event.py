"""Event entities (hub role only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant

from .compat import loaded_runtime
from .hub.event import async_setup_hub_events
from .hub.runtime import Hub

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback


# Entities are updated by push from the household/hub runtime; nothing is polled.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the hub's incident event entity."""
    await async_setup_hub_events(hass, loaded_runtime(entry, Hub), async_add_entities)
