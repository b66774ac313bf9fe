"""Away mode: is the person out, so that inactivity is expected?

Pure logic, no Home Assistant import. Away only ever suppresses *inactivity*;
fire, help calls and temperature risk are never suppressed (the glue must not
consult this tracker for them).

* **Manual away** — a switch. It stays on until switched off; activity does not end
  it (a carer, visitor or pet sitter may move about while the person is in
  hospital or with family). Switching it off ("I'm home") also ends auto-away.
* **Automatic away** (``auto``, on by default; the glue enables it only when a
  front-door sensor is chosen) needs that door sensor: the door opened and then
  closed, and no activity anywhere for ``quiet`` (default 30 min) → away *since
  the door closed*. Any activity at or after the close ends it; so does the door
  opening again (someone is at or through the door).
* **Arrival** — the first door cycle (open, close) that ends an automatic away is
  the person coming home: it starts no quiet period, so a person who collapses
  right after coming in is watched, not taken for gone. A second door cycle
  without any activity in between is a departure again (popped in and out).
* **Cap** — once away has lasted ``max_away`` (default 12 h), ``too_long`` is True,
  for manual and automatic away alike; ``away`` stays True. The glue raises an
  "away too long" warning (someone who closed the door from the inside and
  collapsed before any motion would otherwise be hidden for good).
* **Check** — an automatic away is only inferred (door, then silence), and a
  collapse right after the door closed looks the same. So an inferred outing is
  checked against the person's learned outing lengths: ``check_at`` is the moment
  it has lasted longer than usual — while fewer than ``min_outings`` outings are
  learned, ``check_after`` (default 2 h) after the door closed; then the
  ``outing_quantile`` (default 95 %) of the learned lengths, never earlier than
  ``check_after`` and never later than ``max_away``. The engine turns that moment
  into the inactivity check-in. Manual away is never checked (the family said the
  person is away), nor an outing the presence entity confirms.
* **Outings learned** — every automatic away that ends by a sign of life (the
  door opening, i.e. an arrival, or activity inside) is an outing; its length,
  from the door closing, is learned (longer than ``max_away``: learned as
  ``max_away``, all one knows is that it lasted at least that long). The newest
  ``max_outings`` are kept and persisted with the rest of the state.
* **Presence** (optional: a ``person`` / ``device_tracker`` entity, fed through
  :meth:`AwayTracker.presence`) — an inferred outing needs it to agree. "home":
  the door and the silence are no outing (the person is judged as at home; a
  presence coming home ends an automatic away). Anything else but
  unavailable/unknown (``not_home``, a zone): the outing is confirmed and only the
  cap applies. unavailable/unknown, or no entity: no information — the check.

Feed :meth:`AwayTracker.activity` with activity *onsets* (motion "on"), not with
a PIR falling back to "off" a few minutes after the person walked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .assessment import quantile
from .states import STATE_OFF, STATE_ON, UNRELIABLE, from_iso, require_aware, to_iso

#: :meth:`AwayTracker.presence` values: the person is home / not home.
PRESENCE_HOME = "home"
PRESENCE_AWAY = "not_home"


def presence_of(state: str | None) -> str | None:
    """A ``person``/``device_tracker`` state as presence: home, not home or unknown.

    ``home`` is home; unavailable/unknown/empty tell nothing (None, never away);
    anything else (``not_home``, a zone's name) is not home.
    """
    if not state or state in UNRELIABLE:
        return None
    return PRESENCE_HOME if state == PRESENCE_HOME else PRESENCE_AWAY


@dataclass(frozen=True, kw_only=True, slots=True)
class AwayConfig:
    """Automatic away (on by default), its quiet period, the check and the away cap."""

    auto: bool = True
    quiet: timedelta = timedelta(minutes=30)
    max_away: timedelta = timedelta(hours=12)
    check_after: timedelta = timedelta(hours=2)
    min_outings: int = 5
    outing_quantile: float = 0.95
    max_outings: int = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class AwayState:
    """Away state at one moment.

    ``manual`` is the switch; ``since`` the start of the away period (the earlier of
    the switch and the door close when both apply); ``too_long`` is True once away
    has lasted ``max_away``; ``next_check`` the earliest future moment any of this
    changes without new input (auto-away starting, the check, or the cap being
    reached). ``check_at``: when an inferred outing (automatic, not switched on,
    not confirmed by presence) will have lasted longer than usual (None: no check
    before the cap); ``check_due`` is True once that moment has come.
    """

    away: bool
    manual: bool
    since: datetime | None
    too_long: bool
    next_check: datetime | None
    check_at: datetime | None = None
    check_due: bool = False


class AwayTracker:
    """Combines the manual away switch with door-based automatic away."""

    def __init__(self, config: AwayConfig | None = None) -> None:
        """Create a tracker with ``config`` (defaults when None)."""
        self._config = config or AwayConfig()
        self._manual_since: datetime | None = None
        self._door_opened: datetime | None = None
        self._door_closed: datetime | None = None
        self._last_activity: datetime | None = None
        self._arriving = False
        self._presence: str | None = None
        self._outings: list[int] = []  # seconds, newest last

    @property
    def config(self) -> AwayConfig:
        """Return the settings in use."""
        return self._config

    @property
    def outings(self) -> tuple[timedelta, ...]:
        """The learned outing lengths, oldest first."""
        return tuple(timedelta(seconds=seconds) for seconds in self._outings)

    @property
    def check_after(self) -> timedelta:
        """How long an inferred outing may last before it is checked.

        ``check_after`` while fewer than ``min_outings`` outings are learned; then
        the ``outing_quantile`` of their lengths, never below ``check_after`` (and
        at least ``quiet``). At ``max_away`` or beyond only the cap applies — and
        also when the check would come less than ``check_after`` before the cap:
        the cap pages anyway, and a person whose outings usually last that long is
        out, far more often than not, when such a check would page someone.
        """
        config = self._config
        floor = max(config.check_after, config.quiet)
        if len(self._outings) < config.min_outings:
            return floor
        usual = timedelta(seconds=quantile(self._outings, config.outing_quantile))
        if usual > config.max_away - floor:
            return config.max_away
        return max(floor, usual)

    @property
    def presence_state(self) -> str | None:
        """The presence last fed (``"home"``, ``"not_home"`` or None: no information)."""
        return self._presence

    def presence(self, state: str | None, at: datetime) -> None:
        """The person's presence (a ``person``/``device_tracker`` state) from ``at``.

        "home" while an automatic away is in effect ends it (the person is back);
        see :func:`presence_of` for how states read.
        """
        require_aware(at)
        value = presence_of(state)
        if value == PRESENCE_HOME and self._auto_away(at):
            self._learn_outing(at)
            self._door_closed = None
        self._presence = value

    def _learn_outing(self, end: datetime) -> None:
        """An automatic away (not switched on) ended at ``end``: learn its length."""
        if self._door_closed is None or self._manual_since is not None:
            return
        config = self._config
        length = min(end - self._door_closed, config.max_away)
        self._outings.append(round(length.total_seconds()))
        del self._outings[: max(len(self._outings) - config.max_outings, 0)]

    def set_manual(self, on: bool, now: datetime) -> None:
        """Switch manual away on or off.

        On: away from ``now`` (switching on again keeps the original start).
        Off: the person is home — ends manual away and any automatic away.
        Restore persisted state with :meth:`from_dict`, do not replay this on start-up.
        """
        require_aware(now)
        if on:
            if self._manual_since is None:
                self._manual_since = now
        else:
            self._manual_since = None
            self._door_closed = None

    def door(self, state: str, at: datetime) -> None:
        """Record the chosen door sensor: "on" = open, "off" = closed.

        Other states (unavailable/unknown) are ignored. A close counts only after
        an open was seen, so a door reported closed at start-up starts nothing.
        """
        require_aware(at)
        if state == STATE_ON:
            self._arriving = self._auto_away(at)
            if self._arriving:
                self._learn_outing(at)
            self._door_opened = at
            self._door_closed = None
        elif state == STATE_OFF and self._door_opened is not None:
            self._door_opened = None
            # Coming home starts no quiet period; leaving (or popping out) does.
            self._door_closed = None if self._arriving else at
            self._arriving = False

    def _auto_away(self, at: datetime) -> bool:
        """Whether automatic away is in effect at ``at`` (presence not saying home)."""
        return (
            self._config.auto
            and self._door_closed is not None
            and self._presence != PRESENCE_HOME
            and self._door_closed + self._config.quiet <= at
        )

    def activity(self, at: datetime) -> None:
        """Record activity from any activity sensor (not the door sensor itself).

        Activity at or after the door closed ends automatic away (or its quiet period).
        """
        require_aware(at)
        if self._last_activity is None or at > self._last_activity:
            self._last_activity = at
        if self._door_closed is not None and at >= self._door_closed:
            if self._auto_away(at):
                self._learn_outing(at)
            self._door_closed = None
        if self._door_opened is not None and at >= self._door_opened:
            self._arriving = False

    def evaluate(self, now: datetime) -> AwayState:
        """Return the away state at ``now``."""
        require_aware(now)
        config = self._config
        candidates: list[datetime] = []
        upcoming: list[datetime] = []
        inferred = False
        if self._manual_since is not None:
            candidates.append(self._manual_since)
        if (
            config.auto
            and self._door_closed is not None
            and self._presence != PRESENCE_HOME
        ):
            starts = self._door_closed + config.quiet
            if starts <= now:
                candidates.append(self._door_closed)
                inferred = self._manual_since is None and self._presence is None
            else:
                upcoming.append(starts)
        since = min(candidates) if candidates else None
        too_long = False
        check_at: datetime | None = None
        if since is not None:
            capped = since + config.max_away
            too_long = capped <= now
            if not too_long:
                upcoming.append(capped)
            if inferred and self.check_after < config.max_away:
                check_at = since + self.check_after
                if check_at > now:
                    upcoming.append(check_at)
        return AwayState(
            away=since is not None,
            manual=self._manual_since is not None,
            since=since,
            too_long=too_long,
            next_check=min(upcoming) if upcoming else None,
            check_at=check_at,
            check_due=check_at is not None and check_at <= now and not too_long,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-serialisable state (ISO timestamps) to persist."""
        return {
            "manual_since": to_iso(self._manual_since),
            "door_opened": to_iso(self._door_opened),
            "door_closed": to_iso(self._door_closed),
            "last_activity": to_iso(self._last_activity),
            "arriving": self._arriving,
            "outings": list(self._outings),
        }

    @classmethod
    def from_dict(cls, data: object, config: AwayConfig | None = None) -> AwayTracker:
        """Rebuild from :meth:`as_dict` output.

        Tolerant: malformed fields are dropped, which errs on the safe side (not
        away, so inactivity monitoring stays on). A stored door close that activity
        already followed is dropped as well. State stored before outings were
        learned has none (the short check applies until a few are learned).
        """
        tracker = cls(config)
        if not isinstance(data, dict):
            return tracker
        outings = data.get("outings")
        if isinstance(outings, list):
            tracker._outings = [
                item
                for item in outings
                if isinstance(item, int) and not isinstance(item, bool) and item >= 0
            ][-tracker._config.max_outings :]
        tracker._manual_since = from_iso(data.get("manual_since"))
        tracker._door_opened = from_iso(data.get("door_opened"))
        tracker._last_activity = from_iso(data.get("last_activity"))
        tracker._arriving = (
            data.get("arriving") is True and tracker._door_opened is not None
        )
        closed = from_iso(data.get("door_closed"))
        if (
            closed is not None
            and tracker._door_opened is None
            and (tracker._last_activity is None or tracker._last_activity < closed)
        ):
            tracker._door_closed = closed
        return tracker
