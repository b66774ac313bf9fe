"""The van Kasteren data set as an event log (tools/kasteren.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tools import kasteren

HOUR = timedelta(hours=1)


def test_kasteren_conversion() -> None:
    """Both edges are activity; the front door's edges open and close it."""
    base = datetime(2008, 3, 3, 9, 0, tzinfo=ZoneInfo(kasteren.TIMEZONE))
    log = kasteren.to_event_log(
        [
            kasteren.Interval(start=base, end=base + HOUR, ident=kasteren.FRONT_DOOR),
            kasteren.Interval(start=base + 2 * HOUR, end=base + 2 * HOUR, ident=99),
        ],
        [
            kasteren.Interval(start=base, end=base + HOUR, ident=kasteren.LEAVE_HOUSE),
            kasteren.Interval(start=base, end=base + HOUR, ident=kasteren.GO_TO_BED),
        ],
    )
    assert [(event.sensor, event.role) for event in log.events] == [
        ("front_door", "door_open"),
        ("front_door", "door_closed"),
        ("sensor_99", ""),
        ("sensor_99", ""),
    ]
    assert log.away == ((base, base + HOUR),)
    assert log.has_door


def test_parse_kasteren_intervals(tmp_path: Path) -> None:
    """Header and malformed lines are skipped."""
    path = tmp_path / "log.txt"
    path.write_text(
        "Start time\tEnd time\tID\tVal\r\n"
        "25-Feb-2008 00:20:14\t25-Feb-2008 00:22:57\t24\t1\r\n"
        "31-Xyz-2008 00:20:14\t25-Feb-2008 00:22:57\t24\t1\r\n"
        "25-Feb-2008 00:20:14\t25-Feb-2008 00:22:57\tid\r\n",
        encoding="latin-1",
    )
    zone = ZoneInfo(kasteren.TIMEZONE)
    assert kasteren.parse_intervals(path, zone) == [
        kasteren.Interval(
            start=datetime(2008, 2, 25, 0, 20, 14, tzinfo=zone),
            end=datetime(2008, 2, 25, 0, 22, 57, tzinfo=zone),
            ident=24,
        )
    ]
