"""What the learned routine allows at the current settings (pure logic, issue 17 item 4).

Told to the family on the *Learned routine* entity; the household's own history,
replayed, is in :mod:`.advice`.

**Figures of the learned routine** (:func:`routine_figures`), at the current
settings, for the *Learned routine* entity:

* *Expected time to notice a collapse* (median, p90). A collapse is taken to
  happen at a random moment between 08:00 and 20:00 (as the replay draws them),
  so it falls inside a silence in proportion to that silence's length, at a
  uniformly random point of it; it is noticed when the silence reaches its
  threshold (at once if the threshold had passed). The threshold is the earlier
  of the routine's alarm point and the fixed safety ceiling's. The distribution
  of that wait over every learned silence gives the median and p90.
* *Weak spots.* The same waiting time, split by last room and time of day (the
  silence's start hour: 07-12, 12-17, 17-22, 22-07): the cells that hold the
  largest share of the expected waiting, with the number of activity sensors in
  the room (long silences after a room with few sensors is what they show).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .inactivity import WindowConfig, alarm_moment
from .replay import COLLAPSE_FROM, COLLAPSE_HOURS
from .routine import HOME, PHASE_DAY, WEEKEND, Routine, RoutineConfig

#: The budget of the Decisions (ARCHITECTURE.md): escalated alarms per 30 days.
DEFAULT_BUDGET = 1.0
#: Time-of-day bands of the weak spots (by the silence's start hour): label, from, to.
BANDS: tuple[tuple[str, int, int], ...] = (
    ("07-12", 7, 12),
    ("12-17", 12, 17),
    ("17-22", 17, 22),
    ("22-07", 22, 7),
)
WEAK_SPOTS = 3
MIN_WEAK_SHARE = 0.1  # a weak spot holds at least this share of the expected waiting
_DAY = 86400.0


@dataclass(frozen=True, kw_only=True, slots=True)
class WeakSpot:
    """A room and time of day where a collapse would wait long to be noticed.

    ``share``: its share of the expected waiting of all collapses; ``wait``: the
    mean time to notice a collapse there; ``sensors``: activity sensors in the
    room (None: not known).
    """

    context: str
    band: str
    share: float
    wait: timedelta
    sensors: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Figures:
    """What the learned routine allows at the current settings (see the module docstring).

    ``budget``: the goal of escalated false alarms per 30 days (a setting; the
    rate itself comes from the replayed history, :class:`ReplayedAlarms`).
    """

    budget: float
    median: timedelta | None
    p90: timedelta | None
    weak_spots: tuple[WeakSpot, ...]


@dataclass(slots=True)
class _Segment:
    """Where collapses may fall in one learned silence: u in [low, high] seconds."""

    weight: float
    low: float
    high: float
    limit: float
    cell: tuple[str, str]


def band_of(hour: int) -> str:
    """The weak-spot band of a start hour."""
    for label, start, end in BANDS:
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return label
    msg = f"no band for hour {hour}"  # pragma: no cover - BANDS cover the day
    raise AssertionError(msg)  # pragma: no cover


def _reference_day(today: date, day_type: str) -> date:
    """The latest day up to ``today`` of ``day_type``."""
    day = today
    while (day.weekday() >= 5) != (day_type == WEEKEND):
        day -= timedelta(days=1)
    return day


def _waiting(segments: list[_Segment], limit: float) -> float:
    """Exposure (weight × seconds) of the collapses noticed within ``limit``."""
    return sum(
        item.weight * max(0.0, item.high - max(item.low, item.limit - limit))
        for item in segments
    )


def _quantile(segments: list[_Segment], fraction: float) -> timedelta | None:
    total = sum(item.weight * (item.high - item.low) for item in segments)
    if total <= 0:
        return None
    low, high = 0.0, max(item.limit for item in segments)
    for _ in range(60):
        middle = (low + high) / 2
        if _waiting(segments, middle) >= fraction * total:
            high = middle
        else:
            low = middle
    return timedelta(seconds=round(high))


def _wait_integral(item: _Segment) -> float:
    """The integral of the wait max(limit - u, 0) over the segment."""
    if item.limit <= item.low:
        return 0.0
    end = min(item.high, item.limit)
    return ((item.limit - item.low) ** 2 - (item.limit - end) ** 2) / 2


def budget_of(config: RoutineConfig) -> float:
    """The household's false-alarm budget: the routine's own, else the default."""
    chosen = config.false_alarm_budget
    return DEFAULT_BUDGET if chosen is None else chosen


def routine_figures(
    routine: Routine,
    ceiling: WindowConfig,
    now: datetime,
    *,
    budget: float | None = None,
    sensors: Mapping[str, int] | None = None,
) -> Figures | None:
    """The figures of ``routine`` under the safety ``ceiling`` (None while learning).

    ``now`` is local time (its zone is the household's); ``budget`` defaults to
    the routine's own, else :data:`DEFAULT_BUDGET`; ``sensors`` counts the
    activity sensors per context (for the weak spots).
    """
    if routine.learning:
        return None
    zone = now.tzinfo
    assert zone is not None
    config = routine.config
    night_start = config.day_end.hour * 3600 + config.day_end.minute * 60
    window_from = COLLAPSE_FROM.hour * 3600 + COLLAPSE_FROM.minute * 60
    window = COLLAPSE_HOURS * 3600
    segments: list[_Segment] = []
    for key, days, samples in routine.silences():
        phase, context, day_type, hour = key
        start = datetime.combine(
            _reference_day(now.date(), day_type), time(hour, 30), tzinfo=zone
        )
        assessment = routine.assess(start, context)
        if assessment is None or len(assessment.samples) < 2:  # pragma: no cover
            continue  # after learning the routine always has an opinion
        fixed = alarm_moment(ceiling, start, start) - start.astimezone(UTC)
        limit = min(assessment.alarm_after, fixed)
        begin = hour * 3600 + 1800
        into_night = 0 if phase == PHASE_DAY else (begin - night_start) % 86400
        cell = (context, band_of(hour))
        for value in samples:
            length = value - into_night
            for day in (0, 1):
                low = max(day * _DAY + window_from - begin, 0.0)
                high = min(day * _DAY + window_from + window - begin, float(length))
                if high > low:
                    segments.append(
                        _Segment(1.0 / days, low, high, limit.total_seconds(), cell)
                    )
    return Figures(
        budget=budget_of(config) if budget is None else budget,
        median=_quantile(segments, 0.5),
        p90=_quantile(segments, 0.9),
        weak_spots=_weak_spots(segments, sensors or {}),
    )


def _weak_spots(
    segments: list[_Segment], sensors: Mapping[str, int]
) -> tuple[WeakSpot, ...]:
    waited: dict[tuple[str, str], float] = {}
    exposed: dict[tuple[str, str], float] = {}
    for item in segments:
        waited[item.cell] = waited.get(item.cell, 0.0) + item.weight * _wait_integral(
            item
        )
        exposed[item.cell] = exposed.get(item.cell, 0.0) + item.weight * (
            item.high - item.low
        )
    total = sum(waited.values())
    if total <= 0:
        return ()
    ranked = sorted(
        waited, key=lambda cell: (-waited[cell], sensors.get(cell[0], 0), cell)
    )
    return tuple(
        WeakSpot(
            context=context,
            band=band,
            share=waited[(context, band)] / total,
            wait=timedelta(
                seconds=round(waited[(context, band)] / exposed[(context, band)])
            ),
            sensors=sensors.get(context),
        )
        for context, band in ranked[:WEAK_SPOTS]
        if context != HOME and waited[(context, band)] / total >= MIN_WEAK_SHARE
    )
