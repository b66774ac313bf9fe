"""Tests of smoke classification and heat-based fire detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import math
from typing import Any

import pytest
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell.core.monitor.fire import (
    MAX_SAMPLES_PER_SENSOR,
    FireConfig,
    FireMonitor,
    HeatVerdict,
    SmokeVerdict,
    classify_smoke,
    classify_zone_change,
)
from custom_components.silver_bell.core.monitor.states import (
    UNRELIABLE,
    finite_float,
    from_iso,
    is_reliable,
    to_iso,
)

T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
KITCHEN = "sensor.kitchen_temperature"
BEDROOM = "sensor.bedroom_temperature"
ZS = IasZone.ZoneStatus


def sec(seconds: float) -> datetime:
    """Return T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("old", "new", "verdict"),
    [
        (None, "on", SmokeVerdict.FIRE),
        ("off", "on", SmokeVerdict.FIRE),
        ("unavailable", "on", SmokeVerdict.NONE),
        ("unknown", "on", SmokeVerdict.NONE),
        ("on", "on", SmokeVerdict.NONE),
        ("on", "off", SmokeVerdict.CLEAR),
        ("on", "unavailable", SmokeVerdict.NONE),
        ("on", "unknown", SmokeVerdict.NONE),
        ("unavailable", "off", SmokeVerdict.NONE),
        ("off", "off", SmokeVerdict.NONE),
        (None, "off", SmokeVerdict.NONE),
        (None, "unavailable", SmokeVerdict.NONE),
    ],
)
def test_classify_smoke(old: str | None, new: str, verdict: SmokeVerdict) -> None:
    """Only a reliable → on change is a fire; unavailable never fires nor clears."""
    assert classify_smoke(old, new) is verdict


def test_classify_smoke_test_mode() -> None:
    """A sibling test entity or the ZoneStatus Test bit turns a fire into a test."""
    assert classify_smoke("off", "on", test_active=True) is SmokeVerdict.TEST
    assert (
        classify_smoke(None, "on", zone_status=int(ZS.Test | ZS.Alarm_1))
        is SmokeVerdict.TEST
    )
    assert classify_smoke("off", "on", zone_status=int(ZS.Alarm_1)) is SmokeVerdict.FIRE
    # A garbage zone status is not evidence of a test: fire stays fire.
    assert classify_smoke("off", "on", zone_status=-1) is SmokeVerdict.FIRE
    # Test mode does not make an unreliable → on change count.
    assert classify_smoke("unavailable", "on", test_active=True) is SmokeVerdict.NONE
    # Clearing a test reads as a clear.
    assert classify_smoke("on", "off", test_active=True) is SmokeVerdict.CLEAR


def test_static_threshold() -> None:
    """A value at or above the static threshold is a fire at once."""
    monitor = FireMonitor()
    assert monitor.add_sample(KITCHEN, 56.9, T0) is None
    verdict = monitor.add_sample(BEDROOM, 57.0, T0)
    assert verdict == HeatVerdict(
        reason="static", sensor=BEDROOM, value=57.0, rate_c_per_min=None
    )


def test_static_verdict_reports_the_rate_when_measurable() -> None:
    """Static wins over rate of rise, and still carries the rate seen."""
    monitor = FireMonitor()
    monitor.add_sample(KITCHEN, 30.0, T0)
    verdict = monitor.add_sample(KITCHEN, 60.0, sec(120))
    assert verdict is not None
    assert verdict.reason == "static"
    assert verdict.rate_c_per_min == pytest.approx(15.0)


def test_rate_of_rise_needs_rate_and_floor() -> None:
    """8 °C/min over at least a minute, above 35 °C."""
    monitor = FireMonitor()
    assert monitor.add_sample(KITCHEN, 25.0, sec(0)) is None
    assert (
        monitor.add_sample(KITCHEN, 29.0, sec(30)) is None
    )  # span < 60 s: no rate yet
    assert (
        monitor.add_sample(KITCHEN, 33.0, sec(60)) is None
    )  # 8 °C/min but below the floor
    verdict = monitor.add_sample(KITCHEN, 37.0, sec(90))
    assert verdict is not None
    assert verdict.reason == "rate_of_rise"
    assert verdict.sensor == KITCHEN
    assert verdict.value == 37.0
    assert verdict.rate_c_per_min == pytest.approx(8.0)


def test_rate_just_below_threshold_is_not_a_fire() -> None:
    """7.9 °C/min above the floor is no fire."""
    monitor = FireMonitor()
    monitor.add_sample(KITCHEN, 30.0, T0)
    assert monitor.add_sample(KITCHEN, 45.8, sec(120)) is None


def test_rate_is_measured_over_the_window_not_between_two_changes() -> None:
    """Small steps every 10 s (each pair < min_span apart) still add up to a fire."""
    monitor = FireMonitor()
    verdicts = [
        monitor.add_sample(KITCHEN, 30.0 + 1.5 * i, sec(10 * i)) for i in range(9)
    ]
    assert verdicts[:6] == [None] * 6  # first minute: no sample old enough
    fired = [v for v in verdicts if v is not None]
    assert fired
    assert fired[0].reason == "rate_of_rise"
    assert fired[0].rate_c_per_min == pytest.approx(9.0)


def test_unchanged_value_before_the_window_anchors_the_window_start() -> None:
    """A value sitting unchanged for hours still counts, timed at the window start."""
    monitor = FireMonitor(FireConfig(static_c=200.0))
    monitor.add_sample(KITCHEN, 20.0, T0)
    verdict = monitor.add_sample(KITCHEN, 110.0, T0 + timedelta(hours=5))
    assert verdict is not None
    assert verdict.reason == "rate_of_rise"
    assert verdict.rate_c_per_min == pytest.approx(
        9.0
    )  # (110 - 20) / 10 min, not / 300 min


def test_slow_warming_is_not_a_fire() -> None:
    """A sunny afternoon (22 → 40 °C over hours) is no fire."""
    monitor = FireMonitor()
    for minute in range(0, 240, 5):
        assert (
            monitor.add_sample(KITCHEN, 22.0 + minute * 0.075, sec(minute * 60)) is None
        )


def test_falling_temperature_is_not_a_fire() -> None:
    """Negative rates never fire."""
    monitor = FireMonitor()
    monitor.add_sample(KITCHEN, 50.0, T0)
    assert monitor.add_sample(KITCHEN, 40.0, sec(120)) is None


def test_samples_outside_the_window_are_dropped() -> None:
    """Memory is bounded by the window (plus one anchor) ..."""
    monitor = FireMonitor()
    for i in range(180):  # 30 minutes, one sample every 10 s
        monitor.add_sample(KITCHEN, 21.0, sec(10 * i))
    assert (
        monitor.sample_count(KITCHEN) == 61
    )  # the window's 10 min at 10 s, both ends included


def test_samples_are_capped_whatever_the_rate() -> None:
    """... and by a hard cap for a sensor reporting many times a second."""
    monitor = FireMonitor()
    for i in range(MAX_SAMPLES_PER_SENSOR + 100):
        monitor.add_sample(KITCHEN, 21.0, T0 + timedelta(milliseconds=i))
    assert monitor.sample_count(KITCHEN) == MAX_SAMPLES_PER_SENSOR


def test_forget_drops_history_so_a_reconnect_jump_is_no_rate() -> None:
    """After unavailable the first reading starts afresh."""
    monitor = FireMonitor()
    monitor.add_sample(KITCHEN, 22.0, T0)
    monitor.forget(KITCHEN)
    monitor.forget("sensor.never_seen")
    assert monitor.sample_count(KITCHEN) == 0
    assert monitor.add_sample(KITCHEN, 45.0, sec(120)) is None
    assert monitor.sample_count(KITCHEN) == 1


def test_sensors_are_independent() -> None:
    """One sensor's history never feeds another's rate."""
    monitor = FireMonitor()
    monitor.add_sample(BEDROOM, 20.0, T0)
    assert monitor.add_sample(KITCHEN, 45.0, sec(120)) is None


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "hot", None])
def test_non_finite_values_are_ignored(bad: object) -> None:
    """NaN, infinities and non-numbers are neither fires nor stored."""
    monitor = FireMonitor()
    assert monitor.add_sample(KITCHEN, bad, T0) is None  # type: ignore[arg-type]
    assert monitor.sample_count(KITCHEN) == 0


def test_numeric_strings_are_accepted() -> None:
    """A state string such as "58.5" is read as a number."""
    verdict = FireMonitor().add_sample(KITCHEN, "58.5", T0)  # type: ignore[arg-type]
    assert verdict is not None
    assert verdict.value == 58.5


def test_clock_stepping_back_restarts_the_history() -> None:
    """An out-of-order reading never yields a rate over negative time."""
    monitor = FireMonitor()
    monitor.add_sample(KITCHEN, 20.0, sec(300))
    monitor.add_sample(KITCHEN, 21.0, sec(400))
    assert monitor.add_sample(KITCHEN, 45.0, sec(0)) is None
    assert monitor.sample_count(KITCHEN) == 1


def test_zero_min_span_does_not_divide_by_zero() -> None:
    """Two readings with the same timestamp give no rate."""
    monitor = FireMonitor(FireConfig(min_span=timedelta(0)))
    monitor.add_sample(KITCHEN, 20.0, T0)
    assert monitor.add_sample(KITCHEN, 50.0, T0) is None
    verdict = monitor.add_sample(KITCHEN, 50.0, sec(30))
    assert verdict is not None
    assert verdict.rate_c_per_min == pytest.approx(60.0)


def test_config_and_naive_datetimes() -> None:
    """The config is exposed; naive datetimes are refused."""
    config = FireConfig(static_c=60.0)
    assert FireMonitor(config).config is config
    assert FireMonitor().config == FireConfig()
    with pytest.raises(ValueError, match="timezone-aware"):
        FireMonitor().add_sample(KITCHEN, 20.0, datetime(2024, 3, 4, 12, 0))


def test_state_vocabulary_and_value_helpers() -> None:
    """The shared helpers behind "sensors lie" and persistence."""
    assert frozenset({"unavailable", "unknown"}) == UNRELIABLE
    assert is_reliable("on")
    assert is_reliable("21.5")
    assert not is_reliable("unavailable")
    assert not is_reliable("unknown")
    assert not is_reliable(None)
    assert finite_float(10**400) is None
    assert finite_float(" 21.5 ") == 21.5
    assert finite_float(3) == 3.0
    assert to_iso(None) is None
    assert from_iso(to_iso(T0)) == T0
    assert from_iso("2024-03-04T12:00:00") is None
    assert from_iso(None) is None


_Z = IasZone.ZoneStatus


@pytest.mark.parametrize(
    ("previous", "current", "verdict"),
    [
        (None, 0, SmokeVerdict.NONE),
        (0, _Z.Alarm_1, SmokeVerdict.FIRE),
        (None, _Z.Alarm_2, SmokeVerdict.FIRE),
        (_Z.Alarm_1, _Z.Alarm_1, SmokeVerdict.NONE),
        (0, _Z.Test, SmokeVerdict.TEST),
        (0, _Z.Alarm_1 | _Z.Test, SmokeVerdict.TEST),
        (_Z.Alarm_1 | _Z.Test, _Z.Alarm_1 | _Z.Test, SmokeVerdict.NONE),
        # The test ends but the detector still alarms: that is smoke.
        (_Z.Alarm_1 | _Z.Test, _Z.Alarm_1, SmokeVerdict.FIRE),
        (_Z.Alarm_1 | _Z.Test, 0, SmokeVerdict.NONE),
        (0, _Z.Tamper | _Z.Battery, SmokeVerdict.NONE),
        (_Z.Alarm_1, 0, SmokeVerdict.NONE),
        ("junk", _Z.Alarm_1, SmokeVerdict.FIRE),
        (0, 0x1_0000, SmokeVerdict.NONE),
        (0, "0x0001", SmokeVerdict.FIRE),
    ],
)
def test_classify_zone_change(
    previous: Any, current: Any, verdict: SmokeVerdict
) -> None:
    """ZoneStatus changes read from the Zigbee stack: a Test press is never a fire."""
    assert classify_zone_change(previous, current) is verdict
