"""The household's options flow: settings, family languages, sensors, hub pairing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.helpers import selector
import voluptuous as vol

from ..compat import ConfigFlowResult
from ..const import (
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
    CONF_FALSE_ALARM_BUDGET,
    CONF_FIRE_RATE,
    CONF_FIRE_RATE_FLOOR,
    CONF_FIRE_STATIC,
    CONF_GRACE,
    CONF_HEAT_ABOVE,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NIGHT_ALARM,
    CONF_NIGHT_WARNING,
    CONF_NOTIFY,
    CONF_NOTIFY_LANGUAGES,
    CONF_PAIRING_CODE,
    CONF_PRESENCE,
    CONF_SECRET,
    CONF_TEMPERATURE_DURATION,
)
from ..core.hub.people import LANGUAGES
from .discovery import NOTHING
from .flow_forms import (
    async_pairing_errors,
    clean_sensors,
    pairing_schema,
    sensor_errors,
    sensor_schema,
    taken_activity,
    update_data_and_reload,
    without_sensors,
)
from .settings import settings_of


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


def _settings_schema(
    current: Mapping[str, Any], notify_services: list[str]
) -> dict[Any, Any]:
    """The settings form, filled with ``current``."""
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
        CONF_FALSE_ALARM_BUDGET: selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0.5, max=10, step=0.5, mode=selector.NumberSelectorMode.BOX
            )
        ),
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
        vol.Required(key, default=current[key]): field for key, field in fields.items()
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
    return schema


class HouseholdOptionsFlow(OptionsFlow):
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
        return self.async_show_form(
            step_id="settings",
            data_schema=vol.Schema(_settings_schema(current, notify_services)),
            errors=errors,
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
            errors = sensor_errors(
                self.hass, user_input, self._entry.entry_id, placeholders
            )
            if not errors:
                self._update_data_and_reload(
                    {**without_sensors(self._entry.data), **clean_sensors(user_input)}
                )
                return self.async_create_entry(title="", data=dict(self._entry.options))
        return self.async_show_form(
            step_id="sensors",
            data_schema=vol.Schema(
                sensor_schema(
                    user_input or self._entry.data,
                    taken_activity(self.hass, self._entry.entry_id),
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
                errors, paired = await async_pairing_errors(self.hass, code)
                data.update(paired)
            if not errors:
                self._update_data_and_reload(data)
                return self.async_create_entry(title="", data=dict(self._entry.options))
        return self.async_show_form(
            step_id="hub",
            data_schema=pairing_schema(required=False),
            errors=errors,
            description_placeholders={
                "hub": self._entry.data.get(CONF_HUB_URL) or "-",
            },
        )
