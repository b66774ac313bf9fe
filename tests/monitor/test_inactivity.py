"""Tests of the fixed day/night inactivity windows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.inactivity import (
    InactivityVerdict,
    Level,
    WindowConfig,
    combine,
    evaluate_windows,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DEFAULTS = WindowConfig()


def at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Return a local time in March 2024 (the 4th is a Monday)."""
    return datetime(2024, 3, day, hour, minute, tzinfo=zone)


def check(
    last: datetime,
    now: datetime,
    level: Level,
    source: str | None,
    next_check: datetime | None,
) -> InactivityVerdict:
    """Evaluate the default windows and compare level, source and next check."""
    verdict = evaluate_windows(DEFAULTS, last, now)
    assert (verdict.level, verdict.source, verdict.next_check) == (
        level,
        source,
        next_check,
    )
    assert verdict.elapsed == now - last
    return verdict


def test_level_order() -> None:
    """Levels are strings and ordered by rank."""
    assert Level("alarm") is Level.ALARM
    assert isinstance(Level.OK, str)
    assert Level.OK.rank < Level.WARNING.rank < Level.ALARM.rank


def test_daytime_silence_warns_then_alarms() -> None:
    """During the day the day thresholds count from the last activity."""
    last = at(4, 9, 30)
    check(last, at(4, 9, 31), Level.OK, None, at(4, 11, 30))
    check(last, at(4, 11, 29), Level.OK, None, at(4, 11, 30))
    check(last, at(4, 11, 30), Level.WARNING, "day", at(4, 12, 30))
    check(last, at(4, 12, 30), Level.ALARM, "day", None)


def test_someone_not_yet_up_is_judged_by_the_night_rule() -> None:
    """Asleep since 01:00: warned at 09:00 and alarmed at 11:00 by the night rule.

    Not "3 h after 07:00" (the day rule counted from the window's start paged
    late risers at 10:00 every day; Decision amended 2026-12-07): the day rule
    applies only to a silence that began by day.
    """
    last = at(5, 1, 0)
    check(last, at(5, 7, 0), Level.OK, None, at(5, 9, 0))
    check(last, at(5, 8, 59), Level.OK, None, at(5, 9, 0))
    check(last, at(5, 9, 0), Level.WARNING, "night", at(5, 11, 0))
    check(last, at(5, 10, 0), Level.WARNING, "night", at(5, 11, 0))
    check(last, at(5, 11, 0), Level.ALARM, "night", None)


def test_ten_hours_is_always_an_alarm() -> None:
    """The night thresholds count from the last activity at any time of day."""
    last = at(5, 22, 30)
    check(last, at(6, 6, 30), Level.WARNING, "night", at(6, 8, 30))
    # 08:30 is before the day rule (07:00 + 3 h = 10:00) could alarm.
    check(last, at(6, 8, 30), Level.ALARM, "night", None)


def test_evening_collapse_is_not_forgotten_at_night() -> None:
    """The night rule keeps counting from an evening activity."""
    last = at(6, 20, 30)
    check(last, at(6, 21, 59), Level.OK, None, at(7, 4, 30))
    check(last, at(6, 22, 0), Level.OK, None, at(7, 4, 30))
    check(last, at(7, 4, 30), Level.WARNING, "night", at(7, 6, 30))
    check(last, at(7, 6, 30), Level.ALARM, "night", None)


def test_day_level_holds_after_the_window_closes() -> None:
    """The level never drops while no activity arrives, even after day_end."""
    last = at(6, 18, 0)
    check(last, at(6, 21, 0), Level.ALARM, "day", None)
    check(last, at(6, 23, 0), Level.ALARM, "day", None)
    last = at(6, 19, 30)
    check(last, at(6, 21, 30), Level.WARNING, "day", at(7, 5, 30))
    # The day alarm (22:30) would fall after day_end: the night alarm is next.
    check(last, at(6, 22, 30), Level.WARNING, "day", at(7, 5, 30))


def test_long_gap_over_several_days() -> None:
    """A gap of days is an alarm; the first rule to alarm explains it."""
    check(at(4, 12, 0), at(8, 12, 0), Level.ALARM, "day", None)
    check(at(4, 23, 0), at(8, 12, 0), Level.ALARM, "night", None)


def test_clock_going_backwards_counts_as_no_time() -> None:
    """``now`` before the last activity gives an OK verdict with zero elapsed."""
    verdict = evaluate_windows(DEFAULTS, at(4, 10, 0), at(4, 9, 0))
    assert verdict == InactivityVerdict(
        level=Level.OK, source=None, elapsed=timedelta(0), next_check=at(4, 12, 0)
    )


def test_naive_datetimes_are_rejected() -> None:
    """Naive datetimes raise ValueError."""
    naive = datetime(2024, 3, 4, 9, 0)
    with pytest.raises(ValueError, match="last_activity"):
        evaluate_windows(DEFAULTS, naive, at(4, 9, 0))
    with pytest.raises(ValueError, match="now"):
        evaluate_windows(DEFAULTS, at(4, 9, 0), naive)


def test_window_is_read_in_the_zone_of_now() -> None:
    """``last_activity`` may come in UTC; the day window is read in now's zone."""
    last = at(5, 1, 0).astimezone(UTC)
    verdict = evaluate_windows(DEFAULTS, last, at(5, 9, 30))
    assert verdict.level is Level.WARNING
    # Not yet up since 01:00: the night alarm (01:00 + 10 h) is next.
    assert verdict.next_check == at(5, 11, 0)
    assert verdict.next_check.tzinfo is SHANGHAI


def test_fixed_offset_zone() -> None:
    """A plain fixed-offset timezone works like a zoneinfo zone."""
    plus8 = timezone(timedelta(hours=8))
    last = datetime(2024, 3, 5, 1, 0, tzinfo=plus8)
    verdict = evaluate_windows(
        DEFAULTS, last, datetime(2024, 3, 5, 9, 30, tzinfo=plus8)
    )
    assert verdict.next_check == datetime(2024, 3, 5, 11, 0, tzinfo=plus8)


def test_window_wrapping_midnight() -> None:
    """A day window such as 20:00-06:00 (a night-shift worker) wraps midnight."""
    config = WindowConfig(day_start=time(20, 0), day_end=time(6, 0))
    # A silence begun before the window opens is the night rule's (19:00 + 8 h).
    verdict = evaluate_windows(config, at(4, 19, 0), at(4, 19, 30))
    assert verdict.next_check == at(5, 3, 0)
    assert evaluate_windows(config, at(4, 19, 0), at(4, 23, 0)).source is None
    # Begun inside the window: the day rule counts from the last activity.
    verdict = evaluate_windows(config, at(4, 20, 30), at(4, 21, 0))
    assert verdict.next_check == at(4, 22, 30)
    # Inside the window that started the previous evening.
    verdict = evaluate_windows(config, at(5, 2, 0), at(5, 5, 0))
    assert (verdict.level, verdict.source, verdict.next_check) == (
        Level.ALARM,
        "day",
        None,
    )
    # Too late in the window for the day rule: the night warning (05:00 + 8 h) is next.
    verdict = evaluate_windows(config, at(5, 5, 0), at(5, 5, 30))
    assert (verdict.level, verdict.next_check) == (Level.OK, at(5, 13, 0))


def test_disabled_day_window() -> None:
    """day_start == day_end leaves only the night rule."""
    config = WindowConfig(day_start=time(7, 0), day_end=time(7, 0))
    verdict = evaluate_windows(config, at(4, 9, 0), at(4, 13, 0))
    assert (verdict.level, verdict.next_check) == (Level.OK, at(4, 17, 0))


def test_short_window_never_reaches_the_day_alarm() -> None:
    """A window shorter than the day alarm only ever warns by day."""
    config = WindowConfig(day_start=time(9, 0), day_end=time(11, 30))
    verdict = evaluate_windows(config, at(4, 9, 0), at(4, 11, 0))
    assert (verdict.level, verdict.source, verdict.next_check) == (
        Level.WARNING,
        "day",
        at(4, 19, 0),
    )


def test_dst_spring_forward_amsterdam() -> None:
    """Elapsed time is real time across the spring DST change (31 March 2024)."""
    last = datetime(2024, 3, 30, 22, 30, tzinfo=AMSTERDAM)
    verdict = evaluate_windows(
        DEFAULTS, last, datetime(2024, 3, 31, 7, 30, tzinfo=AMSTERDAM)
    )
    assert verdict.elapsed == timedelta(hours=8)
    assert verdict.level is Level.WARNING
    # 10 real hours after 22:30 CET is 09:30 CEST (a wall clock would say 08:30).
    assert verdict.next_check == datetime(2024, 3, 31, 9, 30, tzinfo=AMSTERDAM)
    assert verdict.next_check.utcoffset() == timedelta(hours=2)


def test_dst_fall_back_amsterdam() -> None:
    """Elapsed time is real time across the autumn DST change (27 October 2024)."""
    last = datetime(2024, 10, 26, 22, 30, tzinfo=AMSTERDAM)
    verdict = evaluate_windows(
        DEFAULTS, last, datetime(2024, 10, 27, 5, 30, tzinfo=AMSTERDAM)
    )
    assert verdict.elapsed == timedelta(hours=8)
    assert verdict.level is Level.WARNING
    assert verdict.next_check == datetime(2024, 10, 27, 7, 30, tzinfo=AMSTERDAM)
    # The day window still opens at 07:00 local time (CET after the change).
    verdict = evaluate_windows(
        DEFAULTS,
        datetime(2024, 10, 27, 7, 0, tzinfo=AMSTERDAM),
        datetime(2024, 10, 27, 8, 0, tzinfo=AMSTERDAM),
    )
    assert verdict.next_check == datetime(2024, 10, 27, 9, 0, tzinfo=AMSTERDAM)


@pytest.mark.parametrize("zone", [SHANGHAI, AMSTERDAM], ids=str)
def test_next_check_is_exact_and_level_only_rises(zone: ZoneInfo) -> None:
    """Following next_check visits every level change, and levels never drop."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    config = WindowConfig()
    second = timedelta(seconds=1)
    for _ in range(300):
        # Spread over the year, so both DST changes of Amsterdam are crossed.
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
            minutes=rng.randrange(366 * 24 * 60)
        )
        last = start.astimezone(zone)
        now = last + timedelta(minutes=rng.randrange(24 * 60))
        verdict = evaluate_windows(config, last, now)
        first_elapsed = verdict.elapsed
        while verdict.next_check is not None:
            assert verdict.next_check > now
            before = evaluate_windows(config, last, verdict.next_check - second)
            assert before.level is verdict.level
            now = verdict.next_check
            later = evaluate_windows(config, last, now)
            assert later.level.rank > verdict.level.rank
            verdict = later
        assert verdict.level is Level.ALARM
        # Nothing waits longer than the night alarm.
        assert verdict.elapsed <= max(first_elapsed, config.night_alarm)
        assert (
            evaluate_windows(config, last, now + timedelta(days=2)).level is Level.ALARM
        )


def test_combine() -> None:
    """The highest level wins; next_check is the earliest one."""
    zero = timedelta(0)
    ok = InactivityVerdict(
        level=Level.OK, source=None, elapsed=zero, next_check=at(4, 12, 0)
    )
    warning = InactivityVerdict(
        level=Level.WARNING, source="baseline", elapsed=zero, next_check=at(4, 11, 0)
    )
    other_warning = InactivityVerdict(
        level=Level.WARNING, source="day", elapsed=zero, next_check=None
    )
    alarm = InactivityVerdict(
        level=Level.ALARM, source="night", elapsed=zero, next_check=None
    )

    assert combine(ok) == ok
    assert combine(ok, warning) == warning
    assert combine(warning, other_warning) == warning
    assert combine(other_warning, warning).source == "day"
    assert combine(other_warning, warning).next_check == at(4, 11, 0)
    assert combine(ok, alarm, warning) == alarm
    assert combine(other_warning).next_check is None


def test_combine_compares_next_checks_in_real_time() -> None:
    """On the autumn DST night the later wall-clock time can be the earlier moment."""
    zero = timedelta(0)
    first = datetime(2024, 10, 27, 2, 30, fold=0, tzinfo=AMSTERDAM)  # 00:30 UTC
    second = datetime(2024, 10, 27, 2, 20, fold=1, tzinfo=AMSTERDAM)  # 01:20 UTC
    verdicts = [
        InactivityVerdict(level=Level.OK, source=None, elapsed=zero, next_check=moment)
        for moment in (second, first)
    ]
    assert combine(*verdicts).next_check is first


def test_combine_needs_a_verdict() -> None:
    """combine() without verdicts is an error."""
    with pytest.raises(ValueError, match="at least one"):
        combine()
