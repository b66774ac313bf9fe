"""Tests of the learned inactivity baseline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.monitor.baseline import (
    Baseline,
    BaselineConfig,
    quantile,
)
from custom_components.silver_bell.monitor.inactivity import Level

SHANGHAI = ZoneInfo("Asia/Shanghai")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2024, 3, 4)
# Exact arithmetic: the maximum sample, no margin, no clamping, no neighbours.
EXACT = BaselineConfig(
    quantile=1.0,
    margin=1.0,
    floor=timedelta(0),
    ceiling=timedelta(hours=12),
    min_samples=3,
    neighbour_hours=0,
)


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Return a local datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def days_from(first: date, count: int, *, weekends: bool = True) -> list[date]:
    """Return ``count`` consecutive days (optionally skipping weekends)."""
    result: list[date] = []
    day = first
    while len(result) < count:
        if weekends or day.weekday() < 5:
            result.append(day)
        day += timedelta(days=1)
    return result


def record_days(
    baseline: Baseline, days: Iterable[date], moments: Iterable[tuple[int, int]]
) -> None:
    """Record activities at the same (hour, minute) moments on each day."""
    moments = list(moments)
    for day in days:
        for hour, minute in moments:
            baseline.record_activity(local(day, hour, minute))


def learned(config: BaselineConfig = EXACT) -> Baseline:
    """Return a baseline that has finished learning but has no samples."""
    baseline = Baseline(config)
    baseline.record_activity(local(MONDAY - timedelta(days=30), 0))
    baseline.interrupt(local(MONDAY - timedelta(days=1), 0))
    assert not baseline.learning
    return baseline


def test_fresh_baseline_is_learning() -> None:
    """Without history the baseline has no opinion."""
    baseline = Baseline()
    assert baseline.config == BaselineConfig()
    assert baseline.learning
    assert baseline.threshold(local(MONDAY, 9)) is None
    verdict = baseline.evaluate(local(MONDAY, 9), local(MONDAY, 23))
    assert (verdict.level, verdict.source, verdict.next_check) == (Level.OK, None, None)
    assert verdict.elapsed == timedelta(hours=14)
    assert baseline.as_dict() == {
        "version": 1,
        "first": None,
        "seen": None,
        "gap_start": None,
        "buckets": {},
    }


def test_learning_lasts_learning_days() -> None:
    """Learning ends once learning_days of history were seen (activity or interrupt)."""
    baseline = Baseline(BaselineConfig(learning_days=7))
    baseline.record_activity(local(MONDAY, 8))
    baseline.record_activity(local(MONDAY + timedelta(days=6), 8))
    assert baseline.learning
    baseline.interrupt(local(MONDAY + timedelta(days=7), 8))
    assert not baseline.learning


def test_longest_gap_per_day_and_hour_is_the_sample() -> None:
    """Bursts within an hour give one sample: the longest gap started in that hour."""
    baseline = learned()
    record_days(baseline, days_from(MONDAY, 3), [(9, 0), (9, 5), (9, 10), (10, 30)])
    buckets = baseline.as_dict()["buckets"]
    assert buckets["wd09"] == [
        [MONDAY.toordinal() + offset, 80 * 60] for offset in range(3)
    ]
    # The gaps 10:30 -> 09:00 next day are longer than the ceiling: not learned.
    assert "wd10" not in buckets
    assert baseline.threshold(local(MONDAY + timedelta(days=7), 9, 59)) == timedelta(
        minutes=80
    )


def test_threshold_statistics() -> None:
    """Threshold = quantile of the samples * margin, clamped to [floor, ceiling]."""
    config = BaselineConfig(
        quantile=0.5,
        margin=1.5,
        floor=timedelta(minutes=30),
        ceiling=timedelta(hours=3),
        min_samples=3,
        neighbour_hours=0,
    )
    baseline = learned(config)
    for offset, minutes in enumerate((20, 60, 40, 100)):
        day = MONDAY + timedelta(days=offset)
        baseline.record_activity(local(day, 14))
        baseline.record_activity(local(day, 14) + timedelta(minutes=minutes))
        baseline.interrupt(local(day, 20))
    # median(20, 40, 60, 100) = 50 min; * 1.5 = 75 min
    assert baseline.threshold(local(MONDAY, 14, 30)) == timedelta(minutes=75)

    floor = learned(BaselineConfig(min_samples=1, floor=timedelta(hours=1)))
    floor.record_activity(local(MONDAY, 14))
    floor.record_activity(local(MONDAY, 14, 5))
    assert floor.threshold(local(MONDAY, 14)) == timedelta(hours=1)

    ceiling = learned(BaselineConfig(min_samples=1, ceiling=timedelta(hours=2)))
    ceiling.record_activity(local(MONDAY, 14))
    ceiling.record_activity(local(MONDAY, 15, 50))
    assert ceiling.threshold(local(MONDAY, 14)) == timedelta(hours=2)


def test_weekday_weekend_buckets_and_fallback() -> None:
    """Weekends have their own buckets, falling back to the hour of both day types."""
    baseline = learned()
    weekdays = days_from(MONDAY, 5, weekends=False)
    record_days(baseline, weekdays, [(9, 0), (10, 0)])  # 60 min gaps on weekdays
    weekend = [MONDAY + timedelta(days=5), MONDAY + timedelta(days=6)]
    record_days(baseline, weekend, [(9, 0), (11, 0)])  # 120 min gaps on Sat/Sun
    saturday = MONDAY + timedelta(days=12)
    # Only two weekend samples (< min_samples): hour 9 of both day types.
    assert baseline.threshold(local(saturday, 9)) == timedelta(minutes=120)
    assert baseline.threshold(local(MONDAY + timedelta(days=7), 9)) == timedelta(
        minutes=60
    )
    record_days(baseline, [d + timedelta(days=7) for d in weekend], [(9, 0), (9, 30)])
    # Now the weekend bucket has enough samples of its own.
    assert baseline.threshold(local(saturday, 9)) == timedelta(minutes=120)
    assert baseline.as_dict()["buckets"]["we09"][-1][1] == 30 * 60
    # Hours without enough samples in either day type: no opinion.
    assert baseline.threshold(local(saturday, 15)) is None
    verdict = baseline.evaluate(local(saturday, 15), local(saturday, 23))
    assert (verdict.level, verdict.next_check) == (Level.OK, None)


def test_neighbour_hours_are_pooled() -> None:
    """With neighbour_hours=1 a gap start at 09:xx also uses hours 08 and 10."""
    days = days_from(MONDAY, 5, weekends=False)
    plain = learned()
    pooled = learned(BaselineConfig(**{**_fields(EXACT), "neighbour_hours": 1}))
    for baseline in (plain, pooled):
        record_days(baseline, days, [(8, 0), (10, 0), (10, 10)])  # 8 -> 10: 2 h
    later = MONDAY + timedelta(days=7)
    assert plain.threshold(local(later, 9)) is None
    assert pooled.threshold(local(later, 9)) == timedelta(hours=2)
    # Pooling wraps around midnight: 23:xx uses hour 00.
    record_days(pooled, [day + timedelta(days=7) for day in days], [(0, 0), (0, 45)])
    assert pooled.threshold(local(later + timedelta(days=7), 23)) == timedelta(
        minutes=45
    )


def _fields(config: BaselineConfig) -> dict[str, Any]:
    """Return a config's fields as a dict."""
    return {name: getattr(config, name) for name in config.__slots__}


def test_gap_over_midnight_belongs_to_its_start() -> None:
    """A gap from 23:30 to 06:30 is a sample of hour 23 of the day it started."""
    baseline = learned(BaselineConfig(**{**_fields(EXACT), "min_samples": 1}))
    baseline.record_activity(local(MONDAY, 23, 30))
    baseline.record_activity(local(MONDAY + timedelta(days=1), 6, 30))
    assert baseline.as_dict()["buckets"] == {"wd23": [[MONDAY.toordinal(), 7 * 3600]]}


def test_gap_across_dst_is_real_time() -> None:
    """Across the spring DST change 01:30 -> 03:30 local is one real hour."""
    baseline = learned(BaselineConfig(**{**_fields(EXACT), "min_samples": 1}))
    sunday = date(2024, 3, 31)
    baseline.record_activity(local(sunday, 1, 30, AMSTERDAM))
    baseline.record_activity(local(sunday, 3, 30, AMSTERDAM))
    assert baseline.as_dict()["buckets"]["we01"] == [[sunday.toordinal(), 3600]]


def test_interrupt_drops_the_gap() -> None:
    """After interrupt() the next activity starts a fresh gap without a sample."""
    baseline = learned(BaselineConfig(**{**_fields(EXACT), "min_samples": 1}))
    baseline.record_activity(local(MONDAY, 9))
    baseline.interrupt(local(MONDAY, 9, 30))
    baseline.record_activity(local(MONDAY, 11))
    assert baseline.as_dict()["buckets"] == {}
    baseline.record_activity(local(MONDAY, 11, 20))
    assert baseline.as_dict()["buckets"] == {"wd11": [[MONDAY.toordinal(), 20 * 60]]}


def test_activity_older_than_seen_is_ignored() -> None:
    """Out-of-order activity neither closes a gap nor moves the gap start back."""
    baseline = learned(BaselineConfig(**{**_fields(EXACT), "min_samples": 1}))
    baseline.record_activity(local(MONDAY, 9))
    baseline.record_activity(local(MONDAY, 8))
    baseline.record_activity(local(MONDAY, 9, 10))
    assert baseline.as_dict()["buckets"] == {"wd09": [[MONDAY.toordinal(), 600]]}


def test_max_samples_keeps_the_newest() -> None:
    """Each bucket keeps at most max_samples samples, dropping the oldest."""
    baseline = learned(BaselineConfig(**{**_fields(EXACT), "max_samples": 3}))
    days = days_from(MONDAY, 5, weekends=False)
    for minutes, day in enumerate(days, start=10):
        baseline.record_activity(local(day, 9))
        baseline.record_activity(local(day, 9, minutes))
        baseline.interrupt(local(day, 12))
    assert (
        baseline.as_dict()["buckets"]["wd09"]
        == [
            [day.toordinal(), minutes * 60]
            for minutes, day in enumerate(days, start=10)
        ][-3:]
    )


def test_evaluate_levels_and_next_check() -> None:
    """WARNING from warning_fraction * threshold, ALARM from the threshold."""
    baseline = learned(BaselineConfig(**{**_fields(EXACT), "warning_fraction": 0.5}))
    record_days(baseline, days_from(MONDAY, 5, weekends=False), [(9, 0), (11, 0)])
    day = MONDAY + timedelta(days=7)
    last = local(day, 9, 15)
    ok = baseline.evaluate(last, local(day, 9, 30))
    assert (ok.level, ok.source, ok.next_check) == (Level.OK, None, local(day, 10, 15))
    warning = baseline.evaluate(last, local(day, 10, 15))
    assert (warning.level, warning.source, warning.next_check) == (
        Level.WARNING,
        "baseline",
        local(day, 11, 15),
    )
    alarm = baseline.evaluate(last, local(day, 11, 15))
    assert (alarm.level, alarm.source, alarm.next_check) == (
        Level.ALARM,
        "baseline",
        None,
    )
    assert alarm.elapsed == timedelta(hours=2)
    # A clock running backwards counts as no time.
    assert baseline.evaluate(last, last - timedelta(minutes=5)).elapsed == timedelta(0)
    # The gap's start hour is read in the zone of now (last_activity may be UTC),
    # and next_check is given in the zone of now.
    plus8 = timezone(timedelta(hours=8))
    verdict = baseline.evaluate(
        last.astimezone(UTC), local(day, 9, 30).astimezone(plus8)
    )
    assert verdict.next_check == local(day, 10, 15)
    assert verdict.next_check is not None
    assert verdict.next_check.tzinfo is plus8
    in_utc = baseline.evaluate(last, local(day, 9, 30).astimezone(UTC))
    assert (in_utc.level, in_utc.next_check) == (Level.OK, None)  # 01:15 UTC: no data


def test_naive_datetimes_are_rejected() -> None:
    """Naive datetimes raise ValueError."""
    baseline = Baseline()
    naive = datetime(2024, 3, 4, 9, 0)
    with pytest.raises(ValueError, match="at"):
        baseline.record_activity(naive)
    with pytest.raises(ValueError, match="at"):
        baseline.interrupt(naive)
    with pytest.raises(ValueError, match="gap_start"):
        baseline.threshold(naive)
    with pytest.raises(ValueError, match="now"):
        baseline.evaluate(local(MONDAY, 9), naive)


def test_round_trip_is_json_and_lossless() -> None:
    """as_dict() is JSON-serialisable and from_dict() restores the same baseline."""
    baseline = Baseline()
    record_days(
        baseline, days_from(MONDAY, 10), [(7, 0), (7, 40), (9, 0), (12, 0), (13, 30)]
    )
    data = json.loads(json.dumps(baseline.as_dict()))
    restored = Baseline.from_dict(data)
    assert restored.as_dict() == baseline.as_dict()
    assert not restored.learning
    for hour in range(24):
        moment = local(MONDAY + timedelta(days=20), hour)
        assert restored.threshold(moment) == baseline.threshold(moment)
    # The open gap survives too: the next activity closes it.
    restored.record_activity(local(MONDAY + timedelta(days=9), 18, 30))
    assert restored.as_dict()["buckets"]["wd13"][-1] == [
        (MONDAY + timedelta(days=9)).toordinal(),
        5 * 3600,
    ]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "version": 2,
            "first": "2024-03-04T09:00:00+08:00",
            "seen": "2024-03-14T09:00:00+08:00",
        },
        {"version": 1, "first": None, "seen": "2024-03-14T09:00:00+08:00"},
        {"version": 1, "first": "2024-03-04T09:00:00+08:00", "seen": "yesterday"},
        {"version": 1, "first": "2024-03-04T09:00:00", "seen": "2024-03-14T09:00:00"},
        {
            "version": 1,
            "first": "2024-03-14T09:00:00+08:00",
            "seen": "2024-03-04T09:00:00+08:00",
        },
    ],
)
def test_from_dict_without_valid_history_starts_fresh(data: dict[str, Any]) -> None:
    """Missing or inconsistent history gives a fresh, learning baseline."""
    restored = Baseline.from_dict(data)
    assert restored.learning
    assert restored.as_dict()["buckets"] == {}


def test_from_dict_not_a_mapping_starts_fresh() -> None:
    """A stored value that is not a mapping at all gives a fresh baseline."""
    assert Baseline.from_dict(["garbage"]).learning  # type: ignore[arg-type]


def test_from_dict_drops_garbage_entries() -> None:
    """Malformed buckets and samples are dropped; the rest is kept (trimmed)."""
    data = {
        "version": 1,
        "first": "2024-03-04T09:00:00+08:00",
        "seen": "2024-03-14T09:00:00+08:00",
        "gap_start": "2024-03-15T09:00:00+08:00",  # after "seen": dropped
        "buckets": {
            "wd09": [
                [738949, 600],
                [738950, -1],
                [738951],
                [True, 5],
                ["x", 5],
                7,
                [738952, 900],
            ],
            "we10": "not a list",
            "wd24": [[738949, 600]],
            "xx09": [[738949, 600]],
            "wd11": [],
            "wd12": [[738949 + n, 60 * n] for n in range(10)],
            7: [[738949, 600]],
        },
    }
    restored = Baseline.from_dict(data, BaselineConfig(max_samples=4))
    assert restored.as_dict() == {
        "version": 1,
        "first": "2024-03-04T01:00:00+00:00",
        "seen": "2024-03-14T01:00:00+00:00",
        "gap_start": None,
        "buckets": {
            "wd09": [[738949, 600], [738952, 900]],
            "wd12": [[738949 + n, 60 * n] for n in range(6, 10)],
        },
    }
    assert Baseline.from_dict({**data, "buckets": []}).as_dict()["buckets"] == {}
    kept = Baseline.from_dict({**data, "gap_start": "2024-03-14T08:00:00+08:00"})
    assert kept.as_dict()["gap_start"] == "2024-03-14T08:00:00+08:00"


def test_quantile() -> None:
    """Linear-interpolation quantile with a clamped fraction."""
    assert quantile([5.0], 0.95) == 5.0
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert quantile([4.0, 1.0, 2.0, 3.0], 0.5) == 2.5
    assert quantile([1.0, 2.0], 2.0) == 2.0
    assert quantile([1.0, 2.0], -1.0) == 1.0
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)
