"""Silver Bell: community elderly care on Home Assistant."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv

from .compat import get_runtime_data, set_runtime_data
from .const import CONF_ROLE, CONFIG_VERSION, DOMAIN, ROLE_HOUSEHOLD
from .household.runtime import Household
from .household.store import HouseholdStore
from .services import async_register_services

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.typing import ConfigType

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the domain services once per Home Assistant."""
    async_register_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Start a household."""
    household = Household(hass, entry)
    await household.async_start()
    set_runtime_data(entry, household)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Stop a household, writing its state to disk."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded and isinstance(household := get_runtime_data(entry), Household):
        await household.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete the household's stored state when the entry is deleted."""
    await HouseholdStore(hass, entry.entry_id).async_remove()


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Migrate config entries from older versions (1.1 is the first release)."""
    if entry.version > CONFIG_VERSION:
        _LOGGER.error("Cannot downgrade Silver Bell entry %s", entry.title)
        return False
    if entry.data.get(CONF_ROLE) is None:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_ROLE: ROLE_HOUSEHOLD}
        )
    return True


async def _async_options_updated(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Apply changed settings or sensors."""
    await hass.config_entries.async_reload(entry.entry_id)
