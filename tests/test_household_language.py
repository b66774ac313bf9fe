"""Every household text in the server's language (issue 20): states, attributes, pushes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
import re
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
import yaml

from custom_components.silver_bell.binary_sensor import BINARY_SENSORS
from custom_components.silver_bell.const import (
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NAME,
    CONF_NOTIFY,
    CONF_SECRET,
    DOMAIN,
)
from custom_components.silver_bell.core import messages
from custom_components.silver_bell.core.bodies import Progress
from custom_components.silver_bell.core.household.incidents import Action
from custom_components.silver_bell.core.models import (
    Incident,
    IncidentKind,
    IncidentState,
)
from custom_components.silver_bell.core.protocol import PATH_HEARTBEAT, PATH_INCIDENTS
from custom_components.silver_bell.household.forwarder import Forwarder
from custom_components.silver_bell.hub.sensor import HOUSEHOLD_SENSORS, HUB_SENSORS
from custom_components.silver_bell.sensor import SENSORS

from .common import advance, set_state, setup_household
from .conftest import MOTION_KITCHEN, SMOKE

HUB = "https://hub.example"
# The elder and the volunteer are named in Chinese, as on a Chinese server.
ELDER = "李奶奶"
VOLUNTEER = "王芳"
# An English word: two or more ASCII letters (entity ids and ISO times are skipped).
ENGLISH = re.compile(r"[A-Za-z]{2,}")
# Attributes Home Assistant itself adds (and names) on some releases.
HA_OWN = {"supported_features", "restored", "attribution", "unit_of_measurement"}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT")


def _is_identifier(value: str) -> bool:
    """Entity ids, incident ids and times: data, not words."""
    return bool(
        ISO_TIME.match(value)
        or re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", value)
        or re.fullmatch(r"([a-z]+_)?[0-9a-f]{16,}", value)
    )


@pytest.fixture
def chinese_entry(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> MockConfigEntry:
    """Grandma Li as 李奶奶, paired with a hub, family notified; server in Chinese."""
    hass.config.language = "zh-Hans"
    hass.config_entries.async_update_entry(
        household_entry,
        title=ELDER,
        data={
            **household_entry.data,
            CONF_NAME: ELDER,
            CONF_HUB_URL: HUB,
            CONF_HOUSEHOLD_ID: "hh_grandma01",
            CONF_SECRET: "s" * 43,
        },
        options={CONF_NOTIFY: ["family"]},
    )
    return household_entry


def _answer(incident_id: str, *, on_the_way: bool) -> Progress:
    now = dt_util.utcnow()
    return Progress(
        id=incident_id,
        state=IncidentState.ACKNOWLEDGED,
        colour="red",
        acknowledged_by=VOLUNTEER,
        acknowledged_at=now,
        on_the_way_at=now if on_the_way else None,
        resolved_at=None,
        resolution=None,
        updated_at=now,
    )


def _entity(hass: HomeAssistant, domain: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"household01_{key}"
    )
    assert entity_id is not None, key
    return entity_id


def _english_in(text: str) -> list[str]:
    return ENGLISH.findall(text)


async def _texts_of_entities(hass: HomeAssistant, language: str) -> list[str]:
    """Every entity name, state and attribute as the frontend shows them."""
    translations = await async_get_translations(hass, language, "entity", {DOMAIN})
    prefix = f"component.{DOMAIN}.entity"
    shown: list[str] = []
    registry = er.async_get(hass)
    entries = [
        entry for entry in registry.entities.values() if entry.platform == DOMAIN
    ]
    assert len(entries) >= 12
    for entry in entries:
        key = f"{prefix}.{entry.domain}.{entry.translation_key}"
        shown.append(translations[f"{key}.name"])
        state = hass.states.get(entry.entity_id)
        assert state is not None, entry.entity_id
        if entry.domain == "sensor" and state.attributes.get("options"):
            shown.append(translations[f"{key}.state.{state.state}"])
        elif entry.domain == "sensor" and not _is_identifier(state.state):
            shown.append(state.state)
        for name, value in state.attributes.items():
            if name in {"friendly_name", "device_class", "icon", "options"} | HA_OWN:
                continue
            if name in {"event_type", "event_types"}:
                continue
            attribute = f"{key}.state_attributes.{name}"
            shown.append(translations[f"{attribute}.name"])
            values = value if isinstance(value, list) else [value]
            for item in values:
                if (
                    item is None
                    or isinstance(item, (int, float))
                    and not isinstance(item, bool)
                ):
                    continue
                if isinstance(item, bool):
                    shown.append(translations[f"{attribute}.state.{str(item).lower()}"])
                elif isinstance(item, dict):
                    for problems in item.values():
                        shown.extend(
                            translations[f"{attribute}.state.{problem}"]
                            for problem in problems
                        )
                elif f"{attribute}.state.{item}" in translations:
                    shown.append(translations[f"{attribute}.state.{item}"])
                elif not _is_identifier(str(item)):
                    shown.append(str(item))
    return shown


async def test_every_state_and_attribute_in_chinese(
    hass: HomeAssistant,
    chinese_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(HUB + PATH_INCIDENTS, json={"ok": True})
    calls = async_mock_service(hass, "notify", "family")
    with patch.object(Forwarder, "async_poll", _no_poll):
        await _chinese_home(hass, chinese_entry, freezer)

    shown = await _texts_of_entities(hass, "zh-Hans")
    assert "3小时11分" in shown  # time without activity, not "3:11" or "191"
    english = {text: words for text in shown if (words := _english_in(text))}
    assert english == {}
    fire = hass.states.get(_entity(hass, "binary_sensor", "fire_alarm"))
    assert fire.state == STATE_ON
    assert fire.attributes["smoke"] == "cleared"
    assert fire.attributes["waiting_for"] == "resolution"  # a volunteer accepted
    progress = hass.states.get(_entity(hass, "sensor", "help_progress"))
    assert progress.state == "on_the_way"
    assert progress.attributes["volunteer"] == VOLUNTEER

    # The family's pushes: in Chinese, durations as a family reads them.
    texts = [call.data["title"] + call.data["message"] for call in calls]
    assert any("3小时10分" in text for text in texts)
    for text in texts:
        assert _english_in(text.replace(ELDER, "")) == [], text

    # Help progress keeps the hub's last answer across a reload (no poll yet).
    with patch.object(Forwarder, "async_poll", _no_poll):
        assert await hass.config_entries.async_reload(chinese_entry.entry_id)
        await hass.async_block_till_done()
        progress = hass.states.get(_entity(hass, "sensor", "help_progress"))
        assert progress.state == "on_the_way"
        assert progress.attributes["volunteer"] == VOLUNTEER


async def _no_poll(self: Forwarder) -> None:
    """The hub is not asked: what Help progress shows comes from the household."""


async def _chinese_home(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A fire that cleared, a help call a volunteer is on the way to, a long silence."""
    await setup_household(hass, entry, freezer)
    household = entry.runtime_data
    await set_state(hass, SMOKE, STATE_ON)
    await advance(hass, freezer, timedelta(minutes=1))
    await set_state(hass, SMOKE, STATE_OFF)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    for incident in household.book.active:
        household._async_hub_progress(_answer(incident.id, on_the_way=True))
    await advance(hass, freezer, timedelta(hours=3, minutes=10))
    await hass.async_block_till_done()


async def test_english_server_keeps_english(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The same names exist in English: every attribute has a translated name."""
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, MOTION_KITCHEN, STATE_ON)
    await set_state(hass, MOTION_KITCHEN, STATE_OFF)
    await advance(hass, freezer, timedelta(minutes=75))
    shown = await _texts_of_entities(hass, "en")
    assert "1 h 15 min" in shown
    inactivity = hass.states.get("sensor.grandma_li_time_without_activity")
    assert inactivity.attributes["minutes"] == 75
    # Known although the routine is still learning (was "Unknown").
    assert inactivity.attributes["alarm_after"] == 180
    # A sensor without an area: named by its device or itself (was "Unknown").
    assert inactivity.attributes["last_room"] == MOTION_KITCHEN


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
async def test_every_enum_option_translated(hass: HomeAssistant, language: str) -> None:
    """Every option an enum sensor can show has a text (no raw away_too_long)."""
    translations = await async_get_translations(hass, language, "entity", {DOMAIN})
    for description in (*SENSORS, *HUB_SENSORS, *HOUSEHOLD_SENSORS):
        for option in description.options or ():
            key = (
                f"component.{DOMAIN}.entity.sensor."
                f"{description.translation_key}.state.{option}"
            )
            assert translations.get(key), key
    for description in BINARY_SENSORS:
        assert description.entity_category is None or description.key not in (
            "sensor_problem",
            "hub_connection",
        )


def test_durations() -> None:
    assert messages.duration_text(190 * 60, "en") == "3 h 10 min"
    assert messages.duration_text(190 * 60, "zh-Hans") == "3小时10分"
    assert messages.duration_text(21 * 3600, "en") == "21 h"
    assert messages.duration_text(45 * 60, "zh-Hans") == "45分钟"
    assert messages.duration_text(63, "en", precise=True) == "1 min 3 s"
    assert messages.duration_text(63, "zh-Hans", precise=True) == "1分3秒"
    assert messages.duration_text(26 * 3600 + 60, "en") == "1 d 2 h"
    assert messages.duration_text(-5, "en") == "0 min"


@pytest.mark.parametrize("kind", list(IncidentKind))
@pytest.mark.parametrize("action", list(Action))
def test_every_notification_text_in_chinese(kind: IncidentKind, action: Action) -> None:
    now = datetime(2026, 11, 24, 8, tzinfo=dt_util.UTC)
    details: dict[str, Any] = {
        "gap_min": 190,
        "last_activity": (now - timedelta(minutes=190)).isoformat(),
        "last_room": "厨房",
        "sensors": {"binary_sensor.kitchen_motion": ["battery_low", "unavailable"]},
        "devices": {"binary_sensor.kitchen_motion": "厨房人体传感器"},
    }
    incident = Incident(kind=kind, created_at=now, details=details, test=True)
    for language in ("en", "zh-Hans"):
        text = messages.incident_text(
            action,
            incident,
            ELDER,
            language,
            VOLUNTEER,
            messages.details_text(incident, language, now),
        )
        assert text
        if language == "zh-Hans":
            assert _english_in(text) == [], text
    assert messages.details_text(incident, "zh-Hans", now) in (
        "最后在厨房有活动，已过去3小时10分",
        "厨房人体传感器：电量低、离线",
    )


@pytest.mark.parametrize("page", ["docs/families.md", "docs/zh-Hans/families.md"])
def test_family_dashboard_puts_the_essentials_first(page: str) -> None:
    """The shipped dashboard: status, last activity, help progress, I'm OK first."""
    text = (Path(__file__).parent.parent / page).read_text("utf-8")
    block = text.split("```yaml\ntype: vertical-stack\n", 1)[1].split("```", 1)[0]
    dashboard = yaml.safe_load("type: vertical-stack\n" + block)
    prefix = "li_nai_nai_" if "zh-Hans" in page else "grandma_li_"
    first = [card["entity"].split(".", 1)[1] for card in dashboard["cards"][:4]]
    assert [entity.removeprefix(prefix) for entity in first] == [
        "status",
        "last_activity",
        "help_progress",
        "i_m_ok",
    ]
    rest = str(dashboard["cards"][4:])
    for key in ("sensor_problem", "hub_connection", "fire_alarm"):
        assert key in rest


async def test_each_family_member_reads_their_language(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Server in English; the son reads Chinese, the daughter the server's language."""
    hass.config_entries.async_update_entry(
        household_entry,
        options={
            CONF_NOTIFY: ["son", "notify.daughter"],
            "notify_languages": {"son": "zh-Hans"},
        },
    )
    son = async_mock_service(hass, "notify", "son")
    daughter = async_mock_service(hass, "notify", "daughter")
    await setup_household(hass, household_entry, freezer)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    assert son and daughter
    chinese = son[-1].data["title"] + son[-1].data["message"]
    assert "紧急呼叫" in chinese
    assert not _english_in(chinese.replace("Grandma Li", ""))
    assert "Grandma Li" in daughter[-1].data["message"]
    assert not re.search(r"[\u4e00-\u9fff]", daughter[-1].data["message"])


def test_the_sensor_advice_reads_chinese() -> None:
    """The family's notification about the sensors has no English in Chinese."""
    texts = [
        messages.advice_title("李奶奶", "zh-Hans"),
        messages.learned_text("李奶奶", "zh-Hans"),
        messages.figures_text(
            8400, 15000, [("书房", "12-17"), ("厨房", "17-22")], "zh-Hans"
        ),
        messages.replayed_text(3, 2, 20.8, 4.3, "zh-Hans"),
        messages.replayed_text(0, 0, 14.2, 0.0, "zh-Hans"),
        messages.over_budget_text(1.0, 20.8, "zh-Hans"),
        messages.advice_text("书房", (9000, 8400), (15000, 9000), 14, "zh-Hans"),
    ]
    for text in texts:
        assert _english_in(text) == [], text
