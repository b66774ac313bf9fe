"""Fire detection: smoke-alarm transitions and heat (static threshold + rate of rise).

Pure logic, no Home Assistant import. Two independent parts:

* :func:`classify_smoke` turns one smoke-sensor state change into a verdict.
  ``unavailable``/``unknown`` never count as a fire and never clear one.
* :class:`FireMonitor` watches temperature sensors. A fire is reported when a
  value reaches the static threshold (default 57 °C), or when the temperature
  rises at least ``rate_c_per_min`` (default 8 °C/min) above ``rate_floor_c``
  (default 35 °C) — in the spirit of EN 54-5 class A1R heat detectors.

Rate of rise is computed over the samples of a bounded window (default 10 min),
not only between two consecutive state changes: Home Assistant 2024.3 reports a
new state only when the value changes, so a value may sit unchanged for hours.
Because an unchanged value is not reported again, the last sample before the
window still tells the temperature at the window's start; it is kept as an
anchor and timed at the window's start (the slowest rise consistent with the
data, so it never overstates the rate).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from .states import STATE_OFF, STATE_ON, UNRELIABLE, finite_float, require_aware
from .zigbee import coerce_zone_status, is_alarm, is_test

#: Upper bound of samples kept per sensor, whatever the reporting rate.
MAX_SAMPLES_PER_SENSOR: Final = 1024

REASON_STATIC: Final = "static"
REASON_RATE_OF_RISE: Final = "rate_of_rise"

_SECONDS_PER_MINUTE: Final = 60.0


class SmokeVerdict(StrEnum):
    """What one smoke-sensor state change means."""

    NONE = "none"
    FIRE = "fire"
    TEST = "test"
    CLEAR = "clear"


def classify_smoke(
    old_state: str | None,
    new_state: str,
    *,
    test_active: bool = False,
    zone_status: int | None = None,
) -> SmokeVerdict:
    """Classify a smoke sensor's state change.

    * ``FIRE`` when the sensor turns "on" from a reliable state, or is "on" when
      first seen (``old_state`` None, e.g. Silver Bell starting while smoke is detected).
    * ``TEST`` instead of ``FIRE`` when the alarm is a test: a sibling test entity is
      on (``test_active``) or the IAS ZoneStatus has its Test bit set.
    * ``CLEAR`` when it turns from "on" to "off".
    * ``NONE`` otherwise: "on" after "unavailable"/"unknown" (a reconnecting device
      replaying a state is not evidence of fire), "on" → "on" (an attribute update,
      not a new alarm), anything → "unavailable" (never clears), and so on.
    """
    if new_state == STATE_ON:
        if old_state in UNRELIABLE or old_state == STATE_ON:
            return SmokeVerdict.NONE
        if test_active or (zone_status is not None and _zone_test(zone_status)):
            return SmokeVerdict.TEST
        return SmokeVerdict.FIRE
    if new_state == STATE_OFF and old_state == STATE_ON:
        return SmokeVerdict.CLEAR
    return SmokeVerdict.NONE


def classify_zone_change(previous: int | None, current: int) -> SmokeVerdict:
    """Classify a fire sensor's IAS ZoneStatus change, read from the Zigbee stack.

    The entity shows only the alarm bits; the ZoneStatus also says whether the
    detector is being tested. ``TEST`` when the Test bit comes on (a test press,
    with or without the alarm bits), ``FIRE`` when an alarm bit comes on without
    the Test bit (including a detector whose test ends while it still alarms),
    ``NONE`` otherwise; the entity's own off→on change is judged by
    :func:`classify_smoke` with the same ZoneStatus, so both paths agree.
    An invalid ``current`` is ``NONE``; an invalid or unknown ``previous``
    counts as all bits clear.
    """
    now = coerce_zone_status(current)
    if now is None:
        return SmokeVerdict.NONE
    before = coerce_zone_status(previous) or 0
    if is_test(now) and not is_test(before):
        return SmokeVerdict.TEST
    alarm_now = is_alarm(now) and not is_test(now)
    alarm_before = is_alarm(before) and not is_test(before)
    if alarm_now and not alarm_before:
        return SmokeVerdict.FIRE
    return SmokeVerdict.NONE


def _zone_test(zone_status: int) -> bool:
    try:
        return is_test(zone_status)
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True, slots=True)
class FireConfig:
    """Heat-detection thresholds."""

    static_c: float = 57.0
    rate_c_per_min: float = 8.0
    rate_floor_c: float = 35.0
    window: timedelta = timedelta(minutes=10)
    min_span: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, kw_only=True, slots=True)
class HeatVerdict:
    """A heat reading that means fire.

    ``reason`` is "static" or "rate_of_rise" (static wins when both apply);
    ``rate_c_per_min`` is the steepest rise seen in the window, or None when the
    window holds no sample old enough to measure one.
    """

    reason: str
    sensor: str
    value: float
    rate_c_per_min: float | None


@dataclass(frozen=True, slots=True)
class _Sample:
    at: datetime
    value: float


class FireMonitor:
    """Heat-based fire detection over a bounded window of samples per sensor."""

    def __init__(self, config: FireConfig | None = None) -> None:
        """Create a monitor with ``config`` (defaults when None)."""
        self._config = config or FireConfig()
        self._samples: dict[str, deque[_Sample]] = {}

    @property
    def config(self) -> FireConfig:
        """Return the thresholds in use."""
        return self._config

    def add_sample(self, sensor: str, value: float, at: datetime) -> HeatVerdict | None:
        """Record a temperature reading and return a verdict if it means fire.

        Every qualifying reading returns a verdict (the caller merges them into one
        open incident). NaN/inf and non-numbers are ignored (None, nothing stored).
        A reading older than the sensor's previous one (clock stepped back) restarts
        that sensor's history, so no rate is ever measured over a negative time.
        """
        require_aware(at)
        number = finite_float(value)
        if number is None:
            return None
        samples = self._samples.get(sensor)
        if samples is None or (samples and at < samples[-1].at):
            samples = deque(maxlen=MAX_SAMPLES_PER_SENSOR)
            self._samples[sensor] = samples
        window_start = at - self._config.window
        self._prune(samples, window_start)
        rate = self._max_rate(samples, number, at, window_start)
        samples.append(_Sample(at, number))

        if number >= self._config.static_c:
            return HeatVerdict(
                reason=REASON_STATIC, sensor=sensor, value=number, rate_c_per_min=rate
            )
        if (
            rate is not None
            and rate >= self._config.rate_c_per_min
            and number > self._config.rate_floor_c
        ):
            return HeatVerdict(
                reason=REASON_RATE_OF_RISE,
                sensor=sensor,
                value=number,
                rate_c_per_min=rate,
            )
        return None

    def forget(self, sensor: str) -> None:
        """Drop a sensor's samples (it became unavailable, or is no longer watched).

        After a reconnect the first reading starts a fresh history, so a jump
        across the gap cannot look like a rate of rise.
        """
        self._samples.pop(sensor, None)

    def sample_count(self, sensor: str) -> int:
        """Return how many samples are held for ``sensor`` (memory bound, diagnostics)."""
        return len(self._samples.get(sensor, ()))

    @staticmethod
    def _prune(samples: deque[_Sample], window_start: datetime) -> None:
        """Drop samples before the window, keeping the newest of them as the anchor."""
        while len(samples) > 1 and samples[1].at <= window_start:
            samples.popleft()

    def _max_rate(
        self,
        samples: deque[_Sample],
        value: float,
        at: datetime,
        window_start: datetime,
    ) -> float | None:
        best: float | None = None
        for sample in samples:
            since = max(sample.at, window_start)
            span = at - since
            if span < self._config.min_span or span <= timedelta(0):
                continue
            rate = (value - sample.value) / (span.total_seconds() / _SECONDS_PER_MINUTE)
            if best is None or rate > best:
                best = rate
        return best
