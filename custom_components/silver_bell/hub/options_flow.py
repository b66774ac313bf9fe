"""The hub's options flow: its menu and settings; the ledger and channel steps are mixins.

``HubOptionsFlow`` is composed of :class:`.ledger_steps.LedgerSteps` (households and
volunteers, edited without reloading the entry) and :class:`.channel_steps.ChannelSteps`
(the hub's own channels); this module adds the menu and the settings form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from homeassistant.helpers import selector
import voluptuous as vol

from ..compat import ConfigFlowResult, runtime_of
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
from ..core.models import IncidentKind, Triage
from .channel_steps import ChannelSteps
from .channels import CONF_CHANNEL_WAIT, CONF_PUBLIC_URL
from .flow_base import number_field, select_field
from .ledger_steps import LedgerSteps
from .runtime import Hub, colour_key, hub_settings


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


def _settings_errors(
    user_input: Mapping[str, Any], typed_url: str, public_url: str | None
) -> dict[str, str]:
    """Field errors of the settings form."""
    errors: dict[str, str] = {}
    if typed_url and public_url is None:
        errors[CONF_PUBLIC_URL] = "invalid_url"
    # Channels are tried within the first tier; the runtime shortens a
    # longer wait anyway, but the form says so instead of hiding it.
    if int(user_input[CONF_CHANNEL_WAIT]) >= 60 * int(user_input[CONF_RED_TIER2_MIN]):
        errors[CONF_CHANNEL_WAIT] = "channel_wait_too_long"
    return errors


def _saved_settings(
    options: Mapping[str, Any], user_input: Mapping[str, Any], public_url: str | None
) -> dict[str, Any]:
    """The entry's new options: the form's settings over the old ones."""
    saved = {
        **options,  # keeps the channels and other settings
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
    saved.pop(CONF_PUBLIC_URL, None)
    if public_url:
        saved[CONF_PUBLIC_URL] = public_url
    return saved


def _settings_schema(
    current: Mapping[str, Any], users: list[selector.SelectOptionDict]
) -> dict[Any, Any]:
    """The settings form; ``users`` are those who may be named duty staff."""
    colours = [colour.value for colour in Triage]
    fields: dict[str, Any] = {
        CONF_RED_TIER2_MIN: number_field(1, 60),
        CONF_RED_TIER3_MIN: number_field(1, 60),
        CONF_RED_REPEAT_MIN: number_field(1, 60),
        CONF_ORANGE_ESCALATE_MIN: number_field(1, 240),
        CONF_CHANNEL_WAIT: number_field(10, 600),
        CONF_OFFLINE_AFTER_MIN: number_field(10, 1440),
        CONF_RETENTION_DAYS: number_field(30, 3650),
        CONF_RATE_BURST: number_field(10, 10000),
        CONF_RATE_PER_MIN: number_field(1, 10000),
        **{
            colour_key(kind): select_field(colours, key="colour")
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
                    description={"suggested_value": current.get(CONF_PUBLIC_URL) or ""},
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
            options=users, multiple=True, mode=selector.SelectSelectorMode.DROPDOWN
        )
    )
    return schema


class HubOptionsFlow(LedgerSteps, ChannelSteps):
    """Settings and ledger of the hub."""

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
            errors = _settings_errors(user_input, typed_url, public_url)
            if not errors:
                return self.async_create_entry(
                    title="",
                    data=_saved_settings(self._entry.options, user_input, public_url),
                )
            # Shown again with what was typed (an emptied list stays empty).
            current = {
                **current,
                **user_input,
                CONF_DUTY_STAFF: list(user_input.get(CONF_DUTY_STAFF) or []),
                CONF_PUBLIC_URL: typed_url,
            }
        return self.async_show_form(
            step_id="hub_settings",
            data_schema=vol.Schema(
                _settings_schema(current, await self._user_options())
            ),
            errors=errors,
        )

    async def _user_options(self) -> list[selector.SelectOptionDict]:
        """The people who can log in (not administrators: they may anyway)."""
        users = await self.hass.auth.async_get_users()
        return [
            selector.SelectOptionDict(value=user.id, label=user.name or user.id)
            for user in users
            if not user.system_generated and user.is_active and not user.is_admin
        ]
