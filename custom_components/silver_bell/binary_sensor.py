"""Binary sensors of a household: inactivity, fire, temperature risk, sensor problem."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant

from .compat import loaded_runtime
from .core.models import IncidentKind, IncidentState
from .entity import HouseholdEntity
from .household.runtime import Household
from .household.status import has_active

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback


# Entities are updated by push from the household/hub runtime; nothing is polled.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HouseholdBinarySensorDescription(BinarySensorEntityDescription):
    """A household alarm and how to read it."""

    is_on_fn: Callable[[Household], bool | None]
    attrs_fn: Callable[[Household], Mapping[str, Any]] | None = None
    exists_fn: Callable[[Household], bool] = lambda _household: True


def _faulty(household: Household) -> Mapping[str, Any]:
    verdict = household.health_verdict
    problems = {} if verdict is None else verdict.problems
    return {
        "summary": household.fault_summary(household.hass.config.language),
        "faulty_sensors": sorted(problems),
        "problems": {
            sensor: [str(item) for item in items]
            for sensor, items in sorted(problems.items())
        },
    }


def _temperature_attrs(household: Household) -> Mapping[str, Any]:
    verdict = household.temperature_verdict
    risks = {} if verdict is None else verdict.risks
    return {"risks": sorted(str(risk) for risk, sensors in risks.items() if sensors)}


def _fire_attrs(household: Household) -> Mapping[str, Any]:
    """While a fire alarm is on: is there smoke now, and what does it wait for.

    The alarm stays on after the smoke clears until a person resolves it; these
    say so instead of a bare "Detected".
    """
    incident = next(
        (
            item
            for item in household.book.active
            if item.kind is IncidentKind.FIRE and not item.test
        ),
        None,
    )
    if incident is None:
        return {}
    smoke = any(
        (state := household.hass.states.get(entity_id)) is not None
        and state.state == STATE_ON
        for entity_id in household.fire_sensors
    )
    return {
        "smoke": "detected" if smoke else "cleared",
        "waiting_for": "acknowledgement"
        if incident.state is IncidentState.OPEN
        else "resolution",
    }


def _hub_attrs(household: Household) -> Mapping[str, Any]:
    forwarder = household.forwarder
    assert forwarder is not None
    return {
        "last_contact": forwarder.last_contact.isoformat()
        if forwarder.last_contact
        else None,
        "pending": len(forwarder.outbox.pending),
        "dead_letters": len(forwarder.outbox.dead_letters),
    }


BINARY_SENSORS: tuple[HouseholdBinarySensorDescription, ...] = (
    HouseholdBinarySensorDescription(
        key="inactivity_alarm",
        translation_key="inactivity_alarm",
        device_class=BinarySensorDeviceClass.SAFETY,
        is_on_fn=lambda household: has_active(household, IncidentKind.INACTIVITY),
    ),
    HouseholdBinarySensorDescription(
        key="fire_alarm",
        translation_key="fire_alarm",
        device_class=BinarySensorDeviceClass.SMOKE,
        is_on_fn=lambda household: has_active(household, IncidentKind.FIRE),
        attrs_fn=_fire_attrs,
    ),
    HouseholdBinarySensorDescription(
        key="temperature_risk",
        translation_key="temperature_risk",
        device_class=BinarySensorDeviceClass.SAFETY,
        is_on_fn=lambda household: has_active(
            household, IncidentKind.COLD, IncidentKind.HEAT
        ),
        attrs_fn=_temperature_attrs,
    ),
    HouseholdBinarySensorDescription(
        key="sensor_problem",
        translation_key="sensor_problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        # Not diagnostic: the auto-generated Overview must show it to the family.
        is_on_fn=lambda household: bool(
            household.health_verdict and household.health_verdict.problems
        ),
        attrs_fn=_faulty,
    ),
    HouseholdBinarySensorDescription(
        key="hub_connection",
        translation_key="hub_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        # Not diagnostic: the auto-generated Overview must show it to the family.
        is_on_fn=lambda household: (
            household.forwarder.connected if household.forwarder else None
        ),
        attrs_fn=_hub_attrs,
        exists_fn=lambda household: household.forwarder is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the household's alarms."""
    household = loaded_runtime(entry, Household)
    async_add_entities(
        HouseholdBinarySensor(household, description)
        for description in BINARY_SENSORS
        if description.exists_fn(household)
    )


class HouseholdBinarySensor(HouseholdEntity, BinarySensorEntity):
    """An alarm of the household device."""

    entity_description: HouseholdBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """Whether the alarm is on."""
        return self.entity_description.is_on_fn(self.household)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Extra details, where the description has them."""
        if self.entity_description.attrs_fn is None:
            return None
        return self.entity_description.attrs_fn(self.household)

    def shown(self) -> Any:
        """State, attributes and availability."""
        return (self.available, self.is_on, self.extra_state_attributes)
