"""Persistence of one household: incidents, learned baseline, monitor state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN, SAVE_DELAY_SECONDS, STORE_MINOR_VERSION, STORE_VERSION


class _VersionedStore(Store[dict[str, Any]]):
    """Store with a migration function from the first release on."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> dict[str, Any]:
        """Migrate stored data to the current version (1.1 is the first)."""
        return old_data


class HouseholdStore:
    """The household's one Store; incident changes are written at once."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store for one config entry."""
        self._hass = hass
        self._store = _VersionedStore(
            hass,
            STORE_VERSION,
            f"{DOMAIN}.household.{entry_id}",
            minor_version=STORE_MINOR_VERSION,
            atomic_writes=True,
        )

    async def async_load(self) -> dict[str, Any]:
        """Stored data (empty on first start)."""
        data = await self._store.async_load()
        return data if isinstance(data, dict) else {}

    def schedule(
        self, factory: Callable[[], dict[str, Any]], *, immediate: bool
    ) -> None:
        """Write now (incidents) or soon (learned state) — nothing is lost on stop."""
        if immediate:
            self._hass.async_create_task(self._store.async_save(factory()))
        else:
            self._store.async_delay_save(factory, SAVE_DELAY_SECONDS)

    async def async_save(self, data: dict[str, Any]) -> None:
        """Write now and wait for it."""
        await self._store.async_save(data)

    async def async_remove(self) -> None:
        """Delete the file (entry removed)."""
        await self._store.async_remove()
