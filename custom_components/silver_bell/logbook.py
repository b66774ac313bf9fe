"""Describe ``silver_bell_incident`` events in the logbook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_INCIDENT
from .core import messages
from .core.household.incidents import Action
from .core.models import Incident


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe Silver Bell incident events."""

    @callback
    def describe(event: Event) -> dict[str, Any]:
        incident = Incident.from_dict(event.data["incident"])
        return {
            "name": event.data.get("household") or messages.title(hass.config.language),
            "message": messages.incident_text(
                Action(event.data["action"]),
                incident,
                event.data.get("household", ""),
                hass.config.language,
                incident.audit[-1].by,
            ),
        }

    async_describe_event(DOMAIN, EVENT_INCIDENT, describe)
