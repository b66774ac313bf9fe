"""The hub runtime under load: shared writes and entity updates per household."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.silver_bell.core.bodies import parse_incident
from custom_components.silver_bell.core.protocol import (
    PATH_INCIDENTS,
    decode_pairing,
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


async def test_a_burst_tells_the_entities_once_per_write(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Requests that one write covers resume together and update the entities once.

    Before, each of them woke the next through the save lock, one turn of the
    event loop each, and every one recomputed the hub's figures and rewrote
    its entities.
    """
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    hub = _hub(hub_entry)
    calls: list[str | None] = []
    hub.async_add_listener(lambda: calls.append(None))
    release = asyncio.Event()
    real_write = hub._async_write
    writes: list[int] = []

    async def slow_write(changes: Changes) -> None:
        await release.wait()
        writes.append(len(changes.incidents))
        await real_write(changes)

    async def post(number: int) -> int:
        body = _incident(f"b{number:015d}")
        headers = signed_headers(
            pairing.household_id,
            pairing.secret,
            "POST",
            PATH_INCIDENTS,
            body,
            now=time.time(),
        )
        response = await client.post(PATH_INCIDENTS, data=body, headers=headers)
        return response.status

    with patch.object(hub, "_async_write", side_effect=slow_write):
        first = hass.async_create_task(post(0))
        while not hub.incidents.incidents:  # noqa: ASYNC110 - a test's poll
            await asyncio.sleep(0.01)
        rest = [hass.async_create_task(post(number)) for number in range(1, 10)]
        while len(hub.incidents._sources) < 10:  # noqa: ASYNC110 - a test's poll
            await asyncio.sleep(0.01)
        assert not calls  # nothing told before the data is on disk
        release.set()
        assert await asyncio.gather(first, *rest) == [200] * 10
    await hass.async_block_till_done()
    assert len(writes) == 2  # the first request's write, then one for the nine
    assert len(calls) <= 2  # once per write, not once per request
    assert hass.states.get("sensor.jinhua_hub_open_incidents").state == "1"


async def test_escalation_timer_moves_only_forward_per_message(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A message costs no scan of every open incident for the escalation timer.

    The timer only comes forward; one left for an incident that closed fires,
    finds nothing due, pages nobody and is set again from all open incidents.
    """
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    hub = _hub(hub_entry)
    pager = Pager(hass)

    async def post(body: bytes) -> None:
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

    await post(_incident("c000000000000001"))
    [incident] = hub.incidents.active
    moment = incident.next_escalation_at
    assert moment is not None
    assert hub._timer_at == moment
    paged = len(pager.messages("mobile_app_wang"))
    resolved = json.loads(_incident("c000000000000001"))
    resolved["incident"].update(seq=2, state="resolved", by="family")
    await post(json.dumps(resolved).encode())
    assert not hub.incidents.active
    assert hub._timer_at == moment  # left in place
    freezer.move_to(moment)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hub._timer is None  # nothing open: no timer
    # Nobody was paged again (only the "resolved" replacement of the first page).
    assert all(
        "Resolved" in message["title"]
        for message in pager.messages("mobile_app_wang")[paged:]
    )


async def test_a_failed_write_loses_nothing_and_waiters_write_themselves(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """The writer's caller gets the error; callers waiting for it write the data next."""
    await _start_hub(hass, hub_entry, hass_client_no_auth)
    hub = _hub(hub_entry)
    written: list[set[str]] = []
    release = asyncio.Event()
    real_write = hub._async_write
    attempts = 0

    async def failing_once(changes: Changes) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await release.wait()
            raise OSError("disk full")
        written.append(set(changes.heartbeats))
        await real_write(changes)

    with patch.object(hub, "_async_write", side_effect=failing_once):
        hub._seen("hh_first", dt_util.utcnow())
        first = hass.async_create_task(hub.async_save())
        await asyncio.sleep(0.01)
        hub._seen("hh_second", dt_util.utcnow())
        second = hass.async_create_task(hub.async_save())
        await asyncio.sleep(0.01)
        release.set()
        results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], OSError)
    assert results[1] is None
    # The failed write's data was given back and written with the waiter's.
    assert written == [{"hh_first", "hh_second"}]


async def test_a_message_brings_an_offline_household_back_also_after_a_restart(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Only households that may have an offline incident look for one to close.

    The hub remembers them (also across a restart, from the stored incidents),
    so a message from any other household costs no scan of every open incident.
    """
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    hub = _hub(hub_entry)
    hub._seen(pairing.household_id, dt_util.utcnow())
    for _ in range(31):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    [offline] = hub.incidents.active
    assert offline.offline
    assert await hass.config_entries.async_reload(hub_entry.entry_id)
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    assert pairing.household_id in hub._maybe_offline

    async def post(body: bytes) -> None:
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

    await post(_incident("d000000000000001"))
    assert not hub.incidents.get(offline.id).active  # back online
    assert pairing.household_id in hub._maybe_offline  # one more look, then none
    await post(_incident("d000000000000002"))
    assert pairing.household_id not in hub._maybe_offline
    # A household's own report of being offline is closed by its next message.
    report = json.loads(_incident("d000000000000003"))
    report["incident"].update(kind="sensor_fault", details={"reason": "offline"})
    await post(json.dumps(report).encode())
    assert pairing.household_id in hub._maybe_offline
    [own] = [
        incident
        for incident in hub.incidents.incidents
        if incident.offline and incident.id != offline.id
    ]
    assert not own.active
