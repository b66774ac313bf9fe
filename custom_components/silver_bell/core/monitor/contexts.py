"""The false-alarm budget's contexts of a learned routine (pure logic).

The routine files every silence under a bucket (phase, room, day type, start
hour); :mod:`.budget` calibrates thresholds over *contexts*: a rate of silences
per day, a tail model of their lengths, and the shortest and longest threshold
allowed. This module builds those contexts: one per daytime bucket, and one
per day type for the nights, from the person's rises (see :mod:`.nights`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from .assessment import quantile
from .budget import Calibration, Context, fit_tail

if TYPE_CHECKING:
    from .routine import RoutineConfig

_DAY_MINUTES = 1440


def bucket_context(
    config: RoutineConfig, *, hour: int, samples: Sequence[int], rate: float
) -> Context:
    """The context of a daytime bucket starting in ``hour``, its tail from ``samples``.

    Its longest threshold is the day ceiling when that fits in the day window
    after the bucket's hour, otherwise the any-time ceiling.
    """
    day_start = config.day_start.hour * 60 + config.day_start.minute
    day_end = config.day_end.hour * 60 + config.day_end.minute
    window = (day_end - day_start) % _DAY_MINUTES
    into_day = (hour * 60 + 30 - day_start) % _DAY_MINUTES
    ceiling = config.ceiling.total_seconds()
    if window and into_day + config.day_ceiling / timedelta(minutes=1) <= window:
        ceiling = min(ceiling, config.day_ceiling.total_seconds())
    return Context(
        rate=rate,
        weight=max(sum(samples) / len(samples), 60.0),
        tail=fit_tail(
            samples, tail_fraction=config.tail_fraction, min_tail=config.min_tail
        ),
        low=config.floor.total_seconds(),
        high=ceiling,
    )


def night_context(
    config: RoutineConfig, samples: Sequence[int], rate: float = 1.0
) -> Context:
    """A context of rises (seconds after the night's start), ``rate`` nights a day.

    Never before an hour (``rise_margin``) after the usual latest rise: what the
    budget saves at night, where a collapse in bed is rare, it spends by day.
    """
    return Context(
        rate=rate,
        weight=max(sum(samples) / len(samples), 60.0),
        tail=fit_tail(
            samples, tail_fraction=config.tail_fraction, min_tail=config.min_tail
        ),
        low=max(
            config.floor.total_seconds(),
            quantile(samples, config.quantile) + config.rise_margin.total_seconds(),
        ),
        high=config.ceiling.total_seconds(),
    )


class DayBudget:
    """One day's calibration, with the contexts built so far (memo)."""

    __slots__ = ("_cells", "calibration", "nights")

    def __init__(self, calibration: Calibration) -> None:
        """Keep ``calibration``; contexts are added as they are asked for."""
        self.calibration = calibration
        self._cells: dict[tuple[str | int | None, ...], Context] = {}
        # The nights' contexts by the day type of their morning.
        self.nights: dict[str, Context] = {}

    def cell(
        self, memo: tuple[str | int | None, ...], build: Callable[[], Context]
    ) -> Context:
        """The context remembered under ``memo``, built once a day."""
        cell = self._cells.get(memo)
        if cell is None:
            cell = self._cells[memo] = build()
        return cell
