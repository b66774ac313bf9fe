"""Tests of the companion-app payloads and their message catalogue (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from custom_components.silver_bell.core.hub import pushes
from custom_components.silver_bell.core.hub.incidents import HubIncidentBook
from custom_components.silver_bell.core.hub.people import HouseholdRecord
from custom_components.silver_bell.core.hub.pushes import (
    ACTION_ACCEPT,
    ACTION_FALSE_ALARM,
    ACTION_ON_THE_WAY,
    ACTION_REAL_EMERGENCY,
    ACTION_RESIDENT_OK,
    ACTION_RESOLVE,
    RESOLUTION_ACTIONS,
    ParsedAction,
    accepted_payload,
    action_id,
    clear_payload,
    emergency_number,
    handled_by_payload,
    informational_payload,
    page_payload,
    parse_action,
    resolution_payload,
    resolution_text,
    resolved_payload,
    tag,
)
from custom_components.silver_bell.core.hub.records import HubIncident, Resolution
from custom_components.silver_bell.core.models import IncidentKind, IncidentState

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
CHINA = timezone(timedelta(hours=8))
HOME = HouseholdRecord(
    id="hh_li01",
    elder_name="李桂兰",
    address="幸福里5号楼2单元101室",
    phone="010-8765 4321",
)
HOME_EN = HouseholdRecord(
    id="hh_li01",
    elder_name="Li Guilan",
    address="Lane 12 No. 3, Room 301",
    phone="+86 138 0013 8000",
)
CRITICAL_PUSH = {
    "interruption-level": "critical",
    "sound": {"name": "default", "critical": 1, "volume": 1.0},
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def incident(
    kind: IncidentKind = IncidentKind.HELP,
    *,
    test: bool = False,
    details: dict[str, Any] | None = None,
) -> HubIncident:
    book = HubIncidentBook()
    item, _ = book.apply(
        "hh_li01",
        source_id="s1",
        seq=1,
        kind=kind,
        state=IncidentState.OPEN,
        test=test,
        created_at=T0 - timedelta(minutes=3, seconds=10),
        details=details,
        now=T0,
    )
    return item


def titles(payload: dict[str, Any]) -> list[str]:
    return [action["title"] for action in payload["data"].get("actions", [])]


# ------------------------------------------------------------------ actions


def test_action_ids_round_trip() -> None:
    item = incident()
    plain = action_id(ACTION_ACCEPT, item.id)
    assert plain == f"SILVER_BELL_ACK_{item.id}"
    assert parse_action(plain) == ParsedAction(ACTION_ACCEPT, item.id, None)
    with_volunteer = action_id(ACTION_RESOLVE, item.id, "v_li_2")
    assert with_volunteer == f"SILVER_BELL_RESOLVE_{item.id}_v_li_2"
    action, incident_id, volunteer_id = parse_action(with_volunteer)  # type: ignore[misc]
    assert (action, incident_id, volunteer_id) == (ACTION_RESOLVE, item.id, "v_li_2")
    for action in (ACTION_ON_THE_WAY, *RESOLUTION_ACTIONS):
        assert parse_action(action_id(action, item.id, "v")) == ParsedAction(
            action, item.id, "v"
        )


@pytest.mark.parametrize(
    "action",
    [
        "",
        "ALARM",
        "SILVER_BELL_ACK",
        "SILVER_BELL_ACK_",
        "SILVER_BELL_SNOOZE_abc",
        "URI",
        "silver_bell_ack_abc",
    ],
)
def test_foreign_actions_are_ignored(action: str) -> None:
    assert parse_action(action) is None


def test_tag_and_emergency_numbers() -> None:
    item = incident()
    assert tag(item) == f"silver_bell_{item.id}"
    assert emergency_number(IncidentKind.FIRE) == "119"
    assert emergency_number(IncidentKind.HELP) == "120"
    assert emergency_number(IncidentKind.INACTIVITY) == "120"


# ------------------------------------------------------------------- pages


def test_red_page_in_chinese() -> None:
    item = incident()
    payload = page_payload(
        item,
        HOME,
        language="zh-Hans",
        critical=True,
        call_120=False,
        volunteer_id="v_li",
        now=T0,
    )
    assert payload == {
        "title": "紧急：紧急呼叫",
        "message": "李桂兰，幸福里5号楼2单元101室。3分钟前。请立即前往，能去请点“接单”。",
        "data": {
            "tag": f"silver_bell_{item.id}",
            "group": "silver_bell",
            "ttl": 0,
            "priority": "high",
            "channel": "alarm_stream",
            "importance": "high",
            "push": CRITICAL_PUSH,
            "actions": [
                {"action": f"SILVER_BELL_ACK_{item.id}_v_li", "title": "接单"},
                {"action": "URI", "title": "呼叫老人", "uri": "tel:01087654321"},
                {"action": "URI", "title": "拨打120", "uri": "tel:120"},
            ],
        },
    }


def test_escalated_fire_page_in_english_with_clock_time() -> None:
    item = incident(IncidentKind.FIRE, details={"message": "  Smoke in the kitchen  "})
    payload = page_payload(
        item,
        HOME_EN,
        language="en",
        critical=True,
        call_120=True,
        volunteer_id="s_zhao",
        now=T0 + timedelta(minutes=5),
        tz=CHINA,
    )
    assert payload["title"] == "URGENT: Fire alarm"
    assert payload["message"] == (
        'Li Guilan, Lane 12 No. 3, Room 301. 15:56, 8 min ago. "Smoke in the kitchen" '
        "Please go now, and tap Accept if you can. "
        "Nobody has accepted yet. If in doubt, call 119."
    )
    assert payload["data"]["actions"][1:] == [
        {"action": "URI", "title": "Call elder", "uri": "tel:+8613800138000"},
        {"action": "URI", "title": "Call 119", "uri": "tel:119"},
    ]


def test_orange_page_is_not_critical() -> None:
    item = incident(IncidentKind.COLD)
    payload = page_payload(
        item, HOME_EN, language="en", critical=False, call_120=False, now=T0
    )
    assert payload["title"] == "Too cold"
    assert payload["message"] == (
        "Li Guilan, Lane 12 No. 3, Room 301. 3 min ago. "
        "Please check on Li Guilan, and tap Accept if you can."
    )
    data = payload["data"]
    assert data["channel"] == "Silver Bell"
    assert data["push"] == {"interruption-level": "time-sensitive"}
    assert (data["ttl"], data["priority"]) == (0, "high")
    assert "importance" not in data
    assert titles(payload) == ["Accept", "Call elder"]
    assert data["actions"][0]["action"] == f"SILVER_BELL_ACK_{item.id}"
    with_120 = page_payload(
        item, HOME_EN, language="en", critical=False, call_120=True, now=T0
    )
    assert titles(with_120) == ["Accept", "Call elder", "Call 120"]


def test_offline_page_for_it_without_phone() -> None:
    book = HubIncidentBook()
    item, _ = book.household_offline("hh_li01", T0, since=T0 - timedelta(seconds=30))
    no_phone = HouseholdRecord(
        id="hh_li01", elder_name="李桂兰", address="幸福里5号", phone=""
    )
    payload = page_payload(
        item, no_phone, language="zh", critical=False, call_120=False, now=T0
    )
    assert payload["title"] == "设备离线"
    assert payload["message"] == "李桂兰，幸福里5号。刚刚。请检查设备。"
    assert titles(payload) == ["接单"]


def test_test_incidents_are_marked() -> None:
    item = incident(test=True)
    assert (
        page_payload(
            item, HOME, language="zh-Hans", critical=True, call_120=False, now=T0
        )["title"]
        == "【测试】紧急：紧急呼叫"
    )
    assert (
        resolved_payload(item, HOME_EN, language="en")["title"]
        == "[TEST] Resolved: Help call"
    )


def test_long_details_message_is_cut_and_blank_ignored() -> None:
    long_text = incident(details={"message": "x" * 500})
    payload = page_payload(
        long_text, HOME_EN, language="en", critical=True, call_120=False, now=T0
    )
    assert '"' + "x" * 200 + '"' in payload["message"]
    assert "x" * 201 not in payload["message"]
    for details in ({"message": "   "}, {"message": 42}):
        item = incident(details=details)
        message = page_payload(
            item, HOME_EN, language="en", critical=True, call_120=False, now=T0
        )["message"]
        assert message == (
            "Li Guilan, Lane 12 No. 3, Room 301. 3 min ago. Please go now, and tap Accept if you can."
        )


def test_now_defaults_to_the_clock() -> None:
    item = incident()
    item.raised_at = datetime.now(UTC) - timedelta(minutes=10, seconds=5)
    payload = page_payload(item, HOME_EN, language="en", critical=True, call_120=False)
    assert ". 10 min ago. " in payload["message"]


# -------------------------------------------------------------- follow-ups


def test_accepted_payload() -> None:
    book = HubIncidentBook()
    item, _ = book.apply(
        "hh_li01", source_id="s", seq=1, kind="fire", state="open", now=T0
    )
    book.accept(item.id, "v_li", T0)
    payload = accepted_payload(item, HOME, language="zh-Hans")
    assert payload["title"] == "已接单：火警"
    assert (
        payload["message"]
        == "由您负责：李桂兰，幸福里5号楼2单元101室。出发时请点“正在赶往”。"
    )
    assert payload["data"]["tag"] == tag(item)
    assert payload["data"]["actions"] == [
        {"action": f"SILVER_BELL_OTW_{item.id}_v_li", "title": "正在赶往"},
        {"action": f"SILVER_BELL_RESOLVE_{item.id}_v_li", "title": "已处理"},
        {"action": "URI", "title": "拨打119", "uri": "tel:119"},
    ]
    assert payload["data"]["channel"] == "Silver Bell"
    other = accepted_payload(item, HOME_EN, language="en", volunteer_id="v_x")
    assert titles(other) == ["On my way", "Resolved", "Call 119"]
    assert other["data"]["actions"][0]["action"].endswith("_v_x")


def test_handled_by_payload() -> None:
    item = incident()
    payload = handled_by_payload(item, HOME, "王建国", language="zh-Hans")
    assert payload == {
        "title": "紧急呼叫：已有人处理",
        "message": "王建国已接单，正在处理（李桂兰）。",
        "data": {
            "tag": tag(item),
            "group": "silver_bell",
            "ttl": 0,
            "priority": "high",
            "channel": "Silver Bell",
            "push": {"interruption-level": "passive"},
        },
    }
    english = handled_by_payload(item, HOME_EN, "Wang", language="en")
    assert (english["title"], english["message"]) == (
        "Help call: being handled",
        "Wang is handling it (Li Guilan).",
    )


def test_informational_payload() -> None:
    item = incident(
        IncidentKind.INACTIVITY, details={"message": "No movement since 06:00"}
    )
    payload = informational_payload(item, HOME, language="zh-Hans", now=T0, tz=CHINA)
    assert payload["title"] == "知悉：长时间无活动"
    assert payload["message"] == (
        "李桂兰，幸福里5号楼2单元101室（15:56，3分钟前）。已通知责任志愿者。“No movement since 06:00”"
    )
    assert payload["data"]["push"] == {"interruption-level": "active"}
    assert titles(payload) == ["呼叫老人"]
    english = informational_payload(item, HOME_EN, language="en", now=T0)
    assert english["message"] == (
        "Li Guilan, Lane 12 No. 3, Room 301 (3 min ago). The assigned volunteers have been paged. "
        '"No movement since 06:00"'
    )


def test_resolved_payload() -> None:
    book = HubIncidentBook()
    item, _ = book.apply(
        "hh_li01", source_id="s", seq=1, kind="help", state="open", now=T0
    )
    book.resolve(item.id, "v_li", "false_alarm", T0)
    payload = resolved_payload(item, HOME, language="zh-Hans")
    assert payload["title"] == "已处理：紧急呼叫"
    assert payload["message"] == "李桂兰：误报。辛苦了！"
    assert "actions" not in payload["data"]
    assert payload["data"]["push"] == {"interruption-level": "passive"}
    item.resolution = None
    assert resolved_payload(item, HOME_EN, language="en")["message"] == (
        "Li Guilan: resolved. Thank you."
    )


def test_resolution_question() -> None:
    item = incident()
    payload = resolution_payload(item, HOME, language="zh-Hans", volunteer_id="v_li")
    assert payload["title"] == "请选择处理结果"
    assert payload["message"] == "李桂兰家的紧急呼叫：是什么情况？"
    assert [action["action"] for action in payload["data"]["actions"]] == [
        f"{ACTION_REAL_EMERGENCY}_{item.id}_v_li",
        f"{ACTION_FALSE_ALARM}_{item.id}_v_li",
        f"{ACTION_RESIDENT_OK}_{item.id}_v_li",
    ]
    assert titles(payload) == ["真实紧急", "误报", "老人平安"]
    assert RESOLUTION_ACTIONS[ACTION_FALSE_ALARM] is Resolution.FALSE_ALARM


def test_clear_payload() -> None:
    item = incident()
    assert clear_payload(item) == {
        "message": "clear_notification",
        "data": {"tag": tag(item)},
    }


def test_resolution_texts() -> None:
    assert resolution_text("resident_ok", "zh-Hans") == "老人平安"
    assert resolution_text("back_online", "en") == "back online"
    assert resolution_text("nonsense", "en") == "resolved"
    assert resolution_text(None, "zh") == "已处理"


# --------------------------------------------------------------- catalogue


def test_catalogue_is_complete_in_both_languages() -> None:
    languages = ("en", "zh-Hans")
    for table in (pushes._TEXT, pushes._BUTTON, pushes._RESOLUTION):
        assert set(table) == set(languages)
        assert set(table["en"]) == set(table["zh-Hans"])
    assert set(pushes._RESOLUTION["en"]) == set(Resolution)
    assert set(pushes._BUTTON["en"]) >= set(pushes.ACTIONS)


def test_every_payload_fits_android() -> None:
    for kind in IncidentKind:
        item = incident(kind)
        for language in ("en", "zh-Hans", "fr"):
            for critical in (True, False):
                for call_120 in (True, False):
                    payload = page_payload(
                        item,
                        HOME,
                        language=language,
                        critical=critical,
                        call_120=call_120,
                        volunteer_id="v",
                        now=T0,
                    )
                    assert len(payload["data"]["actions"]) <= 3
                    assert payload["title"]
                    assert payload["message"]
            assert (
                len(accepted_payload(item, HOME, language=language)["data"]["actions"])
                <= 3
            )


@pytest.mark.parametrize(
    ("details", "language", "expected"),
    [
        (
            {"gap_min": 190, "normal_up_to": 100},
            "en",
            "No movement for 3 h 10 min; usual here at this time: up to 1 h 40 min.",
        ),
        (
            {"gap_min": 190, "normal_up_to": 45},
            "zh-Hans",
            "已3小时10分钟无活动；此时此处平常最多45分钟。",
        ),
        ({"gap_min": 600, "normal_up_to": None}, "en", "No movement for 10 h 0 min."),
        ({"gap_min": True}, "en", None),
        ({"gap_min": -5}, "en", None),
    ],
)
def test_inactivity_explanation_in_the_page(
    details: dict[str, Any], language: str, expected: str | None
) -> None:
    """Volunteers read how long it has been silent and what is usual."""
    item = incident(IncidentKind.INACTIVITY, details=details)
    text = pushes._detail_message(item, pushes.language_for(language))
    assert text == expected
