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

from homeassistant.auth.providers import homeassistant as auth_ha
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    register_auth_provider,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.silver_bell.const import (
    CONF_DUTY_STAFF,
    CONF_KNOWN_DEVICES,
    DESK_PANEL_URL,
    DOMAIN,
)

DEMO = Path(__file__).resolve().parents[2] / "demo"
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))

import client as demo_client  # noqa: E402
import provision  # noqa: E402


class _TestClient(demo_client.Client):
    """The demo's client, its requests answered by the test's Home Assistant."""

    def __init__(self, hass: HomeAssistant, http: Any, ws: Any = None) -> None:
        super().__init__("http://test")
        self._hass = hass
        self._http = http
        self._ws = ws

    def ws(self, command: dict[str, Any], timeout: float | None = None) -> Any:
        async def call() -> Any:
            await self._ws.send_json_auto_id(command)
            answer = await self._ws.receive_json()
            if not answer["success"]:
                raise demo_client.WsError(answer["error"])
            return answer["result"]

        return asyncio.run_coroutine_threadsafe(call(), self._hass.loop).result(30)

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


async def test_demo_adds_the_duty_desk_user_as_duty_staff(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A non-admin user 'duty', named in the hub's options, and the desk's link printed."""
    if not any(key[0] == "homeassistant" for key in hass.auth._providers):
        await register_auth_provider(hass, {"type": "homeassistant"})
    provider = auth_ha.async_get_provider(hass)
    assert await async_setup_component(hass, "api", {})
    assert await async_setup_component(hass, "config", {})
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, "websocket_api", {})
    hass.config.internal_url = "http://127.0.0.1:8123"
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    client = _TestClient(hass, await hass_client(), await hass_ws_client(hass))
    hub_url = "http://127.0.0.1:8124"
    assert provision.DESK_PANEL_PATH == DESK_PANEL_URL
    assert provision.CONF_DUTY_STAFF == CONF_DUTY_STAFF

    user_id = await hass.async_add_executor_job(
        provision.setup_desk, client, hub_entry.entry_id, hub_url
    )
    await hass.async_block_till_done()

    user = await hass.auth.async_get_user(user_id)
    assert user is not None and user.is_active
    assert not user.is_admin
    assert user.name == provision.DESK_USER_NAME
    assert hub_entry.options[CONF_DUTY_STAFF] == [user_id]
    await provider.async_initialize()
    assert provider.data is not None
    provider.data.validate_login(provision.DESK_USERNAME, provision.DESK_PASSWORD)
    out = capsys.readouterr().out
    assert f"DESK_LINK={hub_url}/{DESK_PANEL_URL}" in out
    assert provision.DESK_PASSWORD in out

    # A second run finds the user and leaves the options alone.
    options = dict(hub_entry.options)
    again = await hass.async_add_executor_job(
        provision.setup_desk, client, hub_entry.entry_id, hub_url
    )
    await hass.async_block_till_done()
    assert again == user_id
    assert dict(hub_entry.options) == options
    assert "duty staff already" in capsys.readouterr().out
