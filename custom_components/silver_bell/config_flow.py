"""Config flow: choose the role, then set up a household (the hub follows)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, OptionsFlow
from homeassistant.core import callback
from homeassistant.helpers import area_registry as ar, selector
from homeassistant.util import slugify
import voluptuous as vol

from .compat import ConfigFlowResult
from .const import (
    CONF_ACTIVITY_SENSORS,
    CONF_AREA,
    CONF_AUTO_AWAY,
    CONF_AWAY_MAX,
    CONF_BASELINE,
    CONF_CEILING_DAY,
    CONF_CEILING_NIGHT,
    CONF_COLD_BELOW,
    CONF_DAY_ALARM,
    CONF_DAY_END,
    CONF_DAY_START,
    CONF_DAY_WARNING,
    CONF_DOOR_SENSOR,
    CONF_FIRE_RATE,
    CONF_FIRE_RATE_FLOOR,
    CONF_FIRE_SENSORS,
    CONF_FIRE_STATIC,
    CONF_GRACE,
    CONF_HEAT_ABOVE,
    CONF_HELP_BUTTONS,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_NAME,
    CONF_HUB_URL,
    CONF_KNOWN_DEVICES,
    CONF_NAME,
    CONF_NIGHT_ALARM,
    CONF_NIGHT_WARNING,
    CONF_NOTIFY,
    CONF_NOTIFY_LANGUAGES,
    CONF_PAIRING_CODE,
    CONF_PRESENCE,
    CONF_ROLE,
    CONF_SECRET,
    CONF_TEMPERATURE_DURATION,
    CONF_TEMPERATURE_SENSORS,
    CONFIG_MINOR_VERSION,
    CONFIG_VERSION,
    DOMAIN,
    ROLE_HOUSEHOLD,
    ROLE_HUB,
)
from .core.hub.people import LANGUAGES
from .core.protocol import decode_pairing
from .household.discovery import NOTHING, Discovery, async_discover
from .household.forwarder import async_test_pairing
from .household.settings import settings_of

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


def _sensor_schema(
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


def _taken_activity(hass: HomeAssistant, entry_id: str | None) -> dict[str, str]:
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


def _sensor_errors(
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
    taken = _taken_activity(hass, entry_id)
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


def _clean(user_input: Mapping[str, Any]) -> dict[str, Any]:
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


async def _async_pairing_errors(
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


def _pairing_schema(required: bool) -> vol.Schema:
    marker = vol.Required if required else vol.Optional
    return vol.Schema(
        {
            marker(CONF_PAIRING_CODE): selector.TextSelector(
                selector.TextSelectorConfig(multiline=True)
            )
        }
    )


def _area_name(hass: HomeAssistant, area_id: str | None) -> str:
    area = ar.async_get(hass).async_get_area(area_id) if area_id else None
    return area.name if area is not None else NOTHING


class SilverBellConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Silver Bell household or community hub."""

    VERSION = CONFIG_VERSION
    MINOR_VERSION = CONFIG_MINOR_VERSION

    # The household being added (set by the household step).
    _name: str = ""
    _area: str | None = None
    _discovery: Discovery | None = None
    # The entry being re-paired (reauth).
    _reauth_entry: ConfigEntry | None = None

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the role of this entry."""
        return self.async_show_menu(step_id="user", menu_options=["household", "hub"])

    async def async_step_hub(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up the community hub (one per Home Assistant)."""
        # Not blocked by a hub flow left open elsewhere (see async_step_household).
        await self.async_set_unique_id(ROLE_HUB, raise_on_progress=False)
        self._abort_if_unique_id_configured()
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input.get(CONF_HUB_NAME, "")).strip()
            if not name:
                errors[CONF_HUB_NAME] = "name_required"
            else:
                return self.async_create_entry(
                    title=name, data={CONF_ROLE: ROLE_HUB, CONF_HUB_NAME: name}
                )
        return self.async_show_form(
            step_id="hub",
            data_schema=vol.Schema(
                {vol.Required(CONF_HUB_NAME, default=""): selector.TextSelector()}
            ),
            errors=errors,
        )

    async def async_step_household(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name the elder and choose the area of the home."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input.get(CONF_NAME, "")).strip()
            if not name:
                errors[CONF_NAME] = "name_required"
            else:
                # A flow for the same name left open (a closed dialog stays in
                # progress until a restart) must not block this one: the first
                # to finish wins, Home Assistant then aborts the other.
                await self.async_set_unique_id(
                    f"household_{slugify(name)}", raise_on_progress=False
                )
                self._abort_if_unique_id_configured()
                self._name = name
                self._area = user_input.get(CONF_AREA) or None
                self._discovery = None
                return await self.async_step_household_sensors()
        defaults = user_input or {}
        area = defaults.get(CONF_AREA)
        schema = {
            vol.Required(
                CONF_NAME, default=defaults.get(CONF_NAME, "")
            ): selector.TextSelector(),
            vol.Optional(
                CONF_AREA, description={"suggested_value": area} if area else None
            ): selector.AreaSelector(),
        }
        return self.async_show_form(
            step_id="household", data_schema=vol.Schema(schema), errors=errors
        )

    async def async_step_household_sensors(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm or edit the sensors found in the area (empty without one).

        The form's text depends on what was found, so it is shown under one of
        four step ids (each with its own translated description): an area with
        sensors, the same with door sensors left to choose, an area without
        sensors, no area.
        """
        if self._discovery is None:
            self._discovery = async_discover(self.hass, self._area)
        discovery = self._discovery
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {
            "area": _area_name(self.hass, self._area),
            "in_use": NOTHING,
            "in_use_by": NOTHING,
            **discovery.placeholders(),
        }
        if user_input is not None:
            errors = _sensor_errors(self.hass, user_input, None, placeholders)
            if not errors:
                data: dict[str, Any] = {
                    CONF_ROLE: ROLE_HOUSEHOLD,
                    CONF_NAME: self._name,
                    **_clean(user_input),
                }
                if self._area:
                    data[CONF_AREA] = self._area
                    # Offered now, kept or not: never offered again as "new".
                    data[CONF_KNOWN_DEVICES] = sorted(discovery.device_ids)
                return self.async_create_entry(title=self._name, data=data)
        if not self._area:
            step_id = "household_sensors_no_area"
        elif not any(discovery.suggestion.sensors.values()):
            step_id = (
                "household_sensors_doors_only"
                if discovery.suggestion.doors_left
                else "household_sensors_none_found"
            )
        elif discovery.suggestion.doors_left:
            step_id = "household_sensors_doors_left"
        else:
            step_id = "household_sensors"
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema(
                _sensor_schema(
                    user_input or discovery.sensor_data(),
                    _taken_activity(self.hass, None),
                )
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_household_sensors_no_area(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The sensors form without an area."""
        return await self.async_step_household_sensors(user_input)

    async def async_step_household_sensors_none_found(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The sensors form for an area without sensors."""
        return await self.async_step_household_sensors(user_input)

    async def async_step_household_sensors_doors_only(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The sensors form for an area with only several door sensors."""
        return await self.async_step_household_sensors(user_input)

    async def async_step_household_sensors_doors_left(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The sensors form with door sensors left to choose."""
        return await self.async_step_household_sensors(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a household's sensors (Home Assistant 2024.4+)."""
        entry = self.hass.config_entries.async_get_entry(self.context["entry_id"])
        assert entry is not None
        errors: dict[str, str] = {}
        placeholders = {"in_use": NOTHING, "in_use_by": NOTHING}
        if user_input is not None:
            errors = _sensor_errors(self.hass, user_input, entry.entry_id, placeholders)
            if not errors:
                # Not async_update_reload_and_abort: with the entry's update
                # listener, Home Assistant 2026.x reports that as deprecated.
                update_data_and_reload(
                    self.hass,
                    entry,
                    {**_without_sensors(entry.data), **_clean(user_input)},
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                _sensor_schema(
                    user_input or entry.data,
                    _taken_activity(self.hass, entry.entry_id),
                )
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The hub no longer accepts the household's secret: ask for a new code.

        Started by the household when the hub answers 401 ``bad_signature`` or
        ``unknown_household`` (a rotated or revoked secret). The entry is kept here:
        ``_get_reauth_entry`` does not exist on Home Assistant 2024.3.
        """
        self._reauth_entry = self.hass.config_entries.async_get_entry(
            self.context["entry_id"]
        )
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Paste the new pairing code; it is tested with the hub before saving."""
        entry = self._reauth_entry
        if entry is None or entry.data.get(CONF_ROLE) == ROLE_HUB:
            return self.async_abort(reason="reauth_not_household")
        errors: dict[str, str] = {}
        if user_input is not None:
            code = str(user_input.get(CONF_PAIRING_CODE, "")).strip()
            errors, paired = await _async_pairing_errors(self.hass, code)
            if not errors:
                update_data_and_reload(self.hass, entry, {**entry.data, **paired})
                return self.async_abort(reason="reauth_successful")
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_pairing_schema(required=True),
            errors=errors,
            description_placeholders={
                "name": str(entry.data.get(CONF_NAME, entry.title)),
                "hub": entry.data.get(CONF_HUB_URL) or "-",
            },
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Settings and sensors of a household, or the hub's settings and ledger."""
        if config_entry.data.get(CONF_ROLE) == ROLE_HUB:
            from .hub.options_flow import HubOptionsFlow

            return HubOptionsFlow(config_entry)
        return SilverBellOptionsFlow(config_entry)


def _without_sensors(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in SENSOR_KEYS}


def _minutes(maximum: int) -> selector.NumberSelector:
    """Minutes; "(min)" is in the field's translated label.

    A number selector's unit is shown untranslated on Home Assistant 2024.3.
    """
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=1,
            max=maximum,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _celsius(
    minimum: float, maximum: float, step: float = 0.5
) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement="°C",
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _settings_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Cross-field checks of the settings form."""
    errors: dict[str, str] = {}
    start = time.fromisoformat(user_input[CONF_DAY_START])
    if start == time.fromisoformat(user_input[CONF_DAY_END]):
        errors[CONF_DAY_END] = "day_window_empty"
    if user_input[CONF_DAY_WARNING] >= user_input[CONF_DAY_ALARM]:
        errors[CONF_DAY_WARNING] = "warning_after_alarm"
    if user_input[CONF_NIGHT_WARNING] >= user_input[CONF_NIGHT_ALARM]:
        errors[CONF_NIGHT_WARNING] = "warning_after_alarm"
    if user_input[CONF_CEILING_DAY] < user_input[CONF_DAY_ALARM]:
        errors[CONF_CEILING_DAY] = "ceiling_below_alarm"
    if user_input[CONF_CEILING_NIGHT] < user_input[CONF_NIGHT_ALARM]:
        errors[CONF_CEILING_NIGHT] = "ceiling_below_alarm"
    if user_input[CONF_COLD_BELOW] >= user_input[CONF_HEAT_ABOVE]:
        errors[CONF_COLD_BELOW] = "cold_above_heat"
    if user_input[CONF_FIRE_RATE_FLOOR] >= user_input[CONF_FIRE_STATIC]:
        errors[CONF_FIRE_RATE_FLOOR] = "floor_above_static"
    return errors


class SilverBellOptionsFlow(OptionsFlow):
    """Change a household's settings or sensors without deleting it."""

    def __init__(self, entry: ConfigEntry) -> None:
        """Keep the entry (never assign self.config_entry: read-only on 2024.11+)."""
        self._entry = entry
        self._settings: dict[str, Any] = {}  # the settings form, until languages

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(
            step_id="init", menu_options=["settings", "sensors", "hub"]
        )

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Inactivity, fire, temperature, check-in and family notification settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _settings_errors(user_input)
            if not errors:
                targets = [
                    str(target).strip().removeprefix("notify.")
                    for target in user_input[CONF_NOTIFY]
                ]
                self._settings = {
                    **user_input,
                    CONF_NOTIFY: [t for t in targets if t],
                }
                if not self._settings[CONF_NOTIFY]:
                    return self.async_create_entry(
                        title="", data={**self._settings, CONF_NOTIFY_LANGUAGES: {}}
                    )
                return await self.async_step_family_languages()
        current = settings_of(user_input or self._entry.options)
        notify_services = sorted(self.hass.services.async_services().get("notify", {}))
        fields: dict[str, Any] = {
            CONF_DAY_START: selector.TimeSelector(),
            CONF_DAY_END: selector.TimeSelector(),
            CONF_DAY_WARNING: _minutes(24 * 60),
            CONF_DAY_ALARM: _minutes(24 * 60),
            CONF_NIGHT_WARNING: _minutes(24 * 60),
            CONF_NIGHT_ALARM: _minutes(24 * 60),
            CONF_BASELINE: selector.BooleanSelector(),
            CONF_CEILING_DAY: _minutes(24 * 60),
            CONF_CEILING_NIGHT: _minutes(24 * 60),
            CONF_GRACE: _minutes(120),
            CONF_FIRE_STATIC: _celsius(40, 100),
            CONF_FIRE_RATE: _celsius(1, 30),
            CONF_FIRE_RATE_FLOOR: _celsius(20, 60),
            CONF_COLD_BELOW: _celsius(0, 25),
            CONF_HEAT_ABOVE: _celsius(25, 45),
            CONF_TEMPERATURE_DURATION: _minutes(24 * 60),
            CONF_AUTO_AWAY: selector.BooleanSelector(),
            CONF_AWAY_MAX: _minutes(7 * 24 * 60),
            CONF_NOTIFY: selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=notify_services,
                    multiple=True,
                    custom_value=True,
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            ),
        }
        schema: dict[Any, Any] = {
            vol.Required(key, default=current[key]): field
            for key, field in fields.items()
        }
        # Optional, and can be cleared: a suggested value, not a default.
        schema[
            vol.Optional(
                CONF_PRESENCE,
                description={"suggested_value": current.get(CONF_PRESENCE)},
            )
        ] = selector.EntitySelector(
            selector.EntitySelectorConfig(domain=["person", "device_tracker"])
        )
        return self.async_show_form(
            step_id="settings", data_schema=vol.Schema(schema), errors=errors
        )

    async def async_step_family_languages(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The language of each family notify target (the server's by default).

        One field per target, named by the notify service the family member
        recognises; the step follows the settings form whenever targets are set.
        """
        targets: list[str] = self._settings[CONF_NOTIFY]
        if user_input is not None:
            languages = {
                target: str(user_input.get(target) or "") for target in targets
            }
            return self.async_create_entry(
                title="",
                data={
                    **self._settings,
                    CONF_NOTIFY_LANGUAGES: {
                        target: language
                        for target, language in languages.items()
                        if language in LANGUAGES
                    },
                },
            )
        current = settings_of(self._entry.options)[CONF_NOTIFY_LANGUAGES]
        server = self.hass.config.language
        fallback = server if server in LANGUAGES else LANGUAGES[-1]
        picker = selector.LanguageSelector(
            selector.LanguageSelectorConfig(languages=list(LANGUAGES), native_name=True)
        )
        return self.async_show_form(
            step_id="family_languages",
            data_schema=vol.Schema(
                {
                    vol.Required(target, default=current.get(target, fallback)): picker
                    for target in targets
                }
            ),
        )

    def _update_data_and_reload(self, data: dict[str, Any]) -> None:
        """Save new entry data and reload (queued behind any reload in progress)."""
        update_data_and_reload(self.hass, self._entry, data)

    async def async_step_sensors(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the household's sensors (works on every Home Assistant version)."""
        errors: dict[str, str] = {}
        placeholders = {"in_use": NOTHING, "in_use_by": NOTHING}
        if user_input is not None:
            errors = _sensor_errors(
                self.hass, user_input, self._entry.entry_id, placeholders
            )
            if not errors:
                self._update_data_and_reload(
                    {**_without_sensors(self._entry.data), **_clean(user_input)}
                )
                return self.async_create_entry(title="", data=dict(self._entry.options))
        return self.async_show_form(
            step_id="sensors",
            data_schema=vol.Schema(
                _sensor_schema(
                    user_input or self._entry.data,
                    _taken_activity(self.hass, self._entry.entry_id),
                )
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_hub(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pair with the community hub (paste the code the hub showed), or unpair."""
        errors: dict[str, str] = {}
        if user_input is not None:
            code = str(user_input.get(CONF_PAIRING_CODE, "")).strip()
            data = {
                key: value
                for key, value in self._entry.data.items()
                if key not in (CONF_HUB_URL, CONF_HOUSEHOLD_ID, CONF_SECRET)
            }
            if code:
                errors, paired = await _async_pairing_errors(self.hass, code)
                data.update(paired)
            if not errors:
                self._update_data_and_reload(data)
                return self.async_create_entry(title="", data=dict(self._entry.options))
        return self.async_show_form(
            step_id="hub",
            data_schema=_pairing_schema(required=False),
            errors=errors,
            description_placeholders={
                "hub": self._entry.data.get(CONF_HUB_URL) or "-",
            },
        )
