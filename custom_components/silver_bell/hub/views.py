"""The hub's HTTP API for households (see docs/protocol.md).

Registered once per Home Assistant in ``async_setup`` (views cannot be
unregistered); each request looks up the loaded hub entry. Authentication is
the household's HMAC signature only — no Home Assistant user token is needed or
accepted. Every rejection is a JSON response built here (never an aiohttp
HTTPUnauthorized, which Home Assistant's ban middleware would count as a failed
login and ban the household's address), and nothing is stored on a rejection.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from ..compat import get_runtime_data
from ..const import CONF_ROLE, DOMAIN, ROLE_HUB
from ..protocol import (
    MAX_BODY_BYTES,
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    Rejection,
    parse_heartbeat,
    parse_incident,
    parse_json,
    progress_body,
    verify_request,
)

if TYPE_CHECKING:
    from .runtime import Hub


def _hub(hass: HomeAssistant) -> Hub:
    from .runtime import Hub

    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_ROLE) == ROLE_HUB and isinstance(
            hub := get_runtime_data(entry), Hub
        ):
            return hub
    raise Rejection(503, "unavailable", "No Silver Bell hub is running here.")


def _answer(rejection: Rejection) -> web.Response:
    headers = {}
    if rejection.retry_after is not None:
        headers["Retry-After"] = str(rejection.retry_after)
    return web.json_response(rejection.body(), status=rejection.status, headers=headers)


async def _read_body(request: web.Request) -> bytes:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise Rejection(
            413, "too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes."
        )
    body = await request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Rejection(
            413, "too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes."
        )
    return body


class _SignedView(HomeAssistantView):
    """Base: authenticate the household by signature, then rate-limit it."""

    requires_auth = False
    cors_allowed = False

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    def _authenticate(self, request: web.Request, body: bytes) -> tuple[Hub, str]:
        hub = _hub(self.hass)
        now = time.time()
        household_id = verify_request(
            request.headers,
            request.method,
            request.path,
            body,
            secret_for=hub.secret_for,
            nonces=hub.nonces,
            now=now,
        )
        if (wait := hub.limiter.acquire(household_id, now)) is not None:
            raise Rejection(
                429,
                "rate_limited",
                "Too many requests from this household.",
                retry_after=max(1, int(wait + 0.999)),
            )
        return hub, household_id


class IncidentsView(_SignedView):
    """POST a new incident or an update of one."""

    url = PATH_INCIDENTS
    name = f"api:{DOMAIN}:incidents"

    async def post(self, request: web.Request) -> web.Response:
        """Store (idempotently) and dispatch; answer with the incident's progress."""
        try:
            body = await _read_body(request)
            hub, household_id = self._authenticate(request, body)
            message = parse_incident(parse_json(body))
            progress = await hub.async_receive(household_id, message)
        except Rejection as rejection:
            return _answer(rejection)
        return web.json_response({"ok": True, "progress": progress_body(progress)})


class IncidentView(_SignedView):
    """GET the hub's progress on one of the household's incidents."""

    url = PATH_INCIDENTS + "/{incident_id}"
    name = f"api:{DOMAIN}:incident"

    async def get(self, request: web.Request, incident_id: str) -> web.Response:
        """Progress (403 for another household's incident, 404 if unknown)."""
        try:
            body = await _read_body(request)
            hub, household_id = self._authenticate(request, body)
            progress = hub.progress_for(household_id, incident_id)
        except Rejection as rejection:
            return _answer(rejection)
        return web.json_response({"ok": True, "progress": progress_body(progress)})


class HeartbeatView(_SignedView):
    """POST: the household is alive."""

    url = PATH_HEARTBEAT
    name = f"api:{DOMAIN}:heartbeat"

    async def post(self, request: web.Request) -> web.Response:
        """Record the heartbeat; answer with the hub's time."""
        try:
            body = await _read_body(request)
            hub, household_id = self._authenticate(request, body)
            heartbeat = parse_heartbeat(parse_json(body))
            await hub.async_heartbeat(household_id, heartbeat)
        except Rejection as rejection:
            return _answer(rejection)
        return web.json_response({"ok": True, "server_time": time.time()})


def async_register_views(hass: HomeAssistant) -> None:
    """Register the API once per Home Assistant."""
    for view in (IncidentsView(hass), IncidentView(hass), HeartbeatView(hass)):
        hass.http.register_view(view)
