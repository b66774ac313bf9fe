"""The household engine: one pure object for everything a household decides.

No Home Assistant import. It owns the monitors — inactivity with the learned
routine and automatic away (:class:`~.monitor.engine.InactivityEngine`), fire
and heat with the smoke confirmation, temperature risk, sensor health — and the
incident book, and decides what to forward to the hub and what to tell the
family. The glue (``household/``) hands it normalised events
(:mod:`.engine_events`) and applies the one :class:`~.engine_events.Result`
that comes back.

One :meth:`HouseholdEngine.handle`, in this order: each event is fed to the
monitors (opening, noting or cancelling incidents as it goes); then, when one
of them may change a verdict, everything is evaluated once (away, inactivity,
temperature, sensor health, check-in grace periods); then the result is
assembled: the incident changes with their event data as they were at the
change, the versions to forward (each incident once, at its newest version),
the changes the family hears of, the next wake-up and how urgently to save.

**Time.** ``now`` is an aware UTC moment; the engine's ``local`` function gives
the household's local time for the inactivity engine (the routine files gaps
by local hour and weekday).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..bodies import Progress
from ..models import Incident, IncidentKind
from ..monitor.assessment import Assessment
from ..monitor.away import AwayState
from ..monitor.engine import SOURCE_AWAY_CHECK, InactivityEngine
from ..monitor.fire import FireMonitor, SmokeVerdict
from ..monitor.health import HealthVerdict, SensorHealth
from ..monitor.inactivity import InactivityVerdict
from ..monitor.replay import ROLE_DOOR_CLOSED, ROLE_DOOR_OPEN
from ..monitor.routine import Routine
from ..monitor.states import UNRELIABLE
from ..monitor.temperature import (
    TemperatureMonitor,
    TemperatureRisk,
    TemperatureVerdict,
)
from .details import fault_details, inactivity_details
from .events import (
    NOTHING,
    Battery,
    CheckIn,
    EngineSettings,
    Event,
    Heard,
    HubProgress,
    IncidentEvent,
    MoveIncident,
    Names,
    NoNames,
    NotifyFailed,
    Presence,
    RaiseIncident,
    Result,
    Save,
    SensorChange,
    SetAway,
    Sighting,
    SmokeConfirmed,
    Tick,
    ZoneBits,
    ZoneReport,
)
from .incidents import Action, Change, IncidentBook
from .people import HUB_ACTOR, mirror_hub, move, target_of
from .smoke import SmokeJudge
from .store import engine_store, restore_engine

#: Who the engine writes in an incident's log for what it did itself.
SYSTEM = "silver_bell"
STATE_ON = "on"


class _Pending:
    """What one :meth:`HouseholdEngine.handle` collects before it is a result.

    A plain class: one is made for every state change of a busy home.
    """

    __slots__ = (
        "changes",
        "confirm_smoke",
        "evaluate",
        "events",
        "incident",
        "notify",
        "refresh",
        "save",
        "sightings",
    )

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.events: list[IncidentEvent] = []
        self.notify: list[Change] = []
        self.confirm_smoke: list[tuple[str, datetime]] = []
        self.sightings: list[Sighting] = []
        self.evaluate = False
        self.refresh = False
        self.save = Save.NO
        self.incident: Incident | None = None


def _identity(at: datetime) -> datetime:
    return at


class HouseholdEngine:
    """Monitors and incident book of one household, driven by events."""

    def __init__(
        self,
        settings: EngineSettings,
        *,
        now: datetime,
        names: Names | None = None,
        local: Callable[[datetime], datetime] | None = None,
    ) -> None:
        """Start with fresh monitors (see :meth:`restore` for a restart)."""
        self.settings = settings
        self.sensors = settings.sensors
        self.names: Names = names if names is not None else NoNames()
        self.local = local or _identity
        self.fire = FireMonitor(settings.fire)
        self.temperature = TemperatureMonitor(settings.temperature)
        self.health = SensorHealth(settings.health)
        self.inactivity = InactivityEngine(settings.inactivity, last_activity=now)
        self.book = IncidentBook()
        self.progress: dict[str, Progress] = {}
        self.last_activity_sensor: str | None = None
        self.verdict: InactivityVerdict | None = None
        self.assessment: Assessment | None = None
        self.away_state: AwayState | None = None
        self.temperature_verdict: TemperatureVerdict | None = None
        self.health_verdict: HealthVerdict | None = None
        self._next_inactivity_check: datetime | None = None
        # The version of each incident last handed to the outbox.
        self.forwarded: dict[str, int] = {}
        self.smoke = SmokeJudge()
        self._pending = _Pending()

    # ---------------------------------------------------------------- reading
    @property
    def last_activity(self) -> datetime:
        """When the current silence began (UTC)."""
        return self.inactivity.last_activity.astimezone(UTC)

    @property
    def routine(self) -> Routine:
        """The learned routine."""
        return self.inactivity.routine

    def forwarded_seq(self, incident_id: str) -> int | None:
        """The version of the incident last handed to the outbox, if any."""
        return self.forwarded.get(incident_id)

    def inactivity_details(self, now: datetime) -> dict[str, Any]:
        """Why the current silence is judged as it is (entity attributes, incident details)."""
        return inactivity_details(self, self.names, now, self.local(now))

    def fault_details(self, health: HealthVerdict) -> dict[str, Any]:
        """Which sensor has which problem, on which device, last heard when."""
        return fault_details(health, self.health, self.names)

    # ---------------------------------------------------------------- storing
    def restore(self, stored: Mapping[str, Any], now: datetime) -> None:
        """Take over the state written by :meth:`as_store` (a restart)."""
        restore_engine(self, stored, now, self.names.context_of)
        self.track_sensors(now)

    def as_store(self) -> dict[str, Any]:
        """The engine's part of the household's store."""
        return engine_store(self)

    def track_sensors(self, now: datetime) -> None:
        """Let sensor health follow exactly the watched sensors."""
        watched = set(self.sensors.watched)
        for entity_id in self.health.sensors - watched:
            self.health.untrack(entity_id)
        for entity_id in self.sensors.watched:
            if entity_id not in self.health.sensors:
                self.health.track(
                    entity_id, activity=entity_id in self.sensors.activity, now=now
                )

    def seed_zone(self, entity_id: str, status: int) -> None:
        """The ZoneStatus a fire sensor shows at start-up (to compare reports with)."""
        if entity_id in self.sensors.fire:
            self.smoke.seed(entity_id, status)

    # -------------------------------------------------------------- handling
    def handle(self, events: Iterable[Event], now: datetime) -> Result:
        """Feed ``events`` at ``now`` (aware UTC) and return what changed.

        A :class:`MoveIncident` that cannot be done raises
        (:class:`NoActiveIncidentError`, :class:`~.incidents.UnknownIncidentError`,
        :class:`~.models.InvalidTransitionError`) before anything changed.
        """
        self._pending = pending = _Pending()
        for event in events:
            self._dispatch(event, now)
        if pending.evaluate:
            self._evaluate(now)
        return self._result(pending, now)

    def forward_active(self, now: datetime) -> Result:
        """Forward what left the home while the hub link was down or not yet set up."""
        self._pending = _Pending()
        return self._result(self._pending, now, self.book.active)

    def unwritten(
        self,
        now: datetime,
        queued_seq: Callable[[str], int],
        horizon: timedelta,
    ) -> list[Incident]:
        """Forwarded versions that are not in the outbox (``horizon``: how far back).

        The household store (which records the version as forwarded) and the
        outbox are two files; a process killed between the two writes would
        leave that version unsent for good. A version the hub already has is
        answered 200 and changes nothing there, so recent ones are sent again.
        """
        since = now - horizon
        return [
            incident
            for incident in self.book.incidents
            if (seq := self.forwarded.get(incident.id)) is not None
            and seq == incident.seq
            and queued_seq(incident.id) < seq
            and (incident.active or incident.updated_at >= since)
        ]

    def _dispatch(self, event: Event, now: datetime) -> None:
        pending = self._pending
        match event:
            case SensorChange():
                pending.evaluate |= self._sensor_change(event, now)
            case ZoneBits(entity_id=entity_id, status=status):
                self.health.zone_status(entity_id, status)
                pending.evaluate = True
            case ZoneReport():
                if event.entity_id in self.sensors.fire:
                    verdict = self.smoke.report(event.entity_id, event.status)
                    self._smoke_verdict(event.entity_id, verdict, now)
                pending.evaluate = True
            case Battery(entity_id=entity_id, percent=percent):
                self.health.battery(entity_id, percent, now)
                pending.evaluate = True
            case Heard(entity_id=entity_id, at=at):
                self.health.heard(entity_id, at)
                pending.evaluate = True
            case SmokeConfirmed(entity_id=entity_id, at=at, test_active=test):
                (self._open_test if test else self._open_fire)(entity_id, at)
                pending.evaluate = True
            case CheckIn(by=by):
                self._activity(None, None, now, by)
                self.last_activity_sensor = by
                pending.evaluate = True
            case SetAway(on=on):
                self.inactivity.set_away(on, self.local(now))
                pending.evaluate = True
            case Presence(state=state):
                self.inactivity.presence(state, self.local(now))
                pending.evaluate = True
            case RaiseIncident():
                self._raise(event, now)
            case MoveIncident():
                self._move(event, now)
            case HubProgress(progress=progress):
                self._hub_progress(progress, now)
            case NotifyFailed(incident_id=incident_id, target=target):
                if (incident := self.book.find(incident_id)) is not None:
                    self.book.note(incident, now, SYSTEM, f"notify_failed:{target}")
                    pending.save = Save.NOW
            case Tick():
                pending.evaluate = True

    def _result(
        self, pending: _Pending, now: datetime, candidates: Sequence[Incident] = ()
    ) -> Result:
        if not (
            pending.changes
            or candidates
            or pending.evaluate
            or pending.sightings
            or pending.confirm_smoke
            or pending.incident
            or pending.refresh
            or pending.save
        ):
            return NOTHING  # most of a busy home's changes: nothing to apply
        # Each incident goes to the hub once per call, at its newest version.
        forward: dict[str, Incident] = {}
        for incident in (*(change.incident for change in pending.changes), *candidates):
            if incident.id not in forward and self._should_forward(incident):
                forward[incident.id] = incident
        for incident in forward.values():
            self.forwarded[incident.id] = incident.seq
        save = pending.save
        if pending.changes or forward:
            save = Save.NOW
        return Result(
            changes=tuple(pending.changes),
            events=tuple(pending.events),
            forward=tuple(forward.values()),
            notify=tuple(pending.notify),
            confirm_smoke=tuple(pending.confirm_smoke),
            sightings=tuple(pending.sightings),
            refresh=pending.refresh or bool(pending.changes),
            evaluated=pending.evaluate,
            wake_at=self._wake_at(now) if pending.evaluate else None,
            save=save,
            incident=pending.incident,
        )

    def _should_forward(self, incident: Incident) -> bool:
        """Whether the incident's version goes to the hub (not what came from it)."""
        return (
            self.settings.forwarding
            and incident.escalated_at is not None
            and incident.seq > self.forwarded.get(incident.id, -1)
            and not incident.audit[-1].by.startswith(HUB_ACTOR)
        )

    def _record(self, changes: list[Change]) -> None:
        """Keep changes for the result: event data as now, forwarding, the family."""
        pending = self._pending
        for change in changes:
            pending.changes.append(change)
            pending.events.append(
                IncidentEvent(change.action, change.incident.as_dict())
            )
            if self._should_notify(change):
                pending.notify.append(change)

    @staticmethod
    def _should_notify(change: Change) -> bool:
        if change.action is Action.ESCALATED:
            return True
        return (
            change.action in (Action.ACKNOWLEDGED, Action.RESOLVED)
            and change.incident.escalated_at is not None
        )

    def _wake_at(self, now: datetime) -> datetime | None:
        candidates = [
            self.book.next_grace_end(),
            self._next_inactivity_check,
            self.temperature_verdict.next_check if self.temperature_verdict else None,
            self.health_verdict.next_check if self.health_verdict else None,
        ]
        upcoming = [
            moment for moment in candidates if moment is not None and moment > now
        ]
        return min(upcoming, default=None)

    # ---------------------------------------------------------------- inputs
    def _sensor_change(self, change: SensorChange, now: datetime) -> bool:
        """Feed one watched entity's change to the monitors.

        Returns whether the monitors need a new evaluation: not for a change
        that tells them nothing new (a motion sensor clearing, an attribute
        update), which is most of a busy home's changes.
        """
        entity_id, old, new = change.entity_id, change.old, change.new
        if new is None:  # entity removed
            self.health.state_changed(
                entity_id, "unavailable", now, device_dropout=False
            )
            return True
        self.health.state_changed(
            entity_id,
            new,
            change.since,
            zone_status=change.zone_status,
            device_dropout=change.device_dropout,
        )
        reliable_change = (
            old is not None
            and old not in UNRELIABLE
            and new not in UNRELIABLE
            and old != new
        )
        informative = old is None or old in UNRELIABLE or new in UNRELIABLE
        sensors = self.sensors
        if entity_id in sensors.activity and reliable_change:
            if new == STATE_ON or change.door_class:
                self._activity(entity_id, self.names.context_of(entity_id), now)
                informative = True
        if entity_id == sensors.door and reliable_change:
            self._door(entity_id, new, self.names.context_of(entity_id), now)
        if entity_id in sensors.help_buttons and reliable_change:
            if not entity_id.startswith("binary_sensor.") or new == STATE_ON:
                self._record(
                    self.book.open(
                        IncidentKind.HELP, now, details={"source": entity_id}
                    )
                )
        if entity_id in sensors.fire:
            self._smoke(change, now)
        if entity_id in sensors.temperature and change.celsius is not None:
            self._temperature(entity_id, change.celsius, now)
        return (
            informative
            or change.zone_status is not None
            or not entity_id.startswith("binary_sensor.")
            or entity_id == sensors.door
            or entity_id in sensors.help_buttons
            or entity_id in sensors.fire
            or entity_id in sensors.temperature
        )

    def _door(
        self, entity_id: str, state: str, context: str | None, now: datetime
    ) -> None:
        checking = self.verdict is not None and self.verdict.source == SOURCE_AWAY_CHECK
        self.inactivity.door(state, self.local(now))
        self._pending.sightings.append(
            Sighting(
                now, context, ROLE_DOOR_OPEN if state == STATE_ON else ROLE_DOOR_CLOSED
            )
        )
        if checking and state == STATE_ON:
            # Coming home answers the check of an outing longer than usual.
            self._record(self.book.check_in(now, entity_id))

    def _activity(
        self,
        entity_id: str | None,
        context: str | None,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """A sign of life (``entity_id`` None: a person said so)."""
        self.last_activity_sensor = entity_id
        front_door = entity_id is not None and entity_id == self.sensors.door
        if not front_door:
            self._pending.sightings.append(Sighting(now, context))
        # The door sensor's own changes are read by the away tracker itself.
        self.inactivity.activity(self.local(now), context, front_door=front_door)
        by = by or entity_id or SYSTEM
        changes = self.book.check_in(now, by)
        current = self.book.active_of(IncidentKind.INACTIVITY)
        if current is not None and current.audit[-1].note != "activity_resumed":
            changes.append(self.book.note(current, now, by, "activity_resumed"))
        self._record(changes)

    def _smoke(self, change: SensorChange, now: datetime) -> None:
        verdict = self.smoke.state(change)
        if verdict is SmokeVerdict.FIRE and change.has_test_entity:
            # One message from the stack may carry both ``smoke`` and ``test``, and
            # newer releases write the two entities one after the other: the glue
            # decides once the whole message is written (SmokeConfirmed).
            self._pending.confirm_smoke.append((change.entity_id, now))
        else:
            self._smoke_verdict(change.entity_id, verdict, now)

    def _smoke_verdict(
        self, entity_id: str, verdict: SmokeVerdict, now: datetime
    ) -> None:
        if verdict is SmokeVerdict.FIRE:
            self._open_fire(entity_id, now)
        elif verdict is SmokeVerdict.TEST:
            self._open_test(entity_id, now)

    def _open_fire(self, entity_id: str, now: datetime) -> None:
        self._record(
            self.book.open(
                IncidentKind.FIRE, now, details={"sensor": entity_id, "reason": "smoke"}
            )
        )

    def _open_test(self, entity_id: str, now: datetime) -> None:
        self._record(
            self.book.open(
                IncidentKind.TEST,
                now,
                details={"sensor": entity_id, "reason": "detector_test"},
                test=True,
            )
        )

    def _temperature(self, entity_id: str, celsius: float, now: datetime) -> None:
        self.temperature.add_sample(entity_id, celsius, now)
        heat = self.fire.add_sample(entity_id, celsius, now)
        if heat is not None:
            details: dict[str, Any] = {
                "sensor": entity_id,
                "reason": heat.reason,
                "temperature": round(heat.value, 1),
            }
            if heat.rate_c_per_min is not None:
                details["rate_c_per_min"] = round(heat.rate_c_per_min, 1)
            self._record(self.book.open(IncidentKind.FIRE, now, details=details))

    # ---------------------------------------------------------------- people
    def _raise(self, event: RaiseIncident, now: datetime) -> None:
        """Open (or add to) an incident by hand; it leaves the home at once."""
        details: dict[str, Any] = {"source": event.by}
        if event.message:
            details["message"] = event.message
        self._record(self.book.open(event.kind, now, details=details, test=event.test))
        self._pending.incident = self.book.active_of(event.kind)

    def _move(self, event: MoveIncident, now: datetime) -> None:
        incident = target_of(self.book, event.incident_id, event.target)
        self._record(move(self.book, incident, event.target, now, event.by, event.note))
        self._pending.incident = incident
        self._pending.evaluate = True

    def _hub_progress(self, progress: Progress, now: datetime) -> None:
        """Mirror what the hub says about one of our incidents."""
        incident = self.book.find(progress.id)
        if incident is None:
            return
        self.progress[incident.id] = progress
        changes = mirror_hub(self.book, incident, progress, now)
        self._record(changes)
        self._pending.evaluate |= bool(changes)
        # Without a change the answer itself is kept for a restart.
        self._pending.save = max(self._pending.save, Save.SOON)
        self._pending.refresh = True

    # ------------------------------------------------------------ evaluation
    def _evaluate(self, now: datetime) -> None:
        """Re-evaluate every monitor and open or close incidents."""
        changes: list[Change] = []
        evaluation = self.inactivity.evaluate(self.local(now))
        self.away_state = away = evaluation.away
        self._next_inactivity_check = evaluation.next_check
        if away.too_long:
            changes += self.book.open(
                IncidentKind.AWAY_TOO_LONG,
                now,
                details={"since": away.since.isoformat() if away.since else None},
            )
        else:
            changes += self.book.resolve_kind(
                IncidentKind.AWAY_TOO_LONG, now, SYSTEM, "back_home"
            )
        self.verdict = evaluation.verdict
        self.assessment = evaluation.assessment
        if evaluation.alarm is not None:
            changes += self.book.open(
                IncidentKind.INACTIVITY,
                now,
                details=self.inactivity_details(now),
                grace=self.settings.grace,
            )
        self.temperature_verdict = temps = self.temperature.evaluate(now)
        for risk, kind in (
            (TemperatureRisk.COLD, IncidentKind.COLD),
            (TemperatureRisk.HEAT, IncidentKind.HEAT),
        ):
            if sensors := temps.risks.get(risk):
                changes += self.book.open(
                    kind, now, details={"sensors": sorted(sensors)}
                )
            else:
                changes += self.book.resolve_kind(
                    kind, now, SYSTEM, "temperature_normal"
                )
        self.health_verdict = health = self.health.evaluate(now)
        if health.problems:
            changes += self.book.open(
                IncidentKind.SENSOR_FAULT, now, details=self.fault_details(health)
            )
        else:
            changes += self.book.resolve_kind(
                IncidentKind.SENSOR_FAULT, now, SYSTEM, "sensors_healthy"
            )
        changes += self.book.escalate_due(now)
        self._record(changes)
        self._pending.refresh = True
        self._pending.save = max(self._pending.save, Save.SOON)
