"""A call resolved at home while its "open" version is on the wire (issue 15, defect 2).

Household and hub in one Home Assistant, talking signed HTTP over loopback. A
scripted network sits in front of the hub: it can hold an incident message on
the wire, and then let it fail (no answer, 503, 429) or let it through. The help
call is resolved at home while its "open" version is held; if that attempt fails,
the hub must get the resolved version only, and nobody may be paged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import copy
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.protocol import PATH_INCIDENTS, Pairing
from custom_components.silver_bell.household import forwarder as forwarder_module
from custom_components.silver_bell.household.forwarder import _Response

from .common import set_state
from .conftest import SMOKE
from .test_hub import Pager, _add_household, _call, _hub, _start_hub, _url

OUTBOX_KEY = "silver_bell.outbox.household01"

NO_ANSWER = _Response(None)
UNAVAILABLE = _Response(503, {"error": "unavailable"})
RATE_LIMITED = _Response(429, {"error": "rate_limited", "retry_after": 30}, 30.0)
THROUGH = "through"  # the message reaches the hub


class Network:
    """Between household and hub: holds and fails incident messages as scripted.

    ``plan`` gives, for each incident message in turn, what happens to it: a
    ``_Response`` (the attempt fails so, the hub never sees the message) or THROUGH;
    ``hold`` marks the next planned message to wait on the wire until ``release``.
    Messages beyond the plan, and all other requests, pass, unless ``down``: then
    every incident message beyond the plan fails with no answer.
    """

    def __init__(self) -> None:
        self.real = forwarder_module._signed_request
        self.plan: list[_Response | str] = []
        self.down = False
        self.hold = False
        self.held = asyncio.Event()
        self.released = asyncio.Event()
        self.reached_hub: list[tuple[str, int, str]] = []  # (kind, seq, state)

    async def __call__(
        self,
        hass: HomeAssistant,
        pairing: Pairing,
        method: str,
        path: str,
        body: dict[str, Any] | None,
    ) -> _Response:
        if method != "POST" or path != PATH_INCIDENTS or body is None:
            return await self.real(hass, pairing, method, path, body)
        fate = self.plan.pop(0) if self.plan else NO_ANSWER if self.down else THROUGH
        if self.hold:
            self.hold = False
            self.held.set()
            await self.released.wait()
        if isinstance(fate, _Response):
            return fate
        incident = body["incident"]
        self.reached_hub.append((incident["kind"], incident["seq"], incident["state"]))
        return await self.real(hass, pairing, method, path, body)

    def states_of(self, kind: str) -> list[str]:
        return [state for k, _seq, state in self.reached_hub if k == kind]


@pytest.fixture
def network() -> Iterator[Network]:
    """The scripted network, patched into the household's forwarder."""
    net = Network()
    with patch.object(forwarder_module, "_signed_request", net):
        yield net


async def _on_the_wire(network: Network) -> None:
    await _until(network.held.is_set)


async def _until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds (the test clock is frozen)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def _let_time_pass(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Ten minutes in steps: every backoff (5 s ... 5 min) and Retry-After runs out."""
    for _ in range(40):
        freezer.tick(timedelta(seconds=15))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


@pytest.mark.parametrize(
    "failure", [NO_ANSWER, UNAVAILABLE, RATE_LIMITED], ids=["no_answer", "503", "429"]
)
async def test_resolved_while_the_open_version_is_on_the_wire_pages_nobody(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    network: Network,
    failure: _Response,
) -> None:
    """The first attempt fails after the resolution was queued: only "resolved" goes.

    Before the fix the household retried the superseded "open" version first: the
    volunteer was paged, and at once told "resolved".
    """
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_entry = await _add_household(hass, freezer, code, _url(client))
    forwarder = household_entry.runtime_data.forwarder
    network.plan = [failure]
    network.hold = True
    raised = await _call(hass, "raise_help", {"message": "fell in the kitchen"})
    await _on_the_wire(network)
    await _call(hass, "resolve", {"incident_id": raised["incident_id"]})
    network.released.set()
    await hass.async_block_till_done()
    await _let_time_pass(hass, freezer)

    assert network.states_of("help") == ["resolved"]
    assert forwarder.outbox.pending == []
    assert forwarder.outbox.dead_letters == []
    (incident,) = _hub(hub_entry).incidents.incidents
    assert incident.state is IncidentState.RESOLVED
    assert incident.log_pages() == []
    assert pager.messages("mobile_app_wang") == []
    assert pager.messages("mobile_app_zhao") == []


async def test_an_open_version_that_reached_the_hub_pages_then_resolves(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    network: Network,
) -> None:
    """What still pages (docs/protocol.md): the attempt on the wire got through."""
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_entry = await _add_household(hass, freezer, code, _url(client))
    network.plan = [THROUGH]
    network.hold = True
    raised = await _call(hass, "raise_help", {"message": "fell in the kitchen"})
    await _on_the_wire(network)
    await _call(hass, "resolve", {"incident_id": raised["incident_id"]})
    network.released.set()
    await hass.async_block_till_done()
    await _let_time_pass(hass, freezer)

    assert network.states_of("help") == ["open", "resolved"]
    assert household_entry.runtime_data.forwarder.outbox.pending == []
    (incident,) = _hub(hub_entry).incidents.incidents
    assert incident.state is IncidentState.RESOLVED
    assert incident.log_pages()
    # Paged, then told at once that it is resolved.
    assert len(pager.messages("mobile_app_wang")) == 2


async def test_a_resolved_call_queued_behind_another_incident_pages_nobody(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    network: Network,
) -> None:
    """Both due in one round; the help call is resolved while the fire is on the wire.

    Before the fix the round had taken its list of due items at its start, and
    sent the help call's "open" version after the fire's attempt although the
    outbox had already replaced it by the resolved one.
    """
    Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_entry = await _add_household(hass, freezer, code, _url(client))
    forwarder = household_entry.runtime_data.forwarder
    # The hub is unreachable: the fire's and the help call's first attempts fail.
    network.plan = [NO_ANSWER, NO_ANSWER]
    await set_state(hass, SMOKE, STATE_ON)
    await hass.async_block_till_done()
    raised = await _call(hass, "raise_help", {"message": "smoke"})
    await hass.async_block_till_done()
    assert [item.attempts for item in forwarder.outbox.pending] == [1, 1]
    # Both become due in the same round; the fire's retry is held on the wire.
    network.plan = [NO_ANSWER]
    network.hold = True
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass)
    await _on_the_wire(network)
    await _call(hass, "resolve", {"incident_id": raised["incident_id"]})
    network.released.set()
    await hass.async_block_till_done()
    await _let_time_pass(hass, freezer)

    assert network.states_of("help") == ["resolved"]
    assert network.states_of("fire") == ["open"]
    assert forwarder.outbox.pending == []
    hub = _hub(hub_entry)
    help_call = next(i for i in hub.incidents.incidents if i.kind is IncidentKind.HELP)
    assert help_call.state is IncidentState.RESOLVED
    assert help_call.log_pages() == []
    fire = next(i for i in hub.incidents.incidents if i.kind is IncidentKind.FIRE)
    assert fire.active
    assert fire.log_pages()


async def test_an_outbox_written_while_the_open_version_was_on_the_wire(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    network: Network,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant stopped with both versions on disk: after the start, no page."""
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_entry = await _add_household(hass, freezer, code, _url(client))
    network.down = True
    network.hold = True
    raised = await _call(hass, "raise_help", {"message": "fell in the kitchen"})
    await _on_the_wire(network)
    await _call(hass, "resolve", {"incident_id": raised["incident_id"]})

    def stored_states() -> list[str]:
        if OUTBOX_KEY not in hass_storage:  # its first write is still on its way
            return []
        pending = hass_storage[OUTBOX_KEY]["data"]["outbox"]["pending"]
        return [item["body"]["incident"]["state"] for item in pending]

    # The outbox is written at once, with the "open" version still on the wire:
    # what a power cut at this moment leaves on disk.
    await _until(lambda: stored_states() == ["open", "resolved"])
    on_disk = copy.deepcopy(hass_storage[OUTBOX_KEY])
    network.released.set()
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await hass.async_block_till_done()
    hass_storage[OUTBOX_KEY] = on_disk
    network.down = False
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    await _let_time_pass(hass, freezer)

    assert network.states_of("help") == ["resolved"]
    assert household_entry.runtime_data.forwarder.outbox.pending == []
    (incident,) = _hub(hub_entry).incidents.incidents
    assert incident.state is IncidentState.RESOLVED
    assert incident.log_pages() == []
    assert pager.messages("mobile_app_wang") == []
