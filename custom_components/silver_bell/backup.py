"""Backup platform: a consistent copy of the hub's ledger database.

Before Home Assistant copies the configuration folder, each hub finishes the
write under way, folds the WAL into the database file (checkpoint TRUNCATE)
and holds its writer until the backup is done: the file does not change while
it is copied. Meanwhile the intake answers 503 with Retry-After (households
retry), and the hub's own saves wait in memory.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .compat import runtime_of
from .const import CONF_ROLE, DOMAIN, ROLE_HUB
from .hub.runtime import Hub


def _hubs(hass: HomeAssistant) -> list[Hub]:
    return [
        hub
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_ROLE) == ROLE_HUB
        and (hub := runtime_of(entry, Hub)) is not None
    ]


async def async_pre_backup(hass: HomeAssistant) -> None:
    """Checkpoint each hub's database and hold its writer."""
    for hub in _hubs(hass):
        await hub.async_hold_writes()


async def async_post_backup(hass: HomeAssistant) -> None:
    """Let the writers go on."""
    for hub in _hubs(hass):
        hub.async_release_writes()
