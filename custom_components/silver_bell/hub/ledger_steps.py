"""The hub's options flow, ledger steps: households and volunteers, edited without a reload."""

from __future__ import annotations

from typing import Any

from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import selector
import voluptuous as vol

from ..compat import ConfigFlowResult
from ..core.hub.people import LedgerError, Role, Volunteer
from .flow_base import HubOptionsFlowBase, language_field, select_field
from .services import async_register_household


class LedgerSteps(HubOptionsFlowBase):
    """Add and remove households and volunteers (the ledger, not the entry's options)."""

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
            vol.Optional("language", default="zh-Hans"): language_field(),
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
            vol.Optional("notify"): select_field(
                notify_services, multiple=True, custom=True
            ),
            vol.Required("role", default=Role.VOLUNTEER.value): select_field(
                [role.value for role in Role], key="role"
            ),
            vol.Required("language", default="zh-Hans"): language_field(),
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
        return self._choose_one_form(
            "remove_household",
            "household_id",
            self._household_options(),
            none_reason="no_households",
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
        return self._choose_one_form(
            "remove_volunteer",
            "volunteer_id",
            self._volunteer_options(),
            none_reason="no_volunteers",
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
