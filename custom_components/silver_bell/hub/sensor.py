"""Hub sensors: open incidents, incidents today, response times, satisfaction; per-household status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback

from ..core.models import IncidentKind
from .entity import HubEntity

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddEntitiesCallback

    from .runtime import Hub

NONE = "none"


@dataclass(frozen=True, kw_only=True)
class HubSensorDescription(SensorEntityDescription):
    """A hub-wide sensor."""

    value_fn: Callable[[Hub], float | int | None]


@dataclass(frozen=True, kw_only=True)
class HouseholdViewDescription(SensorEntityDescription):
    """A per-household sensor on the hub."""

    value_fn: Callable[[Hub, str], str | datetime | None]


def _open_kind(hub: Hub, household_id: str) -> str:
    active = hub.view().active_by_household.get(household_id)
    return active[0].kind.value if active else NONE


HUB_SENSORS: tuple[HubSensorDescription, ...] = (
    HubSensorDescription(
        key="open_incidents",
        translation_key="open_incidents",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda hub: hub.statistics().open,
    ),
    HubSensorDescription(
        key="incidents_today",
        translation_key="incidents_today",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda hub: hub.statistics().today,
    ),
    HubSensorDescription(
        key="median_time_to_acknowledge",
        translation_key="median_time_to_acknowledge",
        # Not the duration device class: the frontend shows that as "1:03", which
        # reads as a clock time; "63 s" reads the same in every language and keeps
        # the long-term statistics (same unit).
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda hub: hub.statistics().median_ack_seconds,
    ),
    HubSensorDescription(
        key="acknowledged_within_target",
        translation_key="acknowledged_within_target",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda hub: hub.statistics().ack_within_target_pct,
    ),
    # Satisfaction surveys of the last 30 days (numbers only; comments never).
    HubSensorDescription(
        key="survey_average_rating",
        translation_key="survey_average_rating",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda hub: hub.survey_statistics().average_rating,
    ),
    HubSensorDescription(
        key="surveys_answered",
        translation_key="surveys_answered",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda hub: hub.survey_statistics().answered_pct,
    ),
)

HOUSEHOLD_SENSORS: tuple[HouseholdViewDescription, ...] = (
    HouseholdViewDescription(
        key="status",
        translation_key="household_status",
        device_class=SensorDeviceClass.ENUM,
        options=["ok", "incident", "offline"],
        value_fn=lambda hub, household_id: hub.household_status(household_id),
    ),
    HouseholdViewDescription(
        key="last_heartbeat",
        translation_key="last_heartbeat",
        device_class=SensorDeviceClass.TIMESTAMP,
        # Changes with every heartbeat of every household (thousands of recorder
        # writes an hour on a district hub) and says little the status does not:
        # off by default, one click on the device page turns it on.
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda hub, household_id: hub.heartbeats.get(household_id),
    ),
    HouseholdViewDescription(
        key="open_incident",
        translation_key="open_incident",
        device_class=SensorDeviceClass.ENUM,
        options=[NONE, *(kind.value for kind in IncidentKind)],
        value_fn=_open_kind,
    ),
)


async def async_setup_hub_sensors(
    hass: HomeAssistant, hub: Hub, async_add_entities: AddEntitiesCallback
) -> None:
    """Add hub-wide sensors now and household sensors as households come and go."""
    async_add_entities(HubSensor(hub, description) for description in HUB_SENSORS)
    if not hub.household_entities:  # switched off in the hub's settings
        return
    known: set[str] = set()

    @callback
    def add_new_households() -> None:
        new = [
            household_id
            for household_id in hub.ledger.households
            if household_id not in known
        ]
        known.update(new)
        async_add_entities(
            HouseholdViewSensor(hub, description, household_id)
            for household_id in new
            for description in HOUSEHOLD_SENSORS
        )

    add_new_households()
    hub.entry.async_on_unload(hub.async_add_ledger_listener(add_new_households))


class HubSensor(HubEntity, SensorEntity):
    """A hub-wide sensor."""

    entity_description: HubSensorDescription

    @property
    def native_value(self) -> float | int | None:
        """Current value."""
        return self.entity_description.value_fn(self.hub)


class HouseholdViewSensor(HubEntity, SensorEntity):
    """A sensor of one household device under the hub."""

    entity_description: HouseholdViewDescription

    @property
    def available(self) -> bool:
        """Unavailable once the household was removed from the ledger."""
        return self.household_id in self.hub.ledger.households

    @property
    def native_value(self) -> str | datetime | None:
        """Current value."""
        assert self.household_id is not None
        return self.entity_description.value_fn(self.hub, self.household_id)
