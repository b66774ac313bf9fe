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
* ``FLAPPING`` — the sensor keeps dropping out and coming back (weak link, failing
  battery), which the unbroken-outage rule never sees. It is raised when either

  - at least ``flapping_outages`` (default 4) outages began within the last
    ``flapping_within`` (default 60 min; start times less than that apart), or
  - the sensor was unavailable for at least ``flapping_share`` (default 25 %) of the
    last ``flapping_share_within`` (default 3 h), over at least two outages (one long
    outage is the ``UNAVAILABLE`` problem, not flapping),

  and it clears once the sensor has been **steady** — available, no outage — for
  ``steady_after`` (default 60 min) *and* neither condition holds any more over the
  windows that end then. The second half keeps a sensor that is out for 25 minutes
  of every 90 flagged the whole time, instead of clearing and raising again (a new
  incident for the family each time). An ongoing outage counts as it goes, and a
  flapping sensor that is out is never steady.

  Only the device's own outages count (``device_dropout``): Home Assistant itself
  writes "unavailable" for every entity while it starts, stops or reloads an
  integration, and a few restarts in an hour are not a flaky sensor. Such an outage
  still counts for ``UNAVAILABLE``, and while it lasts the sensor is not steady.

  Memory is bounded: outages that ended longer ago than the longer window before
  the newest one are dropped (they cannot change any verdict), and at most
  ``outages_kept`` (default 50) are kept; that many within 3 h met the first
  condition long before. Outages and the raised state are persisted with the rest.

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
# The share condition needs this many outages: one long one is "unavailable".
_SHARE_MIN_OUTAGES: Final = 2


class Problem(StrEnum):
    """A sensor-health problem."""

    UNAVAILABLE = "unavailable"
    BATTERY_LOW = "battery_low"
    SILENT = "silent"
    TAMPER = "tamper"
    TROUBLE = "trouble"
    NOT_HEARD = "not_heard"
    FLAPPING = "flapping"


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
    flapping_outages: int = 4
    flapping_within: timedelta = timedelta(minutes=60)
    flapping_share: float = 0.25
    flapping_share_within: timedelta = timedelta(hours=3)
    steady_after: timedelta = timedelta(minutes=60)
    outages_kept: int = 50

    @property
    def flapping_unavailable(self) -> timedelta:
        """Time unavailable within ``flapping_share_within`` that makes a sensor flap."""
        return self.flapping_share_within * self.flapping_share


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthVerdict:
    """Problems per sensor (only sensors with problems; each list sorted).

    ``next_check`` is when to look again: the earliest future moment an ongoing
    outage reaches ``unavailable_after``, a device's last-seen time
    ``not_heard_after``, a flapping sensor may be clear, or an ongoing outage may
    make a sensor flap (a lower bound: looking again then may only schedule the
    next look); None when nothing changes without a new report.
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
    # Whether the ongoing outage (``unavailable_since``) is the device's own.
    dropout: bool = True
    # The device's ended outages (start, end), oldest first, never overlapping.
    outages: list[tuple[datetime, datetime]] = field(default_factory=list)
    # When the flapping rule last started to hold (None: not raised).
    flapping_since: datetime | None = None


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
        self,
        sensor: str,
        state: str,
        at: datetime,
        *,
        zone_status: int | None = None,
        device_dropout: bool = True,
    ) -> None:
        """Record a state of ``sensor`` (untracked sensors are ignored).

        An unreliable state starts an outage (the earliest such ``at`` counts); a
        reliable one ends it and, if it differs from the last reliable state, counts
        as the sensor reporting. ``zone_status`` (IAS ZoneStatus, with reliable states
        only) replaces the sensor's tamper/trouble/battery bits; None or an invalid
        value keeps them. ``device_dropout`` is False for an unreliable state that
        Home Assistant wrote, not the device (starting, stopping, reloading): such an
        outage does not count for the flapping rule.
        """
        require_aware(at)
        watched = self._sensors.get(sensor)
        if watched is None:
            return
        self._settle(watched, at)
        if state in UNRELIABLE:
            if watched.unavailable_since is None:
                watched.unavailable_since = at
                watched.dropout = device_dropout
                if device_dropout:
                    self._latch(watched, at)
            return
        if watched.unavailable_since is not None:
            ended = watched.dropout
            if ended:
                start = self._current_start(watched)
                watched.outages.append((start, max(at, start)))
                self._trim(watched)
            watched.unavailable_since = None
            watched.dropout = True
            if ended:
                self._latch(watched, watched.outages[-1][1])
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
            flapping, change = self._flapping(watched, now)
            if flapping:
                found.add(Problem.FLAPPING)
            if change is not None and (next_check is None or change < next_check):
                next_check = change
            if found:
                problems[sensor] = sorted(found)
        return HealthVerdict(problems=problems, next_check=next_check)

    # ---------------------------------------------------------------- flapping
    @staticmethod
    def _current_start(watched: _Watched) -> datetime:
        """Start of the ongoing outage, never before the last recorded one ended."""
        assert watched.unavailable_since is not None
        if watched.outages:
            return max(watched.unavailable_since, watched.outages[-1][1])
        return watched.unavailable_since

    def _intervals(
        self, watched: _Watched, now: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The device's outages up to ``now``, an ongoing one ending at ``now``."""
        intervals = list(watched.outages)
        if watched.unavailable_since is not None and watched.dropout:
            start = self._current_start(watched)
            intervals.append((start, max(now, start)))
        return intervals

    def _share(
        self, intervals: list[tuple[datetime, datetime]], now: datetime
    ) -> tuple[int, timedelta]:
        """How many outages touch the share window ending at ``now``, and how long."""
        window = now - self._config.flapping_share_within
        touching = [
            (start, end) for start, end in intervals if end > window and start <= now
        ]
        unavailable = sum(
            (min(end, now) - max(start, window) for start, end in touching),
            timedelta(0),
        )
        return len(touching), unavailable

    def _holds(self, watched: _Watched, now: datetime) -> bool:
        """Whether the flapping rule holds at ``now`` (either condition)."""
        config = self._config
        intervals = self._intervals(watched, now)
        recent = sum(
            1
            for start, _end in intervals
            if now - config.flapping_within < start <= now
        )
        if recent >= config.flapping_outages:
            return True
        touching, unavailable = self._share(intervals, now)
        return (
            touching >= _SHARE_MIN_OUTAGES
            and unavailable >= config.flapping_unavailable
        )

    def _latch(self, watched: _Watched, at: datetime) -> None:
        """An outage began or ended at ``at``: note when the rule starts to hold."""
        if watched.flapping_since is None and self._holds(watched, at):
            watched.flapping_since = at

    def _settle(self, watched: _Watched, at: datetime) -> None:
        """Forget a raised flapping rule that had cleared before ``at``."""
        if watched.flapping_since is None:
            return
        clear = self._clear_at(watched)
        if clear is not None and clear <= at:
            watched.flapping_since = None

    def _clear_at(self, watched: _Watched) -> datetime | None:
        """When a raised flapping rule clears if no new outage comes (None: not now).

        The latest of: the end of the steady period after the last outage, the moment
        fewer than ``flapping_outages`` began within ``flapping_within``, and the
        moment the share condition stops holding (the unavailable time in its window
        falls to the threshold, or fewer than two outages touch the window).
        """
        assert watched.flapping_since is not None
        config = self._config
        if watched.unavailable_since is not None:
            return None  # out right now: not steady
        outages = watched.outages
        if not outages:  # only after a damaged store: the steady period alone
            return watched.flapping_since + config.steady_after
        clear = outages[-1][1] + config.steady_after
        if len(outages) >= config.flapping_outages:
            start = outages[-config.flapping_outages][0]
            clear = max(clear, start + config.flapping_within)
        drop = self._share_drop(outages)
        if drop is not None and len(outages) >= _SHARE_MIN_OUTAGES:
            # Fewer than two outages touch the window once it starts where the
            # second newest ended.
            second = outages[-_SHARE_MIN_OUTAGES][1]
            clear = max(clear, min(drop, second + config.flapping_share_within))
        return clear

    def _share_drop(self, outages: list[tuple[datetime, datetime]]) -> datetime | None:
        """When the unavailable time in the share window falls to the threshold.

        With no outage after the last one, a window starting at ``w`` holds what each
        outage has after ``w``: walk the outages from the oldest until dropping one
        whole leaves no more than the threshold, and find the point inside it. None
        when all of them together stay within the threshold.
        """
        config = self._config
        limit = config.flapping_unavailable
        remaining = sum((end - start for start, end in outages), timedelta(0))
        for start, end in outages:
            if remaining <= limit:
                break
            duration = end - start
            if remaining - duration <= limit:
                return start + (remaining - limit) + config.flapping_share_within
            remaining -= duration
        return None

    def _flapping(
        self, watched: _Watched, now: datetime
    ) -> tuple[bool, datetime | None]:
        """Whether ``watched`` flaps at ``now``, and when that may change."""
        if watched.flapping_since is not None:
            clear = self._clear_at(watched)
            if clear is None:
                return True, None  # out right now: changes with a new state only
            if now < clear:
                return True, clear
        if watched.unavailable_since is None or not watched.dropout:
            return False, None
        if self._holds(watched, now):
            return True, None  # the ongoing outage made it (latched when it ends)
        # Out right now: the share condition may come to hold while it lasts. The
        # time still missing is a lower bound (older outages may leave the window).
        intervals = self._intervals(watched, now)
        touching, unavailable = self._share(intervals, now)
        if touching < _SHARE_MIN_OUTAGES:
            return False, None  # older outages only leave the window
        return False, now + (self._config.flapping_unavailable - unavailable)

    def _trim(self, watched: _Watched) -> None:
        """Keep only outages that can still change a verdict, at most ``outages_kept``."""
        config = self._config
        horizon = watched.outages[-1][1] - max(
            config.flapping_within, config.flapping_share_within
        )
        kept = [item for item in watched.outages if item[1] > horizon]
        watched.outages = kept[-max(config.outages_kept, 1) :]

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
                    "dropout": watched.dropout,
                    "outages": [
                        [to_iso(start), to_iso(end)] for start, end in watched.outages
                    ],
                    "flapping_since": to_iso(watched.flapping_since),
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
                dropout=entry.get("dropout") is not False,
                outages=_outages(entry.get("outages")),
                flapping_since=from_iso(entry.get("flapping_since")),
            )
            if health._sensors[sensor].outages:
                health._trim(health._sensors[sensor])
        return health


def _outages(value: object) -> list[tuple[datetime, datetime]]:
    """Stored outages, oldest first; malformed, naive or overlapping ones dropped."""
    if not isinstance(value, list):
        return []
    outages: list[tuple[datetime, datetime]] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            continue
        start, end = from_iso(item[0]), from_iso(item[1])
        if start is None or end is None or end < start:
            continue
        if outages and start < outages[-1][1]:
            continue
        outages.append((start, end))
    return outages
