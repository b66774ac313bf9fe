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

Feed :meth:`AwayTracker.activity` with activity *onsets* (motion "on"), not with
a PIR falling back to "off" a few minutes after the person walked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .states import STATE_OFF, STATE_ON, from_iso, require_aware, to_iso


@dataclass(frozen=True, kw_only=True, slots=True)
class AwayConfig:
    """Automatic away (on by default), its quiet period and the away cap."""

    auto: bool = True
    quiet: timedelta = timedelta(minutes=30)
    max_away: timedelta = timedelta(hours=12)


@dataclass(frozen=True, kw_only=True, slots=True)
class AwayState:
    """Away state at one moment.

    ``manual`` is the switch; ``since`` the start of the away period (the earlier of
    the switch and the door close when both apply); ``too_long`` is True once away
    has lasted ``max_away``; ``next_check`` the earliest future moment any of this
    changes without new input (auto-away starting, or the cap being reached).
    """

    away: bool
    manual: bool
    since: datetime | None
    too_long: bool
    next_check: datetime | None


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

    @property
    def config(self) -> AwayConfig:
        """Return the settings in use."""
        return self._config

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
            self._door_opened = at
            self._door_closed = None
        elif state == STATE_OFF and self._door_opened is not None:
            self._door_opened = None
            # Coming home starts no quiet period; leaving (or popping out) does.
            self._door_closed = None if self._arriving else at
            self._arriving = False

    def _auto_away(self, at: datetime) -> bool:
        """Whether automatic away is in effect at ``at``."""
        return (
            self._config.auto
            and self._door_closed is not None
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
            self._door_closed = None
        if self._door_opened is not None and at >= self._door_opened:
            self._arriving = False

    def evaluate(self, now: datetime) -> AwayState:
        """Return the away state at ``now``."""
        require_aware(now)
        candidates: list[datetime] = []
        next_check: datetime | None = None
        if self._manual_since is not None:
            candidates.append(self._manual_since)
        if self._config.auto and self._door_closed is not None:
            starts = self._door_closed + self._config.quiet
            if starts <= now:
                candidates.append(self._door_closed)
            else:
                next_check = starts
        since = min(candidates) if candidates else None
        too_long = False
        if since is not None:
            capped = since + self._config.max_away
            too_long = capped <= now
            if not too_long and (next_check is None or capped < next_check):
                next_check = capped
        return AwayState(
            away=since is not None,
            manual=self._manual_since is not None,
            since=since,
            too_long=too_long,
            next_check=next_check,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-serialisable state (ISO timestamps) to persist."""
        return {
            "manual_since": to_iso(self._manual_since),
            "door_opened": to_iso(self._door_opened),
            "door_closed": to_iso(self._door_closed),
            "last_activity": to_iso(self._last_activity),
            "arriving": self._arriving,
        }

    @classmethod
    def from_dict(cls, data: object, config: AwayConfig | None = None) -> AwayTracker:
        """Rebuild from :meth:`as_dict` output.

        Tolerant: malformed fields are dropped, which errs on the safe side (not
        away, so inactivity monitoring stays on). A stored door close that activity
        already followed is dropped as well.
        """
        tracker = cls(config)
        if not isinstance(data, dict):
            return tracker
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
