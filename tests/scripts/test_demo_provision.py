"""The demo's provisioning drives Silver Bell's real config flow over the REST API.

``demo/provision.py`` adds Grandma Li's household through the config-flow API of a
running Home Assistant. Here it talks to the test's Home Assistant instead: its
client is answered by the real ``/api/config/config_entries/flow`` views (through
the test HTTP client, from a worker thread as in the demo), so a change of the
flow's steps that the demo does not follow fails here, not only in the slow
real-process tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import sys
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.silver_bell.const import CONF_KNOWN_DEVICES, DOMAIN

DEMO = Path(__file__).resolve().parents[2] / "demo"
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))

import client as demo_client  # noqa: E402
import provision  # noqa: E402


class _TestClient(demo_client.Client):
    """The demo's client, its requests answered by the test's Home Assistant."""

    def __init__(self, hass: HomeAssistant, http: Any) -> None:
        super().__init__("http://test")
        self._hass = hass
        self._http = http

    def raw(
        self, method: str, path: str, *, json_body: Any = None, **_: Any
    ) -> tuple[int, Any]:
        async def call() -> tuple[int, Any]:
            response = await self._http.request(method, path, json=json_body)
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

        return asyncio.run_coroutine_threadsafe(call(), self._hass.loop).result(30)


async def test_demo_adds_the_household_through_the_flow(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "api", {})
    assert await async_setup_component(hass, "config", {})
    # Before the test client freezes the HTTP router (Silver Bell adds views).
    assert await async_setup_component(hass, DOMAIN, {})
    for value in provision.HOUSEHOLD.values():
        for entity_id in [value] if isinstance(value, str) else value:
            if "." in entity_id:
                hass.states.async_set(entity_id, "off")
    http = await hass_client()
    with patch("custom_components.silver_bell.async_setup_entry", return_value=True):
        created = await hass.async_add_executor_job(
            provision.household_entry, _TestClient(hass, http)
        )
        await hass.async_block_till_done()
    assert created["title"] == provision.HOUSEHOLD_NAME
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    expected = {k: v for k, v in provision.HOUSEHOLD.items() if k != "name"}
    assert {key: entry.data[key] for key in expected} == expected
    assert CONF_KNOWN_DEVICES not in entry.data  # the demo chooses no area
