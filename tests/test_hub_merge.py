"""Merged hub incidents at protocol level (issue 15, defect 1).

Raw signed requests, as a household replaying its outbox after an outage would send
them: one help call's resolution must never close another call merged with it, in
either arrival order; acknowledgements and escalation follow the unresolved call.
"""

from __future__ import annotations

from datetime import timedelta
import json
import time
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.silver_bell.core.protocol import (
    PATH_INCIDENTS,
    decode_pairing,
    incident_path,
    signed_headers,
)
from custom_components.silver_bell.diagnostics import async_get_config_entry_diagnostics

from .test_hub import Pager, _hub, _start_hub

X = "aaaaaaaaaaaaaaaa"  # raised and resolved at home while the hub was away
Y = "bbbbbbbbbbbbbbbb"  # raised after it and still open


class Household:
    """Signs and sends what a paired household would."""

    def __init__(self, client: TestClient, code: str) -> None:
        pairing = decode_pairing(code)
        self.client = client
        self.household_id = pairing.household_id
        self.secret = pairing.secret

    async def request(self, method: str, path: str, body: bytes = b"") -> Any:
        headers = signed_headers(
            self.household_id, self.secret, method, path, body, now=time.time()
        )
        response = await self.client.request(method, path, data=body, headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    async def send(
        self, incident_id: str, seq: int, state: str, age: float = 0, **extra: Any
    ) -> Any:
        created = dt_util.utcnow() - timedelta(seconds=age)
        message = {
            "id": incident_id,
            "seq": seq,
            "kind": "help",
            "state": state,
            "test": False,
            "created_at": created.isoformat(),
            "updated_at": dt_util.utcnow().isoformat(),
            "escalated_at": created.isoformat(),
            "details": {},
            **extra,
        }
        body = json.dumps({"v": 1, "incident": message}).encode()
        return (await self.request("POST", PATH_INCIDENTS, body))["progress"]

    async def progress(self, incident_id: str) -> Any:
        return (await self.request("GET", incident_path(incident_id)))["progress"]


@pytest.mark.parametrize("order", ["open_first", "resolved_first"])
async def test_one_calls_resolution_never_closes_another(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
    order: str,
) -> None:
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    home = Household(client, code)
    if order == "open_first":
        await home.send(Y, 1, "open")
        await home.send(X, 2, "resolved", age=60)
    else:
        await home.send(X, 2, "resolved", age=60)
        await home.send(Y, 1, "open")
    await hass.async_block_till_done()
    assert (await home.progress(Y))["state"] == "open"
    assert (await home.progress(X))["state"] in ("open", "resolved")
    hub = _hub(hub_entry)
    [active] = hub.incidents.active
    assert hub.incidents.by_source(Y) is active
    # Y is paged, and escalates while nobody accepts it.
    assert len(pager.messages("mobile_app_wang")) == 1
    freezer.tick(timedelta(minutes=2, seconds=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(pager.messages("mobile_app_zhao")) == 1
    # Y's own resolution closes it.
    await home.send(Y, 2, "resolved")
    await hass.async_block_till_done()
    assert (await home.progress(Y))["state"] == "resolved"
    assert hub.incidents.active == []


async def test_other_calls_acknowledgement_does_not_acknowledge(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The family answered call X; Y, merged with it, stays open and escalates."""
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    home = Household(client, code)
    await home.send(Y, 1, "open")
    await home.send(X, 2, "acknowledged", age=30, by="Li Ming")
    await hass.async_block_till_done()
    assert (await home.progress(Y))["state"] == "open"
    freezer.tick(timedelta(minutes=2, seconds=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(pager.messages("mobile_app_zhao")) == 1
    await home.send(Y, 2, "acknowledged", by="Li Ming")
    assert (await home.progress(Y))["state"] == "acknowledged"
    # Resolving X leaves the acknowledged Y open at the hub.
    await home.send(X, 3, "resolved")
    assert (await home.progress(Y))["state"] == "acknowledged"
    assert len(_hub(hub_entry).incidents.active) == 1


async def test_hub_diagnostics_carry_figures_not_people(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
) -> None:
    """The hub's download: counts and figures, no name, address, phone or secret."""
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    home = Household(client, code)
    await home.send(Y, 1, "open")
    await hass.async_block_till_done()
    diagnostics = await async_get_config_entry_diagnostics(hass, hub_entry)
    text = json.dumps(diagnostics, ensure_ascii=False)
    for personal in (
        "Grandma Li",
        "Jinhua Road",
        "1234 5678",
        home.secret,
        "Wang Fang",
    ):
        assert personal not in text
    runtime = diagnostics["runtime"]
    assert runtime["households"] == 1
    assert runtime["volunteers"] == 4
    assert runtime["active_by_colour"] == {"red": 1}
    assert runtime["active_by_kind"] == {"help": 1}
    assert runtime["households_heard"] == 1
    assert runtime["statistics"]["open"] == 1


async def test_median_time_to_accept_reads_as_seconds(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
) -> None:
    """Issue 20: "1:03" read as a clock time; the state is seconds with a unit."""
    await _start_hub(hass, hub_entry, hass_client_no_auth)
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", "silver_bell", f"{hub_entry.entry_id}_median_time_to_acknowledge"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "s"
    assert "device_class" not in state.attributes
