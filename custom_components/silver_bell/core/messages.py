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

from .household.incidents import Action
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


# What the sensors can do (issue 17 item 4): the family's notification when the
# routine is learned and when the sensor advice changes.
_ADVICE_TITLE = {
    "en": "Silver Bell: what {name}'s sensors can do",
    "zh-Hans": "银铃守护：{name}家的传感器能做到什么",
}
_LEARNED = {
    "en": "Silver Bell has learned {name}'s daily routine and now judges silences "
    "by it.",
    "zh-Hans": "银铃守护已经学会了{name}的日常作息，今后按作息判断长时间无活动。",
}
_FIGURES = {
    "en": "With the sensors as they are, a fall in the daytime would be noticed "
    "after about {median} (9 in 10 within {p90}).",
    "zh-Hans": "按现有传感器，白天摔倒约{median}后会被发现（十次中有九次在{p90}内）。",
}
# The false alarms are not predicted but counted: the household's own history
# replayed with its settings (monitor/advice.py, ReplayedAlarms).
_REPLAYED = {
    "en": "Replayed with the current settings, this home's own last {days} days "
    "would have sent {alarms} to the community ({rate} per 30 days).",
    "zh-Hans": "按现在的设置回放这户人家最近{days}天的记录，会有{alarms}发到社区"
    "（每30天{rate}次）。",
}
_ALARMS = {  # none, one, more
    "en": ("no false alarm", "1 false alarm", "{count} false alarms"),
    "zh-Hans": ("0次误报", "1次误报", "{count}次误报"),
}
_FROM_CEILINGS = {
    "en": "{count} of them came from the safety limits on long silences, which "
    "always alarm.",
    "zh-Hans": "其中{count}次来自长时间无活动的安全上限，这种情况总会报警。",
}
_OVER_BUDGET = {
    "en": "That is more than the goal of {budget} per 30 days: it is what this "
    "home's own last {days} days would have produced with these settings. More "
    "sensors where the waits are longest help; longer alarm times would mean "
    "later help.",
    "zh-Hans": "这超过了每30天{budget}次的目标：这是按现在的设置，这户人家自己最近{days}天"
    "的记录会产生的次数。在等待最久的地方加装传感器会有帮助；把报警时间调长则意味着救助更晚。",
}
_WEAK = {
    "en": "The longest waits: {spots}.",
    "zh-Hans": "等待最久的情形：{spots}。",
}
_WEAK_SPOT = {
    "en": "after the {room} between {band}",
    "zh-Hans": "{band}点之间最后在{room}有活动后",
}
_ADVICE = {
    "en": "One more sensor would help most: a motion sensor in the {room}. Time to "
    "notice a fall: about {before} → about {after}; 9 in 10 within {p90_before} → "
    "{p90_after} (replayed on the last {days} days).",
    "zh-Hans": "最有帮助的是再加一个传感器：在{room}装一个人体移动传感器。"
    "发现摔倒的时间：约{before} → 约{after}；十次中九次在{p90_before} → "
    "{p90_after}以内（按最近{days}天回放）。",
}
_UNKNOWN = {"en": "unknown", "zh-Hans": "未知"}
_SENTENCE_JOIN = {"en": " ", "zh-Hans": ""}


def _about(seconds: float | None, lang: str) -> str:
    """A duration rounded to 10 minutes ("2 h 20 min")."""
    if seconds is None:
        return _UNKNOWN[lang]
    return duration_text(round(seconds / 600) * 600, lang)


def advice_title(name: str, language: str | None) -> str:
    """Title of the family's notification about the sensors."""
    return _ADVICE_TITLE[language_for(language)].format(name=name)


def learned_text(name: str, language: str | None) -> str:
    """The routine is learned."""
    return _LEARNED[language_for(language)].format(name=name)


def figures_text(
    median: float | None,
    p90: float | None,
    spots: list[tuple[str, str]],
    language: str | None,
) -> str:
    """Time to notice a fall, and the weak spots (room, hours)."""
    lang = language_for(language)
    text = _FIGURES[lang].format(median=_about(median, lang), p90=_about(p90, lang))
    if spots:
        said = _LIST[lang].join(
            _WEAK_SPOT[lang].format(room=room, band=band.replace("-", "–"))
            for room, band in spots
        )
        text = f"{text}{_SENTENCE_JOIN[lang]}{_WEAK[lang].format(spots=said)}"
    return text


def replayed_text(
    escalated: int,
    from_ceilings: int,
    days: float,
    rate: float,
    language: str | None,
) -> str:
    """The false alarms the household's own last ``days`` days give (replayed)."""
    lang = language_for(language)
    none, one, more = _ALARMS[lang]
    alarms = none if escalated == 0 else one if escalated == 1 else more
    text = _REPLAYED[lang].format(
        days=round(days), alarms=alarms.format(count=escalated), rate=f"{rate:.1f}"
    )
    if from_ceilings:
        said = _FROM_CEILINGS[lang].format(count=from_ceilings)
        text = f"{text}{_SENTENCE_JOIN[lang]}{said}"
    return text


def over_budget_text(budget: float, days: float, language: str | None) -> str:
    """The replayed rate exceeds the budget: what the household's own days gave."""
    return _OVER_BUDGET[language_for(language)].format(
        budget=f"{budget:g}", days=round(days)
    )


def advice_text(
    room: str,
    median: tuple[float, float],
    p90: tuple[float | None, float | None],
    days: float,
    language: str | None,
) -> str:
    """The one sensor that would shorten the time to notice the most (before, after)."""
    lang = language_for(language)
    return _ADVICE[lang].format(
        room=room,
        before=_about(median[0], lang),
        after=_about(median[1], lang),
        p90_before=_about(p90[0], lang),
        p90_after=_about(p90[1], lang),
        days=round(days),
    )
