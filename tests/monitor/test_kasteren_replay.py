"""Replay of the van Kasteren log (van Kasteren et al., UbiComp 2008).

The bounds asserted here are the ones stated in docs/inactivity-evaluation.md:
slightly looser than what was measured, so that a change that makes detection
clearly worse fails, while harmless changes do not.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
import os
from pathlib import Path
import time as clock
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.monitor.inactivity import InactivityVerdict, Level
from custom_components.silver_bell.monitor.kasteren import (
    ACTIVITY_FILE,
    FRONT_DOOR,
    LEAVE_HOUSE,
    SENSE_FILE,
    TIMEZONE,
    Evaluation,
    Event,
    Interval,
    activity_events,
    away_periods,
    evaluate_log,
    first_level,
    parse_intervals,
)

ZONE = ZoneInfo(TIMEZONE)
HOUR = timedelta(hours=1)
HEADER = (
    "Start time: Time sensor started firing\r\n"
    "Sensor IDs are: \r\n"
    "    [12]    'Frontdoor'         \r\n"
    "\r\n"
    "Start time          \tEnd time            \tID\tVal\r\n"
    "--------------------\t--------------------\t--\t---\r\n"
)


def data_dir() -> Path:
    """Return the data directory: $SILVER_BELL_KASTEREN_DIR or ../shared/data/kasteren."""
    configured = os.environ.get("SILVER_BELL_KASTEREN_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "kasteren"


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    """Replay the real 28-day log once for all tests of this module."""
    directory = data_dir()
    if (
        not (directory / SENSE_FILE).is_file()
        or not (directory / ACTIVITY_FILE).is_file()
    ):
        pytest.skip(f"van Kasteren data not found in {directory}")
    started = clock.perf_counter()
    result = evaluate_log(directory)
    # The replay takes about 0.4 s (1 s under coverage); allow for slow CI machines.
    assert clock.perf_counter() - started < 5.0
    return result


def test_replay_covers_the_log(evaluation: Evaluation) -> None:
    """The parser reads the whole log and the door rule finds the absences."""
    assert evaluation.first_event == datetime(2008, 2, 25, 0, 20, 14, tzinfo=ZONE)
    assert evaluation.last_event == datetime(2008, 3, 23, 19, 4, 47, tzinfo=ZONE)
    assert evaluation.events == 2 * 1319
    assert evaluation.collapses == 200
    # The door rule finds nearly all of the labelled 'leave house' time.
    assert evaluation.labelled_away_covered >= 0.95


def test_false_alarm_bounds(evaluation: Evaluation) -> None:
    """False alarms per 30 days stay within the documented bounds."""
    assert evaluation.fixed_all.per_30_days <= 2.5
    assert evaluation.fixed_post.per_30_days <= 3.0
    assert evaluation.baseline.per_30_days <= 3.0
    assert evaluation.combined.per_30_days <= 4.5
    # No alarm while the person was (per the labels) out of the house.
    assert evaluation.combined.labelled_away == 0
    assert evaluation.fixed_all.labelled_away == 0


def test_latency_bounds(evaluation: Evaluation) -> None:
    """Detection latency after a simulated daytime collapse stays within bounds."""
    fixed, learned, both = (
        evaluation.latency_fixed,
        evaluation.latency_baseline,
        evaluation.latency_combined,
    )
    assert fixed.median is not None
    assert fixed.median <= 3 * HOUR
    assert learned.median is not None
    assert learned.median <= 3.25 * HOUR
    assert both.median is not None
    assert both.median <= 2.25 * HOUR
    assert both.median < fixed.median
    assert both.p90 is not None
    assert both.p90 <= 3.25 * HOUR
    assert both.maximum is not None
    assert both.maximum <= 6 * HOUR
    # Only the collapses right after a front-door event go unnoticed (auto-away).
    assert both.never == evaluation.collapses_after_door <= 8


def _line(start: datetime, end: datetime, ident: int) -> str:
    """Format one line in the data set's format."""
    return f"{start:%d-%b-%Y %H:%M:%S}\t{end:%d-%b-%Y %H:%M:%S}\t{ident}\t1\r\n"


def _write_synthetic_log(directory: Path) -> None:
    """Write 12 days of a regular life: at work 09:00-17:00 on weekdays."""
    sense, labels = [HEADER], [HEADER]
    second = timedelta(seconds=1)
    for offset in range(12):
        day = date(2008, 3, 3) + timedelta(days=offset)
        moment = datetime.combine(day, time(7, 0), tzinfo=ZONE)
        bedtime = datetime.combine(day, time(23, 0), tzinfo=ZONE)
        workday = day.weekday() < 5
        leave = datetime.combine(day, time(9, 0), tzinfo=ZONE)
        back = datetime.combine(day, time(17, 0), tzinfo=ZONE)
        while moment <= bedtime:
            if workday and moment == leave:
                sense.append(_line(leave, leave + second, FRONT_DOOR))
                labels.append(_line(leave, back, LEAVE_HOUSE))
                sense.append(_line(back, back + second, FRONT_DOOR))
                moment = back + timedelta(minutes=20)
                continue
            sense.append(_line(moment, moment + second, 8))
            moment += timedelta(minutes=20)
    (directory / SENSE_FILE).write_text("".join(sense), encoding="latin-1")
    (directory / ACTIVITY_FILE).write_text("".join(labels), encoding="latin-1")


def test_synthetic_replay(tmp_path: Path) -> None:
    """A regular synthetic life gives no false alarms and quick detection."""
    _write_synthetic_log(tmp_path)
    result = evaluate_log(tmp_path, collapses=40, seed=1)
    assert result.away_periods == 10  # ten workdays in twelve days
    assert result.labelled_away_covered == pytest.approx(1.0, abs=1e-3)
    assert result.away_over_cap == 0
    assert result.fixed_all.episodes == 0
    assert result.combined.episodes == 0
    assert result.collapses == 40
    assert result.latency_combined.median is not None
    assert result.latency_fixed.median is not None
    assert result.latency_combined.median <= result.latency_fixed.median
    assert result.latency_combined.median <= 3 * HOUR
    assert any(value is not None for value in result.weekday_thresholds)
    # Same seed, same moments, same numbers.
    assert evaluate_log(tmp_path, collapses=40, seed=1) == result
    # Without simulated collapses there is no latency to report.
    assert evaluate_log(tmp_path, collapses=0).latency_fixed.median is None


def test_parse_intervals(tmp_path: Path) -> None:
    """Header and malformed lines are skipped; times are local Amsterdam time."""
    path = tmp_path / "log.txt"
    path.write_text(
        HEADER
        + "25-Feb-2008 00:20:14\t25-Feb-2008 00:22:57\t24\t1\r\n"
        + "31-Xyz-2008 00:20:14\t25-Feb-2008 00:22:57\t24\t1\r\n"
        + "25-Feb-2008 00:20:14\t25-Feb-2008 00:22:57\tid\r\n"
        + "01-Mar-2008 23:59:59\t02-MAR-2008 00:00:01\t12\r\n",
        encoding="latin-1",
    )
    assert parse_intervals(path, ZONE) == [
        Interval(
            start=datetime(2008, 2, 25, 0, 20, 14, tzinfo=ZONE),
            end=datetime(2008, 2, 25, 0, 22, 57, tzinfo=ZONE),
            ident=24,
        ),
        Interval(
            start=datetime(2008, 3, 1, 23, 59, 59, tzinfo=ZONE),
            end=datetime(2008, 3, 2, 0, 0, 1, tzinfo=ZONE),
            ident=FRONT_DOOR,
        ),
    ]


def test_events_and_away_periods() -> None:
    """Both edges are activity; a door event then 30 quiet minutes is an absence."""
    base = datetime(2008, 3, 3, 9, 0, tzinfo=ZONE)
    firings = [
        Interval(start=base, end=base + timedelta(minutes=1), ident=FRONT_DOOR),
        Interval(start=base + 2 * HOUR, end=base + 2 * HOUR, ident=8),
        Interval(start=base + 3 * HOUR, end=base + 3 * HOUR, ident=FRONT_DOOR),
        Interval(start=base + 3.2 * HOUR, end=base + 4 * HOUR, ident=8),
    ]
    assert [event.at for event in activity_events(firings, include_ends=False)] == [
        base,
        base + 2 * HOUR,
        base + 3 * HOUR,
        base + 3.2 * HOUR,
    ]
    events = activity_events(firings)
    assert len(events) == 8
    assert events[1] == Event(at=base + timedelta(minutes=1), sensor=FRONT_DOOR)
    assert events[1].front_door
    # Door closed at 09:01, next activity 11:00: away. The 12:00 door event is
    # followed by activity 12 minutes later: at home. The fridge is no door.
    assert away_periods(events) == [(base + timedelta(minutes=1), base + 2 * HOUR)]


def test_first_level_follows_next_check() -> None:
    """first_level() steps through next_check and stops at the limit."""
    start = datetime(2008, 3, 3, 9, 0, tzinfo=ZONE)

    def stepping(now: datetime) -> InactivityVerdict:
        level = Level.ALARM if now >= start + 2 * HOUR else Level.OK
        upcoming = None if level is Level.ALARM else start + 2 * HOUR
        return InactivityVerdict(
            level=level, source=None, elapsed=now - start, next_check=upcoming
        )

    assert (
        first_level(stepping, start, start + 3 * HOUR, Level.ALARM) == start + 2 * HOUR
    )
    assert first_level(stepping, start, start + 2 * HOUR, Level.ALARM) is None
    assert first_level(stepping, start + 5 * HOUR, start + 6 * HOUR, Level.WARNING) == (
        start + 5 * HOUR
    )

    def never(now: datetime) -> InactivityVerdict:
        return InactivityVerdict(
            level=Level.OK, source=None, elapsed=now - start, next_check=None
        )

    assert first_level(never, start, start + 3 * HOUR, Level.ALARM) is None

    def stuck(now: datetime) -> InactivityVerdict:
        return InactivityVerdict(
            level=Level.OK, source=None, elapsed=now - start, next_check=start
        )

    with pytest.raises(RuntimeError, match="does not advance"):
        first_level(stuck, start, start + 3 * HOUR, Level.ALARM)
