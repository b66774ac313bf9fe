"""Tests of away mode (manual switch and door-based automatic away)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.silver_bell.core.monitor.away import (
    AwayConfig,
    AwayState,
    AwayTracker,
)

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
AUTO = AwayConfig(auto=True)
HOME = AwayState(away=False, manual=False, since=None, too_long=False, next_check=None)


def m(minutes: float) -> datetime:
    """Return T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def left_home(tracker: AwayTracker, opened: float = 0, closed: float = 1) -> None:
    """Open and close the door at the given minutes."""
    tracker.door("on", m(opened))
    tracker.door("off", m(closed))


def test_defaults_are_home_and_auto_on() -> None:
    """Auto-away is on by default (the glue needs a door sensor to use it)."""
    tracker = AwayTracker()
    assert tracker.config == AwayConfig()
    assert tracker.config.auto
    assert tracker.evaluate(m(600)) == HOME
    left_home(tracker)
    assert tracker.evaluate(m(31)).away


def test_auto_away_off_ignores_the_door() -> None:
    """With auto-away off a door cycle alone changes nothing."""
    tracker = AwayTracker(AwayConfig(auto=False))
    left_home(tracker)
    assert tracker.evaluate(m(600)) == HOME


def test_arrival_is_watched_and_a_second_cycle_is_a_departure() -> None:
    """The door cycle that ends auto-away is an arrival: no new quiet period."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    assert tracker.evaluate(m(60)).away
    left_home(tracker, 120, 121)  # coming home, then nothing (a fall in the hall)
    assert tracker.evaluate(m(600)) == HOME
    left_home(tracker, 610, 611)  # out again without moving about inside
    assert tracker.evaluate(m(641)).since == m(611)


def test_activity_during_the_arrival_cycle_keeps_it_an_arrival_until_closed() -> None:
    """Activity after the arrival's opening clears the arrival flag."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    tracker.door("on", m(120))
    tracker.activity(m(120.5))
    tracker.door("off", m(121))
    assert tracker.evaluate(m(200)).since == m(121)


def test_arrival_survives_a_restart_between_open_and_close() -> None:
    """The arrival flag is persisted while the door is open."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    tracker.door("on", m(120))
    restored = AwayTracker.from_dict(json.loads(json.dumps(tracker.as_dict())), AUTO)
    restored.door("off", m(121))
    assert restored.evaluate(m(600)) == HOME


def test_manual_away_and_the_cap() -> None:
    """Manual away holds from the switch; too long after 12 h."""
    tracker = AwayTracker()
    tracker.set_manual(True, T0)
    assert tracker.evaluate(m(10)) == AwayState(
        away=True, manual=True, since=T0, too_long=False, next_check=m(720)
    )
    assert tracker.evaluate(m(720)) == AwayState(
        away=True, manual=True, since=T0, too_long=True, next_check=None
    )


def test_manual_away_survives_activity_and_repeated_switching_on() -> None:
    """A visitor moving about does not end manual away; switching on again keeps the start."""
    tracker = AwayTracker(AUTO)
    tracker.set_manual(True, T0)
    tracker.activity(m(5))
    tracker.set_manual(True, m(10))
    state = tracker.evaluate(m(20))
    assert state.away
    assert state.since == T0


def test_manual_off_is_home() -> None:
    """Switching off ends manual away."""
    tracker = AwayTracker()
    tracker.set_manual(True, T0)
    tracker.set_manual(False, m(30))
    assert tracker.evaluate(m(31)) == HOME


def test_auto_away_after_quiet_period_since_the_door_closed() -> None:
    """Door opened and closed, then 30 min without activity → away since the close."""
    tracker = AwayTracker(AUTO)
    tracker.activity(m(-1))  # walking to the door
    left_home(tracker, 0, 1)
    assert tracker.evaluate(m(20)) == AwayState(
        away=False, manual=False, since=None, too_long=False, next_check=m(31)
    )
    # Inferred, nothing learned yet: checked 2 h after the door closed.
    assert tracker.evaluate(m(31)) == AwayState(
        away=True,
        manual=False,
        since=m(1),
        too_long=False,
        next_check=m(121),
        check_at=m(121),
    )
    assert tracker.evaluate(m(121)) == AwayState(
        away=True,
        manual=False,
        since=m(1),
        too_long=False,
        next_check=m(721),
        check_at=m(121),
        check_due=True,
    )
    assert tracker.evaluate(m(721)) == AwayState(
        away=True,
        manual=False,
        since=m(1),
        too_long=True,
        next_check=None,
        check_at=m(121),
    )


@pytest.mark.parametrize("activity_at", [1, 15, 45])
def test_activity_at_or_after_the_close_ends_auto_away(activity_at: float) -> None:
    """Activity during the quiet period or while away means someone is home."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    tracker.activity(m(activity_at))
    assert tracker.evaluate(m(600)) == HOME


def test_activity_before_the_close_does_not_count() -> None:
    """Motion reported late, timed before the close, does not cancel."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    tracker.activity(m(0.5))
    assert tracker.evaluate(m(31)).away


def test_opening_the_door_again_ends_auto_away_and_the_next_close_restarts() -> None:
    """Someone at the door: away ends; after moving about, the next close restarts."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    tracker.door("on", m(120))
    assert tracker.evaluate(m(125)) == HOME
    tracker.door("off", m(121))
    tracker.activity(m(122))
    left_home(tracker, 130, 131)
    assert tracker.evaluate(m(140)).next_check == m(161)
    assert tracker.evaluate(m(161)).since == m(131)


def test_a_close_needs_an_open_first() -> None:
    """A door reported closed at start-up starts nothing; unreliable states are ignored."""
    tracker = AwayTracker(AUTO)
    tracker.door("off", T0)
    assert tracker.evaluate(m(60)) == HOME
    tracker.door("on", m(60))
    tracker.door("unavailable", m(61))
    tracker.door("unknown", m(61))
    tracker.door("off", m(62))
    assert tracker.evaluate(m(92)).since == m(62)


def test_open_door_is_never_away() -> None:
    """A door left open does not start auto-away."""
    tracker = AwayTracker(AUTO)
    tracker.door("on", T0)
    assert tracker.evaluate(m(600)) == HOME


def test_manual_and_auto_together() -> None:
    """Since is the earlier start; the cap counts from it; switching off ends both."""
    tracker = AwayTracker(AUTO)
    left_home(tracker, 0, 1)
    tracker.set_manual(True, m(10))
    assert tracker.evaluate(m(20)) == AwayState(
        away=True, manual=True, since=m(10), too_long=False, next_check=m(31)
    )
    assert tracker.evaluate(m(40)) == AwayState(
        away=True, manual=True, since=m(1), too_long=False, next_check=m(721)
    )
    tracker.set_manual(False, m(50))
    assert tracker.evaluate(m(60)) == HOME


def test_activity_keeps_the_latest_time() -> None:
    """Out-of-order activity does not move the last activity back."""
    tracker = AwayTracker(AUTO)
    tracker.activity(m(10))
    tracker.activity(m(5))
    assert tracker.as_dict()["last_activity"] == m(10).isoformat()


def test_round_trip_through_json() -> None:
    """Away survives a restart."""
    tracker = AwayTracker(AUTO)
    tracker.activity(m(-1))
    left_home(tracker, 0, 1)
    tracker.set_manual(True, m(2))
    stored = json.loads(json.dumps(tracker.as_dict()))
    restored = AwayTracker.from_dict(stored, AUTO)
    assert restored.config is AUTO
    assert restored.as_dict() == tracker.as_dict()
    assert restored.evaluate(m(40)) == tracker.evaluate(m(40))
    # A pending open survives too.
    tracker = AwayTracker(AUTO)
    tracker.door("on", T0)
    restored = AwayTracker.from_dict(json.loads(json.dumps(tracker.as_dict())), AUTO)
    restored.door("off", m(1))
    assert restored.evaluate(m(31)).since == m(1)


@pytest.mark.parametrize(
    "garbage", [None, 3, "x", [], {}, {"manual_since": 5, "door_closed": "?"}]
)
def test_from_dict_garbage_starts_fresh(garbage: Any) -> None:
    """Unusable stored data means home (inactivity monitoring stays on)."""
    tracker = AwayTracker.from_dict(garbage, AUTO)
    assert tracker.evaluate(m(60)) == HOME


@pytest.mark.parametrize(
    "data",
    [
        # activity already followed the close
        {"door_closed": m(1).isoformat(), "last_activity": m(2).isoformat()},
        # the door was open again after the close
        {"door_closed": m(1).isoformat(), "door_opened": m(3).isoformat()},
        # naive timestamp
        {"door_closed": "2024-03-04T09:01:00"},
    ],
)
def test_from_dict_drops_inconsistent_door_close(data: dict[str, Any]) -> None:
    """A stored close that cannot mean away is dropped."""
    assert not AwayTracker.from_dict(data, AUTO).evaluate(m(600)).away


def test_from_dict_keeps_a_valid_close() -> None:
    """A close with earlier activity is kept."""
    data = {"door_closed": m(1).isoformat(), "last_activity": m(0).isoformat()}
    assert AwayTracker.from_dict(data, AUTO).evaluate(m(31)).since == m(1)


def test_naive_datetimes_are_refused() -> None:
    """All times must be timezone-aware."""
    naive = datetime(2024, 3, 4, 9, 0)
    tracker = AwayTracker(AUTO)
    for call in (
        lambda: tracker.set_manual(True, naive),
        lambda: tracker.door("on", naive),
        lambda: tracker.activity(naive),
        lambda: tracker.evaluate(naive),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()
