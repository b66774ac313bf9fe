"""Sensor health: is each watched sensor still telling us the truth?

Pure logic, no Home Assistant import. Problems per sensor:

* ``UNAVAILABLE`` — the state has been "unavailable"/"unknown" continuously for at
  least ``unavailable_after`` (default 30 min). Any reliable state ends the outage.
* ``BATTERY_LOW`` — the device's battery is below ``battery_low_pct`` (default 15 %),
  or its IAS ZoneStatus reports Battery (low) or Battery_Defect.
* ``SILENT`` — an activity sensor has not changed state for ``silent_after``
  (default 72 h) of a living household: another activity sensor reported at least
  ``silent_after`` after this one last did. Requiring the other report to come that
  late (rather than "some time in the last 72 h") means a household that leaves
  right after using a room is never flagged when the 72 h run out during the
  absence, and the problem needs no timer: it changes only when a sensor reports.
* ``TAMPER`` / ``TROUBLE`` — IAS ZoneStatus Tamper / Trouble bits.
* ``NOT_HEARD`` — the Zigbee stack says it has not heard from the device for
  ``not_heard_after`` (default 25 h, Zigbee2MQTT's own default for battery devices),
  while the entity still shows its last state: a stack without availability
  checking (Zigbee2MQTT's default) never makes a dead sensor "unavailable". Only
  sensors whose stack reports a last-seen time are judged (:meth:`SensorHealth.heard`).

Only reliable states count as a sensor being heard from; a state equal to the
last reliable one (e.g. replayed after a reconnect or at start-up) is not a change.
The glue calls :meth:`SensorHealth.track` for every watched sensor on each start;
tracking an already tracked sensor keeps its clocks (restored with ``from_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from .states import UNRELIABLE, finite_float, from_iso, require_aware, to_iso
from .zigbee import (
    BATTERY,
    BATTERY_DEFECT,
    HEALTH_BITS,
    TAMPER,
    TROUBLE,
    coerce_zone_status,
    health_bits,
)

_BATTERY_MAX_PCT: Final = 100.0


class Problem(StrEnum):
    """A sensor-health problem."""

    UNAVAILABLE = "unavailable"
    BATTERY_LOW = "battery_low"
    SILENT = "silent"
    TAMPER = "tamper"
    TROUBLE = "trouble"
    NOT_HEARD = "not_heard"


_PROBLEM_BY_BIT: Final[dict[str, Problem]] = {
    TAMPER: Problem.TAMPER,
    TROUBLE: Problem.TROUBLE,
    BATTERY: Problem.BATTERY_LOW,
    BATTERY_DEFECT: Problem.BATTERY_LOW,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthConfig:
    """When a sensor counts as unavailable, low on battery or silent."""

    unavailable_after: timedelta = timedelta(minutes=30)
    battery_low_pct: float = 15.0
    silent_after: timedelta = timedelta(hours=72)
    not_heard_after: timedelta = timedelta(hours=25)


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthVerdict:
    """Problems per sensor (only sensors with problems; each list sorted).

    ``next_check`` is the earliest future moment an ongoing outage reaches
    ``unavailable_after`` or a device's last-seen time ``not_heard_after``, or None.
    """

    problems: dict[str, list[Problem]]
    next_check: datetime | None


@dataclass(slots=True)
class _Watched:
    activity: bool
    last_seen: datetime  # last reliable state change, or when tracking started
    last_report: datetime | None = None  # last reliable state change only
    state: str | None = None  # last reliable state
    unavailable_since: datetime | None = None
    battery: float | None = None
    zone_bits: frozenset[str] = field(default_factory=frozenset)
    heard: datetime | None = None  # the stack's last-seen time of the device


class SensorHealth:
    """Health of the watched sensors of one household."""

    def __init__(self, config: HealthConfig | None = None) -> None:
        """Create a health monitor with ``config`` (defaults when None)."""
        self._config = config or HealthConfig()
        self._sensors: dict[str, _Watched] = {}

    @property
    def config(self) -> HealthConfig:
        """Return the thresholds in use."""
        return self._config

    @property
    def sensors(self) -> frozenset[str]:
        """Return the tracked sensors."""
        return frozenset(self._sensors)

    def track(self, sensor: str, *, activity: bool, now: datetime) -> None:
        """Watch ``sensor``; its clocks start at ``now``.

        ``activity`` marks activity sensors (the silence check applies only to them).
        Tracking a sensor again only updates ``activity`` and keeps its clocks.
        """
        require_aware(now)
        watched = self._sensors.get(sensor)
        if watched is None:
            self._sensors[sensor] = _Watched(activity=activity, last_seen=now)
        else:
            watched.activity = activity

    def untrack(self, sensor: str) -> None:
        """Stop watching ``sensor`` and forget it."""
        self._sensors.pop(sensor, None)

    def state_changed(
        self, sensor: str, state: str, at: datetime, *, zone_status: int | None = None
    ) -> None:
        """Record a state of ``sensor`` (untracked sensors are ignored).

        An unreliable state starts an outage (the earliest such ``at`` counts); a
        reliable one ends it and, if it differs from the last reliable state, counts
        as the sensor reporting. ``zone_status`` (IAS ZoneStatus, with reliable states
        only) replaces the sensor's tamper/trouble/battery bits; None or an invalid
        value keeps them.
        """
        require_aware(at)
        watched = self._sensors.get(sensor)
        if watched is None:
            return
        if state in UNRELIABLE:
            if watched.unavailable_since is None:
                watched.unavailable_since = at
            return
        watched.unavailable_since = None
        status = coerce_zone_status(zone_status)
        if status is not None:
            watched.zone_bits = health_bits(status)
        if state != watched.state:
            watched.state = state
            watched.last_seen = max(watched.last_seen, at)
            if watched.last_report is None or at > watched.last_report:
                watched.last_report = at

    def zone_status(self, sensor: str, zone_status: int | None) -> None:
        """Replace the tamper/trouble/battery bits of ``sensor`` from its ZoneStatus.

        For reports that come beside the entity's state (a Zigbee stack's own view of
        the device, or sibling entities): the bits are the device's own statement, so
        they are kept whatever the entity's state is. None or an invalid value changes
        nothing.
        """
        watched = self._sensors.get(sensor)
        status = coerce_zone_status(zone_status)
        if watched is not None and status is not None:
            watched.zone_bits = health_bits(status)

    def heard(self, sensor: str, at: datetime | None) -> None:
        """Record the stack's last-seen time of ``sensor``'s device (later ones win).

        None (the last-seen sensor is unknown or unavailable) changes nothing.
        """
        watched = self._sensors.get(sensor)
        if watched is None or at is None:
            return
        require_aware(at)
        if watched.heard is None or at > watched.heard:
            watched.heard = at

    def last_heard(self, sensor: str) -> datetime | None:
        """The stack's last-seen time of ``sensor``'s device, if it reports one."""
        watched = self._sensors.get(sensor)
        return None if watched is None else watched.heard

    def battery(self, sensor: str, percent: float | None, at: datetime) -> None:
        """Record the battery level (%) of ``sensor``'s device.

        None (battery entity unknown/unavailable) and values that are not a
        percentage change nothing.
        """
        require_aware(at)
        watched = self._sensors.get(sensor)
        level = finite_float(percent)
        if watched is None or level is None or not 0.0 <= level <= _BATTERY_MAX_PCT:
            return
        watched.battery = level

    def evaluate(self, now: datetime) -> HealthVerdict:
        """Return the problems at ``now`` and when to look again."""
        require_aware(now)
        problems: dict[str, list[Problem]] = {}
        next_check: datetime | None = None
        for sensor in sorted(self._sensors):
            watched = self._sensors[sensor]
            found: set[Problem] = {_PROBLEM_BY_BIT[bit] for bit in watched.zone_bits}
            if watched.unavailable_since is not None:
                due = watched.unavailable_since + self._config.unavailable_after
                if due <= now:
                    found.add(Problem.UNAVAILABLE)
                elif next_check is None or due < next_check:
                    next_check = due
            if watched.heard is not None and watched.unavailable_since is None:
                # A state change is the device talking too.
                heard = max(watched.heard, watched.last_report or watched.heard)
                due = heard + self._config.not_heard_after
                if due <= now:
                    found.add(Problem.NOT_HEARD)
                elif next_check is None or due < next_check:
                    next_check = due
            if (
                watched.battery is not None
                and watched.battery < self._config.battery_low_pct
            ):
                found.add(Problem.BATTERY_LOW)
            if watched.activity and self._silent(sensor, watched):
                found.add(Problem.SILENT)
            if found:
                problems[sensor] = sorted(found)
        return HealthVerdict(problems=problems, next_check=next_check)

    def _silent(self, sensor: str, watched: _Watched) -> bool:
        threshold = watched.last_seen + self._config.silent_after
        return any(
            other.activity
            and other.last_report is not None
            and other.last_report >= threshold
            for name, other in self._sensors.items()
            if name != sensor
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-serialisable state (ISO timestamps) to persist."""
        return {
            "sensors": {
                sensor: {
                    "activity": watched.activity,
                    "last_seen": to_iso(watched.last_seen),
                    "last_report": to_iso(watched.last_report),
                    "state": watched.state,
                    "unavailable_since": to_iso(watched.unavailable_since),
                    "battery": watched.battery,
                    "zone_bits": sorted(watched.zone_bits),
                    "heard": to_iso(watched.heard),
                }
                for sensor, watched in self._sensors.items()
            }
        }

    @classmethod
    def from_dict(
        cls, data: object, config: HealthConfig | None = None
    ) -> SensorHealth:
        """Rebuild from :meth:`as_dict` output.

        Tolerant: a sensor entry without a usable ``last_seen`` is dropped (the
        glue's ``track`` starts it afresh); other malformed fields fall back to
        "nothing known".
        """
        health = cls(config)
        sensors = data.get("sensors") if isinstance(data, dict) else None
        if not isinstance(sensors, dict):
            return health
        for sensor, entry in sensors.items():
            if not isinstance(sensor, str) or not isinstance(entry, dict):
                continue
            last_seen = from_iso(entry.get("last_seen"))
            if last_seen is None:
                continue
            state = entry.get("state")
            battery = finite_float(entry.get("battery"))
            bits = entry.get("zone_bits")
            health._sensors[sensor] = _Watched(
                activity=entry.get("activity") is True,
                last_seen=last_seen,
                last_report=from_iso(entry.get("last_report")),
                state=state
                if isinstance(state, str) and state not in UNRELIABLE
                else None,
                unavailable_since=from_iso(entry.get("unavailable_since")),
                battery=(
                    battery
                    if battery is not None and 0.0 <= battery <= _BATTERY_MAX_PCT
                    else None
                ),
                zone_bits=(
                    frozenset(
                        bit
                        for bit in bits
                        if isinstance(bit, str) and bit in HEALTH_BITS
                    )
                    if isinstance(bits, list)
                    else frozenset()
                ),
                heard=from_iso(entry.get("heard")),
            )
        return health
