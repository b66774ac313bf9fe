"""Sensors of a household: status, last activity, inactivity, open incident."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .compat import loaded_runtime
from .const import CONF_ROLE, ROLE_HUB
from .core import messages
from .core.models import IncidentKind
from .entity import HouseholdEntity
from .household.runtime import Household
from .household.status import (
    NO_INCIDENT,
    PROGRESS_ACKNOWLEDGED,
    PROGRESS_NONE,
    PROGRESS_ON_THE_WAY,
    PROGRESS_OPTIONS,
    PROGRESS_WAITING,
    STATUS_OPTIONS,
    help_progress,
    household_status,
)
from .hub.runtime import Hub
from .hub.sensor import async_setup_hub_sensors

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback


# Entities are updated by push from the household/hub runtime; nothing is polled.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HouseholdSensorDescription(SensorEntityDescription):
    """A household sensor and how to read it."""

    value_fn: Callable[[Household], str | int | datetime | None]
    attrs_fn: Callable[[Household], Mapping[str, Any]] | None = None
    exists_fn: Callable[[Household], bool] = lambda _household: True


def _inactive_minutes(household: Household) -> int:
    return max(
        int((dt_util.utcnow() - household.last_activity).total_seconds() // 60), 0
    )


def _inactive_text(household: Household) -> str:
    """The silence as "3 h 10 min" / "3小时10分" in the server's language (not "3:10")."""
    return messages.duration_text(
        _inactive_minutes(household) * 60, household.hass.config.language
    )


def _open_incident(household: Household) -> str:
    incident = household.book.most_urgent()
    return NO_INCIDENT if incident is None else incident.kind.value


def _open_incident_attrs(household: Household) -> Mapping[str, Any]:
    incident = household.book.most_urgent()
    if incident is None:
        return {}
    return {
        "incident_id": incident.id,
        "colour": incident.colour.value,
        "state": incident.state.value,
        "since": incident.created_at.isoformat(),
        "check_in_until": incident.grace_until.isoformat()
        if incident.in_grace(dt_util.utcnow()) and incident.grace_until
        else None,
        "test": incident.test,
    }


def _help_progress(household: Household) -> str:
    incident, progress = help_progress(household)
    if incident is None:
        return PROGRESS_NONE
    if progress is None:
        return PROGRESS_WAITING
    if progress.on_the_way_at is not None and progress.resolved_at is None:
        return PROGRESS_ON_THE_WAY
    return PROGRESS_ACKNOWLEDGED if progress.acknowledged_at else PROGRESS_WAITING


def _help_progress_attrs(household: Household) -> Mapping[str, Any]:
    incident, progress = help_progress(household)
    if incident is None:
        return {}
    return {
        "incident_id": incident.id,
        "volunteer": progress.acknowledged_by if progress else None,
        "acknowledged_at": _iso(progress.acknowledged_at) if progress else None,
        "on_the_way_at": _iso(progress.on_the_way_at) if progress else None,
        "delivered": not household.forwarder.has_pending(incident.id)
        if household.forwarder
        else False,
    }


def _inactivity_attrs(household: Household) -> Mapping[str, Any]:
    """Why the silence is judged as it is: room, normal range, alarm point, rule."""
    details = household.inactivity_details()
    verdict = household.inactivity
    return {
        "minutes": _inactive_minutes(household),
        "level": None if verdict is None else str(verdict.level),
        "rule": details["rule"],
        "last_room": details["last_room"],
        "compared_with": details["compared_with"],
        "normal_up_to": details["normal_up_to"],
        "alarm_after": details["alarm_after"],
        "longer_than_usual": details.get("longer_than_usual"),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


SENSORS: tuple[HouseholdSensorDescription, ...] = (
    HouseholdSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=list(STATUS_OPTIONS),
        value_fn=household_status,
    ),
    HouseholdSensorDescription(
        key="last_activity",
        translation_key="last_activity",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda household: household.last_activity,
        attrs_fn=lambda household: {"sensor": household.last_activity_sensor},
    ),
    HouseholdSensorDescription(
        # A text ("3 h 10 min"); the number of minutes is the attribute `minutes`.
        key="inactivity",
        translation_key="inactivity",
        value_fn=_inactive_text,
        attrs_fn=_inactivity_attrs,
    ),
    HouseholdSensorDescription(
        key="open_incident",
        translation_key="open_incident",
        device_class=SensorDeviceClass.ENUM,
        options=[NO_INCIDENT, *(kind.value for kind in IncidentKind)],
        value_fn=_open_incident,
        attrs_fn=_open_incident_attrs,
    ),
    HouseholdSensorDescription(
        key="help_progress",
        translation_key="help_progress",
        device_class=SensorDeviceClass.ENUM,
        options=list(PROGRESS_OPTIONS),
        value_fn=_help_progress,
        attrs_fn=_help_progress_attrs,
        exists_fn=lambda household: household.forwarder is not None,
    ),
    HouseholdSensorDescription(
        key="baseline",
        translation_key="baseline",
        device_class=SensorDeviceClass.ENUM,
        options=["learning", "active", "off"],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda household: (
            "off"
            if not household.baseline_enabled
            else "learning"
            if household.baseline.learning
            else "active"
        ),
        # What the sensors allow (issue 17): none while learning or off.
        attrs_fn=lambda household: household.insights.attributes(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the household's sensors (or the hub's)."""
    if entry.data.get(CONF_ROLE) == ROLE_HUB:
        await async_setup_hub_sensors(
            hass, loaded_runtime(entry, Hub), async_add_entities
        )
        return
    household = loaded_runtime(entry, Household)
    async_add_entities(
        HouseholdSensor(household, description)
        for description in SENSORS
        if description.exists_fn(household)
    )


class HouseholdSensor(HouseholdEntity, SensorEntity):
    """A sensor of the household device."""

    entity_description: HouseholdSensorDescription

    @property
    def native_value(self) -> str | int | datetime | None:
        """Current value."""
        return self.entity_description.value_fn(self.household)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Extra details, where the description has them."""
        if self.entity_description.attrs_fn is None:
            return None
        return self.entity_description.attrs_fn(self.household)

    def shown(self) -> Any:
        """Value, attributes and availability."""
        return (self.available, self.native_value, self.extra_state_attributes)
