"""The household engine, driven directly: events in, one result out (no Home Assistant).

A fake clock moves time; the engine's ``wake_at`` says when the glue's timer
would call again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.bodies import Progress
from custom_components.silver_bell.core.household.engine import SYSTEM, HouseholdEngine
from custom_components.silver_bell.core.household.events import (
    Battery,
    CheckIn,
    EngineSettings,
    Heard,
    HubProgress,
    MoveIncident,
    NoNames,
    NotifyFailed,
    Presence,
    RaiseIncident,
    Result,
    Save,
    SensorChange,
    Sensors,
    SetAway,
    SmokeConfirmed,
    Tick,
    ZoneBits,
    ZoneReport,
)
from custom_components.silver_bell.core.household.incidents import (
    Action,
    UnknownIncidentError,
)
from custom_components.silver_bell.core.household.people import (
    MoveRefusedError,
    NoActiveIncidentError,
)
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.monitor.engine import EngineConfig
from custom_components.silver_bell.core.monitor.replay import (
    ROLE_DOOR_CLOSED,
    ROLE_DOOR_OPEN,
)

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday morning
MOTION = "binary_sensor.motion"
DOOR = "binary_sensor.front_door"
SMOKE = "binary_sensor.smoke"
TEMP = "sensor.kitchen_temperature"
PENDANT = "binary_sensor.pendant"
BUTTON = "button.help"
SENSORS = Sensors(
    activity=(MOTION, DOOR),
    fire=(SMOKE,),
    temperature=(TEMP,),
    help_buttons=(PENDANT, BUTTON),
    door=DOOR,
)
# IAS ZoneStatus bits (zigpy's ZoneStatus): Alarm_1 and Test.
ALARM_1 = 0x0001
TEST_BIT = 0x0100


class Names:
    """Registry names, as the glue would give them."""

    def context_of(self, entity_id: str | None) -> str | None:
        return "kitchen" if entity_id == MOTION else entity_id

    def room_name(self, entity_id: str) -> str | None:
        return "Kitchen" if entity_id == MOTION else entity_id

    def device_name(self, entity_id: str) -> str | None:
        return "Smoke detector" if entity_id == SMOKE else None

    def last_seen(self, entity_id: str) -> str | None:
        return "2024-03-04T08:00:00+00:00" if entity_id == SMOKE else None


class Clock:
    """A fake clock."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def make(
    *, forwarding: bool = True, now: datetime = START, **settings: object
) -> HouseholdEngine:
    """An engine with the test sensors, fixed windows and a 10-minute grace."""
    engine = HouseholdEngine(
        EngineSettings(
            sensors=SENSORS,
            inactivity=EngineConfig(learned=False),
            forwarding=forwarding,
            **settings,  # type: ignore[arg-type]
        ),
        now=now,
        names=Names(),
    )
    engine.track_sensors(now)
    return engine


def change(
    entity_id: str, old: str | None, new: str | None, now: datetime, **extra: object
) -> SensorChange:
    return SensorChange(entity_id=entity_id, old=old, new=new, since=now, **extra)  # type: ignore[arg-type]


def follow(engine: HouseholdEngine, clock: Clock, until: datetime) -> list[Result]:
    """Evaluate now and at each wake-up up to ``until`` (the glue's timer)."""
    results = [engine.handle([Tick()], clock.now)]
    while (wake := results[-1].wake_at) is not None and wake <= until:
        clock.now = wake
        results.append(engine.handle([Tick()], clock.now))
    return results


def actions(result: Result) -> list[tuple[Action, IncidentKind]]:
    return [(item.action, item.incident.kind) for item in result.changes]


def test_silence_opens_a_check_in_then_escalates_once_and_is_forwarded() -> None:
    """Fixed day rule: alarm after 3 h, grace 10 min, then the family and the hub hear."""
    clock = Clock()
    engine = make()
    engine.handle([change(MOTION, "off", "on", clock.now)], clock.now)
    assert engine.last_activity_sensor == MOTION
    results = follow(engine, clock, START + timedelta(hours=4))
    opened = next(
        r for r in results if (Action.OPENED, IncidentKind.INACTIVITY) in actions(r)
    )
    assert opened.forward == ()  # in its check-in grace: nothing leaves the home
    assert opened.save is Save.NOW
    incident = engine.book.active_of(IncidentKind.INACTIVITY)
    assert incident is not None
    assert incident.details["last_room"] == "Kitchen"
    assert incident.details["rule"] == "day"
    assert incident.details["alarm_after"] == 180
    escalated = [
        r for r in results if (Action.ESCALATED, IncidentKind.INACTIVITY) in actions(r)
    ]
    assert len(escalated) == 1
    assert escalated[0].forward == (incident,)
    assert [c.action for c in escalated[0].notify] == [Action.ESCALATED]
    assert engine.forwarded_seq(incident.id) == incident.seq
    # Activity after the escalation notes it, once, and forwards that version.
    clock.advance(minutes=5)
    resumed = engine.handle([change(MOTION, "off", "on", clock.now)], clock.now)
    assert actions(resumed) == [(Action.UPDATED, IncidentKind.INACTIVITY)]
    assert resumed.forward == (incident,)
    assert resumed.sightings[0].at == clock.now
    again = engine.handle([change(MOTION, "off", "on", clock.now)], clock.now)
    assert again.changes == ()


def test_check_in_cancels_the_grace_period() -> None:
    clock = Clock()
    engine = make(forwarding=False)
    results = follow(engine, clock, START + timedelta(hours=3))
    assert any((Action.OPENED, IncidentKind.INACTIVITY) in actions(r) for r in results)
    clock.advance(minutes=2)
    result = engine.handle([CheckIn(by="Li")], clock.now)
    assert (Action.CANCELLED, IncidentKind.INACTIVITY) in actions(result)
    assert result.forward == ()  # never left the home
    assert engine.last_activity_sensor == "Li"
    assert engine.inactivity_details(clock.now)["last_room"] is None
    assert result.sightings[0].room is None


def test_a_motion_sensor_clearing_needs_no_evaluation() -> None:
    clock = Clock()
    engine = make()
    engine.handle([change(MOTION, "off", "on", clock.now)], clock.now)
    result = engine.handle([change(MOTION, "on", "off", clock.now)], clock.now)
    assert not result.evaluated
    assert result.save is Save.NO
    assert not result.refresh


def test_smoke_opens_a_fire_that_leaves_at_once() -> None:
    clock = Clock()
    engine = make()
    result = engine.handle([change(SMOKE, "off", "on", clock.now)], clock.now)
    assert actions(result) == [
        (Action.OPENED, IncidentKind.FIRE),
        (Action.ESCALATED, IncidentKind.FIRE),
    ]
    fire = engine.book.active_of(IncidentKind.FIRE)
    assert result.forward == (fire,)  # once, at its newest version
    assert [c.action for c in result.notify] == [Action.ESCALATED]
    assert [e.action for e in result.events] == [Action.OPENED, Action.ESCALATED]
    assert result.events[0].incident["kind"] == "fire"
    assert result.save is Save.NOW
    assert result.refresh


def test_smoke_after_a_dropout_is_judged_against_the_last_real_state() -> None:
    clock = Clock()
    engine = make()
    engine.handle([change(SMOKE, None, "off", clock.now)], clock.now)
    engine.handle([change(SMOKE, "off", "unavailable", clock.now)], clock.now)
    result = engine.handle([change(SMOKE, "unavailable", "on", clock.now)], clock.now)
    assert (Action.OPENED, IncidentKind.FIRE) in actions(result)


def test_a_detector_with_a_test_entity_is_confirmed_after_its_message() -> None:
    clock = Clock()
    engine = make()
    result = engine.handle(
        [change(SMOKE, "off", "on", clock.now, has_test_entity=True)], clock.now
    )
    assert result.changes == ()
    assert result.confirm_smoke == ((SMOKE, clock.now),)
    tested = engine.handle(
        [SmokeConfirmed(entity_id=SMOKE, at=clock.now, test_active=True)], clock.now
    )
    assert actions(tested)[0] == (Action.OPENED, IncidentKind.TEST)
    assert engine.book.active_of(IncidentKind.TEST).test  # type: ignore[union-attr]
    fire = engine.handle(
        [SmokeConfirmed(entity_id=SMOKE, at=clock.now, test_active=False)], clock.now
    )
    assert actions(fire)[0] == (Action.OPENED, IncidentKind.FIRE)


def test_zone_reports_tell_a_test_from_smoke() -> None:
    clock = Clock()
    engine = make()
    engine.seed_zone(SMOKE, 0)
    engine.seed_zone(MOTION, 0)  # not a fire sensor: ignored
    result = engine.handle(
        [ZoneReport(entity_id=SMOKE, status=ALARM_1 | TEST_BIT)], clock.now
    )
    assert actions(result)[0] == (Action.OPENED, IncidentKind.TEST)
    result = engine.handle([ZoneReport(entity_id=SMOKE, status=ALARM_1)], clock.now)
    assert actions(result)[0] == (Action.OPENED, IncidentKind.FIRE)
    # Reports from other sensors, and a first report, open nothing.
    assert (
        engine.handle([ZoneReport(entity_id=MOTION, status=ALARM_1)], clock.now).changes
        == ()
    )
    fresh = make()
    assert (
        fresh.handle([ZoneReport(entity_id=SMOKE, status=ALARM_1)], clock.now).changes
        == ()
    )


def test_help_buttons() -> None:
    clock = Clock()
    engine = make()
    released = engine.handle([change(PENDANT, "on", "off", clock.now)], clock.now)
    assert released.changes == ()
    pressed = engine.handle([change(PENDANT, "off", "on", clock.now)], clock.now)
    assert actions(pressed)[0] == (Action.OPENED, IncidentKind.HELP)
    # A button entity's state is its last press time: any new value is a press.
    other = make()
    stamp = clock.now.isoformat()
    pressed = other.handle(
        [change(BUTTON, "2024-01-01T00:00:00+00:00", stamp, clock.now)], clock.now
    )
    assert actions(pressed)[0] == (Action.OPENED, IncidentKind.HELP)


def test_heat_and_cold() -> None:
    clock = Clock()
    engine = make()
    engine.handle([change(TEMP, None, "20", clock.now, celsius=20.0)], clock.now)
    assert engine.handle([change(TEMP, "20", "x", clock.now)], clock.now).changes == ()
    clock.advance(minutes=2)
    hot = engine.handle([change(TEMP, "20", "70", clock.now, celsius=70.0)], clock.now)
    assert actions(hot)[0] == (Action.OPENED, IncidentKind.FIRE)
    fire = engine.book.active_of(IncidentKind.FIRE)
    assert fire is not None
    assert fire.details["temperature"] == 70.0
    assert fire.details["rate_c_per_min"] > 0

    cold = make()
    cold.handle([change(TEMP, None, "10", clock.now, celsius=10.0)], clock.now)
    results = follow(cold, clock, clock.now + timedelta(hours=3))
    assert any((Action.OPENED, IncidentKind.COLD) in actions(r) for r in results)
    clock.advance(minutes=1)
    warm = cold.handle([change(TEMP, "10", "21", clock.now, celsius=21.0)], clock.now)
    assert (Action.RESOLVED, IncidentKind.COLD) in actions(warm)
    assert warm.changes[-1].incident.audit[-1].note == "temperature_normal"


def test_sensor_faults_name_the_device_and_clear() -> None:
    clock = Clock()
    engine = make()
    engine.handle([change(SMOKE, None, "off", clock.now)], clock.now)
    engine.handle(
        [change(SMOKE, "off", "unavailable", clock.now, device_dropout=True)],
        clock.now,
    )
    results = follow(engine, clock, clock.now + timedelta(hours=1))
    assert any(
        (Action.OPENED, IncidentKind.SENSOR_FAULT) in actions(r) for r in results
    )
    fault = engine.book.active_of(IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"] == {SMOKE: ["unavailable"]}
    assert fault.details["devices"] == {SMOKE: "Smoke detector"}
    assert fault.details["last_seen"] == {SMOKE: "2024-03-04T08:00:00+00:00"}
    clock.advance(minutes=1)
    back = engine.handle([change(SMOKE, "unavailable", "off", clock.now)], clock.now)
    assert (Action.RESOLVED, IncidentKind.SENSOR_FAULT) in actions(back)
    # A removed entity is an outage Home Assistant caused.
    removed = engine.handle([change(MOTION, "off", None, clock.now)], clock.now)
    assert removed.evaluated


def test_battery_heard_and_zone_bits_are_evaluated() -> None:
    clock = Clock()
    engine = make()
    low = engine.handle([Battery(entity_id=MOTION, percent=5.0)], clock.now)
    assert (Action.OPENED, IncidentKind.SENSOR_FAULT) in actions(low)
    assert engine.health_verdict is not None
    assert engine.health_verdict.problems[MOTION]
    heard = engine.handle([Heard(entity_id=MOTION, at=clock.now)], clock.now)
    assert heard.evaluated
    bits = engine.handle([ZoneBits(entity_id=MOTION, status=0)], clock.now)
    assert bits.evaluated


def test_raise_move_and_refusals() -> None:
    clock = Clock()
    engine = make()
    with pytest.raises(NoActiveIncidentError):
        engine.handle(
            [MoveIncident(incident_id=None, target=IncidentState.RESOLVED, by="x")],
            clock.now,
        )
    with pytest.raises(UnknownIncidentError):
        engine.handle(
            [MoveIncident(incident_id="nope", target=IncidentState.RESOLVED, by="x")],
            clock.now,
        )
    raised = engine.handle(
        [RaiseIncident(kind=IncidentKind.HELP, by="notify", message="Fell down")],
        clock.now,
    )
    help_call = raised.incident
    assert help_call is not None
    assert help_call.details == {"source": "notify", "message": "Fell down"}
    assert raised.forward == (help_call,)
    acked = engine.handle(
        [MoveIncident(incident_id=None, target=IncidentState.ACKNOWLEDGED, by="Li")],
        clock.now,
    )
    assert acked.incident is help_call
    assert [c.action for c in acked.notify] == [Action.ACKNOWLEDGED]
    engine.handle(
        [
            MoveIncident(
                incident_id=help_call.id, target=IncidentState.RESOLVED, by="Li"
            )
        ],
        clock.now,
    )
    with pytest.raises(MoveRefusedError) as refused:
        engine.handle(
            [
                MoveIncident(
                    incident_id=help_call.id,
                    target=IncidentState.ACKNOWLEDGED,
                    by="Li",
                )
            ],
            clock.now,
        )
    assert refused.value.incident_id == help_call.id
    test = engine.handle(
        [RaiseIncident(kind=IncidentKind.TEST, by="button", test=True)], clock.now
    )
    assert test.incident is not None
    assert test.incident.test


def _progress(incident_id: str, state: IncidentState, now: datetime) -> Progress:
    return Progress(
        id=incident_id,
        state=state,
        colour="red",
        acknowledged_by="Wang",
        acknowledged_at=now,
        on_the_way_at=None,
        resolved_at=None,
        resolution="done" if state is IncidentState.RESOLVED else None,
        updated_at=now,
    )


def test_the_hub_is_mirrored_and_not_answered_back() -> None:
    clock = Clock()
    engine = make()
    incident = engine.handle(
        [RaiseIncident(kind=IncidentKind.HELP, by="pendant")], clock.now
    ).incident
    assert incident is not None
    unknown = engine.handle(
        [HubProgress(progress=_progress("0" * 32, IncidentState.OPEN, clock.now))],
        clock.now,
    )
    assert unknown.save is Save.NO
    waiting = engine.handle(
        [HubProgress(progress=_progress(incident.id, IncidentState.OPEN, clock.now))],
        clock.now,
    )
    assert waiting.changes == ()
    assert waiting.save is Save.SOON
    assert waiting.refresh
    acked = engine.handle(
        [
            HubProgress(
                progress=_progress(incident.id, IncidentState.ACKNOWLEDGED, clock.now)
            )
        ],
        clock.now,
    )
    assert actions(acked) == [(Action.ACKNOWLEDGED, IncidentKind.HELP)]
    assert incident.audit[-1].by == "hub:Wang"
    assert acked.forward == ()  # it came from the hub
    resolved = engine.handle(
        [
            HubProgress(
                progress=_progress(incident.id, IncidentState.RESOLVED, clock.now)
            )
        ],
        clock.now,
    )
    assert actions(resolved) == [(Action.RESOLVED, IncidentKind.HELP)]
    assert incident.audit[-1].note == "done"


def test_notify_failures_are_noted_and_saved() -> None:
    clock = Clock()
    engine = make()
    incident = engine.handle(
        [RaiseIncident(kind=IncidentKind.HELP, by="pendant")], clock.now
    ).incident
    assert incident is not None
    result = engine.handle(
        [NotifyFailed(incident_id=incident.id, target="mobile_app_li")], clock.now
    )
    assert result.save is Save.NOW
    assert result.changes == ()
    assert incident.audit[-1].note == "notify_failed:mobile_app_li"
    assert incident.audit[-1].by == SYSTEM
    nothing = engine.handle([NotifyFailed(incident_id="x", target="y")], clock.now)
    assert nothing.save is Save.NO


def test_away_presence_and_the_front_door() -> None:
    clock = Clock()
    engine = make()
    away = engine.handle([SetAway(on=True)], clock.now)
    assert away.evaluated
    assert engine.away_state is not None
    assert engine.away_state.away
    assert engine.verdict is None
    engine.handle([SetAway(on=False), Presence(state="home")], clock.now)
    assert not engine.away_state.away
    opened = engine.handle(
        [change(DOOR, "off", "on", clock.now, door_class=True)],
        clock.now,
    )
    # The door's own edge: no room activity of its own, a door edge for the history.
    assert [s.role for s in opened.sightings] == [ROLE_DOOR_OPEN]
    assert engine.last_activity_sensor == DOOR
    closed = engine.handle(
        [change(DOOR, "on", "off", clock.now, door_class=True)], clock.now
    )
    assert [s.role for s in closed.sightings] == [ROLE_DOOR_CLOSED]


def test_restart_keeps_the_book_marks_and_answers() -> None:
    clock = Clock()
    engine = make()
    help_call = engine.handle(
        [RaiseIncident(kind=IncidentKind.HELP, by="pendant")], clock.now
    ).incident
    assert help_call is not None
    engine.handle(
        [HubProgress(progress=_progress(help_call.id, IncidentState.OPEN, clock.now))],
        clock.now,
    )
    engine.handle([change(MOTION, "off", "on", clock.now)], clock.now)
    stored = engine.as_store()
    stored["progress"]["bad"] = {"id": 1}
    clock.advance(hours=1)
    again = make(now=clock.now)
    again.restore(stored, clock.now)
    assert [item.id for item in again.book.active] == [help_call.id]
    assert again.forwarded_seq(help_call.id) == help_call.seq
    assert set(again.progress) == {help_call.id}
    assert again.last_activity == START
    assert again.last_activity_sensor == MOTION
    assert again.forward_active(clock.now).forward == ()  # already forwarded
    # Not in the outbox (killed between the two writes): sent again.
    assert again.unwritten(clock.now, lambda _id: -1, timedelta(days=1)) == [
        again.book.get(help_call.id)
    ]
    assert again.unwritten(clock.now, lambda _id: 99, timedelta(days=1)) == []
    # Restored from a household that was not paired yet: forwarded at start.
    unpaired = make(forwarding=False)
    unpaired.handle([RaiseIncident(kind=IncidentKind.HELP, by="pendant")], clock.now)
    paired = make()
    paired.restore(unpaired.as_store(), clock.now)
    assert len(paired.forward_active(clock.now).forward) == 1
    # Rubbish in the store is dropped.
    empty = make()
    empty.restore({"progress": [], "forwarded": []}, clock.now)
    assert empty.progress == {}
    stored["progress"] = {help_call.id: {"id": 1}}
    again.restore(stored, clock.now)
    assert again.progress == {}


def test_a_restart_follows_the_sensors_chosen_now() -> None:
    """Sensor health forgets a sensor no longer watched, tracks a new one."""
    before = make()
    fewer = HouseholdEngine(
        EngineSettings(sensors=Sensors(activity=(MOTION, "binary_sensor.new"))),
        now=START,
    )
    fewer.restore(before.as_store(), START)
    assert fewer.health.sensors == {MOTION, "binary_sensor.new"}


def test_settings_defaults_and_no_names() -> None:
    sensors = Sensors(activity=(MOTION, DOOR), help_buttons=(MOTION,), door=DOOR)
    assert sensors.watched == [MOTION, DOOR]
    names = NoNames()
    assert names.room_name(MOTION) == MOTION
    assert names.device_name(MOTION) is None
    assert names.last_seen(MOTION) is None
    assert names.context_of(MOTION) == MOTION
    engine = HouseholdEngine(
        replace(EngineSettings(), sensors=sensors),
        now=START,
        local=lambda at: at.astimezone(ZoneInfo("Asia/Shanghai")),
    )
    engine.track_sensors(START)
    assert engine.health.sensors == {MOTION, DOOR}
    result = engine.handle([Tick()], START)
    assert result.wake_at is not None
    assert engine.inactivity_details(START)["compared_with"] == "fixed"
