"""Diagnostics download for a household (names, addresses and secrets redacted)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .compat import loaded_runtime
from .const import CONF_AREA, CONF_NAME, CONF_NOTIFY
from .household.runtime import Household

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


TO_REDACT = {
    CONF_NAME,
    CONF_AREA,
    CONF_NOTIFY,
    "household",
    "title",
    "message",
    "address",
    "phone",
    "secret",
    "pairing_code",
    "unique_id",
    "devices",  # device names in sensor-fault details: families name them freely
    "comment",  # the family's words in a satisfaction survey
    # The hub's channels (issue 23): robot keys, signing secrets, SMS keys, PINs.
    "key",
    "access_token",
    "access_key_id",
    "access_key_secret",
    "pin_hash",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry
) -> dict[str, Any]:
    """Entry configuration and the household's runtime state."""
    household = loaded_runtime(entry, Household)
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "version": entry.version,
                "minor_version": entry.minor_version,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "runtime": household.diagnostics(),
        },
        TO_REDACT,
    )
