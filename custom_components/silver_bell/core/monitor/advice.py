"""What the household's sensors can do, told to the family (pure logic, issue 17 item 4).

Three parts, each a plain function of what the household already has:

**Figures of the learned routine** (:func:`routine_figures`), at the current
settings, for the *Learned routine* entity:

* *Expected time to notice a collapse* (median, p90). A collapse is taken to
  happen at a random moment between 08:00 and 20:00 (as the replay draws them),
  so it falls inside a silence in proportion to that silence's length, at a
  uniformly random point of it; it is noticed when the silence reaches its
  threshold (at once if the threshold had passed). The threshold is the earlier
  of the routine's alarm point and the fixed safety ceiling's. The distribution
  of that wait over every learned silence gives the median and p90.
* *Weak spots.* The same waiting time, split by last room and time of day (the
  silence's start hour: 07-12, 12-17, 17-22, 22-07): the cells that hold the
  largest share of the expected waiting, with the number of activity sensors in
  the room (long silences after a room with few sensors is what they show).

**The household's own history, replayed** (:func:`replay_history`). The
activity of the last 28 days is replayed through the engine
(:func:`.replay.replay`, the product's detection) as installed:

* *False alarms* (:class:`ReplayedAlarms`): the escalated inactivity alarms the
  replay raised on the history's days after learning (those of the safety
  ceilings counted separately), per 30 days, with the number of days they rest
  on; nothing below ``MIN_ALARM_DAYS`` days. A page at the replay's handover
  from learning (its silence began while learning) is left out: the replay
  learns afresh from the history's first days, the household does not. This is what the family is told,
  not a model's expectation: the tail model of :mod:`.budget`, fitted to a week
  of pooled silences, over-predicted a real home's rate several times over
  (docs/inactivity-evaluation.md). The budget is said to be out of reach only
  when the replayed rate exceeds it on at least ``MIN_TELL_DAYS`` days.
* *Sensor advice* (:func:`sensor_advice`): the same replay once per candidate
  room with one *hypothetical motion sensor*: a sensor in room R is taken to see
  the person every ``interval`` while, by the last-seen room, they are in R —
  from an event in R until the next event anywhere — inside the day window. This
  is optimistic (a real motion sensor does not see someone asleep in a chair),
  so the advice says "about". The room whose sensor shortens the time to notice
  a simulated collapse the most — the median and the p90 reductions summed,
  neither getting later — is the advice, if that sum is at least ``min_gain``
  (the 2.5 h floor holds the median of most homes, so the long waits, the p90,
  are where a sensor shows). With fewer than ``min_scored_days`` days after
  learning in the history, or no such gain, there is no advice.

**History** (:class:`ActivityHistory`): what is replayed, the activity
onsets of the last 28 days with their room, thinned to one per minute per room
and stored compactly (delta-encoded seconds).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import math
from typing import Any

from .engine import ORIGIN_CEILING
from .inactivity import WindowConfig, alarm_moment
from .replay import (
    COLLAPSE_FROM,
    COLLAPSE_HOURS,
    DEFAULT_SEED,
    ROLE_DOOR_CLOSED,
    ROLE_DOOR_OPEN,
    EventLog,
    LogEvent,
    Replay,
    Score,
    Settings,
    replay,
    score,
)
from .routine import HOME, PHASE_DAY, WEEKEND, Routine, RoutineConfig

#: The budget of the Decisions (ARCHITECTURE.md): escalated alarms per 30 days.
DEFAULT_BUDGET = 1.0
#: Time-of-day bands of the weak spots (by the silence's start hour): label, from, to.
BANDS: tuple[tuple[str, int, int], ...] = (
    ("07-12", 7, 12),
    ("12-17", 12, 17),
    ("17-22", 17, 22),
    ("22-07", 22, 7),
)
WEAK_SPOTS = 3
MIN_WEAK_SHARE = 0.1  # a weak spot holds at least this share of the expected waiting
DEFAULT_INTERVAL = timedelta(minutes=30)
DEFAULT_MIN_GAIN = timedelta(minutes=30)
MIN_SCORED_DAYS = 7.0
#: Days after learning the replayed false-alarm rate needs to be shown at all,
#: and to say that the budget is out of reach.
MIN_ALARM_DAYS = 7.0
MIN_TELL_DAYS = 14.0
ADVICE_COLLAPSES = 200
HISTORY_DAYS = 28
HISTORY_SPACING = timedelta(minutes=1)
HISTORY_VERSION = 1
_DAY = 86400.0
_ROLES = ("", ROLE_DOOR_OPEN, ROLE_DOOR_CLOSED)


@dataclass(frozen=True, kw_only=True, slots=True)
class WeakSpot:
    """A room and time of day where a collapse would wait long to be noticed.

    ``share``: its share of the expected waiting of all collapses; ``wait``: the
    mean time to notice a collapse there; ``sensors``: activity sensors in the
    room (None: not known).
    """

    context: str
    band: str
    share: float
    wait: timedelta
    sensors: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Figures:
    """What the learned routine allows at the current settings (see the module docstring).

    ``budget``: the goal of escalated false alarms per 30 days (a setting; the
    rate itself comes from the replayed history, :class:`ReplayedAlarms`).
    """

    budget: float
    median: timedelta | None
    p90: timedelta | None
    weak_spots: tuple[WeakSpot, ...]


@dataclass(slots=True)
class _Segment:
    """Where collapses may fall in one learned silence: u in [low, high] seconds."""

    weight: float
    low: float
    high: float
    limit: float
    cell: tuple[str, str]


def band_of(hour: int) -> str:
    """The weak-spot band of a start hour."""
    for label, start, end in BANDS:
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return label
    msg = f"no band for hour {hour}"  # pragma: no cover - BANDS cover the day
    raise AssertionError(msg)  # pragma: no cover


def _reference_day(today: date, day_type: str) -> date:
    """The latest day up to ``today`` of ``day_type``."""
    day = today
    while (day.weekday() >= 5) != (day_type == WEEKEND):
        day -= timedelta(days=1)
    return day


def _waiting(segments: list[_Segment], limit: float) -> float:
    """Exposure (weight × seconds) of the collapses noticed within ``limit``."""
    return sum(
        item.weight * max(0.0, item.high - max(item.low, item.limit - limit))
        for item in segments
    )


def _quantile(segments: list[_Segment], fraction: float) -> timedelta | None:
    total = sum(item.weight * (item.high - item.low) for item in segments)
    if total <= 0:
        return None
    low, high = 0.0, max(item.limit for item in segments)
    for _ in range(60):
        middle = (low + high) / 2
        if _waiting(segments, middle) >= fraction * total:
            high = middle
        else:
            low = middle
    return timedelta(seconds=round(high))


def _wait_integral(item: _Segment) -> float:
    """The integral of the wait max(limit - u, 0) over the segment."""
    if item.limit <= item.low:
        return 0.0
    end = min(item.high, item.limit)
    return ((item.limit - item.low) ** 2 - (item.limit - end) ** 2) / 2


def budget_of(config: RoutineConfig) -> float:
    """The household's false-alarm budget: the routine's own, else the default."""
    chosen = config.false_alarm_budget
    return DEFAULT_BUDGET if chosen is None else chosen


def routine_figures(
    routine: Routine,
    ceiling: WindowConfig,
    now: datetime,
    *,
    budget: float | None = None,
    sensors: Mapping[str, int] | None = None,
) -> Figures | None:
    """The figures of ``routine`` under the safety ``ceiling`` (None while learning).

    ``now`` is local time (its zone is the household's); ``budget`` defaults to
    the routine's own, else :data:`DEFAULT_BUDGET`; ``sensors`` counts the
    activity sensors per context (for the weak spots).
    """
    if routine.learning:
        return None
    zone = now.tzinfo
    assert zone is not None
    config = routine.config
    night_start = config.day_end.hour * 3600 + config.day_end.minute * 60
    window_from = COLLAPSE_FROM.hour * 3600 + COLLAPSE_FROM.minute * 60
    window = COLLAPSE_HOURS * 3600
    segments: list[_Segment] = []
    for key, days, samples in routine.silences():
        phase, context, day_type, hour = key
        start = datetime.combine(
            _reference_day(now.date(), day_type), time(hour, 30), tzinfo=zone
        )
        assessment = routine.assess(start, context)
        if assessment is None or len(assessment.samples) < 2:  # pragma: no cover
            continue  # after learning the routine always has an opinion
        fixed = alarm_moment(ceiling, start, start) - start.astimezone(UTC)
        limit = min(assessment.alarm_after, fixed)
        begin = hour * 3600 + 1800
        into_night = 0 if phase == PHASE_DAY else (begin - night_start) % 86400
        cell = (context, band_of(hour))
        for value in samples:
            length = value - into_night
            for day in (0, 1):
                low = max(day * _DAY + window_from - begin, 0.0)
                high = min(day * _DAY + window_from + window - begin, float(length))
                if high > low:
                    segments.append(
                        _Segment(1.0 / days, low, high, limit.total_seconds(), cell)
                    )
    return Figures(
        budget=budget_of(config) if budget is None else budget,
        median=_quantile(segments, 0.5),
        p90=_quantile(segments, 0.9),
        weak_spots=_weak_spots(segments, sensors or {}),
    )


def _weak_spots(
    segments: list[_Segment], sensors: Mapping[str, int]
) -> tuple[WeakSpot, ...]:
    waited: dict[tuple[str, str], float] = {}
    exposed: dict[tuple[str, str], float] = {}
    for item in segments:
        waited[item.cell] = waited.get(item.cell, 0.0) + item.weight * _wait_integral(
            item
        )
        exposed[item.cell] = exposed.get(item.cell, 0.0) + item.weight * (
            item.high - item.low
        )
    total = sum(waited.values())
    if total <= 0:
        return ()
    ranked = sorted(
        waited, key=lambda cell: (-waited[cell], sensors.get(cell[0], 0), cell)
    )
    return tuple(
        WeakSpot(
            context=context,
            band=band,
            share=waited[(context, band)] / total,
            wait=timedelta(
                seconds=round(waited[(context, band)] / exposed[(context, band)])
            ),
            sensors=sensors.get(context),
        )
        for context, band in ranked[:WEAK_SPOTS]
        if context != HOME and waited[(context, band)] / total >= MIN_WEAK_SHARE
    )


# ------------------------------------------------------------------ advice
@dataclass(frozen=True, kw_only=True, slots=True)
class Advice:
    """One extra motion sensor and what it would change (replayed on the history)."""

    room: str
    days: float
    median_before: timedelta
    median_after: timedelta
    p90_before: timedelta | None
    p90_after: timedelta | None
    per_30_days_before: float
    per_30_days_after: float

    @property
    def gain(self) -> timedelta:
        """How much sooner a collapse would be noticed (median)."""
        return self.median_before - self.median_after


def _in_window(moment: datetime, start: time, end: time) -> bool:
    clock = moment.time()
    if start == end:
        return True
    return start <= clock < end if start < end else clock >= start or clock < end


def with_motion_sensor(
    log: EventLog,
    room: str,
    *,
    interval: timedelta = DEFAULT_INTERVAL,
    day_start: time = time(7, 0),
    day_end: time = time(22, 0),
) -> EventLog:
    """``log`` with a hypothetical motion sensor in ``room`` (the module's model).

    After each event in ``room`` (not a front-door edge) the sensor fires every
    ``interval`` until the next event, at the moments inside the day window.
    """
    events: list[LogEvent] = []
    for event, following in zip(log.events, [*log.events[1:], None], strict=True):
        events.append(event)
        if following is None or event.room != room or event.door is not None:
            continue
        moment = event.at + interval
        while moment < following.at:
            if _in_window(moment, day_start, day_end):
                events.append(
                    LogEvent(at=moment, sensor="advice.motion", room=room, role="")
                )
            moment += interval
    return EventLog(events=tuple(events), away=log.away)


def _gain(before: Score, after: Score) -> timedelta | None:
    """How much sooner collapses are noticed: median and p90 reductions, summed.

    None when either gets later (by more than rounding), or is unknown.
    """
    if None in (before.median, after.median, before.p90, after.p90):
        return None
    assert before.median is not None and after.median is not None
    assert before.p90 is not None and after.p90 is not None
    median, p90 = before.median - after.median, before.p90 - after.p90
    if min(median, p90) < -timedelta(minutes=5):
        return None
    return median + p90


def _replayed(
    log: EventLog, settings: Settings, zone: tzinfo, collapses: int, seed: int
) -> Score:
    return score(replay(log, settings, zone=zone, collapses=collapses, seed=seed))


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayedAlarms:
    """The escalated false alarms the household's own history gives at its settings.

    ``days``: the history's days after learning that were replayed (what the
    rate rests on); ``escalated``: inactivity alarms on them that ran past the
    check-in (nothing in a real home's history is an emergency);
    ``from_ceilings``: those of them raised by the safety ceilings.
    ``handover``: escalated alarms left out because their silence began while
    the replay was still learning — the replay learns afresh from the history's
    first days, which the household, learned long ago, does not do again.
    """

    days: float
    escalated: int
    from_ceilings: int
    budget: float
    handover: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (for the Store)."""
        return {
            "days": round(self.days, 3),
            "escalated": self.escalated,
            "from_ceilings": self.from_ceilings,
            "budget": self.budget,
            "handover": self.handover,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ReplayedAlarms | None:
        """The alarms of :meth:`as_dict` (None for anything malformed)."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(
                days=float(data["days"]),
                escalated=int(data["escalated"]),
                from_ceilings=int(data["from_ceilings"]),
                budget=float(data["budget"]),
                handover=int(data.get("handover", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def per_30_days(self) -> float:
        """Escalated false alarms per 30 days."""
        return 30 * self.escalated / self.days if self.days > 0 else 0.0

    @property
    def ceiling_per_30_days(self) -> float:
        """Those from the safety ceilings, per 30 days."""
        return 30 * self.from_ceilings / self.days if self.days > 0 else 0.0

    @property
    def decisive(self) -> bool:
        """Whether there are days enough to say the budget is (not) met."""
        return self.days >= MIN_TELL_DAYS

    @property
    def over_budget(self) -> bool:
        """The rate exceeds the budget on enough days to say so to the family."""
        return self.decisive and self.per_30_days > self.budget


def replayed_alarms(
    result: Replay,
    budget: float = DEFAULT_BUDGET,
    *,
    min_days: float = MIN_ALARM_DAYS,
) -> ReplayedAlarms | None:
    """The false alarms of a replay as installed (None on fewer than ``min_days``).

    Counted on the days after the replay's learning, like :func:`.replay.score`,
    except the pages of the handover from learning (see :class:`ReplayedAlarms`).
    """
    days = score(result).days
    if days < min_days:
        return None
    escalated = [alarm for alarm in result.alarms if alarm.escalated]
    steady = [alarm for alarm in escalated if alarm.gap_start >= result.learning_end]
    return ReplayedAlarms(
        days=days,
        escalated=len(steady),
        from_ceilings=sum(alarm.origin == ORIGIN_CEILING for alarm in steady),
        budget=budget,
        handover=len(escalated) - len(steady),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryFindings:
    """What replaying the household's own history shows (see the module docstring)."""

    alarms: ReplayedAlarms | None
    advice: Advice | None


def replay_history(
    log: EventLog,
    settings: Settings,
    zone: tzinfo,
    *,
    rooms: Iterable[str] | None = None,
    interval: timedelta = DEFAULT_INTERVAL,
    min_gain: timedelta = DEFAULT_MIN_GAIN,
    collapses: int = ADVICE_COLLAPSES,
    seed: int = DEFAULT_SEED,
) -> HistoryFindings:
    """Replay the history as installed (false alarms), then per room (advice).

    One replay as installed serves both; the budget is the routine's
    (:func:`budget_of`).
    """
    if not log.events:
        return HistoryFindings(alarms=None, advice=None)
    result = replay(log, settings, zone=zone, collapses=collapses, seed=seed)
    before = score(result)
    return HistoryFindings(
        alarms=replayed_alarms(result, budget_of(settings.routine)),
        advice=_advise(
            log,
            settings,
            zone,
            before,
            rooms=rooms,
            interval=interval,
            min_gain=min_gain,
            min_scored_days=MIN_SCORED_DAYS,
            collapses=collapses,
            seed=seed,
        ),
    )


def sensor_advice(
    log: EventLog,
    settings: Settings,
    zone: tzinfo,
    *,
    rooms: Iterable[str] | None = None,
    interval: timedelta = DEFAULT_INTERVAL,
    min_gain: timedelta = DEFAULT_MIN_GAIN,
    min_scored_days: float = MIN_SCORED_DAYS,
    collapses: int = ADVICE_COLLAPSES,
    seed: int = DEFAULT_SEED,
) -> Advice | None:
    """The one extra motion sensor that shortens the time to notice the most.

    ``rooms``: the candidates (default: every room of the log). None when the
    history has too few days after learning, or no sensor gains ``min_gain``
    (median and p90 reductions summed; see the module docstring).
    """
    if not log.events:
        return None
    return _advise(
        log,
        settings,
        zone,
        _replayed(log, settings, zone, collapses, seed),
        rooms=rooms,
        interval=interval,
        min_gain=min_gain,
        min_scored_days=min_scored_days,
        collapses=collapses,
        seed=seed,
    )


def _advise(
    log: EventLog,
    settings: Settings,
    zone: tzinfo,
    before: Score,
    *,
    rooms: Iterable[str] | None,
    interval: timedelta,
    min_gain: timedelta,
    min_scored_days: float,
    collapses: int,
    seed: int,
) -> Advice | None:
    """:func:`sensor_advice` given the replay as installed (``before``)."""
    if before.days < min_scored_days or before.median is None:
        return None
    candidates = sorted(
        set(rooms)
        if rooms is not None
        else {event.room for event in log.events if event.room}
    )
    best: tuple[timedelta, Score, str] | None = None
    day = settings.windows
    for room in candidates:
        after = _replayed(
            with_motion_sensor(
                log,
                room,
                interval=interval,
                day_start=day.day_start,
                day_end=day.day_end,
            ),
            settings,
            zone,
            collapses,
            seed,
        )
        gain = _gain(before, after)
        if gain is not None and (best is None or gain > best[0]):
            best = (gain, after, room)
    if best is None or best[0] < min_gain:
        return None
    _, after, room = best
    assert before.median is not None and after.median is not None
    return Advice(
        room=room,
        days=before.days,
        median_before=before.median,
        median_after=after.median,
        p90_before=before.p90,
        p90_after=after.p90,
        per_30_days_before=before.escalated_per_30_days,
        per_30_days_after=after.escalated_per_30_days,
    )


def changed_materially(old: Advice | None, new: Advice | None) -> bool:
    """Whether new advice is worth telling again: another room, or a time 30 min apart."""
    if new is None:
        return False
    if old is None or old.room != new.room:
        return True
    moved = [
        abs(old.median_after - new.median_after),
        abs(old.median_before - new.median_before),
    ]
    if old.p90_after is not None and new.p90_after is not None:
        moved.append(abs(old.p90_after - new.p90_after))
    return max(moved) >= DEFAULT_MIN_GAIN


def advice_as_dict(advice: Advice) -> dict[str, Any]:
    """A JSON-serialisable form (for the Store)."""
    return {
        "room": advice.room,
        "days": round(advice.days, 2),
        "median_before": round(advice.median_before.total_seconds()),
        "median_after": round(advice.median_after.total_seconds()),
        "p90_before": None
        if advice.p90_before is None
        else round(advice.p90_before.total_seconds()),
        "p90_after": None
        if advice.p90_after is None
        else round(advice.p90_after.total_seconds()),
        "per_30_days_before": round(advice.per_30_days_before, 2),
        "per_30_days_after": round(advice.per_30_days_after, 2),
    }


def advice_from_dict(data: Any) -> Advice | None:
    """The advice of :func:`advice_as_dict` (None for anything malformed)."""
    if not isinstance(data, Mapping):
        return None

    def seconds(name: str) -> timedelta | None:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=value)
        return None

    def number(name: str) -> float | None:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None

    room = data.get("room")
    before, after = seconds("median_before"), seconds("median_after")
    days = number("days")
    rate_before, rate_after = number("per_30_days_before"), number("per_30_days_after")
    if (
        not isinstance(room, str)
        or before is None
        or after is None
        or days is None
        or rate_before is None
        or rate_after is None
    ):
        return None
    return Advice(
        room=room,
        days=days,
        median_before=before,
        median_after=after,
        p90_before=seconds("p90_before"),
        p90_after=seconds("p90_after"),
        per_30_days_before=rate_before,
        per_30_days_after=rate_after,
    )


# ------------------------------------------------------------------ history
class ActivityHistory:
    """The activity onsets of the last ``days`` days with their room (bounded).

    An activity in the same room less than ``spacing`` after the last one kept
    is dropped (the silence it ends is shorter than any the routine learns);
    a front-door edge is always kept.
    """

    __slots__ = ("_days", "_events", "_spacing")

    def __init__(
        self, days: int = HISTORY_DAYS, spacing: timedelta = HISTORY_SPACING
    ) -> None:
        """An empty history."""
        self._days = days
        self._spacing = spacing.total_seconds()
        # (UTC epoch s, room, role), oldest first; old ones leave at the left.
        self._events: deque[tuple[int, str, str]] = deque()

    def __len__(self) -> int:
        """The number of events kept."""
        return len(self._events)

    def add(self, at: datetime, room: str | None, role: str = "") -> None:
        """Record an activity at ``at`` (aware) in ``room``; ``role`` a door edge."""
        if role not in _ROLES:
            msg = f"unknown role {role!r}"
            raise ValueError(msg)
        moment = math.floor(at.timestamp())
        room = room or ""
        if self._events:
            last, last_room, last_role = self._events[-1]
            if moment < last:
                return
            if (
                not role
                and not last_role
                and room == last_room
                and moment - last < self._spacing
            ):
                return
        self._events.append((moment, room, role))
        horizon = moment - self._days * 86400
        while self._events[0][0] < horizon:
            self._events.popleft()

    @property
    def days(self) -> float:
        """The days the history spans."""
        if not self._events:
            return 0.0
        return (self._events[-1][0] - self._events[0][0]) / _DAY

    def copy(self) -> ActivityHistory:
        """An independent copy (to read in another thread while this one grows)."""
        twin = ActivityHistory(self._days)
        twin._spacing = self._spacing
        twin._events = deque(self._events)
        return twin

    def rooms(self) -> list[str]:
        """The rooms of the history (not the empty one), sorted."""
        return sorted({room for _, room, _ in self._events if room})

    def event_log(self, zone: tzinfo) -> EventLog:
        """The history as an event log in the local time ``zone`` (for the replay)."""
        return EventLog(
            events=tuple(
                LogEvent(
                    at=datetime.fromtimestamp(moment, zone),
                    sensor=f"history.{room or 'home'}",
                    room=room,
                    role=role,
                )
                for moment, room, role in self._events
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """Compact JSON: rooms once, then per event the seconds since the previous one."""
        rooms: dict[str, int] = {}
        deltas: list[int] = []
        codes: list[int] = []
        previous = self._events[0][0] if self._events else 0
        for moment, room, role in self._events:
            deltas.append(moment - previous)
            previous = moment
            codes.append(rooms.setdefault(room, len(rooms)) * 3 + _ROLES.index(role))
        return {
            "version": HISTORY_VERSION,
            "start": self._events[0][0] if self._events else None,
            "rooms": list(rooms),
            "t": deltas,
            "r": codes,
        }

    @classmethod
    def from_dict(
        cls,
        data: Any,
        days: int = HISTORY_DAYS,
        spacing: timedelta = HISTORY_SPACING,
    ) -> ActivityHistory:
        """Restore :meth:`as_dict`; anything malformed gives an empty history."""
        history = cls(days, spacing)
        if not isinstance(data, Mapping) or data.get("version") != HISTORY_VERSION:
            return history
        start, rooms = data.get("start"), data.get("rooms")
        deltas, codes = data.get("t"), data.get("r")
        if (
            not isinstance(start, int)
            or not isinstance(rooms, list)
            or not all(isinstance(room, str) for room in rooms)
            or not isinstance(deltas, list)
            or not isinstance(codes, list)
            or len(deltas) != len(codes)
        ):
            return history
        moment = start
        events: list[tuple[int, str, str]] = []
        for delta, code in zip(deltas, codes, strict=True):
            if (
                not isinstance(delta, int)
                or not isinstance(code, int)
                or delta < 0
                or not 0 <= code < 3 * len(rooms)
            ):
                return history
            moment += delta
            events.append((moment, rooms[code // 3], _ROLES[code % 3]))
        history._events = deque(events)
        return history
