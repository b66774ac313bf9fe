"""Silver Bell: community elderly care on Home Assistant."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.const import CONF_NAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, discovery

from . import blueprint_install
from .compat import HAS_NOTIFY_ENTITY, StoreVersionTooNew, runtime_of, set_runtime_data
from .const import CONF_ROLE, CONFIG_VERSION, DOMAIN, ROLE_HOUSEHOLD, ROLE_HUB
from .household.discovery import async_delete_new_sensor_issues, async_watch_area
from .household.forwarder import async_remove_outbox_store
from .household.runtime import Household
from .household.store import HouseholdStore
from .hub import desk
from .hub.runtime import Hub, async_remove_hub_store
from .hub.services import async_register_hub_services
from .hub.views import async_register_views
from .notify import DATA_NOTIFY_SERVICE
from .services import async_register_services
from .storage import NewerStoreError, async_check_stores, store_error

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.typing import ConfigType

_LOGGER = logging.getLogger(__name__)

DATA_NOTIFY_LOADING = f"{DOMAIN}_notify_loading"

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.SENSOR,
    Platform.SWITCH,
]
if HAS_NOTIFY_ENTITY:  # pragma: no cover - Home Assistant 2024.5+
    PLATFORMS.append(Platform.NOTIFY)

HUB_PLATFORMS: list[Platform] = [Platform.EVENT, Platform.SENSOR]

# The household's stores (incidents and monitors; the outbox), checked at setup.
HOUSEHOLD_STORES = ("household", "outbox")

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the domain services and the hub's HTTP API once per Home Assistant."""
    async_register_services(hass)
    async_register_hub_services(hass)
    async_register_views(hass)
    await desk.async_setup_desk(hass)
    await blueprint_install.async_install_blueprints(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Start a household or the hub.

    Setup tests what the entry truly depends on: its stored state must be readable
    by this release (ConfigEntryError, translated, for data written by a newer
    Silver Bell; nothing is written over it). The household's hub is deliberately
    not a precondition: fire, help and inactivity detection run without it.
    """
    if entry.data.get(CONF_ROLE) == ROLE_HUB:
        hub = Hub(hass, entry)
        try:
            await hub.async_start()  # reads its store before anything else
        except (NewerStoreError, StoreVersionTooNew) as err:
            raise store_error(err, f"{DOMAIN}.hub.{entry.entry_id}") from err
        entry.async_on_unload(entry.add_update_listener(_async_options_updated))
        set_runtime_data(entry, hub)
        await hass.config_entries.async_forward_entry_setups(entry, HUB_PLATFORMS)
        await desk.async_register_panel(hass)
        desk.async_hub_changed(hass, hub)
        return True
    await async_check_stores(hass, entry.entry_id, HOUSEHOLD_STORES)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    household = Household(hass, entry)
    await household.async_start()
    set_runtime_data(entry, household)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await _async_refresh_notify(hass)
    # Sensors that join the household's area later are offered as a repair.
    entry.async_on_unload(async_watch_area(hass, entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Stop a household or the hub, writing its state to disk."""
    if entry.data.get(CONF_ROLE) == ROLE_HUB:
        unloaded = await hass.config_entries.async_unload_platforms(
            entry, HUB_PLATFORMS
        )
        if unloaded and (hub := runtime_of(entry, Hub)) is not None:
            desk.async_remove_panel(hass)
            desk.async_hub_changed(hass, None)
            await hub.async_stop()
            set_runtime_data(entry, None)
        return unloaded
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded and (household := runtime_of(entry, Household)) is not None:
        await household.async_stop()
        set_runtime_data(entry, None)
        await _async_refresh_notify(hass)
    return unloaded


async def _async_refresh_notify(hass: HomeAssistant) -> None:
    """Load the legacy notify platform once; refresh its per-household services."""
    if (service := hass.data.get(DATA_NOTIFY_SERVICE)) is not None:
        await service.async_register_services()
    elif not hass.data.get(DATA_NOTIFY_LOADING):
        hass.data[DATA_NOTIFY_LOADING] = True
        await discovery.async_load_platform(
            hass, Platform.NOTIFY, DOMAIN, {CONF_NAME: DOMAIN}, {}
        )


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete the entry's stored state when the entry is deleted."""
    if entry.data.get(CONF_ROLE) == ROLE_HUB:
        await async_remove_hub_store(hass, entry.entry_id)
        return
    async_delete_new_sensor_issues(hass, entry.entry_id)
    await HouseholdStore(hass, entry.entry_id).async_remove()
    await async_remove_outbox_store(hass, entry.entry_id)


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
    """Apply changed settings.

    Flows that change ``entry.data`` (sensors, pairing, reconfigure) reload the
    entry themselves, so a data-only change is not reloaded twice.
    """
    runtime: Hub | Household | None = runtime_of(entry, Hub) or runtime_of(
        entry, Household
    )
    if runtime is not None and runtime.options == dict(entry.options):
        return
    await hass.config_entries.async_reload(entry.entry_id)
