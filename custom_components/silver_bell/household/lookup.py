"""Names and neighbours of the household's sensors, from Home Assistant's registries.

The engine asks for names through :class:`~..core.household.events.Names`; the
glue asks which room a sensor is in (the routine's context), which battery,
tamper or test entities sit on the same device.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util

from .zigbee import ZigbeeLink, device_class_of, device_siblings, sibling_bits


class Lookup:
    """Registry look-ups for one household (the engine's :class:`Names`)."""

    def __init__(self, hass: HomeAssistant, zigbee: ZigbeeLink) -> None:
        """Look things up in ``hass``; last-seen times also through ``zigbee``."""
        self.hass = hass
        self.zigbee = zigbee

    def area_name(self, area_id: str | None) -> str | None:
        """The name of an area."""
        if area_id and (area := ar.async_get(self.hass).async_get_area(area_id)):
            return area.name
        return None

    def context_of(self, entity_id: str | None) -> str | None:
        """The routine's context of an activity sensor: its area, else the sensor itself."""
        if entity_id is None:
            return None
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None:
            return entity_id
        if entry.area_id:
            return entry.area_id
        if entry.device_id and (
            device := dr.async_get(self.hass).async_get(entry.device_id)
        ):
            return device.area_id or entity_id
        return entity_id

    def device_name(self, entity_id: str) -> str | None:
        """The name of the entity's device, as the family named it."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None or entry.device_id is None:
            return None
        device = dr.async_get(self.hass).async_get(entry.device_id)
        if device is None:
            return None
        return device.name_by_user or device.name

    def room_name(self, entity_id: str) -> str | None:
        """Where a sensor is: its area, else its device's or its own name."""
        context = self.context_of(entity_id)
        if context is not None and context != entity_id:
            area = ar.async_get(self.hass).async_get_area(context)
            if area is not None:
                return area.name
        if name := self.device_name(entity_id):
            return name
        state = self.hass.states.get(entity_id)
        if state is not None and (friendly := state.attributes.get("friendly_name")):
            return str(friendly)
        return entity_id

    def last_seen(self, entity_id: str) -> str | None:
        """When the Zigbee stack last heard from the sensor's device (ISO), if it says."""
        seen = self.zigbee.link(entity_id).get("last_seen")
        return seen if isinstance(seen, str) else None

    def batteries(self, watched: list[str]) -> dict[str, str]:
        """Battery sensors on the same devices as the watched entities."""
        found: dict[str, str] = {}
        for entity_id in watched:
            for sibling in device_siblings(self.hass, entity_id):
                if sibling.domain == "sensor" and device_class_of(sibling) == "battery":
                    found.setdefault(sibling.entity_id, entity_id)
        return found

    def health_siblings(self, watched: list[str]) -> dict[str, dict[str, int]]:
        """Binary sensors beside the watched ones that report their device's health."""
        siblings: dict[str, dict[str, int]] = {}
        for entity_id in watched:
            found = {
                sibling: bit
                for sibling, bit in sibling_bits(self.hass, entity_id).items()
                if sibling not in watched
            }
            if found:
                siblings[entity_id] = found
        return siblings

    def test_siblings(self, entity_id: str) -> list[str]:
        """The detector's sibling 'test' binary sensors (Zigbee2MQTT's ``test``)."""
        return [
            sibling.entity_id
            for sibling in device_siblings(self.hass, entity_id)
            if sibling.domain == "binary_sensor"
            and (
                sibling.entity_id.endswith("_test")
                or sibling.translation_key == "test"
                or (sibling.original_name or "").casefold() == "test"
            )
        ]

    def test_active(self, entity_id: str) -> bool:
        """Whether the detector is in test mode (a sibling 'test' entity is on)."""
        return any(
            (state := self.hass.states.get(sibling)) is not None
            and state.state == STATE_ON
            for sibling in self.test_siblings(entity_id)
        )


def aware(value: Any) -> datetime | None:
    """A timestamp sensor's state as an aware datetime (None for anything else)."""
    if not isinstance(value, str):
        return None
    parsed = dt_util.parse_datetime(value)
    return parsed if parsed is not None and parsed.tzinfo is not None else None
