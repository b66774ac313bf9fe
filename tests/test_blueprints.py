"""The automation blueprints, loaded and run through Home Assistant's own machinery.

Each blueprint is copied into the test config dir and instantiated with
``use_blueprint`` like a user would; sensors are driven with state changes, the
clock with the ``freezer``, and the services the blueprints call are mocked.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import importlib
import inspect
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.blueprint import models
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CoreState, HomeAssistant, ServiceCall
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from .common import async_set_time_zone

BLUEPRINT_DIR = Path(__file__).parents[1] / "blueprints" / "automation" / "silver_bell"
BLUEPRINT_FILES = (
    "fire_alert.yaml",
    "inactivity_alert.yaml",
    "volunteer_escalation.yaml",
)
SOURCE_URL = "https://github.com/silver-bell-care/silver_bell/blob/main/blueprints/automation/silver_bell/"
TIME_ZONE = "Asia/Shanghai"
AUTOMATION = "automation.under_test"

KITCHEN = "binary_sensor.kitchen_motion"
BEDROOM = "binary_sensor.bedroom_motion"
DOOR = "binary_sensor.front_door"
OK_BUTTON = "input_button.i_m_ok"
AWAY = "input_boolean.away"
SMOKE = "binary_sensor.kitchen_smoke"
TEMPERATURE = "sensor.kitchen_temperature"
TEMPERATURE_F = "sensor.bedroom_temperature"
HOUSEHOLD_ALARM = "binary_sensor.grandma_li_inactivity_alarm"
HOUSEHOLD_LAST = "sensor.grandma_li_last_activity"
HOUSEHOLD_FIRE = "binary_sensor.grandma_li_fire_alarm"


def local(text: str) -> datetime:
    """A wall-clock time in the test time zone."""
    parsed = dt_util.parse_datetime(text)
    assert parsed is not None
    return parsed.replace(tzinfo=dt_util.get_time_zone(TIME_ZONE))


@pytest.fixture
def calls(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """Mock every service a blueprint may call."""
    return {
        "family": async_mock_service(hass, "notify", "family"),
        "son": async_mock_service(hass, "notify", "son"),
        "elder": async_mock_service(hass, "notify", "grandma_phone"),
        "daughter": async_mock_service(hass, "notify", "daughter"),
        "neighbour": async_mock_service(hass, "notify", "neighbour"),
        "social_worker": async_mock_service(hass, "notify", "social_worker"),
        "tts": async_mock_service(hass, "tts", "speak"),
        "volume": async_mock_service(hass, "media_player", "volume_set"),
        "light": async_mock_service(hass, "light", "turn_on"),
        "siren": async_mock_service(hass, "siren", "turn_on"),
        "hub": async_mock_service(hass, "notify", "silver_bell"),
    }


def load_blueprint(path: Path) -> models.Blueprint:
    """Load a blueprint file as the automation integration does, on every release.

    Newer releases (2025+) require the schema to validate with; the automation
    integration uses its own (with its backward-compatible trigger keys).
    """
    kwargs: dict[str, Any] = {"expected_domain": "automation", "path": str(path)}
    if "schema" in inspect.signature(models.Blueprint).parameters:
        automation_config = importlib.import_module(
            "homeassistant.components.automation.config"
        )
        kwargs["schema"] = automation_config.AUTOMATION_BLUEPRINT_SCHEMA
    return models.Blueprint(yaml.load_yaml(path), **kwargs)


def _copy_blueprints(target: Path) -> None:
    target.mkdir(parents=True)
    for name in BLUEPRINT_FILES:
        shutil.copy(BLUEPRINT_DIR / name, target / name)


@pytest.fixture
async def clock(
    hass: HomeAssistant, tmp_path: Path, freezer: FrozenDateTimeFactory
) -> FrozenDateTimeFactory:
    """Blueprints in a fresh config dir; Shanghai time, Tuesday 08:00."""
    hass.config.config_dir = str(tmp_path)
    _copy_blueprints(Path(hass.config.path("blueprints/automation/silver_bell")))
    await async_set_time_zone(hass, TIME_ZONE)
    freezer.move_to(local("2026-11-24 08:00:00"))
    return freezer


async def use_blueprint(hass: HomeAssistant, path: str, inputs: dict[str, Any]) -> None:
    """Create an automation from a blueprint, as the UI does."""
    config = {
        "automation": {
            "alias": "Under test",
            "use_blueprint": {"path": f"silver_bell/{path}", "input": inputs},
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()


async def settle(hass: HomeAssistant) -> None:
    """Run the event loop until nothing is ready to run.

    ``hass.async_block_till_done()`` cannot be used while an automation waits:
    on Home Assistant 2024.3 a script's wait step is a tracked task that only
    ends when the wait does (and with a frozen clock no timeout ever helps).
    """
    for _ in range(1000):
        await asyncio.sleep(0)
        if not hass.loop._ready:  # type: ignore[attr-defined]
            return


async def set_state(
    hass: HomeAssistant, entity_id: str, state: str, **attributes: Any
) -> None:
    """Change a state, keeping its attributes."""
    current = hass.states.get(entity_id)
    attrs = {**(current.attributes if current else {}), **attributes}
    hass.states.async_set(entity_id, state, attrs)
    await settle(hass)


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, **delta: float
) -> None:
    """Let time pass and fire the timers that came due."""
    freezer.tick(timedelta(**delta))
    async_fire_time_changed(hass)
    await settle(hass)


async def advance_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str
) -> None:
    """Let time pass until a wall-clock time."""
    freezer.move_to(local(when))
    async_fire_time_changed(hass)
    await settle(hass)


def register(
    hass: HomeAssistant,
    entity_id: str,
    *,
    platform: str = "zha",
    area: str | None = None,
    device_id: str | None = None,
) -> None:
    """Put an entity in the registry (area, device, integration)."""
    domain, object_id = entity_id.split(".")
    registry = er.async_get(hass)
    entry = registry.async_get_or_create(
        domain, platform, object_id, suggested_object_id=object_id, device_id=device_id
    )
    assert entry.entity_id == entity_id
    if area is not None:
        area_id = ar.async_get(hass).async_get_or_create(area).id
        registry.async_update_entity(entity_id, area_id=area_id)


def household_device(hass: HomeAssistant) -> str:
    """A Silver Bell household device named Grandma Li (the entry is not set up)."""
    entry = MockConfigEntry(domain="silver_bell", title="Grandma Li", entry_id="hh01")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("silver_bell", "hh01")},
        name="Grandma Li",
    )
    return device.id


# ---------------------------------------------------------------- validation


def test_blueprint_files_are_all_tested() -> None:
    """Every blueprint shipped is one this module loads."""
    assert sorted(p.name for p in BLUEPRINT_DIR.glob("*.yaml")) == list(BLUEPRINT_FILES)


@pytest.mark.parametrize("name", BLUEPRINT_FILES)
def test_blueprint_validates(name: str) -> None:
    """Each YAML is a valid automation blueprint for Home Assistant 2024.3+."""
    path = BLUEPRINT_DIR / name
    blueprint = load_blueprint(path)
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"] == SOURCE_URL + name
    assert blueprint.metadata["homeassistant"]["min_version"] == "2024.3.0"
    assert blueprint.metadata["description"]
    for key, spec in blueprint.inputs.items():
        assert spec and spec.get("name") and spec.get("selector"), key


@pytest.mark.parametrize("name", ["fire_alert.yaml", "inactivity_alert.yaml"])
def test_forwarding_household_is_a_silver_bell_device(name: str) -> None:
    """The household to forward through is picked among Silver Bell's devices only."""
    path = BLUEPRINT_DIR / name
    blueprint = load_blueprint(path)
    spec = blueprint.inputs["household_device"]
    assert spec["default"] == ""
    device = spec["selector"]["device"]
    assert device["filter"] == [{"integration": "silver_bell"}]
    assert not device.get("multiple")
    assert "raise_help" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("fire_alert.yaml", "fire_sensors"),
        ("volunteer_escalation.yaml", "first_contact"),
    ],
)
def test_missing_required_input_rejected_by_blueprint_model(
    name: str, missing: str
) -> None:
    """Home Assistant's blueprint model names the required input that is missing."""
    path = BLUEPRINT_DIR / name
    blueprint = load_blueprint(path)
    inputs = {
        "fire_alert.yaml": {"fire_sensors": [SMOKE]},
        "volunteer_escalation.yaml": {
            "alarm_entity": HOUSEHOLD_ALARM,
            "first_contact": "daughter",
            "second_contact": "neighbour",
        },
    }[name]
    models.BlueprintInputs(
        blueprint, {"use_blueprint": {"path": name, "input": inputs}}
    ).validate()
    del inputs[missing]
    with pytest.raises(MissingInput, match=missing):
        models.BlueprintInputs(
            blueprint, {"use_blueprint": {"path": name, "input": inputs}}
        ).validate()


@pytest.mark.parametrize(
    ("name", "inputs"),
    [
        ("fire_alert.yaml", {"notify_targets": ["family"]}),
        (
            "volunteer_escalation.yaml",
            {"alarm_entity": HOUSEHOLD_ALARM, "second_contact": "neighbour"},
        ),
    ],
)
async def test_missing_required_input_leaves_automation_unavailable(
    hass: HomeAssistant, clock: FrozenDateTimeFactory, name: str, inputs: dict
) -> None:
    """An automation missing a required input does not run."""
    await use_blueprint(hass, name, inputs)
    state = hass.states.get(AUTOMATION)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE


async def test_inactivity_needs_no_required_input(
    hass: HomeAssistant, clock: FrozenDateTimeFactory
) -> None:
    """Sensors or a Silver Bell alarm: both are optional, so defaults alone load."""
    await use_blueprint(hass, "inactivity_alert.yaml", {})
    state = hass.states.get(AUTOMATION)
    assert state is not None
    assert state.state == "on"


# ---------------------------------------------------------- inactivity alert


def raw_inputs(**extra: Any) -> dict[str, Any]:
    """Inactivity alert on raw sensors, with the default 07:00-22:00, 3 h / 10 h."""
    return {
        "activity_sensors": [KITCHEN, BEDROOM, DOOR],
        "person_name": "Grandma Li",
        "notify_targets": ["family", "notify.son"],
        "checkin_minutes": 0,
        **extra,
    }


async def give_sensors_states(hass: HomeAssistant) -> None:
    """Motion sensors and a door, all quiet."""
    register(hass, KITCHEN, area="Kitchen")
    hass.states.async_set(
        KITCHEN, "off", {"device_class": "motion", "friendly_name": "Kitchen motion"}
    )
    hass.states.async_set(
        BEDROOM, "off", {"device_class": "motion", "friendly_name": "Bedroom motion"}
    )
    hass.states.async_set(
        DOOR, "off", {"device_class": "door", "friendly_name": "Front door"}
    )
    await settle(hass)


async def motion(hass: HomeAssistant, entity_id: str = KITCHEN) -> None:
    """A sensor sees someone, then goes quiet again."""
    await set_state(hass, entity_id, "on")
    await set_state(hass, entity_id, "off")


async def test_inactivity_checkin_then_family_and_hub(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """3 h of daytime silence: the check-in asks, nobody answers, everyone is told."""
    await give_sensors_states(hass)
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        raw_inputs(
            checkin_minutes=10,
            tts_entity="tts.home",
            speakers=["media_player.kitchen"],
            elder_notify="grandma_phone",
            forward_to_hub=True,
            household_device="abc123",
        ),
    )
    await motion(hass)  # 08:00, kitchen
    await advance_to(hass, clock, "2026-11-24 10:59:00")
    assert not calls["tts"]
    assert not calls["elder"]

    await advance_to(hass, clock, "2026-11-24 11:00:00")
    assert len(calls["tts"]) == 1
    speak = calls["tts"][0].data
    assert speak["entity_id"] == ["tts.home"]
    assert speak["media_player_entity_id"] == ["media_player.kitchen"]
    assert speak["message"].startswith("Hello Grandma Li. Are you all right?")
    elder = calls["elder"][0].data
    assert elder["data"]["actions"][0]["action"].startswith("SILVER_BELL_OK_")
    assert elder["data"]["actions"][0]["title"] == "I'm OK"
    assert not calls["family"]

    await advance(hass, clock, minutes=9)
    assert not calls["family"]
    await advance(hass, clock, minutes=1)
    assert len(calls["family"]) == 1
    assert len(calls["son"]) == 1
    push = calls["family"][0].data
    assert push["title"] == "No activity – Grandma Li"
    assert push["message"] == (
        "No sign of activity at Grandma Li's home for 3 h 10 min. "
        "Last seen: Kitchen at 08:00. Nobody answered the check-in."
    )
    assert push["data"]["push"] == {
        "interruption-level": "critical",
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
    }
    assert push["data"]["channel"] == "alarm_stream"
    assert push["data"]["ttl"] == 0
    assert push["data"]["priority"] == "high"
    assert calls["son"][0].data == push
    assert len(calls["hub"]) == 1
    assert calls["hub"][0].data == {
        "title": "No activity – Grandma Li",
        "message": push["message"],
        "data": {"kind": "inactivity", "device_id": "abc123"},
    }


async def test_inactivity_checkin_cancelled_by_motion(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Movement during the check-in cancels the alert and starts a new watch."""
    await give_sensors_states(hass)
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        raw_inputs(
            checkin_minutes=10, tts_entity="tts.home", speakers=["media_player.hall"]
        ),
    )
    await motion(hass)
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    assert len(calls["tts"]) == 1
    await advance(hass, clock, minutes=4)
    await motion(hass, BEDROOM)  # 11:04
    await advance(hass, clock, minutes=30)
    assert not calls["family"]
    # The new watch counts from 11:04.
    await advance_to(hass, clock, "2026-11-24 14:03:00")
    assert len(calls["tts"]) == 1
    await advance_to(hass, clock, "2026-11-24 14:04:00")
    assert len(calls["tts"]) == 2


@pytest.mark.parametrize("answer", ["button", "push"])
async def test_inactivity_checkin_cancelled_by_i_m_ok(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
    answer: str,
) -> None:
    """The I'm OK button, or the push's I'm OK action, cancels the alert."""
    await give_sensors_states(hass)
    hass.states.async_set(OK_BUTTON, STATE_UNKNOWN)
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        raw_inputs(
            checkin_minutes=10, ok_buttons=[OK_BUTTON], elder_notify="grandma_phone"
        ),
    )
    await motion(hass)
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    assert len(calls["elder"]) == 1
    action = calls["elder"][0].data["data"]["actions"][0]["action"]
    tag = calls["elder"][0].data["data"]["tag"]

    await advance(hass, clock, minutes=3)
    if answer == "button":
        await set_state(hass, OK_BUTTON, dt_util.utcnow().isoformat())
    else:
        hass.bus.async_fire(
            "mobile_app_notification_action", {"action": "SILVER_BELL_OK_other"}
        )
        await settle(hass)
        assert len(calls["elder"]) == 1  # not this run's action: still waiting
        hass.bus.async_fire("mobile_app_notification_action", {"action": action})
        await settle(hass)
    await advance(hass, clock, minutes=30)
    assert not calls["family"]
    assert calls["elder"][-1].data == {
        "message": "clear_notification",
        "data": {"tag": tag},
    }


async def test_inactivity_button_coming_back_is_no_answer(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """An I'm OK button returning from unavailable is not a press."""
    await give_sensors_states(hass)
    hass.states.async_set(OK_BUTTON, "2026-11-23T10:00:00+00:00")
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        raw_inputs(checkin_minutes=10, ok_buttons=[OK_BUTTON]),
    )
    await motion(hass)
    await advance_to(hass, clock, "2026-11-24 11:02:00")
    await set_state(hass, OK_BUTTON, STATE_UNAVAILABLE)
    await set_state(hass, OK_BUTTON, "2026-11-23T10:00:00+00:00")
    await advance(hass, clock, minutes=10)
    assert len(calls["family"]) == 1


async def test_inactivity_unavailable_never_counts_as_activity(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Sensors dropping out and coming back (even as "on") do not delay the alert."""
    await give_sensors_states(hass)
    await use_blueprint(hass, "inactivity_alert.yaml", raw_inputs())
    await motion(hass)  # 08:00: the last real sign of life
    await advance_to(hass, clock, "2026-11-24 09:00:00")
    await set_state(hass, KITCHEN, STATE_UNAVAILABLE)
    await set_state(hass, BEDROOM, STATE_UNKNOWN)
    await advance_to(hass, clock, "2026-11-24 10:00:00")
    await set_state(hass, KITCHEN, "on")  # unavailable -> on
    await set_state(hass, BEDROOM, "off")  # unknown -> off
    await set_state(hass, DOOR, STATE_UNAVAILABLE)
    await set_state(hass, DOOR, "on")  # unavailable -> open
    await set_state(hass, KITCHEN, "off")  # on -> off: motion ending is no new sign
    await advance_to(hass, clock, "2026-11-24 10:59:00")
    assert not calls["family"]
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    assert len(calls["family"]) == 1
    assert "for 3 h 0 min" in calls["family"][0].data["message"]
    # A brand-new entity appearing as "on" (no previous state) is no sign either.
    hass.states.async_set("binary_sensor.garage_motion", "on")
    await settle(hass)
    assert len(calls["family"]) == 1


async def test_inactivity_door_counts_both_ways(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """A door closing is a sign of life too (someone closed it)."""
    await give_sensors_states(hass)
    await use_blueprint(hass, "inactivity_alert.yaml", raw_inputs())
    await set_state(hass, DOOR, "on")  # 08:00 opened
    await advance_to(hass, clock, "2026-11-24 09:00:00")
    await set_state(hass, DOOR, "off")  # 09:00 closed
    await advance_to(hass, clock, "2026-11-24 11:59:00")
    assert not calls["family"]
    await advance_to(hass, clock, "2026-11-24 12:00:00")
    assert len(calls["family"]) == 1
    assert "Last seen: Front door at 09:00." in calls["family"][0].data["message"]


async def test_inactivity_day_rule_counts_from_start_of_day(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Asleep since 02:00: the daytime 3 h count from 07:00, so the alert is at 10:00."""
    await give_sensors_states(hass)
    clock.move_to(local("2026-11-24 02:00:00"))
    await use_blueprint(hass, "inactivity_alert.yaml", raw_inputs())
    await motion(hass, BEDROOM)
    await advance_to(hass, clock, "2026-11-24 07:00:00")
    await advance_to(hass, clock, "2026-11-24 09:59:00")
    assert not calls["family"]
    await advance_to(hass, clock, "2026-11-24 10:00:00")
    assert len(calls["family"]) == 1
    message = calls["family"][0].data["message"]
    assert "for 8 h 0 min. Last seen: Bedroom motion at 02:00." in message


async def test_inactivity_night_rule_counts_from_last_activity(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Last seen at 20:30: the day ends first, the 10 h rule alerts at 06:30."""
    await give_sensors_states(hass)
    clock.move_to(local("2026-11-24 20:30:00"))
    await use_blueprint(hass, "inactivity_alert.yaml", raw_inputs())
    await motion(hass)
    await advance_to(hass, clock, "2026-11-24 23:31:00")
    await advance_to(hass, clock, "2026-11-25 06:29:00")
    assert not calls["family"]
    await advance_to(hass, clock, "2026-11-25 06:30:00")
    assert len(calls["family"]) == 1


async def test_inactivity_day_window_across_midnight(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """A day of 20:00-08:00 (sleeps by day): 3 h after 23:00 is 02:00."""
    await give_sensors_states(hass)
    clock.move_to(local("2026-11-24 23:00:00"))
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        raw_inputs(day_start="20:00:00", day_end="08:00:00"),
    )
    await motion(hass)
    await advance_to(hass, clock, "2026-11-25 01:59:00")
    assert not calls["family"]
    await advance_to(hass, clock, "2026-11-25 02:00:00")
    assert len(calls["family"]) == 1


async def test_inactivity_paused_while_away(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """No alert while away; once away ends, an overdue alert comes at once."""
    await give_sensors_states(hass)
    hass.states.async_set(AWAY, "off")
    await use_blueprint(hass, "inactivity_alert.yaml", raw_inputs(away_entities=[AWAY]))
    await motion(hass)
    await set_state(hass, AWAY, "on")
    await advance_to(hass, clock, "2026-11-24 13:00:00")
    assert not calls["family"]
    await set_state(hass, AWAY, "off")
    assert len(calls["family"]) == 1


@pytest.mark.parametrize("event", ["start", "reload"])
async def test_inactivity_armed_on_start_and_reload(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
    event: str,
) -> None:
    """After a start or a reload the watch counts from the sensors' last change."""
    await give_sensors_states(hass)  # quiet since 08:00
    await advance_to(hass, clock, "2026-11-24 09:00:00")
    if event == "start":
        hass.set_state(CoreState.not_running)
    await use_blueprint(hass, "inactivity_alert.yaml", raw_inputs(language="zh-Hans"))
    if event == "start":
        # Start as Home Assistant does: since 2025.x automations arm their triggers
        # in a start-up job between "start" and "started", which only async_start
        # runs (firing the started event by hand would skip it).
        await hass.async_start()
    else:
        hass.bus.async_fire("automation_reloaded")
    await settle(hass)
    await advance_to(hass, clock, "2026-11-24 10:59:00")
    assert not calls["family"]
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    assert len(calls["family"]) == 1
    push = calls["family"][0].data
    assert push["title"] == "无活动 – Grandma Li"
    assert push["message"].startswith("Grandma Li家中已有 3 小时 0 分钟没有活动。")


async def test_inactivity_non_critical_push(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Critical pushes can be turned off; forwarding without a household sends nothing."""
    await give_sensors_states(hass)
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        raw_inputs(critical=False, forward_to_hub=True, day_hours=1),
    )
    await motion(hass)
    await advance_to(hass, clock, "2026-11-24 09:00:00")
    push = calls["family"][0].data
    assert push["data"]["push"] == {"interruption-level": "time-sensitive"}
    assert "channel" not in push["data"]
    assert not calls["hub"]


async def household_entities(hass: HomeAssistant, *, registered: bool) -> None:
    """A Silver Bell household's alarm and last-activity sensor (mocked states)."""
    if registered:
        device_id = household_device(hass)
        for entity_id in (HOUSEHOLD_ALARM, HOUSEHOLD_LAST):
            register(hass, entity_id, platform="silver_bell", device_id=device_id)
    register(hass, BEDROOM, area="Bedroom")
    hass.states.async_set(HOUSEHOLD_ALARM, "off", {"device_class": "safety"})
    hass.states.async_set(
        HOUSEHOLD_LAST,
        dt_util.as_utc(local("2026-11-24 08:00:00")).isoformat(),
        {"device_class": "timestamp", "sensor": BEDROOM},
    )
    await settle(hass)


async def test_household_alarm_adds_spoken_checkin(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Silver Bell's alarm starts the check-in; the name and room come from the household."""
    await household_entities(hass, registered=True)
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        {
            "household_alarm": HOUSEHOLD_ALARM,
            "tts_entity": "tts.home",
            "speakers": ["media_player.bedroom"],
            "notify_targets": ["family"],
            "forward_to_hub": True,
        },
    )
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    assert not calls["tts"]  # Silver Bell decides when, not the blueprint's clock
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert len(calls["tts"]) == 1
    assert calls["tts"][0].data["message"].startswith("Hello Grandma Li.")
    await advance(hass, clock, minutes=10)
    assert len(calls["family"]) == 1
    assert calls["family"][0].data["message"] == (
        "No sign of activity at Grandma Li's home for 3 h 10 min. "
        "Last seen: Bedroom at 08:00. Nobody answered the check-in."
    )
    assert not calls["hub"]  # Silver Bell forwards its own alarm


async def test_household_alarm_cancelled_by_silver_bell(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """The alarm turning off (movement, I'm OK) ends the check-in; motion listed here too."""
    await household_entities(hass, registered=False)
    hass.states.async_set(KITCHEN, "off", {"device_class": "motion"})
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        {
            "household_alarm": HOUSEHOLD_ALARM,
            "activity_sensors": [KITCHEN],
            "tts_entity": "tts.home",
            "speakers": ["media_player.bedroom"],
            "notify_targets": ["family"],
        },
    )
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert len(calls["tts"]) == 1
    await set_state(hass, HOUSEHOLD_ALARM, "off")
    await advance(hass, clock, minutes=15)
    assert not calls["family"]
    # Motion on the listed sensors cancels too, and never starts a check-in itself.
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert len(calls["tts"]) == 2
    await motion(hass)
    await advance(hass, clock, hours=12)
    assert not calls["family"]
    assert len(calls["tts"]) == 2


async def test_household_alarm_unavailable_never_triggers(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """The alarm coming back from unavailable as "on" is not an alarm; the fallback ids work."""
    await household_entities(hass, registered=False)
    await use_blueprint(
        hass,
        "inactivity_alert.yaml",
        {
            "household_alarm": HOUSEHOLD_ALARM,
            "person_name": "Grandma Li",
            "notify_targets": ["family"],
            "checkin_minutes": 0,
        },
    )
    await advance_to(hass, clock, "2026-11-24 11:00:00")
    await set_state(hass, HOUSEHOLD_ALARM, STATE_UNAVAILABLE)
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    await advance(hass, clock, minutes=30)
    assert not calls["family"]
    await set_state(hass, HOUSEHOLD_ALARM, "off")
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert len(calls["family"]) == 1
    assert (
        "for 3 h 30 min. Last seen: Bedroom at 08:00."
        in (calls["family"][0].data["message"])
    )


# ---------------------------------------------------------------- fire alert


async def fire_sensors(hass: HomeAssistant) -> None:
    """A smoke detector and two temperature sensors (°C and °F)."""
    register(hass, SMOKE, area="Kitchen")
    hass.states.async_set(
        SMOKE, "off", {"device_class": "smoke", "friendly_name": "Kitchen smoke"}
    )
    hass.states.async_set(
        TEMPERATURE,
        "21.5",
        {
            "device_class": "temperature",
            "unit_of_measurement": "°C",
            "friendly_name": "Kitchen temperature",
        },
    )
    hass.states.async_set(
        TEMPERATURE_F,
        "70",
        {
            "device_class": "temperature",
            "unit_of_measurement": "°F",
            "friendly_name": "Bedroom temperature",
        },
    )
    await settle(hass)


FIRE_INPUTS: dict[str, Any] = {
    "fire_sensors": [SMOKE],
    "temperature_sensors": [TEMPERATURE, TEMPERATURE_F],
    "person_name": "Grandma Li",
    "notify_targets": ["family", "son"],
}


async def test_fire_alerts_everyone_at_night(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Smoke at 03:00: critical pushes, lights, sirens, speakers and the hub, at once."""
    clock.move_to(local("2026-11-24 03:00:00"))
    await fire_sensors(hass)
    await use_blueprint(
        hass,
        "fire_alert.yaml",
        {
            **FIRE_INPUTS,
            "lights": ["light.hall"],
            "sirens": ["siren.hall"],
            "tts_entity": "tts.home",
            "speakers": ["media_player.kitchen"],
            "forward_to_hub": True,
            "household_device": "abc123",
        },
    )
    await set_state(hass, SMOKE, "on")
    assert len(calls["family"]) == 1
    assert len(calls["son"]) == 1
    push = calls["family"][0].data
    assert push["title"] == "FIRE – Grandma Li"
    assert push["message"] == (
        "Grandma Li's home: Kitchen smoke (Kitchen) detects smoke. "
        "Call them now; if nobody answers, call the fire brigade."
    )
    assert push["data"] == {
        "tag": "silver_bell_fire",
        "ttl": 0,
        "priority": "high",
        "channel": "alarm_stream",
        "push": {
            "interruption-level": "critical",
            "sound": {"name": "default", "critical": 1, "volume": 1.0},
        },
    }
    assert calls["light"][0].data == {
        "entity_id": ["light.hall"],
        "brightness_pct": 100,
    }
    assert calls["siren"][0].data == {"entity_id": ["siren.hall"]}
    assert calls["volume"][0].data == {
        "entity_id": ["media_player.kitchen"],
        "volume_level": 0.9,
    }
    assert calls["tts"][0].data["message"] == "Fire alarm! Please leave the home now."
    assert len(calls["hub"]) == 1
    assert calls["hub"][0].data == {
        "title": "FIRE – Grandma Li",
        "message": push["message"],
        "data": {"kind": "fire", "device_id": "abc123"},
    }


async def test_fire_never_on_unavailable_or_unknown(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Detectors dropping out or coming back as "on" raise nothing."""
    await fire_sensors(hass)
    await use_blueprint(hass, "fire_alert.yaml", FIRE_INPUTS)
    for state in (STATE_UNAVAILABLE, "on", STATE_UNKNOWN, "on", STATE_UNAVAILABLE):
        await set_state(hass, SMOKE, state)
    hass.states.async_set("binary_sensor.new_smoke", "on", {"device_class": "smoke"})
    for state in (STATE_UNAVAILABLE, STATE_UNKNOWN, "not a number"):
        await set_state(hass, TEMPERATURE, state)
    await settle(hass)
    assert not calls["family"]
    # A real off -> on still counts afterwards.
    await set_state(hass, SMOKE, "off")
    await set_state(hass, SMOKE, "on")
    assert len(calls["family"]) == 1


async def test_fire_on_temperature(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Above 57 °C (in any unit) raises the alarm once per crossing."""
    await fire_sensors(hass)
    await use_blueprint(
        hass,
        "fire_alert.yaml",
        {
            **FIRE_INPUTS,
            "language": "zh-Hans",
            "forward_to_hub": True,
            "household_device": "abc123",
        },
    )
    await set_state(hass, TEMPERATURE, "57")
    await set_state(hass, TEMPERATURE_F, "134")  # 56.7 °C
    assert not calls["family"]
    await set_state(hass, TEMPERATURE, STATE_UNAVAILABLE)
    await set_state(hass, TEMPERATURE, "62.4")  # a real reading, even after a gap
    assert len(calls["family"]) == 1
    push = calls["family"][0].data
    assert push["title"] == "火警 – Grandma Li"
    assert push["message"] == (
        "Grandma Li家中：Kitchen temperature读数 62 °C。请立即联系；无人接听请拨打 119。"
    )
    assert calls["hub"][0].data == {
        "title": "火警 – Grandma Li",
        "message": push["message"],
        "data": {"kind": "fire", "device_id": "abc123"},
    }
    await set_state(hass, TEMPERATURE, "70")  # still above: no new alarm
    assert len(calls["family"]) == 1
    await set_state(hass, TEMPERATURE_F, "140")  # 60 °C
    assert len(calls["family"]) == 2
    assert "Bedroom temperature读数 60 °C" in calls["family"][1].data["message"]
    await set_state(hass, SMOKE, "on")
    assert calls["family"][2].data["message"] == (
        "Grandma Li家中：Kitchen smoke（Kitchen）检测到烟雾。请立即联系；无人接听请拨打 119。"
    )


async def test_fire_forward_needs_a_household(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Forwarding on but no household chosen: the family is told, nothing forwarded."""
    await fire_sensors(hass)
    await use_blueprint(
        hass, "fire_alert.yaml", {**FIRE_INPUTS, "forward_to_hub": True}
    )
    await set_state(hass, SMOKE, "on")
    assert len(calls["family"]) == 1
    assert not calls["hub"]


async def test_fire_silver_bell_alarm_adds_local_actions(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Silver Bell's own fire alarm: lights and name from the household, no second forward."""
    register(
        hass, HOUSEHOLD_FIRE, platform="silver_bell", device_id=household_device(hass)
    )
    hass.states.async_set(
        HOUSEHOLD_FIRE,
        "off",
        {"device_class": "smoke", "friendly_name": "Grandma Li Fire alarm"},
    )
    await use_blueprint(
        hass,
        "fire_alert.yaml",
        {
            "fire_sensors": [HOUSEHOLD_FIRE],
            "lights": ["light.hall"],
            "notify_targets": ["family"],
            "forward_to_hub": True,
        },
    )
    await set_state(hass, HOUSEHOLD_FIRE, "on")
    assert len(calls["light"]) == 1
    assert (
        calls["family"][0]
        .data["message"]
        .startswith("Grandma Li's home: Grandma Li Fire alarm is on.")
    )
    assert not calls["hub"]


# ------------------------------------------------------- volunteer escalation


ESCALATION_INPUTS: dict[str, Any] = {
    "alarm_entity": HOUSEHOLD_ALARM,
    "first_contact": "daughter",
    "second_contact": "notify.neighbour",
    "final_contact": "social_worker",
    "wait_minutes": 5,
    "person_name": "Grandma Li",
}


async def start_escalation(
    hass: HomeAssistant, inputs: dict[str, Any] | None = None
) -> None:
    """Set up the blueprint and turn the alarm on."""
    hass.states.async_set(
        HOUSEHOLD_ALARM, "off", {"friendly_name": "Grandma Li Inactivity alarm"}
    )
    await use_blueprint(hass, "volunteer_escalation.yaml", inputs or ESCALATION_INPUTS)
    await set_state(hass, HOUSEHOLD_ALARM, "on")


def counts(calls: dict[str, list[ServiceCall]]) -> tuple[int, int, int]:
    """Pushes sent to the daughter, the neighbour and the social worker."""
    return (
        len(calls["daughter"]),
        len(calls["neighbour"]),
        len(calls["social_worker"]),
    )


async def test_escalation_walks_the_list(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Nobody answers: first person, then the second, then the final contact."""
    await start_escalation(
        hass, {**ESCALATION_INPUTS, "elder_phone": "+86 138 0000 0000"}
    )
    assert counts(calls) == (1, 0, 0)
    push = calls["daughter"][0].data
    assert push["title"] == "Alarm – Grandma Li"
    assert push["message"] == (
        "Grandma Li's home: Grandma Li Inactivity alarm. "
        'Please check on them and tap "I\'m on it".'
    )
    ack, call = push["data"]["actions"]
    assert ack["action"].startswith("SILVER_BELL_ACK_")
    assert ack["title"] == "I'm on it"
    assert call == {"action": "URI", "title": "Call", "uri": "tel:+8613800000000"}
    assert push["data"]["push"]["interruption-level"] == "critical"
    assert push["data"]["channel"] == "alarm_stream"
    assert push["data"]["tag"].startswith("silver_bell_escalation_")

    await advance(hass, clock, minutes=4)
    assert counts(calls) == (1, 0, 0)
    await advance(hass, clock, minutes=1)
    assert counts(calls) == (1, 1, 0)
    second = calls["neighbour"][0].data
    assert second["message"].endswith("(Nobody answered before you.)")
    assert second["data"] == push["data"]
    await advance(hass, clock, minutes=5)
    assert counts(calls) == (1, 1, 1)
    await advance(hass, clock, minutes=30)
    assert counts(calls) == (1, 1, 1)


async def test_escalation_stops_when_acknowledged(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """Only this run's action id acknowledges; then everyone asked so far is told."""
    await start_escalation(hass)
    await advance(hass, clock, minutes=5)
    assert counts(calls) == (1, 1, 0)
    ack = calls["daughter"][0].data["data"]["actions"][0]["action"]
    tag = calls["daughter"][0].data["data"]["tag"]
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": "SILVER_BELL_ACK_old_run"}
    )
    await settle(hass)
    assert counts(calls) == (1, 1, 0)
    hass.bus.async_fire("mobile_app_notification_action", {"action": ack, "tag": tag})
    await settle(hass)
    assert counts(calls) == (2, 2, 0)
    for person in ("daughter", "neighbour"):
        assert calls[person][-1].data == {
            "title": "Alarm – Grandma Li",
            "message": "Grandma Li: someone has acknowledged the alarm and is on it.",
            "data": {"tag": tag},
        }
    await advance(hass, clock, minutes=30)
    assert counts(calls) == (2, 2, 0)


async def test_escalation_stops_when_alarm_ends(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """The alarm turning off ends the escalation; a new alarm gets a new action id."""
    await start_escalation(hass, {**ESCALATION_INPUTS, "language": "zh-Hans"})
    first_ack = calls["daughter"][0].data["data"]["actions"][0]["action"]
    assert calls["daughter"][0].data["data"]["actions"][0]["title"] == "我来处理"
    await set_state(hass, HOUSEHOLD_ALARM, "off")
    assert counts(calls) == (2, 0, 0)
    assert calls["daughter"][1].data["message"] == "Grandma Li：警报已解除。"
    await advance(hass, clock, minutes=30)
    assert counts(calls) == (2, 0, 0)

    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert counts(calls) == (3, 0, 0)
    second_ack = calls["daughter"][2].data["data"]["actions"][0]["action"]
    assert second_ack != first_ack


async def test_escalation_ignores_unavailable(
    hass: HomeAssistant,
    clock: FrozenDateTimeFactory,
    calls: dict[str, list[ServiceCall]],
) -> None:
    """An alarm coming back from unavailable/unknown as "on" starts nothing."""
    hass.states.async_set(HOUSEHOLD_ALARM, STATE_UNAVAILABLE)
    await use_blueprint(
        hass,
        "volunteer_escalation.yaml",
        {**ESCALATION_INPUTS, "critical": False, "final_contact": ""},
    )
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    await set_state(hass, HOUSEHOLD_ALARM, STATE_UNKNOWN)
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert counts(calls) == (0, 0, 0)
    await set_state(hass, HOUSEHOLD_ALARM, "off")
    await set_state(hass, HOUSEHOLD_ALARM, "on")
    assert counts(calls) == (1, 0, 0)
    assert calls["daughter"][0].data["data"]["push"] == {
        "interruption-level": "time-sensitive"
    }
    assert len(calls["daughter"][0].data["data"]["actions"]) == 1
    await advance(hass, clock, minutes=60)
    assert counts(calls) == (1, 1, 0)  # no final contact configured
