"""Replay of the van Kasteren home sensor log through the inactivity monitor.

Pure helpers used by ``scripts/evaluate_baseline`` and the replay test; nothing
here is used by the integration at run time.

Data set: T.L.M. van Kasteren, A. K. Noulas, G. Englebienne, B.J.A. Kröse,
"Accurate Activity Recognition in a Home Setting", UbiComp 2008. 28 days of
one man living alone in a Dutch flat; 14 reed-switch / float sensors on doors,
cupboards, appliances and the toilet flush (no motion sensors), plus activity
annotations.

Replay rules (documented in docs/inactivity-evaluation.md):

* Both edges of a sensor firing (contact opened and closed) are activity: for
  door and contact sensors both are made by a person.
* Away periods come from the front-door sensor only (the auto-away rule): a
  front-door event followed by at least 30 minutes without any activity is an
  absence from the door event until the next activity. The monitor watches
  the first 30 minutes as usual, then the baseline is interrupted and nothing
  is counted until the person is back. The annotated 'leave house' periods
  are used only to score the result.
* An alarm episode is a gap that reaches ALARM before the next activity; it is
  counted once. Nobody in the log needed help, so every alarm is a false alarm.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
import math
from pathlib import Path
import random
from zoneinfo import ZoneInfo

from .baseline import Baseline, BaselineConfig
from .inactivity import (
    InactivityVerdict,
    Level,
    WindowConfig,
    combine,
    evaluate_windows,
)

SENSE_FILE = "kasterenSenseData.txt"
ACTIVITY_FILE = "kasterenActData.txt"
TIMEZONE = "Europe/Amsterdam"
FRONT_DOOR = 12
LEAVE_HOUSE = 1
GO_TO_BED = 10
AWAY_QUIET = timedelta(minutes=30)
AWAY_CAP = timedelta(hours=12)
COLLAPSE_HORIZON = timedelta(hours=24)
COLLAPSE_FROM = time(8, 0)
COLLAPSE_HOURS = 12
DEFAULT_COLLAPSES = 200
DEFAULT_SEED = 2008

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ),
        start=1,
    )
}

Evaluator = Callable[[datetime], InactivityVerdict]


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    """One line of the log: a sensor firing or an annotated activity."""

    start: datetime
    end: datetime
    ident: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """One activity moment of the replay."""

    at: datetime
    sensor: int

    @property
    def front_door(self) -> bool:
        """Return True for an edge of the front-door sensor."""
        return self.sensor == FRONT_DOOR


@dataclass(frozen=True, kw_only=True, slots=True)
class FalseAlarms:
    """Alarm episodes of one detector (every one is a false alarm in this log)."""

    episodes: int
    per_30_days: float
    labelled_away: int
    labelled_asleep: int
    warnings: int
    alarms: tuple[datetime, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Latency:
    """Time from a simulated collapse to ALARM.

    Median and p90 are nearest-rank percentiles over all collapses, a collapse
    that never alarmed counting as infinitely late (``None`` if the percentile
    falls on one); ``maximum`` is the longest latency of those that alarmed.
    """

    samples: int
    median: timedelta | None
    p90: timedelta | None
    maximum: timedelta | None
    never: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    """The result of replaying the log; see docs/inactivity-evaluation.md."""

    windows: WindowConfig
    baseline_config: BaselineConfig
    first_event: datetime
    last_event: datetime
    learning_end: datetime
    events: int
    days: float
    post_learning_days: float
    away_periods: int
    away_hours: float
    away_over_cap: int
    labelled_away_hours: float
    labelled_away_covered: float
    fixed_all: FalseAlarms
    fixed_post: FalseAlarms
    baseline: FalseAlarms
    combined: FalseAlarms
    collapses: int
    collapses_after_door: int
    latency_fixed: Latency
    latency_baseline: Latency
    latency_combined: Latency
    weekday_thresholds: tuple[timedelta | None, ...]
    weekend_thresholds: tuple[timedelta | None, ...]


def _parse_timestamp(text: str, zone: tzinfo) -> datetime:
    """Parse ``25-Feb-2008 00:20:14`` (locale independent) as local time in ``zone``."""
    day_part, clock = text.strip().split(" ")
    day, month, year = day_part.split("-")
    hour, minute, second = (int(part) for part in clock.split(":"))
    return datetime(
        int(year), _MONTHS[month.lower()], int(day), hour, minute, second, tzinfo=zone
    )


def parse_intervals(path: Path, zone: tzinfo) -> list[Interval]:
    """Parse a van Kasteren text file (sensor or activity), skipping header lines."""
    intervals: list[Interval] = []
    for line in path.read_text(encoding="latin-1").splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        try:
            start = _parse_timestamp(fields[0], zone)
            end = _parse_timestamp(fields[1], zone)
            ident = int(fields[2])
        except (ValueError, KeyError):
            continue
        intervals.append(Interval(start=start, end=end, ident=ident))
    return intervals


def activity_events(
    firings: Iterable[Interval], *, include_ends: bool = True
) -> list[Event]:
    """Turn sensor firings into time-ordered activity events."""
    events = [Event(at=firing.start, sensor=firing.ident) for firing in firings]
    if include_ends:
        events.extend(Event(at=firing.end, sensor=firing.ident) for firing in firings)
    events.sort(key=lambda event: event.at)
    return events


def away_periods(
    events: Sequence[Event], quiet: timedelta = AWAY_QUIET
) -> list[tuple[datetime, datetime]]:
    """Return the absences seen by the door rule: (door event, next activity)."""
    return [
        (before.at, after.at)
        for before, after in pairwise(events)
        if before.front_door and after.at - before.at >= quiet
    ]


def level_times(
    evaluate: Evaluator, start: datetime, limit: datetime
) -> dict[Level, datetime]:
    """Return the first moment in ``[start, limit)`` at which each level is reached.

    Follows ``next_check`` from ``start``, as the Home Assistant glue does. A
    level that is skipped (OK straight to ALARM) counts as reached with the
    higher one.

    Raises:
        RuntimeError: a verdict's ``next_check`` does not move forward.

    """
    reached: dict[Level, datetime] = {}
    now = start
    while True:
        verdict = evaluate(now)
        for level in (Level.WARNING, Level.ALARM):
            if verdict.level.rank >= level.rank:
                reached.setdefault(level, now)
        upcoming = verdict.next_check
        if verdict.level is Level.ALARM or upcoming is None or upcoming >= limit:
            return reached
        if upcoming <= now:
            msg = f"next_check {upcoming} does not advance past {now}"
            raise RuntimeError(msg)
        now = upcoming


def _warning_alarm(
    times: dict[Level, datetime],
) -> tuple[datetime | None, datetime | None]:
    """Return when WARNING and ALARM were reached (None if not)."""
    return times.get(Level.WARNING), times.get(Level.ALARM)


def first_level(
    evaluate: Evaluator, start: datetime, limit: datetime, level: Level
) -> datetime | None:
    """Return the first moment in ``[start, limit)`` at which ``evaluate`` reaches ``level``."""
    return level_times(evaluate, start, limit).get(level)


def _inside(moment: datetime, intervals: Sequence[tuple[datetime, datetime]]) -> bool:
    """Return True if ``moment`` lies in one of the sorted half-open ``intervals``."""
    index = bisect_left(intervals, (moment, moment)) - 1
    candidates = intervals[max(index, 0) : index + 2]
    return any(start <= moment < end for start, end in candidates)


def _overlap_hours(
    intervals: Sequence[tuple[datetime, datetime]],
    others: Sequence[tuple[datetime, datetime]],
) -> float:
    """Return the hours that ``intervals`` share with ``others``."""
    total = timedelta()
    for start, end in intervals:
        for other_start, other_end in others:
            overlap = min(end, other_end) - max(start, other_start)
            if overlap > timedelta():
                total += overlap
    return total / timedelta(hours=1)


def _hours(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Return the total length of ``intervals`` in hours."""
    return sum(((end - start) for start, end in intervals), timedelta()) / timedelta(
        hours=1
    )


def _percentile(
    values: Sequence[timedelta | None], fraction: float
) -> timedelta | None:
    """Return the nearest-rank percentile; ``None`` (never) sorts last."""
    if not values:
        return None
    ordered = sorted(values, key=lambda value: (value is None, value or timedelta()))
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def _latency(values: Sequence[timedelta | None]) -> Latency:
    """Summarise collapse-to-alarm latencies."""
    return Latency(
        samples=len(values),
        median=_percentile(values, 0.5),
        p90=_percentile(values, 0.9),
        maximum=max((value for value in values if value is not None), default=None),
        never=sum(value is None for value in values),
    )


class _Tally:
    """Counts alarm episodes of one detector."""

    def __init__(
        self,
        labelled_away: Sequence[tuple[datetime, datetime]],
        asleep: Sequence[tuple[datetime, datetime]],
    ) -> None:
        self._away = labelled_away
        self._asleep = asleep
        self.episodes = 0
        self.labelled_away = 0
        self.labelled_asleep = 0
        self.warnings = 0
        self.alarms: list[datetime] = []

    def add(
        self,
        warning: datetime | None,
        alarm: datetime | None,
        *,
        since: datetime | None = None,
    ) -> None:
        """Count one gap given when it reached WARNING and ALARM; ignore crossings before ``since``."""
        if warning is not None and (since is None or warning >= since):
            self.warnings += 1
        if alarm is None or (since is not None and alarm < since):
            return
        self.episodes += 1
        self.alarms.append(alarm)
        self.labelled_away += _inside(alarm, self._away)
        self.labelled_asleep += _inside(alarm, self._asleep)

    def result(self, days: float) -> FalseAlarms:
        """Return the counts, normalised to 30 days of ``days`` observed."""
        return FalseAlarms(
            episodes=self.episodes,
            per_30_days=self.episodes * 30.0 / days if days > 0 else 0.0,
            labelled_away=self.labelled_away,
            labelled_asleep=self.labelled_asleep,
            warnings=self.warnings,
            alarms=tuple(self.alarms),
        )


def _detectors(
    windows: WindowConfig, baseline: Baseline, last: datetime
) -> dict[str, Evaluator]:
    """Return the three detectors for a gap that started at ``last``."""

    def fixed(now: datetime) -> InactivityVerdict:
        return evaluate_windows(windows, last, now)

    def learned(now: datetime) -> InactivityVerdict:
        return baseline.evaluate(last, now)

    def either(now: datetime) -> InactivityVerdict:
        return combine(fixed(now), learned(now))

    return {"fixed": fixed, "baseline": learned, "combined": either}


def collapse_moments(
    events: Sequence[Event],
    away: Sequence[tuple[datetime, datetime]],
    not_before: datetime,
    zone: tzinfo,
    *,
    count: int = DEFAULT_COLLAPSES,
    seed: int = DEFAULT_SEED,
) -> list[datetime]:
    """Draw ``count`` reproducible daytime moments (08:00-20:00) when the person is at home.

    Moments lie between ``not_before`` and the last event, outside the door
    rule's away periods; they are returned sorted.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not cryptography
    last = events[-1].at
    first_day = not_before.astimezone(zone).date()
    days = [
        date.fromordinal(ordinal)
        for ordinal in range(
            first_day.toordinal(), last.astimezone(zone).date().toordinal() + 1
        )
    ]
    moments: list[datetime] = []
    for _ in range(count * 100):
        if len(moments) == count:
            break
        day = rng.choice(days)
        offset = timedelta(seconds=rng.randrange(COLLAPSE_HOURS * 3600))
        moment = (
            datetime.combine(day, COLLAPSE_FROM, tzinfo=zone).astimezone(UTC) + offset
        ).astimezone(zone)
        if not_before <= moment < last and not _inside(moment, away):
            moments.append(moment)
    moments.sort()
    return moments


def _thresholds(
    baseline: Baseline, day: date, zone: tzinfo
) -> tuple[timedelta | None, ...]:
    """Return the learned threshold for gaps starting at each hour of ``day``."""
    return tuple(
        baseline.threshold(datetime.combine(day, time(hour), tzinfo=zone))
        for hour in range(24)
    )


def evaluate_log(
    data_dir: Path,
    *,
    windows: WindowConfig | None = None,
    baseline_config: BaselineConfig | None = None,
    collapses: int = DEFAULT_COLLAPSES,
    seed: int = DEFAULT_SEED,
    include_ends: bool = True,
) -> Evaluation:
    """Replay the log in ``data_dir`` and measure false alarms and detection latency."""
    windows = windows or WindowConfig()
    baseline_config = baseline_config or BaselineConfig()
    zone = ZoneInfo(TIMEZONE)
    events = activity_events(
        parse_intervals(data_dir / SENSE_FILE, zone), include_ends=include_ends
    )
    labels = parse_intervals(data_dir / ACTIVITY_FILE, zone)
    labelled_away = sorted(
        (label.start, label.end) for label in labels if label.ident == LEAVE_HOUSE
    )
    asleep = sorted(
        (label.start, label.end) for label in labels if label.ident == GO_TO_BED
    )
    away = away_periods(events)

    first_event, last_event = events[0].at, events[-1].at
    learning_end = first_event + timedelta(days=baseline_config.learning_days)
    day = timedelta(days=1)
    days = (last_event - first_event) / day
    post_days = max((last_event - learning_end) / day, 0.0)

    baseline = Baseline(baseline_config)
    tallies = {
        name: _Tally(labelled_away, asleep)
        for name in ("fixed_all", "fixed_post", "baseline", "combined")
    }
    moments = collapse_moments(
        events, away, learning_end, zone, count=collapses, seed=seed
    )
    latencies: dict[str, list[timedelta | None]] = {
        "fixed": [],
        "baseline": [],
        "combined": [],
    }
    after_door = 0
    next_moment = 0

    for previous, current in pairwise(events):
        last = previous.at
        detectors = _detectors(windows, baseline, last)

        # Simulated collapses just after `previous`: the stream is cut there.
        while next_moment < len(moments) and moments[next_moment] <= current.at:
            moment = moments[next_moment]
            next_moment += 1
            # With the stream cut, a last event at the front door makes auto-away
            # assume the person left: the monitor stops watching after 30 minutes.
            watch_end = (
                last + AWAY_QUIET if previous.front_door else moment + COLLAPSE_HORIZON
            )
            after_door += previous.front_door
            for name, evaluate in detectors.items():
                alarm = first_level(
                    evaluate, moment, max(watch_end, moment), Level.ALARM
                )
                latencies[name].append(None if alarm is None else alarm - moment)

        # The real gap until the next activity (or until auto-away kicks in).
        is_away = previous.front_door and current.at - last >= AWAY_QUIET
        watch_end = last + AWAY_QUIET if is_away else current.at
        crossings = {
            name: _warning_alarm(level_times(evaluate, last, watch_end))
            for name, evaluate in detectors.items()
        }
        tallies["fixed_all"].add(*crossings["fixed"])
        tallies["fixed_post"].add(*crossings["fixed"], since=learning_end)
        tallies["baseline"].add(*crossings["baseline"])
        tallies["combined"].add(*crossings["combined"], since=learning_end)
        if is_away:
            baseline.interrupt(watch_end)
        baseline.record_activity(current.at)

    last_day = last_event.astimezone(zone).date()
    weekday = last_day - timedelta(days=max(last_day.weekday() - 4, 0))
    weekend = last_day - timedelta(days=(last_day.weekday() + 1) % 7)
    return Evaluation(
        windows=windows,
        baseline_config=baseline_config,
        first_event=first_event,
        last_event=last_event,
        learning_end=learning_end,
        events=len(events),
        days=days,
        post_learning_days=post_days,
        away_periods=len(away),
        away_hours=_hours(away),
        away_over_cap=sum(end - start > AWAY_CAP for start, end in away),
        labelled_away_hours=_hours(labelled_away),
        labelled_away_covered=_overlap_hours(labelled_away, away)
        / max(_hours(labelled_away), 1e-9),
        fixed_all=tallies["fixed_all"].result(days),
        fixed_post=tallies["fixed_post"].result(post_days),
        baseline=tallies["baseline"].result(post_days),
        combined=tallies["combined"].result(post_days),
        collapses=len(moments),
        collapses_after_door=after_door,
        latency_fixed=_latency(latencies["fixed"]),
        latency_baseline=_latency(latencies["baseline"]),
        latency_combined=_latency(latencies["combined"]),
        weekday_thresholds=_thresholds(baseline, weekday, zone),
        weekend_thresholds=_thresholds(baseline, weekend, zone),
    )
