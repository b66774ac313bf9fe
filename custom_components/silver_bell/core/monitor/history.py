"""The household's recent activity, kept to be replayed (pure logic, issue 17 item 4).

What :mod:`.advice` replays: the activity
onsets of the last 28 days with their room, thinned to one per minute per room
and stored compactly (delta-encoded seconds).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
import math
from typing import Any

from .replay import ROLE_DOOR_CLOSED, ROLE_DOOR_OPEN, EventLog, LogEvent

HISTORY_DAYS = 28
HISTORY_SPACING = timedelta(minutes=1)
HISTORY_VERSION = 1
_DAY = 86400.0
_ROLES = ("", ROLE_DOOR_OPEN, ROLE_DOOR_CLOSED)


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
