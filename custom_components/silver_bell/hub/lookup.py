"""The hub entry an HTTP request is for: views are registered once, hubs come and go."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from ..compat import runtime_of
from ..const import CONF_ROLE, DOMAIN, ROLE_HUB
from ..core.protocol import Rejection
from .runtime import Hub


def running_hub(hass: HomeAssistant) -> Hub:
    """The loaded hub of this Home Assistant; a 503 rejection while there is none."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if (
            entry.data.get(CONF_ROLE) == ROLE_HUB
            and (hub := runtime_of(entry, Hub)) is not None
        ):
            return hub
    raise Rejection(503, "unavailable", "No Silver Bell hub is running here.")
