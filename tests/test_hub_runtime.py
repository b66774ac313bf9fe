"""The hub runtime under load: shared writes and entity updates per household."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.core.protocol import (
    PATH_INCIDENTS,
    decode_pairing,
    parse_incident,
    signed_headers,
)
from custom_components.silver_bell.hub.repository import Changes

from .test_hub import Pager, _call, _hub, _start_hub


def _incident(incident_id: str) -> bytes:
    now = dt_util.utcnow().isoformat()
    return json.dumps(
        {
            "v": 1,
            "incident": {
                "id": incident_id,
                "seq": 1,
                "kind": "fire",
                "state": "open",
                "test": False,
                "created_at": now,
                "updated_at": now,
                "escalated_at": now,
                "details": {},
            },
        }
    ).encode()


async def test_concurrent_saves_share_writes(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Twenty saves during a slow write cost two writes; each returns after its data is written."""
    await _start_hub(hass, hub_entry, hass_client_no_auth)
    hub = _hub(hub_entry)
    written: list[set[str]] = []
    release = asyncio.Event()
    real_write = hub._async_write

    async def slow_write(changes: Changes) -> None:
        await release.wait()
        written.append(set(changes.heartbeats))
        await real_write(changes)

    with patch.object(hub, "_async_write", side_effect=slow_write):
        hub._seen("hh_first", dt_util.utcnow())
        first = hass.async_create_task(hub.async_save())
        await asyncio.sleep(0.01)
        rest = []
        for number in range(19):
            hub._seen(f"hh_{number}", dt_util.utcnow())
            rest.append(hass.async_create_task(hub.async_save()))
        await asyncio.sleep(0.01)
        assert not any(task.done() for task in [first, *rest])
        release.set()
        await asyncio.gather(first, *rest)
    # Each write holds only what changed since the one before.
    assert written == [{"hh_first"}, {f"hh_{number}" for number in range(19)}]
    # A save after the burst writes again (nothing newer is ever skipped).
    hub._seen("hh_last", dt_util.utcnow())
    with patch.object(hub, "_async_write") as write:
        await hub.async_save()
    assert write.call_count == 1
    hub._seen("hh_last", dt_util.utcnow())  # the patched write stored nothing


async def test_an_incident_updates_only_its_households_entities(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """With many households, one household's incident rewrites its own and the hub's entities."""
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    other = await _call(
        hass, "register_household", {"elder_name": "Aunt Zhou", "address": "7-302"}
    )
    await hass.async_block_till_done()
    pairing = decode_pairing(code)
    other_id = decode_pairing(other["pairing_code"]).household_id
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, hub_entry.entry_id)
    mine = [
        e.entity_id
        for e in entities
        if e.unique_id.startswith(f"{hub_entry.entry_id}_{pairing.household_id}_")
    ]
    theirs = [
        e.entity_id
        for e in entities
        if e.unique_id.startswith(f"{hub_entry.entry_id}_{other_id}_")
    ]
    assert mine
    assert theirs
    calls: list[str | None] = []
    hub = _hub(hub_entry)
    for who in (None, pairing.household_id, other_id):
        hub.async_add_listener(lambda who=who: calls.append(who), who)
    body = _incident("a1b2c3d4e5f6a7b8")
    headers = signed_headers(
        pairing.household_id,
        pairing.secret,
        "POST",
        PATH_INCIDENTS,
        body,
        now=time.time(),
    )
    response = await client.post(PATH_INCIDENTS, data=body, headers=headers)
    assert response.status == 200
    await hass.async_block_till_done()
    assert (
        hass.states.get(next(e for e in mine if e.endswith("_status"))).state
        == "incident"
    )
    assert (
        hass.states.get(next(e for e in mine if e.endswith("_open_incident"))).state
        == "fire"
    )
    # The other household's entities were not even asked (a hub with hundreds
    # of households rewrote every entity on every incident before).
    # (A change of everything - e.g. the minute tick - reaches every household.)
    broadcasts = calls.count(other_id)
    assert calls.count(pairing.household_id) - broadcasts >= 1
    assert calls.count(None) == calls.count(pairing.household_id)
    assert hass.states.get("sensor.jinhua_hub_open_incidents").state == "1"


async def test_a_request_cut_off_mid_way_still_pages(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Home Assistant cancels a handler when the household hangs up (its timeout).

    Regression: the incident was applied, the handler cancelled at the write,
    and the first page never started; the household's retry (same version)
    changed nothing, so nobody was ever paged for a help call.
    """
    pager = Pager(hass)
    _, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_id = decode_pairing(code).household_id
    hub = _hub(hub_entry)
    release = asyncio.Event()
    real_write = hub._async_write

    async def slow_write(changes: Changes) -> None:
        await release.wait()
        await real_write(changes)

    message = parse_incident(json.loads(_incident("a1b2c3d4e5f6a7b8")))
    with patch.object(hub, "_async_write", side_effect=slow_write):
        request = hass.async_create_task(hub.async_receive(household_id, message))
        await asyncio.sleep(0.01)
        request.cancel()  # the household gave up waiting
        await asyncio.sleep(0.01)
        assert request.cancelled()
        release.set()
        await hass.async_block_till_done()
    assert pager.messages("mobile_app_wang")  # paged after all
    # The household's retry of the same version pages nobody a second time.
    await hub.async_receive(household_id, message)
    await hass.async_block_till_done()
    assert len(pager.messages("mobile_app_wang")) == 1


async def test_an_unpaged_incident_is_paged_at_start(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """A hub that stopped between storing an incident and paging pages at start-up."""
    pager = Pager(hass)
    _, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_id = decode_pairing(code).household_id
    hub = _hub(hub_entry)
    message = parse_incident(json.loads(_incident("a1b2c3d4e5f6a7b9")))
    with patch.object(hub, "_page_if_never_paged"):
        await hub.async_receive(household_id, message)
    await hass.async_block_till_done()
    assert not pager.messages("mobile_app_wang")
    assert await hass.config_entries.async_reload(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert len(pager.messages("mobile_app_wang")) == 1
