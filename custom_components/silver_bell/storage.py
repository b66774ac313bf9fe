"""The one versioned Store every Silver Bell role persists with."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN, STORE_MINOR_VERSION, STORE_VERSION


class VersionedStore(Store[dict[str, Any]]):
    """A Store carrying a version and a migration function from the first release."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> dict[str, Any]:
        """Migrate stored data to the current version (1.1 is the first)."""
        return old_data


def silver_bell_store(hass: HomeAssistant, kind: str, entry_id: str) -> VersionedStore:
    """The store ``silver_bell.<kind>.<entry_id>`` (written atomically)."""
    return VersionedStore(
        hass,
        STORE_VERSION,
        f"{DOMAIN}.{kind}.{entry_id}",
        minor_version=STORE_MINOR_VERSION,
        atomic_writes=True,
    )
