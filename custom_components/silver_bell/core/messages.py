"""Message catalogue for notifications and the logbook (en, zh-Hans).

Pushes are not rendered by the frontend, so Home Assistant's translation files
cannot reach them; this small catalogue is their one place (ARCHITECTURE.md,
Decisions: "Push texts come from a small message catalogue per language").
Pure Python, no Home Assistant import.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime

from .incidents import Action
from .models import Incident, IncidentKind

DEFAULT_LANGUAGE = "en"

_KIND: Mapping[str, Mapping[IncidentKind, str]] = {
    "en": {
        IncidentKind.FIRE: "Fire alarm",
        IncidentKind.HELP: "Help call",
        IncidentKind.INACTIVITY: "No activity",
        IncidentKind.COLD: "Too cold",
        IncidentKind.HEAT: "Too hot",
        IncidentKind.AWAY_TOO_LONG: "Away for too long",
        IncidentKind.SENSOR_FAULT: "Sensor problem",
        IncidentKind.TEST: "Test alarm",
    },
    "zh-Hans": {
        IncidentKind.FIRE: "火警",
        IncidentKind.HELP: "紧急呼叫",
        IncidentKind.INACTIVITY: "长时间无活动",
        IncidentKind.COLD: "室温过低",
        IncidentKind.HEAT: "室温过高",
        IncidentKind.AWAY_TOO_LONG: "外出时间过长",
        IncidentKind.SENSOR_FAULT: "传感器故障",
        IncidentKind.TEST: "测试报警",
    },
}

_ACTION: Mapping[str, Mapping[Action, str]] = {
    "en": {
        Action.OPENED: "{kind} at {name}'s home",
        Action.ESCALATED: "{kind} at {name}'s home: alert sent",
        Action.UPDATED: "{kind} at {name}'s home (updated)",
        Action.ACKNOWLEDGED: "{kind} at {name}'s home: acknowledged by {by}",
        Action.RESOLVED: "{kind} at {name}'s home: resolved by {by}",
        Action.CANCELLED: "{kind} at {name}'s home: cancelled, {name} checked in",
    },
    "zh-Hans": {
        Action.OPENED: "{name}家：{kind}",
        Action.ESCALATED: "{name}家：{kind}，已发出警报",
        Action.UPDATED: "{name}家：{kind}（已更新）",
        Action.ACKNOWLEDGED: "{name}家：{kind}，{by}已确认",
        Action.RESOLVED: "{name}家：{kind}，{by}已处理完毕",
        Action.CANCELLED: "{name}家：{kind}，已取消（{name}已报平安）",
    },
}

_PROBLEM: Mapping[str, Mapping[str, str]] = {
    "en": {
        "unavailable": "offline",
        "battery_low": "battery low",
        "silent": "no reports for days",
        "tamper": "tampered with or opened",
        "trouble": "reports a fault",
        "not_heard": "not heard from for over a day",
        "flapping": "keeps dropping out and coming back (weak signal or battery?)",
    },
    "zh-Hans": {
        "unavailable": "离线",
        "battery_low": "电量低",
        "silent": "多日无上报",
        "tamper": "被拆动或打开",
        "trouble": "报告故障",
        "not_heard": "超过一天没有收到信号",
        "flapping": "反复掉线又恢复（信号弱或电池不足？）",
    },
}
_LIST = {"en": ", ", "zh-Hans": "、"}
_ITEMS = {"en": "; ", "zh-Hans": "；"}

# The family's satisfaction question after a handled alarm (issue 22).
_SURVEY: Mapping[str, str] = {
    "en": "{kind} at {name}'s home is over. Did help come in time, and how did it go? "
    "Please rate it from 1 (poor) to 5 (very good).",
    "zh-Hans": "{name}家的{kind}已处理完毕。救助是否及时？您满意吗？"
    "请打分：1分很差，5分很好。",
}
_RATING: Mapping[str, Mapping[int, str]] = {
    "en": {
        1: "1 · Poor",
        2: "2 · Fair",
        3: "3 · OK",
        4: "4 · Good",
        5: "5 · Very good",
    },
    "zh-Hans": {
        1: "1分 很差",
        2: "2分 较差",
        3: "3分 一般",
        4: "4分 满意",
        5: "5分 非常满意",
    },
}

# Durations as a worried family reads them ("3 h 10 min", not "3:10" or "190").
_DURATION_UNITS: Mapping[str, tuple[str, str, str, str]] = {
    # day, hour, minute, second; the separator between parts is _DURATION_JOIN
    "en": ("{} d", "{} h", "{} min", "{} s"),
    "zh-Hans": ("{}天", "{}小时", "{}分", "{}秒"),
}
_DURATION_JOIN = {"en": " ", "zh-Hans": ""}
# A duration of minutes only reads "45 min" / "45分钟" (a lone "分" is ambiguous).
_MINUTES_ONLY = {"en": "{} min", "zh-Hans": "{}分钟"}
_SILENCE: Mapping[str, Mapping[bool, str]] = {
    "en": {
        True: "last seen in {room} {duration} ago",
        False: "last activity {duration} ago",
    },
    "zh-Hans": {
        True: "最后在{room}有活动，已过去{duration}",
        False: "最后一次活动在{duration}前",
    },
}

# Who did it, for the actors that are not a person's name (see actor_text).
_ACTOR: Mapping[str, Mapping[str, str]] = {
    "en": {
        "hub": "the community hub",
        "family": "the family",
        "system": "Silver Bell",
    },
    "zh-Hans": {
        "hub": "社区服务中心",
        "family": "家人",
        "system": "银铃守护",
    },
}
HUB_PREFIX = "hub:"
USER_PREFIX = "user:"
SYSTEM_ACTOR = "silver_bell"

_TITLE = {"en": "Silver Bell", "zh-Hans": "银铃守护"}
_TEST_PREFIX = {"en": "[TEST] ", "zh-Hans": "【测试】"}
_SEPARATOR = {"en": ": ", "zh-Hans": "："}


def language_for(code: str | None) -> str:
    """Map a Home Assistant language code to a catalogue language."""
    if code and code.lower().startswith("zh"):
        return "zh-Hans"
    return DEFAULT_LANGUAGE


def kind_text(kind: IncidentKind, language: str | None) -> str:
    """Human name of an incident kind."""
    return _KIND[language_for(language)][kind]


def duration_text(
    seconds: float, language: str | None, *, precise: bool = False
) -> str:
    """A duration in days, hours and minutes ("3 h 10 min" / "3小时10分").

    Below an hour only minutes ("45 min" / "45分钟"), from a day on no minutes.
    ``precise`` adds the seconds below an hour ("1 min 3 s" / "1分3秒").
    Negative durations count as zero.
    """
    lang = language_for(language)
    day, hour, minute, second = _DURATION_UNITS[lang]
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        parts = [day.format(days)] + ([hour.format(hours)] if hours else [])
    elif hours:
        parts = [hour.format(hours)] + ([minute.format(minutes)] if minutes else [])
    elif precise and secs:
        parts = ([minute.format(minutes)] if minutes else []) + [second.format(secs)]
    else:
        return _MINUTES_ONLY[lang].format(minutes)
    return _DURATION_JOIN[lang].join(parts)


def silence_text(minutes: int, room: str | None, language: str | None) -> str:
    """How long ago and where the last activity was (inactivity notifications)."""
    lang = language_for(language)
    return _SILENCE[lang][bool(room)].format(
        room=room, duration=duration_text(minutes * 60, lang)
    )


def details_text(
    incident: Incident, language: str | None, now: datetime | None = None
) -> str | None:
    """What a notification adds to the incident line: words, problems, silence.

    For an inactivity incident the silence is counted up to ``now`` when given
    (the notification leaves after the check-in), else as it was when it opened.
    """
    details = incident.details
    if message := details.get("message"):
        return str(message)
    if incident.kind is IncidentKind.INACTIVITY and isinstance(
        details.get("gap_min"), int
    ):
        minutes = details["gap_min"]
        last = details.get("last_activity")
        if now is not None and isinstance(last, str):
            with suppress(TypeError, ValueError):
                minutes = int(
                    (now - datetime.fromisoformat(last)).total_seconds() // 60
                )
        room = details.get("last_room")
        return silence_text(minutes, room if isinstance(room, str) else None, language)
    return problem_text(details, language)


def actor_text(by: str, language: str | None) -> str:
    """A person-readable "by": the volunteer's name, else who in words.

    ``hub:<name>`` is the volunteer (or the hub), ``user:<id>``, a button's entity
    id, ``service`` and ``family`` are the family, ``silver_bell`` is Silver Bell
    itself. Anything else is a name already.
    """
    words = _ACTOR[language_for(language)]
    if by.startswith(HUB_PREFIX):
        name = by.removeprefix(HUB_PREFIX)
        return words["hub"] if name in ("", "hub") else name
    if by == SYSTEM_ACTOR:
        return words["system"]
    if by in ("service", "family", "") or by.startswith(USER_PREFIX) or "." in by:
        return words["family"]
    return by


def title(language: str | None) -> str:
    """Notification title."""
    return _TITLE[language_for(language)]


def incident_text(
    action: Action,
    incident: Incident,
    name: str,
    language: str | None,
    by: str = "",
    message: str | None = None,
) -> str:
    """One line describing what happened to an incident (plus the reporter's words)."""
    lang = language_for(language)
    text = _ACTION[lang][action].format(
        kind=_KIND[lang][incident.kind], name=name, by=actor_text(by, lang)
    )
    if message:
        text = f"{text}{_SEPARATOR[lang]}{message}"
    return _TEST_PREFIX[lang] + text if incident.test else text


def problem_text(details: Mapping[str, object], language: str | None) -> str | None:
    """Which device has which problem, from a sensor-fault incident's details.

    ``details["sensors"]`` maps sensors to problem names, ``details["devices"]``
    sensors to their device's name (the sensor's id when the device has none).
    None when the details name no problem.
    """
    lang = language_for(language)
    sensors = details.get("sensors")
    devices = details.get("devices")
    if not isinstance(sensors, Mapping):
        return None
    names = devices if isinstance(devices, Mapping) else {}
    items = []
    for sensor, problems in sensors.items():
        if not isinstance(problems, list) or not problems:
            continue
        device = names.get(sensor)
        label = device if isinstance(device, str) and device else str(sensor)
        said = _LIST[lang].join(
            _PROBLEM[lang].get(str(problem), str(problem)) for problem in problems
        )
        items.append(f"{label}{_SEPARATOR[lang]}{said}")
    return _ITEMS[lang].join(items) or None


def survey_question(kind: IncidentKind, name: str, language: str | None) -> str:
    """The family's question after a handled alarm: how did the help go (1-5)?"""
    lang = language_for(language)
    return _SURVEY[lang].format(kind=_KIND[lang][kind], name=name)


def rating_text(rating: int, language: str | None) -> str:
    """The label of one rating (a button of the family's question)."""
    return _RATING[language_for(language)][rating]
