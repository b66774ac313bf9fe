"""Base entities of the hub: the hub device and one device per household."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from ..compat import link_to_parent_device
from ..const import DOMAIN, MANUFACTURER

if TYPE_CHECKING:
    from .runtime import Hub


def hub_device_info(hub: Hub) -> DeviceInfo:
    """The hub itself."""
    return DeviceInfo(
        identifiers={(DOMAIN, hub.entry_id)},
        name=hub.entry.title,
        manufacturer=MANUFACTURER,
        model="Community hub",
        entry_type=DeviceEntryType.SERVICE,
    )


def household_device_info(hub: Hub, household_id: str) -> DeviceInfo:
    """A household as the hub sees it: named by its id, never by the elder's name."""
    return link_to_parent_device(
        hub.hass,
        hub.entry_id,
        DeviceInfo(
            identifiers={(DOMAIN, f"{hub.entry_id}_{household_id}")},
            name=household_id,
            manufacturer=MANUFACTURER,
            model="Household (hub view)",
            entry_type=DeviceEntryType.SERVICE,
        ),
        hub_device_info(hub),
    )


class HubEntity(Entity):
    """An entity of the hub or of one household device under the hub."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, hub: Hub, description: EntityDescription, household_id: str | None = None
    ) -> None:
        """Bind to the hub (and a household, for per-household entities)."""
        self.hub = hub
        self.household_id = household_id
        self.entity_description = description
        if household_id is None:
            self._attr_unique_id = f"{hub.entry_id}_{description.key}"
            self._attr_device_info = hub_device_info(hub)
        else:
            self._attr_unique_id = f"{hub.entry_id}_{household_id}_{description.key}"
            self._attr_device_info = household_device_info(hub, household_id)

    async def async_added_to_hass(self) -> None:
        """Follow the hub's updates."""
        self.async_on_remove(
            self.hub.async_add_listener(self.async_write_ha_state, self.household_id)
        )
