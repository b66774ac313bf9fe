"""Diagnostics downloads (names, addresses, phones and secrets redacted).

A household's download carries its configuration and runtime state; the hub's
carries counts and figures only: its ledger is personal data and stays on the
duty desk and in the per-elder export.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .compat import loaded_runtime
from .const import CONF_AREA, CONF_NAME, CONF_NOTIFY, CONF_ROLE, ROLE_HUB
from .household.runtime import Household
from .hub.runtime import Hub

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
    """Entry configuration and the household's runtime state, or the hub's figures."""
    about = {
        "title": entry.title,
        "version": entry.version,
        "minor_version": entry.minor_version,
        "data": dict(entry.data),
        "options": dict(entry.options),
    }
    if entry.data.get(CONF_ROLE) == ROLE_HUB:
        runtime = _hub_figures(loaded_runtime(entry, Hub))
    else:
        runtime = loaded_runtime(entry, Household).diagnostics()
    return async_redact_data({"entry": about, "runtime": runtime}, TO_REDACT)


def _hub_figures(hub: Hub) -> dict[str, Any]:
    """What community IT needs to see the hub's health: counts, never people."""
    now = dt_util.utcnow()
    active = hub.incidents.active
    heard = sorted(hub.heartbeats.values())
    return {
        "households": len(hub.ledger.households),
        "volunteers": len(hub.ledger.volunteers),
        "incidents": len(hub.incidents.incidents),
        "active_by_colour": dict(Counter(item.colour.value for item in active)),
        "active_by_kind": dict(Counter(item.kind.value for item in active)),
        "households_heard": len(heard),
        "longest_silence_seconds": (
            round((now - heard[0]).total_seconds()) if heard else None
        ),
        "statistics": asdict(hub.view().statistics),
    }
