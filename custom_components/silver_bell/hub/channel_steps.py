"""The hub's options flow, channel steps: its own WeCom, DingTalk and SMS channels (issue 23)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
import re
from typing import Any

from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ..compat import ConfigFlowResult
from ..core.hub.pushes import test_message_text, test_sms_params
from ..core.messages import language_for
from .channels import (
    CONF_CHANNELS,
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
from .flow_base import HubOptionsFlowBase, language_field

_LOGGER = logging.getLogger(__name__)


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


class ChannelSteps(HubOptionsFlowBase):
    """Add, test and remove the hub's own channels (saved in the entry's options)."""

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
            ): language_field(),
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
        return self._choose_one_form(
            "remove_channel",
            "channel",
            options,
            none_reason="no_channels",
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
