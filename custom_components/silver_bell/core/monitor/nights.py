"""Days, nights and the person's rise time (pure logic).

The day window (07:00-22:00 by default) splits the clock: a silence that begins
inside it is a *day gap*, one that begins outside it belongs to the *night* that
began at the window's end (the night's *origin*). What is regular about a night
is not how long it lasts (bedtime varies) but when it ends: the person gets up
at about the same time.

:class:`Rises` keeps, for every night, the latest moment a silence of that night
ended, counted from the night's origin: the *rise*. One night gives one sample,
whatever happened in the evening, so a handful of nights is enough to judge the
next one. Evening silences that end at 23:00 say nothing about when the person
gets up; pooled with the nights they used to pull the learned rise time hours
too early (a person in bed at 22:00 was paged at 07:45 on a Monday morning).

A night whose latest silence ended before the middle of the night was not seen
to its end (an outing, a restart, a silence over the ceiling that was not
learned): it is not used. Neither is the night being judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

WEEKDAY = "weekday"
WEEKEND = "weekend"
DAY_TYPES = (WEEKDAY, WEEKEND)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class DayWindow:
    """The day window; equal start and end: no night at all."""

    start: time = time(7, 0)
    end: time = time(22, 0)

    @property
    def has_night(self) -> bool:
        """Whether there is a night (the window does not cover the whole day)."""
        return self.start != self.end

    def contains(self, moment: time) -> bool:
        """Whether a local time of day lies in the day window."""
        if not self.has_night:
            return True
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def night_origin(self, local: datetime) -> datetime:
        """The start of the night (the last window end) at or before ``local``."""
        origin = datetime.combine(local.date(), self.end, tzinfo=local.tzinfo)
        if origin.astimezone(UTC) > local.astimezone(UTC):
            origin = datetime.combine(
                local.date() - ONE_DAY, self.end, tzinfo=local.tzinfo
            )
        return origin

    @property
    def night_length(self) -> timedelta:
        """How long the night lasts, from the window's end to its start."""
        end = self.end.hour * 60 + self.end.minute
        start = self.start.hour * 60 + self.start.minute
        return timedelta(minutes=(start - end) % 1440)

    def morning(self, origin: date) -> date:
        """The date on which the night that began on ``origin`` ends."""
        return origin + ONE_DAY if self.start <= self.end else origin

    def night_of(self, start_day: date, hour: int) -> date:
        """The origin date of a night silence that began on ``start_day`` in ``hour``."""
        # Late in the hour: when the window ends within that hour, only the
        # minutes after its end are night, and they share one origin.
        local = datetime.combine(start_day, time(hour, 59))
        return self.night_origin(local).date()


def is_sample(entry: Any) -> bool:
    """Whether a stored entry is a ``[date ordinal, seconds]`` pair."""
    return (
        isinstance(entry, list | tuple)
        and len(entry) == 2
        and all(isinstance(item, int) and not isinstance(item, bool) for item in entry)
        and entry[0] > 0
        and entry[1] >= 0
    )


def day_type(day: date) -> str:
    """Weekday or weekend."""
    return WEEKEND if day.weekday() >= 5 else WEEKDAY


class Rises:
    """The rise of each night: its latest silence's end, seconds after its origin."""

    __slots__ = ("_keep", "_nights", "_window")

    def __init__(self, window: DayWindow, keep: int) -> None:
        """Keep the ``keep`` newest nights."""
        self._window = window
        self._keep = keep
        # origin date ordinal -> seconds after the origin
        self._nights: dict[int, int] = {}

    def record(self, origin: date, seconds: int) -> None:
        """A silence of the night that began on ``origin`` ended ``seconds`` after it."""
        ordinal = origin.toordinal()
        if seconds <= self._nights.get(ordinal, -1):
            return
        self._nights[ordinal] = seconds
        if len(self._nights) > self._keep:
            for old in sorted(self._nights)[: len(self._nights) - self._keep]:
                del self._nights[old]

    def before(self, origin: date, minimum: int) -> tuple[list[int], str | None] | None:
        """The rises to judge the night of ``origin`` by, and the day type they share.

        The nights before it that were seen to their end; those of the same day
        type (by the morning the night ends on) when there are ``minimum`` of
        them, else all of them (None: not ``minimum`` nights yet).
        """
        return self.of_type(
            day_type(self._window.morning(origin)), origin.toordinal(), minimum
        )

    def of_type(
        self, wanted: str, before: int, minimum: int
    ) -> tuple[list[int], str | None] | None:
        """The rises of nights of day type ``wanted`` before the origin ordinal ``before``.

        All nights' (day type None) when fewer than ``minimum`` are of that type;
        None when fewer than ``minimum`` nights were seen to their end at all.
        """
        seen = self._seen(before)
        own = [
            seconds
            for ordinal, seconds in seen
            if day_type(self._window.morning(date.fromordinal(ordinal))) == wanted
        ]
        if len(own) >= max(minimum, 1):
            return own, wanted
        if len(seen) >= max(minimum, 1):
            return [seconds for _, seconds in seen], None
        return None

    def count(self, wanted: str, before: int) -> int:
        """How many nights of day type ``wanted`` before ``before`` were seen to their end."""
        return sum(
            1
            for ordinal, _ in self._seen(before)
            if day_type(self._window.morning(date.fromordinal(ordinal))) == wanted
        )

    def days(self, before: int) -> float:
        """The days the nights seen before the origin ordinal ``before`` span."""
        seen = self._seen(before)
        if not seen:
            return 1.0
        return float(seen[-1][0] - seen[0][0] + 1)

    def _seen(self, before: int) -> list[tuple[int, int]]:
        """Nights before the origin ordinal ``before`` seen to their end, oldest first."""
        half = self._window.night_length.total_seconds() / 2
        return [
            (ordinal, self._nights[ordinal])
            for ordinal in sorted(self._nights)
            if ordinal < before and self._nights[ordinal] >= half
        ]

    def as_list(self) -> list[list[int]]:
        """``[[origin ordinal, seconds], ...]``, oldest first (for a Store)."""
        return [[ordinal, self._nights[ordinal]] for ordinal in sorted(self._nights)]

    def load(self, entries: Iterable[Any]) -> None:
        """Add stored ``[origin ordinal, seconds]`` pairs; anything malformed is dropped."""
        for entry in entries:
            if is_sample(entry):
                self.record(date.fromordinal(entry[0]), entry[1])

    def copy(self) -> Rises:
        """An independent copy."""
        twin = Rises(self._window, self._keep)
        twin._nights = dict(self._nights)
        return twin

    def __len__(self) -> int:
        """The number of nights kept."""
        return len(self._nights)
