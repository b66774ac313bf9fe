"""The hub's options flow: settings, and the ledger edited without reloading the entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ..compat import ConfigFlowResult, loaded_runtime, runtime_of
from ..const import (
    CONF_COLOUR_PREFIX,
    CONF_DUTY_STAFF,
    CONF_HOUSEHOLD_ENTITIES,
    CONF_OFFLINE_AFTER_MIN,
    CONF_ORANGE_ESCALATE_MIN,
    CONF_RATE_BURST,
    CONF_RATE_PER_MIN,
    CONF_RED_REPEAT_MIN,
    CONF_RED_TIER2_MIN,
    CONF_RED_TIER3_MIN,
    CONF_RETENTION_DAYS,
)
from ..core.hub.people import LedgerError, Role, Volunteer
from ..core.hub.pushes import test_message_text, test_sms_params
from ..core.messages import language_for
from ..core.models import IncidentKind, Triage
from .channels import (
    CONF_CHANNEL_WAIT,
    CONF_CHANNELS,
    CONF_PUBLIC_URL,
    SECRET_KEYS,
    TYPE_DINGTALK,
    TYPE_SMS,
    TYPE_WECOM,
    Channel,
    ChannelConfigError,
    ChannelMessage,
    Outcome,
    build_channel,
    mainland_mobile,
    valid_channel_id,
)
from .runtime import Hub, colour_key, hub_settings
from .services import async_register_household

_LOGGER = logging.getLogger(__name__)

LANGUAGES = ["zh-Hans", "en"]


@dataclass(frozen=True, slots=True)
class _ChannelKind:
    """What one ``add_channel_*`` step asks for."""

    type: str
    provider: str | None  # SMS provider
    secrets: tuple[str, ...]  # password fields, stored under these keys
    texts: tuple[str, ...] = ()  # further required plain fields

    @property
    def required(self) -> tuple[str, ...]:
        return ("channel_id", *self.secrets, *self.texts)


CHANNEL_KINDS: dict[str, _ChannelKind] = {
    "add_channel_wecom": _ChannelKind(TYPE_WECOM, None, ("key",)),
    "add_channel_dingtalk": _ChannelKind(
        TYPE_DINGTALK, None, ("access_token", "secret")
    ),
    "add_channel_sms_aliyun": _ChannelKind(
        TYPE_SMS,
        "aliyun",
        ("access_key_id", "access_key_secret"),
        ("sign_name", "template_code"),
    ),
}
# Never shown back in a form, a placeholder or a log (the id is redacted too).
_HIDDEN_KEYS = SECRET_KEYS | {"access_key_id"}
_MOBILE = re.compile(r"^1\d{10}$")


def _channel_ref(settings: Mapping[str, Any]) -> str:
    return f"{settings.get('type')}:{settings.get('id')}"


def _test_failure(outcome: Outcome, settings: Mapping[str, Any]) -> tuple[str, str]:
    """The form error for a failed test send, and its ``{detail}`` without secrets."""
    if outcome.code == "timeout":
        return "provider_timeout", ""
    if outcome.code == "network":
        return "provider_unreachable", outcome.detail
    detail = outcome.detail or outcome.code
    if outcome.code == "http_error":
        detail = f"HTTP {outcome.detail}"
    for key in _HIDDEN_KEYS:
        if value := str(settings.get(key) or ""):
            detail = detail.replace(value, "***")
    return "provider_refused", detail


def public_url_or_none(value: str) -> str | None:
    """An http(s) address of the hub without path, query or credentials; else None.

    The trailing slash is dropped (accept links append their own path).
    """
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
        or any(char.isspace() for char in value.strip())
    ):
        return None
    return f"{parts.scheme}://{parts.netloc}"


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
                "add_channel",
                "test_channel",
                "remove_channel",
                "hub_settings",
            ],
        )

    async def async_step_hub_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Escalation timers, channels, retention, rate limit, offline detection."""
        errors: dict[str, str] = {}
        current = hub_settings(self._entry.options)
        if user_input is not None:
            typed_url = str(user_input.get(CONF_PUBLIC_URL) or "").strip()
            public_url = public_url_or_none(typed_url) if typed_url else None
            if typed_url and public_url is None:
                errors[CONF_PUBLIC_URL] = "invalid_url"
            # Channels are tried within the first tier; the runtime shortens a
            # longer wait anyway, but the form says so instead of hiding it.
            if int(user_input[CONF_CHANNEL_WAIT]) >= 60 * int(
                user_input[CONF_RED_TIER2_MIN]
            ):
                errors[CONF_CHANNEL_WAIT] = "channel_wait_too_long"
            if not errors:
                options = {
                    **self._entry.options,  # keeps the channels and other settings
                    **{
                        key: value
                        if key.startswith(CONF_COLOUR_PREFIX)
                        or key in (CONF_DUTY_STAFF, CONF_HOUSEHOLD_ENTITIES)
                        else int(value)
                        for key, value in user_input.items()
                        if key != CONF_PUBLIC_URL
                    },
                    CONF_DUTY_STAFF: list(user_input.get(CONF_DUTY_STAFF) or []),
                }
                # Cleared: accept links use Home Assistant's external URL again.
                options.pop(CONF_PUBLIC_URL, None)
                if public_url:
                    options[CONF_PUBLIC_URL] = public_url
                return self.async_create_entry(title="", data=options)
            # Shown again with what was typed (an emptied list stays empty).
            current = {
                **current,
                **user_input,
                CONF_DUTY_STAFF: list(user_input.get(CONF_DUTY_STAFF) or []),
                CONF_PUBLIC_URL: typed_url,
            }
        colours = [colour.value for colour in Triage]
        fields: dict[str, Any] = {
            CONF_RED_TIER2_MIN: _number(1, 60),
            CONF_RED_TIER3_MIN: _number(1, 60),
            CONF_RED_REPEAT_MIN: _number(1, 60),
            CONF_ORANGE_ESCALATE_MIN: _number(1, 240),
            CONF_CHANNEL_WAIT: _number(10, 600),
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
        schema: dict[Any, Any] = {}
        for key, field in fields.items():
            schema[vol.Required(key, default=current[key])] = field
            if key == CONF_CHANNEL_WAIT:
                # Where accept links point; empty: Home Assistant's external URL.
                # Suggested, not default: a cleared field must clear the option.
                schema[
                    vol.Optional(
                        CONF_PUBLIC_URL,
                        description={
                            "suggested_value": current.get(CONF_PUBLIC_URL) or ""
                        },
                    )
                ] = selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                )
        schema[
            vol.Required(
                CONF_HOUSEHOLD_ENTITIES, default=bool(current[CONF_HOUSEHOLD_ENTITIES])
            )
        ] = selector.BooleanSelector()
        # Who may open the duty desk besides the administrators (HA user ids).
        schema[
            # suggested, not default: a list cleared in the form arrives as
            # nothing, which must mean "nobody", not "keep the old list"
            vol.Optional(
                CONF_DUTY_STAFF,
                description={"suggested_value": list(current[CONF_DUTY_STAFF])},
            )
        ] = selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=await self._user_options(),
                multiple=True,
                mode=selector.SelectSelectorMode.DROPDOWN,
            )
        )
        return self.async_show_form(
            step_id="hub_settings", data_schema=vol.Schema(schema), errors=errors
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

    # ------------------------------------------- the hub's own channels (issue 23)
    def _channel_settings(self) -> list[dict[str, Any]]:
        """The ``channels`` option as stored (invalid entries too: they can be removed)."""
        return [
            dict(settings)
            for settings in self._entry.options.get(CONF_CHANNELS) or []
            if isinstance(settings, Mapping)
        ]

    @staticmethod
    def _channel_option(settings: Mapping[str, Any]) -> selector.SelectOptionDict:
        ref = _channel_ref(settings)
        area = str(settings.get("neighbourhood") or "")
        return selector.SelectOptionDict(
            value=ref, label=f"{ref} ({area})" if area else ref
        )

    async def _async_send_test(self, channel: Channel, mobile: str) -> Outcome:
        """Send the catalogue's test message in the channel's language; log the code only."""
        text = test_message_text(channel.language)
        message = ChannelMessage(
            personal_text=text,
            group_text=text,
            mobile=mobile,
            template_params=(
                test_sms_params(channel.language, channel.neighbourhood)
                if channel.type == TYPE_SMS
                else {}
            ),
        )
        outcome = await channel.async_send(async_get_clientsession(self.hass), message)
        _LOGGER.info("Silver Bell channel %s test: %s", channel.ref, outcome.code)
        return outcome

    @staticmethod
    def _check_mobile(user_input: Mapping[str, Any], errors: dict[str, str]) -> str:
        """The test phone's mobile number; a field error when it is missing or wrong."""
        phone = str(user_input.get("test_phone") or "").strip()
        mobile = mainland_mobile(phone)
        if not phone:
            errors["test_phone"] = "required"
        elif not _MOBILE.match(mobile):
            errors["test_phone"] = "invalid_mobile"
        return mobile

    async def async_step_add_channel(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which kind of channel to add."""
        return self.async_show_menu(
            step_id="add_channel", menu_options=[*CHANNEL_KINDS]
        )

    async def async_step_add_channel_wecom(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A WeCom group robot: its webhook key."""
        return await self._async_add_channel("add_channel_wecom", user_input)

    async def async_step_add_channel_dingtalk(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A DingTalk robot: its access token and signing secret."""
        return await self._async_add_channel("add_channel_dingtalk", user_input)

    async def async_step_add_channel_sms_aliyun(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Aliyun SMS: the AccessKey pair, the approved signature and template."""
        return await self._async_add_channel("add_channel_sms_aliyun", user_input)

    def _read_channel(
        self, kind: _ChannelKind, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> dict[str, Any]:
        """The channel's settings as ``build_channels`` reads them; field errors into ``errors``."""
        values = {key: str(value).strip() for key, value in user_input.items()}
        for key in kind.required:
            if not values.get(key):
                errors[key] = "required"
        channel_id = values.get("channel_id", "")
        if channel_id and not valid_channel_id(channel_id):
            errors["channel_id"] = "invalid_id"
        settings: dict[str, Any] = {"id": channel_id, "type": kind.type}
        if kind.provider:
            settings["provider"] = kind.provider
        settings["neighbourhood"] = values.get("neighbourhood", "")
        settings["language"] = values.get("language") or "zh-Hans"
        for key in (*kind.secrets, *kind.texts):
            settings[key] = values.get(key, "")
        if base_url := values.get("base_url", ""):
            if not base_url.startswith(("https://", "http://")):
                errors["base_url"] = "invalid_url"
            settings["base_url"] = base_url
        if "channel_id" not in errors and _channel_ref(settings) in {
            _channel_ref(existing) for existing in self._channel_settings()
        }:
            errors["channel_id"] = "duplicate_channel"
        return settings

    async def _async_add_channel(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Check the fields, send a test message, and save only if it was delivered."""
        kind = CHANNEL_KINDS[step_id]
        errors: dict[str, str] = {}
        detail = ""
        if user_input is not None:
            settings = self._read_channel(kind, user_input, errors)
            mobile = (
                self._check_mobile(user_input, errors) if kind.type == TYPE_SMS else ""
            )
            channel: Channel | None = None
            if not errors:
                try:
                    channel = build_channel(settings)
                except ChannelConfigError as err:  # pragma: no cover - checked above
                    errors[err.field or "base"] = "required"
            if channel is not None:
                outcome = await self._async_send_test(channel, mobile)
                if outcome.ok:
                    return self.async_create_entry(
                        title="",
                        data={
                            **self._entry.options,
                            CONF_CHANNELS: [*self._channel_settings(), settings],
                        },
                    )
                errors["base"], detail = _test_failure(outcome, settings)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self._channel_schema(kind, user_input or {}),
            errors=errors,
            description_placeholders={"detail": detail},
        )

    def _channel_schema(
        self, kind: _ChannelKind, typed: Mapping[str, Any]
    ) -> vol.Schema:
        """The form of one kind; typed values come back, secrets never do."""

        def kept(key: str) -> dict[str, Any]:
            value = typed.get(key)
            return {"suggested_value": value} if value else {}

        text = selector.TextSelector()
        password = selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
        )
        schema: dict[Any, Any] = {
            vol.Required(
                "channel_id", default="", description=kept("channel_id")
            ): text,
            vol.Optional(
                "neighbourhood", default="", description=kept("neighbourhood")
            ): text,
            vol.Required(
                "language",
                default=language_for(self.hass.config.language),
                description=kept("language"),
            ): _language(),
        }
        for key in kind.secrets:
            schema[vol.Required(key, default="")] = password
        for key in kind.texts:
            schema[vol.Required(key, default="", description=kept(key))] = text
        if kind.type == TYPE_SMS:
            schema[
                vol.Required("test_phone", default="", description=kept("test_phone"))
            ] = selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.TEL)
            )
        schema[vol.Optional("base_url", default="", description=kept("base_url"))] = (
            selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            )
        )
        return vol.Schema(schema)

    async def async_step_test_channel(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Send a test message through a configured channel and say how it went."""
        channels = self._hub.channels
        if not channels:
            return self.async_abort(reason="no_channels")
        errors: dict[str, str] = {}
        detail = ""
        if user_input is not None:
            channel = channels.get(str(user_input.get("channel") or ""))
            mobile = ""
            if channel is None:
                errors["channel"] = "required_choice"
            elif channel.type == TYPE_SMS:
                mobile = self._check_mobile(user_input, errors)
            if channel is not None and not errors:
                outcome = await self._async_send_test(channel, mobile)
                if outcome.ok:
                    return self.async_abort(
                        reason="test_sent",
                        description_placeholders={"channel": channel.ref},
                    )
                errors["base"], detail = _test_failure(outcome, channel.settings)
        options = [self._channel_option(ch.settings) for ch in channels.values()]
        return self.async_show_form(
            step_id="test_channel",
            data_schema=vol.Schema(
                {
                    # Optional, no default: nothing is preselected (see add_volunteer).
                    vol.Optional("channel"): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    ),
                    vol.Optional("test_phone", default=""): selector.TextSelector(
                        selector.TextSelectorConfig(type=selector.TextSelectorType.TEL)
                    ),
                }
            ),
            errors=errors,
            description_placeholders={"detail": detail},
        )

    async def async_step_remove_channel(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose a channel to remove; the next step confirms."""
        errors: dict[str, str] = {}
        if user_input is not None:
            ref = str(user_input.get("channel") or "")
            if not ref:
                errors["channel"] = "required_choice"
            elif ref not in {_channel_ref(s) for s in self._channel_settings()}:
                errors["base"] = "unknown_channel"
            else:
                self._removing = ref
                return await self.async_step_remove_channel_confirm()
        return self._remove_channel_form(errors)

    def _remove_channel_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        options = [self._channel_option(s) for s in self._channel_settings()]
        if not options:
            return self.async_abort(reason="no_channels")
        return self.async_show_form(
            step_id="remove_channel",
            data_schema=vol.Schema(
                {
                    vol.Optional("channel"): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_remove_channel_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name the channel and how many volunteers list it: remove it, or keep it."""
        users = sum(
            self._removing in volunteer.notify
            for volunteer in self._hub.ledger.volunteers.values()
        )
        return self.async_show_menu(
            step_id="remove_channel_confirm",
            menu_options=["remove_channel_confirmed", "keep"],
            description_placeholders={
                "channel": self._removing,
                "volunteers": str(users),
            },
        )

    async def async_step_remove_channel_confirmed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Save the channels without it (the hub reloads with the new list)."""
        return self.async_create_entry(
            title="",
            data={
                **self._entry.options,
                CONF_CHANNELS: [
                    settings
                    for settings in self._channel_settings()
                    if _channel_ref(settings) != self._removing
                ],
            },
        )
