"""Away-mode switch of a household."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant

from .compat import loaded_runtime
from .entity import HouseholdEntity
from .household.runtime import Household

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback


# Actions change the household's incidents: one at a time, in the order they come.
PARALLEL_UPDATES = 1

AWAY = SwitchEntityDescription(key="away", translation_key="away")


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the away-mode switch."""
    household = loaded_runtime(entry, Household)
    async_add_entities([AwaySwitch(household, AWAY)])


class AwaySwitch(HouseholdEntity, SwitchEntity):
    """Away mode: suppresses inactivity alarms only, never fire, help or temperature."""

    @property
    def is_on(self) -> bool:
        """Whether the person is away (by hand or detected at the front door)."""
        state = self.household.away_state
        return bool(state and state.away)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """How away mode was set and since when."""
        state = self.household.away_state
        if state is None or not state.away:
            return {"manual": False, "since": None}
        return {
            "manual": state.manual,
            "since": state.since.isoformat() if state.since else None,
        }

    def shown(self) -> Any:
        """State, attributes and availability."""
        return (self.available, self.is_on, self.extra_state_attributes)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start away mode."""
        self.household.async_set_away(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """End away mode."""
        self.household.async_set_away(False)
