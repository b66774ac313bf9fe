"""Base entity for a Silver Bell household device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
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

    _shown: Any = None  # what the entity last wrote (see _async_household_changed)

    async def async_added_to_hass(self) -> None:
        """Follow the household's updates."""
        self.async_on_remove(
            self.household.async_add_listener(self._async_household_changed)
        )

    def shown(self) -> Any:
        """Everything the entity's state shows (value, attributes, availability)."""
        return None

    @callback
    def _async_household_changed(self) -> None:
        """Write the state only when what it shows changed.

        The household re-evaluates on every sensor change; most changes alter
        one or two of its entities. Home Assistant's own state write (building
        the state and its attributes) is the expensive part, so it is skipped
        when nothing would change.
        """
        shown = self.shown()
        if shown is not None and shown == self._shown:
            return
        self._shown = shown
        self.async_write_ha_state()
