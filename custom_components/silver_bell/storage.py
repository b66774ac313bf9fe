"""The one versioned Store every Silver Bell role persists with."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers.storage import Store

from .compat import StoreVersionTooNew
from .const import DOMAIN, STORE_MINOR_VERSION, STORE_VERSION


class NewerStoreError(Exception):
    """Stored data written by a newer Silver Bell: reading it could lose data."""

    def __init__(self, key: str, version: int) -> None:
        """Name the store and the version found."""
        super().__init__(f"{key} has storage version {version} (> {STORE_VERSION})")
        self.key = key
        self.version = version


class VersionedStore(Store[dict[str, Any]]):
    """A Store carrying a version and a migration function from the first release."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> dict[str, Any]:
        """Migrate stored data to the current version (1.1 is the first, 1.2 now).

        Data of a newer major version is refused: saving it back as ours would
        drop what the newer release wrote (Home Assistant 2024.3 asks us; newer
        releases refuse it themselves, see ``compat.StoreVersionTooNew``).
        """
        if old_major_version > STORE_VERSION:
            raise NewerStoreError(self.key, old_major_version)
        if (
            old_major_version == 1
            and old_minor_version < 2
            and self.key.startswith(f"{DOMAIN}.household.")
        ):
            # 1.2: the household keeps 28 days of activity onsets for the sensor
            # advice (issue 17); none were kept before, and nothing was told yet.
            return {**old_data, "history": None, "insights": None}
        return old_data


def store_error(err: Exception, key: str) -> ConfigEntryError:
    """The translated setup error for a store written by a newer Silver Bell."""
    return ConfigEntryError(
        translation_domain=DOMAIN,
        translation_key="store_from_newer_version",
        translation_placeholders={"store": key, "error": str(err)},
    )


async def async_check_stores(
    hass: HomeAssistant, entry_id: str, kinds: tuple[str, ...]
) -> None:
    """Setup's test: every store of the entry is readable by this release.

    Raises ConfigEntryError (translated) for data written by a newer Silver Bell;
    nothing has started then, so nothing is written over it.
    """
    for kind in kinds:
        store = silver_bell_store(hass, kind, entry_id)
        try:
            await store.async_load()
        except (NewerStoreError, StoreVersionTooNew) as err:
            raise store_error(err, store.key) from err


def silver_bell_store(hass: HomeAssistant, kind: str, entry_id: str) -> VersionedStore:
    """The store ``silver_bell.<kind>.<entry_id>`` (written atomically)."""
    return VersionedStore(
        hass,
        STORE_VERSION,
        f"{DOMAIN}.{kind}.{entry_id}",
        minor_version=STORE_MINOR_VERSION,
        atomic_writes=True,
    )
