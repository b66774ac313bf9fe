"""The details of the household engine's incidents and entities, in data.

Pure (no Home Assistant import): why a silence is judged as it is, and which
sensor has which problem. Names the engine cannot know come from the glue
through :class:`~.engine_events.Names`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..monitor.engine import SOURCE_AWAY_CHECK
from ..monitor.health import HealthVerdict, Problem, SensorHealth
from ..monitor.inactivity import alarm_moment
from ..monitor.routine import HOME

if TYPE_CHECKING:
    from .engine import HouseholdEngine
    from .events import Names

#: Problems of a sensor that went quiet: its last-seen time is worth showing.
QUIET = frozenset({Problem.UNAVAILABLE, Problem.SILENT, Problem.NOT_HEARD})


def inactivity_details(
    engine: HouseholdEngine, names: Names, now: datetime, local_now: datetime
) -> dict[str, Any]:
    """Why the current silence is judged as it is (entity attributes, incident details)."""
    last_activity = engine.last_activity
    gap = max(now - last_activity, timedelta(0))
    assessment = engine.assessment
    verdict = engine.verdict
    details: dict[str, Any] = {
        "last_activity": last_activity.isoformat(),
        "last_sensor": engine.last_activity_sensor,
        "last_room": room_of(names, engine.last_activity_sensor),
        "gap_min": round(gap.total_seconds() / 60),
        "rule": None if verdict is None else verdict.source,
        "compared_with": "fixed",
        "normal_up_to": None,
        "alarm_after": None,
    }
    if details["rule"] == SOURCE_AWAY_CHECK:
        # An inferred outing longer than usual: compared with the outings.
        usual = round(engine.inactivity.away.check_after.total_seconds() / 60)
        details.update(compared_with="outings", normal_up_to=usual, alarm_after=usual)
    elif assessment is None:
        # Fixed windows (routine still learning, or learning off): when they alarm.
        alarm_at = alarm_moment(
            engine.settings.inactivity.windows, last_activity, local_now
        )
        details["alarm_after"] = round((alarm_at - last_activity).total_seconds() / 60)
    else:
        details.update(
            compared_with="home" if assessment.context == HOME else "room",
            normal_up_to=round(assessment.normal.total_seconds() / 60),
            alarm_after=round(assessment.alarm_after.total_seconds() / 60),
            longer_than_usual=round(100 * (1 - assessment.survival(gap))),
        )
    return details


def room_of(names: Names, entity_id: str | None) -> str | None:
    """Where a sensor is; None when no sensor reported (the I'm OK button)."""
    if entity_id is None or "." not in entity_id:
        return None
    return names.room_name(entity_id)


def fault_details(
    verdict: HealthVerdict, health: SensorHealth, names: Names
) -> dict[str, Any]:
    """Which sensor has which problem, on which device, last heard when.

    The last-seen time is given only for sensors that went quiet (offline,
    silent): a device that still talks would change it with every report.
    """
    details: dict[str, Any] = {
        "sensors": {
            sensor: [str(problem) for problem in problems]
            for sensor, problems in sorted(verdict.problems.items())
        }
    }
    devices = {
        sensor: name
        for sensor in verdict.problems
        if (name := names.device_name(sensor)) is not None
    }
    if devices:
        details["devices"] = dict(sorted(devices.items()))
    quiet = {
        sensor: seen
        for sensor, problems in verdict.problems.items()
        if QUIET & set(problems)
        and (seen := _last_seen(health, names, sensor)) is not None
    }
    if quiet:
        details["last_seen"] = dict(sorted(quiet.items()))
    return details


def _last_seen(health: SensorHealth, names: Names, entity_id: str) -> str | None:
    """When the stack last heard from the sensor's device (ISO), where it says."""
    if (heard := health.last_heard(entity_id)) is not None:
        return heard.isoformat()
    return names.last_seen(entity_id)
