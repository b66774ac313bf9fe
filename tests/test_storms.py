"""Sensor storms: flickering, dropping out, flapping and clock jumps.

End to end through Home Assistant (a household entry, frozen time), checking
ARCHITECTURE.md's "Sensors lie": ``unavailable``/``unknown`` never count as
activity or fire, never clear an alarm, and become sensor-health problems. A real
smoke alarm or a real fast temperature rise is never missed, however the sensor
flickers around it. ``EVENTS`` counts the state changes fed in per test
(docs/reliability.md quotes them; run with ``-s`` to see them). The flapping
temperature property is also checked on the pure FireMonitor with Hypothesis.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
import logging
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.silver_bell.const import EVENT_INCIDENT
from custom_components.silver_bell.core.models import IncidentKind
from custom_components.silver_bell.core.monitor.fire import FireConfig, FireMonitor

from .common import advance, eid, setup_household
from .conftest import DOOR, HELP, MOTION_BEDROOM, MOTION_KITCHEN, SMOKE, TEMPERATURE

#: State changes fed to Home Assistant per test (or samples, for the pure test).
EVENTS: Counter[str] = Counter()

FIRE = eid("binary_sensor", "fire_alarm")
PROBLEM = eid("binary_sensor", "sensor_problem")
UNRELIABLE = (STATE_UNAVAILABLE, STATE_UNKNOWN)
BINARY = (MOTION_KITCHEN, MOTION_BEDROOM, SMOKE, HELP, DOOR)
EVERY_SENSOR = (*BINARY, TEMPERATURE)


class Feed:
    """Writes sensor states and counts them."""

    def __init__(self, hass: HomeAssistant, name: str) -> None:
        self.hass = hass
        self.name = name

    async def __call__(self, entity_id: str, state: str) -> None:
        current = self.hass.states.get(entity_id)
        attributes = dict(current.attributes) if current else {}
        self.hass.states.async_set(entity_id, state, attributes)
        EVENTS[self.name] += 1
        await self.hass.async_block_till_done()


def _rng(seed: int) -> random.Random:
    """A seeded generator: storms are random but repeatable."""
    return random.Random(seed)  # noqa: S311


def _opened(events: list, kind: IncidentKind) -> int:
    return sum(
        1
        for event in events
        if event.data["action"] == "opened"
        and event.data["incident"]["kind"] == kind.value
    )


def _no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def _done(name: str, minimum: int) -> None:
    print(f"\n[storm] {name}: {EVENTS[name]} events")  # noqa: T201
    assert EVENTS[name] >= minimum


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


# ------------------------------------------------------------------- smoke
async def test_smoke_flicker_is_one_real_fire(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A detector that chirps on for a moment, 200 times: one fire, never missed.

    Any off -> on of a smoke detector is a fire (classify_smoke); off again does
    not close it (a person must). So the first blip raises the fire, the rest
    merge into it, and it stays on after the detector falls silent.
    """
    feed = Feed(hass, "smoke flicker")
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    rng = _rng(8)
    for _ in range(200):
        await feed(SMOKE, STATE_ON)
        await _tick(hass, freezer, rng.uniform(0.05, 0.5))  # never on for long
        await feed(SMOKE, STATE_OFF)
        await _tick(hass, freezer, rng.uniform(0.1, 3))
        assert hass.states.get(FIRE).state == STATE_ON
    assert _opened(events, IncidentKind.FIRE) == 1
    fires = [i for i in household.book.incidents if i.kind is IncidentKind.FIRE]
    assert len(fires) == 1
    assert fires[0].active
    await advance(hass, freezer, timedelta(minutes=30))
    assert hass.states.get(FIRE).state == STATE_ON
    _no_errors(caplog)
    _done("smoke flicker", 400)


async def test_single_short_smoke_blip_is_a_fire(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On for 100 ms, once: still a fire."""
    feed = Feed(hass, "smoke blip")
    await setup_household(hass, household_entry, freezer)
    await feed(SMOKE, STATE_ON)
    await _tick(hass, freezer, 0.1)
    await feed(SMOKE, STATE_OFF)
    assert hass.states.get(FIRE).state == STATE_ON
    _done("smoke blip", 2)


async def test_smoke_flicker_through_dropouts(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dropouts mixed into the flicker: a detector that was off and comes back on is a fire.

    It is judged against its last real state (docs/families.md): off before the
    dropout and on after it is a fire (a fire may knock a detector off the
    network), and nothing in the storm that follows clears it.
    """
    feed = Feed(hass, "smoke dropouts")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    await feed(SMOKE, STATE_UNAVAILABLE)
    await _tick(hass, freezer, 1)
    assert household.book.active_of(IncidentKind.FIRE) is None
    await feed(SMOKE, STATE_ON)  # off before the dropout, on after it
    await _tick(hass, freezer, 1)
    assert hass.states.get(FIRE).state == STATE_ON
    for state in (STATE_UNKNOWN, STATE_ON, STATE_UNAVAILABLE, STATE_ON):
        await feed(SMOKE, state)  # still the same alarm, not a new one
        await _tick(hass, freezer, 1)
    assert len(household.book.active) == 1
    rng = _rng(5)
    for _ in range(300):
        await feed(SMOKE, rng.choice((STATE_ON, STATE_OFF, *UNRELIABLE)))
        await _tick(hass, freezer, rng.uniform(0.1, 2))
        assert hass.states.get(FIRE).state == STATE_ON  # never cleared
    assert len(household.book.active) >= 1
    _no_errors(caplog)
    _done("smoke dropouts", 300)


# ------------------------------------------------------ unavailable storms
async def test_unavailable_storm_on_every_sensor(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """40 minutes of unavailable/unknown on every sensor, every few seconds.

    Never activity, never a fire or help call, the open alarm is not cleared, and
    after 30 minutes every sensor is a sensor-health problem.
    """
    feed = Feed(hass, "unavailable storm")
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    # An alarm that is open when the storm starts: a cold home.
    await feed(TEMPERATURE, "14")
    await advance(hass, freezer, timedelta(hours=2, minutes=1))
    cold = household.book.active_of(IncidentKind.COLD)
    assert cold is not None
    last_activity = household.last_activity
    rng = _rng(30)
    start = datetime.now(UTC)
    while datetime.now(UTC) - start < timedelta(minutes=40):
        await feed(rng.choice(EVERY_SENSOR), rng.choice(UNRELIABLE))
        await _tick(hass, freezer, rng.uniform(1, 10))
        assert household.last_activity == last_activity
        assert household.book.active_of(IncidentKind.FIRE) is None
        assert household.book.active_of(IncidentKind.HELP) is None
        assert cold.active  # an unavailable sensor never ends a cold condition
    # Every sensor took part in the storm well over 30 minutes ago.
    assert hass.states.get(PROBLEM).state == STATE_ON
    assert sorted(hass.states.get(PROBLEM).attributes["faulty_sensors"]) == sorted(
        EVERY_SENSOR
    )
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is not None
    assert _opened(events, IncidentKind.FIRE) == 0
    assert _opened(events, IncidentKind.HELP) == 0
    _no_errors(caplog)
    _done("unavailable storm", 300)


async def test_dropouts_replaying_the_last_state_are_not_activity(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dropouts that come back with the old state are no activity, fire or help.

    Help buttons even come back "on" after the dropout (a replayed press is
    not a help call). Smoke detectors come back as they were: one that comes
    back alarming is a fire (see test_smoke_flicker_through_dropouts).
    """
    feed = Feed(hass, "replayed dropouts")
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    last_activity = household.last_activity
    rng = _rng(11)
    for _ in range(150):
        sensor = rng.choice(EVERY_SENSOR)
        before = hass.states.get(sensor).state
        await feed(sensor, rng.choice(UNRELIABLE))
        await _tick(hass, freezer, rng.uniform(0.5, 5))
        comeback = STATE_ON if sensor == HELP else before
        await feed(sensor, comeback)
        await _tick(hass, freezer, rng.uniform(0.5, 5))
        if sensor == HELP:  # goes quiet again, still no help call
            await feed(sensor, rng.choice(UNRELIABLE))
            await feed(sensor, before)
    assert household.last_activity == last_activity
    assert _opened(events, IncidentKind.FIRE) == 0
    assert _opened(events, IncidentKind.HELP) == 0
    _no_errors(caplog)
    _done("replayed dropouts", 300)


async def test_dropout_never_clears_an_alarm(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A fire and an inactivity alarm stay open through a storm of dropouts."""
    feed = Feed(hass, "alarm through storm")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    await feed(SMOKE, STATE_ON)
    await advance(hass, freezer, timedelta(hours=3, minutes=15))
    fire = household.book.active_of(IncidentKind.FIRE)
    inactivity = household.book.active_of(IncidentKind.INACTIVITY)
    assert fire is not None
    assert inactivity is not None
    rng = _rng(3)
    for _ in range(200):
        await feed(rng.choice(EVERY_SENSOR), rng.choice(UNRELIABLE))
        await _tick(hass, freezer, rng.uniform(1, 5))
    assert fire.active
    assert inactivity.active
    _done("alarm through storm", 200)


# -------------------------------------------------------------- temperature
async def test_temperature_flapping_is_not_a_rise(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """21 -> unavailable -> 21, hundreds of times, and noisy values: no fire."""
    feed = Feed(hass, "temperature flapping")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    rng = _rng(21)
    for _ in range(300):
        await feed(TEMPERATURE, rng.choice(UNRELIABLE))
        await _tick(hass, freezer, rng.uniform(1, 20))
        await feed(TEMPERATURE, f"{21 + rng.uniform(-0.5, 0.5):.1f}")
        await _tick(hass, freezer, rng.uniform(1, 20))
    # A long outage, then the room is warmer (the heating came on): not a fire.
    await feed(TEMPERATURE, STATE_UNAVAILABLE)
    await advance(hass, freezer, timedelta(minutes=8))
    await feed(TEMPERATURE, "34")
    assert household.book.active_of(IncidentKind.FIRE) is None
    assert hass.states.get(FIRE).state == STATE_OFF
    _no_errors(caplog)
    _done("temperature flapping", 600)


async def test_real_fast_rise_fires(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """21 -> 48 °C in three minutes (9 °C/min): a fire by rate of rise below 57 °C."""
    feed = Feed(hass, "real rise")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    for value in ("21", "30", "39", "48"):
        await feed(TEMPERATURE, value)
        await _tick(hass, freezer, 60)
    fire = household.book.active_of(IncidentKind.FIRE)
    assert fire is not None
    assert fire.details["reason"] == "rate_of_rise"
    _done("real rise", 4)


async def test_real_fast_rise_with_dropouts_between_readings_fires(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The same rise with dropouts between readings fires at 57 °C at the latest.

    A fire near a Zigbee device may well make it drop out.

    (FireMonitor forgets a sensor's samples when it becomes unavailable, so the
    rate of rise cannot be measured across the dropouts; the static threshold
    still catches the fire.)
    """
    feed = Feed(hass, "real rise with dropouts")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    fired_at = None
    for value in ("21", "30", "39", "48", "57"):
        await feed(TEMPERATURE, value)
        if fired_at is None and household.book.active_of(IncidentKind.FIRE):
            fired_at = value
        await _tick(hass, freezer, 30)
        await feed(TEMPERATURE, STATE_UNAVAILABLE)
        await _tick(hass, freezer, 30)
    assert fired_at is not None
    print(f"\n[storm] rise with dropouts fired at {fired_at} °C")  # noqa: T201
    _done("real rise with dropouts", 10)


RATE = FireConfig().rate_c_per_min
FLOOR = FireConfig().rate_floor_c
STATIC = FireConfig().static_c
START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def test_flapping_never_makes_a_rise_pure() -> None:
    """FireMonitor: flapping between dropouts and room temperatures never fires.

    Values stay below the rate floor; forgetting on a dropout is what the glue does.
    """

    @settings(max_examples=600, deadline=None, database=None)
    @given(
        st.lists(
            st.tuples(
                st.floats(0.5, 900),  # seconds since the previous event
                st.none() | st.floats(-10, FLOOR),  # None: unavailable
            ),
            min_size=10,
            max_size=80,
        )
    )
    def prop(steps: list[tuple[float, float | None]]) -> None:
        monitor = FireMonitor()
        at = START
        for seconds, value in steps:
            at += timedelta(seconds=seconds)
            EVENTS["pure flapping"] += 1
            if value is None:
                monitor.forget("t")
                continue
            assert monitor.add_sample("t", value, at) is None

    prop()
    _done("pure flapping", 6000)


def test_fast_rise_always_fires_pure() -> None:
    """FireMonitor: a steady rise of 8 °C/min or more always fires.

    Sampled every 10-60 s without a dropout, it fires at the latest at the first
    reading at or above the static threshold.
    """

    @settings(max_examples=300, deadline=None, database=None)
    @given(
        start=st.floats(10, 30),
        rate=st.floats(RATE + 0.1, 40),
        every=st.floats(10, 60),
    )
    def prop(start: float, rate: float, every: float) -> None:
        monitor = FireMonitor()
        at = START
        value = start
        while True:
            EVENTS["pure rise"] += 1
            fired = monitor.add_sample("t", value, at)
            if fired is not None or value >= STATIC:
                break
            at += timedelta(seconds=every)
            value += rate * every / 60
        # At the latest the first reading at or above the static threshold.
        assert fired is not None

    prop()
    _done("pure rise", 1000)


# --------------------------------------------------------------- clock jumps
async def test_clock_jumps_forward(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Hours pass at once (a suspended host, an NTP step): one inactivity alarm.

    No fire, no exception; movement afterwards is activity again.
    """
    feed = Feed(hass, "clock forward")
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    await feed(MOTION_KITCHEN, STATE_ON)
    await feed(MOTION_KITCHEN, STATE_OFF)
    await feed(TEMPERATURE, "21.5")
    freezer.tick(timedelta(hours=5))  # 13:00 local, five silent hours
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await feed(TEMPERATURE, "22.0")
    assert household.book.active_of(IncidentKind.INACTIVITY) is not None
    assert household.book.active_of(IncidentKind.FIRE) is None
    # Another jump: the same silence is one incident, not a second one.
    freezer.tick(timedelta(hours=4))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _opened(events, IncidentKind.INACTIVITY) == 1
    await feed(MOTION_BEDROOM, STATE_ON)
    assert household.last_activity == datetime.now(UTC)
    assert _opened(events, IncidentKind.FIRE) == 0
    _no_errors(caplog)
    _done("clock forward", 5)


async def test_clock_steps_back(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The clock steps back a few minutes, again and again: nothing false.

    No fire from the temperature history, no inactivity alarm for a person moving
    about, no exception; a real rise afterwards still fires.
    """
    feed = Feed(hass, "clock back")
    events = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    rng = _rng(7)
    for _ in range(40):
        await feed(MOTION_KITCHEN, STATE_ON)
        await feed(MOTION_KITCHEN, STATE_OFF)
        await feed(TEMPERATURE, f"{22 + rng.uniform(-1, 1):.1f}")
        await _tick(hass, freezer, rng.uniform(60, 600))
        await feed(TEMPERATURE, f"{22 + rng.uniform(-1, 1):.1f}")
        freezer.move_to(datetime.now(UTC) - timedelta(minutes=rng.uniform(1, 9)))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        await feed(TEMPERATURE, f"{22 + rng.uniform(-1, 1):.1f}")
    assert household.book.active_of(IncidentKind.FIRE) is None
    assert household.book.active_of(IncidentKind.INACTIVITY) is None
    assert _opened(events, IncidentKind.INACTIVITY) == 0
    # Silence after the last step back is still measured and alarmed.
    await advance(hass, freezer, timedelta(hours=3, minutes=15))
    assert household.book.active_of(IncidentKind.INACTIVITY) is not None
    # A real rise after all that still fires.
    for value in ("25", "34", "43"):
        await feed(TEMPERATURE, value)
        await _tick(hass, freezer, 60)
    assert household.book.active_of(IncidentKind.FIRE) is not None
    _no_errors(caplog)
    _done("clock back", 200)
