"""Upgrade: what Home Assistant 2024.3.3 stored is loaded by the release under test.

tests/fixtures/upgrade/storage_2024.3.3.json holds the ``.storage`` files (config
entries, device and entity registries, Silver Bell's stores) written by a 2024.3.3
run with a household paired to a hub: a fire incident forwarded to the hub, then,
while the hub was unreachable, the family's acknowledgement waiting in the outbox.

Both test stages load it (on 2024.3.3 it is a restart, on the newest release an
upgrade) and check that the entries load, the incidents and the outbox survive, the
waiting update reaches the hub and a new incident is forwarded.

Regenerate the fixture with the first stage only (it must be written by 2024.3.3):

    SILVER_BELL_WRITE_UPGRADE_FIXTURE=1 .venv/bin/python -m pytest tests/test_upgrade.py
"""

from __future__ import annotations

from datetime import datetime
import json
import os
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    MAJOR_VERSION,
    MINOR_VERSION,
    PATCH_VERSION,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.silver_bell.const import (
    CONF_HOUSEHOLD_ID,
    CONF_HUB_NAME,
    CONF_HUB_URL,
    CONF_ROLE,
    CONF_SECRET,
    DOMAIN,
    ROLE_HUB,
)
from custom_components.silver_bell.core.hub.people import ERASED
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.protocol import decode_pairing

from .common import async_set_time_zone, set_state
from .conftest import HOUSEHOLD_DATA, SMOKE, async_stored_hub, set_sensor_states

FIXTURE = Path(__file__).parent / "fixtures" / "upgrade" / "storage_2024.3.3.json"
WRITE = os.environ.get("SILVER_BELL_WRITE_UPGRADE_FIXTURE") == "1"
VERSION = f"{MAJOR_VERSION}.{MINOR_VERSION}.{PATCH_VERSION}"
HUB_ID = "hub01"
HOUSEHOLD = "household01"
START = "2026-11-24T00:00:00+00:00"  # 08:00 in Shanghai
KEYS = ("core.config_entries", "core.device_registry", "core.entity_registry")
DEAD_HUB = "http://127.0.0.1:9"
VOLUNTEERS_CSV = """id,name,phone,notify,role,language
v-wang,Wang Fang,+86 138 0000 0001,mobile_app_wang,volunteer,en
s-li,Li Ming,+86 138 0000 0003,mobile_app_desk,staff,en
"""


def _kept(key: str) -> bool:
    return key in KEYS or key.startswith(f"{DOMAIN}.")


@pytest.fixture
def hass_storage(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """Home Assistant starts from the stored 2024.3.3 files (unless writing them)."""
    if not WRITE:
        stored = json.loads(FIXTURE.read_text(encoding="utf-8"))
        hass_storage.update(stored["storage"])
    return hass_storage


async def _start_hub(hass: HomeAssistant, hass_client_no_auth: Any) -> TestClient:
    hass.config.internal_url = "http://127.0.0.1:8123"
    assert await hass.config_entries.async_setup(HUB_ID)
    # Before the test server freezes the router: the households' notify platform
    # needs repairs, which registers HTTP views (a real Home Assistant loads it at start).
    assert await async_setup_component(hass, "repairs", {})
    await hass.async_block_till_done()
    client: TestClient = await hass_client_no_auth()
    return client


def _entry(
    hass: HomeAssistant, stored: dict[str, Any], data: dict[str, Any] | None = None
) -> MockConfigEntry:
    fields = (
        "domain",
        "title",
        "options",
        "unique_id",
        "entry_id",
        "version",
        "minor_version",
        "source",
    )
    entry = MockConfigEntry(
        **{key: stored[key] for key in fields}, data={**stored["data"], **(data or {})}
    )
    entry.add_to_hass(hass)
    return entry


def _url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


@pytest.mark.skipif(not WRITE, reason="writes the fixture; set the variable to run")
async def test_write_fixture(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Record a 2024.3.3 household and hub, with one update waiting in the outbox."""
    assert VERSION == "2024.3.3", (
        "the fixture must be written by Home Assistant 2024.3.3"
    )
    await async_set_time_zone(hass, "Asia/Shanghai")
    freezer.move_to(START)
    async_mock_service(hass, "notify", "mobile_app_wang")
    async_mock_service(hass, "notify", "mobile_app_desk")
    MockConfigEntry(
        domain=DOMAIN,
        title="Jinhua hub",
        data={CONF_ROLE: ROLE_HUB, CONF_HUB_NAME: "Jinhua hub"},
        unique_id=ROLE_HUB,
        entry_id=HUB_ID,
    ).add_to_hass(hass)
    client = await _start_hub(hass, hass_client_no_auth)
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    registered = await _call(
        hass,
        "register_household",
        {
            "elder_name": "Grandma Li",
            "address": "3-201 Jinhua Road",
            "volunteers": ["v-wang"],
            "language": "en",
        },
    )
    pairing = decode_pairing(registered["pairing_code"])
    household = MockConfigEntry(
        domain=DOMAIN,
        title="Grandma Li",
        data={
            **HOUSEHOLD_DATA,
            CONF_HUB_URL: _url(client),
            CONF_HOUSEHOLD_ID: pairing.household_id,
            CONF_SECRET: pairing.secret,
        },
        unique_id="household_grandma_li",
        entry_id=HOUSEHOLD,
    )
    household.add_to_hass(hass)
    set_sensor_states(hass)
    assert await hass.config_entries.async_setup(HOUSEHOLD)
    await hass.async_block_till_done()
    await set_state(hass, SMOKE, STATE_ON)
    await hass.async_block_till_done()
    [fire] = hass.config_entries.async_get_entry(HUB_ID).runtime_data.incidents.active
    assert fire.kind is IncidentKind.FIRE
    # The hub goes away; the family's acknowledgement waits in the outbox.
    assert await hass.config_entries.async_unload(HOUSEHOLD)
    hass.config_entries.async_update_entry(
        household, data={**household.data, CONF_HUB_URL: DEAD_HUB}
    )
    assert await hass.config_entries.async_setup(HOUSEHOLD)
    await hass.async_block_till_done()
    await hass.services.async_call(DOMAIN, "acknowledge", {}, blocking=True)
    await hass.async_block_till_done()
    assert household.runtime_data.forwarder.outbox.pending
    for entry_id in (HOUSEHOLD, HUB_ID):
        assert await hass.config_entries.async_unload(entry_id)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    storage = {key: hass_storage[key] for key in sorted(hass_storage) if _kept(key)}
    assert set(KEYS) <= set(storage)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(
        json.dumps(
            {"written_by": VERSION, "now": START, "storage": storage},
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )


@pytest.mark.skipif(WRITE, reason="the fixture is being written")
async def test_2024_3_storage_loads_and_forwards(
    hass: HomeAssistant,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Entries load, incidents and the outbox survive, old and new updates reach the hub."""
    stored = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert stored["written_by"] == "2024.3.3"
    await async_set_time_zone(hass, "Asia/Shanghai")
    freezer.move_to(dt_util.parse_datetime(stored["now"]) or datetime.now())
    freezer.tick(60)
    async_mock_service(hass, "notify", "mobile_app_wang")
    async_mock_service(hass, "notify", "mobile_app_desk")
    # The test harness does not read core.config_entries (the registries it does):
    # the entries are added from the stored fields, as Home Assistant would load them.
    stored_entries = {
        stored_entry["entry_id"]: stored_entry
        for stored_entry in stored["storage"]["core.config_entries"]["data"]["entries"]
    }
    assert sorted(stored_entries) == [HOUSEHOLD, HUB_ID]
    hub_entry = _entry(hass, stored_entries[HUB_ID])
    # The hub first; the household then reaches it at its new address (as after
    # moving the hub to a new machine).
    client = await _start_hub(hass, hass_client_no_auth)
    hub = hub_entry.runtime_data
    [fire] = hub.incidents.active
    assert fire.kind is IncidentKind.FIRE
    assert fire.acknowledged_at is None
    household = _entry(hass, stored_entries[HOUSEHOLD], {CONF_HUB_URL: _url(client)})
    entries = [hub_entry, household]
    set_sensor_states(hass)
    await set_state(hass, SMOKE, STATE_ON)
    assert await hass.config_entries.async_setup(HOUSEHOLD)
    await hass.async_block_till_done()
    for entry in entries:
        assert entry.state is ConfigEntryState.LOADED
    book = household.runtime_data.book
    local = book.active_of(IncidentKind.FIRE)
    assert local is not None
    assert local.state is IncidentState.ACKNOWLEDGED
    # The waiting acknowledgement was delivered once the hub answered.
    forwarder = household.runtime_data.forwarder
    await forwarder.async_pump()
    await hass.async_block_till_done()
    assert forwarder.outbox.pending == []
    assert fire.acknowledged_at is not None
    assert [entry.event for entry in fire.log].count("family_acknowledged") == 1
    # A new incident goes to the hub.
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    kinds = sorted(incident.kind.value for incident in hub.incidents.active)
    assert kinds == ["fire", "help"]
    # The registries kept the entities and their ids.
    registry = er.async_get(hass)
    assert registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{HOUSEHOLD}_fire_alarm"
    ) == ("binary_sensor.grandma_li_fire_alarm")
    # The hub's ledger moved from its Store into its database, once: the Store
    # is kept aside (never deleted), and a restart reads the database.
    assert f"{DOMAIN}.hub.{HUB_ID}" not in hass_storage
    kept = hass_storage[f"{DOMAIN}.hub_before_sqlite.{HUB_ID}"]["data"]
    assert [item["id"] for item in kept["incidents"]["incidents"]] == [fire.id]
    stored = await async_stored_hub(hub)
    assert {item["id"] for item in kept["ledger"]["households"]} == {
        item["id"] for item in stored["ledger"]["households"]
    }
    assert {item["id"] for item in kept["ledger"]["volunteers"]} == {
        item["id"] for item in stored["ledger"]["volunteers"]
    }
    assert set(kept["heartbeats"]) <= set(stored["heartbeats"])
    secrets = {item["id"]: item["secret"] for item in kept["ledger"]["households"]}
    assert await hass.config_entries.async_reload(HUB_ID)
    await hass.async_block_till_done()
    hub = hub_entry.runtime_data
    assert f"{DOMAIN}.hub.{HUB_ID}" not in hass_storage  # not imported twice
    assert sorted(incident.kind.value for incident in hub.incidents.active) == [
        "fire",
        "help",
    ]
    assert {key: hub.secret_for(key) for key in secrets} == secrets
    # Erasing an elder reaches the Store kept aside too (it is never deleted).
    [elder_id] = [item["id"] for item in kept["ledger"]["households"]]
    elder_name = kept["ledger"]["households"][0]["elder_name"]
    assert elder_name != ERASED
    await hass.services.async_call(
        DOMAIN, "erase_person", {"household_id": elder_id}, blocking=True
    )
    await hass.async_block_till_done()
    kept = hass_storage[f"{DOMAIN}.hub_before_sqlite.{HUB_ID}"]["data"]
    [erased] = kept["ledger"]["households"]
    assert erased["elder_name"] == ERASED
    assert (erased["address"], erased["phone"], erased["secret"]) == ("", "", "")
    assert elder_name not in json.dumps(kept, ensure_ascii=False)
