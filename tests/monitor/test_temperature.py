"""Tests of the cold/heat risk monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.temperature import (
    TemperatureConfig,
    TemperatureMonitor,
    TemperatureRisk,
    TemperatureVerdict,
)

T0 = datetime(2024, 1, 15, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BEDROOM = "sensor.bedroom_temperature"
KITCHEN = "sensor.kitchen_temperature"
COLD = TemperatureRisk.COLD
HEAT = TemperatureRisk.HEAT


def h(hours: float) -> datetime:
    """Return T0 plus ``hours``."""
    return T0 + timedelta(hours=hours)


def test_no_samples_no_risk() -> None:
    """An empty monitor has nothing to say and nothing to wait for."""
    assert TemperatureMonitor().evaluate(T0) == TemperatureVerdict(
        risks={}, next_check=None
    )


def test_cold_for_two_hours_is_a_risk() -> None:
    """Below 16 °C from T0: pending until T0 + 2 h, a risk from then on."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    monitor.add_sample(BEDROOM, 14.0, h(1))  # continuing cold keeps the onset
    assert monitor.onset(BEDROOM, COLD) == T0
    assert monitor.evaluate(h(1.5)) == TemperatureVerdict(risks={}, next_check=h(2))
    assert monitor.evaluate(h(2)) == TemperatureVerdict(
        risks={COLD: [BEDROOM]}, next_check=None
    )


def test_heat_for_two_hours_is_a_risk() -> None:
    """Above 32 °C for two hours is heat risk."""
    monitor = TemperatureMonitor()
    monitor.add_sample(KITCHEN, 33.5, T0)
    assert monitor.evaluate(h(2)).risks == {HEAT: [KITCHEN]}


def test_thresholds_are_strict() -> None:
    """Exactly 16 °C is not cold, exactly 32 °C is not hot."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 16.0, T0)
    monitor.add_sample(KITCHEN, 32.0, T0)
    assert monitor.evaluate(h(5)) == TemperatureVerdict(risks={}, next_check=None)


def test_a_valid_reading_outside_the_condition_resets_it() -> None:
    """Warming up for one reading restarts the two-hour clock."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    monitor.add_sample(BEDROOM, 17.0, h(1.5))
    assert monitor.onset(BEDROOM, COLD) is None
    assert monitor.evaluate(h(3)).risks == {}
    monitor.add_sample(BEDROOM, 15.5, h(3))
    assert monitor.evaluate(h(4)) == TemperatureVerdict(risks={}, next_check=h(5))


def test_gaps_do_not_reset() -> None:
    """Unavailable readings are simply not passed in: the condition holds across the gap."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    monitor.add_sample(BEDROOM, 15.0, h(3))
    assert monitor.evaluate(h(3)).risks == {COLD: [BEDROOM]}


def test_any_sensor_makes_the_risk_and_all_holders_are_listed() -> None:
    """A cold bedroom is a risk even when the kitchen is warm; lists are sorted."""
    monitor = TemperatureMonitor()
    monitor.add_sample(KITCHEN, 21.0, T0)
    monitor.add_sample(BEDROOM, 12.0, T0)
    monitor.add_sample("sensor.attic", 35.0, h(1))
    monitor.add_sample("sensor.a_hall", 13.0, h(0.5))
    verdict = monitor.evaluate(h(2.5))
    assert verdict.risks == {COLD: ["sensor.a_hall", BEDROOM]}
    assert verdict.next_check == h(3)
    verdict = monitor.evaluate(h(3))
    assert list(verdict.risks) == [COLD, HEAT]
    assert verdict.risks[HEAT] == ["sensor.attic"]


def test_next_check_is_the_earliest_pending_onset() -> None:
    """With several pending conditions the earliest due time is reported."""
    monitor = TemperatureMonitor()
    monitor.add_sample(KITCHEN, 33.0, h(0.5))
    monitor.add_sample(BEDROOM, 15.0, h(0.25))
    assert monitor.evaluate(h(1)).next_check == h(2.25)


def test_custom_config() -> None:
    """Thresholds and duration come from the config."""
    config = TemperatureConfig(
        cold_below=18.0, heat_above=28.0, duration=timedelta(minutes=30)
    )
    monitor = TemperatureMonitor(config)
    assert monitor.config is config
    monitor.add_sample(BEDROOM, 17.5, T0)
    monitor.add_sample(KITCHEN, 28.5, T0)
    assert monitor.evaluate(h(0.5)).risks == {COLD: [BEDROOM], HEAT: [KITCHEN]}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "cold", None, True])
def test_invalid_values_are_ignored(bad: object) -> None:
    """NaN, infinities and non-numbers neither start nor end a condition."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    monitor.add_sample(BEDROOM, bad, h(1))  # type: ignore[arg-type]
    assert monitor.onset(BEDROOM, COLD) == T0
    monitor.add_sample(KITCHEN, bad, h(1))  # type: ignore[arg-type]
    assert monitor.evaluate(h(1)).next_check == h(2)
    assert KITCHEN not in monitor.as_dict()["sensors"]


def test_out_of_order_readings_are_ignored() -> None:
    """A reading older than the newest one does not rewrite history."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, h(1))
    monitor.add_sample(BEDROOM, 20.0, h(0.5))
    assert monitor.onset(BEDROOM, COLD) == h(1)


def test_forget() -> None:
    """A sensor no longer watched is dropped."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    monitor.forget(BEDROOM)
    monitor.forget("sensor.never_seen")
    assert monitor.onset(BEDROOM, COLD) is None
    assert monitor.evaluate(h(3)).risks == {}


def test_round_trip_through_json() -> None:
    """Onset times survive a restart (the clock does not start again)."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    monitor.add_sample(KITCHEN, 33.0, h(1))
    monitor.add_sample("sensor.hall", 20.0, h(1))
    stored = json.loads(json.dumps(monitor.as_dict()))
    restored = TemperatureMonitor.from_dict(stored)
    assert restored.as_dict() == monitor.as_dict()
    assert restored.evaluate(h(2)) == monitor.evaluate(h(2))
    assert restored.onset(BEDROOM, COLD) == T0
    # A reading older than the stored one is still refused after the restart.
    restored.add_sample(BEDROOM, 20.0, h(-0.5))
    assert restored.onset(BEDROOM, COLD) == T0


@pytest.mark.parametrize(
    "garbage", [None, 42, "x", [], {}, {"sensors": []}, {"sensors": None}]
)
def test_from_dict_garbage_starts_fresh(garbage: Any) -> None:
    """Unusable stored data gives an empty monitor, never an error."""
    config = TemperatureConfig(duration=timedelta(hours=1))
    monitor = TemperatureMonitor.from_dict(garbage, config)
    assert monitor.config is config
    assert monitor.as_dict() == {"sensors": {}}


def test_from_dict_drops_only_the_bad_parts() -> None:
    """Bad sensor entries and bad onsets are dropped, the rest is kept."""
    last = h(1).isoformat()
    data = {
        "sensors": {
            "sensor.not_a_dict": "x",
            1: {"last": last},
            "sensor.no_last": {"since": {"cold": T0.isoformat()}},
            "sensor.bad_last": {"last": "yesterday"},
            "sensor.naive_last": {"last": "2024-01-15T03:00:00"},
            "sensor.since_not_a_dict": {"last": last, "since": ["cold"]},
            BEDROOM: {
                "last": last,
                "since": {
                    "cold": T0.isoformat(),
                    "heat": "garbage",
                    "wet": T0.isoformat(),
                },
            },
            KITCHEN: {
                "last": last,
                "since": {"heat": h(2).isoformat()},
            },  # onset after last
        }
    }
    monitor = TemperatureMonitor.from_dict(data)
    assert sorted(monitor.as_dict()["sensors"]) == [
        BEDROOM,
        KITCHEN,
        "sensor.since_not_a_dict",
    ]
    assert monitor.onset(BEDROOM, COLD) == T0
    assert monitor.onset(BEDROOM, HEAT) is None
    assert monitor.onset(KITCHEN, HEAT) is None


def test_naive_datetimes_are_refused() -> None:
    """All times must be timezone-aware."""
    naive = datetime(2024, 1, 15, 2, 0)
    monitor = TemperatureMonitor()
    with pytest.raises(ValueError, match="timezone-aware"):
        monitor.add_sample(BEDROOM, 15.0, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        monitor.evaluate(naive)


def test_time_zones_mix() -> None:
    """Aware datetimes in different zones compare correctly."""
    monitor = TemperatureMonitor()
    monitor.add_sample(BEDROOM, 15.0, T0)
    assert monitor.evaluate(T0.astimezone(UTC) + timedelta(hours=2)).risks == {
        COLD: [BEDROOM]
    }
