"""Buttons of a household: I'm OK, acknowledge, test alarm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant

from .compat import loaded_runtime
from .core.models import IncidentState
from .entity import HouseholdEntity
from .household.runtime import Household

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback


# Actions change the household's incidents: one at a time, in the order they come.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class HouseholdButtonDescription(ButtonEntityDescription):
    """A household button and what it does."""

    press_fn: Callable[[Household, str], Any]


BUTTONS: tuple[HouseholdButtonDescription, ...] = (
    HouseholdButtonDescription(
        key="check_in",
        translation_key="check_in",
        press_fn=lambda household, by: household.async_check_in(by),
    ),
    HouseholdButtonDescription(
        key="acknowledge",
        translation_key="acknowledge",
        press_fn=lambda household, by: household.async_transition(
            None, IncidentState.ACKNOWLEDGED, by
        ),
    ),
    HouseholdButtonDescription(
        key="test_alarm",
        translation_key="test_alarm",
        entity_category=EntityCategory.DIAGNOSTIC,
        press_fn=lambda household, by: household.async_test_alarm(by),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the household's buttons."""
    household = loaded_runtime(entry, Household)
    async_add_entities(
        HouseholdButton(household, description) for description in BUTTONS
    )


class HouseholdButton(HouseholdEntity, ButtonEntity):
    """A button of the household device."""

    entity_description: HouseholdButtonDescription

    async def async_added_to_hass(self) -> None:
        """Buttons have no household-driven state; don't follow updates."""

    async def async_press(self) -> None:
        """Do what the button says."""
        by = f"user:{self._context_user()}" if self._context_user() else self.entity_id
        self.entity_description.press_fn(self.household, by)

    def _context_user(self) -> str | None:
        return self._context.user_id if self._context else None
