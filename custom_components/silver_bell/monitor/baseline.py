"""Learned baseline of a person's normal gaps between activity (pure logic).

Every gap between two activities is attributed to the local hour and day type
(weekday or weekend) in which it *started*. Per day and hour only the longest
gap counts as a sample, so a burst of motion events does not flood the
statistics with tiny gaps. Samples are pooled over days in 2 x 24 buckets; a
bucket with fewer than ``min_samples`` samples falls back to the same hour of
both day types, and then to "no opinion" (``None``).

The learned normal maximum of a gap is ``quantile(samples) * margin``,
clamped to ``[floor, ceiling]``. Gaps longer than ``ceiling`` are never
learned: the monitor could never accept them as normal, and one such outlier
(say, an absence the door sensor missed) would otherwise dominate a small
bucket. Gaps the caller marks with :meth:`Baseline.interrupt` (away mode) are
not learned either.

See docs/inactivity-evaluation.md for how the defaults were chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
import re
from typing import Any

from .inactivity import InactivityVerdict, Level, local_zone

SOURCE_BASELINE = "baseline"
STORAGE_VERSION = 1

_WEEKEND = "we"
_WEEKDAY = "wd"
_BUCKET_KEY = re.compile(r"^(wd|we)(\d{2})$")


@dataclass(frozen=True, kw_only=True, slots=True)
class BaselineConfig:
    """Tuning of the learned baseline (defaults chosen on the van Kasteren data)."""

    learning_days: int = 7
    quantile: float = 0.95
    margin: float = 2.0
    floor: timedelta = timedelta(hours=1)
    ceiling: timedelta = timedelta(hours=12)
    min_samples: int = 5
    max_samples: int = 60
    warning_fraction: float = 0.75
    neighbour_hours: int = 1


def quantile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``values`` (linear interpolation).

    ``fraction`` is clamped to ``[0, 1]``.

    Raises:
        ValueError: ``values`` is empty.

    """
    if not values:
        msg = "quantile of no values"
        raise ValueError(msg)
    ordered = sorted(values)
    position = min(max(fraction, 0.0), 1.0) * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] * (1.0 - weight) + ordered[above] * weight


def _bucket_key(moment: datetime) -> str:
    """Return the bucket of a gap starting at ``moment`` (local time of ``moment``)."""
    day_type = _WEEKEND if moment.weekday() >= 5 else _WEEKDAY
    return f"{day_type}{moment.hour:02d}"


def _parse_moment(value: Any) -> datetime | None:
    """Parse a stored ISO timestamp; ``None`` unless it is a valid aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _is_sample(entry: Any) -> bool:
    """Return True for a stored ``[date ordinal, seconds]`` pair."""
    return (
        isinstance(entry, list | tuple)
        and len(entry) == 2
        and all(isinstance(item, int) and not isinstance(item, bool) for item in entry)
        and entry[0] > 0
        and entry[1] >= 0
    )


def _parse_samples(value: Any) -> list[tuple[int, int]]:
    """Parse one stored bucket, dropping malformed entries."""
    if not isinstance(value, list):
        return []
    return [(entry[0], entry[1]) for entry in value if _is_sample(entry)]


class Baseline:
    """The learned normal maximum gap between activities, per hour of day."""

    __slots__ = ("_buckets", "_config", "_first", "_gap_start", "_seen")

    def __init__(self, config: BaselineConfig | None = None) -> None:
        """Start with no history (learning)."""
        self._config = config or BaselineConfig()
        self._first: datetime | None = None
        self._seen: datetime | None = None
        self._gap_start: datetime | None = None
        # bucket key -> [(local date ordinal, longest gap in seconds)], oldest first
        self._buckets: dict[str, list[tuple[int, int]]] = {}

    @property
    def config(self) -> BaselineConfig:
        """Return the configuration."""
        return self._config

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

    def record_activity(self, at: datetime) -> None:
        """Record an activity at ``at`` (local time); it closes the current gap.

        An activity older than the newest moment already seen is ignored.
        """
        if not self._observe(at):
            return
        start = self._gap_start
        self._gap_start = at
        if start is None:
            return
        gap = at.astimezone(UTC) - start.astimezone(UTC)
        if gap > self._config.ceiling:
            return
        self._add_sample(start, round(gap.total_seconds()))

    def _add_sample(self, start: datetime, seconds: int) -> None:
        """Keep the longest gap per local day and hour in the bucket of ``start``."""
        samples = self._buckets.setdefault(_bucket_key(start), [])
        day = start.date().toordinal()
        if samples and samples[-1][0] == day:
            samples[-1] = (day, max(samples[-1][1], seconds))
            return
        samples.append((day, seconds))
        if len(samples) > self._config.max_samples:
            del samples[: len(samples) - self._config.max_samples]

    def interrupt(self, at: datetime) -> None:
        """Mark the current gap as not learnable (away mode, restart after downtime).

        The next activity starts a fresh gap without recording one.
        """
        self._observe(at)
        self._gap_start = None

    @property
    def learning(self) -> bool:
        """Return True until ``learning_days`` of history have been observed."""
        if self._first is None or self._seen is None:
            return True
        return self._seen - self._first < timedelta(days=self._config.learning_days)

    def threshold(self, gap_start: datetime) -> timedelta | None:
        """Return the learned normal maximum of a gap starting at ``gap_start`` (local time).

        ``None`` while learning or when the hour has too few samples.
        """
        local_zone(gap_start, "gap_start")
        if self.learning:
            return None
        config = self._config
        key = _bucket_key(gap_start)
        day_type, hour = key[:2], int(key[2:])
        hours = [
            (hour + offset) % 24
            for offset in range(-config.neighbour_hours, config.neighbour_hours + 1)
        ]
        samples = self._samples((day_type,), hours)
        if len(samples) < config.min_samples:
            samples = self._samples((_WEEKDAY, _WEEKEND), hours)
            if len(samples) < config.min_samples:
                return None
        learned = timedelta(seconds=quantile(samples, config.quantile) * config.margin)
        return min(max(learned, config.floor), config.ceiling)

    def _samples(self, day_types: Sequence[str], hours: Sequence[int]) -> list[int]:
        """Return the samples (seconds) of the given day types and hours."""
        return [
            seconds
            for day_type in day_types
            for hour in hours
            for _, seconds in self._buckets.get(f"{day_type}{hour:02d}", ())
        ]

    def evaluate(self, last_activity: datetime, now: datetime) -> InactivityVerdict:
        """Compare the gap since ``last_activity`` with the learned normal maximum.

        WARNING from ``warning_fraction * threshold``, ALARM from the threshold on.
        OK with ``next_check`` None while learning or without enough data. The
        time zone of ``now`` is the local time; ``next_check`` is given in it.
        """
        zone = local_zone(now, "now")
        last = last_activity.astimezone(UTC)
        current = max(now.astimezone(UTC), last)
        elapsed = current - last
        # The gap's start hour is read in the local time of ``now``.
        threshold = self.threshold(last_activity.astimezone(zone))
        if threshold is None:
            return InactivityVerdict(
                level=Level.OK, source=None, elapsed=elapsed, next_check=None
            )
        warning = threshold * self._config.warning_fraction
        if elapsed >= threshold:
            return InactivityVerdict(
                level=Level.ALARM,
                source=SOURCE_BASELINE,
                elapsed=elapsed,
                next_check=None,
            )
        alarm_at = (last + threshold).astimezone(zone)
        if elapsed >= warning:
            return InactivityVerdict(
                level=Level.WARNING,
                source=SOURCE_BASELINE,
                elapsed=elapsed,
                next_check=alarm_at,
            )
        return InactivityVerdict(
            level=Level.OK,
            source=None,
            elapsed=elapsed,
            next_check=(last + warning).astimezone(zone),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return a compact JSON-serialisable snapshot (for a Home Assistant Store)."""
        return {
            "version": STORAGE_VERSION,
            "first": self._first.isoformat() if self._first else None,
            "seen": self._seen.isoformat() if self._seen else None,
            "gap_start": self._gap_start.isoformat() if self._gap_start else None,
            "buckets": {
                key: [list(sample) for sample in samples]
                for key, samples in sorted(self._buckets.items())
                if samples
            },
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], config: BaselineConfig | None = None
    ) -> Baseline:
        """Restore a snapshot made by :meth:`as_dict`.

        Anything missing or malformed is dropped; without a valid history the
        baseline starts fresh (learning) instead of failing.
        """
        baseline = cls(config)
        if not isinstance(data, Mapping) or data.get("version") != STORAGE_VERSION:
            return baseline
        first = _parse_moment(data.get("first"))
        seen = _parse_moment(data.get("seen"))
        if first is None or seen is None or seen < first:
            return baseline
        baseline._first = first.astimezone(UTC)
        baseline._seen = seen.astimezone(UTC)
        gap_start = _parse_moment(data.get("gap_start"))
        if gap_start is not None and gap_start <= seen:
            baseline._gap_start = gap_start
        buckets = data.get("buckets")
        if isinstance(buckets, Mapping):
            limit = baseline._config.max_samples
            for key, value in buckets.items():
                match = _BUCKET_KEY.match(key) if isinstance(key, str) else None
                if match is None or int(match.group(2)) > 23:
                    continue
                if samples := _parse_samples(value)[-limit:]:
                    baseline._buckets[key] = samples
        return baseline
