"""Companion-app pushes for volunteers: payloads for ``notify.<service>`` and their texts.

Pure logic (no Home Assistant import). Each function returns the service data of a
legacy notify service call: ``{"title", "message", "data": {...}}`` with the
documented companion-app fields (ARCHITECTURE.md, "Companion-app notifications"):

* ``data.tag`` — one per incident, so every later push (accepted, handled by,
  resolved) replaces the incident's notification instead of adding one;
* ``data.actions`` — at most 3 (Android's limit); ``tel:`` links use
  ``action: "URI"``;
* critical: iOS ``push.interruption-level: critical`` with a critical sound,
  Android ``channel: alarm_stream``; every push ``ttl: 0`` + ``priority: high``
  (delivered at once, also in Doze).

Action ids carry the incident id and, where known, the volunteer the push was sent
to: ``SILVER_BELL_ACK_<incident id>_<volunteer id>`` (incident ids are hex, so the
first ``_`` after it separates the volunteer id). :func:`parse_action` reads them
back from the ``mobile_app_notification_action`` event.

Decisions: a resolved incident's notification is replaced by a short "resolved"
text (same tag) rather than silently cleared, so whoever was paged knows it is
over; :func:`clear_payload` exists for removing it. For fires the emergency number
offered is 119 (fire and rescue in mainland China), otherwise 120.

Personal data (names, addresses, phone numbers) is put into these payloads only,
which go to the people the triage chose — nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
import re
from typing import Any, NamedTuple

from ..messages import kind_text, language_for, problem_text
from ..models import IncidentKind, Triage
from .people import HouseholdRecord, tel_uri
from .records import HubIncident, Resolution

ACTION_ACCEPT = "SILVER_BELL_ACK"
ACTION_ON_THE_WAY = "SILVER_BELL_OTW"
ACTION_RESOLVE = "SILVER_BELL_RESOLVE"
# The answers to "how did it end?" (resolution_payload):
ACTION_REAL_EMERGENCY = "SILVER_BELL_REAL"
ACTION_FALSE_ALARM = "SILVER_BELL_FALSE"
ACTION_RESIDENT_OK = "SILVER_BELL_OK"
RESOLUTION_ACTIONS: Mapping[str, Resolution] = {
    ACTION_REAL_EMERGENCY: Resolution.REAL_EMERGENCY,
    ACTION_FALSE_ALARM: Resolution.FALSE_ALARM,
    ACTION_RESIDENT_OK: Resolution.RESIDENT_OK,
}
ACTIONS: tuple[str, ...] = (
    ACTION_ACCEPT,
    ACTION_ON_THE_WAY,
    ACTION_RESOLVE,
    *RESOLUTION_ACTIONS,
)
URI = "URI"  # the companion app's action for opening a link
TAG_PREFIX = "silver_bell_"
GROUP = "silver_bell"
CHANNEL_ALARM = "alarm_stream"
CHANNEL_NORMAL = "Silver Bell"
EMERGENCY_NUMBER = "120"
EMERGENCY_NUMBERS: Mapping[IncidentKind, str] = {IncidentKind.FIRE: "119"}
MAX_DETAIL_MESSAGE = 200

_ACTION = re.compile(r"^(SILVER_BELL_[A-Z]+)_([0-9A-Za-z]+)(?:_(.+))?$")


class ParsedAction(NamedTuple):
    """An action id read back: what, on which incident, by whom (None: unknown)."""

    action: str
    incident_id: str
    volunteer_id: str | None


def action_id(action: str, incident_id: str, volunteer_id: str | None = None) -> str:
    """The action id of one button: unique per incident (and volunteer)."""
    base = f"{action}_{incident_id}"
    return base if volunteer_id is None else f"{base}_{volunteer_id}"


def parse_action(action: str) -> ParsedAction | None:
    """Read an action id; None for actions that are not Silver Bell's."""
    match = _ACTION.match(action)
    if match is None or match.group(1) not in ACTIONS:
        return None
    return ParsedAction(match.group(1), match.group(2), match.group(3))


def tag(incident: HubIncident) -> str:
    """The notification tag of an incident (one notification per incident)."""
    return TAG_PREFIX + incident.id


def emergency_number(kind: IncidentKind) -> str:
    """The number to offer: 119 for fire, otherwise 120."""
    return EMERGENCY_NUMBERS.get(kind, EMERGENCY_NUMBER)


# ---------------------------------------------------------------- catalogue

_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title_urgent": "URGENT: {kind}",
        "title": "{kind}",
        "where": "{name}, {address}.",
        "when": "{when}.",
        "ago": "{minutes} min ago",
        "just_now": "just now",
        "clock": "{time}, {ago}",
        "quote": '"{message}"',
        "silence": "No movement for {gap}.",
        "silence_normal": "No movement for {gap}; usual here at this time: up to {normal}.",
        "hours_minutes": "{hours} h {minutes} min",
        "minutes_only": "{minutes} min",
        "go_now": "Please go now, and tap Accept if you can.",
        "check": "Please check on {name}, and tap Accept if you can.",
        "nobody_yet": "Nobody has accepted yet. If in doubt, call {number}.",
        "it": "Please check the equipment.",
        "offline": "Home offline",
        "title_accepted": "Accepted: {kind}",
        "accepted": "You are handling it: {name}, {address}. Tap On my way when you leave.",
        "title_handled": "{kind}: being handled",
        "handled": "{volunteer} is handling it ({name}).",
        "title_info": "For information: {kind}",
        "info": "{name}, {address} ({when}). The assigned volunteers have been paged.",
        "title_resolved": "Resolved: {kind}",
        "resolved": "{name}: {resolution}. Thank you.",
        "title_ask": "How did it end?",
        "ask": "{kind} at {name}'s home: what was it?",
        "test": "[TEST] ",
        "join": " ",
    },
    "zh-Hans": {
        "title_urgent": "紧急：{kind}",
        "title": "{kind}",
        "where": "{name}，{address}。",
        "when": "{when}。",
        "ago": "{minutes}分钟前",
        "just_now": "刚刚",
        "clock": "{time}，{ago}",
        "quote": "“{message}”",
        "silence": "已{gap}无活动。",
        "silence_normal": "已{gap}无活动；此时此处平常最多{normal}。",
        "hours_minutes": "{hours}小时{minutes}分钟",
        "minutes_only": "{minutes}分钟",
        "go_now": "请立即前往，能去请点“接单”。",
        "check": "请尽快查看{name}的情况，能去请点“接单”。",
        "nobody_yet": "尚无人接单！如情况紧急，请拨打{number}。",
        "it": "请检查设备。",
        "offline": "设备离线",
        "title_accepted": "已接单：{kind}",
        "accepted": "由您负责：{name}，{address}。出发时请点“正在赶往”。",
        "title_handled": "{kind}：已有人处理",
        "handled": "{volunteer}已接单，正在处理（{name}）。",
        "title_info": "知悉：{kind}",
        "info": "{name}，{address}（{when}）。已通知责任志愿者。",
        "title_resolved": "已处理：{kind}",
        "resolved": "{name}：{resolution}。辛苦了！",
        "title_ask": "请选择处理结果",
        "ask": "{name}家的{kind}：是什么情况？",
        "test": "【测试】",
        "join": "",
    },
}

_BUTTON: Mapping[str, Mapping[str, str]] = {
    "en": {
        ACTION_ACCEPT: "Accept",
        ACTION_ON_THE_WAY: "On my way",
        ACTION_RESOLVE: "Resolved",
        ACTION_REAL_EMERGENCY: "Real emergency",
        ACTION_FALSE_ALARM: "False alarm",
        ACTION_RESIDENT_OK: "Resident OK",
        "call_elder": "Call elder",
        "call_emergency": "Call {number}",
    },
    "zh-Hans": {
        ACTION_ACCEPT: "接单",
        ACTION_ON_THE_WAY: "正在赶往",
        ACTION_RESOLVE: "已处理",
        ACTION_REAL_EMERGENCY: "真实紧急",
        ACTION_FALSE_ALARM: "误报",
        ACTION_RESIDENT_OK: "老人平安",
        "call_elder": "呼叫老人",
        "call_emergency": "拨打{number}",
    },
}

_RESOLUTION: Mapping[str, Mapping[str, str]] = {
    "en": {
        Resolution.REAL_EMERGENCY: "real emergency",
        Resolution.FALSE_ALARM: "false alarm",
        Resolution.RESIDENT_OK: "the resident is fine",
        Resolution.TEST: "test",
        Resolution.UNSPECIFIED: "resolved",
        Resolution.HOUSEHOLD: "closed by the family",
        Resolution.BACK_ONLINE: "back online",
    },
    "zh-Hans": {
        Resolution.REAL_EMERGENCY: "真实紧急情况",
        Resolution.FALSE_ALARM: "误报",
        Resolution.RESIDENT_OK: "老人平安",
        Resolution.TEST: "测试",
        Resolution.UNSPECIFIED: "已处理",
        Resolution.HOUSEHOLD: "家属已处理",
        Resolution.BACK_ONLINE: "已恢复联系",
    },
}


def _text(lang: str, key: str, **values: str) -> str:
    return _TEXT[lang][key].format(**values)


def _kind(incident: HubIncident, lang: str) -> str:
    if incident.offline:
        return _TEXT[lang]["offline"]
    return kind_text(incident.kind, lang)


def _title(incident: HubIncident, lang: str, key: str) -> str:
    title = _text(lang, key, kind=_kind(incident, lang))
    return _TEXT[lang]["test"] + title if incident.test else title


def _when(
    incident: HubIncident, lang: str, now: datetime | None, tz: tzinfo | None
) -> str:
    """How long ago it happened at home ("3 min ago"), with the clock time if ``tz``."""
    moment = incident.raised_at or incident.created_at
    minutes = int(((now or datetime.now(UTC)) - moment).total_seconds() // 60)
    ago = (
        _text(lang, "ago", minutes=str(minutes))
        if minutes >= 1
        else _TEXT[lang]["just_now"]
    )
    if tz is None:
        return ago
    return _text(lang, "clock", time=moment.astimezone(tz).strftime("%H:%M"), ago=ago)


def _duration(lang: str, minutes: int) -> str:
    """``3 h 10 min`` / ``3小时10分钟``."""
    if minutes < 60:
        return _text(lang, "minutes_only", minutes=str(minutes))
    return _text(
        lang, "hours_minutes", hours=str(minutes // 60), minutes=str(minutes % 60)
    )


def _minutes(value: Any) -> int | None:
    """A whole, non-negative number of minutes from the details, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def _detail_message(incident: HubIncident, lang: str) -> str | None:
    """The reporter's words (quoted), or why an inactivity alarm was raised."""
    message = incident.details.get("message")
    if isinstance(message, str) and message.strip():
        return _text(lang, "quote", message=message.strip()[:MAX_DETAIL_MESSAGE])
    if incident.kind is IncidentKind.SENSOR_FAULT:
        return problem_text(incident.details, lang)
    gap = _minutes(incident.details.get("gap_min"))
    if incident.kind is IncidentKind.INACTIVITY and gap is not None:
        normal = _minutes(incident.details.get("normal_up_to"))
        if normal is None:
            return _text(lang, "silence", gap=_duration(lang, gap))
        return _text(
            lang,
            "silence_normal",
            gap=_duration(lang, gap),
            normal=_duration(lang, normal),
        )
    return None


def _button(
    lang: str, action: str, incident: HubIncident, volunteer_id: str | None
) -> dict[str, str]:
    return {
        "action": action_id(action, incident.id, volunteer_id),
        "title": _BUTTON[lang][action],
    }


def _call_elder(lang: str, household: HouseholdRecord) -> list[dict[str, str]]:
    if not household.phone:
        return []
    return [
        {
            "action": URI,
            "title": _BUTTON[lang]["call_elder"],
            "uri": tel_uri(household.phone),
        }
    ]


def _call_emergency(lang: str, incident: HubIncident) -> dict[str, str]:
    number = emergency_number(incident.kind)
    return {
        "action": URI,
        "title": _BUTTON[lang]["call_emergency"].format(number=number),
        "uri": tel_uri(number),
    }


def _data(
    incident: HubIncident, *, critical: bool, level: str, actions: list[dict[str, str]]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tag": tag(incident),
        "group": GROUP,
        "ttl": 0,
        "priority": "high",
        "channel": CHANNEL_ALARM if critical else CHANNEL_NORMAL,
        "push": {"interruption-level": "critical" if critical else level},
    }
    if critical:
        data["importance"] = "high"
        data["push"]["sound"] = {"name": "default", "critical": 1, "volume": 1.0}
    if actions:
        data["actions"] = actions[:3]
    return data


def _payload(
    title: str, parts: list[str | None], lang: str, data: dict[str, Any]
) -> dict[str, Any]:
    message = _TEXT[lang]["join"].join(part for part in parts if part)
    return {"title": title, "message": message, "data": data}


# ----------------------------------------------------------------- payloads


def page_payload(
    incident: HubIncident,
    household: HouseholdRecord,
    *,
    language: str,
    critical: bool,
    call_120: bool,
    volunteer_id: str | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """Page one person: Accept · Call elder · Call 120 (the last for red or ``call_120``).

    ``volunteer_id`` goes into the action ids (so the answer says who tapped);
    ``now`` defaults to the current time; with ``tz`` the text also gives the clock time.
    """
    lang = language_for(language)
    number = emergency_number(incident.kind)
    if incident.colour is Triage.YELLOW:
        advice = _TEXT[lang]["it"]
    elif critical:
        advice = _TEXT[lang]["go_now"]
    else:
        advice = _text(lang, "check", name=household.elder_name)
    actions = [
        _button(lang, ACTION_ACCEPT, incident, volunteer_id),
        *_call_elder(lang, household),
    ]
    if call_120 or incident.colour is Triage.RED:
        actions.append(_call_emergency(lang, incident))
    return _payload(
        _title(incident, lang, "title_urgent" if critical else "title"),
        [
            _text(lang, "where", name=household.elder_name, address=household.address),
            _text(lang, "when", when=_when(incident, lang, now, tz)),
            _detail_message(incident, lang),
            advice,
            _text(lang, "nobody_yet", number=number) if call_120 else None,
        ],
        lang,
        _data(incident, critical=critical, level="time-sensitive", actions=actions),
    )


def accepted_payload(
    incident: HubIncident,
    household: HouseholdRecord,
    *,
    language: str,
    volunteer_id: str | None = None,
) -> dict[str, Any]:
    """For the volunteer who accepted: On my way · Resolved · Call 120, same tag.

    ``volunteer_id`` defaults to the incident's owner (``accepted_by``).
    """
    lang = language_for(language)
    owner = volunteer_id or incident.accepted_by
    actions = [
        _button(lang, ACTION_ON_THE_WAY, incident, owner),
        _button(lang, ACTION_RESOLVE, incident, owner),
        _call_emergency(lang, incident),
    ]
    return _payload(
        _title(incident, lang, "title_accepted"),
        [_text(lang, "accepted", name=household.elder_name, address=household.address)],
        lang,
        _data(incident, critical=False, level="time-sensitive", actions=actions),
    )


def handled_by_payload(
    incident: HubIncident,
    household: HouseholdRecord,
    volunteer_name: str,
    *,
    language: str,
) -> dict[str, Any]:
    """For everyone else who was paged: "<name> is handling it", no actions, quiet."""
    lang = language_for(language)
    return _payload(
        _title(incident, lang, "title_handled"),
        [_text(lang, "handled", volunteer=volunteer_name, name=household.elder_name)],
        lang,
        _data(incident, critical=False, level="passive", actions=[]),
    )


def informational_payload(
    incident: HubIncident,
    household: HouseholdRecord,
    *,
    language: str,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """For the duty desk while tier 1 is paged: normal priority, Call elder only."""
    lang = language_for(language)
    return _payload(
        _title(incident, lang, "title_info"),
        [
            _text(
                lang,
                "info",
                name=household.elder_name,
                address=household.address,
                when=_when(incident, lang, now, tz),
            ),
            _detail_message(incident, lang),
        ],
        lang,
        _data(
            incident,
            critical=False,
            level="active",
            actions=_call_elder(lang, household),
        ),
    )


def resolved_payload(
    incident: HubIncident, household: HouseholdRecord, *, language: str
) -> dict[str, Any]:
    """Replaces the incident's notification with "resolved (how)", quiet, no actions."""
    lang = language_for(language)
    resolution = resolution_text(incident.resolution, lang)
    return _payload(
        _title(incident, lang, "title_resolved"),
        [_text(lang, "resolved", name=household.elder_name, resolution=resolution)],
        lang,
        _data(incident, critical=False, level="passive", actions=[]),
    )


def resolution_payload(
    incident: HubIncident,
    household: HouseholdRecord,
    *,
    language: str,
    volunteer_id: str | None = None,
) -> dict[str, Any]:
    """Ask whoever tapped Resolved what it was: Real emergency · False alarm · Resident OK.

    The answer is a :data:`RESOLUTION_ACTIONS` action; apply it with
    ``HubIncidentBook.set_resolution``.
    """
    lang = language_for(language)
    actions = [
        _button(lang, action, incident, volunteer_id) for action in RESOLUTION_ACTIONS
    ]
    return _payload(
        _TEXT[lang]["title_ask"],
        [_text(lang, "ask", kind=_kind(incident, lang), name=household.elder_name)],
        lang,
        _data(incident, critical=False, level="active", actions=actions),
    )


def clear_payload(incident: HubIncident) -> dict[str, Any]:
    """Remove the incident's notification from the phone."""
    return {"message": "clear_notification", "data": {"tag": tag(incident)}}


def resolution_text(resolution: str | None, language: str) -> str:
    """Human text of a resolution code (also for the duty desk's services)."""
    lang = language_for(language)
    return _RESOLUTION[lang].get(
        resolution or "", _RESOLUTION[lang][Resolution.UNSPECIFIED]
    )


# ------------------------------------------------ the hub's own channels (issue 23)

_CHANNEL_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        Triage.RED: "RED",
        Triage.ORANGE: "ORANGE",
        Triage.YELLOW: "YELLOW",
        "group": "{test}[{colour}] {kind} in {area}. Who can go? {link}",
        "group_no_link": "{test}[{colour}] {kind} in {area}. Who can go? Answer in the app.",
        "accept_link": "Accept or on my way: {link}",
        "area_unknown": "our community",
        "test_message": "Silver Bell test message from the hub: this channel works.",
        "test_kind": "Test message",
    },
    "zh-Hans": {
        Triage.RED: "红色",
        Triage.ORANGE: "橙色",
        Triage.YELLOW: "黄色",
        "group": "{test}【{colour}】{area}：{kind}。谁能前往？{link}",
        "group_no_link": "{test}【{colour}】{area}：{kind}。谁能前往？请在App中接单。",
        "accept_link": "接单或“正在赶往”：{link}",
        "area_unknown": "本社区",
        "test_message": "银铃测试消息：此通知渠道工作正常。",
        "test_kind": "测试消息",
    },
}


def group_text(
    incident: HubIncident, *, language: str, area: str, link: str | None
) -> str:
    """A group robot's text: colour, kind, neighbourhood and link — no personal data."""
    lang = language_for(language)
    texts = _CHANNEL_TEXT[lang]
    return texts["group" if link else "group_no_link"].format(
        test=_TEXT[lang]["test"] if incident.test else "",
        colour=texts[incident.colour],
        kind=_kind(incident, lang),
        area=area or texts["area_unknown"],
        link=link or "",
    )


def personal_text(
    payload: Mapping[str, Any], *, language: str, link: str | None
) -> str:
    """One person's text from a push payload: title, message and the accept link."""
    lang = language_for(language)
    parts = [str(payload.get("title") or ""), str(payload.get("message") or "")]
    if link:
        parts.append(_CHANNEL_TEXT[lang]["accept_link"].format(link=link))
    separator = "\n"
    return separator.join(part for part in parts if part)


def sms_params(
    incident: HubIncident, *, language: str, area: str, token: str
) -> dict[str, str]:
    """An SMS template's variables: ``kind``, ``area``, ``token`` (no personal data)."""
    lang = language_for(language)
    return {
        "kind": _kind(incident, lang),
        "area": area or _CHANNEL_TEXT[lang]["area_unknown"],
        "token": token,
    }


def test_message_text(language: str) -> str:
    """The text a channel's test button sends."""
    return _CHANNEL_TEXT[language_for(language)]["test_message"]


def detail_message(incident: HubIncident, language: str | None) -> str | None:
    """What the household reported, as the pushes say it (for the duty desk)."""
    return _detail_message(incident, language_for(language))


def test_sms_params(language: str, area: str) -> dict[str, str]:
    """An SMS template's variables for a channel's test (``kind`` says it is a test)."""
    lang = language_for(language)
    return {
        "kind": _CHANNEL_TEXT[lang]["test_kind"],
        "area": area or _CHANNEL_TEXT[lang]["area_unknown"],
        "token": "test",
    }
