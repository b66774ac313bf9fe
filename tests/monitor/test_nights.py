"""Nights are judged by the person's rise time, one sample per night."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
import random
from zoneinfo import ZoneInfo

from custom_components.silver_bell.core.monitor.assessment import judge_silence
from custom_components.silver_bell.core.monitor.inactivity import Level, WindowConfig
from custom_components.silver_bell.core.monitor.nights import (
    WEEKDAY,
    WEEKEND,
    DayWindow,
    Rises,
    day_type,
)
from custom_components.silver_bell.core.monitor.routine import (
    HOME,
    PHASE_NIGHT,
    Routine,
    RoutineConfig,
)

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = date(2024, 3, 4)
HOUR = timedelta(hours=1)
WINDOW = DayWindow()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time ``day`` days after Monday 4 March 2024."""
    return datetime.combine(
        MONDAY + timedelta(days=day), time(hour, minute), tzinfo=ZONE
    )


def evening_then_sleep(
    routine: Routine, days: range, rise: tuple[int, int] = (7, 0)
) -> None:
    """Busy evenings (a silence every 10 minutes until 23:30), then asleep until ``rise``."""
    for day in days:
        routine.record_activity(at(day, 7, 0) + timedelta(minutes=0), "bedroom")
        for minute in range(0, 14 * 60, 45):
            routine.record_activity(at(day, 8) + timedelta(minutes=minute), "kitchen")
        for minute in range(0, 90, 10):
            routine.record_activity(at(day, 22) + timedelta(minutes=minute), "bathroom")
        routine.record_activity(at(day + 1, *rise), "bedroom")


def test_day_window() -> None:
    """Night length, origins and mornings, also for a window across midnight."""
    assert WINDOW.night_length == 9 * HOUR
    assert WINDOW.night_origin(at(1, 3)) == at(0, 22)
    assert WINDOW.night_origin(at(1, 23)) == at(1, 22)
    assert WINDOW.morning(MONDAY) == MONDAY + timedelta(days=1)
    assert WINDOW.night_of(MONDAY + timedelta(days=1), 3) == MONDAY
    assert WINDOW.night_of(MONDAY, 22) == MONDAY
    late = DayWindow(start=time(7), end=time(22, 30))
    assert late.night_of(MONDAY, 22) == MONDAY  # 22:30-22:59 is the night
    shifted = DayWindow(start=time(20), end=time(6))
    assert shifted.night_length == 14 * HOUR
    assert shifted.morning(MONDAY) == MONDAY
    assert shifted.contains(time(23)) and not shifted.contains(time(12))
    always = DayWindow(start=time(7), end=time(7))
    assert not always.has_night
    assert always.contains(time(3))
    assert day_type(MONDAY) == WEEKDAY
    assert day_type(MONDAY + timedelta(days=5)) == WEEKEND


def test_rises_keep_the_latest_end_of_each_night() -> None:
    """One sample per night: its latest end; a night not seen to its end is left out."""
    rises = Rises(WINDOW, keep=3)
    rises.record(MONDAY, int(1.5 * 3600))  # the evening
    rises.record(MONDAY, 9 * 3600)  # up at 07:00
    rises.record(MONDAY, 5 * 3600)  # an earlier silence of that night
    rises.record(MONDAY + timedelta(days=1), 3600)  # out at night: no rise seen
    assert rises.as_list() == [
        [MONDAY.toordinal(), 9 * 3600],
        [MONDAY.toordinal() + 1, 3600],
    ]
    assert rises.before(MONDAY + timedelta(days=2), 1) == ([9 * 3600], WEEKDAY)
    # Never the night being judged, nor a later one.
    assert rises.before(MONDAY, 1) is None
    for day in range(2, 6):
        rises.record(MONDAY + timedelta(days=day), 10 * 3600)
    assert len(rises) == 3  # the newest nights only
    twin = rises.copy()
    twin.record(MONDAY + timedelta(days=9), 8 * 3600)
    assert len(rises) == 3
    assert len(twin) == 3


def test_rises_prefer_the_same_day_type_then_pool() -> None:
    """Weekend mornings (Friday and Saturday nights) apart once there are enough."""
    rises = Rises(WINDOW, keep=60)
    for day in range(14):
        origin = MONDAY + timedelta(days=day)
        weekend = day_type(WINDOW.morning(origin)) == WEEKEND
        rises.record(origin, (11 if weekend else 9) * 3600)
    friday = MONDAY + timedelta(days=18)
    assert rises.before(friday, 4) == ([11 * 3600] * 4, WEEKEND)
    samples, used = rises.before(friday, 5) or ([], "")
    assert used is None
    assert len(samples) == 14
    assert rises.before(friday, 15) is None


def test_rises_load_drops_malformed_entries() -> None:
    """Stored pairs only; anything else is ignored."""
    rises = Rises(WINDOW, keep=60)
    rises.load(
        [[MONDAY.toordinal(), 30000], [0, 1], [1, -1], ["x", 1], [1], True, [1.5, 2]]
    )
    rises.load([[MONDAY.toordinal(), 20000], (MONDAY.toordinal() + 1, 31000)])
    assert rises.as_list() == [
        [MONDAY.toordinal(), 30000],
        [MONDAY.toordinal() + 1, 31000],
    ]


def test_evening_silences_do_not_pull_the_rise_earlier() -> None:
    """In bed at 22:05 after a busy evening: alarmed an hour after the usual rise."""
    routine = Routine()
    evening_then_sleep(routine, range(9))
    bedtime = routine.assess(at(9, 23, 30), "bathroom", at(10, 1))
    assert bedtime is not None
    assert bedtime.phase == PHASE_NIGHT
    assert bedtime.context == HOME
    assert bedtime.day_type == WEEKDAY
    assert at(9, 23, 30) + bedtime.alarm_after == at(10, 8, 0)
    # The whole night is judged by the same rise, whenever it began.
    early = routine.assess(at(9, 22, 5), "bathroom", at(10, 1))
    assert early is not None
    assert at(9, 22, 5) + early.alarm_after == at(10, 8, 0)


def test_before_a_handful_of_nights_the_night_rule_decides() -> None:
    """Learning over, but fewer than ``min_nights`` nights seen: the fixed windows."""
    routine = Routine(replace(RoutineConfig(), learning_days=3, min_nights=5))
    evening_then_sleep(routine, range(4))
    assert routine.assess(at(4, 23, 30), "bedroom", at(5, 1)) is None
    windows = WindowConfig()
    verdict, assessment = judge_silence(
        routine, windows, WindowConfig(), at(4, 23, 30), "bedroom", at(5, 9, 31)
    )
    assert assessment is None
    assert verdict.level is Level.ALARM
    assert verdict.source == "night"  # 10 h from the last activity
    evening_then_sleep(routine, range(4, 5))
    assert routine.assess(at(5, 23, 30), "bedroom", at(6, 1)) is not None


def test_rises_survive_a_restart_and_older_snapshots() -> None:
    """Stored with the routine; a snapshot from before has them in its buckets."""
    routine = Routine()
    evening_then_sleep(routine, range(9))
    stored = routine.as_dict()
    assert len(stored["rises"]) == 9
    restored = Routine.from_dict(stored)
    older = Routine.from_dict({k: v for k, v in stored.items() if k != "rises"})
    for twin in (restored, older, routine.copy()):
        again = twin.assess(at(9, 23, 30), "bathroom", at(10, 1))
        assert again is not None
        assert at(9, 23, 30) + again.alarm_after == at(10, 8, 0)


def test_synthetic_nights_page_rarely() -> None:
    """Rises spread like a real person's: the realised rate of night pages is low.

    40 simulated people, 28 days each, scored after the 7 learning days (the
    first weeks, when few nights are known, are the hard part): evenings with
    a silence every 5-25 minutes in the bathroom and living room, to bed
    between 21:30 and 23:30, up at about 07:00 with a spread of 45 minutes
    (normal). A night pages when the person gets up after the alarm point plus
    the 10-minute check-in. Seeds are fixed: the outcome is reproducible.
    """
    pages = 0
    nights = 0
    for seed in range(40):
        rng = random.Random(seed)  # noqa: S311 - reproducible simulation
        routine = Routine()
        for day in range(28):
            moment = at(day, 8)
            bed = at(day, 21, 30) + timedelta(minutes=rng.randrange(120))
            while moment < bed:
                room = rng.choice(("kitchen", "living room", "bathroom"))
                routine.record_activity(moment, room)
                moment += timedelta(minutes=rng.randrange(5, 25))
            routine.record_activity(bed, "bedroom")
            rise = at(day + 1, 7) + timedelta(minutes=rng.gauss(0, 45))
            assessment = routine.assess(bed, "bedroom", bed + HOUR)
            if day >= 7:
                nights += 1
                alarm_after = (
                    assessment.alarm_after if assessment is not None else 10 * HOUR
                )
                if rise > bed + alarm_after + timedelta(minutes=10):
                    pages += 1
            routine.record_activity(rise, "bedroom")
    per_30_days = 30 * pages / nights
    assert nights == 40 * 21
    assert per_30_days < 0.5
