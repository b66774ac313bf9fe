"""The false-alarm budget: tail model, allocation, and calibration on synthetic homes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
import math
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.budget import (
    Context,
    calibrate,
    fit_tail,
    threshold,
)
from custom_components.silver_bell.core.monitor.routine import Routine, RoutineConfig

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0


def test_tail_of_exponential_samples() -> None:
    """The fitted tail of exponential silences has about their scale."""
    rng = random.Random(3)  # noqa: S311 - reproducible test data
    tail = fit_tail([rng.expovariate(1 / 600) for _ in range(2000)])
    assert tail.scale == pytest.approx(600, rel=0.15)
    assert tail.survival(3000) == pytest.approx(math.exp(-5), rel=0.3)
    assert tail.survival(0) == 1.0
    with pytest.raises(ValueError, match="two samples"):
        fit_tail([1.0])


def test_allocation_meets_the_budget_and_favours_heavy_tails() -> None:
    """Expected alarms meet the budget; a heavier tail gets a longer threshold."""
    light = fit_tail([600.0 * i / 50 for i in range(1, 51)])
    heavy = fit_tail([3600.0 * i / 50 for i in range(1, 51)])
    contexts = [
        Context(rate=10, weight=300, tail=light, low=0, high=12 * HOUR),
        Context(rate=10, weight=300, tail=heavy, low=0, high=12 * HOUR),
    ]
    found = calibrate(contexts, 1.0)
    assert found.reachable
    assert found.expected_per_30_days == pytest.approx(1.0, rel=1e-3)
    assert threshold(contexts[0], found.log_price) < threshold(
        contexts[1], found.log_price
    )


def test_unreachable_budget_is_said() -> None:
    """A ceiling that alone exceeds the budget: unreachable, thresholds below it."""
    tail = fit_tail([HOUR * i for i in range(1, 21)])
    contexts = [Context(rate=20, weight=HOUR, tail=tail, low=0, high=6 * HOUR)]
    found = calibrate(contexts, 1.0)
    assert not found.reachable
    assert found.expected_per_30_days > 1.0


def _home(seed: int, days: int) -> list[tuple[datetime, str]]:
    """A synthetic home with known silences: rooms visited by day, one night's sleep.

    Day silences are exponential with a per-room scale (kitchen 20 min,
    living room 45 min, bathroom 10 min); the person goes to bed at about
    22:30 and gets up at about 07:00 (normal, 30 min spread).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic homes
    scales = {"kitchen": 1200.0, "living": 2700.0, "bathroom": 600.0}
    rooms = list(scales)
    events: list[tuple[datetime, str]] = []
    for day in range(days):
        midnight = datetime.combine(
            date(2024, 3, 4) + timedelta(days=day), time(0), tzinfo=ZONE
        )
        moment = midnight + timedelta(hours=rng.gauss(7, 0.5))
        bedtime = midnight + timedelta(hours=rng.gauss(22.5, 0.3))
        room = "bedroom"
        while moment < bedtime:
            events.append((moment, room))
            room = rng.choice(rooms)
            moment += timedelta(seconds=60 + rng.expovariate(1 / scales[room]))
        events.append((bedtime, "bedroom"))
    return events


def _realised(config: RoutineConfig, seed: int, days: int) -> tuple[float, int]:
    """Alarms per 30 days after learning (each silence judged as it begins)."""
    routine = Routine(config)
    alarms = 0
    scored_from = None
    events = _home(seed, days)
    for (start, room), (end, _) in zip(events, events[1:], strict=False):
        routine.record_activity(start, room)
        assessment = routine.assess(start, room, start)
        if assessment is None:
            continue
        scored_from = scored_from or start
        if end - start >= assessment.alarm_after:
            alarms += 1
    assert scored_from is not None
    scored = (events[-1][0] - scored_from) / timedelta(days=1)
    return 30 * alarms / scored, alarms


def test_realised_rate_matches_the_budget_on_synthetic_homes() -> None:
    """Over many simulated months the realised alarm rate stays near the budget.

    Three homes × 180 days, calibrated on their own history as it grows: the
    realised rate is within twice the budget (measured at ddc2d51: 2.1, 1.6,
    1.9 per 30 d for a budget of 1 with this test's 30-minute floor; 1.9, 1.4,
    1.9 with the shipped settings; the per-gap 98 % quantile gives 9.2-13.2 on
    the same homes) and not far below it (the budget is spent, not wasted on
    delay). The exponential tail fitted to a context's few longest silences
    errs on the short side; a Lomax (predictive) tail calibrated these homes to
    1.1 but, fitted to a handful of rises, made nights so heavy that van
    Kasteren's median delay went from 2.5 to 3.2 h: not shipped.
    """
    budget = 1.0
    config = RoutineConfig(false_alarm_budget=budget, floor=timedelta(minutes=30))
    rates = [_realised(config, seed, 180)[0] for seed in (1, 2, 3)]
    mean = sum(rates) / len(rates)
    assert mean <= 2 * budget
    assert mean >= budget / 4
