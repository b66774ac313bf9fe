"""The hub's options flow: settings, and the ledger edited without reloading the entry."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import selector
import voluptuous as vol

from ..compat import ConfigFlowResult, loaded_runtime, runtime_of
from ..const import (
    CONF_COLOUR_PREFIX,
    CONF_DUTY_STAFF,
    CONF_OFFLINE_AFTER_MIN,
    CONF_ORANGE_ESCALATE_MIN,
    CONF_RATE_BURST,
    CONF_RATE_PER_MIN,
    CONF_RED_REPEAT_MIN,
    CONF_RED_TIER2_MIN,
    CONF_RED_TIER3_MIN,
    CONF_RETENTION_DAYS,
)
from ..ledger import LedgerError, Role, Volunteer
from ..models import IncidentKind, Triage
from .runtime import Hub, colour_key, hub_settings
from .services import async_register_household

LANGUAGES = ["zh-Hans", "en"]


def _number(minimum: int, maximum: int) -> selector.NumberSelector:
    """A whole number; its unit is in the field's translated label.

    (A number selector's unit is shown untranslated on Home Assistant 2024.3.)
    """
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _select(
    options: list[str],
    *,
    multiple: bool = False,
    custom: bool = False,
    key: str | None = None,
) -> selector.SelectSelector:
    config = selector.SelectSelectorConfig(
        options=options,
        multiple=multiple,
        custom_value=custom,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
    if key:
        config["translation_key"] = key
    return selector.SelectSelector(config)


def _language() -> selector.LanguageSelector:
    """Home Assistant's language picker, offering the languages pushes are written in.

    The frontend names each language itself (in its own script), so strings.json
    needs no ``selector.language`` entry (hassfest refuses the ``zh-Hans`` key there).
    """
    return selector.LanguageSelector(
        selector.LanguageSelectorConfig(languages=list(LANGUAGES), native_name=True)
    )


class HubOptionsFlow(OptionsFlow):
    """Settings and ledger of the hub."""

    def __init__(self, entry: ConfigEntry) -> None:
        """Keep the entry (never assign self.config_entry: read-only on 2024.11+)."""
        self._entry = entry
        self._code = ""
        self._removing = ""  # the household or volunteer id awaiting confirmation

    @property
    def _hub(self) -> Hub:
        return loaded_runtime(self._entry, Hub)

    def _done(self) -> ConfigFlowResult:
        """Finish without changing settings (so the entry is not reloaded)."""
        return self.async_create_entry(title="", data=dict(self._entry.options))

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What to do."""
        if runtime_of(self._entry, Hub) is None:
            return self.async_abort(reason="not_loaded")
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "add_household",
                "add_volunteer",
                "remove_household",
                "remove_volunteer",
                "hub_settings",
            ],
        )

    async def async_step_hub_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Escalation timers, retention, rate limit, offline detection."""
        if user_input is not None:
            return self.async_create_entry(
                title="",
                data={
                    key: value
                    if key.startswith(CONF_COLOUR_PREFIX) or key == CONF_DUTY_STAFF
                    else int(value)
                    for key, value in user_input.items()
                },
            )
        current = hub_settings(self._entry.options)
        colours = [colour.value for colour in Triage]
        fields: dict[str, Any] = {
            CONF_RED_TIER2_MIN: _number(1, 60),
            CONF_RED_TIER3_MIN: _number(1, 60),
            CONF_RED_REPEAT_MIN: _number(1, 60),
            CONF_ORANGE_ESCALATE_MIN: _number(1, 240),
            CONF_OFFLINE_AFTER_MIN: _number(10, 1440),
            CONF_RETENTION_DAYS: _number(30, 3650),
            CONF_RATE_BURST: _number(10, 10000),
            CONF_RATE_PER_MIN: _number(1, 10000),
            **{
                colour_key(kind): _select(colours, key="colour")
                for kind in IncidentKind
                if kind is not IncidentKind.TEST
            },
        }
        schema: dict[Any, Any] = {
            vol.Required(key, default=current[key]): field
            for key, field in fields.items()
        }
        # Who may open the duty desk besides the administrators (HA user ids).
        schema[
            vol.Optional(CONF_DUTY_STAFF, default=list(current[CONF_DUTY_STAFF]))
        ] = selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=await self._user_options(),
                multiple=True,
                mode=selector.SelectSelectorMode.DROPDOWN,
            )
        )
        return self.async_show_form(
            step_id="hub_settings", data_schema=vol.Schema(schema)
        )

    async def _user_options(self) -> list[selector.SelectOptionDict]:
        """The people who can log in (not administrators: they may anyway)."""
        users = await self.hass.auth.async_get_users()
        return [
            selector.SelectOptionDict(value=user.id, label=user.name or user.id)
            for user in users
            if not user.system_generated and user.is_active and not user.is_admin
        ]

    def _volunteer_options(self) -> list[selector.SelectOptionDict]:
        return [
            selector.SelectOptionDict(value=v.id, label=f"{v.name} ({v.id})")
            for v in self._hub.ledger.volunteers.values()
        ]

    def _household_options(self) -> list[selector.SelectOptionDict]:
        return [
            selector.SelectOptionDict(value=h.id, label=f"{h.elder_name} ({h.id})")
            for h in self._hub.ledger.households.values()
        ]

    async def async_step_keep(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The removal was not confirmed: change nothing."""
        return self.async_abort(reason="nothing_removed")

    async def async_step_add_household(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Register an elder's household; the next step shows its pairing code."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = dict(user_input)
            data["emergency_contacts"] = [
                line.strip()
                for line in str(user_input.get("emergency_contacts", "")).splitlines()
                if line.strip()
            ]
            if not str(data.get("elder_name", "")).strip():
                errors["elder_name"] = "name_required"
            else:
                try:
                    _record, self._code = await async_register_household(
                        self._hub, data
                    )
                except ServiceValidationError as err:
                    errors["base"] = err.translation_key or "unknown"
                else:
                    return await self.async_step_pairing_code()
        volunteers = self._volunteer_options()
        schema = {
            vol.Required("elder_name", default=""): selector.TextSelector(),
            vol.Required("address", default=""): selector.TextSelector(),
            vol.Optional("phone", default=""): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.TEL)
            ),
            vol.Optional("emergency_contacts", default=""): selector.TextSelector(
                selector.TextSelectorConfig(multiline=True)
            ),
            vol.Optional("consent_date"): selector.DateSelector(),
            vol.Optional("volunteers", default=[]): selector.SelectSelector(
                selector.SelectSelectorConfig(options=volunteers, multiple=True)
            ),
            vol.Optional("backup_volunteers", default=[]): selector.SelectSelector(
                selector.SelectSelectorConfig(options=volunteers, multiple=True)
            ),
            vol.Optional("language", default="zh-Hans"): _language(),
        }
        return self.async_show_form(
            step_id="add_household", data_schema=vol.Schema(schema), errors=errors
        )

    async def async_step_pairing_code(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the pairing code to paste into the household's Silver Bell options."""
        if user_input is not None:
            return self._done()
        return self.async_show_form(
            step_id="pairing_code",
            data_schema=vol.Schema({}),
            description_placeholders={"code": self._code},
        )

    async def async_step_add_volunteer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a volunteer, staff member or IT contact."""
        errors: dict[str, str] = {}
        if user_input is not None:
            notify = [
                str(s).strip().removeprefix("notify.")
                for s in user_input.get("notify") or []
            ]
            volunteer = Volunteer(
                id=str(user_input["volunteer_id"]).strip(),
                name=str(user_input["name"]).strip(),
                phone=str(user_input.get("phone", "")),
                notify=[s for s in notify if s],
                role=Role(user_input["role"]),
                language=user_input["language"],
                schedule=user_input.get("schedule"),
            )
            if not volunteer.notify:
                errors["notify"] = "notify_required"
            else:
                try:
                    self._hub.ledger.add_volunteer(volunteer)
                except LedgerError as err:
                    errors["base"] = f"ledger_{err.code}"
                else:
                    await self._hub.async_ledger_changed()
                    return self._done()
        notify_services = sorted(self.hass.services.async_services().get("notify", {}))
        schema = {
            vol.Required("volunteer_id"): selector.TextSelector(),
            vol.Required("name"): selector.TextSelector(),
            vol.Optional("phone", default=""): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.TEL)
            ),
            # Optional and without a default: a required select would open with
            # its first option, another person's phone (checked above instead).
            vol.Optional("notify"): _select(
                notify_services, multiple=True, custom=True
            ),
            vol.Required("role", default=Role.VOLUNTEER.value): _select(
                [role.value for role in Role], key="role"
            ),
            vol.Required("language", default="zh-Hans"): _language(),
            vol.Optional("schedule"): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="schedule")
            ),
        }
        return self.async_show_form(
            step_id="add_volunteer", data_schema=vol.Schema(schema), errors=errors
        )

    async def async_step_remove_household(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose a household to remove from the ledger; the next step confirms."""
        errors: dict[str, str] = {}
        if user_input is not None:
            household_id = user_input.get("household_id") or ""
            if not household_id:
                errors["household_id"] = "required_choice"
            elif household_id not in self._hub.ledger.households:
                errors["base"] = "ledger_unknown_household"
            else:
                self._removing = household_id
                return await self.async_step_remove_household_confirm()
        return self._remove_household_form(errors)

    def _remove_household_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        options = self._household_options()
        if not options:
            return self.async_abort(reason="no_households")
        return self.async_show_form(
            step_id="remove_household",
            data_schema=vol.Schema(
                {
                    # Optional, no default: nothing is preselected (see add_volunteer).
                    vol.Optional("household_id"): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_remove_household_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name the household that would be removed: remove it, or keep it."""
        household = self._hub.ledger.households[self._removing]
        return self.async_show_menu(
            step_id="remove_household_confirm",
            menu_options=["remove_household_confirmed", "keep"],
            description_placeholders={
                "elder_name": household.elder_name,
                "household_id": household.id,
            },
        )

    async def async_step_remove_household_confirmed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Remove the household (its incidents stay for statistics)."""
        try:
            self._hub.ledger.remove_household(self._removing)
        except LedgerError as err:
            return self._remove_household_form({"base": f"ledger_{err.code}"})
        await self._hub.async_ledger_changed()
        return self._done()

    async def async_step_remove_volunteer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose a volunteer to remove; the next step confirms."""
        errors: dict[str, str] = {}
        if user_input is not None:
            volunteer_id = user_input.get("volunteer_id") or ""
            if not volunteer_id:
                errors["volunteer_id"] = "required_choice"
            elif volunteer_id not in self._hub.ledger.volunteers:
                errors["base"] = "ledger_unknown_volunteer"
            else:
                self._removing = volunteer_id
                return await self.async_step_remove_volunteer_confirm()
        return self._remove_volunteer_form(errors)

    def _remove_volunteer_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        options = self._volunteer_options()
        if not options:
            return self.async_abort(reason="no_volunteers")
        return self.async_show_form(
            step_id="remove_volunteer",
            data_schema=vol.Schema(
                {
                    vol.Optional("volunteer_id"): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_remove_volunteer_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name the volunteer who would be removed: remove them, or keep them."""
        volunteer = self._hub.ledger.volunteers[self._removing]
        return self.async_show_menu(
            step_id="remove_volunteer_confirm",
            menu_options=["remove_volunteer_confirmed", "keep"],
            description_placeholders={
                "name": volunteer.name,
                "volunteer_id": volunteer.id,
            },
        )

    async def async_step_remove_volunteer_confirmed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Remove the volunteer and unassign them from their households."""
        try:
            self._hub.ledger.remove_volunteer(self._removing)
        except LedgerError as err:
            return self._remove_volunteer_form({"base": f"ledger_{err.code}"})
        await self._hub.async_ledger_changed()
        return self._done()
