"""What the learned routine says about one silence, and the verdict on it (pure logic).

:class:`Assessment` is the routine's opinion of a gap (the samples it was
compared with, the usual length, when it warns and alarms); :func:`judge`
turns it into a verdict at a moment; :func:`judge_silence` is the one place
where the household combines the routine with the fixed windows and the
safety ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
from typing import TYPE_CHECKING

from .inactivity import (
    InactivityVerdict,
    Level,
    WindowConfig,
    combine,
    evaluate_windows,
    local_zone,
)

if TYPE_CHECKING:
    from .routine import Routine

SOURCE_ROUTINE = "baseline"


@dataclass(frozen=True, kw_only=True, slots=True)
class Assessment:
    """What the routine says about a gap that started at a given moment.

    Attributes:
        phase: ``"day"`` or ``"night"``.
        context: the context whose samples were used (``"*"``: the whole home).
        day_type: ``"weekday"``/``"weekend"``, or None when both were pooled.
        hours: the start hours pooled either side of the gap's start hour.
        samples: the pooled gap lengths in seconds (night: as gap lengths
            for a gap starting at the assessed moment), sorted.
        normal: the gap length up to which this is usual (the quantile).
        alarm_after: the gap length at which the routine alarms.
        warning_after: the gap length at which it warns.
        expected_per_30_days: the household's expected escalated false alarms
            per 30 days at the calibrated thresholds (None: per-gap quantile).

    """

    phase: str
    context: str
    day_type: str | None
    hours: int
    samples: tuple[float, ...]
    normal: timedelta
    alarm_after: timedelta
    warning_after: timedelta
    expected_per_30_days: float | None = None

    def survival(self, elapsed: timedelta) -> float:
        """Share of the pooled gaps that lasted at least ``elapsed``."""
        seconds = elapsed.total_seconds()
        longer = sum(1 for sample in self.samples if sample >= seconds)
        return longer / len(self.samples)


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


def judge(
    assessment: Assessment | None, last_activity: datetime, now: datetime
) -> InactivityVerdict:
    """The verdict of a routine's ``assessment`` on the gap since ``last_activity``.

    OK with ``next_check`` None without an assessment. ``next_check`` is in the
    time zone of ``now``.
    """
    zone = local_zone(now, "now")
    last = last_activity.astimezone(UTC)
    elapsed = max(now.astimezone(UTC), last) - last
    if assessment is None:
        return InactivityVerdict(
            level=Level.OK, source=None, elapsed=elapsed, next_check=None
        )
    if elapsed >= assessment.alarm_after:
        level, source, upcoming = Level.ALARM, SOURCE_ROUTINE, None
    elif elapsed >= assessment.warning_after:
        level, source, upcoming = Level.WARNING, SOURCE_ROUTINE, assessment.alarm_after
    else:
        level, source, upcoming = Level.OK, None, assessment.warning_after
    return InactivityVerdict(
        level=level,
        source=source,
        elapsed=elapsed,
        next_check=None if upcoming is None else (last + upcoming).astimezone(zone),
    )


def judge_silence(
    routine: Routine | None,
    windows: WindowConfig,
    ceiling: WindowConfig,
    last_activity: datetime,
    context: str | None,
    now: datetime,
) -> tuple[InactivityVerdict, Assessment | None]:
    """Judge the current silence as the household does (its one place).

    With an opinion of the ``routine`` (None: learning switched off) the routine
    decides under the fixed ``ceiling``; while it is learning, the fixed
    ``windows``. Both datetimes are local time (the zone of ``now``).
    """
    assessment = (
        None if routine is None else routine.assess(last_activity, context, now)
    )
    if assessment is None:
        return evaluate_windows(windows, last_activity, now), None
    return (
        combine(
            evaluate_windows(ceiling, last_activity, now),
            judge(assessment, last_activity, now),
        ),
        assessment,
    )
