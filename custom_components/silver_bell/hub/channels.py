"""The hub's own paging channels: WeCom and DingTalk group robots, SMS (Aliyun).

A volunteer's ``notify`` list names channels in order. A plain name is a Home
Assistant notify service (the companion app's ``mobile_app_*`` or any other);
``wecom:<id>``, ``dingtalk:<id>`` and ``sms:<id>`` name a channel configured in
the hub's options (``channels``). Each send answers an :class:`Outcome` read
from the provider's answer (HTTP status, ``errcode``/``Code``); nothing here
raises for a provider's refusal, a timeout or a network error, so one bad
channel never blocks the next.

Group robots post to a whole group on a third-party server: their text carries
the colour, the kind, the neighbourhood (the channel's label) and a link — never
a name, address or phone of the elder. The robot @mentions the volunteer by
mobile number (a ``text`` message: WeCom's markdown cannot mention).

Keys and secrets never reach a log: URLs with keys are never logged, errors are
reported by code, and diagnostics redact :data:`SECRET_KEYS`.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import quote, quote_plus

import aiohttp

_LOGGER = logging.getLogger(__name__)

CONF_CHANNELS = "channels"
CONF_PUBLIC_URL = "public_url"
CONF_CHANNEL_WAIT = "channel_wait"
DEFAULT_CHANNEL_WAIT_S = 45

TYPE_WECOM = "wecom"
TYPE_DINGTALK = "dingtalk"
TYPE_SMS = "sms"
CHANNEL_TYPES = (TYPE_WECOM, TYPE_DINGTALK, TYPE_SMS)
GROUP_TYPES = frozenset({TYPE_WECOM, TYPE_DINGTALK})

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send"
ALIYUN_SMS_URL = "https://dysmsapi.aliyuncs.com/"

# Documented limits: 20 messages a minute per robot; Aliyun's default flow
# control for one phone number is 1 message a minute.
ROBOT_PER_MINUTE = 20
SMS_PER_NUMBER_PER_MINUTE = 1
SEND_TIMEOUT_S = 10.0

# Keys of a channel's settings that are secrets (diagnostics redact them).
SECRET_KEYS = frozenset({"key", "access_token", "secret", "access_key_secret"})

_CHANNEL_ID = re.compile(r"^[a-z0-9_]{1,32}$")
_REF = re.compile(r"^(wecom|dingtalk|sms):([a-z0-9_]{1,32})$")


class Outcome:
    """A send's result: ``ok``, and a short code for the log (``delivered``, ``timeout`` …)."""

    __slots__ = ("code", "detail", "ok")

    def __init__(self, ok: bool, code: str, detail: str = "") -> None:
        """Keep the result; ``detail`` is the provider's own words (no secrets)."""
        self.ok = ok
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        """``delivered``, or ``provider_error (93000 invalid webhook url)``."""
        return f"{self.code} ({self.detail})" if self.detail else self.code

    def __repr__(self) -> str:
        """For test failures."""
        return f"Outcome({self.ok!r}, {self.code!r}, {self.detail!r})"


DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """What one volunteer is sent through one of the hub's channels."""

    personal_text: str  # for one person's own channel (SMS template params aside)
    group_text: str  # no personal data: for group robots
    mobile: str  # the volunteer's mobile number, digits only ("" if none)
    template_params: Mapping[str, str] = field(default_factory=dict)  # SMS


def channel_ref(entry: str) -> tuple[str, str] | None:
    """``("wecom", "lane3")`` for ``wecom:lane3``; None for a notify service name."""
    match = _REF.match(entry)
    return (match.group(1), match.group(2)) if match else None


def valid_channel_id(value: str) -> bool:
    """A channel id is a short slug: ``a-z``, ``0-9`` and ``_``, at most 32 characters."""
    return bool(_CHANNEL_ID.match(value))


def mainland_mobile(phone: str) -> str:
    """Digits of a mobile number without the +86 prefix ("" when none)."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


# ------------------------------------------------------------------ signing
def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, timestamp, newline, secret)), URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def aliyun_percent(value: str) -> str:
    """Aliyun's RPC percent-encoding (RFC 3986: ``~`` kept, space as %20, ``*`` as %2A)."""
    return quote(value, safe="~")


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``GET&%2F&`` + the percent-encoded canonical query (sorted by key)."""
    canonical = "&".join(
        f"{aliyun_percent(key)}={aliyun_percent(params[key])}" for key in sorted(params)
    )
    return f"{method}&{aliyun_percent('/')}&{aliyun_percent(canonical)}"


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Signature version 1.0: base64(HMAC-SHA1(secret + "&", string to sign))."""
    digest = hmac.new(
        f"{secret}&".encode(),
        aliyun_string_to_sign(method, params).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode()


# ------------------------------------------------------------- rate limits
class SlidingWindow:
    """At most ``limit`` sends per ``seconds`` for each key."""

    def __init__(
        self,
        limit: int,
        seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """An empty window."""
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    def take(self, key: str) -> bool:
        """Count one send now; False (nothing counted) if the limit is reached."""
        now = self._clock()
        sent = self._sent.setdefault(key, deque())
        while sent and now - sent[0] >= self.seconds:
            sent.popleft()
        if len(sent) >= self.limit:
            return False
        sent.append(now)
        return True


# ----------------------------------------------------------------- channels
class ChannelConfigError(ValueError):
    """A channel's settings are incomplete; ``code`` is translated by the options flow."""

    def __init__(self, code: str, field_name: str = "") -> None:
        """Keep the code and the field it is about."""
        super().__init__(f"{code}: {field_name}" if field_name else code)
        self.code = code
        self.field = field_name


class Channel:
    """One configured channel (a robot or an SMS account)."""

    type = ""
    group = False

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Read the common settings; subclasses check their own fields."""
        self.id = str(settings.get("id", ""))
        if not valid_channel_id(self.id):
            raise ChannelConfigError("invalid_channel_id", "id")
        self.settings = dict(settings)
        self.neighbourhood = str(settings.get("neighbourhood", ""))
        self.language = str(settings.get("language", "zh-Hans"))
        self.timeout = float(settings.get("timeout", SEND_TIMEOUT_S))

    def _required(self, key: str) -> str:
        value = str(self.settings.get(key) or "").strip()
        if not value:
            raise ChannelConfigError("missing_field", key)
        return value

    def _url(self, default: str) -> str:
        return str(self.settings.get("base_url") or default)

    @property
    def ref(self) -> str:
        """How volunteers' channel lists name it (``wecom:lane3``)."""
        return f"{self.type}:{self.id}"

    async def async_send(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        """Send; never raises for the provider's or the network's failures."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._async_send(session, message)
        except TimeoutError:
            return Outcome(False, "timeout")
        except aiohttp.ClientError as err:
            return Outcome(False, "network", type(err).__name__)

    async def _async_send(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        raise NotImplementedError

    @staticmethod
    async def _errcode_answer(response: aiohttp.ClientResponse) -> Outcome:
        """Read a robot's ``{"errcode": 0, "errmsg": "ok"}`` answer."""
        if response.status >= 300:
            return Outcome(False, "http_error", str(response.status))
        try:
            body = json.loads(await response.text())
        except ValueError:
            return Outcome(False, "bad_answer")
        if not isinstance(body, dict):
            return Outcome(False, "bad_answer")
        errcode = body.get("errcode")
        if errcode == 0:
            return Outcome(True, DELIVERED)
        message = str(body.get("errmsg", ""))[:80]
        code = "rate_limited" if errcode in (45009, 410100) else "provider_error"
        return Outcome(False, code, f"{errcode} {message}".strip())


class _Robot(Channel):
    group = True

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.limit = SlidingWindow(ROBOT_PER_MINUTE)

    async def _async_send(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        if not self.limit.take(self.id):
            return Outcome(False, "rate_limited", f"{ROBOT_PER_MINUTE}/min")
        return await self._async_post(session, message)

    async def _async_post(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        raise NotImplementedError


class WeComRobot(_Robot):
    """A WeCom (企业微信) group robot: ``text`` with ``mentioned_mobile_list``."""

    type = TYPE_WECOM

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Needs the webhook ``key``."""
        super().__init__(settings)
        self.key = self._required("key")

    async def _async_post(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        text: dict[str, Any] = {"content": message.group_text}
        if message.mobile:
            text["mentioned_mobile_list"] = [message.mobile]
        async with session.post(
            self._url(WECOM_URL),
            params={"key": self.key},
            json={"msgtype": "text", "text": text},
        ) as response:
            return await self._errcode_answer(response)


class DingTalkRobot(_Robot):
    """A DingTalk (钉钉) custom robot with signing: ``text`` with ``at.atMobiles``."""

    type = TYPE_DINGTALK

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Needs the ``access_token`` and the signing ``secret``."""
        super().__init__(settings)
        self.access_token = self._required("access_token")
        self.secret = self._required("secret")

    async def _async_post(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        timestamp = int(time.time() * 1000)
        # The signature is already URL-encoded, as DingTalk documents it: the
        # query is written by hand so it is not encoded twice.
        query = (
            f"access_token={quote_plus(self.access_token)}"
            f"&timestamp={timestamp}&sign={dingtalk_sign(self.secret, timestamp)}"
        )
        body: dict[str, Any] = {
            "msgtype": "text",
            "text": {"content": message.group_text},
        }
        if message.mobile:
            body["at"] = {"atMobiles": [message.mobile], "isAtAll": False}
        async with session.post(
            f"{self._url(DINGTALK_URL)}?{query}",
            json=body,
        ) as response:
            return await self._errcode_answer(response)


class AliyunSms(Channel):
    """Aliyun SMS (dysmsapi ``SendSms``, RPC signature version 1.0, HMAC-SHA1).

    The message is an approved template (``template_code``) under an approved
    signature (``sign_name``); the hub fills its variables ``kind``, ``area``
    and ``token`` (the accept link's token; the template holds the fixed part
    of the link, because Aliyun refuses links in variables).
    """

    type = TYPE_SMS
    provider = "aliyun"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Needs the access key pair, the signature name and the template code."""
        super().__init__(settings)
        self.access_key_id = self._required("access_key_id")
        self.access_key_secret = self._required("access_key_secret")
        self.sign_name = self._required("sign_name")
        self.template_code = self._required("template_code")
        self.region = str(settings.get("region") or "cn-hangzhou")
        self.limit = SlidingWindow(SMS_PER_NUMBER_PER_MINUTE)

    def signed_query(
        self, phone: str, params: Mapping[str, str], *, nonce: str, timestamp: str
    ) -> dict[str, str]:
        """The complete query of a SendSms request, ``Signature`` included."""
        query = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False),
            "Timestamp": timestamp,
            "Version": "2017-05-25",
        }
        query["Signature"] = aliyun_signature(self.access_key_secret, "GET", query)
        return query

    async def _async_send(
        self, session: aiohttp.ClientSession, message: ChannelMessage
    ) -> Outcome:
        if not message.mobile:
            return Outcome(False, "no_mobile")
        if not self.limit.take(message.mobile):
            return Outcome(False, "rate_limited", "1/min per number")
        query = self.signed_query(
            message.mobile,
            message.template_params,
            nonce=secrets.token_hex(16),
            timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        encoded = "&".join(
            f"{aliyun_percent(key)}={aliyun_percent(value)}"
            for key, value in query.items()
        )
        async with session.get(f"{self._url(ALIYUN_SMS_URL)}?{encoded}") as response:
            try:
                body = json.loads(await response.text())
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return Outcome(False, "http_error", str(response.status))
            code = str(body.get("Code", ""))
            if response.status < 300 and code == "OK":
                return Outcome(True, DELIVERED)
            text = f"{code} {str(body.get('Message', ''))[:80]}".strip()
            if "LIMIT_CONTROL" in code:
                return Outcome(False, "rate_limited", text)
            return Outcome(False, "provider_error", text)


# A second SMS provider is one more class with ``provider`` set and an entry here.
SMS_PROVIDERS: dict[str, type[Channel]] = {AliyunSms.provider: AliyunSms}


def build_channel(settings: Mapping[str, Any]) -> Channel:
    """The channel for one entry of the ``channels`` option; ChannelConfigError if invalid."""
    kind = settings.get("type")
    if kind == TYPE_WECOM:
        return WeComRobot(settings)
    if kind == TYPE_DINGTALK:
        return DingTalkRobot(settings)
    if kind == TYPE_SMS:
        provider = SMS_PROVIDERS.get(str(settings.get("provider") or "aliyun"))
        if provider is None:
            raise ChannelConfigError("unknown_provider", "provider")
        return provider(settings)
    raise ChannelConfigError("unknown_type", "type")


def build_channels(options: Mapping[str, Any]) -> dict[str, Channel]:
    """The hub's channels by reference (``wecom:lane3``); invalid ones are skipped and logged."""
    channels: dict[str, Channel] = {}
    for settings in options.get(CONF_CHANNELS) or []:
        if not isinstance(settings, Mapping):
            continue
        try:
            channel = build_channel(settings)
        except ChannelConfigError as err:
            # The code and field only: settings may hold secrets.
            _LOGGER.warning("Silver Bell channel skipped: %s", err)
            continue
        channels[channel.ref] = channel
    return channels


def redact_channels(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``channels`` option with every secret replaced (for diagnostics)."""
    return [
        {
            key: ("**REDACTED**" if key in SECRET_KEYS else value)
            for key, value in dict(settings).items()
        }
        for settings in options.get(CONF_CHANNELS) or []
        if isinstance(settings, Mapping)
    ]
