"""Household and hub in one Home Assistant, talking signed HTTP over loopback."""

from __future__ import annotations

from datetime import timedelta
import json
import time
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_ON
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.silver_bell.const import (
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_SECRET,
    DOMAIN,
)
from custom_components.silver_bell.core.bodies import heartbeat_body
from custom_components.silver_bell.core.hub.pushes import (
    ACTION_ACCEPT,
    ACTION_FALSE_ALARM,
    ACTION_ON_THE_WAY,
    ACTION_RESOLVE,
    action_id,
)
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.protocol import (
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    decode_pairing,
    incident_path,
    signed_headers,
)

from .common import device_by_identifier, eid, set_state, setup_household
from .conftest import HOUSEHOLD_DATA, SMOKE

VOLUNTEERS_CSV = """id,name,phone,notify,role,language
v-wang,Wang Fang,+86 138 0000 0001,mobile_app_wang,volunteer,en
v-zhao,Zhao Lei,+86 138 0000 0002,mobile_app_zhao;sms_zhao,volunteer,zh-Hans
s-li,Li Ming,+86 138 0000 0003,mobile_app_desk,staff,en
it-chen,Chen Jie,+86 138 0000 0004,mobile_app_it,it,en
"""


class Pager:
    """Records every push by notify service."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.calls: dict[str, list[ServiceCall]] = {}
        for service in (
            "mobile_app_wang",
            "mobile_app_zhao",
            "sms_zhao",
            "mobile_app_desk",
            "mobile_app_it",
        ):
            self.calls[service] = async_mock_service(hass, "notify", service)

    def messages(self, service: str) -> list[dict[str, Any]]:
        return [dict(call.data) for call in self.calls[service]]


NO_RESPONSE = {
    "hub_resolve",
    "remove_household",
    "remove_volunteer",
    "set_volunteer_pin",
    "revoke_household",
    "erase_person",
}


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=service not in NO_RESPONSE
    )


async def _start_hub(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> tuple[TestClient, str]:
    """Set the hub up, fill its ledger, register one household; return client and code."""
    hass.config.internal_url = "http://127.0.0.1:8123"
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    # Newer releases' notify needs repairs, whose views must be registered
    # before the test server freezes the router.
    assert await async_setup_component(hass, "repairs", {})
    client: TestClient = await hass_client_no_auth()
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    response = await _call(
        hass,
        "register_household",
        {
            "elder_name": "Grandma Li",
            "address": "3-201 Jinhua Road",
            "phone": "+86 10 1234 5678",
            "volunteers": ["v-wang"],
            "backup_volunteers": ["v-zhao"],
            "language": "en",
        },
    )
    return client, response["pairing_code"]


async def _add_household(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, code: str, url: str
) -> MockConfigEntry:
    """A household paired with the hub (url overrides the code's, like a real network)."""
    pairing = decode_pairing(code)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Grandma Li",
        data={
            **HOUSEHOLD_DATA,
            CONF_HUB_URL: url,
            CONF_HOUSEHOLD_ID: pairing.household_id,
            CONF_SECRET: pairing.secret,
        },
        entry_id="household01",
    )
    entry.add_to_hass(hass)
    await setup_household(hass, entry, freezer, start=None)
    return entry


def _url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


def _hub(hub_entry: MockConfigEntry) -> Any:
    return hub_entry.runtime_data


async def test_alarm_reaches_volunteer_and_progress_comes_back(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_entry = await _add_household(hass, freezer, code, _url(client))
    household_id = household_entry.data[CONF_HOUSEHOLD_ID]
    assert hass.states.get(eid("binary_sensor", "hub_connection")).state == STATE_ON

    await set_state(hass, SMOKE, STATE_ON)
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    incident = hub.incidents.active[0]
    assert incident.household_id == household_id
    assert incident.kind is IncidentKind.FIRE
    page = pager.messages("mobile_app_wang")[0]
    assert page["data"]["push"]["interruption-level"] == "critical"
    assert page["data"]["channel"] == "alarm_stream"
    assert page["data"]["tag"].endswith(incident.id)
    actions = [action["action"] for action in page["data"]["actions"]]
    assert actions[0] == action_id(ACTION_ACCEPT, incident.id, "v-wang")
    assert any(action.get("uri") == "tel:119" for action in page["data"]["actions"])
    assert "Grandma Li" in page["message"]
    # The duty desk is informed at once; backups are not paged yet.
    assert pager.messages("mobile_app_desk")
    assert not pager.messages("mobile_app_zhao")
    # No personal data in the hub's entity states (any user may read them).
    hub_entities = er.async_entries_for_config_entry(
        er.async_get(hass), hub_entry.entry_id
    )
    assert len(hub_entities) > 5
    for entity in hub_entities:
        if entity.disabled_by is not None:
            continue  # off by default (the last heartbeat): no state to read
        state = hass.states.get(entity.entity_id)
        dumped = json.dumps(state.as_dict(), default=str)
        assert "Grandma Li" not in dumped
        assert "Jinhua Road" not in dumped

    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action_id(ACTION_ACCEPT, incident.id, "v-wang")},
    )
    await hass.async_block_till_done()
    assert incident.acknowledged_by == "v-wang"
    assert pager.messages("mobile_app_wang")[-1]["data"]["tag"].endswith(incident.id)

    forwarder = household_entry.runtime_data.forwarder
    await forwarder.async_poll()
    await hass.async_block_till_done()
    progress = hass.states.get(eid("sensor", "help_progress"))
    assert progress.state == "acknowledged"
    assert progress.attributes["volunteer"] == "Wang Fang"
    local = household_entry.runtime_data.book.active_of(IncidentKind.FIRE)
    assert local.state is IncidentState.ACKNOWLEDGED

    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action_id(ACTION_ON_THE_WAY, incident.id, "v-wang")},
    )
    await hass.async_block_till_done()
    await forwarder.async_poll()
    await hass.async_block_till_done()
    assert hass.states.get(eid("sensor", "help_progress")).state == "on_the_way"

    await _call(
        hass, "hub_resolve", {"incident_id": incident.id, "resolution": "false_alarm"}
    )
    await forwarder.async_poll()
    await hass.async_block_till_done()
    assert household_entry.runtime_data.book.active_of(IncidentKind.FIRE) is None
    assert hass.states.get("sensor.jinhua_hub_open_incidents").state == "0"


async def test_red_escalation_tiers(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    await _add_household(hass, freezer, code, _url(client))
    await _call(hass, "raise_help", {"message": "fell"})
    await hass.async_block_till_done()
    assert len(pager.messages("mobile_app_wang")) == 1
    assert not pager.messages("mobile_app_zhao")

    async def after(minutes: float) -> None:
        freezer.tick(timedelta(minutes=minutes))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    await after(1.9)
    assert not pager.messages("mobile_app_zhao")
    await after(0.2)  # 2 min: backups and staff, critical, with the emergency number
    zhao = pager.messages("mobile_app_zhao")
    assert len(zhao) == 1
    assert zhao[0]["data"]["push"]["interruption-level"] == "critical"
    assert any(action.get("uri") == "tel:120" for action in zhao[0]["data"]["actions"])
    desk_before = len(pager.messages("mobile_app_desk"))
    await after(3.1)  # everyone on duty
    assert len(pager.messages("mobile_app_desk")) > desk_before
    count = len(pager.messages("mobile_app_wang"))
    await after(2.1)  # repeated every 2 minutes until accepted
    assert len(pager.messages("mobile_app_wang")) == count + 1

    # A restart of the hub keeps the incident and its escalation, never doubling it.
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    count = len(pager.messages("mobile_app_wang"))
    await after(2.1)
    assert len(pager.messages("mobile_app_wang")) == count + 1
    incident = _hub(hub_entry).incidents.active[0]
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action_id(ACTION_ACCEPT, incident.id, "v-zhao")},
    )
    await hass.async_block_till_done()
    count = len(pager.messages("mobile_app_wang"))
    await after(10)
    # Only the "Zhao Lei is handling it" replacement arrived, no more pages.
    assert len(pager.messages("mobile_app_wang")) == count


async def test_failed_push_falls_back_to_next_channel(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    hub = _hub(hub_entry)
    await _call(
        hass, "remove_household", {"household_id": decode_pairing(code).household_id}
    )
    response = await _call(
        hass,
        "register_household",
        {"elder_name": "Uncle Wang", "address": "5-101", "volunteers": ["v-zhao"]},
    )

    async def broken(call: ServiceCall) -> None:
        raise ServiceValidationError("push gateway down")

    hass.services.async_register("notify", "mobile_app_zhao", broken)
    await _add_household(hass, freezer, response["pairing_code"], _url(client))
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    assert pager.messages("sms_zhao")
    incident = hub.incidents.active[0]
    events = [entry.event for entry in incident.log]
    assert "send_failed" in events
    assert "sent" in events


async def _signed(
    client: TestClient,
    method: str,
    path: str,
    body: bytes,
    household_id: str,
    secret: str,
    **overrides: str,
) -> Any:
    headers = signed_headers(household_id, secret, method, path, body, now=time.time())
    headers.update(overrides)
    return await client.request(method, path, data=body, headers=headers)


async def test_api_rejections_store_nothing(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
) -> None:
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    hub = _hub(hub_entry)
    good = json.dumps(
        {
            "v": 1,
            "incident": {
                "id": "a1b2c3d4e5f6a7b8",
                "seq": 1,
                "kind": "fire",
                "state": "open",
                "test": False,
                "created_at": dt_util.utcnow().isoformat(),
                "updated_at": dt_util.utcnow().isoformat(),
                "escalated_at": dt_util.utcnow().isoformat(),
                "details": {},
            },
        }
    ).encode()

    async def post(
        body: bytes = good,
        household: str = pairing.household_id,
        secret: str = pairing.secret,
        **overrides: str,
    ) -> tuple[int, Any]:
        response = await _signed(
            client, "POST", PATH_INCIDENTS, body, household, secret, **overrides
        )
        return response.status, await response.json()

    assert (await post(household="hh_nobody"))[0] == 401
    status, body = await post(secret="x" * 43)
    assert (status, body["error"]) == (401, "bad_signature")
    status, body = await post(
        **{"X-Silver-Bell-Timestamp": str(int(time.time()) - 3600)}
    )
    assert (status, body["error"]) == (401, "clock_skew")
    assert "server_time" in body
    status, body = await post(json.dumps({"v": 1, "incident": {"id": "x"}}).encode())
    assert status == 400
    assert body["field"].startswith("incident.")
    assert (await post(b"{" + b" " * 70000 + b"}"))[0] == 413
    response = await client.post(PATH_INCIDENTS, data=good)
    assert response.status == 401
    # A Home Assistant user token opens nothing here.
    response = await client.post(
        PATH_INCIDENTS, data=good, headers={"Authorization": "Bearer abc"}
    )
    assert response.status == 401
    assert hub.incidents.incidents == []

    # Replaying the same signed request is refused.
    headers = signed_headers(
        pairing.household_id,
        pairing.secret,
        "POST",
        PATH_INCIDENTS,
        good,
        now=time.time(),
    )
    first = await client.post(PATH_INCIDENTS, data=good, headers=headers)
    assert first.status == 200
    again = await client.post(PATH_INCIDENTS, data=good, headers=headers)
    assert (again.status, (await again.json())["error"]) == (401, "replayed")
    # Re-sending the same incident version with a fresh signature changes nothing.
    assert (await post())[0] == 200
    assert len(hub.incidents.incidents) == 1

    # Another household may not read or write this incident.
    other = await _call(
        hass, "register_household", {"elder_name": "Aunt Zhou", "address": "7-302"}
    )
    other_pairing = decode_pairing(other["pairing_code"])
    assert (
        await post(household=other_pairing.household_id, secret=other_pairing.secret)
    )[0] == 403
    response = await _signed(
        client,
        "GET",
        incident_path("a1b2c3d4e5f6a7b8"),
        b"",
        other_pairing.household_id,
        other_pairing.secret,
    )
    assert response.status == 403
    response = await _signed(
        client,
        "GET",
        incident_path("ffffffffffffffff"),
        b"",
        pairing.household_id,
        pairing.secret,
    )
    assert response.status == 404

    # Rate limit: a burst, then 429 with Retry-After.
    hub.limiter = type(hub.limiter)(burst=3, per_minute=60)
    statuses = []
    for _ in range(5):
        beat = json.dumps(
            heartbeat_body(now=dt_util.utcnow(), open_incidents=0, version=None)
        ).encode()
        response = await _signed(
            client, "POST", PATH_HEARTBEAT, beat, pairing.household_id, pairing.secret
        )
        statuses.append(response.status)
        if response.status == 429:
            assert int(response.headers["Retry-After"]) >= 1
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]

    # A revoked household is refused.
    await _call(hass, "revoke_household", {"household_id": pairing.household_id})
    assert (await post())[0] == 401


async def test_outage_delivers_in_order_without_loss_or_duplicates(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    hub_url = _url(client)
    # Nothing listens on port 9: the hub is down.
    household_entry = await _add_household(hass, freezer, code, "http://127.0.0.1:9")
    household = household_entry.runtime_data
    await _call(hass, "raise_help", {"message": "first"})
    await set_state(hass, SMOKE, STATE_ON)
    await _call(hass, "acknowledge", {})
    await hass.async_block_till_done()
    # The help call, and the fire's newest version (its "open" version is
    # superseded by the acknowledged one, which says everything it said).
    assert len(household.forwarder.outbox.pending) == 2
    assert f"{DOMAIN}.outbox.{household_entry.entry_id}" in hass_storage
    assert _hub(hub_entry).incidents.incidents == []

    # Home Assistant restarts while the hub is still down: nothing is lost.
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    household = household_entry.runtime_data
    assert len(household.forwarder.outbox.pending) == 2

    freezer.tick(timedelta(minutes=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert household.forwarder.connected is False

    household.forwarder.pairing = type(household.forwarder.pairing)(
        hub_url,
        household.forwarder.pairing.household_id,
        household.forwarder.pairing.secret,
    )
    for _ in range(12):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert household.forwarder.outbox.pending == []
    hub = _hub(hub_entry)
    kinds = sorted(incident.kind.value for incident in hub.incidents.incidents)
    assert kinds == ["fire", "help"]
    fire = next(i for i in hub.incidents.incidents if i.kind is IncidentKind.FIRE)
    # The family's acknowledgement arrived after the incident itself (in order),
    # and does not stop the paging: nobody is on site yet.
    assert fire.acknowledged_by in ("family", "household")
    assert fire.accepted_by is None
    assert pager.messages("mobile_app_wang")


async def test_household_offline_after_heartbeats_stop(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    beat = json.dumps(
        heartbeat_body(now=dt_util.utcnow(), open_incidents=0, version=None)
    ).encode()
    response = await _signed(
        client, "POST", PATH_HEARTBEAT, beat, pairing.household_id, pairing.secret
    )
    assert response.status == 200
    for _ in range(31):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    hub = _hub(hub_entry)
    assert hub.household_status(pairing.household_id) == "offline"
    assert hub.incidents.active
    assert pager.messages("mobile_app_it")
    beat = json.dumps(
        heartbeat_body(now=dt_util.utcnow(), open_incidents=0, version=None)
    ).encode()
    await _signed(
        client, "POST", PATH_HEARTBEAT, beat, pairing.household_id, pairing.secret
    )
    await hass.async_block_till_done()
    assert hub.incidents.active == []


async def test_csv_import_rejects_bad_rows_and_imports_nothing(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    await _start_hub(hass, hub_entry, hass_client_no_auth)
    hub = _hub(hub_entry)
    before = set(hub.ledger.volunteers)
    bad = VOLUNTEERS_CSV.replace("v-zhao,Zhao Lei", "v zhao!,Zhao Lei").replace(
        "mobile_app_desk,staff", "mobile_app_desk,pilot"
    )
    bad = bad.replace("v-wang", "v-new")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "import_ledger", {"volunteers_csv": bad})
    assert err.value.translation_key == "import_rejected"
    assert err.value.translation_placeholders["count"] == "2"
    assert set(hub.ledger.volunteers) == before
    with pytest.raises(ServiceValidationError):
        await _call(hass, "import_ledger", {})


async def test_volunteer_resolves_from_the_push_and_gives_a_code(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    await _add_household(hass, freezer, code, _url(client))
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    incident = hub.incidents.active[0]
    for action in (ACTION_ACCEPT, ACTION_RESOLVE):
        hass.bus.async_fire(
            "mobile_app_notification_action",
            {"action": action_id(action, incident.id, "v-wang")},
        )
        await hass.async_block_till_done()
    assert incident.state is IncidentState.RESOLVED
    question = pager.messages("mobile_app_wang")[-1]
    codes = [action["action"] for action in question["data"]["actions"]]
    assert action_id(ACTION_FALSE_ALARM, incident.id, "v-wang") in codes
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action_id(ACTION_FALSE_ALARM, incident.id, "v-wang")},
    )
    await hass.async_block_till_done()
    assert incident.resolution == "false_alarm"
    # Foreign and unknown actions are ignored.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "OPEN_GARAGE"})
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action_id(ACTION_ACCEPT, "0" * 32, "v-wang")},
    )
    await hass.async_block_till_done()


async def test_removed_household_device_goes_away(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    _client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_id = decode_pairing(code).household_id
    await hass.async_block_till_done()
    identifier = (DOMAIN, f"{hub_entry.entry_id}_{household_id}")
    assert device_by_identifier(hass, identifier, hub_entry.entry_id) is not None
    status = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), hub_entry.entry_id
        )
        if entity.unique_id == f"{hub_entry.entry_id}_{household_id}_status"
    ]
    assert hass.states.get(status[0]).state == "offline"
    await _call(hass, "remove_household", {"household_id": household_id})
    assert device_by_identifier(hass, identifier, hub_entry.entry_id) is None


async def test_ledger_actions_need_an_administrator(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    hass_read_only_user: Any,
) -> None:
    _client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_id = decode_pairing(code).household_id
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "export_person",
            {"household_id": household_id},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    with pytest.raises(UnknownUser):
        await hass.services.async_call(
            DOMAIN,
            "erase_person",
            {"household_id": household_id},
            blocking=True,
            context=Context(user_id="nobody"),
        )
    assert _hub(hub_entry).ledger.households[household_id].elder_name == "Grandma Li"


async def test_household_resolution_clears_volunteer_pushes(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    await _add_household(hass, freezer, code, _url(client))
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    pages = len(pager.messages("mobile_app_wang"))
    events = async_capture_events(hass, "silver_bell_hub_incident")
    await _call(hass, "resolve", {"resolution": "false_alarm"})
    await hass.async_block_till_done()
    incident = _hub(hub_entry).incidents.incidents[0]
    assert not incident.active
    assert len(pager.messages("mobile_app_wang")) == pages + 1
    assert events[-1].data["action"] == "resolved"


async def test_ledger_round_trips_through_csv(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    _client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    exported = await _call(hass, "export_ledger", {"language": "zh-Hans"})
    household_id = decode_pairing(code).household_id
    assert household_id in exported["households_csv"]
    assert "secret" not in exported["households_csv"].lower()
    hub = _hub(hub_entry)
    before = hub.ledger.as_dict()
    result = await _call(
        hass,
        "import_ledger",
        {
            "volunteers_csv": exported["volunteers_csv"],
            "households_csv": exported["households_csv"],
        },
    )
    assert result == {"volunteers": 4, "households": 1}
    assert hub.ledger.as_dict() == before
