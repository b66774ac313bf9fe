"""The hindsight frontier: exact on a hand-made case, checked by brute force on a replay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
import itertools
import math
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.frontier import (
    Frontier,
    FrontierPoint,
    band_of,
    frontier,
)
from custom_components.silver_bell.core.monitor.replay import (
    COLLAPSE_HORIZON,
    Collapse,
    EventLog,
    LogEvent,
    Replay,
    Silence,
    replay,
)
from custom_components.silver_bell.core.monitor.routine import Routine

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
US = timedelta(microseconds=1)
T0 = datetime(2024, 3, 11, tzinfo=ZONE)  # learning ends here


@pytest.mark.parametrize(
    ("clock", "band"),
    [
        (time(22), "night"),
        (time(3), "night"),
        (time(6, 59, 59), "night"),
        (time(7), "day"),
        (time(16, 59), "day"),
        (time(17), "evening"),
        (time(21, 59), "evening"),
    ],
)
def test_bands(clock: time, band: str) -> None:
    """Night 22-07, day 07-17, evening 17-22, by local time."""
    assert band_of(datetime.combine(date(2024, 3, 11), clock, ZONE)) == band


def _hand_made() -> Replay:
    """Two kitchen silences, an outing through the hall, three collapses."""
    return Replay(
        first=T0 - timedelta(days=7),
        last=T0 + timedelta(days=1),
        learning_end=T0,
        zone=ZONE,
        grace=10 * MINUTE,
        alarms=(),
        away_too_long=(),
        collapses=(
            Collapse(
                at=T0 + 15 * HOUR,
                detected=None,
                by_away_cap=False,
                since=T0 + 14 * HOUR,
                room="kitchen",
            ),
            Collapse(
                at=T0 + 16 * HOUR,
                detected=None,
                by_away_cap=False,
                since=T0 + 16 * HOUR,
                room="kitchen",
            ),
            Collapse(
                at=T0 + 21 * HOUR + 10 * MINUTE,
                detected=None,
                by_away_cap=True,
                since=T0 + 21 * HOUR,
                room="hall",
                away_from=T0 + 21 * HOUR + 30 * MINUTE,
                capped=T0 + 33 * HOUR + 30 * MINUTE,
            ),
        ),
        absences=(),
        silences=(
            # Began while learning: an alarm 1 h or more after it fires after
            # learning and counts (escalated up to 2 h 50 min, the check-in).
            Silence(start=T0 - HOUR, end=T0 + 2 * HOUR, room="kitchen", away_from=None),
            Silence(
                start=T0 + 9 * HOUR, end=T0 + 10 * HOUR, room="kitchen", away_from=None
            ),
            # An outing: no alarm once away began (30 min after the door).
            Silence(
                start=T0 + 12 * HOUR,
                end=T0 + 20 * HOUR,
                room="hall",
                away_from=T0 + 12 * HOUR + 30 * MINUTE,
            ),
        ),
        routine=Routine(),
    )


def test_hand_made_frontier() -> None:
    """Every number of the hand-made case, worked out by hand."""
    found = frontier(_hand_made(), max_false_alarms=2)
    assert found.name == "per room"
    assert found.contexts == ("hall", "kitchen")
    assert found.collapses == 3
    zero = found.at_zero
    # Kitchen: just above 50 min, the second silence no longer escalates, and
    # the first one's alarm would still fire before learning ended. Hall: the
    # detector waits for automatic away.
    assert zero.thresholds == {"hall": 30 * MINUTE, "kitchen": 50 * MINUTE + US}
    assert zero.false_alarms == 0
    # Delays 0 (kitchen, 1 h into the silence), 50 min, 12 h 20 min (away cap):
    # the nearest-rank median of three is the second.
    assert zero.median == 50 * MINUTE + US
    one = found.curve[1]
    assert (one.false_alarms, one.median) == (1, timedelta(0))
    assert one.per_30_days == pytest.approx(30.0)
    assert found.curve[2] == FrontierPoint(
        false_alarms=one.false_alarms,
        per_30_days=one.per_30_days,
        median=one.median,
        thresholds=one.thresholds,
    )
    assert found.at_median_limit is not None
    assert found.at_median_limit.false_alarms == 0
    short = frontier(_hand_made(), median_limit=10 * MINUTE)
    assert short.at_median_limit is not None
    assert short.at_median_limit.false_alarms == 1


def test_more_than_half_never_found() -> None:
    """Collapses hidden by away with no cap reached: the median is never, 2 h unreachable."""
    result = _hand_made()
    hidden = [
        replace(
            result.collapses[2],
            at=T0 + hours * HOUR,
            since=T0 + hours * HOUR,
            away_from=T0 + hours * HOUR,
            capped=None,
        )
        for hours in (21, 22)
    ]
    found = frontier(replace(result, collapses=(result.collapses[0], *hidden)))
    assert [point.median for point in found.curve] == [None] * len(found.curve)
    assert found.at_median_limit is None


def test_finer_contexts_split_by_time_of_day() -> None:
    """Per room × time of day names each context by both."""
    found = frontier(_hand_made(), by_time_of_day=True)
    assert found.name == "per room × time of day"
    assert found.contexts == (
        "hall × day",
        "hall × evening",
        "kitchen × day",
        "kitchen × night",
    )


def test_no_collapses_no_frontier() -> None:
    """Without simulated collapses there is no delay to measure."""
    result = _hand_made()
    empty = Replay(
        **{
            name: getattr(result, name)
            for name in Replay.__dataclass_fields__
            if name != "collapses"
        },
        collapses=(),
    )
    with pytest.raises(ValueError, match="collapses"):
        frontier(empty)


def _life(days: int, seed: int) -> EventLog:
    """An irregular synthetic life: rooms at random, long pauses, outings by the door."""
    rng = random.Random(seed)  # noqa: S311 - reproducible, not cryptography
    events: list[LogEvent] = []
    for offset in range(days):
        day = date(2024, 3, 4) + timedelta(days=offset)
        moment = datetime.combine(day, time(7), ZONE) + rng.randrange(60) * MINUTE
        bedtime = datetime.combine(day, time(22), ZONE) + rng.randrange(60) * MINUTE
        while moment < bedtime:
            room = rng.choice(("kitchen", "kitchen", "bathroom", "bedroom", "toilet"))
            events.append(LogEvent(at=moment, sensor=room, room=room))
            if rng.random() < 0.06:
                back = moment + rng.uniform(0.6, 5) * HOUR
                for at in (moment + MINUTE, back):
                    events.append(
                        LogEvent(at=at, sensor="door", room="hall", role="door_open")
                    )
                    events.append(
                        LogEvent(
                            at=at + 5 * timedelta(seconds=1),
                            sensor="door",
                            room="hall",
                            role="door_closed",
                        )
                    )
                moment = back
            moment += rng.choice((5, 10, 20, 30, 45, 60, 90, 150, 200)) * MINUTE
        events.append(LogEvent(at=bedtime, sensor="bedroom", room="bedroom"))
    return EventLog(events=tuple(sorted(events, key=lambda event: event.at)))


def _direct(
    result: Replay, key: Callable[[str, datetime], str], name: str, threshold: timedelta
) -> tuple[int, list[timedelta | None]]:
    """False alarms and delays of one context's threshold, simulated directly."""
    alarms = 0
    for silence in result.silences:
        if key(silence.room, silence.start) != name:
            continue
        fires = silence.start + threshold
        if fires < result.learning_end:
            continue
        if silence.away_from is not None and fires >= silence.away_from:
            continue
        if silence.end >= fires + result.grace:
            alarms += 1
    delays: list[timedelta | None] = []
    for collapse in result.collapses:
        if key(collapse.room, collapse.since) != name:
            continue
        fires = collapse.since + threshold
        if collapse.away_from is None or fires < collapse.away_from:
            detected: datetime | None = max(fires, collapse.at)
        else:
            detected = collapse.capped
        delay = None if detected is None else detected - collapse.at
        delays.append(None if delay is None or delay >= COLLAPSE_HORIZON else delay)
    return alarms, delays


def _median(delays: Sequence[timedelta | None]) -> timedelta | None:
    ordered = sorted(delays, key=lambda value: (value is None, value or timedelta()))
    return ordered[math.ceil(len(ordered) / 2) - 1]


def _check_point(
    result: Replay, key: Callable[[str, datetime], str], point: FrontierPoint
) -> None:
    """The point's thresholds, simulated directly, give exactly its numbers."""
    alarms = 0
    delays: list[timedelta | None] = []
    for name, threshold in point.thresholds.items():
        found, more = _direct(result, key, name, threshold)
        alarms += found
        delays += more
    assert alarms == point.false_alarms
    assert _median(delays) == point.median


def _never_last(value: timedelta | None) -> timedelta:
    return COLLAPSE_HORIZON * 2 if value is None else value


def _by_room(room: str, _start: datetime) -> str:
    return room


def _by_room_and_band(room: str, start: datetime) -> str:
    return f"{room} × {band_of(start.astimezone(ZONE))}"


@pytest.fixture(scope="module")
def life() -> Replay:
    """Sixteen irregular days (nine scored), 40 collapses."""
    return replay(_life(16, seed=3), zone=ZONE, collapses=40, seed=5)


def test_frontier_points_are_exact(life: Replay) -> None:
    """Each reported point is what its thresholds really give."""
    for found, key in (
        (frontier(life), _by_room),
        (frontier(life, by_time_of_day=True), _by_room_and_band),
    ):
        assert found.collapses == 40
        for point in found.curve:
            _check_point(life, key, point)
        assert found.at_median_limit is not None
        _check_point(life, key, found.at_median_limit)


def test_no_thresholds_beat_the_frontier(life: Replay) -> None:
    """Brute force over a grid of per-room thresholds: none is better than the frontier."""
    found = frontier(life)
    assert set(found.contexts) == {"bathroom", "bedroom", "hall", "kitchen", "toilet"}
    grid = [timedelta(0), 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 5 * HOUR, 9 * HOUR]
    table = {
        (name, threshold): _direct(life, _by_room, name, threshold)
        for name in found.contexts
        for threshold in grid
    }
    limit = found.median_limit
    assert found.at_median_limit is not None
    for combination in itertools.product(grid, repeat=len(found.contexts)):
        alarms = 0
        delays: list[timedelta | None] = []
        for name, threshold in zip(found.contexts, combination, strict=True):
            more_alarms, more_delays = table[name, threshold]
            alarms += more_alarms
            delays += more_delays
        median = _median(delays)
        if alarms < len(found.curve):
            assert _never_last(found.curve[alarms].median) <= _never_last(median)
        if median is not None and median <= limit:
            assert found.at_median_limit.false_alarms <= alarms


def test_finer_contexts_never_do_worse(life: Replay) -> None:
    """Per room is a special case of per room × time of day."""
    coarse, fine = frontier(life), frontier(life, by_time_of_day=True)
    assert len(fine.contexts) > len(coarse.contexts)
    for rough, detailed in zip(coarse.curve, fine.curve, strict=True):
        assert _never_last(detailed.median) <= _never_last(rough.median)
    assert isinstance(fine, Frontier)
    # A larger budget never needs a longer median.
    medians = [_never_last(point.median) for point in fine.curve]
    assert medians == sorted(medians, reverse=True)
