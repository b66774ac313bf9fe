"""What the household's sensors can do, told to the family (pure logic, issue 17 item 4).

Each a plain function of what the household already has. The figures of the
learned routine are in :mod:`.routine_figures`; the history replayed here is
kept by :mod:`.history`.

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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from .engine import ORIGIN_CEILING
from .replay import (
    DEFAULT_SEED,
    EventLog,
    LogEvent,
    Replay,
    Score,
    Settings,
    replay,
    score,
)
from .routine_figures import DEFAULT_BUDGET, budget_of

DEFAULT_INTERVAL = timedelta(minutes=30)
DEFAULT_MIN_GAIN = timedelta(minutes=30)
MIN_SCORED_DAYS = 7.0
#: Days after learning the replayed false-alarm rate needs to be shown at all,
#: and to say that the budget is out of reach.
MIN_ALARM_DAYS = 7.0
MIN_TELL_DAYS = 14.0
ADVICE_COLLAPSES = 200


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
