"""The false-alarm budget: thresholds per context from a rate, not a quantile (pure logic).

A household has a budget of escalated inactivity alarms per 30 days. Each
*context* (last room × start hour × day type, the routine's buckets) has its
own silences: ``rate`` of them per day, and a survival function S(t) — the
share of its silences that last longer than ``t``. A threshold ``T`` in that
context costs ``rate × S(T)`` false alarms per day; the thresholds are chosen
so that the sum over all contexts, times 30, stays within the budget.

**Tail model.** Seven days give a few hundred silences, and the thresholds the
budget asks for sit far out in their tail (a rate of one in several hundred),
often beyond the longest silence seen. The longest silences of a context are
therefore modelled by an exponential tail (peaks over a threshold): above
``start`` — the silence length that the longest ``tail_fraction`` (at least
``min_tail``) of the samples exceed — S(t) = share × exp(-(t - start) / scale),
with ``scale`` the mean excess of those longest samples (divided by k - 1 rather
than k: a slightly longer tail, the honest side with few samples). Below
``start`` S is the empirical share.

**Allocation (equal marginal cost).** The budget is spread so that the total
expected delay to notice a collapse is smallest: a collapse falls in a context
in proportion to the time spent silent there (``rate × weight``, ``weight`` the
mean silence length), and waiting a little longer in a context saves false
alarms in proportion to its density at the threshold. At the optimum every
context trades delay for false alarms at the same price ``mu``; with the
exponential tail that gives the closed form
``T = start + scale × ln(share × mu / (weight × scale))`` — heavy-tailed
contexts wait longer, contexts whose long silences are rare get short
thresholds. ``mu`` is found by bisection so that the expected escalations meet
the budget. Thresholds are clamped to ``[low, high]`` (the floor and the fixed
ceiling); the ceiling's own alarms are counted (``S(min(T, ceiling))``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
import math

#: Unreachable budget (the ceilings alone exceed it): the share of the budget
#: spent on top of what the ceilings cost, so that thresholds stay below them.
UNREACHABLE_SLACK = 0.1
MIN_SCALE = 60.0  # seconds: the shortest tail scale believed
_Z_LOW, _Z_HIGH = -200.0, 2000.0  # bisection range of ln(mu)
_STEPS = 80


@dataclass(frozen=True, slots=True)
class Tail:
    """Survival model of one context's silences (seconds): empirical body, exponential tail."""

    body: tuple[float, ...]
    start: float
    share: float
    scale: float

    def survival(self, seconds: float) -> float:
        """Share of silences expected to last longer than ``seconds``."""
        if seconds >= self.start:
            return self.share * math.exp(-(seconds - self.start) / self.scale)
        longer = len(self.body) - bisect_right(self.body, seconds)
        return max(longer / len(self.body), self.share)


def fit_tail(
    samples: Sequence[float], *, tail_fraction: float = 0.2, min_tail: int = 5
) -> Tail:
    """Fit :class:`Tail` to silence lengths (seconds).

    Raises:
        ValueError: fewer than two samples.

    """
    ordered = tuple(sorted(float(value) for value in samples))
    count = len(ordered)
    if count < 2:
        msg = "a tail needs at least two samples"
        raise ValueError(msg)
    # At most half the samples: a tail is the long end, not the whole distribution.
    longest = max(min(max(min_tail, math.ceil(tail_fraction * count)), count // 2), 1)
    start = ordered[count - longest - 1]
    excess = sum(value - start for value in ordered[count - longest :])
    scale = max(excess / max(longest - 1, 1), MIN_SCALE)
    return Tail(body=ordered, start=start, share=longest / count, scale=scale)


@dataclass(frozen=True, slots=True)
class Context:
    """One context of the budget.

    Attributes:
        rate: its silences per day (of all days, not only of its day type).
        weight: the delay weight of one of its silences (its mean length, seconds).
        tail: the survival model of its silences.
        low: the shortest threshold allowed (the floor).
        high: the longest (the fixed ceiling, which alarms anyway).

    """

    rate: float
    weight: float
    tail: Tail
    low: float
    high: float


def threshold(context: Context, log_price: float) -> float:
    """The context's threshold (seconds) at the price ``exp(log_price)``."""
    tail = context.tail
    weight = max(context.weight, 1.0)
    value = tail.start + tail.scale * (
        math.log(tail.share) + log_price - math.log(weight * tail.scale)
    )
    return min(max(value, context.low, tail.start), context.high)


def expected_per_day(contexts: Sequence[Context], log_price: float) -> float:
    """Expected escalated false alarms per day at the price ``exp(log_price)``."""
    return sum(
        context.rate * context.tail.survival(threshold(context, log_price))
        for context in contexts
    )


@dataclass(frozen=True, slots=True)
class Calibration:
    """The outcome of :func:`calibrate`.

    Attributes:
        log_price: ln(mu), the common price of delay against false alarms.
        expected_per_30_days: expected escalated false alarms per 30 days.
        reachable: False when even the ceiling everywhere exceeds the budget
            (then the thresholds keep the expected alarms at what the ceilings
            cost plus ``UNREACHABLE_SLACK`` of the budget).

    """

    log_price: float
    expected_per_30_days: float
    reachable: bool


def calibrate(contexts: Sequence[Context], per_30_days: float) -> Calibration:
    """The smallest price whose thresholds keep the expected alarms within the budget."""
    target = max(per_30_days, 0.0) / 30.0
    low, high = _Z_LOW, _Z_HIGH
    # What the ceilings cost even with every threshold at its longest.
    unavoidable = expected_per_day(contexts, high)
    reachable = unavoidable <= target
    if not reachable:
        # Best effort: little more than what the ceilings cost anyway.
        target = unavoidable + UNREACHABLE_SLACK * target
    if expected_per_day(contexts, low) <= target:
        high = low
    else:
        for _ in range(_STEPS):
            middle = (low + high) / 2
            if expected_per_day(contexts, middle) <= target:
                high = middle
            else:
                low = middle
    return Calibration(
        log_price=high,
        expected_per_30_days=30.0 * expected_per_day(contexts, high),
        reachable=reachable,
    )
