"""What the household's sensors can do: the routine's figures and sensor advice (HA glue).

The computing is pure (``monitor/advice.py``); this module decides when to
compute (the routine's figures at start and once a day; the replay of the
28-day history — the false alarms it gives as installed, and the advice, which
replays it once more per room — at start, when learning ends and once a week;
an entry reloads when its settings change, so they are replayed then too; in an
executor, on copies), shows the figures as attributes of the *Learned routine*
entity and tells the family with a persistent notification in the server's
language (``messages.py``): once when learning ends, then when the advice
changes materially or the replayed false alarms exceed the budget on at least
14 days, at most once a week. Nothing is broken, so it is not a repair issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components import persistent_notification
from homeassistant.helpers import area_registry as ar
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core import messages
from ..core.monitor.advice import (
    Advice,
    ReplayedAlarms,
    advice_as_dict,
    advice_from_dict,
    changed_materially,
    replay_history,
)
from ..core.monitor.history import ActivityHistory
from ..core.monitor.replay import Settings
from ..core.monitor.routine_figures import Figures, routine_figures

if TYPE_CHECKING:
    from .runtime import Household

_LOGGER = logging.getLogger(__name__)

TELL_AT_MOST_EVERY = timedelta(days=7)
# The advice replays 28 days once per candidate room (seconds in a busy home,
# docs/benchmarks.md): weekly, like the notification, not daily like the figures.
# The false alarms come from the same replay as installed.
ADVISE_EVERY = timedelta(days=7)
MOTION_CLASSES = frozenset({"motion", "occupancy", "presence"})


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _minutes(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds() / 60)


class HouseholdInsights:
    """The figures and advice of one household, and what the family was told."""

    def __init__(self, household: Household) -> None:
        """Nothing computed yet."""
        self._household = household
        self.hass = household.hass
        self.history = ActivityHistory()
        self.figures: Figures | None = None
        self.advice: Advice | None = None
        self.alarms: ReplayedAlarms | None = None
        self._computed_on: date | None = None
        self._advised_on: date | None = None
        self._computed_learning = True
        self._running = False
        self._told_learned = False
        self._told_at: datetime | None = None
        self._told_advice: Advice | None = None
        self._told_unreachable = False

    @property
    def notification_id(self) -> str:
        """The family notification's id (one per household, replaced when told again)."""
        return f"{DOMAIN}_advice_{self._household.entry_id}"

    # ------------------------------------------------------------ persistence
    def load(self, history: Any, told: Any) -> None:
        """Restore the history and what was told (malformed parts are dropped)."""
        self.history = ActivityHistory.from_dict(history)
        if not isinstance(told, Mapping):
            return
        self._told_learned = told.get("learned") is True
        self._told_unreachable = told.get("unreachable") is True
        at = told.get("at")
        self._told_at = dt_util.parse_datetime(at) if isinstance(at, str) else None
        self._told_advice = advice_from_dict(told.get("advice"))
        # The last replay of the history (weekly): a restart does not repeat it.
        advised = told.get("advised_on")
        try:
            advised_on = (
                date.fromisoformat(advised) if isinstance(advised, str) else None
            )
        except ValueError:
            advised_on = None
        alarms = ReplayedAlarms.from_dict(told.get("alarms"))
        if advised_on is not None and alarms is not None:
            self._advised_on, self.alarms = advised_on, alarms
            self.advice = advice_from_dict(told.get("last_advice"))

    def told_as_store(self) -> dict[str, Any]:
        """What was told, for the household's Store."""
        return {
            "learned": self._told_learned,
            "unreachable": self._told_unreachable,
            "at": None if self._told_at is None else self._told_at.isoformat(),
            "advice": None
            if self._told_advice is None
            else advice_as_dict(self._told_advice),
            "advised_on": None
            if self._advised_on is None
            else self._advised_on.isoformat(),
            "alarms": None if self.alarms is None else self.alarms.as_dict(),
            "last_advice": None if self.advice is None else advice_as_dict(self.advice),
        }

    # --------------------------------------------------------------- compute
    def due(self, now: datetime) -> bool:
        """Whether the figures are out of date: a new local day, or learning ended."""
        household = self._household
        if self._running or not household.baseline_enabled:
            return False
        learning = household.baseline.learning
        return (
            dt_util.as_local(now).date() != self._computed_on
            or learning != self._computed_learning
        )

    def sensors_per_context(self) -> dict[str, int]:
        """Activity sensors per routine context (room)."""
        counts: dict[str, int] = {}
        household = self._household
        for entity_id in household.activity_sensors:
            context = household.context_of(entity_id) or entity_id
            counts[context] = counts.get(context, 0) + 1
        return counts

    def _candidates(self) -> list[str]:
        """Rooms of the history without a motion/occupancy/presence sensor."""
        household = self._household
        seen: set[str] = set()
        for entity_id in household.activity_sensors:
            state = self.hass.states.get(entity_id)
            if (
                state is not None
                and state.attributes.get("device_class") in MOTION_CLASSES
            ):
                seen.add(household.context_of(entity_id) or entity_id)
        return [room for room in self.history.rooms() if room not in seen]

    async def async_refresh(self, now: datetime) -> None:
        """Recompute the figures (and weekly the advice) in an executor; tell if due."""
        household = self._household
        self._running = True
        try:
            local = dt_util.as_local(now)
            self._computed_on = local.date()
            self._computed_learning = household.baseline.learning
            routine = household.baseline.copy()
            config = household.engine_config
            sensors = self.sensors_per_context()
            self.figures = await self.hass.async_add_executor_job(
                lambda: routine_figures(routine, config.ceiling, local, sensors=sensors)
            )
            if self.figures is None:
                self.advice, self.alarms, self._advised_on = None, None, None
            elif (
                self._advised_on is None
                or local.date() - self._advised_on >= ADVISE_EVERY
            ):
                self._advised_on = local.date()
                history, zone = self.history.copy(), local.tzinfo or dt_util.UTC
                settings = Settings(
                    windows=config.windows,
                    ceiling=config.ceiling,
                    routine=config.routine,
                    away=config.away,
                    learned=config.learned,
                    grace=household.grace,
                )
                rooms = self._candidates()
                found = await self.hass.async_add_executor_job(
                    lambda: replay_history(
                        history.event_log(zone), settings, zone, rooms=rooms
                    )
                )
                self.advice, self.alarms = found.advice, found.alarms
        finally:
            self._running = False
        if not household.started:  # stopped while computing: nothing to tell
            return
        self._tell(now)
        household.insights_changed()

    # ------------------------------------------------------------------ tell
    def _tell(self, now: datetime) -> None:
        figures, alarms = self.figures, self.alarms
        if figures is None:
            return
        over_budget = alarms is not None and alarms.over_budget
        if alarms is not None and alarms.decisive and not over_budget:
            self._told_unreachable = False  # within the budget again: say it anew
        reason = self._reason_to_tell(now, over_budget)
        if reason is None:
            return
        language = self.hass.config.language
        persistent_notification.async_create(
            self.hass,
            self._text(figures, alarms, over_budget, reason == "learned", language),
            title=messages.advice_title(self._household.name, language),
            notification_id=self.notification_id,
        )
        self._told_learned = True
        self._told_at = now
        if self.advice is not None:
            self._told_advice = self.advice
        self._told_unreachable = self._told_unreachable or over_budget
        _LOGGER.debug("Told the family about %s (%s)", self._household.name, reason)

    def _reason_to_tell(self, now: datetime, over_budget: bool) -> str | None:
        """Why the family is told now (None: not now)."""
        recent = self._told_at is not None and now - self._told_at < TELL_AT_MOST_EVERY
        if not self._told_learned:
            return "learned"
        if recent:
            return None
        if changed_materially(self._told_advice, self.advice):
            return "advice"
        if over_budget and not self._told_unreachable:
            return "over budget"
        return None

    def _text(
        self,
        figures: Figures,
        alarms: ReplayedAlarms | None,
        over_budget: bool,
        learned: bool,
        language: str,
    ) -> str:
        """The notification: figures, replayed false alarms, the advice."""
        parts = []
        if learned:
            parts.append(messages.learned_text(self._household.name, language))
        parts.append(
            messages.figures_text(
                _seconds(figures.median),
                _seconds(figures.p90),
                [
                    (self.room_name(spot.context), spot.band)
                    for spot in figures.weak_spots
                ],
                language,
            )
        )
        if alarms is not None:  # counted on the household's own days, never modelled
            parts.append(
                messages.replayed_text(
                    alarms.escalated,
                    alarms.from_ceilings,
                    alarms.days,
                    alarms.per_30_days,
                    language,
                )
            )
            if over_budget:
                parts.append(
                    messages.over_budget_text(alarms.budget, alarms.days, language)
                )
        if self.advice is not None:
            advice = self.advice
            parts.append(
                messages.advice_text(
                    self.room_name(advice.room),
                    (
                        advice.median_before.total_seconds(),
                        advice.median_after.total_seconds(),
                    ),
                    (_seconds(advice.p90_before), _seconds(advice.p90_after)),
                    advice.days,
                    language,
                )
            )
        return "\n\n".join(parts)

    # ------------------------------------------------------------- attributes
    def room_name(self, context: str) -> str:
        """A context (area id, else a sensor) as the family named it."""
        area = ar.async_get(self.hass).async_get_area(context)
        if area is not None:
            return area.name
        state = self.hass.states.get(context)
        if state is not None and (name := state.attributes.get("friendly_name")):
            return str(name)
        return context

    def attributes(self) -> dict[str, Any]:
        """The *Learned routine* entity's figures (none while learning or off)."""
        figures = self.figures
        if figures is None or not self._household.baseline_enabled:
            return {}
        attributes: dict[str, Any] = {}
        if (alarms := self.alarms) is not None:
            # Counted on the household's own replayed days (none: too few yet).
            attributes.update(
                false_alarms_per_30_days=round(alarms.per_30_days, 1),
                from_safety_ceilings_per_30_days=round(alarms.ceiling_per_30_days, 1),
                false_alarms_days=round(alarms.days, 1),
            )
        attributes |= {
            "false_alarm_budget": figures.budget,
            "notice_median_min": _minutes(figures.median),
            "notice_p90_min": _minutes(figures.p90),
            # Room (the family's area name) and start hours; then numbers only.
            "weak_spots": [
                f"{self.room_name(spot.context)} {spot.band.replace('-', '–')}"
                for spot in figures.weak_spots
            ],
            "weak_spot_wait_min": [_minutes(spot.wait) for spot in figures.weak_spots],
            "weak_spot_sensors": [spot.sensors or 0 for spot in figures.weak_spots],
        }
        if self.advice is not None:
            attributes.update(
                advice_room=self.room_name(self.advice.room),
                advice_notice_before_min=_minutes(self.advice.median_before),
                advice_notice_after_min=_minutes(self.advice.median_after),
                advice_notice_p90_before_min=_minutes(self.advice.p90_before),
                advice_notice_p90_after_min=_minutes(self.advice.p90_after),
            )
        return attributes
