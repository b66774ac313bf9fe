"""The hub's HTTP API for households (see docs/protocol.md).

Registered once per Home Assistant in ``async_setup`` (views cannot be
unregistered); each request looks up the loaded hub entry. Authentication is
the household's HMAC signature only — no Home Assistant user token is needed or
accepted. Every rejection is a JSON response built here (never an aiohttp
HTTPUnauthorized, which Home Assistant's ban middleware would count as a failed
login and ban the household's address), and nothing is stored on a rejection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import TYPE_CHECKING

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from ..const import DOMAIN
from ..core.bodies import (
    parse_heartbeat,
    parse_incident,
    parse_survey_answer,
    progress_body,
    survey_body,
)
from ..core.models import ACTIVE_STATES
from ..core.protocol import (
    BODY_TIMEOUT_S,
    MAX_BODY_BYTES,
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    Rejection,
    parse_json,
    verify_request,
)
from .link_view import AcceptLinkView
from .lookup import running_hub

if TYPE_CHECKING:
    from .runtime import Hub


def _answer(rejection: Rejection, **headers: str) -> web.Response:
    if (retry_after := rejection.retry_after_header) is not None:
        headers["Retry-After"] = retry_after
    return web.json_response(rejection.body(), status=rejection.status, headers=headers)


async def _read_body(request: web.Request) -> bytes:
    """The whole body, however it arrives; at most MAX_BODY_BYTES.

    ``StreamReader.read(n)`` answers with what has arrived so far, so one call
    sees only the first TCP segment of a body split on the way (mobile links,
    TLS, proxies). Read until the end of the body (its Content-Length, or the
    last chunk of a chunked body), stopping as soon as it exceeds the limit.
    A client that sends less than it announced and goes quiet gets 408 after
    BODY_TIMEOUT_S; one that closes the connection early gets 400.
    """
    too_large = Rejection(
        413, "too_large", f"Bodies are limited to {MAX_BODY_BYTES} bytes."
    )
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise too_large
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            while part := await request.content.read(MAX_BODY_BYTES + 1 - size):
                size += len(part)
                if size > MAX_BODY_BYTES:
                    raise too_large
                parts.append(part)
    except TimeoutError as err:
        raise Rejection(
            408, "timeout", f"The body did not arrive within {BODY_TIMEOUT_S} s."
        ) from err
    except (ClientPayloadError, HttpProcessingError, ConnectionResetError) as err:
        raise Rejection(400, "invalid", "The body was cut short.") from err
    return b"".join(parts)


_OTHER_METHODS = ("get", "post", "put", "patch", "delete", "head")


class _SignedView(HomeAssistantView):
    """Base: authenticate the household by signature, then rate-limit it."""

    requires_auth = False
    cors_allowed = False
    methods: tuple[str, ...] = ()  # the methods the view implements

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        # Any other method gets the protocol's JSON error, not Home Assistant's
        # plain-text 405 (OPTIONS is left to Home Assistant's CORS handling).
        for method in _OTHER_METHODS:
            if method.upper() not in self.methods:
                setattr(self, method, self._method_not_allowed)

    async def _method_not_allowed(
        self, request: web.Request, **_match: str
    ) -> web.Response:
        allowed = ", ".join(self.methods)
        return _answer(
            Rejection(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {allowed}.",
            ),
            Allow=allowed,
        )

    def _authenticate(
        self,
        request: web.Request,
        body: bytes,
        urgent: Callable[[Hub], bool] | None = None,
    ) -> tuple[Hub, str]:
        """The hub and the household, or Rejection (signature, then rate limit).

        ``urgent`` is asked only when the household's bucket is empty: True lets
        the request take a token from the limiter's reserve (a new alarm).
        """
        hub = running_hub(self.hass)
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
        if (wait := hub.limiter.acquire(household_id, now)) is not None and (
            urgent is None
            or not urgent(hub)
            or hub.limiter.acquire(household_id, now, urgent=True) is not None
        ):
            raise Rejection(
                429,
                "rate_limited",
                "Too many requests from this household.",
                retry_after=wait,
            )
        return hub, household_id


class IncidentsView(_SignedView):
    """POST a new incident or an update of one."""

    url = PATH_INCIDENTS
    name = f"api:{DOMAIN}:incidents"
    methods = ("POST",)

    async def post(self, request: web.Request) -> web.Response:
        """Store (idempotently) and dispatch; answer with the incident's progress."""
        try:
            body = await _read_body(request)
            hub, household_id = self._authenticate(request, body, _opens_alarm(body))
            message = parse_incident(parse_json(body))
            progress = await hub.async_receive(household_id, message)
        except Rejection as rejection:
            return _answer(rejection)
        return web.json_response({"ok": True, "progress": progress_body(progress)})


def _opens_alarm(body: bytes) -> Callable[[Hub], bool]:
    """Whether the (signed) body opens an incident the hub does not have yet.

    Such a message may pass a household's empty bucket (the limiter's reserve):
    a new help call never waits behind the household's updates and polls.
    """

    def opens(hub: Hub) -> bool:
        try:
            message = parse_incident(parse_json(body))
        except Rejection:
            return False
        return (
            message.state in ACTIVE_STATES
            and hub.incidents.by_source(message.id) is None
        )

    return opens


class IncidentView(_SignedView):
    """GET the hub's progress on one of the household's incidents."""

    # Any segment (newer aiohttp leaves "{" and "}" out of plain dynamic segments,
    # which would answer such ids with its own text 404 instead of ours in JSON).
    url = PATH_INCIDENTS + "/{incident_id:[^/]+}"
    name = f"api:{DOMAIN}:incident"
    methods = ("GET",)

    async def get(self, request: web.Request, incident_id: str) -> web.Response:
        """Progress (403 for another household's incident, 404 if unknown)."""
        try:
            body = await _read_body(request)
            hub, household_id = self._authenticate(request, body)
            progress = hub.progress_for(household_id, incident_id)
        except Rejection as rejection:
            return _answer(rejection)
        return web.json_response({"ok": True, "progress": progress_body(progress)})


class SurveyView(_SignedView):
    """POST the family's answer to the satisfaction survey of a resolved incident."""

    url = PATH_INCIDENTS + "/{incident_id:[^/]+}/survey"
    name = f"api:{DOMAIN}:survey"
    methods = ("POST",)

    async def post(self, request: web.Request, incident_id: str) -> web.Response:
        """Store the first answer (a repeat changes nothing); answer with the stored one."""
        try:
            body = await _read_body(request)
            hub, household_id = self._authenticate(request, body)
            answer = parse_survey_answer(parse_json(body))
            incident, progress = await hub.async_survey(
                household_id, incident_id, answer
            )
        except Rejection as rejection:
            return _answer(rejection)
        assert incident.survey is not None  # answered or refused above
        return web.json_response(
            {
                "ok": True,
                "survey": survey_body(incident.survey),
                "progress": progress_body(progress),
            }
        )


class HeartbeatView(_SignedView):
    """POST: the household is alive."""

    url = PATH_HEARTBEAT
    name = f"api:{DOMAIN}:heartbeat"
    methods = ("POST",)

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
    for view in (
        IncidentsView(hass),
        IncidentView(hass),
        SurveyView(hass),
        HeartbeatView(hass),
        AcceptLinkView(hass),
    ):
        hass.http.register_view(view)
