"""The van Kasteren home sensor log as a Silver Bell event log.

Pure helpers used by ``scripts/evaluate_baseline``, ``scripts/bench`` and the
replay tests; the integration never imports this (it is not shipped with it).

Data set: T.L.M. van Kasteren, A. K. Noulas, G. Englebienne, B.J.A. Kröse,
"Accurate Activity Recognition in a Home Setting", UbiComp 2008. 28 days of
one man living alone in a Dutch flat; 14 reed-switch / float sensors on doors,
cupboards, appliances and the toilet flush (no motion sensors), plus activity
annotations.

Conversion (documented in docs/inactivity-evaluation.md): both edges of a
sensor firing (contact opened and closed) are activity, for door and contact
sensors both are made by a person; the front door's edges are its opening and
closing; each sensor gets the room it is in. The annotated 'leave house'
periods become the log's known absences, used only to score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from custom_components.silver_bell.core.monitor.replay import (
    ROLE_DOOR_CLOSED,
    ROLE_DOOR_OPEN,
    EventLog,
    LogEvent,
)

SENSE_FILE = "kasterenSenseData.txt"
ACTIVITY_FILE = "kasterenActData.txt"
TIMEZONE = "Europe/Amsterdam"
FRONT_DOOR = 12
LEAVE_HOUSE = 1
GO_TO_BED = 10
# Sensor id -> (name, room), from the data set's README.
SENSORS: dict[int, tuple[str, str]] = {
    1: ("microwave", "kitchen"),
    5: ("toilet_door", "toilet"),
    6: ("bathroom_door", "bathroom"),
    7: ("cups_cupboard", "kitchen"),
    8: ("fridge", "kitchen"),
    9: ("plates_cupboard", "kitchen"),
    12: ("front_door", "hall"),
    13: ("dishwasher", "kitchen"),
    14: ("toilet_flush", "toilet"),
    17: ("freezer", "kitchen"),
    18: ("pans_cupboard", "kitchen"),
    20: ("washing_machine", "bathroom"),
    23: ("groceries_cupboard", "kitchen"),
    24: ("bedroom_door", "bedroom"),
}

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ),
        start=1,
    )
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    """One line of the log: a sensor firing or an annotated activity."""

    start: datetime
    end: datetime
    ident: int


def _parse_timestamp(text: str, zone: tzinfo) -> datetime:
    """Parse ``25-Feb-2008 00:20:14`` (locale independent) as local time in ``zone``."""
    day_part, clock = text.strip().split(" ")
    day, month, year = day_part.split("-")
    hour, minute, second = (int(part) for part in clock.split(":"))
    return datetime(
        int(year), _MONTHS[month.lower()], int(day), hour, minute, second, tzinfo=zone
    )


def parse_intervals(path: Path, zone: tzinfo) -> list[Interval]:
    """Parse a van Kasteren text file (sensor or activity), skipping header lines."""
    intervals: list[Interval] = []
    for line in path.read_text(encoding="latin-1").splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        try:
            start = _parse_timestamp(fields[0], zone)
            end = _parse_timestamp(fields[1], zone)
            ident = int(fields[2])
        except (ValueError, KeyError):
            continue
        intervals.append(Interval(start=start, end=end, ident=ident))
    return intervals


def to_event_log(
    firings: list[Interval], labels: list[Interval] | None = None
) -> EventLog:
    """Turn sensor firings (and 'leave house' labels) into an event log."""
    events: list[LogEvent] = []
    for firing in firings:
        name, room = SENSORS.get(firing.ident, (f"sensor_{firing.ident}", ""))
        door = firing.ident == FRONT_DOOR
        for moment, role in (
            (firing.start, ROLE_DOOR_OPEN if door else ""),
            (firing.end, ROLE_DOOR_CLOSED if door else ""),
        ):
            events.append(LogEvent(at=moment, sensor=name, room=room, role=role))
    events.sort(key=lambda event: event.at)
    away = sorted(
        (label.start, label.end) for label in labels or () if label.ident == LEAVE_HOUSE
    )
    return EventLog(events=tuple(events), away=tuple(away))


def load(data_dir: Path) -> EventLog:
    """Read the data set in ``data_dir`` as an event log (Europe/Amsterdam time)."""
    zone = ZoneInfo(TIMEZONE)
    return to_event_log(
        parse_intervals(data_dir / SENSE_FILE, zone),
        parse_intervals(data_dir / ACTIVITY_FILE, zone),
    )
