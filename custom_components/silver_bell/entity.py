"""Base entity for a Silver Bell household device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, MANUFACTURER

if TYPE_CHECKING:
    from .household.runtime import Household


class HouseholdEntity(Entity):
    """An entity of the household device; updated by the household runtime."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, household: Household, description: EntityDescription) -> None:
        """Bind the entity to its household."""
        self.household = household
        self.entity_description = description
        self._attr_unique_id = f"{household.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, household.entry_id)},
            name=household.name,
            manufacturer=MANUFACTURER,
            model="Household",
            entry_type=DeviceEntryType.SERVICE,
            suggested_area=household.area_name,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the household's updates."""
        self.async_on_remove(
            self.household.async_add_listener(self.async_write_ha_state)
        )
