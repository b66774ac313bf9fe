"""The accept-link page: a volunteer accepts or says "on my way" without the app.

Registered once per Home Assistant in ``async_setup``, without Home Assistant
authentication (the token is the credential). Every refusal is an HTML page
built here with its status (400, 403, 404, 409, 410, 429, 503) — never aiohttp's
``HTTPUnauthorized``, which the ban middleware would count as a failed login.
The page shows no personal data: the kind and colour of the incident only.
"""

from __future__ import annotations

from collections.abc import Mapping
import html
import time
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from ..const import DOMAIN
from ..core.hub.pushes import ACTION_ACCEPT, ACTION_ON_THE_WAY
from ..core.messages import kind_text, language_for
from ..core.protocol import RateLimiter, Rejection
from .links import ACTIONS, LINK_PATH, MAX_PIN_FAILURES, check_pin
from .lookup import running_hub

if TYPE_CHECKING:
    from .runtime import Hub

# Requests per address: a few at once, then one every 6 s.
LINK_BURST = 10
LINK_PER_MINUTE = 10
MAX_FORM_BYTES = 2048

_PAGE: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Silver Bell",
        "incident": "{colour} alert: {kind}",
        "accept": "Accept",
        "on_the_way": "On my way",
        "who": "Your volunteer number",
        "pin": "Your PIN",
        "done_accept": "Thank you: you have accepted. The family is told you are coming.",
        "done_on_the_way": "Thank you: the family is told you are on your way.",
        "unknown": "This link is not valid.",
        "ended": "This alert has ended. Nothing was changed.",
        "used": "This link was already used for that. Nothing was changed.",
        "taken": "Someone else has already accepted. Thank you.",
        "wrong_pin": "Volunteer number or PIN is wrong.",
        "locked": "Too many wrong PINs: use the app or call the duty desk.",
        "invalid": "Please choose an action.",
        "slow_down": "Too many requests: please wait a minute.",
        "unavailable": "The hub is not running. Please call the duty desk.",
        "red": "RED",
        "orange": "ORANGE",
        "yellow": "YELLOW",
    },
    "zh-Hans": {
        "title": "银铃",
        "incident": "{colour}警报：{kind}",
        "accept": "接单",
        "on_the_way": "正在赶往",
        "who": "志愿者编号",
        "pin": "个人PIN码",
        "done_accept": "谢谢！您已接单，家属会收到您正在前来的消息。",
        "done_on_the_way": "谢谢！家属已知道您正在赶往。",
        "unknown": "此链接无效。",
        "ended": "此警报已结束，未做任何更改。",
        "used": "此链接已用于该操作，未做任何更改。",
        "taken": "已有其他志愿者接单，谢谢！",
        "wrong_pin": "志愿者编号或PIN码错误。",
        "locked": "PIN码错误次数过多，请使用App或致电值班室。",
        "invalid": "请选择操作。",
        "slow_down": "请求过于频繁，请稍候再试。",
        "unavailable": "服务暂不可用，请致电值班室。",
        "red": "红色",
        "orange": "橙色",
        "yellow": "黄色",
    },
}

_ACTION_OF = {"accept": ACTION_ACCEPT, "on_the_way": ACTION_ON_THE_WAY}


def _page(lang: str, status: int, body: str) -> web.Response:
    texts = _PAGE[lang]
    document = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(texts['title'])}</title>"
        "<style>body{font-family:sans-serif;margin:1.2em;font-size:1.2em}"
        "button{font-size:1.2em;padding:.6em 1em;margin:.3em 0;width:100%}"
        "input{font-size:1.2em;width:100%;margin:.2em 0 .6em}</style></head>"
        f"<body><h1>{html.escape(texts['title'])}</h1>{body}</body></html>"
    )
    return web.Response(
        text=document,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


def _message(lang: str, status: int, key: str) -> web.Response:
    return _page(lang, status, f"<p>{html.escape(_PAGE[lang][key])}</p>")


def _hub(hass: HomeAssistant) -> Hub | None:
    try:
        return running_hub(hass)
    except Rejection:
        return None


class AcceptLinkView(HomeAssistantView):
    """GET shows the incident and the buttons; POST accepts or says "on my way"."""

    requires_auth = False
    cors_allowed = False
    url = LINK_PATH + "/{token}"
    name = f"api:{DOMAIN}:accept_link"

    def __init__(self, hass: HomeAssistant) -> None:
        """One rate limiter per address for every link."""
        self.hass = hass
        self.limiter = RateLimiter(burst=LINK_BURST, per_minute=LINK_PER_MINUTE)

    def _limited(self, request: web.Request) -> bool:
        return (
            self.limiter.acquire(request.remote or "unknown", time.monotonic())
            is not None
        )

    async def get(self, request: web.Request, token: str) -> web.Response:
        """The page: kind and colour, and the buttons (with the PIN form for groups)."""
        lang = language_for(request.headers.get("Accept-Language"))
        if self._limited(request):
            return _message(lang, 429, "slow_down")
        hub = _hub(self.hass)
        if hub is None:
            return _message(lang, 503, "unavailable")
        link = hub.links.lookup(token)
        if link is None:
            return _message(lang, 404, "unknown")
        lang = language_for(link.language)
        incident = hub.incidents.get_or_none(link.incident_id)
        if incident is None or not incident.active:
            return _message(lang, 410, "ended")
        texts = _PAGE[lang]
        heading = texts["incident"].format(
            colour=texts[incident.colour.value], kind=kind_text(incident.kind, lang)
        )
        fields = ""
        if link.volunteer_id is None:
            fields = (
                f"<label>{html.escape(texts['who'])}"
                '<input name="volunteer" autocomplete="username" required></label>'
                f"<label>{html.escape(texts['pin'])}"
                '<input name="pin" type="password" inputmode="numeric" '
                'autocomplete="current-password" required></label>'
            )
        buttons = "".join(
            f'<button name="action" value="{action}">{html.escape(texts[action])}</button>'
            for action in ACTIONS
            if action not in link.used
        )
        return _page(
            lang,
            200,
            f"<p><strong>{html.escape(heading)}</strong></p>"
            f'<form method="post">{fields}{buttons}</form>',
        )

    async def post(self, request: web.Request, token: str) -> web.Response:
        """Accept / on my way with the token (group tokens: with number and PIN)."""
        lang = language_for(request.headers.get("Accept-Language"))
        if self._limited(request):
            return _message(lang, 429, "slow_down")
        if (request.content_length or 0) > MAX_FORM_BYTES:
            return _message(lang, 400, "invalid")
        hub = _hub(self.hass)
        if hub is None:
            return _message(lang, 503, "unavailable")
        link = hub.links.lookup(token)
        if link is None:
            return _message(lang, 404, "unknown")
        lang = language_for(link.language)
        try:
            form = await request.post()
        except ValueError:
            return _message(lang, 400, "invalid")
        action = str(form.get("action", ""))
        if action not in ACTIONS:
            return _message(lang, 400, "invalid")
        incident = hub.incidents.get_or_none(link.incident_id)
        if incident is None or not incident.active:
            return _message(lang, 410, "ended")
        volunteer_id = link.volunteer_id
        if volunteer_id is None:
            if link.pin_failures >= MAX_PIN_FAILURES:
                return _message(lang, 403, "locked")
            volunteer_id = str(form.get("volunteer", "")).strip()
            pin = str(form.get("pin", "")).strip()
            volunteer = hub.ledger.volunteers.get(volunteer_id)
            stored = volunteer.pin_hash if volunteer is not None else None
            if not await self.hass.async_add_executor_job(check_pin, pin, stored):
                hub.links.record_pin_failure(token, link)
                await hub.links.async_save()
                return _message(lang, 403, "wrong_pin")
        if action in link.used:
            return _message(lang, 409, "used")
        owner = incident.accepted_by
        if owner is not None and owner != volunteer_id:
            return _message(lang, 409, "taken")
        hub.links.record_use(token, link, action)
        await hub.links.async_save()
        await hub.async_link_action(
            _ACTION_OF[action], incident.id, volunteer_id, link.channel
        )
        if incident.accepted_by != volunteer_id:
            return _message(lang, 409, "taken")  # pragma: no cover - a race lost
        return _message(lang, 200, f"done_{action}")
