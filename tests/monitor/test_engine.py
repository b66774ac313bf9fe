"""Tests of the inactivity engine (the one pipeline the glue and the replay drive)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.assessment import SOURCE_ROUTINE
from custom_components.silver_bell.core.monitor.away import AwayConfig
from custom_components.silver_bell.core.monitor.engine import (
    DEFAULT_CEILING,
    EngineConfig,
    Evaluation,
    InactivityEngine,
    ceiling_windows,
)
from custom_components.silver_bell.core.monitor.inactivity import (
    SOURCE_DAY,
    SOURCE_NIGHT,
    Level,
    WindowConfig,
)
from custom_components.silver_bell.core.monitor.routine import RoutineConfig
from custom_components.silver_bell.household.settings import DEFAULTS, engine_config

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = date(2024, 3, 4)
HOUR = timedelta(hours=1)
QUICK = RoutineConfig(learning_days=1, min_samples=3)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time ``day`` days after Monday 4 March 2024."""
    return datetime.combine(MONDAY + timedelta(days=day), time(hour, minute), ZONE)


def follow(
    engine: InactivityEngine, now: datetime, until: datetime
) -> list[Evaluation]:
    """Evaluate at ``now`` and then at each ``next_check`` up to ``until`` (the glue's timer)."""
    evaluations = [engine.evaluate(now)]
    while (check := evaluations[-1].next_check) is not None and check <= until:
        evaluations.append(engine.evaluate(check))
    return evaluations


def test_fixed_windows_while_learning_and_one_alarm_per_silence() -> None:
    """Learning: the fixed day rule alarms once; the next silence may alarm again."""
    engine = InactivityEngine(last_activity=at(0, 9))
    engine.activity(at(0, 9), "kitchen")
    first = engine.evaluate(at(0, 9))
    assert first.verdict is not None
    assert first.verdict.level is Level.OK
    assert first.next_check == at(0, 11)  # day warning, 2 h
    evaluations = follow(engine, at(0, 9), at(0, 23))
    alarms = [item.alarm for item in evaluations if item.alarm is not None]
    assert len(alarms) == 1
    assert alarms[0].at == at(0, 12)
    assert alarms[0].since == at(0, 9)
    assert alarms[0].context == "kitchen"
    assert alarms[0].rule == SOURCE_DAY
    assert engine.raised_for == at(0, 9)
    # Evaluated again (a tick): still ALARM, no second alarm.
    again = engine.evaluate(at(0, 13))
    assert again.verdict is not None
    assert again.verdict.level is Level.ALARM
    assert again.alarm is None
    engine.activity(at(0, 13), "bedroom")
    later = follow(engine, at(0, 13), at(1, 6))
    assert [item.alarm.rule for item in later if item.alarm] == [SOURCE_DAY]


def test_the_night_rule_counts_from_the_last_activity() -> None:
    """A silence from 21:30 alarms at 07:30 by the night rule, not by the day rule."""
    engine = InactivityEngine(last_activity=at(0, 21, 30))
    evaluations = follow(engine, at(0, 21, 30), at(1, 12))
    alarm = next(item.alarm for item in evaluations if item.alarm)
    assert (alarm.at, alarm.rule) == (at(1, 7, 30), SOURCE_NIGHT)


def _learn(engine: InactivityEngine, days: int) -> datetime:
    """Kitchen every 30 min 07:00-21:30, bedroom at 21:30, for ``days`` days."""
    moment = at(0, 7)
    for day in range(days):
        moment = at(day, 7)
        while moment <= at(day, 21, 30):
            room = "bedroom" if moment == at(day, 21, 30) else "kitchen"
            engine.activity(moment, room)
            engine.evaluate(moment)
            moment += timedelta(minutes=30)
    return moment - timedelta(minutes=30)


def test_the_learned_routine_decides_after_learning() -> None:
    """After learning the routine judges the silence (with the ceiling over it)."""
    engine = InactivityEngine(EngineConfig(routine=QUICK), last_activity=at(0, 7))
    _learn(engine, 3)
    engine.activity(at(3, 9), "kitchen")
    evaluation = engine.evaluate(at(3, 9))
    assert evaluation.assessment is not None
    assert evaluation.assessment.context == "kitchen"
    alarms = [item.alarm for item in follow(engine, at(3, 9), at(3, 20)) if item.alarm]
    assert [alarm.rule for alarm in alarms] == [SOURCE_ROUTINE]
    # The 2.5 h floor: usual kitchen gaps are 30 min.
    assert alarms[0].at == at(3, 11, 30)


def test_learning_switched_off_keeps_the_fixed_windows() -> None:
    """``learned=False``: the fixed windows decide even with a learned routine."""
    engine = InactivityEngine(
        EngineConfig(routine=QUICK, learned=False), last_activity=at(0, 7)
    )
    assert not engine.config.learned
    _learn(engine, 3)
    engine.activity(at(3, 9), "kitchen")
    evaluation = engine.evaluate(at(3, 9))
    assert evaluation.assessment is None
    assert evaluation.next_check == at(3, 11)
    assert not engine.routine.learning


def test_automatic_away_pauses_and_coming_back_restarts_the_clock() -> None:
    """Door cycle + 30 min quiet: away (no verdict, not learned); back by the door."""
    engine = InactivityEngine(last_activity=at(0, 9))
    engine.activity(at(0, 9), "kitchen")
    engine.evaluate(at(0, 9))
    for state, minute in (("on", 1), ("off", 2)):
        engine.activity(at(0, 9, minute), "hall", front_door=True)
        engine.door(state, at(0, 9, minute))
        closed = engine.evaluate(at(0, 9, minute))
    assert not closed.away.away
    assert closed.next_check == at(0, 9, 32)  # auto-away starts
    away = engine.evaluate(at(0, 9, 32))
    assert away.away.away
    assert away.verdict is None
    assert away.next_check == at(0, 11, 2)  # the check of the inferred outing
    assert engine.is_away
    # Activity while away is not learned as a gap.
    summary_before = engine.routine.summary()
    engine.activity(at(0, 17), "hall", front_door=True)
    engine.door("on", at(0, 17))
    back = engine.evaluate(at(0, 17))
    assert not back.away.away
    assert back.verdict is not None
    assert engine.last_activity == at(0, 17)
    assert engine.routine.summary() == summary_before


def test_manual_away_and_the_cap() -> None:
    """Manual away: paused until switched off; the clock restarts when it is."""
    engine = InactivityEngine(last_activity=at(0, 9))
    engine.evaluate(at(0, 9))
    engine.set_away(True, at(0, 10))
    evaluations = follow(engine, at(0, 10), at(1, 0))
    assert all(item.verdict is None and item.alarm is None for item in evaluations)
    assert evaluations[-1].away.too_long
    assert evaluations[-1].at == at(0, 22)
    engine.set_away(False, at(1, 8))
    back = engine.evaluate(at(1, 8))
    assert engine.last_activity == at(1, 8)
    assert back.verdict is not None
    assert back.verdict.level is Level.OK


def test_fork_looks_ahead_without_changing_the_engine() -> None:
    """A fork is independent: its alarm, its learning and its away do not leak back."""
    engine = InactivityEngine(EngineConfig(routine=QUICK), last_activity=at(0, 7))
    last = _learn(engine, 2)
    before = engine.routine.as_dict()
    twin = engine.fork()
    alarms = [item.alarm for item in follow(twin, last, last + 24 * HOUR) if item.alarm]
    assert len(alarms) == 1
    twin.activity(last + 20 * HOUR, "kitchen")
    twin.set_away(True, last + 21 * HOUR)
    assert engine.raised_for is None
    assert engine.routine.as_dict() == before
    assert not engine.away.evaluate(last + 22 * HOUR).away
    assert engine.last_activity == last


def test_restart_does_not_learn_the_downtime() -> None:
    """The gap across a restart is not learned."""
    engine = InactivityEngine(
        EngineConfig(routine=RoutineConfig(min_gap=timedelta(0))),
        last_activity=at(0, 9),
    )
    engine.activity(at(0, 9), "kitchen")
    engine.restart(at(0, 10))
    engine.activity(at(0, 11), "kitchen")
    assert engine.routine.summary() == {}
    engine.activity(at(0, 12), "kitchen")
    assert engine.routine.summary()["day"]["kitchen"]


def test_naive_times_are_refused() -> None:
    """Every moment must be timezone-aware."""
    with pytest.raises(ValueError, match="timezone-aware"):
        InactivityEngine(last_activity=datetime(2024, 3, 4, 9))
    engine = InactivityEngine(last_activity=at(0, 9))
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.activity(datetime(2024, 3, 4, 9), "kitchen")
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.evaluate(datetime(2024, 3, 4, 9))


def test_ceiling_windows() -> None:
    """The ceiling is never shorter than the fixed alarms; warnings come before."""
    windows = WindowConfig(day_alarm=4 * HOUR, night_alarm=10 * HOUR)
    ceiling = ceiling_windows(
        windows, day_alarm=3 * HOUR, night_alarm=12 * HOUR, warning_before=HOUR
    )
    assert (ceiling.day_warning, ceiling.day_alarm) == (3 * HOUR, 4 * HOUR)
    assert (ceiling.night_warning, ceiling.night_alarm) == (11 * HOUR, 12 * HOUR)
    assert ceiling_windows(
        windows, day_alarm=HOUR, night_alarm=HOUR, warning_before=5 * HOUR
    ).day_warning == timedelta(0)
    assert DEFAULT_CEILING.day_alarm == 6 * HOUR
    assert DEFAULT_CEILING.night_alarm == 12 * HOUR


def test_the_household_settings_are_the_engine_defaults() -> None:
    """The shipped options give the engine's defaults (the replay publishes these)."""
    assert engine_config(DEFAULTS, door_sensor=True) == EngineConfig()
    assert engine_config({}, door_sensor=True) == EngineConfig()
    no_door = engine_config(DEFAULTS, door_sensor=False)
    assert no_door.away == AwayConfig(auto=False)
    custom = engine_config(
        {"learned_baseline": False, "day_end": "21:00:00"}, door_sensor=True
    )
    assert not custom.learned
    assert custom.routine.day_end == custom.ceiling.day_end == time(21)
