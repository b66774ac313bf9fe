"""The demo keeps the core configuration in storage, so ``--language`` works.

A core key in configuration.yaml (name, location, time zone, language …) makes
Home Assistant's config source "yaml" and greys Settings -> System -> General out.
``demo/provision.py`` writes them through ``config/core/update`` instead; here it
talks to the test's Home Assistant (REST through the test HTTP client, websocket
commands through the test websocket client).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import sys
from typing import Any

from homeassistant.components.frontend import storage as frontend_storage
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

DEMO = Path(__file__).resolve().parents[2] / "demo"
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))

import client as demo_client  # noqa: E402
from homeassistant.util import yaml  # noqa: E402
import provision  # noqa: E402

CORE_KEYS = {
    "name",
    "latitude",
    "longitude",
    "elevation",
    "unit_system",
    "time_zone",
    "currency",
    "country",
    "language",
    "internal_url",
    "external_url",
}


class _TestClient(demo_client.Client):
    """The demo's client, answered by the test's Home Assistant."""

    def __init__(self, hass: HomeAssistant, http: Any, ws: Any) -> None:
        super().__init__("http://127.0.0.1:8123")
        self._hass = hass
        self._http = http
        self._ws_client = ws
        self._next_id = 1
        self.commands: list[dict[str, Any]] = []

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._hass.loop).result(30)

    def raw(
        self, method: str, path: str, *, json_body: Any = None, **_: Any
    ) -> tuple[int, Any]:
        async def call() -> tuple[int, Any]:
            response = await self._http.request(method, path, json=json_body)
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

        result: tuple[int, Any] = self._run(call())
        return result

    def ws(self, command: dict[str, Any], timeout: float | None = None) -> Any:
        self.commands.append(command)
        self._next_id += 1
        message_id = self._next_id

        async def call() -> dict[str, Any]:
            await self._ws_client.send_json({"id": message_id, **command})
            answer: dict[str, Any] = await self._ws_client.receive_json()
            return answer

        answer = self._run(call())
        if not answer.get("success"):
            raise demo_client.WsError(str(command["type"]), answer.get("error") or {})
        return answer.get("result")


@pytest.mark.parametrize("template", ["household.yaml", "hub.yaml"])
def test_templates_have_no_core_config(template: str, tmp_path: Path) -> None:
    text = (DEMO / template).read_text(encoding="utf-8").replace("@PORT@", "8123")
    assert "@" not in text.split("logger:")[0], "every placeholder is filled in"
    path = tmp_path / "configuration.yaml"
    path.write_text(text, encoding="utf-8")
    config = yaml.load_yaml(str(path))
    assert not CORE_KEYS & set(config["homeassistant"] or {})


@pytest.fixture
async def demo_client_for(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hass_ws_client: Any
) -> _TestClient:
    assert await async_setup_component(hass, "api", {})
    assert await async_setup_component(hass, "config", {})
    assert await async_setup_component(hass, "websocket_api", {})
    await frontend_storage.async_setup_frontend_storage(hass)
    return _TestClient(hass, await hass_client(), await hass_ws_client(hass))


async def _set(hass: HomeAssistant, client: _TestClient, **kwargs: Any) -> bool:
    changed: bool = await hass.async_add_executor_job(
        lambda: provision.set_core_config(
            client, "household", location_name=provision.HOUSEHOLD_LOCATION, **kwargs
        )
    )
    return changed


async def ui_language(client: _TestClient) -> Any:
    answer = await asyncio.get_running_loop().run_in_executor(
        None,
        client.ws,
        {"type": "frontend/get_user_data", "key": provision.FRONTEND_LOCALE_KEY},
    )
    return (answer.get("value") or {}).get("language")


async def test_language_goes_into_the_stored_core_config(
    hass: HomeAssistant, demo_client_for: _TestClient, hass_storage: dict[str, Any]
) -> None:
    client = demo_client_for
    assert hass.config.language == "en"
    changed = await _set(
        hass, client, time_zone="Asia/Shanghai", language="zh-Hans", first_time=True
    )
    assert changed
    assert hass.config.language == "zh-Hans"
    assert hass.config.location_name == provision.HOUSEHOLD_LOCATION
    assert hass.config.time_zone == "Asia/Shanghai"
    assert hass.config.currency == "CNY"
    assert hass.config.internal_url == "http://127.0.0.1:8123"
    # Stored, so editable in Settings (the source is not "yaml").
    assert hass.config.config_source == "storage"
    assert hass_storage["core.config"]["data"]["language"] == "zh-Hans"
    # The demo user's UI language too, whatever the browser's.
    assert await ui_language(client) == "zh-Hans"

    # The next start without --language changes nothing the user may have set.
    await hass.config.async_update(location_name="Renamed in Settings")
    commands = len(client.commands)
    assert not await _set(
        hass, client, time_zone="UTC", language=None, first_time=False
    )
    assert client.commands[commands:] == [], "no core config update"
    assert hass.config.location_name == "Renamed in Settings"
    assert hass.config.time_zone == "Asia/Shanghai"
    assert hass.config.language == "zh-Hans"

    # --language en switches both back.
    assert await _set(hass, client, time_zone=None, language="en", first_time=False)
    assert hass.config.language == "en"
    assert await ui_language(client) == "en"


async def test_fresh_demo_without_language_is_english_and_leaves_the_ui_alone(
    hass: HomeAssistant, demo_client_for: _TestClient
) -> None:
    client = demo_client_for
    assert not await _set(hass, client, time_zone=None, language=None, first_time=True)
    assert hass.config.language == "en"
    assert hass.config.location_name == provision.HOUSEHOLD_LOCATION
    assert await ui_language(client) is None  # the browser's language decides


async def test_internal_url_follows_the_port(
    hass: HomeAssistant, demo_client_for: _TestClient
) -> None:
    """The hub's pairing codes carry the internal URL: --port changes it."""
    client = demo_client_for
    await _set(hass, client, time_zone=None, language=None, first_time=True)
    client.base_url = "http://127.0.0.1:8224"
    await _set(hass, client, time_zone=None, language=None, first_time=False)
    assert hass.config.internal_url == "http://127.0.0.1:8224"
