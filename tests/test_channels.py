"""Issue 23: WeCom / DingTalk robots, Aliyun SMS and accept links, against real HTTP fakes.

The fake providers are aiohttp servers on 127.0.0.1 that implement each
provider's documented request and answer and check the signatures the way the
provider does (written here from the provider's documentation, not with the
integration's own signing functions).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.silver_bell.hub.channels import (
    AliyunSms,
    ChannelConfigError,
    ChannelMessage,
    SlidingWindow,
    build_channel,
    mainland_mobile,
    redact_channels,
)
from custom_components.silver_bell.hub.links import (
    LINK_PATH,
    AcceptLinks,
    check_pin,
    hash_pin,
)

from .common import eid
from .test_hub import Pager, _add_household, _call, _hub, _start_hub, _url

WECOM_KEY = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "ding-access-token-1"  # noqa: S105 - test credentials of the fakes
DING_SECRET = "SECa1b2c3d4e5f6"  # noqa: S105 - test credentials of the fakes
ALI_ID = "LTAI-test-id"
ALI_SECRET = "ali-test-secret-KEY"  # noqa: S105 - test credentials of the fakes
PUBLIC = "https://bell.example.cn"
LINK = re.compile(re.escape(PUBLIC + LINK_PATH) + r"/([A-Za-z0-9_-]{32})")


class FakeProviders:
    """WeCom, DingTalk and Aliyun SMS as their documentation describes them."""

    def __init__(self) -> None:
        self.wecom: list[dict[str, Any]] = []
        self.dingtalk: list[dict[str, Any]] = []
        self.sms: list[dict[str, str]] = []
        self.mode = "ok"  # ok / 5xx / slow
        self.server: TestServer | None = None
        self.release = asyncio.Event()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_get("/", self._aliyun)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        self.release.set()
        if self.server is not None:
            await self.server.close()

    async def _trouble(self) -> web.Response | None:
        if self.mode == "5xx":
            return web.Response(status=502, text="bad gateway")
        if self.mode == "slow":
            await self.release.wait()  # answers only when the test ends
        return None

    async def _wecom(self, request: web.Request) -> web.Response:
        if (trouble := await self._trouble()) is not None:
            return trouble
        if request.query.get("key") != WECOM_KEY:
            return web.json_response(
                {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"}
            )
        body = await request.json()
        if body.get("msgtype") != "text" or "content" not in body.get("text", {}):
            return web.json_response({"errcode": 40008, "errmsg": "invalid msgtype"})
        self.wecom.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _dingtalk(self, request: web.Request) -> web.Response:
        if (trouble := await self._trouble()) is not None:
            return trouble
        if request.query.get("access_token") != DING_TOKEN:
            return web.json_response(
                {"errcode": 300001, "errmsg": "token is not exist"}
            )
        # The raw query: the signature arrives URL-encoded once.
        raw = dict(part.split("=", 1) for part in request.query_string.split("&"))
        timestamp = int(raw["timestamp"])
        if abs(time.time() * 1000 - timestamp) > 3600 * 1000:
            return web.json_response({"errcode": 310000, "errmsg": "timestamp"})
        expected = base64.b64encode(
            hmac.new(
                DING_SECRET.encode(),
                f"{timestamp}\n{DING_SECRET}".encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        if unquote_plus(raw["sign"]) != expected:
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        body = await request.json()
        self.dingtalk.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _aliyun(self, request: web.Request) -> web.Response:
        if (trouble := await self._trouble()) is not None:
            return trouble
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        signature = params.pop("Signature", "")

        def enc(value: str) -> str:
            return (
                quote(value, safe="")
                .replace("+", "%20")
                .replace("*", "%2A")
                .replace("%7E", "~")
            )

        canonical = "&".join(f"{enc(k)}={enc(params[k])}" for k in sorted(params))
        to_sign = "GET&%2F&" + enc(canonical)
        expected = base64.b64encode(
            hmac.new(f"{ALI_SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if params.get("AccessKeyId") != ALI_ID:
            return web.json_response(
                {"Code": "InvalidAccessKeyId.NotFound", "Message": "not found"},
                status=404,
            )
        if signature != expected:
            return web.json_response(
                {"Code": "SignatureDoesNotMatch", "Message": "mismatch"}, status=400
            )
        if params.get("Action") != "SendSms" or params.get("SignatureVersion") != "1.0":
            return web.json_response({"Code": "InvalidParameter"}, status=400)
        self.sms.append(params)
        return web.json_response(
            {"Code": "OK", "Message": "OK", "BizId": "1", "RequestId": "r"}
        )


@pytest.fixture
async def providers() -> Any:
    fake = FakeProviders()
    base = await fake.start()
    fake.base = base  # type: ignore[attr-defined]
    yield fake
    await fake.close()


def _options(base: str, **overrides: Any) -> dict[str, Any]:
    return {
        "public_url": PUBLIC,
        "channels": [
            {
                "id": "lane3",
                "type": "wecom",
                "key": overrides.get("wecom_key", WECOM_KEY),
                "base_url": f"{base}/cgi-bin/webhook/send",
                "neighbourhood": "Jinhua Road",
                "language": "en",
                "timeout": 0.5,
            },
            {
                "id": "lane3",
                "type": "dingtalk",
                "access_token": DING_TOKEN,
                "secret": DING_SECRET,
                "base_url": f"{base}/robot/send",
                "neighbourhood": "Jinhua Road",
                "language": "en",
                "timeout": 0.5,
            },
            {
                "id": "aliyun",
                "type": "sms",
                "provider": "aliyun",
                "access_key_id": ALI_ID,
                "access_key_secret": ALI_SECRET,
                "sign_name": "银铃",
                "template_code": "SMS_123",
                "base_url": f"{base}/",
                "timeout": 0.5,
            },
        ],
    }


async def _hub_and_household(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    options: dict[str, Any],
    notify: str,
) -> tuple[Any, MockConfigEntry, TestClient]:
    hass.config_entries.async_update_entry(hub_entry, options=options)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    await _call(
        hass,
        "import_ledger",
        {
            "volunteers_csv": "id,name,phone,notify,role,language\n"
            f"v-wang,Wang Fang,+86 138 0000 0001,{notify},volunteer,en\n"
        },
    )
    household = await _add_household(hass, freezer, code, _url(client))
    return _hub(hub_entry), household, client


def _our_logs(caplog: pytest.LogCaptureFixture) -> str:
    """What the integration logged (the fake servers' access logs hold the keys)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.silver_bell")
    )


def _sent(incident: Any) -> list[tuple[str, str, str | None]]:
    return [
        (entry.event, entry.actor, entry.detail)
        for entry in incident.log
        if entry.event in ("sent", "send_failed", "unreachable", "channel_wait")
    ]


# ------------------------------------------------------------------ unit


def test_signatures_and_helpers() -> None:
    sms = AliyunSms(
        {
            "id": "a",
            "type": "sms",
            "access_key_id": "testid",
            "access_key_secret": "testsecret",
            "sign_name": "阿里云短信测试专用",
            "template_code": "SMS_71390007",
        }
    )
    query = sms.signed_query(
        "15300000001",
        {"customer": "test"},
        nonce="45e25e9b-0a6f-4070-8c85-2956eda1b466",
        timestamp="2017-07-12T02:42:19Z",
    )
    assert query["Signature"]
    assert mainland_mobile("+86 138 0000 0001") == "13800000001"
    assert mainland_mobile("13800000001") == "13800000001"
    with pytest.raises(ChannelConfigError) as err:
        build_channel({"id": "x", "type": "wecom"})
    assert err.value.field == "key"
    with pytest.raises(ChannelConfigError):
        build_channel({"id": "x", "type": "fax"})
    with pytest.raises(ChannelConfigError):
        build_channel({"id": "x", "type": "sms", "provider": "nobody"})
    redacted = json.dumps(redact_channels(_options("http://x")))
    for secret in (WECOM_KEY, DING_SECRET, DING_TOKEN, ALI_SECRET):
        assert secret not in redacted
    window = SlidingWindow(2, 60, clock=lambda: 0.0)
    assert window.take("a") and window.take("a") and not window.take("a")
    stored = hash_pin("2468")
    assert check_pin("2468", stored)
    assert not check_pin("2469", stored)
    assert not check_pin("abc", stored)
    assert not check_pin("2468", None)


# ------------------------------------------------------------ fallback


async def test_app_fails_and_wecom_page_goes_out_at_once(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    providers: FakeProviders,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    Pager(hass)

    async def broken(call: ServiceCall) -> None:
        raise ServiceValidationError("push gateway down")

    hub, _, _ = await _hub_and_household(
        hass,
        hub_entry,
        hass_client_no_auth,
        freezer,
        _options(providers.base),  # type: ignore[attr-defined]
        "mobile_app_wang;wecom:lane3;sms:aliyun",
    )
    hass.services.async_register("notify", "mobile_app_wang", broken)
    started = time.monotonic()
    async with asyncio.timeout(2):
        await _call(hass, "raise_help", {})
        await hass.async_block_till_done()
    assert time.monotonic() - started < 2
    assert providers.wecom  # at once: no timer had to run
    incident = hub.incidents.active[0]
    body = providers.wecom[0]
    assert body["text"]["mentioned_mobile_list"] == ["13800000001"]
    content = body["text"]["content"]
    # A group hears colour, kind, neighbourhood and a link: no personal data.
    assert "Jinhua Road" in content
    assert LINK.search(content)
    for personal in ("Grandma Li", "3-201", "1234 5678", "Wang Fang"):
        assert personal not in content
    sent = _sent(incident)
    assert sent[0][0] == "send_failed" and "notify.mobile_app_wang" in sent[0][2]
    assert sent[1] == ("sent", "v-wang", "page:0 wecom:lane3: delivered")
    assert not providers.sms  # the channel wait has not passed

    # No accept within the channel wait (45 s < the 2 min of tier 2): SMS next.
    freezer.tick(46)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(providers.sms) == 1
    params = json.loads(providers.sms[0]["TemplateParam"])
    assert set(params) == {"kind", "area", "token"}
    assert providers.sms[0]["PhoneNumbers"] == "13800000001"
    assert ("sent", "v-wang", "page:0 sms:aliyun: delivered") in _sent(incident)
    assert any(entry[0] == "channel_wait" for entry in _sent(incident))
    ours = _our_logs(caplog)
    for secret in (WECOM_KEY, DING_SECRET, ALI_SECRET):
        assert secret not in ours


@pytest.mark.parametrize(
    ("mode", "options", "code"),
    [
        ("ok", {"wecom_key": "wrong"}, "provider_error (93000"),
        ("5xx", {}, "http_error (502)"),
    ],
)
async def test_bad_robot_never_blocks_the_next_channel(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    providers: FakeProviders,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    options: dict[str, Any],
    code: str,
) -> None:
    pager = Pager(hass)
    hub, _, _ = await _hub_and_household(
        hass,
        hub_entry,
        hass_client_no_auth,
        freezer,
        _options(providers.base, **options),  # type: ignore[attr-defined]
        "wecom:lane3;mobile_app_wang",
    )
    providers.mode = mode
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    incident = hub.incidents.active[0]
    failed = [entry for entry in _sent(incident) if entry[0] == "send_failed"]
    assert failed[0][2].startswith(f"page:0 wecom:lane3: {code}")
    assert pager.messages("mobile_app_wang")
    assert WECOM_KEY not in _our_logs(caplog)


async def test_timeouts_and_network_errors_are_outcomes(
    socket_enabled: None, providers: FakeProviders
) -> None:
    base = providers.base  # type: ignore[attr-defined]
    robot = build_channel(
        {"id": "x", "type": "wecom", "key": WECOM_KEY, "timeout": 0.3}
        | {"base_url": f"{base}/cgi-bin/webhook/send"}
    )
    message = ChannelMessage("personal", "group", "13800000001")
    providers.mode = "slow"
    async with ClientSession() as session:
        started = time.monotonic()
        outcome = await robot.async_send(session, message)
        assert not outcome.ok and outcome.code == "timeout"
        assert time.monotonic() - started < 2
        unreachable = build_channel(
            {"id": "y", "type": "dingtalk", "access_token": "t", "secret": "s"}
            | {"base_url": "http://127.0.0.1:9/robot/send"}
        )
        outcome = await unreachable.async_send(session, message)
        assert not outcome.ok and outcome.code == "network"


# ------------------------------------------------------- accept links


async def _page_link(providers: FakeProviders, kind: str) -> str:
    if kind == "wecom":
        text = providers.wecom[-1]["text"]["content"]
    elif kind == "dingtalk":
        text = providers.dingtalk[-1]["text"]["content"]
    else:
        return str(json.loads(providers.sms[-1]["TemplateParam"])["token"])
    match = LINK.search(text)
    assert match
    return match.group(1)


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "sms"])
async def test_volunteer_with_one_channel_accepts_from_the_link(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    providers: FakeProviders,
    kind: str,
) -> None:
    ref = {"wecom": "wecom:lane3", "dingtalk": "dingtalk:lane3", "sms": "sms:aliyun"}
    hub, household, client = await _hub_and_household(
        hass,
        hub_entry,
        hass_client_no_auth,
        freezer,
        _options(providers.base),  # type: ignore[attr-defined]
        ref[kind],
    )
    hub.ledger.volunteers["v-wang"].pin_hash = hash_pin("2468")
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    incident = hub.incidents.active[0]
    token = await _page_link(providers, kind)
    if kind == "dingtalk":
        assert providers.dingtalk[-1]["at"]["atMobiles"] == ["13800000001"]

    page = await client.get(f"{LINK_PATH}/{token}")
    assert page.status == 200
    text = await page.text()
    assert "Grandma Li" not in text
    assert ('name="pin"' in text) is (kind != "sms")
    form = {"action": "accept"}
    if kind != "sms":
        # A group link: nobody can accept as someone else.
        wrong = await client.post(
            f"{LINK_PATH}/{token}", data={**form, "volunteer": "v-wang", "pin": "1111"}
        )
        assert wrong.status == 403
        assert incident.accepted_by is None
        form |= {"volunteer": "v-wang", "pin": "2468"}
    answer = await client.post(f"{LINK_PATH}/{token}", data=form)
    assert answer.status == 200, await answer.text()
    assert incident.accepted_by == "v-wang"
    assert any(entry.event == "link_used" for entry in incident.log)

    await household.runtime_data.forwarder.async_poll()
    await hass.async_block_till_done()
    progress = hass.states.get(eid("sensor", "help_progress"))
    assert progress.state == "acknowledged"
    assert progress.attributes["volunteer"] == "Wang Fang"


async def test_link_is_once_per_action_and_void_after_the_incident(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    providers: FakeProviders,
) -> None:
    hub, _, client = await _hub_and_household(
        hass,
        hub_entry,
        hass_client_no_auth,
        freezer,
        _options(providers.base),  # type: ignore[attr-defined]
        "sms:aliyun",
    )
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    incident = hub.incidents.active[0]
    token = await _page_link(providers, "sms")
    url = f"{LINK_PATH}/{token}"
    assert (await client.post(url, data={"action": "accept"})).status == 200
    second = await client.post(url, data={"action": "accept"})
    assert second.status == 409
    assert (await client.post(url, data={"action": "on_the_way"})).status == 200
    assert incident.on_the_way_at is not None
    assert (await client.post(url, data={"action": "bogus"})).status == 400
    assert (await client.get(f"{LINK_PATH}/{'x' * 32}")).status == 404

    await _call(
        hass,
        "hub_resolve",
        {"incident_id": incident.id, "resolution": "false_alarm"},
    )
    await hass.async_block_till_done()
    log_length = len(incident.log)
    state = incident.state
    after = await client.post(url, data={"action": "on_the_way"})
    assert after.status == 410
    assert (await client.get(url)).status == 410
    assert len(incident.log) == log_length
    assert incident.state is state


async def test_links_store_what_changed_and_forget_what_ended(
    hass: HomeAssistant,
) -> None:
    """A save writes each link as it is now; uses and PIN failures survive a restart."""
    links = AcceptLinks(hass, "entry_links")
    await links.async_load()
    kept = links.issue("inc-1", volunteer_id=None, channel="wecom:a", language="en")
    ended = links.issue("inc-2", volunteer_id="v-wang", channel=None, language="en")
    link = links.lookup(kept)
    assert link is not None
    links.record_pin_failure(kept, link)
    links.record_use(kept, link, "accept")
    links.changed("no-such-token")  # nothing to follow
    assert links.purge({"inc-1"})
    await links.async_save()
    again = AcceptLinks(hass, "entry_links")
    await again.async_load()
    assert set(again.links) == {kept}
    assert again.links[kept].used == ["accept"]
    assert again.links[kept].pin_failures == 1
    assert again.lookup(ended) is None


async def test_app_page_link_is_on_disk_as_soon_as_the_page_left(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    providers: FakeProviders,
) -> None:
    """The companion-app page's accept link is saved right after the push.

    Not only with the next channel page: a hub that stops after paging by the
    app alone would otherwise have voided the link it had just sent.
    """
    pager = Pager(hass)
    hub, _, client = await _hub_and_household(
        hass,
        hub_entry,
        hass_client_no_auth,
        freezer,
        _options(providers.base),  # type: ignore[attr-defined]
        "mobile_app_wang",
    )
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    sent = pager.messages("mobile_app_wang")
    assert sent
    url = sent[0]["data"]["url"]
    token = url.rsplit("/", 1)[1]
    stored = hass_storage[f"silver_bell.links.{hub_entry.entry_id}"]["data"]
    assert token in stored["links"]
    # A fresh hub reading the store knows the link.
    again = AcceptLinks(hass, hub_entry.entry_id)
    await again.async_load()
    assert again.lookup(token) is not None
    page = await client.get(f"{LINK_PATH}/{token}")
    assert page.status == 200
    assert hub.incidents.active
