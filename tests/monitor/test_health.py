"""Tests of the sensor-health monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any

import pytest
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell import const
from custom_components.silver_bell.core.monitor.health import (
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
        "dropout": True,
        "outages": [],
        "flapping_since": None,
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


# ------------------------------------------------------------------ flapping
HELP = "binary_sensor.help_button"
FLAPPING = Problem.FLAPPING


def s(minutes: float, seconds: float = 0) -> datetime:
    """Return T0 plus ``minutes`` and ``seconds``."""
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def outage(
    health: SensorHealth,
    sensor: str,
    start: datetime,
    end: datetime | None,
    *,
    state: str = "off",
    device_dropout: bool = True,
) -> None:
    """Drop ``sensor`` out at ``start`` and bring it back at ``end`` (None: stays out)."""
    health.state_changed(sensor, "unavailable", start, device_dropout=device_dropout)
    if end is not None:
        health.state_changed(sensor, state, end)


def test_defaults_are_the_shipped_constants() -> None:
    """The monitor's defaults are const.py's (one place per fact; the glue passes them)."""
    config = HealthConfig()
    assert config.flapping_outages == const.DEFAULT_SENSOR_FLAPPING_OUTAGES
    assert config.flapping_within == timedelta(
        minutes=const.DEFAULT_SENSOR_FLAPPING_WITHIN_MIN
    )
    assert config.flapping_share == const.DEFAULT_SENSOR_FLAPPING_SHARE
    assert config.flapping_share_within == timedelta(
        minutes=const.DEFAULT_SENSOR_FLAPPING_SHARE_WITHIN_MIN
    )
    assert config.steady_after == timedelta(minutes=const.DEFAULT_SENSOR_STEADY_MIN)
    assert config.outages_kept == const.SENSOR_OUTAGES_KEPT
    assert config.unavailable_after == timedelta(
        minutes=const.DEFAULT_SENSOR_UNAVAILABLE_MIN
    )
    assert config.flapping_unavailable == timedelta(minutes=45)


def test_four_short_outages_within_an_hour_flap_until_steady() -> None:
    """Four dropouts of a minute within an hour: flapping, clear 60 min after the last."""
    health = tracked(KITCHEN, others=(SMOKE,))
    for start in (0, 15, 30):
        outage(health, SMOKE, m(start), m(start + 1))
        assert health.evaluate(m(start + 1)) == NOTHING
    outage(health, SMOKE, m(45), None)  # the fourth: flapping at once, while out
    assert health.evaluate(m(45)) == HealthVerdict(
        problems={SMOKE: [FLAPPING]}, next_check=m(75)
    )
    health.state_changed(SMOKE, "off", m(46))  # back: flagged until steady
    assert health.evaluate(m(46)) == HealthVerdict(
        problems={SMOKE: [FLAPPING]}, next_check=m(106)
    )
    assert health.evaluate(s(105, 59)).problems == {SMOKE: [FLAPPING]}
    assert health.evaluate(m(106)) == NOTHING
    # Nothing new happened: the same verdicts after a restart.
    restored = SensorHealth.from_dict(json.loads(json.dumps(health.as_dict())))
    assert restored.evaluate(m(105)).problems == {SMOKE: [FLAPPING]}
    assert restored.evaluate(m(106)) == NOTHING


@pytest.mark.parametrize(
    ("fourth", "flapping"),
    [
        (s(59, 59), True),  # four starts less than 60 min apart
        (m(60), False),  # the first began 60 min before the fourth: three in the hour
    ],
)
def test_the_hour_boundary(fourth: datetime, flapping: bool) -> None:
    """Four outages count when they begin less than 60 minutes apart."""
    health = tracked(others=(SMOKE,))
    for start in (0, 20, 40):
        outage(health, SMOKE, m(start), s(start, 5))
    outage(health, SMOKE, fourth, fourth + timedelta(seconds=5))
    expected = {SMOKE: [FLAPPING]} if flapping else {}
    assert health.evaluate(fourth + timedelta(seconds=5)).problems == expected


def test_a_single_short_outage_or_three_in_an_hour_are_not_flapping() -> None:
    """One dropout (or three an hour, e.g. a restart or two) is ordinary radio life."""
    health = tracked(KITCHEN, others=(SMOKE,))
    outage(health, SMOKE, m(0), m(10))
    assert health.evaluate(m(10)) == NOTHING
    for start in (20, 40):
        outage(health, KITCHEN, m(start), m(start + 2))
    outage(health, KITCHEN, m(60), m(62))
    assert health.evaluate(m(62)) == NOTHING


def test_one_long_outage_is_unavailable_not_flapping() -> None:
    """An outage of 50 min is 'unavailable'; once it is over, nothing is left."""
    health = tracked(others=(SMOKE,))
    outage(health, SMOKE, m(0), None)
    assert health.evaluate(m(49)).problems == {SMOKE: [Problem.UNAVAILABLE]}
    health.state_changed(SMOKE, "off", m(50))
    assert health.evaluate(m(50)) == NOTHING


def test_unavailable_for_a_quarter_of_three_hours() -> None:
    """45 min out of 3 h over two outages is flapping, raised while the second lasts."""
    health = tracked(others=(SMOKE,))
    outage(health, SMOKE, m(0), m(25))
    outage(health, SMOKE, m(40), None)
    # 35 of the 45 minutes: look again when the 45 can be reached.
    assert health.evaluate(m(50)) == HealthVerdict(problems={}, next_check=m(60))
    assert health.evaluate(s(59, 59)).problems == {}
    assert health.evaluate(m(60)) == HealthVerdict(
        problems={SMOKE: [FLAPPING]},
        next_check=m(70),  # the unavailable deadline
    )
    health.state_changed(SMOKE, "off", m(62))
    # Steady from 62 (clear at 122 at the earliest), but 45 of the last 3 h are
    # unavailable until the window starts at 0:02: clear at 3:02.
    assert health.evaluate(m(62)) == HealthVerdict(
        problems={SMOKE: [FLAPPING]}, next_check=m(182)
    )
    assert health.evaluate(m(181)).problems == {SMOKE: [FLAPPING]}
    assert health.evaluate(m(182)) == NOTHING


def test_a_quarter_needs_two_outages_in_the_window() -> None:
    """A long outage and a blip more than 3 h later are not flapping."""
    health = tracked(others=(SMOKE,))
    outage(health, SMOKE, m(0), m(50))
    outage(health, SMOKE, m(231), m(232))  # 3 h after the first ended: alone
    assert health.evaluate(m(232)) == NOTHING
    health = tracked(others=(SMOKE,))
    outage(health, SMOKE, m(0), m(50))
    outage(health, SMOKE, m(150), m(151))  # both in the window: 51 min
    # Steady at 3:31; the share falls to 45 min when the window starts at 0:06
    # (3:06), and the window would hold one outage from 3:50.
    assert health.evaluate(m(151)) == HealthVerdict(
        problems={SMOKE: [FLAPPING]}, next_check=m(211)
    )
    assert health.evaluate(m(211)) == NOTHING


def test_a_sensor_out_25_minutes_of_every_90_stays_flagged() -> None:
    """Periodic long dropouts: flagged from the second on, never cleared in between."""
    health = tracked(others=(SMOKE,))
    raised_at = None
    for cycle in range(6):
        start = cycle * 90
        outage(health, SMOKE, m(start), m(start + 25))
        for minute in range(start + 25, start + 90):
            problems = health.evaluate(m(minute)).problems
            if raised_at is None and problems:
                raised_at = minute
            assert problems == ({SMOKE: [FLAPPING]} if raised_at is not None else {})
    assert raised_at == 115  # the end of the second outage (50 min unavailable)


def test_a_new_dropout_before_the_steady_period_ends_keeps_it() -> None:
    """Steady means 60 min without any dropout; a later flapping episode is raised again."""
    health = tracked(others=(SMOKE,))
    for start in (0, 10, 20, 30):
        outage(health, SMOKE, m(start), m(start + 1))
    assert health.evaluate(m(31)).next_check == m(91)
    outage(health, SMOKE, m(80), m(81))  # one more, 49 min later
    assert health.evaluate(m(140)).problems == {SMOKE: [FLAPPING]}
    assert health.evaluate(m(141)) == NOTHING
    outage(health, SMOKE, m(200), m(201))  # alone after the steady hour: nothing
    assert health.evaluate(m(201)) == NOTHING
    for start in (210, 220, 230):  # four within the hour again
        outage(health, SMOKE, m(start), m(start + 1))
    assert health.evaluate(m(231)).problems == {SMOKE: [FLAPPING]}


def test_flapping_and_offline_together() -> None:
    """A flapping sensor that then stays out is both; back, it is flapping until steady."""
    health = tracked(others=(SMOKE,))
    for start in (0, 10, 20, 30):
        outage(health, SMOKE, m(start), m(start + 1))
    outage(health, SMOKE, m(40), None)
    assert health.evaluate(m(70)) == HealthVerdict(
        problems={SMOKE: [FLAPPING, Problem.UNAVAILABLE]}, next_check=None
    )
    health.state_changed(SMOKE, "off", m(75))
    # 35 + 4 min unavailable is under 45: steady at 2:15.
    assert health.evaluate(m(75)) == HealthVerdict(
        problems={SMOKE: [FLAPPING]}, next_check=m(135)
    )


@pytest.mark.parametrize("sensor", [SMOKE, HELP, KITCHEN])
def test_every_watched_sensor_can_flap(sensor: str) -> None:
    """Safety devices (smoke detector, help button) flap like motion sensors."""
    health = tracked(KITCHEN, others=(SMOKE, HELP))
    for start in (0, 5, 10, 15):
        outage(health, sensor, m(start), m(start + 1), state="on")
    assert health.evaluate(m(16)).problems == {sensor: [FLAPPING]}


def test_dropouts_written_by_home_assistant_do_not_count() -> None:
    """Restarts and reloads: not flapping, still offline, never steady while out."""
    health = tracked(others=(SMOKE,))
    for start in (0, 10, 20, 30):
        outage(health, SMOKE, m(start), m(start + 1), device_dropout=False)
    assert health.evaluate(m(31)) == NOTHING
    outage(health, SMOKE, m(40), None, device_dropout=False)
    assert health.evaluate(m(70)).problems == {SMOKE: [Problem.UNAVAILABLE]}
    health.state_changed(SMOKE, "off", m(71))
    assert health.evaluate(m(71)) == NOTHING

    health = tracked(others=(SMOKE,))
    for start in (0, 10, 20, 30):
        outage(health, SMOKE, m(start), m(start + 1))
    outage(health, SMOKE, m(60), None, device_dropout=False)  # a restart
    assert health.evaluate(m(120)).problems == {SMOKE: [FLAPPING, Problem.UNAVAILABLE]}
    health.state_changed(SMOKE, "off", m(125))
    # Steady counts from the device's own last outage: clear once it is back.
    assert health.evaluate(m(125)) == NOTHING


def test_flapping_state_survives_a_restart() -> None:
    """Outages and the raised rule are stored; the restored monitor carries on."""
    health = tracked(KITCHEN, others=(SMOKE,))
    for start in (0, 10, 20):
        outage(health, SMOKE, m(start), m(start + 1))
    outage(health, SMOKE, m(30), None)
    stored = json.loads(json.dumps(health.as_dict()))
    assert stored["sensors"][SMOKE]["outages"] == [
        [m(start).isoformat(), m(start + 1).isoformat()] for start in (0, 10, 20)
    ]
    assert stored["sensors"][SMOKE]["flapping_since"] == m(30).isoformat()
    restored = SensorHealth.from_dict(stored)
    assert restored.as_dict() == health.as_dict()
    restored.state_changed(SMOKE, "off", m(31))
    assert restored.evaluate(m(90)).problems == {SMOKE: [FLAPPING]}
    assert restored.evaluate(m(91)) == NOTHING

    # Three outages stored, the fourth after the restart: flapping.
    health = tracked(others=(SMOKE,))
    for start in (0, 10, 20):
        outage(health, SMOKE, m(start), m(start + 1))
    restored = SensorHealth.from_dict(json.loads(json.dumps(health.as_dict())))
    outage(restored, SMOKE, m(30), m(31))
    assert restored.evaluate(m(31)).problems == {SMOKE: [FLAPPING]}


def test_outage_memory_is_bounded() -> None:
    """A sensor flapping every few seconds for a day keeps at most 50 outages."""
    health = tracked(others=(SMOKE,))
    at = T0
    for _ in range(20_000):
        health.state_changed(SMOKE, "unavailable", at)
        health.state_changed(SMOKE, "off", at + timedelta(seconds=2))
        at += timedelta(seconds=5)
    stored = health.as_dict()["sensors"][SMOKE]["outages"]
    assert len(stored) == 50
    assert health.evaluate(at).problems == {SMOKE: [FLAPPING]}
    assert health.evaluate(at + timedelta(minutes=60)) == NOTHING
    # Outages long gone from both windows are dropped even below the cap.
    health = tracked(others=(SMOKE,))
    for start in (0, 100, 200, 300, 400):
        outage(health, SMOKE, m(start), m(start + 1))
    outages = health.as_dict()["sensors"][SMOKE]["outages"]
    assert outages == [
        [m(start).isoformat(), m(start + 1).isoformat()] for start in (300, 400)
    ]


def test_stored_outages_are_checked() -> None:
    """Malformed, naive, reversed and overlapping stored outages are dropped."""
    seen = T0.isoformat()
    data = {
        "sensors": {
            SMOKE: {
                "last_seen": seen,
                "outages": [
                    [m(0).isoformat(), m(1).isoformat()],
                    [m(5).isoformat(), m(4).isoformat()],  # ends before it starts
                    [m(0).isoformat(), m(2).isoformat()],  # overlaps
                    ["2024-03-04T08:10:00", m(11).isoformat()],  # naive
                    [m(10).isoformat()],
                    "x",
                    [m(20).isoformat(), m(21).isoformat()],
                ],
                "flapping_since": "soon",
                "dropout": "no",
            },
            KITCHEN: {"last_seen": seen, "outages": {"a": 1}},
        }
    }
    health = SensorHealth.from_dict(data)
    smoke = health.as_dict()["sensors"][SMOKE]
    assert smoke["outages"] == [
        [m(0).isoformat(), m(1).isoformat()],
        [m(20).isoformat(), m(21).isoformat()],
    ]
    assert smoke["flapping_since"] is None
    assert smoke["dropout"] is True
    assert health.as_dict()["sensors"][KITCHEN]["outages"] == []
    # A raised rule without outages (a damaged store) clears after the steady hour.
    data = {"sensors": {SMOKE: {"last_seen": seen, "flapping_since": seen}}}
    health = SensorHealth.from_dict(data)
    assert health.evaluate(m(59)).problems == {SMOKE: [FLAPPING]}
    assert health.evaluate(m(60)) == NOTHING
