"""Automatic away must not hide a collapse: learned outings, the check, presence.

Issue 17, item 3: an inferred outing (door, then silence) is checked against the
person's learned outing lengths — a short cap while few are learned — and the
engine turns the check into the inactivity check-in; a presence entity, where
chosen, must agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import json
from zoneinfo import ZoneInfo

import pytest

from custom_components.silver_bell.core.monitor.away import (
    PRESENCE_AWAY,
    PRESENCE_HOME,
    AwayConfig,
    AwayTracker,
    presence_of,
)
from custom_components.silver_bell.core.monitor.engine import (
    ORIGIN_AWAY_CHECK,
    ORIGIN_CEILING,
    ORIGIN_LEARNED,
    ORIGIN_WINDOWS,
    SOURCE_AWAY_CHECK,
    EngineConfig,
    InactivityEngine,
)
from custom_components.silver_bell.core.monitor.inactivity import Level
from custom_components.silver_bell.core.monitor.replay import (
    EventLog,
    LogEvent,
    Settings,
    replay,
    score,
)
from custom_components.silver_bell.core.monitor.routine import RoutineConfig

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ZONE = ZoneInfo("Asia/Shanghai")


def m(minutes: float) -> datetime:
    """Return T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def outing(tracker: AwayTracker, start: float, minutes: float) -> None:
    """Leave at ``start`` (door cycle) and come back ``minutes`` later by the door."""
    tracker.door("on", m(start))
    tracker.door("off", m(start + 1))
    tracker.evaluate(m(start + 31))
    tracker.door("on", m(start + 1 + minutes))
    tracker.door("off", m(start + 2 + minutes))
    tracker.activity(m(start + 3 + minutes))


def test_presence_states() -> None:
    """Home is home; unavailable/unknown tell nothing; anything else is not home."""
    assert presence_of("home") == PRESENCE_HOME
    assert presence_of("not_home") == PRESENCE_AWAY
    assert presence_of("Work") == PRESENCE_AWAY
    for nothing in ("unavailable", "unknown", "", None):
        assert presence_of(nothing) is None


def test_short_check_while_few_outings_are_learned() -> None:
    """No outing learned: an inferred outing is checked 2 h after the door closed."""
    tracker = AwayTracker()
    assert tracker.check_after == 2 * HOUR
    tracker.door("on", m(0))
    tracker.door("off", m(1))
    state = tracker.evaluate(m(60))
    assert state.away
    assert state.check_at == m(121)
    assert state.next_check == m(121)
    assert not state.check_due
    assert tracker.evaluate(m(121)).check_due
    # The cap stays the hard cap.
    assert tracker.evaluate(m(721)).too_long
    assert not tracker.evaluate(m(721)).check_due


def test_outings_are_learned_and_set_the_check() -> None:
    """Completed outings (arrival or activity) are learned; the check follows them."""
    tracker = AwayTracker()
    for index, minutes in enumerate((60, 90, 180, 240)):
        outing(tracker, index * 1000, minutes)
    assert tracker.outings == tuple(
        timedelta(minutes=value) for value in (60, 90, 180, 240)
    )
    assert tracker.check_after == 2 * HOUR  # four are not yet a handful
    # Ended by activity inside (no arrival through the door): learned too.
    tracker.door("on", m(5000))
    tracker.door("off", m(5001))
    tracker.activity(m(5301))
    assert tracker.outings[-1] == timedelta(minutes=300)
    # The 95 % quantile of 60, 90, 180, 240, 300 min (interpolated): 288 min.
    assert tracker.check_after == timedelta(minutes=288)
    tracker.door("on", m(6000))
    tracker.door("off", m(6001))
    assert tracker.evaluate(m(6100)).check_at == m(6001 + 288)


def test_the_learned_check_has_a_floor_and_long_outings_are_censored() -> None:
    """Short outings never check before 2 h; an outing over the cap counts as the cap."""
    tracker = AwayTracker(AwayConfig(max_outings=6))
    for index in range(6):
        outing(tracker, index * 1000, 40)
    assert tracker.check_after == 2 * HOUR
    outing(tracker, 7000, 20 * 60)
    assert tracker.outings[-1] == 12 * HOUR
    assert len(tracker.outings) == 6  # the newest are kept
    for index in range(6):
        outing(tracker, 10000 + index * 2000, 13 * 60)
    # Usual outings reach the cap: no check before it (the cap is the hard cap).
    assert tracker.check_after == 12 * HOUR
    tracker.door("on", m(30000))
    tracker.door("off", m(30001))
    state = tracker.evaluate(m(30100))
    assert state.away
    assert state.check_at is None
    assert state.next_check == m(30001 + 720)


def test_no_check_just_before_the_cap() -> None:
    """A check that would come less than 2 h before the 12 h cap is left to the cap."""
    tracker = AwayTracker(AwayConfig())
    for index in range(5):
        outing(tracker, index * 2000, 9 * 60 + 30 + index * 10)  # 9.5-10.2 h
    # The 95 % quantile is about 10.1 h: within 2 h of the cap, so only the cap.
    assert tracker.check_after == 12 * HOUR
    tracker = AwayTracker(AwayConfig())
    for index in range(5):
        outing(tracker, index * 2000, 8 * 60 + index * 10)  # 8.0-8.7 h
    assert 8 * HOUR < tracker.check_after < 10 * HOUR


def test_manual_away_is_never_checked_nor_learned() -> None:
    """The family said the person is away: the switch keeps its behaviour."""
    tracker = AwayTracker()
    tracker.set_manual(True, m(0))
    tracker.door("on", m(1))
    tracker.door("off", m(2))
    state = tracker.evaluate(m(300))
    assert state.away
    assert state.manual
    assert state.check_at is None
    assert not state.check_due
    tracker.door("on", m(400))
    tracker.door("off", m(401))
    assert tracker.outings == ()


def test_presence_home_means_no_outing() -> None:
    """The phone is home: the door and the silence are no outing."""
    tracker = AwayTracker()
    tracker.presence("home", m(0))
    assert tracker.presence_state == PRESENCE_HOME
    tracker.door("on", m(0))
    tracker.door("off", m(1))
    assert not tracker.evaluate(m(300)).away
    # The phone leaves a little after the door (GPS lag): away since the close.
    tracker.presence("not_home", m(310))
    state = tracker.evaluate(m(310))
    assert state.away
    assert state.since == m(1)
    # Confirmed: no check before the cap.
    assert state.check_at is None
    assert state.next_check == m(721)


def test_presence_coming_home_ends_the_outing_and_is_learned() -> None:
    """Presence home during an automatic away: the person is back."""
    tracker = AwayTracker()
    tracker.door("on", m(0))
    tracker.door("off", m(1))
    assert tracker.evaluate(m(40)).away
    tracker.presence("home", m(91))
    assert not tracker.evaluate(m(92)).away
    assert tracker.outings == (timedelta(minutes=90),)


@pytest.mark.parametrize("state", ["unavailable", "unknown", None])
def test_presence_without_information_falls_back_to_the_check(
    state: str | None,
) -> None:
    """unavailable/unknown is never trusted as away: the outing is checked."""
    tracker = AwayTracker()
    tracker.presence("not_home", m(0))
    tracker.presence(state, m(0))
    tracker.door("on", m(0))
    tracker.door("off", m(1))
    assert tracker.evaluate(m(60)).check_at == m(121)


def test_outings_survive_a_restart_and_old_state_loads() -> None:
    """Outings are persisted with the tracker; state without them loads."""
    tracker = AwayTracker()
    for index, minutes in enumerate((60, 90, 180, 240, 300)):
        outing(tracker, index * 1000, minutes)
    stored = json.loads(json.dumps(tracker.as_dict()))
    restored = AwayTracker.from_dict(stored)
    assert restored.outings == tracker.outings
    assert restored.check_after == tracker.check_after
    old = {key: value for key, value in stored.items() if key != "outings"}
    assert AwayTracker.from_dict(old).outings == ()
    assert AwayTracker.from_dict(old).check_after == 2 * HOUR
    bad = {**stored, "outings": [60, -1, "x", True, 3.5, 120]}
    assert AwayTracker.from_dict(bad).outings == (
        timedelta(seconds=60),
        timedelta(seconds=120),
    )
    assert AwayTracker.from_dict({**stored, "outings": "x"}).outings == ()
    few = AwayTracker.from_dict(stored, AwayConfig(max_outings=2))
    assert len(few.outings) == 2


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time ``day`` days after Monday 4 March 2024."""
    return datetime.combine(
        date(2024, 3, 4) + timedelta(days=day), time(hour, minute), ZONE
    )


def leave(engine: InactivityEngine, when: datetime) -> None:
    """A door cycle at ``when`` (both edges are activity and door edges)."""
    for state, minute in (("on", 0), ("off", 1)):
        moment = when + timedelta(minutes=minute)
        engine.activity(moment, "hall", front_door=True)
        engine.door(state, moment)
        engine.evaluate(moment)


def test_the_engine_checks_an_inferred_outing() -> None:
    """A collapse right after the door closed is found by the check, once."""
    engine = InactivityEngine(last_activity=at(0, 9))
    engine.activity(at(0, 9), "kitchen")
    leave(engine, at(0, 10))
    away = engine.evaluate(at(0, 10, 31))
    assert away.away.away
    assert away.verdict is None
    assert away.next_check == at(0, 12, 1)
    checked = engine.evaluate(at(0, 12, 1))
    assert checked.away.away
    assert checked.verdict is not None
    assert checked.verdict.level is Level.ALARM
    assert checked.verdict.source == SOURCE_AWAY_CHECK
    assert checked.alarm is not None
    assert checked.alarm.origin == ORIGIN_AWAY_CHECK
    assert checked.alarm.since == at(0, 10, 1)
    assert checked.next_check == at(0, 22, 1)  # the away cap still comes
    assert engine.evaluate(at(0, 13)).alarm is None  # once per silence
    # The person comes home: the outing is learned, the clock restarts.
    leave(engine, at(0, 15))
    assert engine.away.outings == (timedelta(hours=4, minutes=59),)
    assert not engine.evaluate(at(0, 15, 2)).away.away


def test_the_engine_with_presence() -> None:
    """Presence home: judged as at home; presence away: only the cap."""
    engine = InactivityEngine(last_activity=at(0, 9))
    engine.presence("home", at(0, 9))
    engine.activity(at(0, 9), "kitchen")
    leave(engine, at(0, 10))
    home = engine.evaluate(at(0, 11))
    assert not home.away.away
    assert home.verdict is not None  # inactivity judged as at home
    engine.presence("not_home", at(0, 11))
    out = engine.evaluate(at(0, 12, 30))
    assert out.away.away
    assert out.verdict is None
    assert out.next_check == at(0, 22, 1)


def test_alarm_origins() -> None:
    """Each alarm says which part raised it: windows, ceiling, learned routine."""
    engine = InactivityEngine(last_activity=at(0, 9))
    engine.activity(at(0, 9), "kitchen")
    alarm = engine.evaluate(at(0, 12)).alarm
    assert alarm is not None
    assert alarm.origin == ORIGIN_WINDOWS
    config = EngineConfig(routine=RoutineConfig(learning_days=1, min_samples=3))
    learned = InactivityEngine(config, last_activity=at(0, 7))
    for day in range(3):
        for hour in range(7, 22):
            learned.activity(at(day, hour), "kitchen")
            learned.activity(at(day, hour, 20), "kitchen")
    learned.activity(at(3, 9), "kitchen")
    found = learned.evaluate(at(3, 12))
    assert found.alarm is not None
    assert found.alarm.origin == ORIGIN_LEARNED
    # A ceiling alarm: a routine that would wait longer than the ceiling.
    lazy = InactivityEngine(
        EngineConfig(
            routine=RoutineConfig(
                learning_days=1, min_samples=3, floor=timedelta(hours=11)
            )
        ),
        last_activity=at(0, 7),
    )
    for day in range(3):
        for hour in range(7, 22):
            lazy.activity(at(day, hour), "kitchen")
    lazy.activity(at(3, 9), "kitchen")
    ceiling = lazy.evaluate(at(3, 15))
    assert ceiling.alarm is not None
    assert ceiling.alarm.origin == ORIGIN_CEILING


def _home_log(collapse_day: int) -> EventLog:
    """Kitchen every 20 min by day and a short outing each day.

    On ``collapse_day`` the person closes the door from the inside and nothing
    moves again.
    """
    events: list[LogEvent] = []
    for day in range(collapse_day + 1):
        for hour in range(7, 22):
            for minute in (0, 20, 40):
                moment = at(day, hour, minute)
                if day == collapse_day and moment >= at(day, 10):
                    break
                if not at(day, 10) <= moment < at(day, 11):
                    events.append(LogEvent(at=moment, sensor="k", room="kitchen"))
        for minute, role in ((1, "door_open"), (2, "door_closed")):
            events.append(
                LogEvent(at=at(day, 10, minute), sensor="d", room="hall", role=role)
            )
        if day < collapse_day:  # back at 10:59
            for minute, role in ((58, "door_open"), (59, "door_closed")):
                events.append(
                    LogEvent(at=at(day, 10, minute), sensor="d", room="hall", role=role)
                )
    events.append(LogEvent(at=at(collapse_day + 1, 9), sensor="k", room="kitchen"))
    events.sort(key=lambda event: event.at)
    # A known absence elsewhere: collapses are drawn in the day's silence too
    # (not left out as an outing by the door rule).
    return EventLog(events=tuple(events), away=((at(0, 3), at(0, 3, 30)),))


def test_replay_scores_the_check() -> None:
    """The replay counts the check: its alarm, and no collapse left to the cap."""
    log = _home_log(collapse_day=9)
    result = replay(log, Settings(), zone=ZONE, collapses=50, seed=1)
    overall = score(result)
    checks = [alarm for alarm in result.alarms if alarm.rule == SOURCE_AWAY_CHECK]
    # Learned outings of about 57 min: the check comes at the 2 h floor.
    assert [alarm.at for alarm in checks] == [at(9, 12, 2)]
    assert checks[0].escalated
    assert overall.escalated_away_check == 1
    assert overall.escalated == (
        overall.escalated_learned
        + overall.escalated_ceiling
        + overall.escalated_windows
        + overall.escalated_away_check
    )
    # Only collapses drawn after the cap had passed (the next morning) are left to it.
    assert all(item.at >= at(9, 22, 2) for item in result.collapses if item.by_away_cap)
    collapsed = [item for item in result.collapses if item.by_away_check]
    assert collapsed
    assert all(item.checked is not None for item in collapsed)
    assert all(
        item.detected == max(item.at, at(9, 12, 2))
        for item in collapsed
        if item.at > at(9, 10)
    )
    assert overall.by_away_check == len(collapsed)
