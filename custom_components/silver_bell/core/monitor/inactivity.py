"""Fixed-window inactivity detection (pure logic, no Home Assistant import).

Two rules watch the time since the last activity:

* The **night rule** counts from the last activity and applies at any time of
  day: ten hours without activity is always an alarm, and an evening collapse
  is not forgotten when the night starts.
* The **day rule** applies to a silence that began inside the day window
  ``[day_start, day_end)`` (local time; a window that wraps midnight is
  allowed), counted from the last activity, and alarms only while that window
  lasts. Someone who has not been active since the night is judged by the night
  rule (or the learned rise time), never by "3 h after 07:00": late risers were
  paged at 10:00 every day (Decision amended 2026-12-07).

While no activity arrives the level only rises: once a rule has crossed a
threshold during the current gap it stays crossed, even after the day window
has closed. ``next_check`` is the exact moment at which the level would rise
next, so a caller can sleep until then.

All arithmetic is done in UTC, so gaps that span a daylight-saving change
have their true length. The time zone of ``now`` defines local time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

SOURCE_DAY = "day"
SOURCE_NIGHT = "night"

_ONE_DAY = timedelta(days=1)


class Level(StrEnum):
    """How worrying the current silence is."""

    OK = "ok"
    WARNING = "warning"
    ALARM = "alarm"

    @property
    def rank(self) -> int:
        """Return a number that orders levels (OK < WARNING < ALARM)."""
        return _RANK[self]


_RANK = {Level.OK: 0, Level.WARNING: 1, Level.ALARM: 2}


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowConfig:
    """Thresholds of the fixed day and night rules.

    ``day_start == day_end`` disables the day rule (only the night rule applies).
    """

    day_start: time = time(7, 0)
    day_end: time = time(22, 0)
    day_warning: timedelta = timedelta(hours=2)
    day_alarm: timedelta = timedelta(hours=3)
    night_warning: timedelta = timedelta(hours=8)
    night_alarm: timedelta = timedelta(hours=10)


@dataclass(frozen=True, kw_only=True, slots=True)
class InactivityVerdict:
    """The outcome of one evaluation.

    Attributes:
        level: OK, WARNING or ALARM.
        source: ``"day"``, ``"night"`` or ``"baseline"``: the rule that reached
            ``level`` first; ``None`` when the level is OK.
        elapsed: ``now - last_activity`` (never negative).
        next_check: the earliest future moment at which the level rises if no
            activity arrives; ``None`` when it cannot rise any further.

    """

    level: Level
    source: str | None
    elapsed: timedelta
    next_check: datetime | None


def local_zone(value: datetime, name: str) -> tzinfo:
    """Return the time zone of ``value``.

    Raises:
        ValueError: ``value`` is a naive datetime.

    """
    zone = value.tzinfo
    if zone is None or value.utcoffset() is None:
        msg = f"{name} must be a timezone-aware datetime"
        raise ValueError(msg)
    return zone


def _day_windows(
    config: WindowConfig, first: date, zone: tzinfo
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the day windows (UTC start, UTC end) that start on ``first`` or later."""
    wraps = config.day_start > config.day_end
    day = first
    while True:
        start = datetime.combine(day, config.day_start, tzinfo=zone)
        end = datetime.combine(
            day + _ONE_DAY if wraps else day, config.day_end, tzinfo=zone
        )
        yield start.astimezone(UTC), end.astimezone(UTC)
        day += _ONE_DAY


def _day_crossings(
    config: WindowConfig, last: datetime, zone: tzinfo, horizon: datetime
) -> dict[Level, datetime]:
    """Return when the day rule first reaches each level during the gap starting at ``last``.

    Only crossings up to ``horizon`` (UTC) are looked for: after the night
    alarm nothing can rise any further.
    """
    crossings: dict[Level, datetime] = {}
    if config.day_start == config.day_end:
        return crossings
    thresholds = ((Level.WARNING, config.day_warning), (Level.ALARM, config.day_alarm))
    # A window that wraps midnight may have started on the previous local day.
    first = last.astimezone(zone).date() - _ONE_DAY
    for start, end in _day_windows(config, first, zone):
        if start > min(horizon, last):
            break
        if end <= last:
            continue
        # The window the silence began in (only a silence begun by day counts).
        for level, threshold in thresholds:
            crossing = last + threshold
            if crossing <= end:
                crossings[level] = crossing
        break
    return crossings


def evaluate_windows(
    config: WindowConfig, last_activity: datetime, now: datetime
) -> InactivityVerdict:
    """Evaluate the fixed day and night rules.

    Args:
        config: the thresholds and the day window.
        last_activity: the last activity seen (timezone-aware).
        now: the current time (timezone-aware); its time zone is the local time
            in which the day window is read.

    Returns:
        The verdict; ``next_check`` is in the time zone of ``now``.

    Raises:
        ValueError: a datetime is naive.

    """
    local_zone(last_activity, "last_activity")
    zone = local_zone(now, "now")
    last = last_activity.astimezone(UTC)
    # A clock that went backwards is treated as "no time has passed".
    current = max(now.astimezone(UTC), last)

    night_alarm_at = last + config.night_alarm
    # Each rule's crossing time per level; the earliest crossing explains a level.
    crossings: list[tuple[datetime, Level, str]] = [
        (last + config.night_warning, Level.WARNING, SOURCE_NIGHT),
        (night_alarm_at, Level.ALARM, SOURCE_NIGHT),
    ]
    # Once the night rule alarms nothing can rise any further.
    crossings.extend(
        (moment, level, SOURCE_DAY)
        for level, moment in _day_crossings(config, last, zone, night_alarm_at).items()
    )
    # Sort by time; on a tie the night rule (listed first) explains the level.
    crossings.sort(key=lambda item: item[0])

    level = Level.OK
    source: str | None = None
    for moment, crossed, rule in crossings:
        if moment <= current and crossed.rank > level.rank:
            level, source = crossed, rule

    upcoming = [
        moment
        for moment, crossed, _ in crossings
        if moment > current and crossed.rank > level.rank
    ]
    next_check = min(upcoming).astimezone(zone) if upcoming else None
    return InactivityVerdict(
        level=level, source=source, elapsed=current - last, next_check=next_check
    )


def alarm_moment(
    config: WindowConfig, last_activity: datetime, now: datetime
) -> datetime:
    """When the fixed rules alarm for the silence that began at ``last_activity``.

    The earlier of the night rule's alarm and the day rule's (read in the time
    zone of ``now``), in UTC.

    Raises:
        ValueError: a datetime is naive.

    """
    local_zone(last_activity, "last_activity")
    zone = local_zone(now, "now")
    last = last_activity.astimezone(UTC)
    night = last + config.night_alarm
    day = _day_crossings(config, last, zone, night).get(Level.ALARM)
    return night if day is None else min(day, night)


def _utc(value: datetime) -> datetime:
    """Return ``value`` in UTC (aware datetimes sharing a zone compare by wall time)."""
    return value.astimezone(UTC)


def combine(*verdicts: InactivityVerdict) -> InactivityVerdict:
    """Combine verdicts of several rules: the highest level wins.

    On a tie the first verdict given wins. ``next_check`` is the earliest
    ``next_check`` of all verdicts, or ``None`` once the combined level is ALARM.

    Raises:
        ValueError: no verdict was given.

    """
    if not verdicts:
        msg = "combine() needs at least one verdict"
        raise ValueError(msg)
    winner = verdicts[0]
    for verdict in verdicts[1:]:
        if verdict.level.rank > winner.level.rank:
            winner = verdict
    checks = [
        verdict.next_check for verdict in verdicts if verdict.next_check is not None
    ]
    next_check = (
        min(checks, key=_utc) if checks and winner.level is not Level.ALARM else None
    )
    return InactivityVerdict(
        level=winner.level,
        source=winner.source,
        elapsed=winner.elapsed,
        next_check=next_check,
    )
