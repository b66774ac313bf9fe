"""Cold and heat risk: a room too cold or too hot for too long.

Pure logic, no Home Assistant import.

Per sensor and risk the monitor keeps the onset ("since") of the condition:
a reading below ``cold_below`` (strictly) starts or continues the cold condition,
a reading above ``heat_above`` (strictly) the heat condition, and any valid
reading outside a condition ends it. Readings that are unavailable/unknown are
not passed in at all, so they neither start nor end a condition ("sensors lie";
the sensor-health monitor reports the outage).

Multi-sensor rule: the household is at risk if ANY watched sensor has held a
condition for at least ``duration`` — rooms differ, and an elderly person in a
cold bedroom is at risk even when the kitchen is warm. The verdict lists the
sensors holding each risk.

Onset times are persisted (``as_dict``/``from_dict``) so a restart does not
restart the two-hour clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .states import finite_float, from_iso, require_aware, to_iso


class TemperatureRisk(StrEnum):
    """A dangerous room temperature held for too long."""

    COLD = "cold"
    HEAT = "heat"


@dataclass(frozen=True, kw_only=True, slots=True)
class TemperatureConfig:
    """Thresholds (°C, strict) and how long a condition must hold."""

    cold_below: float = 16.0
    heat_above: float = 32.0
    duration: timedelta = timedelta(hours=2)


@dataclass(frozen=True, kw_only=True, slots=True)
class TemperatureVerdict:
    """Risks in force, each with the sorted sensors holding it for >= duration.

    ``risks`` holds only risks in force (empty dict = no risk). ``next_check`` is
    the earliest future moment a pending condition would become a risk, or None.
    """

    risks: dict[TemperatureRisk, list[str]]
    next_check: datetime | None


@dataclass(slots=True)
class _SensorState:
    last: datetime
    since: dict[TemperatureRisk, datetime] = field(default_factory=dict)


class TemperatureMonitor:
    """Tracks how long each temperature sensor has been too cold or too hot."""

    def __init__(self, config: TemperatureConfig | None = None) -> None:
        """Create a monitor with ``config`` (defaults when None)."""
        self._config = config or TemperatureConfig()
        self._sensors: dict[str, _SensorState] = {}

    @property
    def config(self) -> TemperatureConfig:
        """Return the thresholds in use."""
        return self._config

    def add_sample(self, sensor: str, value: float, at: datetime) -> None:
        """Record a valid reading taken at ``at``.

        NaN/inf and non-numbers are ignored. A reading older than the sensor's
        newest one is ignored too (it would rewrite history out of order).
        """
        require_aware(at)
        number = finite_float(value)
        if number is None:
            return
        state = self._sensors.get(sensor)
        if state is None:
            state = self._sensors[sensor] = _SensorState(last=at)
        elif at < state.last:
            return
        state.last = at
        for risk, held in (
            (TemperatureRisk.COLD, number < self._config.cold_below),
            (TemperatureRisk.HEAT, number > self._config.heat_above),
        ):
            if held:
                state.since.setdefault(risk, at)
            else:
                state.since.pop(risk, None)

    def forget(self, sensor: str) -> None:
        """Drop a sensor that is no longer watched (not for unavailability)."""
        self._sensors.pop(sensor, None)

    def onset(self, sensor: str, risk: TemperatureRisk) -> datetime | None:
        """Return since when ``sensor`` has held ``risk``'s condition, or None."""
        state = self._sensors.get(sensor)
        return None if state is None else state.since.get(risk)

    def evaluate(self, now: datetime) -> TemperatureVerdict:
        """Return the risks in force at ``now`` and when to look again."""
        require_aware(now)
        risks: dict[TemperatureRisk, list[str]] = {}
        next_check: datetime | None = None
        for sensor in sorted(self._sensors):
            for risk, since in self._sensors[sensor].since.items():
                due = since + self._config.duration
                if due <= now:
                    risks.setdefault(risk, []).append(sensor)
                elif next_check is None or due < next_check:
                    next_check = due
        ordered = {risk: risks[risk] for risk in TemperatureRisk if risk in risks}
        return TemperatureVerdict(risks=ordered, next_check=next_check)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-serialisable state (ISO timestamps) to persist."""
        return {
            "sensors": {
                sensor: {
                    "last": to_iso(state.last),
                    "since": {
                        str(risk): to_iso(at) for risk, at in state.since.items()
                    },
                }
                for sensor, state in self._sensors.items()
            }
        }

    @classmethod
    def from_dict(
        cls, data: object, config: TemperatureConfig | None = None
    ) -> TemperatureMonitor:
        """Rebuild a monitor from :meth:`as_dict` output.

        Tolerant: a malformed sensor entry is dropped, a malformed onset is
        dropped; anything unusable gives a fresh monitor instead of an error.
        """
        monitor = cls(config)
        sensors = data.get("sensors") if isinstance(data, dict) else None
        if not isinstance(sensors, dict):
            return monitor
        for sensor, entry in sensors.items():
            if not isinstance(sensor, str) or not isinstance(entry, dict):
                continue
            last = from_iso(entry.get("last"))
            if last is None:
                continue
            state = _SensorState(last=last)
            since = entry.get("since")
            if isinstance(since, dict):
                for risk in TemperatureRisk:
                    onset = from_iso(since.get(str(risk)))
                    if onset is not None and onset <= last:
                        state.since[risk] = onset
            monitor._sensors[sensor] = state
        return monitor
