"""Tests of the learned routine (context-aware normal gaps)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.assessment import judge_silence
from custom_components.silver_bell.core.monitor.inactivity import Level, WindowConfig
from custom_components.silver_bell.core.monitor.routine import (
    HOME,
    PHASE_DAY,
    PHASE_NIGHT,
    WEEKDAY,
    Routine,
    RoutineConfig,
    quantile,
)

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = date(2024, 3, 4)
HOUR = timedelta(hours=1)
# Exact arithmetic: the longest sample, no margin, no floor (the per-gap
# quantile, not the false-alarm budget: tests/monitor/test_budget.py has it).
EXACT = RoutineConfig(
    false_alarm_budget=None,
    quantile=1.0,
    margin=1.0,
    floor=timedelta(0),
    rise_margin=HOUR,
    min_samples=3,
    pool_hours=(0, 1, 12),
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time ``day`` days after Monday 4 March 2024."""
    return datetime.combine(
        MONDAY + timedelta(days=day), time(hour, minute), tzinfo=ZONE
    )


def live(routine: Routine, days: range, plan: list[tuple[int, int, str]]) -> None:
    """Record the same day on each of ``days``: (hour, minute, room)."""
    for day in days:
        for hour, minute, room in plan:
            routine.record_activity(at(day, hour, minute), room)


# Up at 07:00 in the bedroom, kitchen until 10:00 then a 2 h silence, bathroom
# at 12:00 followed by a 30 min silence, bed at 22:30.
PLAN = [
    (7, 0, "bedroom"),
    (7, 30, "kitchen"),
    (10, 0, "kitchen"),
    (12, 0, "bathroom"),
    (12, 30, "kitchen"),
    (22, 30, "bedroom"),
]


def test_quantile() -> None:
    """Linear interpolation, clamped fraction, no values refused."""
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([3, 1, 2], 2.0) == 3
    assert quantile([3, 1, 2], -1) == 1
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_learning_then_context_aware_thresholds() -> None:
    """After learning, a gap is judged by the room it started in."""
    routine = Routine(EXACT)
    live(routine, range(7), PLAN)
    assert routine.learning
    assert routine.assess(at(7, 10)) is None
    live(routine, range(7, 9), PLAN)
    assert not routine.learning
    after_kitchen = routine.assess(at(9, 10), "kitchen")
    after_bathroom = routine.assess(at(9, 12), "bathroom")
    assert after_kitchen is not None
    assert after_bathroom is not None
    assert after_kitchen.phase == PHASE_DAY
    assert after_kitchen.context == "kitchen"
    assert after_kitchen.day_type == WEEKDAY
    assert after_kitchen.normal == 2 * HOUR
    assert after_bathroom.context == "bathroom"
    assert after_bathroom.normal == 0.5 * HOUR
    assert after_bathroom.alarm_after == 0.5 * HOUR
    assert after_bathroom.warning_after == 0.375 * HOUR
    # Survival: the share of pooled gaps at least that long.
    assert after_bathroom.survival(timedelta(minutes=20)) == 1.0
    assert after_bathroom.survival(HOUR) == 0.0


def test_night_gaps_are_judged_by_the_usual_rise_time() -> None:
    """Whenever the person went to bed, the alarm comes an hour after the usual rise."""
    routine = Routine(EXACT)
    live(routine, range(9), PLAN)
    early = routine.assess(at(9, 22, 30), "bedroom")
    late = routine.assess(at(10, 1, 30), "bedroom")
    assert early is not None
    assert late is not None
    assert early.phase == late.phase == PHASE_NIGHT
    # Usual rise 07:00 (9 h into the night from 22:00), plus the rise margin.
    assert at(9, 22, 30) + early.alarm_after == at(10, 8, 0)
    assert at(10, 1, 30) + late.alarm_after == at(10, 8, 0)
    assert late.normal == 5.5 * HOUR


def test_pooling_falls_back_but_never_to_no_opinion() -> None:
    """An unknown room and hour use the whole home's samples."""
    routine = Routine(EXACT)
    live(routine, range(9), PLAN)
    assessment = routine.assess(at(9, 16), "garage")
    assert assessment is not None
    assert assessment.context == HOME
    assert routine.assess(at(9, 16)) is not None


def test_no_samples_means_no_opinion() -> None:
    """Learning time alone does not give an opinion; every gap filtered out."""
    routine = Routine(replace(EXACT, min_gap=11 * HOUR))
    live(routine, range(9), PLAN)
    assert routine.assess(at(9, 12), "bathroom") is None
    verdict = routine.evaluate(at(9, 12), at(9, 20))
    assert verdict.level is Level.OK
    assert verdict.next_check is None


def test_evaluate_levels_and_next_check() -> None:
    """OK until the warning fraction, WARNING, then ALARM; next_check exact."""
    routine = Routine(EXACT)
    live(routine, range(9), PLAN)
    start = at(9, 12)
    ok = routine.evaluate(start, at(9, 12, 10), "bathroom")
    assert ok.level is Level.OK
    assert ok.next_check == start + 0.375 * HOUR
    warning = routine.evaluate(start, at(9, 12, 25), "bathroom")
    assert warning.level is Level.WARNING
    assert warning.next_check == start + 0.5 * HOUR
    alarm = routine.evaluate(start, at(9, 12, 30), "bathroom")
    assert alarm.level is Level.ALARM
    assert alarm.source == "baseline"
    assert alarm.next_check is None
    # A clock that went backwards counts as no time passed.
    assert routine.evaluate(start, at(9, 11), "bathroom").elapsed == timedelta(0)


def test_floor_and_ceiling_clamp() -> None:
    """The alarm point never comes before the floor nor after the ceiling."""
    routine = Routine(replace(EXACT, floor=2 * HOUR, ceiling=9 * HOUR))
    live(routine, range(9), PLAN)
    bathroom = routine.assess(at(9, 12), "bathroom")
    night = routine.assess(at(9, 22, 30), "bedroom")
    assert bathroom is not None
    assert night is not None
    assert bathroom.alarm_after == 2 * HOUR
    assert night.alarm_after == 9 * HOUR  # rise + margin would be 9.5 h


def test_outliers_interruptions_and_old_events_are_not_learned() -> None:
    """Long gaps, interrupted gaps, bursts and out-of-order events add no sample."""
    routine = Routine(EXACT)
    routine.record_activity(at(0, 8), "kitchen")
    routine.record_activity(at(0, 8, 0) + timedelta(seconds=20), "kitchen")  # burst
    routine.interrupt(at(0, 9))
    routine.record_activity(at(0, 12), "kitchen")  # after an interruption
    routine.record_activity(at(1, 2), "kitchen")  # 14 h: above the ceiling
    routine.record_activity(at(0, 23), "kitchen")  # older than what was seen
    assert routine.summary() == {}
    with pytest.raises(ValueError):
        routine.record_activity(datetime(2024, 3, 4, 8), "kitchen")


def test_samples_per_bucket_are_capped() -> None:
    """Only the newest ``max_samples`` samples are kept per bucket."""
    routine = Routine(replace(EXACT, max_samples=2))
    live(routine, range(5), PLAN)
    summary = routine.summary()
    assert summary[PHASE_DAY]["bathroom"]["weekday 12h"]["samples"] == 2


def test_round_trip_through_json() -> None:
    """A snapshot survives JSON and restores the same opinions."""
    routine = Routine(EXACT)
    live(routine, range(9), PLAN)
    restored = Routine.from_dict(json.loads(json.dumps(routine.as_dict())), EXACT)
    assert restored.as_dict() == routine.as_dict()
    assert restored.assess(at(9, 12), "bathroom") == routine.assess(
        at(9, 12), "bathroom"
    )
    assert restored.learned_since == routine.learned_since
    assert restored.contexts == ["bathroom", "bedroom", "kitchen"]


def test_version_1_keeps_the_learning_start() -> None:
    """The hourly snapshot of the first release keeps when learning began."""
    old = {
        "version": 1,
        "first": "2024-03-01T08:00:00+00:00",
        "seen": "2024-03-09T08:00:00+00:00",
        "gap_start": "2024-03-09T07:00:00+00:00",
        "buckets": {"wd08": [[738950, 3600]]},
    }
    routine = Routine.from_dict(old)
    assert not routine.learning
    assert routine.summary() == {}
    assert routine.learned_since == datetime(2024, 3, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        {},
        {"version": 99},
        {"version": 2, "first": "x", "seen": None},
        {"version": 2, "first": "2024-03-09T00:00:00", "seen": "2024-03-09T00:00:00"},
        {
            "version": 2,
            "first": "2024-03-09T00:00:00+00:00",
            "seen": "2024-03-01T00:00:00+00:00",
        },
    ],
)
def test_garbage_starts_fresh(garbage: Any) -> None:
    """Malformed snapshots start a fresh, learning routine."""
    routine = Routine.from_dict(garbage)
    assert routine.learning
    assert routine.summary() == {}


def test_malformed_buckets_are_dropped() -> None:
    """Only well-formed samples survive a restore."""
    data = {
        "version": 2,
        "first": "2024-03-01T00:00:00+00:00",
        "seen": "2024-03-09T00:00:00+00:00",
        "gap_start": "2024-03-10T00:00:00+00:00",  # after seen: dropped
        "gap_context": 5,
        "buckets": {
            "day": {
                "kitchen": {
                    "weekday10": [[738950, 3600], [1, -5], ["x", 1], [True, 2]],
                    "weekday99": [[738950, 60]],
                    "someday10": [[738950, 60]],
                    "weekend1x": [[738950, 60]],
                    "weekend11": "nope",
                },
                "hall": [],
                7: {},
            },
            "night": "nope",
        },
    }
    routine = Routine.from_dict(data)
    assert routine.as_dict()["buckets"] == {
        "day": {"kitchen": {"weekday10": [[738950, 3600]]}}
    }
    assert routine.as_dict()["gap_start"] is None
    assert Routine.from_dict({**data, "buckets": []}).summary() == {}


def test_day_window_wrapping_midnight_and_no_window() -> None:
    """A day window across midnight and an empty one are handled."""
    wrapped = Routine(replace(EXACT, day_start=time(20), day_end=time(6)))
    live(wrapped, range(9), PLAN)
    night = wrapped.assess(at(9, 12), "bathroom")
    assert night is not None
    assert night.phase == PHASE_NIGHT
    always_day = Routine(replace(EXACT, day_start=time(7), day_end=time(7)))
    live(always_day, range(9), PLAN)
    day = always_day.assess(at(9, 22, 30), "bedroom")
    assert day is not None
    assert day.phase == PHASE_DAY


@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=8)), ZONE])
def test_fixed_offset_and_utc_zones(zone: tzinfo) -> None:
    """Local times with a fixed offset (a household set to UTC) work like named zones."""
    routine = Routine(EXACT)
    for day in range(9):
        for hour, minute, room in PLAN:
            moment = datetime.combine(
                MONDAY + timedelta(days=day), time(hour, minute), tzinfo=zone
            )
            routine.record_activity(moment, room)
    start = datetime.combine(MONDAY + timedelta(days=9), time(12), tzinfo=zone)
    assessment = routine.assess(start, "bathroom")
    assert assessment is not None
    assert assessment.normal == 0.5 * HOUR


def test_judge_silence_learning_ceiling_and_routine() -> None:
    """Learning: fixed windows; learned: the routine, capped by the ceiling."""
    windows = WindowConfig()
    ceiling = WindowConfig(
        day_warning=5 * HOUR,
        day_alarm=6 * HOUR,
        night_warning=11 * HOUR,
        night_alarm=12 * HOUR,
    )
    routine = Routine(EXACT)
    # A person who sits for 9 hours after the kitchen at 10:00.
    plan = [
        (7, 0, "bedroom"),
        (10, 0, "kitchen"),
        (19, 0, "kitchen"),
        (22, 30, "bedroom"),
    ]
    live(routine, range(3), plan)
    verdict, assessment = judge_silence(
        routine, windows, ceiling, at(3, 10), "kitchen", at(3, 13)
    )
    assert assessment is None  # still learning: the 3 h day window decides
    assert verdict.level is Level.ALARM
    assert verdict.source == "day"
    live(routine, range(3, 9), plan)
    verdict, assessment = judge_silence(
        routine, windows, ceiling, at(9, 10), "kitchen", at(9, 15)
    )
    assert assessment is not None
    assert assessment.alarm_after == 9 * HOUR
    assert verdict.level is Level.WARNING  # the ceiling warns at 5 h
    assert verdict.next_check == at(9, 16)  # and alarms at 6 h, before the routine
    verdict, _ = judge_silence(
        routine, windows, ceiling, at(9, 10), "kitchen", at(9, 16)
    )
    assert verdict.level is Level.ALARM
    assert verdict.source == "day"
    # Learning switched off: the fixed windows, whatever was learned.
    verdict, assessment = judge_silence(
        None, windows, ceiling, at(9, 10), "kitchen", at(9, 13)
    )
    assert assessment is None
    assert verdict.source == "day"


def test_going_to_bed_just_before_the_night_is_judged_as_the_night() -> None:
    """A gap from the bedroom at 21:30 is the night; from the kitchen it is not."""
    routine = Routine(EXACT)
    live(routine, range(9), PLAN)
    bedtime = routine.assess(at(9, 21, 30), "bedroom")
    assert bedtime is not None
    assert bedtime.phase == PHASE_NIGHT
    # Usual rise 07:00 plus the rise margin, counted from 21:30.
    assert at(9, 21, 30) + bedtime.alarm_after == at(10, 8, 0)
    kitchen = routine.assess(at(9, 21, 30), "kitchen")
    assert kitchen is not None
    assert kitchen.phase == PHASE_DAY
    # Too early for bedtime (more than an hour before the night): a day gap.
    early = routine.assess(at(9, 20, 30), "bedroom")
    assert early is not None
    assert early.phase == PHASE_DAY
