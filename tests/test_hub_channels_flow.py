"""Issue 23: adding, testing and removing the hub's channels in its options flow.

Each add sends a real test message to the fake providers of tests/test_channels.py
(local aiohttp servers that check keys and signatures as the providers do); a
channel is saved only when the provider accepted it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.silver_bell.core.hub import pushes
from custom_components.silver_bell.diagnostics import async_get_config_entry_diagnostics
from custom_components.silver_bell.hub import channels as channels_module
from custom_components.silver_bell.hub.links import LINK_PATH
from custom_components.silver_bell.hub.runtime import Hub

from .test_channels import (
    ALI_ID,
    ALI_SECRET,
    DING_SECRET,
    DING_TOKEN,
    WECOM_KEY,
    FakeProviders,
    _hub_and_household,
    _options,
)
from .test_hub import Pager, _call
from .test_hub_options_flow import HUB_URL, _choose, _menu, _submit

WRONG_KEY = "00000000-wrong-key-0000"


@pytest.fixture
async def fake(socket_enabled: None) -> Any:
    """The fake WeCom, DingTalk and Aliyun servers; ``fake.base`` is their address."""
    providers = FakeProviders()
    providers.base = await providers.start()  # type: ignore[attr-defined]
    yield providers
    await providers.close()


def _opens_with(marker: Any) -> Any:
    """What a form field opens with: its default, else its suggested value."""
    if callable(marker.default):
        return marker.default()
    return (marker.description or {}).get("suggested_value")


async def _start(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any] | None = None
) -> Hub:
    Pager(hass)
    hass.config.internal_url = HUB_URL
    if options is not None:
        hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    hub: Hub = entry.runtime_data
    return hub


def _wecom(base: str, key: str = WECOM_KEY, **extra: Any) -> dict[str, Any]:
    return {
        "channel_id": "lane3",
        "neighbourhood": "Jinhua Road",
        "language": "en",
        "key": key,
        "base_url": f"{base}/cgi-bin/webhook/send",
        **extra,
    }


def _saved_wecom(base: str) -> dict[str, Any]:
    return {
        "id": "lane3",
        "type": "wecom",
        "neighbourhood": "Jinhua Road",
        "language": "en",
        "key": WECOM_KEY,
        "base_url": f"{base}/cgi-bin/webhook/send",
    }


async def _add_form(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> Any:
    result = await _menu(hass, entry, "add_channel")
    assert result["type"] == FlowResultType.MENU
    assert result["menu_options"] == [
        "add_channel_wecom",
        "add_channel_dingtalk",
        "add_channel_sms_aliyun",
    ]
    result = await _choose(hass, result, kind)
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == kind
    return result


def _our_logs(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.silver_bell")
    )


def _shown(result: Any) -> str:
    """Everything a re-shown form sends to the browser besides the field types."""
    suggested = [
        (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    ]
    defaults = [
        key.default() if callable(key.default) else None
        for key in result["data_schema"].schema
    ]
    return json.dumps(
        [result.get("description_placeholders"), suggested, defaults], default=str
    )


async def test_add_wecom_channel_sends_test_and_saves(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    fake: FakeProviders,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await _start(hass, hub_entry, {"public_url": "https://bell.example.cn"})
    result = await _add_form(hass, hub_entry, "add_channel_wecom")
    base = fake.base  # type: ignore[attr-defined]
    result = await _submit(hass, result, _wecom(base))
    assert result["type"] == FlowResultType.CREATE_ENTRY
    # The fake accepted the key and got the catalogue's test text, no @mention.
    assert fake.wecom == [
        {"msgtype": "text", "text": {"content": pushes.test_message_text("en")}}
    ]
    assert dict(hub_entry.options) == {
        "public_url": "https://bell.example.cn",
        "channels": [_saved_wecom(base)],
    }
    # The hub reloaded with the channel volunteers can now list.
    assert "wecom:lane3" in hub_entry.runtime_data.channels
    assert WECOM_KEY not in _our_logs(caplog)
    diagnostics = await async_get_config_entry_diagnostics(hass, hub_entry)
    assert WECOM_KEY not in json.dumps(diagnostics, default=str)


async def test_wrong_key_is_refused_and_nothing_saved(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    fake: FakeProviders,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hub = await _start(hass, hub_entry)
    result = await _add_form(hass, hub_entry, "add_channel_wecom")
    result = await _submit(
        hass,
        result,
        _wecom(fake.base, key=WRONG_KEY),  # type: ignore[attr-defined]
    )
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "add_channel_wecom"
    assert result["errors"] == {"base": "provider_refused"}
    assert result["description_placeholders"]["detail"].startswith("93000 ")
    assert WRONG_KEY not in _shown(result)  # secrets are never sent back
    assert "lane3" in _shown(result)  # the rest of what was typed is kept
    assert WRONG_KEY not in _our_logs(caplog)
    assert fake.wecom == []
    assert dict(hub_entry.options) == {}
    assert hub_entry.runtime_data is hub  # no reload
    # Corrected, the same flow saves.
    result = await _submit(hass, result, _wecom(fake.base))  # type: ignore[attr-defined]
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert hub_entry.options["channels"] == [_saved_wecom(fake.base)]  # type: ignore[attr-defined]


async def test_server_error_is_refused(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    await _start(hass, hub_entry)
    fake.mode = "5xx"
    result = await _add_form(hass, hub_entry, "add_channel_wecom")
    result = await _submit(hass, result, _wecom(fake.base))  # type: ignore[attr-defined]
    assert result["errors"] == {"base": "provider_refused"}
    assert result["description_placeholders"] == {"detail": "HTTP 502"}
    assert dict(hub_entry.options) == {}


async def test_timeout_and_unreachable(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    fake: FakeProviders,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _start(hass, hub_entry)
    monkeypatch.setattr(channels_module, "SEND_TIMEOUT_S", 0.2)
    fake.mode = "slow"  # answers only when the test ends
    result = await _add_form(hass, hub_entry, "add_channel_wecom")
    result = await _submit(hass, result, _wecom(fake.base))  # type: ignore[attr-defined]
    assert result["errors"] == {"base": "provider_timeout"}
    # Nothing listens on port 9 of this host.
    result = await _submit(
        hass,
        result,
        _wecom("", base_url="http://127.0.0.1:9/cgi-bin/webhook/send"),
    )
    assert result["errors"] == {"base": "provider_unreachable"}
    assert result["description_placeholders"]["detail"]
    assert dict(hub_entry.options) == {}


async def test_field_errors_send_nothing(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    base = fake.base  # type: ignore[attr-defined]
    options = {"channels": [_saved_wecom(base)]}
    await _start(hass, hub_entry, options)
    result = await _add_form(hass, hub_entry, "add_channel_wecom")
    result = await _submit(
        hass, result, _wecom(base, channel_id="Lane 3", key="  ", base_url="ftp://x")
    )
    assert result["errors"] == {
        "channel_id": "invalid_id",
        "key": "required",
        "base_url": "invalid_url",
    }
    result = await _submit(hass, result, _wecom(base))
    assert result["errors"] == {"channel_id": "duplicate_channel"}
    assert fake.wecom == []
    assert dict(hub_entry.options) == options
    # The same id for another kind of channel is another channel (dingtalk:lane3).
    result = await _add_form(hass, hub_entry, "add_channel_dingtalk")
    result = await _submit(
        hass,
        result,
        {
            "channel_id": "lane3",
            "language": "zh-Hans",
            "access_token": DING_TOKEN,
            "secret": DING_SECRET,
            "base_url": f"{base}/robot/send",
        },
    )
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert fake.dingtalk == [
        {"msgtype": "text", "text": {"content": pushes.test_message_text("zh-Hans")}}
    ]
    assert [c["type"] for c in hub_entry.options["channels"]] == ["wecom", "dingtalk"]


async def test_add_aliyun_sms(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    await _start(hass, hub_entry)
    base = fake.base  # type: ignore[attr-defined]
    result = await _add_form(hass, hub_entry, "add_channel_sms_aliyun")
    sms = {
        "channel_id": "aliyun",
        "neighbourhood": "Jinhua Road",
        "language": "zh-Hans",
        "access_key_id": ALI_ID,
        "access_key_secret": ALI_SECRET,
        "sign_name": "银铃",
        "template_code": "SMS_123",
        "test_phone": "",
        "base_url": f"{base}/",
    }
    result = await _submit(hass, result, sms)
    assert result["errors"] == {"test_phone": "required"}
    result = await _submit(hass, result, {**sms, "test_phone": "12345"})
    assert result["errors"] == {"test_phone": "invalid_mobile"}
    result = await _submit(
        hass,
        result,
        {**sms, "access_key_secret": "wrong", "test_phone": "+86 138 0000 0001"},
    )
    assert result["errors"] == {"base": "provider_refused"}
    assert result["description_placeholders"]["detail"].startswith(
        "SignatureDoesNotMatch"
    )
    assert "138" not in json.dumps(result["description_placeholders"])
    assert fake.sms == []
    result = await _submit(hass, result, {**sms, "test_phone": "13800000002"})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert fake.sms[0]["PhoneNumbers"] == "13800000002"
    assert json.loads(fake.sms[0]["TemplateParam"]) == {
        "kind": "测试消息",
        "area": "Jinhua Road",
        "token": "test",
    }
    saved = hub_entry.options["channels"][0]
    assert saved["type"] == "sms"
    assert saved["provider"] == "aliyun"
    assert "test_phone" not in saved  # the test number is not kept
    assert "sms:aliyun" in hub_entry.runtime_data.channels


async def test_test_channel(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    base = fake.base  # type: ignore[attr-defined]
    options = {"channels": [_saved_wecom(base)]}
    hub = await _start(hass, hub_entry, options)
    result = await _menu(hass, hub_entry, "test_channel")
    assert result["type"] == FlowResultType.FORM
    result = await _submit(hass, result, {})
    assert result["errors"] == {"channel": "required_choice"}
    result = await _submit(hass, result, {"channel": "wecom:lane3"})
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "test_sent"
    assert result["description_placeholders"] == {"channel": "wecom:lane3"}
    assert len(fake.wecom) == 1
    fake.mode = "5xx"
    result = await _menu(hass, hub_entry, "test_channel")
    result = await _submit(hass, result, {"channel": "wecom:lane3"})
    assert result["type"] == FlowResultType.FORM
    assert result["errors"] == {"base": "provider_refused"}
    assert result["description_placeholders"] == {"detail": "HTTP 502"}
    # A test changes no setting: no reload.
    assert dict(hub_entry.options) == options
    assert hub_entry.runtime_data is hub


async def test_test_channel_sms_needs_a_number(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    base = fake.base  # type: ignore[attr-defined]
    sms = {
        "id": "aliyun",
        "type": "sms",
        "provider": "aliyun",
        "access_key_id": ALI_ID,
        "access_key_secret": ALI_SECRET,
        "sign_name": "银铃",
        "template_code": "SMS_123",
        "base_url": f"{base}/",
    }
    await _start(hass, hub_entry, {"channels": [sms]})
    result = await _menu(hass, hub_entry, "test_channel")
    result = await _submit(hass, result, {"channel": "sms:aliyun"})
    assert result["errors"] == {"test_phone": "required"}
    result = await _submit(
        hass, result, {"channel": "sms:aliyun", "test_phone": "13800000003"}
    )
    assert result["reason"] == "test_sent"
    assert fake.sms[0]["PhoneNumbers"] == "13800000003"


async def test_no_channels(hass: HomeAssistant, hub_entry: MockConfigEntry) -> None:
    await _start(hass, hub_entry)
    for step in ("test_channel", "remove_channel"):
        result = await _menu(hass, hub_entry, step)
        assert result["type"] == FlowResultType.ABORT
        assert result["reason"] == "no_channels"


async def test_remove_channel_confirm_or_keep(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    base = fake.base  # type: ignore[attr-defined]
    ding = {
        "id": "lane3",
        "type": "dingtalk",
        "access_token": DING_TOKEN,
        "secret": DING_SECRET,
    }
    options = {"public_url": "https://bell.example.cn"}
    options["channels"] = [_saved_wecom(base), ding]  # type: ignore[assignment]
    hub = await _start(hass, hub_entry, options)
    await _call(
        hass,
        "import_ledger",
        {
            "volunteers_csv": "id,name,phone,notify,role,language\n"
            "v-wang,Wang Fang,+86 138 0000 0001,mobile_app_wang;wecom:lane3,volunteer,en\n"
        },
    )
    result = await _menu(hass, hub_entry, "remove_channel")
    result = await _submit(hass, result, {})
    assert result["errors"] == {"channel": "required_choice"}
    result = await _submit(hass, result, {"channel": "wecom:lane3"})
    assert result["type"] == FlowResultType.MENU
    assert result["step_id"] == "remove_channel_confirm"
    assert result["menu_options"] == ["remove_channel_confirmed", "keep"]
    assert result["description_placeholders"] == {
        "channel": "wecom:lane3",
        "volunteers": "1",
    }
    result = await _choose(hass, result, "keep")
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "nothing_removed"
    assert dict(hub_entry.options) == options
    assert hub_entry.runtime_data is hub

    result = await _menu(hass, hub_entry, "remove_channel")
    result = await _submit(hass, result, {"channel": "wecom:lane3"})
    result = await _choose(hass, result, "remove_channel_confirmed")
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert dict(hub_entry.options) == {
        "public_url": "https://bell.example.cn",
        "channels": [ding],
    }
    assert set(hub_entry.runtime_data.channels) == {"dingtalk:lane3"}


async def test_hub_settings_keep_the_channels(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    options = {"channels": [_saved_wecom(fake.base)]}  # type: ignore[attr-defined]
    await _start(hass, hub_entry, options)
    result = await _menu(hass, hub_entry, "hub_settings")
    defaults = {str(key): _opens_with(key) for key in result["data_schema"].schema}
    result = await _submit(hass, result, defaults)
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert hub_entry.options["channels"] == options["channels"]
    assert "wecom:lane3" in hub_entry.runtime_data.channels


# ------------------------------------------- public URL and channel wait


async def _settings_form(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    """The hub settings form and the values it opens with."""
    result = await _menu(hass, entry, "hub_settings")
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "hub_settings"
    values = {str(key): _opens_with(key) for key in result["data_schema"].schema}
    return result, values


async def test_public_url_and_channel_wait_saved_and_cleared(
    hass: HomeAssistant, hub_entry: MockConfigEntry, fake: FakeProviders
) -> None:
    options = {"channels": [_saved_wecom(fake.base)]}  # type: ignore[attr-defined]
    await _start(hass, hub_entry, options)
    result, values = await _settings_form(hass, hub_entry)
    assert values["public_url"] == ""  # nothing stored: HA's external URL
    assert values["channel_wait"] == channels_module.DEFAULT_CHANNEL_WAIT_S
    assert list(values).index("public_url") == list(values).index("channel_wait") + 1
    result = await _submit(
        hass,
        result,
        {
            **values,
            "public_url": "  https://bell.example.cn:8443/ ",
            "channel_wait": 90.0,  # number selectors answer floats
        },
    )
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert hub_entry.options["public_url"] == "https://bell.example.cn:8443"
    assert hub_entry.options["channel_wait"] == 90
    assert hub_entry.options["channels"] == options["channels"]
    hub: Hub = hub_entry.runtime_data
    assert hub.public_url() == "https://bell.example.cn:8443"
    assert hub.channel_wait.total_seconds() == 90

    # The form opens with the saved values; a cleared address clears the option.
    result, values = await _settings_form(hass, hub_entry)
    assert values["public_url"] == "https://bell.example.cn:8443"
    assert values["channel_wait"] == 90
    del values["public_url"]  # the frontend sends nothing for an emptied field
    result = await _submit(hass, result, values)
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert "public_url" not in hub_entry.options
    assert hub_entry.options["channel_wait"] == 90
    hub = hub_entry.runtime_data
    assert hub.public_url() is None  # HA has no external URL either: no links
    hass.config.external_url = "https://home.example.net"
    assert hub.public_url() == "https://home.example.net"
    # An empty string (some frontends send it) clears it as well.
    hass.config_entries.async_update_entry(
        hub_entry, options={**hub_entry.options, "public_url": "https://old.example"}
    )
    result, values = await _settings_form(hass, hub_entry)
    result = await _submit(hass, result, {**values, "public_url": ""})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert "public_url" not in hub_entry.options


@pytest.mark.parametrize(
    "url",
    [
        "bell.example.cn",
        "ftp://bell.example.cn",
        "https://",
        "https://bell.example.cn/silver",
        "https://bell.example.cn/?x=1",
        "https://bell.example.cn#top",
        "https://admin:pw@bell.example.cn",
        "https://bell.example.cn:99999",
        "https://bell example.cn",
    ],
)
async def test_invalid_public_url_is_a_field_error(
    hass: HomeAssistant, hub_entry: MockConfigEntry, url: str
) -> None:
    options = {"public_url": "https://bell.example.cn", "channel_wait": 60}
    hub = await _start(hass, hub_entry, options)
    result, values = await _settings_form(hass, hub_entry)
    result = await _submit(hass, result, {**values, "public_url": url})
    assert result["type"] == FlowResultType.FORM
    assert result["errors"] == {"public_url": "invalid_url"}
    # Shown again with what was typed; nothing saved, nothing reloaded.
    shown = {str(key): _opens_with(key) for key in result["data_schema"].schema}
    assert shown["public_url"] == url.strip()
    assert dict(hub_entry.options) == options
    assert hub_entry.runtime_data is hub


async def test_channel_wait_must_be_shorter_than_the_second_tier(
    hass: HomeAssistant, hub_entry: MockConfigEntry
) -> None:
    hub = await _start(hass, hub_entry, {})
    result, values = await _settings_form(hass, hub_entry)
    # 2 min = 120 s: a 120 s channel wait is not shorter.
    result = await _submit(
        hass, result, {**values, "red_tier2_after": 2.0, "channel_wait": 120.0}
    )
    assert result["type"] == FlowResultType.FORM
    assert result["errors"] == {"channel_wait": "channel_wait_too_long"}
    shown = {str(key): _opens_with(key) for key in result["data_schema"].schema}
    assert shown["channel_wait"] == 120
    assert shown["red_tier2_after"] == 2
    assert dict(hub_entry.options) == {}
    assert hub_entry.runtime_data is hub
    # Both errors at once, then fixed.
    result = await _submit(
        hass,
        result,
        {**values, "channel_wait": 600.0, "public_url": "https://x.example/path"},
    )
    assert result["errors"] == {
        "channel_wait": "channel_wait_too_long",
        "public_url": "invalid_url",
    }
    result = await _submit(
        hass, result, {**values, "red_tier2_after": 2.0, "channel_wait": 119.0}
    )
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert hub_entry.options["channel_wait"] == 119
    assert hub_entry.options["red_tier2_after"] == 2
    # Outside the field's 10-600 s the form refuses the value itself.
    result, values = await _settings_form(hass, hub_entry)
    with pytest.raises(vol.Invalid):
        await _submit(hass, result, {**values, "channel_wait": 5.0})


async def test_accept_link_uses_the_saved_public_url(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    fake: FakeProviders,
) -> None:
    options = _options(fake.base)  # type: ignore[attr-defined]
    del options["public_url"]
    _hub, _household, client = await _hub_and_household(
        hass, hub_entry, hass_client_no_auth, freezer, options, "wecom:lane3"
    )
    result, values = await _settings_form(hass, hub_entry)
    result = await _submit(
        hass, result, {**values, "public_url": "https://care.example.org/"}
    )
    assert result["type"] == FlowResultType.CREATE_ENTRY
    hub: Hub = hub_entry.runtime_data
    assert hub.public_url() == "https://care.example.org"

    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    text = fake.wecom[-1]["text"]["content"]
    match = re.search(
        re.escape("https://care.example.org" + LINK_PATH) + r"/([A-Za-z0-9_-]{32})",
        text,
    )
    assert match, text
    page = await client.get(f"{LINK_PATH}/{match.group(1)}")
    assert page.status == 200
