"""The hub's intake over a real socket: bodies in pieces, lying lengths, wrong methods.

Bodies on real networks arrive in several TCP segments (mobile links, TLS,
proxies). These tests write raw HTTP/1.1 to the hub's listening socket, in
pieces and with pauses, so the hub must read the whole body before it checks
the signature (regression: it read only the first segment and answered
``401 bad_signature``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.core.protocol import (
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    decode_pairing,
    incident_path,
    signed_headers,
)

from .test_hub import _hub, _start_hub
from .test_protocol import DETAILS_DEPTH_3, DETAILS_DEPTH_4


def _incident(incident_id: str, filler: int = 0) -> bytes:
    now = dt_util.utcnow().isoformat()
    return json.dumps(
        {
            "v": 1,
            "incident": {
                "id": incident_id,
                "seq": 1,
                "kind": "help",
                "state": "open",
                "test": False,
                "created_at": now,
                "updated_at": now,
                "escalated_at": now,
                "details": {"message": "x" * filler},
            },
        },
        separators=(",", ":"),
    ).encode()


class Raw:
    """One raw HTTP/1.1 connection to the hub's test server."""

    def __init__(self, client: TestClient) -> None:
        self.host = str(client.host)
        self.port = int(client.port)  # type: ignore[arg-type]
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def __aenter__(self) -> Raw:  # noqa: PYI034 - a test helper
        """Connect."""
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the connection."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def send(self, *pieces: bytes, pause: float = 0.1) -> None:
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(pause)
            self.writer.write(piece)
            await self.writer.drain()

    async def answer(self) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body of the next response ((0, {}, None) if closed)."""
        async with asyncio.timeout(10):
            status_line = await self.reader.readline()
            if not status_line:
                return 0, {}, None
            headers: dict[str, str] = {}
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await self.reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), headers, json.loads(body) if body else None


def _head(
    pairing: Any,
    method: str,
    path: str,
    body: bytes,
    *,
    length: int | None = None,
    chunked: bool = False,
) -> bytes:
    headers = signed_headers(
        pairing.household_id, pairing.secret, method, path, body, now=time.time()
    )
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Content-Type: application/json")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunks(*pieces: bytes) -> list[bytes]:
    return [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces] + [b"0\r\n\r\n"]


async def _setup(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> tuple[TestClient, Any, Any]:
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    return client, decode_pairing(code), _hub(hub_entry)


@pytest.mark.parametrize(
    ("size", "pieces", "pause"),
    [(500, 2, 0.1), (3000, 2, 0.02), (7000, 7, 0.03), (200, 200, 0.0)],
)
async def test_body_in_pieces_is_read_whole(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    size: int,
    pieces: int,
    pause: float,
) -> None:
    """A body that arrives in several segments, with pauses, is accepted once."""
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)
    body = _incident("a1b2c3d4e5f6a7b8", filler=size)
    step = -(-len(body) // pieces)
    parts = [body[i : i + step] for i in range(0, len(body), step)]
    async with Raw(client) as raw:
        await raw.send(
            _head(pairing, "POST", PATH_INCIDENTS, body), *parts, pause=pause
        )
        status, _, answer = await raw.answer()
    assert (status, answer["ok"]) == (200, True), answer
    assert len(hub.incidents.incidents) == 1


async def test_chunked_body_in_pieces(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Chunked transfer without a Content-Length, chunks spread over time."""
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)
    body = _incident("a1b2c3d4e5f6a7b9", filler=1000)
    third = len(body) // 3
    chunks = _chunks(body[:third], body[third : 2 * third], body[2 * third :])
    async with Raw(client) as raw:
        await raw.send(
            _head(pairing, "POST", PATH_INCIDENTS, body, chunked=True), *chunks
        )
        status, _, answer = await raw.answer()
    assert status == 200, answer
    assert len(hub.incidents.incidents) == 1


async def test_chunked_body_over_the_limit(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Without a Content-Length the limit still holds: 413, nothing stored."""
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)
    body = _incident("a1b2c3d4e5f6a7ba", filler=70000)
    async with Raw(client) as raw:
        await raw.send(
            _head(pairing, "POST", PATH_INCIDENTS, body, chunked=True),
            *_chunks(*(body[i : i + 8192] for i in range(0, len(body), 8192))),
            pause=0.01,
        )
        status, _, answer = await raw.answer()
    assert (status, answer["error"]) == (413, "too_large")
    assert hub.incidents.incidents == []


async def test_content_length_shorter_than_the_body(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """The hub reads the announced length only: the signature fails, nothing stored."""
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)
    body = _incident("a1b2c3d4e5f6a7bb")
    async with Raw(client) as raw:
        await raw.send(
            _head(pairing, "POST", PATH_INCIDENTS, body, length=len(body) - 10), body
        )
        status, _, answer = await raw.answer()
    assert (status, answer["error"]) == (401, "bad_signature")
    assert hub.incidents.incidents == []


async def test_content_length_longer_than_the_body(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """A client that announces more than it sends.

    408 when it goes quiet, no answer (or 400) when it hangs up; never a 5xx,
    nothing stored.
    """
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)
    body = _incident("a1b2c3d4e5f6a7bc")
    head = _head(pairing, "POST", PATH_INCIDENTS, body, length=len(body) + 10)
    with patch("custom_components.silver_bell.hub.views.BODY_TIMEOUT_S", 0.3):
        async with Raw(client) as raw:
            await raw.send(head, body)
            status, _, answer = await raw.answer()
        assert (status, answer["error"]) == (408, "timeout")
        async with Raw(client) as raw:
            await raw.send(head, body)
            raw.writer.write_eof()
            status, _, _ = await raw.answer()
        assert status in (0, 400)
    assert hub.incidents.incidents == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", PATH_INCIDENTS, "POST"),
        ("GET", PATH_INCIDENTS, "POST"),
        ("DELETE", PATH_INCIDENTS, "POST"),
        ("PATCH", PATH_HEARTBEAT, "POST"),
        ("POST", incident_path("a1b2c3d4e5f6a7b8"), "GET"),
        ("DELETE", incident_path("a1b2c3d4e5f6a7b8"), "GET"),
    ],
)
async def test_wrong_method_answers_the_json_error(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    method: str,
    path: str,
    allowed: str,
) -> None:
    """405 with the protocol's JSON error shape and an Allow header."""
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)
    body = _incident("a1b2c3d4e5f6a7b8")
    headers = signed_headers(
        pairing.household_id, pairing.secret, method, path, body, now=time.time()
    )
    response = await client.request(method, path, data=body, headers=headers)
    assert response.status == 405
    assert response.headers["Allow"] == allowed
    answer = await response.json()
    assert answer["error"] == "method_not_allowed"
    assert allowed in answer["message"]
    assert hub.incidents.incidents == []
    head = await client.request("HEAD", path)
    assert head.status == 405


def _incident_with(
    incident_id: str, details: dict[str, Any], kind: str = "help"
) -> bytes:
    body = json.loads(_incident(incident_id))
    body["incident"].update(details=details, kind=kind)
    return json.dumps(body).encode()


async def test_details_nesting_limit_at_the_boundary(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Three lists/objects below details are stored; a fourth is a JSON 400 naming it."""
    client, pairing, hub = await _setup(hass, hub_entry, hass_client_no_auth)

    async def post(body: bytes) -> tuple[int, Any]:
        headers = signed_headers(
            pairing.household_id,
            pairing.secret,
            "POST",
            PATH_INCIDENTS,
            body,
            now=time.time(),
        )
        headers["Content-Type"] = "application/json"
        response = await client.post(PATH_INCIDENTS, data=body, headers=headers)
        return response.status, await response.json()

    for index, (details, field) in enumerate(DETAILS_DEPTH_4):
        status, answer = await post(_incident_with(f"deep4-{index:04d}", details))
        assert status == 400
        assert answer["error"] == "invalid"
        assert answer["field"] == field
        assert field in answer["message"]
    assert hub.incidents.incidents == []
    # One kind each: a second open incident of a kind would be merged into the first.
    kinds = ("help", "fire", "inactivity", "cold")
    for index, (details, kind) in enumerate(zip(DETAILS_DEPTH_3, kinds, strict=True)):
        incident_id = f"deep3-{index:04d}"
        status, answer = await post(_incident_with(incident_id, details, kind))
        assert (status, answer["ok"]) == (200, True), answer
        stored = next(
            incident
            for incident in hub.incidents.incidents
            if incident_id in incident.source_ids
        )
        assert stored.details == details
