"""The household's forms that the config flow and its options flow share.

The sensor choice (offered, checked and cleaned the same way when a household is
added, reconfigured or changed in its options) and the pairing with the hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers import area_registry as ar, selector
import voluptuous as vol

from ..const import (
    CONF_ACTIVITY_SENSORS,
    CONF_DOOR_SENSOR,
    CONF_FIRE_SENSORS,
    CONF_HELP_BUTTONS,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NAME,
    CONF_PAIRING_CODE,
    CONF_SECRET,
    CONF_TEMPERATURE_SENSORS,
    DOMAIN,
)
from ..core.protocol import decode_pairing
from .discovery import NOTHING
from .forwarder import async_test_pairing

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

SENSOR_KEYS = (
    CONF_ACTIVITY_SENSORS,
    CONF_FIRE_SENSORS,
    CONF_TEMPERATURE_SENSORS,
    CONF_HELP_BUTTONS,
    CONF_DOOR_SENSOR,
)


def _entities(
    domain: str | list[str],
    device_class: list[str] | None = None,
    exclude: list[str] | None = None,
) -> selector.EntitySelector:
    config = selector.EntitySelectorConfig(domain=domain, multiple=True)
    if device_class:
        config["device_class"] = device_class
    if exclude:
        config["exclude_entities"] = exclude
    return selector.EntitySelector(config)


def sensor_schema(
    defaults: Mapping[str, Any], taken: Mapping[str, str] | None = None
) -> dict[vol.Marker, Any]:
    """The sensor fields; ``taken`` (activity sensors of other households) is not offered."""
    door = defaults.get(CONF_DOOR_SENSOR)
    activity = _entities(
        "binary_sensor",
        ["motion", "occupancy", "presence", "vibration", "door", "opening"],
        sorted(taken or {}),
    )
    return {
        vol.Required(
            CONF_ACTIVITY_SENSORS,
            default=[
                entity_id
                for entity_id in defaults.get(CONF_ACTIVITY_SENSORS, [])
                if entity_id not in (taken or {})
            ],
        ): activity,
        vol.Optional(
            CONF_FIRE_SENSORS, default=list(defaults.get(CONF_FIRE_SENSORS, []))
        ): _entities("binary_sensor", ["smoke", "gas", "heat", "carbon_monoxide"]),
        vol.Optional(
            CONF_TEMPERATURE_SENSORS,
            default=list(defaults.get(CONF_TEMPERATURE_SENSORS, [])),
        ): _entities("sensor", ["temperature"]),
        vol.Optional(
            CONF_HELP_BUTTONS, default=list(defaults.get(CONF_HELP_BUTTONS, []))
        ): _entities(["binary_sensor", "event", "button", "input_button"]),
        vol.Optional(
            CONF_DOOR_SENSOR, description={"suggested_value": door} if door else None
        ): selector.EntitySelector(
            selector.EntitySelectorConfig(
                domain="binary_sensor", device_class=["door", "opening", "garage_door"]
            )
        ),
    }


def taken_activity(hass: HomeAssistant, entry_id: str | None) -> dict[str, str]:
    """Activity sensors of the other households: entity id -> that household's title."""
    taken: dict[str, str] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.entry_id == entry_id:
            continue
        for entity_id in entry.data.get(CONF_ACTIVITY_SENSORS, []):
            taken.setdefault(
                str(entity_id), entry.title or entry.data.get(CONF_NAME, "")
            )
    return taken


def sensor_errors(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    entry_id: str | None,
    placeholders: dict[str, str] | None = None,
) -> dict[str, str]:
    """Validate the sensor choice of a household.

    A sensor of another household is named, with that household, in
    ``placeholders`` (``in_use``, ``in_use_by``) for the error text.
    """
    if not user_input.get(CONF_ACTIVITY_SENSORS):
        return {CONF_ACTIVITY_SENSORS: "activity_required"}
    taken = taken_activity(hass, entry_id)
    clash = [e for e in user_input[CONF_ACTIVITY_SENSORS] if e in taken]
    if clash:
        if placeholders is not None:
            placeholders["in_use"] = ", ".join(
                _friendly(hass, entity_id) for entity_id in clash
            )
            placeholders["in_use_by"] = ", ".join(
                dict.fromkeys(taken[entity_id] for entity_id in clash)
            )
        return {CONF_ACTIVITY_SENSORS: "sensors_in_use"}
    return {}


def _friendly(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    name = state.attributes.get("friendly_name") if state is not None else None
    return f"{name} ({entity_id})" if name else entity_id


def clean_sensors(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Sensor data as stored: lists without duplicates, no empty door sensor."""
    data = {
        key: list(dict.fromkeys(user_input.get(key, []))) for key in SENSOR_KEYS[:-1]
    }
    if door := user_input.get(CONF_DOOR_SENSOR):
        data[CONF_DOOR_SENSOR] = door
    return data


def update_data_and_reload(
    hass: HomeAssistant, entry: ConfigEntry, data: Mapping[str, Any]
) -> None:
    """Save new entry data and reload (queued behind any reload in progress)."""
    if hass.config_entries.async_update_entry(entry, data=dict(data)):
        hass.async_create_task(hass.config_entries.async_reload(entry.entry_id))


async def async_pairing_errors(
    hass: HomeAssistant, code: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Decode a pairing code and test it with a signed heartbeat.

    Returns the form errors and, when there are none, the entry data of the pairing.
    """
    try:
        pairing = decode_pairing(code)
    except ValueError:
        return {CONF_PAIRING_CODE: "wrong_code"}, {}
    if error := await async_test_pairing(hass, pairing):
        return {CONF_PAIRING_CODE: error}, {}
    return {}, {
        CONF_HUB_URL: pairing.url,
        CONF_HOUSEHOLD_ID: pairing.household_id,
        CONF_SECRET: pairing.secret,
    }


def pairing_schema(required: bool) -> vol.Schema:
    """The pairing-code field (required when re-pairing, clearable in the options)."""
    marker = vol.Required if required else vol.Optional
    return vol.Schema(
        {
            marker(CONF_PAIRING_CODE): selector.TextSelector(
                selector.TextSelectorConfig(multiline=True)
            )
        }
    )


def area_name(hass: HomeAssistant, area_id: str | None) -> str:
    """The area's name for the form's text."""
    area = ar.async_get(hass).async_get_area(area_id) if area_id else None
    return area.name if area is not None else NOTHING


def without_sensors(data: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data without the sensor choice."""
    return {key: value for key, value in data.items() if key not in SENSOR_KEYS}
