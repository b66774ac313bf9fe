"""The duty desk (issue 21): websocket commands, access, live updates, the panel."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.silver_bell.const import CONF_DUTY_STAFF, DESK_PANEL_URL
from custom_components.silver_bell.core.bodies import IncidentMessage
from custom_components.silver_bell.core.hub.records import HubIncident, LogEvent
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.protocol import decode_pairing
from custom_components.silver_bell.hub.desk import FRONTEND_DIR, panel_title
from custom_components.silver_bell.hub.runtime import Hub

from .test_hub import Pager, _start_hub

DATA_PANELS = "frontend_panels"  # homeassistant.components.frontend
COMMANDS: list[dict[str, Any]] = [
    {"type": "silver_bell/desk/incidents"},
    {"type": "silver_bell/desk/subscribe"},
    {"type": "silver_bell/desk/acknowledge", "incident_id": "x"},
    {"type": "silver_bell/desk/resolve", "incident_id": "x", "resolution": "test"},
    {"type": "silver_bell/desk/page_again", "incident_id": "x"},
]


@pytest.fixture
async def desk(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> tuple[Hub, str]:
    """A running hub with volunteers and Grandma Li (websocket API set up first)."""
    assert await async_setup_component(hass, "websocket_api", {})
    _, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    return hub_entry.runtime_data, decode_pairing(code).household_id


async def _incident(
    hub: Hub,
    household_id: str,
    source: str = "a1b2c3d4e5f6a7b8",
    kind: IncidentKind = IncidentKind.HELP,
    details: dict[str, Any] | None = None,
) -> HubIncident:
    now = dt_util.utcnow()
    message = IncidentMessage(
        id=source,
        seq=1,
        kind=kind,
        state=IncidentState.OPEN,
        test=False,
        created_at=now,
        updated_at=now,
        escalated_at=now,
        details=details or {"message": "Grandma Li fell in the bathroom"},
        by=None,
        note=None,
    )
    await hub.async_receive(household_id, message)
    await hub.hass.async_block_till_done()  # the first page goes out in the background
    incident = hub.incidents.by_source(source)
    assert incident is not None
    return incident


async def _ask(client: Any, command: dict[str, Any]) -> dict[str, Any]:
    await client.send_json_auto_id(dict(command))
    answer: dict[str, Any] = await client.receive_json()
    return answer


# ------------------------------------------------------------------ access


async def test_admin_sees_open_incidents_with_personal_data(
    hass: HomeAssistant, desk: tuple[Hub, str], hass_ws_client: Any
) -> None:
    hub, household_id = desk
    Pager(hass)
    orange = await _incident(
        hub, household_id, "c0c0c0c0c0c0c0c0", IncidentKind.COLD, {"temperature": 12}
    )
    red = await _incident(hub, household_id)
    client = await hass_ws_client(hass)
    answer = await _ask(client, {"type": "silver_bell/desk/incidents"})
    assert answer["success"], answer
    data = answer["result"]
    # Red before orange, though the orange one is older.
    assert [item["id"] for item in data["incidents"]] == [red.id, orange.id]
    item = data["incidents"][0]
    assert item["elder_name"] == "Grandma Li"
    assert item["address"] == "3-201 Jinhua Road"
    assert item["phone"] == "+86 10 1234 5678"
    assert item["tel"] == "tel:+861012345678"
    assert item["kind"] == "help"
    assert item["colour"] == "red"
    assert "fell in the bathroom" in item["reported"]
    assert item["details"] == {"message": "Grandma Li fell in the bathroom"}
    # Who was paged, on which channel; the desk was informed.
    paged = {(page["person"]["name"], page["channel"]) for page in item["pages"]}
    assert ("Wang Fang", "notify.mobile_app_wang") in paged
    assert ("Li Ming", "notify.mobile_app_desk") in paged
    assert all(page["outcome"] == "sent" for page in item["pages"])
    assert item["accepted"] is None
    assert item["time_to_accept_s"] is None
    assert item["waiting_s"] >= 0
    assert data["ack_target_s"] == 60
    assert item["timeline"][0]["event"] == LogEvent.RECEIVED
    assert {person["id"] for person in data["on_duty"]} >= {"v-wang", "s-li"}
    assert data["statistics"]["open"] == 2
    assert "false_alarm" in data["resolutions"]
    assert data["problems"] == []  # the household was just heard from

    # The text of what was reported follows the desk's language.
    answer = await _ask(
        client, {"type": "silver_bell/desk/incidents", "language": "zh-Hans"}
    )
    assert answer["success"]
    cold = answer["result"]["incidents"][1]
    assert cold["kind"] == "cold"
    assert cold["elder_name"] == "Grandma Li"


async def test_month_view_of_the_last_twelve_months(
    hass: HomeAssistant, desk: tuple[Hub, str], hass_ws_client: Any
) -> None:
    """Per local calendar month: red/orange count, time to accept, surveys; numbers only."""
    hub, household_id = desk
    Pager(hass)
    red = await _incident(hub, household_id)
    assert hub.incidents.accept(
        red.id, "v-wang", red.created_at + timedelta(seconds=45)
    )
    await _incident(hub, household_id, "c0c0c0c0c0c0c0c0", IncidentKind.COLD)
    client = await hass_ws_client(hass)
    answer = await _ask(client, {"type": "silver_bell/desk/incidents"})
    assert answer["success"], answer
    months = answer["result"]["months"]
    local = dt_util.as_local(dt_util.utcnow())
    assert len(months) == 12
    assert months[-1]["month"] == f"{local.year:04d}-{local.month:02d}"
    assert [row["month"] for row in months] == sorted(row["month"] for row in months)
    this_month = months[-1]
    assert this_month["incidents"] == 2
    assert this_month["responded"] == 1
    assert this_month["median_ack_seconds"] == 45.0
    assert this_month["ack_within_target_pct"] == 100.0  # the orange one: not due yet
    assert this_month["survey_average"] is None
    assert all(row["incidents"] == 0 for row in months[:-1])
    # Numbers only: nothing about the elder in the month view.
    assert "Grandma" not in json.dumps(months)


async def test_other_users_get_an_error_never_data(
    hass: HomeAssistant,
    desk: tuple[Hub, str],
    hass_ws_client: Any,
    hass_read_only_access_token: str,
) -> None:
    hub, household_id = desk
    Pager(hass)
    incident = await _incident(hub, household_id)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for command in COMMANDS:
        if "incident_id" in command:
            command = {**command, "incident_id": incident.id}
        answer = await _ask(client, command)
        assert not answer["success"], command
        assert answer["error"]["code"] == "unauthorized"
        assert "result" not in answer
        assert "Grandma Li" not in json.dumps(answer)
    # Nothing changed.
    assert incident.state is IncidentState.OPEN
    assert incident.acknowledged_by is None
    assert not incident.has_log("desk_paged")


async def test_duty_staff_named_in_the_options_may_use_the_desk(
    hass: HomeAssistant,
    desk: tuple[Hub, str],
    hub_entry: MockConfigEntry,
    hass_ws_client: Any,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    hub, household_id = desk
    Pager(hass)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": "silver_bell/desk/subscribe"})
    refused = await client.receive_json()
    assert refused["error"]["code"] == "unauthorized"

    hass.config_entries.async_update_entry(
        hub_entry, options={CONF_DUTY_STAFF: [hass_read_only_user.id]}
    )
    await hass.async_block_till_done()
    hub = hub_entry.runtime_data  # reloaded with the new settings
    incident = await _incident(hub, household_id)
    answer = await _ask(client, {"type": "silver_bell/desk/incidents"})
    assert answer["success"], answer
    assert answer["result"]["incidents"][0]["elder_name"] == "Grandma Li"

    answer = await _ask(
        client, {"type": "silver_bell/desk/acknowledge", "incident_id": incident.id}
    )
    assert answer["success"], answer
    assert incident.acknowledged_by == hass_read_only_user.name


async def test_subscription_follows_new_incidents_and_reloads(
    hass: HomeAssistant,
    desk: tuple[Hub, str],
    hub_entry: MockConfigEntry,
    hass_ws_client: Any,
) -> None:
    hub, household_id = desk
    Pager(hass)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "silver_bell/desk/subscribe"})
    result = await client.receive_json()
    assert result["success"], result
    first = await client.receive_json()
    assert first["type"] == "event"
    assert first["event"]["incidents"] == []

    incident = await _incident(hub, household_id)
    update = await client.receive_json()
    assert update["type"] == "event"
    assert [item["id"] for item in update["event"]["incidents"]] == [incident.id]
    assert update["event"]["incidents"][0]["elder_name"] == "Grandma Li"

    # The hub reloads (a settings change): the desk keeps getting updates.
    hass.config_entries.async_update_entry(hub_entry, options={"rate_burst": 50})
    await hass.async_block_till_done()
    again = await client.receive_json()
    assert [item["id"] for item in again["event"]["incidents"]] == [incident.id]
    reloaded: Hub = hub_entry.runtime_data
    assert reloaded is not hub
    await _incident(reloaded, household_id, "b1b2b3b4b5b6b7b8", IncidentKind.FIRE)
    latest = await client.receive_json()
    assert len(latest["event"]["incidents"]) == 2


# ----------------------------------------------------------------- actions


async def test_acknowledge_and_resolve_are_logged_with_the_staff_name(
    hass: HomeAssistant,
    desk: tuple[Hub, str],
    hass_ws_client: Any,
    hass_admin_user: MockUser,
) -> None:
    hub, household_id = desk
    pager = Pager(hass)
    incident = await _incident(hub, household_id)
    assert incident.next_escalation_at is not None
    client = await hass_ws_client(hass)
    name = hass_admin_user.name
    assert name

    answer = await _ask(
        client, {"type": "silver_bell/desk/acknowledge", "incident_id": "nope"}
    )
    assert answer["error"]["code"] == "unknown_incident"

    answer = await _ask(
        client, {"type": "silver_bell/desk/acknowledge", "incident_id": incident.id}
    )
    assert answer["success"], answer
    assert answer["result"] == {"accepted": True, "accepted_by": name}
    assert incident.state is IncidentState.ACKNOWLEDGED
    assert incident.acknowledged_by == name
    assert incident.next_escalation_at is None  # escalation stops
    accepted = [entry for entry in incident.log if entry.event == LogEvent.ACCEPTED]
    assert [entry.actor for entry in accepted] == [name]
    # The paged volunteer learns who handles it.
    handled = pager.messages("mobile_app_wang")[-1]
    assert name in handled["message"]
    listed = (await _ask(client, {"type": "silver_bell/desk/incidents"}))["result"]
    item = listed["incidents"][0]
    assert item["accepted"]["name"] == name
    assert item["time_to_accept_s"] is not None
    assert item["within_target"] is True

    answer = await _ask(
        client,
        {
            "type": "silver_bell/desk/resolve",
            "incident_id": incident.id,
            "resolution": "resident_ok",
            "note": "Called her: she is fine, the cord was pulled by the cat",
        },
    )
    assert answer["success"], answer
    assert answer["result"] == {"state": "resolved", "resolution": "resident_ok"}
    assert incident.state is IncidentState.RESOLVED
    notes = [entry for entry in incident.log if entry.event == "desk_note"]
    assert [(entry.actor, entry.detail) for entry in notes] == [
        (name, "Called her: she is fine, the cord was pulled by the cat")
    ]
    resolved = [entry for entry in incident.log if entry.event == LogEvent.RESOLVED]
    assert [(entry.actor, entry.detail) for entry in resolved] == [
        (name, "resident_ok")
    ]
    assert hub.incidents.active == []

    answer = await _ask(
        client,
        {
            "type": "silver_bell/desk/resolve",
            "incident_id": incident.id,
            "resolution": "test",
        },
    )
    assert answer["error"]["code"] == "incident_closed"
    answer = await _ask(
        client,
        {
            "type": "silver_bell/desk/resolve",
            "incident_id": incident.id,
            "resolution": "no_such_code",
        },
    )
    assert answer["error"]["code"] == "invalid_format"


async def test_page_again_or_another_volunteer(
    hass: HomeAssistant,
    desk: tuple[Hub, str],
    hass_ws_client: Any,
    hass_admin_user: MockUser,
) -> None:
    hub, household_id = desk
    pager = Pager(hass)
    incident = await _incident(hub, household_id)
    client = await hass_ws_client(hass)
    assert len(pager.messages("mobile_app_wang")) == 1

    answer = await _ask(
        client, {"type": "silver_bell/desk/page_again", "incident_id": incident.id}
    )
    assert answer["success"], answer
    assert len(pager.messages("mobile_app_wang")) == 2  # the same tier again
    assert not pager.messages("mobile_app_zhao")

    answer = await _ask(
        client,
        {
            "type": "silver_bell/desk/page_again",
            "incident_id": incident.id,
            "volunteer_id": "v-zhao",
        },
    )
    assert answer["success"], answer
    assert len(pager.messages("mobile_app_zhao")) == 1
    desk_pages = [entry for entry in incident.log if entry.event == "desk_paged"]
    assert [(entry.actor, entry.detail) for entry in desk_pages] == [
        (hass_admin_user.name, None),
        (hass_admin_user.name, "v-zhao"),
    ]
    answer = await _ask(
        client,
        {
            "type": "silver_bell/desk/page_again",
            "incident_id": incident.id,
            "volunteer_id": "v-nobody",
        },
    )
    assert answer["error"]["code"] == "unknown_volunteer"


async def test_family_acknowledgement_does_not_count_as_accepted(
    hass: HomeAssistant, desk: tuple[Hub, str], hass_ws_client: Any
) -> None:
    hub, household_id = desk
    Pager(hass)
    now = dt_util.utcnow()
    incident = await _incident(hub, household_id)
    message = IncidentMessage(
        id="a1b2c3d4e5f6a7b8",
        seq=2,
        kind=IncidentKind.HELP,
        state=IncidentState.ACKNOWLEDGED,
        test=False,
        created_at=now,
        updated_at=now,
        escalated_at=now,
        details={},
        by="Li Hua",
        note=None,
    )
    await hub.async_receive(household_id, replace(message))
    client = await hass_ws_client(hass)
    item = (await _ask(client, {"type": "silver_bell/desk/incidents"}))["result"][
        "incidents"
    ][0]
    assert item["id"] == incident.id
    assert item["accepted"]["id"] == "family"
    assert item["accepted"]["volunteer"] is False


# ------------------------------------------------------------------- panel


async def test_panel_registered_with_the_hub_and_removed_on_unload(
    hass: HomeAssistant, desk: tuple[Hub, str], hub_entry: MockConfigEntry
) -> None:
    panel = hass.data[DATA_PANELS][DESK_PANEL_URL]
    assert panel.component_name == "custom"
    assert panel.sidebar_title == "Duty desk"
    assert panel.require_admin is False
    custom = panel.config["_panel_custom"]
    assert custom["name"] == "silver-bell-desk"
    assert custom["module_url"] == "/silver_bell_static/desk.js"

    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert DESK_PANEL_URL not in hass.data[DATA_PANELS]

    hass.config.language = "zh-Hans"
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.data[DATA_PANELS][DESK_PANEL_URL].sidebar_title == "值班台"


async def test_panel_files_are_served(
    hass: HomeAssistant, desk: tuple[Hub, str], hass_client_no_auth: Any
) -> None:
    client = await hass_client_no_auth()
    response = await client.get("/silver_bell_static/desk.js")
    assert response.status == 200
    text = await response.text()
    assert "customElements.define" in text
    assert "silver-bell-desk" in text
    response = await client.get("/silver_bell_static/desk.zh-Hans.json")
    assert response.status == 200
    assert (await response.json())["title"] == "值班台"


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    catalogues = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(Path(FRONTEND_DIR).glob("desk.*.json"))
    }
    assert set(catalogues) == {"desk.en.json", "desk.zh-Hans.json"}
    english = catalogues["desk.en.json"]
    for name, catalogue in catalogues.items():
        assert set(catalogue) == set(english), name
        for key, text in catalogue.items():
            assert isinstance(text, str) and text.strip(), (name, key)
            placeholders = {part.split("}")[0] for part in text.split("{")[1:]}
            wanted = {part.split("}")[0] for part in english[key].split("{")[1:]}
            assert placeholders == wanted, (name, key)
    assert panel_title("en") == "Duty desk"
    assert panel_title("zh-Hans") == "值班台"
    assert panel_title("zh-Hant-TW") == "值班台"
    # Every text key the panel asks for exists.
    script = (Path(FRONTEND_DIR) / "desk.js").read_text(encoding="utf-8")
    used = set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", script))
    assert used, "desk.js asks for no texts"
    assert used <= set(english), used - set(english)


async def test_staff_taken_off_the_list_stop_getting_updates(
    hass: HomeAssistant,
    desk: tuple[Hub, str],
    hub_entry: MockConfigEntry,
    hass_ws_client: Any,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    _, household_id = desk
    Pager(hass)
    hass.config_entries.async_update_entry(
        hub_entry, options={CONF_DUTY_STAFF: [hass_read_only_user.id]}
    )
    await hass.async_block_till_done()
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": "silver_bell/desk/subscribe"})
    assert (await client.receive_json())["success"]
    assert (await client.receive_json())["type"] == "event"

    hass.config_entries.async_update_entry(hub_entry, options={CONF_DUTY_STAFF: []})
    await hass.async_block_till_done()
    ended = await client.receive_json()
    assert ended["type"] == "result"
    assert ended["error"]["code"] == "unauthorized"
    # A new incident reaches nobody who is no longer on the list.
    await _incident(hub_entry.runtime_data, household_id)
    answer = await _ask(client, {"type": "silver_bell/desk/incidents"})
    assert answer["error"]["code"] == "unauthorized"
