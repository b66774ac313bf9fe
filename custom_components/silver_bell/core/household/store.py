"""The household engine's part of the household's store, and a restart from it.

Pure (no Home Assistant import). The keys are those the household wrote before
the engine existed, so stores written by earlier releases load unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..bodies import Progress, parse_progress, progress_body
from ..monitor.away import AwayTracker
from ..monitor.engine import InactivityEngine
from ..monitor.health import SensorHealth
from ..monitor.routine import Routine
from ..monitor.states import from_iso, to_iso
from ..monitor.temperature import TemperatureMonitor
from .incidents import IncidentBook

if TYPE_CHECKING:
    from .engine import HouseholdEngine


def restore_engine(
    engine: HouseholdEngine,
    stored: Mapping[str, Any],
    now: datetime,
    context_of: Callable[[str | None], str | None],
) -> None:
    """Give ``engine`` the state of :func:`engine_store` (malformed parts dropped)."""
    settings = engine.settings
    config = settings.inactivity
    engine.book = IncidentBook.from_dict(stored.get("incidents", []))
    engine.temperature = TemperatureMonitor.from_dict(
        stored.get("temperature", {}), settings.temperature
    )
    engine.health = SensorHealth.from_dict(stored.get("health", {}), settings.health)
    engine.last_activity_sensor = stored.get("last_activity_sensor")
    engine.inactivity = InactivityEngine(
        config,
        last_activity=from_iso(stored.get("last_activity")) or now,
        context=context_of(engine.last_activity_sensor),
        routine=Routine.from_dict(stored.get("baseline", {}), config.routine),
        away=AwayTracker.from_dict(stored.get("away", {}), config.away),
        raised_for=from_iso(stored.get("inactivity_raised_for")),
    )
    engine.progress = _restore_progress(engine.book, stored.get("progress"))
    forwarded = stored.get("forwarded")
    engine.forwarded = (
        {str(k): int(v) for k, v in forwarded.items() if isinstance(v, int)}
        if isinstance(forwarded, dict)
        else {}
    )
    # Events during the downtime are lost: don't learn the gap across it.
    engine.inactivity.restart(engine.local(now))


def _restore_progress(book: IncidentBook, stored: Any) -> dict[str, Progress]:
    """The stored answers of the hub, for incidents still active (bad ones dropped)."""
    if not isinstance(stored, dict):
        return {}
    restored: dict[str, Progress] = {}
    for incident_id, body in stored.items():
        incident = book.find(str(incident_id))
        if incident is None or not incident.active:
            continue
        try:
            restored[incident.id] = parse_progress(body)
        except ValueError:
            continue
    return restored


def engine_store(engine: HouseholdEngine) -> dict[str, Any]:
    """The engine's state as JSON-ready data."""
    book = engine.book
    kept = {item.id for item in book.incidents}
    raised_for = engine.inactivity.raised_for
    return {
        "incidents": book.as_dict(),
        "baseline": engine.routine.as_dict(),
        "temperature": engine.temperature.as_dict(),
        "health": engine.health.as_dict(),
        "away": engine.inactivity.away.as_dict(),
        "last_activity": to_iso(engine.last_activity),
        "last_activity_sensor": engine.last_activity_sensor,
        "inactivity_raised_for": to_iso(
            None if raised_for is None else raised_for.astimezone(UTC)
        ),
        "forwarded": {
            incident_id: seq
            for incident_id, seq in engine.forwarded.items()
            if incident_id in kept
        },
        # The hub's last answer per active incident: Help progress shows it
        # at once after a restart instead of "waiting" until the next poll.
        "progress": {
            incident_id: progress_body(progress)
            for incident_id, progress in engine.progress.items()
            if (incident := book.find(incident_id)) is not None and incident.active
        },
    }
