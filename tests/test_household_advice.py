"""What the sensors can do, through Home Assistant (issue 17 item 4).

A household whose routine was learned on three weeks of a synthetic home (a
study with one contact sensor where the person sits for hours) is restored from
its Store: the *Learned routine* entity carries the figures — the false alarms
counted on its own history replayed, never a model's expectation — the family
gets one persistent notification (server language) with the figures and the
advice, not again on a restart nor within a week, and again when the advice
changes after a week. The budget is said to be out of reach only when the
replayed history exceeds it on at least 14 days. The activity history is kept
in the Store across a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.silver_bell.const import CONF_BASELINE, CONF_CEILING_DAY, DOMAIN
from custom_components.silver_bell.core.monitor.history import ActivityHistory
from custom_components.silver_bell.core.monitor.replay import EventLog, replay
from custom_components.silver_bell.household import insights
from custom_components.silver_bell.household.runtime import Household

from .common import eid, set_state, setup_household
from .conftest import DOOR, MOTION_KITCHEN
from .monitor.test_advice import ZONE, study_home
from .test_household_language import _english_in, _texts_of_entities

ROUTINE = eid("sensor", "learned_routine")
KEY = f"{DOMAIN}.household.household01"


def _stored(
    hass_storage: dict[str, Any],
    rooms: Mapping[str, str] | None = None,
    days: int = 21,
) -> None:
    """``days`` of the study home, learned, ending the evening before set-up.

    ``rooms`` renames the home's rooms (to the ids of the areas a test made).
    """
    log = study_home(1, days, first=date(2026, 11, 24) - timedelta(days=days))
    if rooms is not None:
        log = EventLog(
            events=tuple(replace(event, room=rooms[event.room]) for event in log.events)
        )
    history = ActivityHistory()
    for event in log.events:
        history.add(event.at, event.room)
    routine = replay(log, zone=ZONE, collapses=1).routine
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": 2,
        "key": KEY,
        "data": {
            "baseline": routine.as_dict(),
            "history": history.as_dict(),
            "last_activity": log.events[-1].at.isoformat(),
        },
    }


def _areas(hass: HomeAssistant) -> None:
    """Rooms named by the family; the kitchen's motion sensor is in the kitchen."""
    areas = ar.async_get(hass)
    for name in ("Study", "Kitchen", "Bathroom", "Hall", "Bedroom"):
        areas.async_create(name)
    entities = er.async_get(hass)
    for entity_id, area in ((MOTION_KITCHEN, "kitchen"), (DOOR, "hall")):
        object_id = entity_id.split(".")[1]
        entry = entities.async_get_or_create(
            "binary_sensor", "test", object_id, suggested_object_id=object_id
        )
        assert entry.entity_id == entity_id
        entities.async_update_entity(entity_id, area_id=area)


@pytest.fixture
def told() -> Any:
    """The family's persistent notifications (captured)."""
    with patch.object(insights.persistent_notification, "async_create") as created:
        yield created


def _household(entry: MockConfigEntry) -> Household:
    household = entry.runtime_data
    assert isinstance(household, Household)
    return household


async def test_figures_advice_and_one_notification(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    _stored(hass_storage)
    _areas(hass)
    await setup_household(hass, household_entry, freezer)
    state = hass.states.get(ROUTINE)
    assert state is not None
    assert state.state == "active"
    attrs = state.attributes
    # Its own 13.6 days after learning, replayed with the shipped budget: no
    # escalated alarm (the per-gap quantile paged twice: tests/monitor/test_advice.py).
    assert attrs["false_alarms_days"] == 13.6
    assert attrs["false_alarms_per_30_days"] == 0.0
    assert attrs["from_safety_ceilings_per_30_days"] == 0.0
    assert attrs["false_alarm_budget"] == 1.0
    assert "budget_reachable" not in attrs
    assert 120 < attrs["notice_median_min"] < attrs["notice_p90_min"]
    assert attrs["weak_spots"][0] in ("Study 07–12", "Study 12–17")
    assert attrs["weak_spot_wait_min"][0] > 120
    assert attrs["weak_spot_sensors"][0] == 0  # no sensor of ours in it
    assert len(attrs["weak_spots"]) == len(attrs["weak_spot_sensors"])
    assert attrs["advice_room"] == "Study"
    assert attrs["advice_notice_p90_after_min"] < attrs["advice_notice_p90_before_min"]
    assert attrs["advice_notice_after_min"] <= attrs["advice_notice_before_min"]

    assert told.call_count == 1
    message = told.call_args.args[1]
    assert "Silver Bell has learned Grandma Li's daily routine" in message
    assert "after the Study between" in message
    assert "a motion sensor in the Study" in message
    assert (
        "Replayed with the current settings, this home's own last 14 days would "
        "have sent no false alarm to the community (0.0 per 30 days)."
    ) in message
    assert "more than the goal" not in message
    assert told.call_args.kwargs["title"] == (
        "Silver Bell: what Grandma Li's sensors can do"
    )
    assert told.call_args.kwargs["notification_id"] == "silver_bell_advice_household01"
    await hass.async_block_till_done()

    # Restart on the same day: what was told is remembered, nothing is told again,
    # and the week's replay of the history is not done again (seconds of CPU in a
    # busy home): its alarms and advice come back from the Store.
    with patch.object(
        insights, "replay_history", side_effect=AssertionError("replayed again")
    ):
        assert await hass.config_entries.async_reload(household_entry.entry_id)
        await hass.async_block_till_done()
    assert told.call_count == 1
    restored = hass.states.get(ROUTINE)
    assert restored is not None
    assert restored.attributes["false_alarms_per_30_days"] == 0.0
    assert restored.attributes["advice_room"] == "Study"
    # The next day (figures recomputed) with the same advice: nothing new to tell.
    freezer.tick(timedelta(days=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert told.call_count == 1
    # Eight days later the advice has changed (here: what was told is made to differ).
    household = _household(household_entry)
    advice = household.insights.advice
    assert advice is not None
    household.insights._told_advice = replace(advice, room="kitchen")
    freezer.tick(timedelta(days=8))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert told.call_count == 2
    assert "Silver Bell has learned" not in told.call_args.args[1]
    assert "a motion sensor in the Study" in told.call_args.args[1]


async def test_notification_in_chinese_and_an_unreachable_budget(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    """A 3 h day ceiling: the study afternoons reach it, over the budget on 14.6 days."""
    areas = ar.async_get(hass)
    named = {
        room: areas.async_create(name).id
        for room, name in (
            ("study", "书房"),
            ("kitchen", "厨房"),
            ("bathroom", "浴室"),
            ("hall", "门厅"),
            ("bedroom", "卧室"),
        )
    }
    _stored(hass_storage, named, days=22)
    hass.config.language = "zh-Hans"
    hass.config_entries.async_update_entry(
        household_entry, options={CONF_CEILING_DAY: 180}
    )
    await setup_household(hass, household_entry, freezer)
    state = hass.states.get(ROUTINE)
    assert state is not None
    attrs = state.attributes
    assert attrs["false_alarms_days"] == 14.6
    assert attrs["from_safety_ceilings_per_30_days"] > 40
    assert (
        attrs["false_alarms_per_30_days"] >= attrs["from_safety_ceilings_per_30_days"]
    )
    assert told.call_count == 1
    message = told.call_args.args[1]
    assert "银铃守护已经学会了Grandma Li的日常作息" in message
    assert "按现在的设置回放这户人家最近15天的记录" in message
    assert "来自长时间无活动的安全上限" in message
    assert "这超过了每30天1次的目标" in message
    assert told.call_args.kwargs["title"] == "银铃守护：Grandma Li家的传感器能做到什么"
    assert "书房" in message
    # Every attribute name and value of the entity reads Chinese.
    shown = await _texts_of_entities(hass, "zh-Hans")
    assert "每30天误报次数（按自家最近记录回放）" in shown
    assert "误报次数所依据的天数" in shown
    assert any(text.startswith("书房 ") for text in shown)
    english = {text: words for text in shown if (words := _english_in(text))}
    assert english == {}


async def test_learning_shows_no_figures_and_keeps_a_history(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    """While learning nothing is made up; activity and door edges are kept, stored."""
    _areas(hass)
    await setup_household(hass, household_entry, freezer)
    state = hass.states.get(ROUTINE)
    assert state is not None
    assert state.state == "learning"
    assert "false_alarms_per_30_days" not in state.attributes
    assert "notice_median_min" not in state.attributes
    await set_state(hass, MOTION_KITCHEN, STATE_ON)
    await set_state(hass, MOTION_KITCHEN, STATE_OFF)
    await set_state(hass, DOOR, STATE_ON)
    await set_state(hass, DOOR, STATE_OFF)
    household = _household(household_entry)
    log = household.insights.history.event_log(ZONE)
    assert [(event.room, event.role) for event in log.events] == [
        ("kitchen", ""),
        ("hall", "door_open"),
        ("hall", "door_closed"),
    ]
    assert not told.called
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[KEY]
    assert (stored["version"], stored["minor_version"]) == (1, 2)
    assert stored["data"]["history"]["rooms"] == ["kitchen", "hall"]
    assert stored["data"]["insights"]["learned"] is False
    # Back again: the history is restored.
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    assert len(_household(household_entry).insights.history) == 3


async def test_a_1_1_store_is_migrated(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    """A household stored by the release before: loads with an empty history."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": KEY,
        "data": {"incidents": []},
    }
    await setup_household(hass, household_entry, freezer)
    assert len(_household(household_entry).insights.history) == 0
    assert not told.called


async def test_over_budget_is_told_once_later(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    """Learned long ago with the same advice; over the budget: told once, again after.

    Told with the figures when learning ended; once more when it had not been
    said; not again while it stays over; again after it was within the budget.
    """
    _stored(hass_storage, days=22)
    hass.config_entries.async_update_entry(
        household_entry, options={CONF_CEILING_DAY: 180}
    )
    await setup_household(hass, household_entry, freezer)
    found = _household(household_entry).insights
    assert told.call_count == 1
    assert "own last 15 days would have produced" in told.call_args.args[1]
    found._told_at = dt_util.utcnow() - timedelta(days=8)
    found._told_unreachable = False
    found._tell(dt_util.utcnow())
    assert told.call_count == 2
    message = told.call_args.args[1]
    assert "That is more than the goal of 1 per 30 days" in message
    assert "of them came from the safety limits" in message
    assert "has learned" not in message
    found._told_at = dt_util.utcnow() - timedelta(days=8)
    found._tell(dt_util.utcnow())
    assert told.call_count == 2  # nothing new
    over = found.alarms
    assert over is not None and over.over_budget
    # Within the budget on 14 days or more: nothing to tell, but it is forgotten.
    found.alarms = replace(over, escalated=0, from_ceilings=0)
    found._tell(dt_util.utcnow())
    assert told.call_count == 2
    assert found.told_as_store()["unreachable"] is False
    found.alarms = over
    found._tell(dt_util.utcnow())
    assert told.call_count == 3
    assert "That is more than the goal" in told.call_args.args[1]
    # Under 14 days, however high the rate, the budget is not judged.
    found._told_at = dt_util.utcnow() - timedelta(days=8)
    found._told_unreachable = False
    found.alarms = replace(over, days=13.0)
    found._tell(dt_util.utcnow())
    assert told.call_count == 3
    # Stopped while computing: nothing is told.
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()
    found._told_unreachable = False
    found._told_at = None
    await found.async_refresh(dt_util.utcnow())
    assert told.call_count == 3
    # A sensor without an area reads by its friendly name.
    hass.states.async_set("binary_sensor.den", "off", {"friendly_name": "Den door"})
    assert found.room_name("binary_sensor.den") == "Den door"


async def test_learning_off_shows_nothing(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    """With the learned routine switched off there are no figures and no notification."""
    _stored(hass_storage)
    hass.config_entries.async_update_entry(
        household_entry, options={CONF_BASELINE: False}
    )
    await setup_household(hass, household_entry, freezer)
    state = hass.states.get(ROUTINE)
    assert state is not None
    assert state.state == "off"
    assert "false_alarms_per_30_days" not in state.attributes
    assert not _household(household_entry).insights.due(dt_util.utcnow())
    assert not told.called


async def test_too_few_days_show_no_false_alarms(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    told: Any,
) -> None:
    """Learned, but under 7 days of history after learning: no false-alarm figure.

    The time to notice is shown (from the learned routine) and told; how many
    false alarms is not, neither as an attribute nor in the notification.
    """
    _stored(hass_storage, days=12)
    await setup_household(hass, household_entry, freezer)
    state = hass.states.get(ROUTINE)
    assert state is not None
    assert state.state == "active"
    attrs = state.attributes
    assert attrs["notice_median_min"] > 0
    assert attrs["false_alarm_budget"] == 1.0
    for name in (
        "false_alarms_per_30_days",
        "from_safety_ceilings_per_30_days",
        "false_alarms_days",
    ):
        assert name not in attrs
    assert _household(household_entry).insights.alarms is None
    assert told.call_count == 1
    message = told.call_args.args[1]
    assert "has learned" in message
    assert "false alarm" not in message
