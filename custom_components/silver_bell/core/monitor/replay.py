"""Replay a home's sensor history through the inactivity engine (pure logic).

Used by ``scripts/evaluate_baseline`` and the replay tests. The replay drives
:class:`~.engine.InactivityEngine`, the object the household glue drives: each
event is fed as the glue feeds an activity (the front door's edges also as door
edges) and evaluated at once, and between events the engine is evaluated at each
``next_check`` it gives, as the glue's timer does. The alarms, their times and
the away decisions are therefore the product's.

**Event log format** (``docs/inactivity-evaluation.md``; written by
``scripts/export_history``). UTF-8 text, ``#`` starts a comment line::

    2024-05-01T07:12:03+08:00,binary_sensor.kitchen_motion,Kitchen
    2024-05-01T07:40:10+08:00,binary_sensor.front_door,Hallway,door_open
    2024-05-01T07:40:25+08:00,binary_sensor.front_door,Hallway,door_closed
    away,2024-05-01T08:00:00+08:00,2024-05-01T11:30:00+08:00

One line per activity: ISO timestamp with UTC offset, sensor id, room (may be
empty) and an optional role: ``door_open`` / ``door_closed`` for the front-door
sensor (both also count as activity). ``away`` lines give known absences; they
are used only to score (alarms during them are reported), never to suppress.

**Scoring.** Nothing in a real log is an emergency, so every inactivity alarm is
false. An alarm *escalates* (leaves the home) when no activity follows before
its check-in grace period ends (the incident book's rule). An alarm counts on
the day it fires, whenever its silence began: every alarm that fires after
learning ends is counted, including one whose silence began while learning.
Collapses are simulated: the stream is cut at random daytime moments when the
person is at home, a copy of the engine is followed from there, and the time to
the alarm (or to the away cap) is measured. ``score`` scores any set of days,
so parameters can be fitted on some days and reported on others.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
import csv
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import math
import random

from .engine import (
    ORIGIN_AWAY_CHECK,
    ORIGIN_CEILING,
    ORIGIN_LEARNED,
    ORIGIN_WINDOWS,
    SOURCE_AWAY_CHECK,
    EngineConfig,
    InactivityAlarm,
    InactivityEngine,
)
from .inactivity import Level
from .routine import Routine
from .states import STATE_OFF, STATE_ON

ROLE_DOOR_OPEN = "door_open"
ROLE_DOOR_CLOSED = "door_closed"
ROLES = ("", "activity", ROLE_DOOR_OPEN, ROLE_DOOR_CLOSED)
DEFAULT_GRACE = timedelta(minutes=10)
COLLAPSE_FROM = time(8, 0)
COLLAPSE_HOURS = 12
COLLAPSE_HORIZON = timedelta(hours=24)
DEFAULT_COLLAPSES = 400
DEFAULT_SEED = 2008


class LogFormatError(ValueError):
    """A line of an event log is malformed (the message names the line)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LogEvent:
    """One activity of the log."""

    at: datetime
    sensor: str
    room: str = ""
    role: str = ""

    @property
    def door(self) -> str | None:
        """``"on"``/``"off"`` for a front-door edge, else None."""
        if self.role == ROLE_DOOR_OPEN:
            return STATE_ON
        if self.role == ROLE_DOOR_CLOSED:
            return STATE_OFF
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class EventLog:
    """A parsed event log: time-ordered events and the known absences."""

    events: tuple[LogEvent, ...]
    away: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def has_door(self) -> bool:
        """Whether the log has a front-door sensor."""
        return any(event.door is not None for event in self.events)


def _moment(text: str, line: int) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as err:
        msg = f"line {line}: {text.strip()!r} is not an ISO timestamp"
        raise LogFormatError(msg) from err
    if moment.utcoffset() is None:
        msg = f"line {line}: {text.strip()!r} has no UTC offset"
        raise LogFormatError(msg)
    return moment


def parse_event_log(lines: Iterable[str]) -> EventLog:
    """Parse the event log format described in the module docstring.

    Raises:
        LogFormatError: a line is malformed; the message names the line.

    """
    events: list[LogEvent] = []
    away: list[tuple[datetime, datetime]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        # CSV: a room with a comma in its name is quoted.
        fields = [part.strip() for part in next(csv.reader([line]))]
        if fields[0] == "away":
            if len(fields) != 3:
                msg = f"line {number}: an away line is away,START,END"
                raise LogFormatError(msg)
            start, end = _moment(fields[1], number), _moment(fields[2], number)
            if end <= start:
                msg = f"line {number}: the away period ends before it starts"
                raise LogFormatError(msg)
            away.append((start, end))
            continue
        if len(fields) not in (3, 4) or not fields[1]:
            msg = f"line {number}: expected timestamp,sensor,room[,role]"
            raise LogFormatError(msg)
        role = fields[3] if len(fields) == 4 else ""
        if role not in ROLES:
            msg = f"line {number}: unknown role {role!r} (door_open, door_closed)"
            raise LogFormatError(msg)
        events.append(
            LogEvent(
                at=_moment(fields[0], number),
                sensor=fields[1],
                room=fields[2],
                role="" if role == "activity" else role,
            )
        )
    events.sort(key=lambda event: event.at.astimezone(UTC))
    away.sort()
    return EventLog(events=tuple(events), away=tuple(away))


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings(EngineConfig):
    """What the household is configured with: the engine's settings and the check-in time."""

    grace: timedelta = DEFAULT_GRACE


@dataclass(frozen=True, kw_only=True, slots=True)
class Alarm:
    """One inactivity alarm raised during the replay.

    ``origin``: what raised it (the engine's ``ORIGIN_*``: learned routine,
    safety ceiling, fixed windows, check of an inferred outing).
    """

    gap_start: datetime
    at: datetime
    room: str
    rule: str | None
    escalated: bool
    during_known_absence: bool
    origin: str = ORIGIN_WINDOWS


@dataclass(frozen=True, kw_only=True, slots=True)
class Silence:
    """One gap between two events of the log, as the product saw it.

    ``away_from``: when automatic away began during it (None: the person was
    taken to be at home throughout).
    """

    start: datetime
    end: datetime
    room: str
    away_from: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Collapse:
    """One simulated collapse and when it was detected.

    ``since`` and ``room``: the last activity before it and where it was seen;
    ``away_from``: when automatic away began after the last activity (None:
    never within the horizon); ``capped``: when the away cap was reached;
    ``checked``: when the check of the inferred outing alarmed (None: it did
    not); ``rule``: the rule of the alarm that detected it (None: no alarm).
    """

    at: datetime
    detected: datetime | None
    by_away_cap: bool
    since: datetime
    room: str
    away_from: datetime | None = None
    capped: datetime | None = None
    checked: datetime | None = None
    rule: str | None = None

    @property
    def by_away_check(self) -> bool:
        """Noticed only by the check of an inferred outing (taken for one)."""
        return self.rule == SOURCE_AWAY_CHECK

    @property
    def delay(self) -> timedelta | None:
        """Time from the collapse to the alarm (None: not within 24 h)."""
        return None if self.detected is None else self.detected - self.at


@dataclass(frozen=True, kw_only=True, slots=True)
class Replay:
    """Everything one replay produced; score it with :func:`score`."""

    first: datetime
    last: datetime
    learning_end: datetime
    zone: tzinfo
    grace: timedelta
    alarms: tuple[Alarm, ...]
    away_too_long: tuple[datetime, ...]
    collapses: tuple[Collapse, ...]
    absences: tuple[tuple[datetime, datetime], ...]
    silences: tuple[Silence, ...]
    routine: Routine


@dataclass(frozen=True, kw_only=True, slots=True)
class Score:
    """False alarms and detection delays over a set of scored days."""

    days: float
    alarms: int
    escalated: int
    escalated_per_30_days: float
    during_known_absence: int
    away_too_long: int
    collapses: int
    median: timedelta | None
    p90: timedelta | None
    worst: timedelta | None
    never: int
    by_away_cap: int
    escalated_learned: int = 0
    escalated_ceiling: int = 0
    escalated_windows: int = 0
    escalated_away_check: int = 0
    by_away_check: int = 0


def _inside(moment: datetime, periods: Sequence[tuple[datetime, datetime]]) -> bool:
    index = bisect_right(periods, (moment, moment))
    return any(
        start <= moment < end for start, end in periods[max(index - 1, 0) : index + 1]
    )


class _Driver:
    """Drives the engine over the log as the household glue does, and records."""

    def __init__(
        self,
        engine: InactivityEngine,
        zone: tzinfo,
        *,
        learning_end: datetime,
        grace: timedelta,
        known_away: Sequence[tuple[datetime, datetime]],
    ) -> None:
        self.engine = engine
        self.zone = zone
        self.learning_end = learning_end
        self.grace = grace
        self.known_away = known_away
        self.pending: datetime | None = None  # the glue's timer
        self.raised: InactivityAlarm | None = None  # this silence's alarm
        self.away_from: datetime | None = None  # when away began in this silence
        self.too_long = False
        self.alarms: list[Alarm] = []
        self.capped: list[datetime] = []
        self.silences: list[Silence] = []

    def _evaluate(self, now: datetime) -> None:
        evaluation = self.engine.evaluate(now)
        self.pending = evaluation.next_check
        if evaluation.alarm is not None:
            self.raised = evaluation.alarm
        if evaluation.away.away and self.away_from is None:
            self.away_from = now
        if evaluation.away.too_long and not self.too_long and now >= self.learning_end:
            self.capped.append(now)
        self.too_long = evaluation.away.too_long

    def run_until(self, until: datetime) -> None:
        """Follow the timer up to (not including) ``until``."""
        while self.pending is not None and self.pending < until:
            self._evaluate(self.pending)

    def feed(self, event: LogEvent) -> None:
        """One event, as the glue feeds an activity (the door: also a door edge)."""
        at = event.at.astimezone(self.zone)
        alarm = self.raised
        if alarm is not None and alarm.at >= self.learning_end:
            self.alarms.append(
                Alarm(
                    gap_start=alarm.since,
                    at=alarm.at,
                    room=alarm.context or "",
                    rule=alarm.rule,
                    # The check-in cancels it only before its grace period ends.
                    escalated=at >= alarm.at + self.grace,
                    during_known_absence=_inside(alarm.at, self.known_away),
                    origin=alarm.origin,
                )
            )
        self.silences.append(
            Silence(
                start=self.engine.last_activity,
                end=at,
                room=self.engine.context or "",
                away_from=self.away_from,
            )
        )
        self.raised = self.away_from = None
        self.engine.activity(at, event.room, front_door=event.door is not None)
        if event.door is not None:
            self.engine.door(event.door, at)
        self._evaluate(at)

    def collapse(self, moment: datetime) -> Collapse:
        """Cut the stream at ``moment``: follow a copy of the engine for 24 h."""
        twin = self.engine.fork()
        horizon = moment + COLLAPSE_HORIZON
        alarm_at: datetime | None = None
        rule: str | None = None
        away_from, capped = self.away_from, None
        now = moment.astimezone(self.zone)
        while True:
            evaluation = twin.evaluate(now)
            verdict = evaluation.verdict
            if (
                alarm_at is None
                and verdict is not None
                and verdict.level is Level.ALARM
            ):
                alarm_at, rule = now, verdict.source
            if evaluation.away.away and away_from is None:
                away_from = now
            if evaluation.away.too_long:
                capped = now
                break
            if evaluation.next_check is None or evaluation.next_check >= horizon:
                break
            now = evaluation.next_check
        return Collapse(
            at=moment,
            detected=alarm_at if alarm_at is not None else capped,
            by_away_cap=alarm_at is None and capped is not None,
            since=twin.last_activity,
            room=twin.context or "",
            away_from=away_from,
            capped=capped,
            checked=alarm_at if rule == SOURCE_AWAY_CHECK else None,
            rule=rule,
        )


def collapse_moments(
    log: EventLog,
    not_before: datetime,
    zone: tzinfo,
    absences: Sequence[tuple[datetime, datetime]],
    *,
    count: int,
    seed: int,
) -> list[datetime]:
    """Draw ``count`` reproducible daytime moments (08:00-20:00) when the person is home."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not cryptography
    last = log.events[-1].at
    first_day = not_before.astimezone(zone).date()
    days = [
        date.fromordinal(ordinal)
        for ordinal in range(
            first_day.toordinal(), last.astimezone(zone).date().toordinal() + 1
        )
    ]
    moments: list[datetime] = []
    for _ in range(count * 200):
        if len(moments) == count or not days:
            break
        day = rng.choice(days)
        offset = timedelta(seconds=rng.randrange(COLLAPSE_HOURS * 3600))
        moment = (
            datetime.combine(day, COLLAPSE_FROM, tzinfo=zone).astimezone(UTC) + offset
        ).astimezone(zone)
        if not_before <= moment < last and not _inside(moment, absences):
            moments.append(moment)
    moments.sort()
    return moments


def door_absences(log: EventLog, quiet: timedelta) -> list[tuple[datetime, datetime]]:
    """Absences by the door rule: a door edge, then ``quiet`` without any event."""
    events = log.events
    return [
        (before.at, after.at)
        for before, after in zip(events, events[1:], strict=False)
        if before.door is not None and after.at - before.at >= quiet
    ]


def replay(
    log: EventLog,
    settings: Settings | None = None,
    *,
    zone: tzinfo | None = None,
    collapses: int = DEFAULT_COLLAPSES,
    seed: int = DEFAULT_SEED,
) -> Replay:
    """Replay ``log`` through the household's inactivity engine."""
    settings = settings or Settings()
    if not log.events:
        msg = "the event log has no events"
        raise LogFormatError(msg)
    if not log.has_door:
        # Without a door sensor the household cannot use automatic away.
        settings = replace(settings, away=replace(settings.away, auto=False))
    events = log.events
    zone = zone or events[0].at.tzinfo or UTC
    first, last = events[0].at, events[-1].at
    learning_end = first + timedelta(days=settings.routine.learning_days)
    absences = list(log.away) or (
        door_absences(log, settings.away.quiet) if settings.away.auto else []
    )
    moments = collapse_moments(
        log, learning_end, zone, absences, count=collapses, seed=seed
    )
    driver = _Driver(
        InactivityEngine(settings, last_activity=first.astimezone(zone)),
        zone,
        learning_end=learning_end,
        grace=settings.grace,
        known_away=log.away,
    )
    results: list[Collapse] = []
    index = 0
    driver.feed(events[0])
    driver.silences.clear()  # the "silence" before the first event is not one
    for event in events[1:]:
        # Simulated collapses before this event: the stream is cut there.
        while index < len(moments) and moments[index] <= event.at:
            driver.run_until(moments[index])
            results.append(driver.collapse(moments[index]))
            index += 1
        driver.run_until(event.at)
        driver.feed(event)
    return Replay(
        first=first,
        last=last,
        learning_end=learning_end,
        zone=zone,
        grace=settings.grace,
        alarms=tuple(driver.alarms),
        away_too_long=tuple(driver.capped),
        collapses=tuple(results),
        absences=tuple(absences),
        silences=tuple(driver.silences),
        routine=driver.engine.routine,
    )


def _percentile(
    values: Sequence[timedelta | None], fraction: float
) -> timedelta | None:
    """Nearest-rank percentile; None (never) sorts last."""
    if not values:
        return None
    ordered = sorted(values, key=lambda value: (value is None, value or timedelta()))
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def score(result: Replay, days: Iterable[date] | None = None) -> Score:
    """Score the replay over the given local days (default: every day after learning)."""
    zone = result.zone
    start_day = result.learning_end.astimezone(zone).date()
    end_day = result.last.astimezone(zone).date()
    chosen = (
        set(days)
        if days is not None
        else {
            date.fromordinal(ordinal)
            for ordinal in range(start_day.toordinal(), end_day.toordinal() + 1)
        }
    )

    def scored(moment: datetime) -> bool:
        return (
            moment >= result.learning_end and moment.astimezone(zone).date() in chosen
        )

    span = timedelta()
    for day in chosen:
        begin = max(datetime.combine(day, time(0), tzinfo=zone), result.learning_end)
        end = min(
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone), result.last
        )
        if end > begin:
            span += end - begin
    day_count = span / timedelta(days=1)
    # An alarm counts on the day it fires, whenever its silence began.
    alarms = [alarm for alarm in result.alarms if scored(alarm.at)]
    escalated = [alarm for alarm in alarms if alarm.escalated]
    collapses = [item for item in result.collapses if scored(item.at)]
    delays = [item.delay for item in collapses]
    return Score(
        days=day_count,
        alarms=len(alarms),
        escalated=len(escalated),
        escalated_per_30_days=len(escalated) * 30 / day_count if day_count else 0.0,
        during_known_absence=sum(alarm.during_known_absence for alarm in alarms),
        away_too_long=sum(scored(moment) for moment in result.away_too_long),
        collapses=len(collapses),
        median=_percentile(delays, 0.5),
        p90=_percentile(delays, 0.9),
        worst=max((delay for delay in delays if delay is not None), default=None),
        never=sum(delay is None for delay in delays),
        by_away_cap=sum(item.by_away_cap for item in collapses),
        escalated_learned=sum(a.origin == ORIGIN_LEARNED for a in escalated),
        escalated_ceiling=sum(a.origin == ORIGIN_CEILING for a in escalated),
        escalated_windows=sum(a.origin == ORIGIN_WINDOWS for a in escalated),
        escalated_away_check=sum(a.origin == ORIGIN_AWAY_CHECK for a in escalated),
        by_away_check=sum(item.by_away_check for item in collapses),
    )


def halves(result: Replay) -> tuple[list[date], list[date]]:
    """Split the log's days into a first and a second half (by calendar day)."""
    zone = result.zone
    first = result.first.astimezone(zone).date()
    last = result.last.astimezone(zone).date()
    days = [
        date.fromordinal(ordinal)
        for ordinal in range(first.toordinal(), last.toordinal() + 1)
    ]
    middle = len(days) // 2
    return days[:middle], days[middle:]
