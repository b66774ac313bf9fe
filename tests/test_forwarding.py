"""Household forwarding against a scripted hub: refusals, repairs, notify service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
import sys
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.silver_bell.const import (
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_PAIRING_CODE,
    CONF_SECRET,
    DOMAIN,
)
from custom_components.silver_bell.core.models import Incident, IncidentKind
from custom_components.silver_bell.core.protocol import (
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    Pairing,
    encode_pairing,
)
from custom_components.silver_bell.household import forwarder as forwarder_module
from custom_components.silver_bell.household.forwarder import async_test_pairing
from custom_components.silver_bell.notify import FORWARD, ForwardNotifyEntity

from .common import eid, setup_household

HUB = "https://hub.example"
PAIRING = Pairing(HUB, "hh_grandma01", "s" * 43)


@pytest.fixture
def paired_entry(
    household_entry: MockConfigEntry, hass: HomeAssistant
) -> MockConfigEntry:
    """The household entry, paired with the scripted hub."""
    hass.config_entries.async_update_entry(
        household_entry,
        data={
            **household_entry.data,
            CONF_HUB_URL: HUB,
            CONF_HOUSEHOLD_ID: PAIRING.household_id,
            CONF_SECRET: PAIRING.secret,
        },
    )
    return household_entry


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("source") == SOURCE_REAUTH
        and flow["context"].get("entry_id") == entry.entry_id
    ]


def _progress(incident_id: str, state: str = "open") -> dict[str, Any]:
    return {
        "ok": True,
        "progress": {
            "id": incident_id,
            "state": state,
            "colour": "red",
            "acknowledged_by": None,
            "acknowledged_at": None,
            "on_the_way_at": None,
            "resolved_at": None,
            "resolution": None,
            "updated_at": "2026-11-24T00:00:00+00:00",
        },
    }


async def test_test_pairing_answers(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    url = HUB + PATH_HEARTBEAT
    cases = [
        ({"status": 200, "json": {"ok": True}}, None),
        (
            {"status": 401, "json": {"error": "clock_skew", "server_time": 1.0}},
            "clock_skew",
        ),
        ({"status": 401, "json": {"error": "bad_signature"}}, "rejected"),
        ({"status": 500, "text": "oops"}, "cannot_connect"),
        ({"exc": TimeoutError()}, "cannot_connect"),
    ]
    for answer, expected in cases:
        aioclient_mock.clear_requests()
        aioclient_mock.post(url, **answer)
        assert await async_test_pairing(hass, PAIRING) == expected
    headers = aioclient_mock.mock_calls[-1][3]
    assert headers["X-Silver-Bell-Household"] == PAIRING.household_id


async def test_permanent_refusal_goes_to_dead_letters(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(
        HUB + PATH_INCIDENTS,
        status=400,
        json={"error": "invalid", "field": "incident.kind", "message": "bad"},
    )
    await setup_household(hass, paired_entry, freezer)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    forwarder = paired_entry.runtime_data.forwarder
    assert forwarder.outbox.pending == []
    [dead] = forwarder.outbox.dead_letters
    issues = ir.async_get(hass).issues
    assert (DOMAIN, f"dead_letter_{dead.id}") in issues
    attrs = hass.states.get(eid("binary_sensor", "hub_connection")).attributes
    assert attrs["dead_letters"] == 1


async def test_refusals_raise_repairs_and_recovery_clears_them(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    issues = ir.async_get(hass).issues
    entry_id = paired_entry.entry_id
    aioclient_mock.post(
        HUB + PATH_HEARTBEAT,
        status=401,
        json={"error": "clock_skew", "server_time": 1e9},
    )
    await setup_household(hass, paired_entry, freezer)
    assert (DOMAIN, f"clock_skew_{entry_id}") in issues

    await hass.async_block_till_done()
    assert _reauth_flows(hass, paired_entry) == []  # clock skew: a repair only

    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_HEARTBEAT, status=401, json={"error": "replayed"})
    assert not await paired_entry.runtime_data.forwarder.async_heartbeat()
    assert (DOMAIN, f"hub_rejected_{entry_id}") in issues
    await hass.async_block_till_done()
    assert _reauth_flows(hass, paired_entry) == []

    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_HEARTBEAT, status=503, json={"error": "unavailable"})
    for _ in range(16):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        await paired_entry.runtime_data.forwarder.async_heartbeat()
    assert (DOMAIN, f"hub_unreachable_{entry_id}") in issues
    assert hass.states.get(eid("binary_sensor", "hub_connection")).state == "off"

    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    assert await paired_entry.runtime_data.forwarder.async_heartbeat()
    for issue in ("clock_skew", "hub_rejected", "hub_unreachable"):
        assert (DOMAIN, f"{issue}_{entry_id}") not in issues


@pytest.mark.parametrize("error", ["bad_signature", "unknown_household"])
async def test_refused_secret_starts_reauth_and_a_new_code_repairs_it(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    error: str,
) -> None:
    """A rotated or revoked secret asks for a new pairing code (reauth), not a repair."""
    aioclient_mock.post(HUB + PATH_HEARTBEAT, status=401, json={"error": error})
    await setup_household(hass, paired_entry, freezer)
    await hass.async_block_till_done()
    [flow] = _reauth_flows(hass, paired_entry)
    assert flow["step_id"] == "reauth_confirm"
    issues = ir.async_get(hass).issues
    assert (DOMAIN, f"hub_rejected_{paired_entry.entry_id}") not in issues
    # Further refusals do not start a second flow.
    assert not await paired_entry.runtime_data.forwarder.async_heartbeat()
    await hass.async_block_till_done()
    assert len(_reauth_flows(hass, paired_entry)) == 1

    # The hub issued a new code (here: a new household id and address too).
    new_hub = "https://hub2.example"
    aioclient_mock.post(new_hub + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    code = encode_pairing(Pairing(new_hub, "hh_grandma02", "n" * 43))
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PAIRING_CODE: code}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert paired_entry.data[CONF_SECRET] == "n" * 43
    assert paired_entry.data[CONF_HOUSEHOLD_ID] == "hh_grandma02"
    assert paired_entry.data[CONF_HUB_URL] == new_hub
    assert paired_entry.data["name"] == "Grandma Li"
    # Reloaded: the running forwarder signs with the new secret.
    assert paired_entry.state is ConfigEntryState.LOADED
    assert paired_entry.runtime_data.forwarder.pairing.secret == "n" * 43
    assert paired_entry.runtime_data.forwarder.connected is True
    assert _reauth_flows(hass, paired_entry) == []


async def test_hub_lost_and_back_are_logged_once_each(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    await setup_household(hass, paired_entry, freezer)
    forwarder = paired_entry.runtime_data.forwarder
    caplog.clear()
    caplog.set_level(logging.INFO, logger=forwarder_module.__name__)

    def said(text: str) -> list[logging.LogRecord]:
        return [
            record
            for record in caplog.records
            if record.name == forwarder_module.__name__ and text in record.getMessage()
        ]

    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_HEARTBEAT, exc=TimeoutError())
    for _ in range(3):
        assert not await forwarder.async_heartbeat()
    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_HEARTBEAT, status=502, text="bad gateway")
    assert not await forwarder.async_heartbeat()
    [lost] = said("is unreachable")
    assert lost.levelno == logging.INFO
    assert HUB in lost.getMessage()
    assert not said("reachable again")

    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    for _ in range(2):
        assert await forwarder.async_heartbeat()
    [back] = said("reachable again")
    assert back.levelno == logging.INFO
    assert len(said("is unreachable")) == 1


async def test_rate_limited_item_waits_for_retry_after(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(
        HUB + PATH_INCIDENTS,
        status=429,
        json={"error": "rate_limited", "retry_after": 30},
        headers={"Retry-After": "30"},
    )
    await setup_household(hass, paired_entry, freezer)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    forwarder = paired_entry.runtime_data.forwarder
    [item] = forwarder.outbox.pending
    assert item.attempts == 1
    assert item.next_attempt - item.created_at >= timedelta(seconds=29)
    incident = paired_entry.runtime_data.book.active_of(IncidentKind.HELP)
    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_INCIDENTS, json=_progress(incident.id))
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert forwarder.outbox.pending == []
    progress = hass.states.get(eid("sensor", "help_progress"))
    assert progress.state == "waiting"
    assert progress.attributes["delivered"] is True


async def test_rate_limited_item_waits_the_exact_wait_not_whole_seconds(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The body's exact ``retry_after`` wins over the header's whole seconds.

    Issue 18: the hub could take the request again 0.25 s later but said
    ``Retry-After: 1``, and the household waited the whole second.
    """
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(
        HUB + PATH_INCIDENTS,
        status=429,
        json={"error": "rate_limited", "retry_after": 0.25},
        headers={"Retry-After": "1"},
    )
    await setup_household(hass, paired_entry, freezer)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    forwarder = paired_entry.runtime_data.forwarder
    [item] = forwarder.outbox.pending
    assert item.attempts == 1
    assert item.next_attempt - item.created_at == timedelta(seconds=0.25)
    incident = paired_entry.runtime_data.book.active_of(IncidentKind.HELP)
    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_INCIDENTS, json=_progress(incident.id))
    freezer.tick(timedelta(seconds=0.3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert forwarder.outbox.pending == []


def _new_help() -> Any:
    now = dt_util.utcnow()
    incident = Incident(kind=IncidentKind.HELP, created_at=now, details={})
    incident.escalate(now)
    return incident


async def test_a_new_incident_is_on_the_wire_before_enqueue_returns(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The attempt starts at once (eager), not after the rest of the state change.

    Python 3.12+ (the Home Assistant releases people run) starts the task
    eagerly; on 3.11 it is the first task of the next turn of the event loop.

    Issue 18: the household's leg (incident opened -> hub intake) waited for
    the household's entity updates and store serialisation that follow the
    state change in the same turn of the event loop.
    """
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    await setup_household(hass, paired_entry, freezer)
    forwarder = paired_entry.runtime_data.forwarder
    incident = _new_help()
    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_INCIDENTS, json=_progress(incident.id))
    forwarder.enqueue(incident)  # a callback: no await in between
    if sys.version_info < (3, 12):  # no eager tasks: first in line instead
        assert not aioclient_mock.mock_calls
        await asyncio.sleep(0)
    assert [str(call[1]) for call in aioclient_mock.mock_calls] == [
        HUB + PATH_INCIDENTS
    ]
    await hass.async_block_till_done()
    assert forwarder.outbox.pending == []


async def test_a_help_call_does_not_wait_for_the_previous_outbox_write(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The pump writes the outbox after releasing its lock (a slow disk delays no send).

    Issue 18's suspect: the pump held its lock while the outbox was written
    after a round, so a help call queued then waited for that write.
    """
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    await setup_household(hass, paired_entry, freezer)
    forwarder = paired_entry.runtime_data.forwarder
    disk = asyncio.Event()
    writes: list[int] = []

    async def slow_save(data: dict[str, Any]) -> None:
        writes.append(len(data["outbox"]["pending"]))
        await disk.wait()

    first, second = _new_help(), _new_help()
    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_INCIDENTS, json=_progress(first.id))
    with patch.object(forwarder._store, "async_save", side_effect=slow_save):
        forwarder.enqueue(first)
        for _ in range(20):  # delivered; its round now waits for the disk
            await asyncio.sleep(0)
        assert forwarder.outbox.pending == []
        assert writes[-1] == 0  # the round's write (an empty outbox) is under way
        forwarder.enqueue(second)
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(aioclient_mock.mock_calls) == 2  # sent while the disk is busy
        assert not disk.is_set()
        disk.set()
        await hass.async_block_till_done()
    assert forwarder.outbox.pending == []


@pytest.mark.parametrize(
    ("payload", "header", "expected"),
    [
        ({"retry_after": 0.25}, "1", 0.25),
        ({"retry_after": -3}, "1", 0.0),
        ({"retry_after": True}, "2", 2.0),
        ({"retry_after": "soon"}, "2", 2.0),
        ({"retry_after": float("inf")}, "2", 2.0),
        (None, "7", 7.0),
        (None, "later", None),
        ([], None, None),
    ],
)
def test_retry_after_reading(payload: Any, header: str | None, expected: Any) -> None:
    assert forwarder_module._retry_after(payload, header) == expected


async def test_garbage_progress_is_ignored(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(
        HUB + PATH_INCIDENTS, json={"ok": True, "progress": {"id": "x", "state": "??"}}
    )
    await setup_household(hass, paired_entry, freezer)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    household = paired_entry.runtime_data
    assert household.forwarder.outbox.pending == []
    assert household.progress == {}


async def test_notify_service_forwards(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await hass.async_block_till_done()
    assert hass.services.has_service("notify", "silver_bell")
    assert hass.services.has_service("notify", "silver_bell_grandma_li")
    await hass.services.async_call(
        "notify",
        "silver_bell",
        {"message": "kitchen smoke", "title": "Blueprint", "data": {"kind": "fire"}},
        blocking=True,
    )
    incident = household_entry.runtime_data.book.active_of(IncidentKind.FIRE)
    assert incident.details["message"] == "Blueprint: kitchen smoke"
    await hass.services.async_call(
        "notify", "silver_bell_grandma_li", {"message": "please check"}, blocking=True
    )
    assert household_entry.runtime_data.book.active_of(IncidentKind.HELP) is not None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "notify",
            "silver_bell",
            {"message": "x", "data": {"kind": "party"}},
            blocking=True,
        )
    assert err.value.translation_key == "invalid_kind"
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()
    assert not hass.services.has_service("notify", "silver_bell_grandma_li")


async def test_notify_entity_raises_help(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The notify entity (forwarded on Home Assistant 2024.5+) raises a help call."""
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    entity = ForwardNotifyEntity(household, FORWARD)
    await entity.async_added_to_hass()
    await entity.async_send_message("fell in the kitchen", title="Speaker")
    incident = household.book.active_of(IncidentKind.HELP)
    assert incident.details["message"] == "Speaker: fell in the kitchen"
    assert entity.unique_id == "household01_forward"


async def test_dead_letters_can_be_sent_again(
    hass: HomeAssistant,
    paired_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(HUB + PATH_INCIDENTS, status=400, json={"error": "invalid"})
    await setup_household(hass, paired_entry, freezer)
    await hass.services.async_call(DOMAIN, "raise_help", {}, blocking=True)
    await hass.async_block_till_done()
    forwarder = paired_entry.runtime_data.forwarder
    [dead] = forwarder.outbox.dead_letters
    incident = paired_entry.runtime_data.book.active_of(IncidentKind.HELP)
    aioclient_mock.clear_requests()
    aioclient_mock.post(HUB + PATH_INCIDENTS, json=_progress(incident.id))
    response = await hass.services.async_call(
        DOMAIN, "retry_dead_letters", {}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    assert response == {"requeued": 1}
    assert forwarder.outbox.dead_letters == []
    assert forwarder.outbox.pending == []
    assert (DOMAIN, f"dead_letter_{dead.id}") not in ir.async_get(hass).issues


async def test_retry_needs_a_pairing(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_household(hass, household_entry, freezer)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "retry_dead_letters", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "not_paired"
