"""The inactivity engine: one detection pipeline for the household and its replay.

Pure logic, no Home Assistant import. Events go in — an activity (with where
it was seen), the front door, the away switch, a restart — and each
:meth:`InactivityEngine.evaluate` gives the verdict, the alarm when one is due
and the next moment worth evaluating again. The household engine
(``core/household/engine.py``) makes these calls from the household's events and the
glue follows ``next_check`` with a timer; the replay (``replay.py``) drives the
same object over an event log and follows the same ``next_check``, so the
numbers it publishes are the product's by construction.

One evaluation, in this order (the only place the order is written down):

1. **Away** — the tracker's state at ``now``. Coming back (away a moment ago,
   not any more) restarts the silence clock at ``now``; it is not a sign of life
   to learn from.
2. **While away** the current gap is not learned (the routine is interrupted)
   and there is no verdict: away only ever pauses inactivity — except that an
   *inferred* outing (automatic away, neither switched on nor confirmed by the
   presence entity) that has lasted longer than the person's usual outings
   (the tracker's ``check_at``; 2 h while few outings are learned) is an ALARM
   with the rule ``away_check``: the household asks first (the inactivity
   check-in) instead of waiting for the 12 h "away too long" cap. A collapse
   right after the door closed looks like an outing; this is what finds it.
3. **Otherwise the silence is judged** by :func:`~.assessment.judge_silence`: the
   learned routine under the fixed ceiling, the fixed windows while learning or
   with learning switched off.
4. **Alarm** — the first ALARM of a silence is its alarm, once, however often
   the silence is evaluated afterwards.
5. **Next check** — the earliest moment at which the away state or the verdict
   changes without new input (auto-away starting, the away cap, a level rising).

An activity is learned as a gap of the routine unless the person was away at
the last evaluation (then the gap is interrupted); the front door's own edges
are read by the away tracker as door edges, not as activity.

**Time.** Every moment passed in must be timezone-aware, and its time zone is
the household's local time (the routine files gaps by local hour and weekday,
the windows are local). Callers pass local times; ``next_check`` and alarm
times come back in the zone of the ``now`` they were computed for.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .assessment import SOURCE_ROUTINE, Assessment, judge_silence
from .away import AwayConfig, AwayState, AwayTracker
from .inactivity import InactivityVerdict, Level, WindowConfig
from .routine import Routine, RoutineConfig
from .states import require_aware

#: The rule of the check of an inferred outing that lasts longer than usual.
SOURCE_AWAY_CHECK = "away_check"

#: What raised an alarm (:attr:`InactivityAlarm.origin`): the learned routine,
#: the safety ceiling over it (6 h / 12 h), the fixed windows (learning, learning
#: off, or no opinion), the check of an inferred outing.
ORIGIN_LEARNED = "learned"
ORIGIN_CEILING = "ceiling"
ORIGIN_WINDOWS = "windows"
ORIGIN_AWAY_CHECK = "away_check"


def ceiling_windows(
    windows: WindowConfig,
    day_alarm: timedelta,
    night_alarm: timedelta,
    warning_before: timedelta,
) -> WindowConfig:
    """The safety ceiling over a learned routine: the fixed rules with longer times.

    Never shorter than the fixed alarm times of ``windows``; each warning comes
    ``warning_before`` ahead of its alarm; the day window is that of ``windows``.
    """
    day = max(day_alarm, windows.day_alarm)
    night = max(night_alarm, windows.night_alarm)
    return WindowConfig(
        day_start=windows.day_start,
        day_end=windows.day_end,
        day_warning=max(day - warning_before, timedelta(0)),
        day_alarm=day,
        night_warning=max(night - warning_before, timedelta(0)),
        night_alarm=night,
    )


#: The ceiling of the shipped defaults (6 h by day, 12 h at any time).
DEFAULT_CEILING = ceiling_windows(
    WindowConfig(),
    day_alarm=timedelta(hours=6),
    night_alarm=timedelta(hours=12),
    warning_before=timedelta(hours=1),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class EngineConfig:
    """What the inactivity detection of one household is configured with.

    ``learned`` False switches the learned routine off: the fixed ``windows``
    always decide. ``routine`` and ``away`` configure the routine and the away
    tracker the engine creates when none is handed in.
    """

    windows: WindowConfig = field(default_factory=WindowConfig)
    ceiling: WindowConfig = DEFAULT_CEILING
    routine: RoutineConfig = field(default_factory=RoutineConfig)
    away: AwayConfig = field(default_factory=AwayConfig)
    learned: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class InactivityAlarm:
    """The alarm of one silence: when it fired, since when it was silent, why.

    ``origin``: which part of the detection raised it (``ORIGIN_*``).
    """

    at: datetime
    since: datetime
    context: str | None
    rule: str | None
    origin: str = ORIGIN_WINDOWS


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    """The outcome of one :meth:`InactivityEngine.evaluate`.

    Attributes:
        at: the moment evaluated.
        away: the away state at ``at``.
        verdict: the verdict on the current silence; None while away.
        assessment: the learned routine's opinion the verdict used (None: fixed
            windows, or away).
        alarm: the silence's alarm when this evaluation raised it, else None.
        next_check: the earliest future moment at which the away state or the
            verdict changes without new input; None when nothing is pending.

    """

    at: datetime
    away: AwayState
    verdict: InactivityVerdict | None
    assessment: Assessment | None
    alarm: InactivityAlarm | None
    next_check: datetime | None


class InactivityEngine:
    """Learned routine, automatic away and fixed windows, driven in one order."""

    __slots__ = (
        "_away_state",
        "_config",
        "_context",
        "_last_activity",
        "_raised_for",
        "away",
        "routine",
    )

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        last_activity: datetime,
        context: str | None = None,
        routine: Routine | None = None,
        away: AwayTracker | None = None,
        raised_for: datetime | None = None,
    ) -> None:
        """Start (or resume, with restored parts) the detection.

        Args:
            config: the settings (the shipped defaults when None).
            last_activity: when the current silence began.
            context: where the person was last seen (the routine's context).
            routine: a restored routine (a fresh one from ``config`` when None).
            away: a restored away tracker (a fresh one from ``config`` when None).
            raised_for: the start of the silence whose alarm was already raised.

        """
        self._config = config or EngineConfig()
        self.routine = routine if routine is not None else Routine(self._config.routine)
        self.away = away if away is not None else AwayTracker(self._config.away)
        self._last_activity = require_aware(last_activity)
        self._context = context
        self._raised_for = raised_for
        self._away_state: AwayState | None = None

    @property
    def config(self) -> EngineConfig:
        """Return the settings."""
        return self._config

    @property
    def last_activity(self) -> datetime:
        """When the current silence began (the last activity, or coming back)."""
        return self._last_activity

    @property
    def context(self) -> str | None:
        """Where the person was last seen."""
        return self._context

    @property
    def raised_for(self) -> datetime | None:
        """The start of the silence whose alarm was raised last."""
        return self._raised_for

    @property
    def is_away(self) -> bool:
        """Whether the last evaluation found the person away."""
        return self._away_state is not None and self._away_state.away

    def restart(self, at: datetime) -> None:
        """The caller was not running before ``at``: the gap across it is not learned."""
        self.routine.interrupt(require_aware(at))

    def activity(
        self, at: datetime, context: str | None = None, *, front_door: bool = False
    ) -> None:
        """A sign of life at ``at`` seen in ``context`` (None: not from a room).

        ``front_door``: the activity is an edge of the front-door sensor itself,
        which the away tracker reads through :meth:`door` instead.
        """
        require_aware(at)
        self._last_activity = at
        self._context = context
        if self.is_away:
            self.routine.interrupt(at)
        else:
            self.routine.record_activity(at, context)
        if not front_door:
            self.away.activity(at)

    def door(self, state: str, at: datetime) -> None:
        """The front door's new state (``"on"`` open, ``"off"`` closed)."""
        self.away.door(state, at)

    def presence(self, state: str | None, at: datetime) -> None:
        """The presence entity's state (``person``/``device_tracker``; None: none chosen)."""
        self.away.presence(state, at)

    def set_away(self, on: bool, at: datetime) -> None:
        """The manual away switch; switching it on interrupts the current gap."""
        self.away.set_manual(on, at)
        if on:
            self.routine.interrupt(require_aware(at))

    def evaluate(self, now: datetime) -> Evaluation:
        """Evaluate at ``now`` (local time) in the order of the module docstring."""
        require_aware(now)
        was_away = self.is_away
        away = self.away.evaluate(now)
        self._away_state = away
        if was_away and not away.away and now > self._last_activity:
            # Back home: the clock restarts now (not a sign of life to learn).
            self._last_activity = now
        verdict: InactivityVerdict | None = None
        assessment: Assessment | None = None
        alarm: InactivityAlarm | None = None
        if away.away:
            self.routine.interrupt(now)
            if away.check_due:
                verdict = InactivityVerdict(
                    level=Level.ALARM,
                    source=SOURCE_AWAY_CHECK,
                    elapsed=max(now - self._last_activity, timedelta(0)),
                    next_check=None,
                )
        else:
            verdict, assessment = judge_silence(
                self.routine if self._config.learned else None,
                self._config.windows,
                self._config.ceiling,
                self._last_activity.astimezone(now.tzinfo),
                self._context,
                now,
            )
        if (
            verdict is not None
            and verdict.level is Level.ALARM
            and self._raised_for != self._last_activity
        ):
            self._raised_for = self._last_activity
            alarm = InactivityAlarm(
                at=now,
                since=self._last_activity,
                context=self._context,
                rule=verdict.source,
                origin=_origin(verdict.source, assessment),
            )
        checks = [
            moment
            for moment in (
                away.next_check,
                None if verdict is None else verdict.next_check,
            )
            if moment is not None
        ]
        return Evaluation(
            at=now,
            away=away,
            verdict=verdict,
            assessment=assessment,
            alarm=alarm,
            next_check=min(checks) if checks else None,
        )

    def fork(self) -> InactivityEngine:
        """An independent copy, to look ahead (a simulated collapse) without changing this one."""
        twin = copy.copy(self)
        twin.routine = self.routine.copy()
        twin.away = copy.copy(self.away)
        return twin


def _origin(rule: str | None, assessment: Assessment | None) -> str:
    """Which part of the detection an alarm with ``rule`` came from."""
    if rule == SOURCE_AWAY_CHECK:
        return ORIGIN_AWAY_CHECK
    if rule == SOURCE_ROUTINE:
        return ORIGIN_LEARNED
    return ORIGIN_WINDOWS if assessment is None else ORIGIN_CEILING
