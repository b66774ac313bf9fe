"""Tests of the sensor-health monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any

import pytest
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell.monitor.health import (
    HealthConfig,
    HealthVerdict,
    Problem,
    SensorHealth,
)

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
KITCHEN = "binary_sensor.kitchen_motion"
BEDROOM = "binary_sensor.bedroom_motion"
SMOKE = "binary_sensor.kitchen_smoke"
ZS = IasZone.ZoneStatus
NOTHING = HealthVerdict(problems={}, next_check=None)


def m(minutes: float) -> datetime:
    """Return T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def hours(value: float) -> datetime:
    """Return T0 plus ``value`` hours."""
    return T0 + timedelta(hours=value)


def tracked(*activity: str, others: tuple[str, ...] = ()) -> SensorHealth:
    """Return a monitor tracking activity sensors and other sensors from T0."""
    health = SensorHealth()
    for sensor in activity:
        health.track(sensor, activity=True, now=T0)
    for sensor in others:
        health.track(sensor, activity=False, now=T0)
    return health


def test_fresh_sensors_have_no_problems() -> None:
    """Tracking alone raises nothing."""
    health = tracked(KITCHEN, others=(SMOKE,))
    assert health.sensors == {KITCHEN, SMOKE}
    assert health.evaluate(hours(1000)) == NOTHING


@pytest.mark.parametrize("state", ["unavailable", "unknown"])
def test_unavailable_for_thirty_minutes(state: str) -> None:
    """An outage is a problem after 30 min, with a timer until then."""
    health = tracked(others=(SMOKE,))
    health.state_changed(SMOKE, state, m(1))
    assert health.evaluate(m(30)) == HealthVerdict(problems={}, next_check=m(31))
    assert health.evaluate(m(31)) == HealthVerdict(
        problems={SMOKE: [Problem.UNAVAILABLE]}, next_check=None
    )


def test_the_earliest_unreliable_state_starts_the_outage() -> None:
    """An outage going from unavailable to unknown is one continuous outage."""
    health = tracked(others=(SMOKE,))
    health.state_changed(SMOKE, "unavailable", m(0))
    health.state_changed(SMOKE, "unknown", m(20))
    assert health.evaluate(m(30)).problems == {SMOKE: [Problem.UNAVAILABLE]}


def test_a_reliable_state_ends_the_outage() -> None:
    """Coming back clears the problem and the timer."""
    health = tracked(others=(SMOKE,))
    health.state_changed(SMOKE, "unavailable", m(0))
    health.state_changed(SMOKE, "off", m(10))
    assert health.evaluate(m(60)) == NOTHING
    health.state_changed(SMOKE, "unavailable", m(70))
    assert health.evaluate(m(80)).next_check == m(100)


def test_next_check_is_the_earliest_outage_deadline() -> None:
    """Several outages: the earliest pending deadline is reported."""
    health = tracked(KITCHEN, others=(SMOKE,))
    health.state_changed(SMOKE, "unavailable", m(10))
    health.state_changed(KITCHEN, "unavailable", m(5))
    assert health.evaluate(m(20)).next_check == m(35)
    health.state_changed("binary_sensor.c", "unavailable", m(1))  # untracked: ignored
    assert health.evaluate(m(20)).next_check == m(35)


def test_battery_low() -> None:
    """Below 15 % is low; None changes nothing; garbage is ignored."""
    health = tracked(KITCHEN)
    health.battery(KITCHEN, 15.0, T0)
    assert health.evaluate(T0) == NOTHING
    health.battery(KITCHEN, 14.9, m(1))
    assert health.evaluate(m(1)).problems == {KITCHEN: [Problem.BATTERY_LOW]}
    for bad in (None, math.nan, math.inf, -1.0, 101.0, "low"):
        health.battery(KITCHEN, bad, m(2))  # type: ignore[arg-type]
    assert health.evaluate(m(2)).problems == {KITCHEN: [Problem.BATTERY_LOW]}
    health.battery(KITCHEN, 80, m(3))
    assert health.evaluate(m(3)) == NOTHING
    health.battery("sensor.untracked", 5.0, m(3))
    assert health.evaluate(m(3)) == NOTHING


@pytest.mark.parametrize(
    ("bits", "problems"),
    [
        (ZS.Tamper, [Problem.TAMPER]),
        (ZS.Trouble, [Problem.TROUBLE]),
        (ZS.Battery, [Problem.BATTERY_LOW]),
        (ZS.Battery_Defect, [Problem.BATTERY_LOW]),
        (ZS.Alarm_1 | ZS.Test | ZS.AC_mains | ZS.Supervision_reports, []),
        (
            ZS.Tamper | ZS.Trouble | ZS.Battery,
            [Problem.BATTERY_LOW, Problem.TAMPER, Problem.TROUBLE],
        ),
    ],
)
def test_zone_status_bits(bits: int, problems: list[Problem]) -> None:
    """IAS ZoneStatus health bits become problems."""
    health = tracked(others=(SMOKE,))
    health.state_changed(SMOKE, "off", T0, zone_status=int(bits))
    assert health.evaluate(T0).problems == ({SMOKE: problems} if problems else {})


def test_zone_status_is_replaced_only_by_a_valid_value_with_a_reliable_state() -> None:
    """None, garbage and unreliable states keep the last bits; a new value replaces them."""
    health = tracked(others=(SMOKE,))
    health.state_changed(SMOKE, "off", T0, zone_status=int(ZS.Tamper))
    health.state_changed(SMOKE, "on", m(1))
    health.state_changed(SMOKE, "off", m(2), zone_status=-5)
    health.state_changed(SMOKE, "unavailable", m(3), zone_status=0)
    assert health.evaluate(m(4)).problems == {SMOKE: [Problem.TAMPER]}
    health.state_changed(SMOKE, "off", m(5), zone_status=0)
    assert health.evaluate(m(5)) == NOTHING


def test_problems_are_sorted() -> None:
    """A sensor's problems come in a stable order."""
    health = tracked(others=(SMOKE,))
    health.state_changed(SMOKE, "off", T0, zone_status=int(ZS.Trouble | ZS.Tamper))
    health.battery(SMOKE, 3.0, T0)
    health.state_changed(SMOKE, "unavailable", T0)
    assert health.evaluate(hours(1)).problems == {
        SMOKE: [
            Problem.BATTERY_LOW,
            Problem.TAMPER,
            Problem.TROUBLE,
            Problem.UNAVAILABLE,
        ]
    }


def test_silent_activity_sensor_while_another_reports() -> None:
    """Silent for 72 h of a living household: another sensor reported 72 h after it."""
    health = tracked(KITCHEN, BEDROOM)
    health.state_changed(BEDROOM, "on", m(1))
    health.state_changed(KITCHEN, "on", hours(72))
    assert health.evaluate(hours(72)) == NOTHING  # bedroom silent only 71 h 59 min
    health.state_changed(KITCHEN, "off", hours(72) + timedelta(minutes=1))
    assert health.evaluate(hours(73)).problems == {BEDROOM: [Problem.SILENT]}
    health.state_changed(BEDROOM, "off", hours(74))
    assert health.evaluate(hours(74)) == NOTHING


def test_never_reported_sensor_counts_from_tracking() -> None:
    """A sensor that never reports is silent 72 h after tracking started."""
    health = tracked(KITCHEN, BEDROOM)
    health.state_changed(KITCHEN, "on", hours(72))
    assert health.evaluate(hours(72)).problems == {BEDROOM: [Problem.SILENT]}


def test_no_silence_when_the_whole_home_is_quiet() -> None:
    """Away on holiday: everything is quiet, nothing is silent."""
    health = tracked(KITCHEN, BEDROOM)
    health.state_changed(BEDROOM, "on", m(0))
    health.state_changed(KITCHEN, "on", m(2))
    assert health.evaluate(hours(24 * 10)) == NOTHING


def test_only_activity_sensors_are_silent_or_count_as_reporting() -> None:
    """Non-activity sensors are never silent and do not prove the home is alive."""
    health = tracked(KITCHEN, others=(SMOKE, "sensor.temperature"))
    health.state_changed("sensor.temperature", "21.5", hours(100))
    health.state_changed(SMOKE, "off", hours(100))
    assert health.evaluate(hours(100)) == NOTHING


def test_replayed_or_unreliable_states_are_not_reports() -> None:
    """The same reliable state again, and unavailable, do not reset the silence clock."""
    health = tracked(KITCHEN, BEDROOM)
    health.state_changed(BEDROOM, "off", m(1))
    health.state_changed(BEDROOM, "unavailable", hours(10))
    health.state_changed(BEDROOM, "off", hours(10.5))  # back, same state: not a report
    health.state_changed(BEDROOM, "unknown", hours(20))
    health.state_changed(KITCHEN, "on", hours(73))
    assert health.evaluate(hours(73)).problems == {
        BEDROOM: [Problem.SILENT, Problem.UNAVAILABLE]
    }


def test_old_timestamps_never_move_the_clocks_back() -> None:
    """A state fed with an old ``at`` (e.g. last_changed at start-up) keeps the clocks."""
    health = tracked(KITCHEN, BEDROOM)
    health.state_changed(BEDROOM, "on", hours(50))
    health.state_changed(BEDROOM, "off", hours(-10))
    health.state_changed(KITCHEN, "on", hours(100))
    assert health.evaluate(hours(100)) == NOTHING
    health.state_changed(KITCHEN, "off", hours(122))
    assert health.evaluate(hours(122)).problems == {BEDROOM: [Problem.SILENT]}


def test_track_again_keeps_clocks_and_untrack_forgets() -> None:
    """Re-tracking only changes the activity flag; untracking drops the sensor."""
    health = tracked(KITCHEN, BEDROOM)
    health.state_changed(KITCHEN, "unavailable", T0)
    health.track(KITCHEN, activity=True, now=hours(5))
    assert health.evaluate(hours(5)).problems == {KITCHEN: [Problem.UNAVAILABLE]}
    health.track(BEDROOM, activity=False, now=hours(80))
    health.state_changed(KITCHEN, "on", hours(80))
    assert (
        health.evaluate(hours(80)) == NOTHING
    )  # bedroom is no longer an activity sensor
    health.untrack(KITCHEN)
    health.untrack("sensor.never_tracked")
    assert health.sensors == {BEDROOM}


def test_round_trip_through_json() -> None:
    """Everything survives a restart."""
    health = tracked(KITCHEN, BEDROOM, others=(SMOKE,))
    health.state_changed(BEDROOM, "on", m(1))
    health.state_changed(KITCHEN, "on", hours(73))
    health.state_changed(SMOKE, "off", T0, zone_status=int(ZS.Tamper))
    health.state_changed(SMOKE, "unavailable", hours(73))
    health.battery(KITCHEN, 10.0, T0)
    stored = json.loads(json.dumps(health.as_dict()))
    restored = SensorHealth.from_dict(stored)
    assert restored.as_dict() == health.as_dict()
    assert restored.evaluate(hours(73)) == health.evaluate(hours(73))
    assert restored.evaluate(hours(74)).problems == {
        BEDROOM: [Problem.SILENT],
        KITCHEN: [Problem.BATTERY_LOW],
        SMOKE: [Problem.TAMPER, Problem.UNAVAILABLE],
    }
    # The restored last reliable state still filters replays.
    restored.state_changed(BEDROOM, "on", hours(74))
    assert restored.evaluate(hours(74)).problems[BEDROOM] == [Problem.SILENT]


@pytest.mark.parametrize("garbage", [None, 1, "x", [], {}, {"sensors": "x"}])
def test_from_dict_garbage_starts_fresh(garbage: Any) -> None:
    """Unusable stored data gives an empty monitor."""
    config = HealthConfig(battery_low_pct=20.0)
    health = SensorHealth.from_dict(garbage, config)
    assert health.config is config
    assert health.sensors == frozenset()


def test_from_dict_drops_only_the_bad_parts() -> None:
    """Bad entries are dropped; bad fields fall back to "nothing known"."""
    seen = T0.isoformat()
    data = {
        "sensors": {
            "sensor.not_a_dict": [],
            7: {"last_seen": seen},
            "sensor.no_clock": {"activity": True},
            "sensor.naive": {"last_seen": "2024-03-04T08:00:00"},
            KITCHEN: {
                "activity": "yes",
                "last_seen": seen,
                "last_report": 5,
                "state": "unavailable",
                "unavailable_since": "later",
                "battery": 250,
                "zone_bits": ["tamper", "alarm_1", ["x"], 3],
            },
            BEDROOM: {
                "activity": True,
                "last_seen": seen,
                "state": 1,
                "zone_bits": "tamper",
            },
        }
    }
    health = SensorHealth.from_dict(data)
    assert health.sensors == {KITCHEN, BEDROOM}
    assert health.config == HealthConfig()
    kitchen = health.as_dict()["sensors"][KITCHEN]
    assert kitchen == {
        "activity": False,
        "last_seen": seen,
        "last_report": None,
        "state": None,
        "unavailable_since": None,
        "battery": None,
        "zone_bits": ["tamper"],
        "heard": None,
    }
    assert health.as_dict()["sensors"][BEDROOM]["zone_bits"] == []
    assert health.evaluate(hours(1)).problems == {KITCHEN: [Problem.TAMPER]}


def test_naive_datetimes_are_refused() -> None:
    """All times must be timezone-aware."""
    naive = datetime(2024, 3, 4, 8, 0)
    health = tracked(KITCHEN)
    for call in (
        lambda: health.track(KITCHEN, activity=True, now=naive),
        lambda: health.state_changed(KITCHEN, "on", naive),
        lambda: health.battery(KITCHEN, 50.0, naive),
        lambda: health.evaluate(naive),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_zone_status_beside_the_state() -> None:
    """Bits reported by the Zigbee stack are kept whatever the entity shows."""
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    health = SensorHealth()
    health.track("binary_sensor.smoke", activity=False, now=start)
    health.state_changed("binary_sensor.smoke", "unavailable", start)
    health.zone_status("binary_sensor.smoke", int(IasZone.ZoneStatus.Tamper))
    assert health.evaluate(start).problems == {"binary_sensor.smoke": [Problem.TAMPER]}
    health.zone_status("binary_sensor.smoke", None)  # nothing new: kept
    health.zone_status("binary_sensor.smoke", 0x1_0000)  # invalid: kept
    health.zone_status("binary_sensor.other", int(IasZone.ZoneStatus.Trouble))
    assert health.evaluate(start).problems == {"binary_sensor.smoke": [Problem.TAMPER]}
    health.zone_status("binary_sensor.smoke", 0)
    assert health.evaluate(start).problems == {}


def test_not_heard_from_by_the_stack() -> None:
    """A device the stack hasn't heard from for 25 h is a problem, whatever it shows."""
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    health = SensorHealth()
    health.track("binary_sensor.motion", activity=True, now=start)
    health.track("binary_sensor.door", activity=False, now=start)
    health.heard("binary_sensor.motion", None)  # unknown: nothing
    health.heard("binary_sensor.nobody", start)  # untracked: ignored
    health.heard("binary_sensor.motion", start - timedelta(hours=1))
    verdict = health.evaluate(start)
    assert verdict.problems == {}
    assert verdict.next_check == start + timedelta(hours=24)
    health.heard("binary_sensor.motion", start - timedelta(hours=2))  # older: ignored
    late = start + timedelta(hours=24)
    assert health.evaluate(late).problems == {
        "binary_sensor.motion": [Problem.NOT_HEARD]
    }
    # The door has no last-seen source: never judged this way.
    assert "binary_sensor.door" not in health.evaluate(late).problems

    # Heard again (stack's time or a state change): fine again.
    health.state_changed("binary_sensor.motion", "on", late)
    assert health.evaluate(late).problems == {}
    restored = SensorHealth.from_dict(json.loads(json.dumps(health.as_dict())))
    assert restored.evaluate(late + timedelta(hours=25)).problems == {
        "binary_sensor.motion": [Problem.NOT_HEARD]
    }
    # An outage is already the "unavailable" problem: not counted twice.
    restored.state_changed("binary_sensor.motion", "unavailable", late)
    problems = restored.evaluate(late + timedelta(hours=26)).problems
    assert problems == {"binary_sensor.motion": [Problem.UNAVAILABLE]}


def test_last_heard() -> None:
    """The stack's last-seen time is kept per tracked sensor."""
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    health = SensorHealth()
    health.track("binary_sensor.motion", activity=True, now=start)
    assert health.last_heard("binary_sensor.motion") is None
    assert health.last_heard("binary_sensor.other") is None
    health.heard("binary_sensor.motion", start)
    assert health.last_heard("binary_sensor.motion") == start
