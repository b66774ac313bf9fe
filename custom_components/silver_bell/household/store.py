"""Persistence of one household: incidents, learned baseline, monitor state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant

from ..const import SAVE_DELAY_SECONDS
from ..storage import silver_bell_store


class HouseholdStore:
    """The household's one Store; incident changes are written at once."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store for one config entry."""
        self._hass = hass
        self._store = silver_bell_store(hass, "household", entry_id)
        self._pending = False  # a delayed write is scheduled

    async def async_load(self) -> dict[str, Any]:
        """Stored data (empty on first start)."""
        data = await self._store.async_load()
        return data if isinstance(data, dict) else {}

    def schedule(
        self, factory: Callable[[], dict[str, Any]], *, immediate: bool
    ) -> None:
        """Write now (incidents) or soon (learned state) — nothing is lost on stop.

        "Soon" is at most SAVE_DELAY_SECONDS after the first unsaved change: one
        pending write takes the state as it is when it runs, so a stream of
        sensor changes neither re-arms a timer each time nor postpones the write.
        """
        if immediate:
            self._pending = False
            self._hass.async_create_task(self._store.async_save(factory()))
            return
        if self._pending:
            return
        self._pending = True

        def data() -> dict[str, Any]:
            self._pending = False
            return factory()

        self._store.async_delay_save(data, SAVE_DELAY_SECONDS)

    async def async_save(self, data: dict[str, Any]) -> None:
        """Write now and wait for it."""
        await self._store.async_save(data)

    async def async_remove(self) -> None:
        """Delete the file (entry removed)."""
        await self._store.async_remove()
