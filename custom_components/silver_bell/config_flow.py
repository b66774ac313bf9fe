"""Config flow: choose the role, then set up a household (the hub follows).

Where Home Assistant looks for it. The forms a household shares with its options
flow are in ``household/flow_forms.py``; the options flows are
``household/options_flow.py`` and ``hub/options_flow.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, OptionsFlow
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.util import slugify
import voluptuous as vol

from .compat import ConfigFlowResult
from .const import (
    CONF_AREA,
    CONF_HUB_NAME,
    CONF_HUB_URL,
    CONF_KNOWN_DEVICES,
    CONF_NAME,
    CONF_PAIRING_CODE,
    CONF_ROLE,
    CONFIG_MINOR_VERSION,
    CONFIG_VERSION,
    DOMAIN,
    ROLE_HOUSEHOLD,
    ROLE_HUB,
)
from .household.discovery import NOTHING, Discovery, async_discover
from .household.flow_forms import (
    area_name,
    async_pairing_errors,
    clean_sensors,
    pairing_schema,
    sensor_errors,
    sensor_schema,
    taken_activity,
    update_data_and_reload,
    without_sensors,
)
from .household.options_flow import HouseholdOptionsFlow


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
            "area": area_name(self.hass, self._area),
            "in_use": NOTHING,
            "in_use_by": NOTHING,
            **discovery.placeholders(),
        }
        if user_input is not None:
            errors = sensor_errors(self.hass, user_input, None, placeholders)
            if not errors:
                data: dict[str, Any] = {
                    CONF_ROLE: ROLE_HOUSEHOLD,
                    CONF_NAME: self._name,
                    **clean_sensors(user_input),
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
                sensor_schema(
                    user_input or discovery.sensor_data(),
                    taken_activity(self.hass, None),
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
            errors = sensor_errors(self.hass, user_input, entry.entry_id, placeholders)
            if not errors:
                # Not async_update_reload_and_abort: with the entry's update
                # listener, Home Assistant 2026.x reports that as deprecated.
                update_data_and_reload(
                    self.hass,
                    entry,
                    {**without_sensors(entry.data), **clean_sensors(user_input)},
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                sensor_schema(
                    user_input or entry.data,
                    taken_activity(self.hass, entry.entry_id),
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
            errors, paired = await async_pairing_errors(self.hass, code)
            if not errors:
                update_data_and_reload(self.hass, entry, {**entry.data, **paired})
                return self.async_abort(reason="reauth_successful")
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=pairing_schema(required=True),
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
        return HouseholdOptionsFlow(config_entry)
