"""The person's learned routine: how long a silence normally lasts (pure logic).

A *gap* is the silence between two activities. How long a gap may normally
last depends on where the person was last seen (the *context*: the room of the
last activity sensor), on the hour of the week, and on whether the gap is a
daytime pause or the night's sleep:

* A **day gap** starts inside the day window. Its sample is its length. Ten
  minutes after the kitchen at 11:00 is normal, three hours after the bathroom
  is not.
* A **night gap** starts outside the day window. What is regular about a night
  is not its length (bedtime varies) but when it *ends*: the person gets up at
  about the same time. A night is judged by the person's *rises* (one sample
  per night, its latest silence's end counted from the night's start; see
  :mod:`.nights`), from ``min_nights`` nights on; before that, not at all (the
  fixed night rule decides). A person who sleeps past their usual time is
  noticed soon after it, whenever they went to bed.

Day samples are kept per (context, day type, start hour). To judge a day gap,
the samples of its context, day type and start hour ± ``pool_hours[0]`` are
pooled; with fewer than ``min_samples`` the pool grows, in this order: both day
types, every context, then wider hour bands (``pool_hours``).

The alarm point: with a **false-alarm budget** (the default,
``false_alarm_budget`` escalations per 30 days) the thresholds of all contexts
are calibrated together once a day so that the expected escalations stay within
it (:mod:`.budget`, :mod:`.contexts`); a night never before ``rise_margin``
after the usual latest rise. Without a budget, where the *survival* of the
pooled gaps falls to ``1 - quantile``: the ``quantile`` times ``margin`` for day
gaps, plus ``rise_margin`` for nights. Never earlier than ``floor`` after the
gap started and never later than ``ceiling``. WARNING is reached at
``warning_fraction`` of that length.

Gaps shorter than ``min_gap`` (bursts of events while the person moves about)
and longer than ``ceiling`` (outliers no routine can make normal) are not
learned; neither are gaps the caller marks with :meth:`Routine.interrupt`
(away, a restart). Each bucket keeps its ``max_samples`` newest samples.

See docs/inactivity-evaluation.md for how the defaults were chosen and measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from . import nights
from .assessment import Assessment, judge, quantile
from .budget import Context, calibrate, threshold
from .contexts import DayBudget, bucket_context, night_context
from .inactivity import InactivityVerdict, local_zone
from .nights import DAY_TYPES, DayWindow, Rises, is_sample
from .states import from_iso

STORAGE_VERSION = 2

PHASE_DAY = "day"
PHASE_NIGHT = "night"
WEEKDAY = nights.WEEKDAY
WEEKEND = nights.WEEKEND
HOME = "*"  # the context of the pooled, whole-home statistics


@dataclass(frozen=True, kw_only=True, slots=True)
class RoutineConfig:
    """Tuning of the learned routine (defaults: docs/inactivity-evaluation.md)."""

    learning_days: int = 7
    false_alarm_budget: float | None = 1.0
    tail_fraction: float = 0.2
    min_tail: int = 5
    min_nights: int = 5
    max_nights: int = 60
    day_ceiling: timedelta = timedelta(hours=6)
    quantile: float = 0.98
    margin: float = 1.0
    rise_margin: timedelta = timedelta(hours=1)
    floor: timedelta = timedelta(hours=2, minutes=30)
    ceiling: timedelta = timedelta(hours=12)
    min_samples: int = 20
    max_samples: int = 100
    min_gap: timedelta = timedelta(minutes=1)
    warning_fraction: float = 0.75
    pool_hours: tuple[int, ...] = (1, 2, 3, 6, 12)
    bedtime: timedelta = timedelta(hours=1)
    day_start: time = time(7, 0)
    day_end: time = time(22, 0)

    @property
    def window(self) -> DayWindow:
        """The day window (its end starts the night)."""
        return DayWindow(start=self.day_start, end=self.day_end)


def _day_type(local: datetime) -> str:
    return nights.day_type(local.date())


Key = tuple[str, str, str, int]


class Routine:
    """Learns the normal gaps between activities, per context and hour of the week."""

    __slots__ = (
        "_budget",
        "_buckets",
        "_config",
        "_first",
        "_gap_context",
        "_gap_start",
        "_rises",
        "_seen",
    )

    def __init__(self, config: RoutineConfig | None = None) -> None:
        """Start with no history (learning)."""
        self._config = config or RoutineConfig()
        self._first: datetime | None = None
        self._seen: datetime | None = None
        self._gap_start: datetime | None = None
        self._gap_context: str = HOME
        # (phase, context, day type, start hour) -> [(local date ordinal, seconds)]
        self._buckets: dict[Key, list[tuple[int, int]]] = {}
        # The day's calibration: (UTC date ordinal of the newest moment seen, budget).
        self._budget: tuple[int, DayBudget] | None = None
        self._rises = Rises(self._config.window, self._config.max_nights)

    @property
    def config(self) -> RoutineConfig:
        """Return the configuration."""
        return self._config

    @property
    def contexts(self) -> list[str]:
        """Return the contexts with samples, sorted."""
        return sorted({key[1] for key in self._buckets})

    def _observe(self, at: datetime) -> bool:
        """Extend the observed history to ``at``; False if ``at`` is older than what was seen."""
        local_zone(at, "at")
        moment = at.astimezone(UTC)
        if self._seen is not None and moment < self._seen:
            return False
        if self._first is None:
            self._first = moment
        self._seen = moment
        return True

    def record_activity(self, at: datetime, context: str | None = None) -> None:
        """Record an activity at ``at`` (local time) in ``context``; it closes the current gap.

        An activity older than the newest moment already seen is ignored.
        """
        if not self._observe(at):
            return
        start, start_context = self._gap_start, self._gap_context
        self._gap_start, self._gap_context = at, context or HOME
        if start is None:
            return
        gap = at.astimezone(UTC) - start.astimezone(UTC)
        if gap < self._config.min_gap or gap > self._config.ceiling:
            return
        phase, value = self._sample(start, gap)
        key = (phase, start_context, _day_type(start), start.hour)
        samples = self._buckets.setdefault(key, [])
        seconds = round(value.total_seconds())
        samples.append((start.date().toordinal(), seconds))
        if phase == PHASE_NIGHT:
            self._rises.record(self._config.window.night_origin(start).date(), seconds)
        if len(samples) > self._config.max_samples:
            del samples[: len(samples) - self._config.max_samples]

    def _sample(self, start: datetime, gap: timedelta) -> tuple[str, timedelta]:
        """Return the phase of a gap and the value learned from it."""
        if self._config.window.contains(start.time()):
            return PHASE_DAY, gap
        origin = self._config.window.night_origin(start)
        return PHASE_NIGHT, start.astimezone(UTC) + gap - origin.astimezone(UTC)

    def interrupt(self, at: datetime) -> None:
        """Mark the current gap as not learnable (away mode, restart after downtime)."""
        self._observe(at)
        self._gap_start = None

    @property
    def learning(self) -> bool:
        """Return True until ``learning_days`` of history have been observed."""
        if self._first is None or self._seen is None:
            return True
        return self._seen - self._first < timedelta(days=self._config.learning_days)

    @property
    def learned_since(self) -> datetime | None:
        """When the history began (UTC)."""
        return self._first

    def _pool(
        self, context: str, day_type: str, hour: int
    ) -> tuple[list[int], str, str | None, int] | None:
        """Return the pooled day samples with the context, day type and hours used.

        Nights are judged by the rises (:mod:`.nights`), never by pooled buckets.
        """
        config = self._config
        contexts = self.contexts
        for width in config.pool_hours:
            hours = {(hour + offset) % 24 for offset in range(-width, width + 1)}
            levels: list[tuple[Iterable[str], str, tuple[str, ...], str | None]] = [
                ((context,), context, (day_type,), day_type),
                ((context,), context, DAY_TYPES, None),
                (contexts, HOME, (day_type,), day_type),
                (contexts, HOME, DAY_TYPES, None),
            ]
            for pool_contexts, used_context, day_types, used_type in levels:
                samples = [
                    seconds
                    for ctx in pool_contexts
                    for kind in day_types
                    for each in hours
                    for _, seconds in self._buckets.get(
                        (PHASE_DAY, ctx, kind, each), ()
                    )
                ]
                if len(samples) >= max(config.min_samples, 2):
                    return samples, used_context, used_type, width
        return None

    def learning_at(self, now: datetime) -> bool:
        """Whether the routine is still learning at ``now`` (time passes in a silence too)."""
        if self._first is None:
            return True
        seen = max(filter(None, (self._seen, now.astimezone(UTC))))
        return seen - self._first < timedelta(days=self._config.learning_days)

    def assess(
        self,
        gap_start: datetime,
        context: str | None = None,
        now: datetime | None = None,
    ) -> Assessment | None:
        """Return the routine's opinion of a gap starting at ``gap_start`` (local time).

        None while learning (at ``now``, else at the newest moment seen), when
        the whole home has too few gaps of the gap's phase, or, for a night,
        before ``min_nights`` nights were seen to their end.
        """
        local_zone(gap_start, "gap_start")
        if self.learning if now is None else self.learning_at(now):
            return None
        config = self._config
        phase, origin = self._phase(gap_start, context)
        pooled = None
        if phase == PHASE_NIGHT:
            rises = self._rises.before(origin.date(), config.min_nights)
            if rises is None:
                return None
            pooled = (rises[0], HOME, rises[1], 12)
        else:
            pooled = self._pool(context or HOME, _day_type(gap_start), gap_start.hour)
        if pooled is None:
            return None
        samples, used_context, used_type, width = pooled
        # Night samples are end offsets from the night's start: as lengths of
        # a gap that starts now they shrink by how far into the night we are
        # (and grow by how long before it the person went to bed).
        into_night = (
            gap_start.astimezone(UTC) - origin.astimezone(UTC)
            if phase == PHASE_NIGHT
            else timedelta(0)
        )
        offset = into_night.total_seconds()
        normal, alarm_after, expected = self._alarm_point(
            (phase, context or HOME, _day_type(gap_start), gap_start.hour),
            pooled,
            origin,
            into_night,
        )
        alarm_after = min(max(alarm_after, config.floor), config.ceiling)
        return Assessment(
            phase=phase,
            context=used_context,
            day_type=used_type,
            hours=width,
            samples=tuple(sorted(max(float(v) - offset, 0.0) for v in samples)),
            normal=normal,
            alarm_after=alarm_after,
            warning_after=alarm_after * config.warning_fraction,
            expected_per_30_days=expected,
        )

    def _phase(self, gap_start: datetime, context: str | None) -> tuple[str, datetime]:
        """The phase of a gap and its night's origin.

        Going to bed shortly before the night starts: if the person's nights
        follow this room (``min_nights`` night silences began there), the gap
        is judged as the night it becomes.
        """
        config = self._config
        phase, _ = self._sample(gap_start, timedelta(0))
        origin = config.window.night_origin(gap_start)
        if phase == PHASE_DAY and context and config.window.has_night:
            upcoming = config.window.night_origin(gap_start + config.bedtime)
            if (
                upcoming.astimezone(UTC) > gap_start.astimezone(UTC)
                and self._nights_after(context) >= config.min_nights
            ):
                return PHASE_NIGHT, upcoming
        return phase, origin

    def _nights_after(self, context: str) -> int:
        """How many night silences began in ``context`` (the nights that follow it)."""
        return sum(
            len(samples)
            for (phase, where, _, _), samples in self._buckets.items()
            if phase == PHASE_NIGHT and where == context
        )

    def _alarm_point(
        self,
        key: Key,
        pooled: tuple[list[int], str, str | None, int],
        origin: datetime,
        into_night: timedelta,
    ) -> tuple[timedelta, timedelta, float | None]:
        """The usual length, the alarm point (unclamped) and the expected rate."""
        config = self._config
        phase = key[0]
        if config.false_alarm_budget is None:
            level = timedelta(seconds=quantile(pooled[0], config.quantile))
            if phase == PHASE_DAY:
                return level, level * config.margin, None
            normal = max(level - into_night, timedelta(0))
            return normal, normal + config.rise_margin, None
        budget = self._calibrated()
        if phase == PHASE_NIGHT:
            kind = nights.day_type(config.window.morning(origin.date()))
            cell = budget.nights.get(kind) or night_context(config, pooled[0])
        else:
            cell = budget.cell((*key, *pooled[1:]), lambda: self._context(key, pooled))
        limit = timedelta(seconds=threshold(cell, budget.calibration.log_price))
        normal = max(timedelta(seconds=cell.tail.start) - into_night, timedelta(0))
        return normal, limit - into_night, budget.calibration.expected_per_30_days

    def _bucket_days(self, samples: Sequence[tuple[int, int]]) -> float:
        """The days of history a bucket's samples stand for (fewer once it is full)."""
        if self._first is None or self._seen is None:
            return 1.0
        days = (self._seen - self._first) / nights.ONE_DAY
        if samples and len(samples) >= self._config.max_samples:
            days = min(days, self._seen.date().toordinal() - samples[0][0] + 1)
        return max(days, 1.0)

    def _context(
        self, key: Key, pooled: tuple[list[int], str, str | None, int]
    ) -> Context:
        """The budget's context of a bucket, its tail from the ``pooled`` samples."""
        own = self._buckets.get(key, [])
        return bucket_context(
            self._config,
            hour=key[3],
            samples=pooled[0],
            rate=len(own) / self._bucket_days(own),
        )

    def _calibrated(self) -> DayBudget:
        """The budget calibrated on the history up to today (recomputed once a day)."""
        day = 0 if self._seen is None else self._seen.date().toordinal()
        if self._budget is not None and self._budget[0] == day:
            return self._budget[1]
        contexts = []
        for key in self._buckets:
            phase, context, day_type, hour = key
            if phase != PHASE_DAY:
                continue  # the nights: one context per day type, below
            pooled = self._pool(context, day_type, hour)
            if pooled is not None:
                contexts.append(self._context(key, pooled))
        night_cells = self._night_contexts()
        contexts.extend(night_cells.values())
        budget = DayBudget(calibrate(contexts, self._config.false_alarm_budget or 0.0))
        budget.nights.update(night_cells)
        self._budget = (day, budget)
        return budget

    def _night_contexts(self) -> dict[str, Context]:
        """The budget's nights by day type: as many a day as there were, their rises' tail."""
        config = self._config
        if self._seen is None or not config.window.has_night:
            return {}
        before = config.window.night_origin(self._seen).date().toordinal()
        days = max(self._rises.days(before), 1.0)
        cells: dict[str, Context] = {}
        for kind in DAY_TYPES:
            found = self._rises.of_type(kind, before, config.min_nights)
            nights_of_kind = self._rises.count(kind, before)
            if found is not None and nights_of_kind:
                cells[kind] = night_context(
                    self._config, found[0], nights_of_kind / days
                )
        return cells

    def silences(self) -> list[tuple[Key, float, tuple[int, ...]]]:
        """Each bucket's key, the days of history its samples stand for, its samples.

        Samples are seconds: a day gap's length, a night gap's end counted from
        the start of the night (see the module docstring). For the figures of
        ``advice.py``: a bucket's samples divided by its days is its rate per day.
        """
        return [
            (key, self._bucket_days(samples), tuple(value for _, value in samples))
            for key, samples in sorted(self._buckets.items())
            if samples
        ]

    def expected_per_30_days(self) -> float | None:
        """Expected escalated false alarms per 30 days at the current calibration.

        None while learning or without a budget (the per-gap quantile).
        """
        if self.learning or self._config.false_alarm_budget is None:
            return None
        return self._calibrated().calibration.expected_per_30_days

    def evaluate(
        self, last_activity: datetime, now: datetime, context: str | None = None
    ) -> InactivityVerdict:
        """Judge the gap since ``last_activity`` (in ``context``) at ``now``.

        OK with ``next_check`` None while the routine has no opinion. The time
        zone of ``now`` is the local time; ``next_check`` is given in it.
        """
        zone = local_zone(now, "now")
        return judge(
            self.assess(last_activity.astimezone(zone), context, now),
            last_activity,
            now,
        )

    def copy(self) -> Routine:
        """An independent copy (what one learns afterwards, the other does not)."""
        twin = Routine(self._config)
        twin._first, twin._seen = self._first, self._seen
        twin._gap_start, twin._gap_context = self._gap_start, self._gap_context
        twin._buckets = {key: list(samples) for key, samples in self._buckets.items()}
        twin._budget = self._budget
        twin._rises = self._rises.copy()
        return twin

    def summary(self) -> dict[str, Any]:
        """Return what was learned, for diagnostics: samples and quartiles per bucket."""
        result: dict[str, Any] = {}
        for (phase, context, day_type, hour), samples in sorted(self._buckets.items()):
            values = [seconds for _, seconds in samples]
            result.setdefault(phase, {}).setdefault(context, {})[
                f"{day_type} {hour:02d}h"
            ] = {
                "samples": len(values),
                "median_min": round(quantile(values, 0.5) / 60, 1),
                "p98_min": round(quantile(values, 0.98) / 60, 1),
            }
        return result

    def as_dict(self) -> dict[str, Any]:
        """Return a compact JSON-serialisable snapshot (for a Home Assistant Store)."""
        buckets: dict[str, dict[str, dict[str, list[list[int]]]]] = {}
        for (phase, context, day_type, hour), samples in sorted(self._buckets.items()):
            if samples:
                buckets.setdefault(phase, {}).setdefault(context, {})[
                    f"{day_type}{hour:02d}"
                ] = [list(sample) for sample in samples]
        return {
            "version": STORAGE_VERSION,
            "first": self._first.isoformat() if self._first else None,
            "seen": self._seen.isoformat() if self._seen else None,
            "gap_start": self._gap_start.isoformat() if self._gap_start else None,
            "gap_context": self._gap_context,
            "buckets": buckets,
            "rises": self._rises.as_list(),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], config: RoutineConfig | None = None
    ) -> Routine:
        """Restore a snapshot made by :meth:`as_dict`.

        Anything missing or malformed is dropped; without a valid history the
        routine starts fresh (learning) instead of failing. A version 1
        snapshot (hourly maxima without rooms) keeps its history's start, so
        learning is not restarted, but its samples cannot be reused.
        """
        routine = cls(config)
        if not isinstance(data, Mapping) or data.get("version") not in (
            1,
            STORAGE_VERSION,
        ):
            return routine
        first = from_iso(data.get("first"))
        seen = from_iso(data.get("seen"))
        if first is None or seen is None or seen < first:
            return routine
        routine._first = first.astimezone(UTC)
        routine._seen = seen.astimezone(UTC)
        gap_start = from_iso(data.get("gap_start"))
        if gap_start is not None and gap_start <= seen:
            routine._gap_start = gap_start
        if isinstance(context := data.get("gap_context"), str) and context:
            routine._gap_context = context
        if data.get("version") == STORAGE_VERSION:
            routine._buckets = _parse_buckets(
                data.get("buckets"), routine._config.max_samples
            )
            rises = data.get("rises")
            if isinstance(rises, list):
                routine._rises.load(rises)
            else:  # stored before the rises were kept: the buckets have them
                routine._rises.load(routine._stored_rises())
        return routine

    def _stored_rises(self) -> list[list[int]]:
        """Each night's latest silence end, from the night buckets."""
        window = self._config.window
        return [
            [window.night_of(date.fromordinal(ordinal), hour).toordinal(), seconds]
            for (phase, _, _, hour), samples in self._buckets.items()
            if phase == PHASE_NIGHT
            for ordinal, seconds in samples
        ]


def _parse_buckets(value: Any, limit: int) -> dict[Key, list[tuple[int, int]]]:
    """Parse stored buckets ``{phase: {context: {"weekday07": [[ordinal, s], ...]}}}``."""
    buckets: dict[Key, list[tuple[int, int]]] = {}
    if not isinstance(value, Mapping):
        return buckets
    for phase in (PHASE_DAY, PHASE_NIGHT):
        contexts = value.get(phase)
        if not isinstance(contexts, Mapping):
            continue
        for context, by_hour in contexts.items():
            if not isinstance(context, str) or not isinstance(by_hour, Mapping):
                continue
            for label, entries in by_hour.items():
                if not isinstance(label, str) or not isinstance(entries, list):
                    continue
                day_type, hour_text = label[:-2], label[-2:]
                if day_type not in DAY_TYPES or not hour_text.isdigit():
                    continue
                hour = int(hour_text)
                samples = [(e[0], e[1]) for e in entries if is_sample(e)][-limit:]
                if hour < 24 and samples:
                    buckets[(phase, context, day_type, hour)] = samples
    return buckets
