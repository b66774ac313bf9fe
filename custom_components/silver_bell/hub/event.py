"""The hub's event entity: one event per incident step (no personal data)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Event, HomeAssistant, callback

from .base import EVENT_HUB_INCIDENT
from .entity import HubEntity

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddEntitiesCallback

    from .runtime import Hub

EVENT_TYPES = [
    "received",
    "escalated",
    "accepted",
    "on_the_way",
    "resolved",
    "survey_answered",  # the satisfaction survey (no rating, no comment)
]
INCIDENT_EVENT = EventEntityDescription(
    key="incident", translation_key="incident", event_types=EVENT_TYPES
)


async def async_setup_hub_events(
    hass: HomeAssistant, hub: Hub, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the incident event entity."""
    async_add_entities([HubIncidentEvent(hub, INCIDENT_EVENT)])


class HubIncidentEvent(HubEntity, EventEntity):
    """Fires for every incident step the duty desk should see."""

    async def async_added_to_hass(self) -> None:
        """Listen to the hub's incident bus events."""
        self.async_on_remove(
            self.hass.bus.async_listen(EVENT_HUB_INCIDENT, self._async_incident)
        )

    @callback
    def _async_incident(self, event: Event) -> None:
        data = dict(event.data)
        action = data.pop("action")
        self._trigger_event(action, data)
        self.async_write_ha_state()
