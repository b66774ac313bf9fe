"""A tiny Home Assistant client for the demo: REST (standard library only) and websocket.

The websocket commands (``Client.ws``) use aiohttp, which comes with Home Assistant:
they are for what Home Assistant 2024.3's REST API cannot do — a service call that
returns a response (``call_service`` with ``return_response``; ``?return_response``
on ``/api/services`` arrived later) and reading persistent notifications.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
from pathlib import Path
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request


class ApiError(Exception):
    """An HTTP error answer, with its status and (JSON or text) body."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")
        self.status = status
        self.body = body


class WsError(Exception):
    """A websocket command answered with an error (``error`` holds its body)."""

    def __init__(self, command: str, error: dict[str, Any]) -> None:
        super().__init__(
            f"{command}: {error.get('code')}: {error.get('message')}"
            + (f" [{error['translation_key']}]" if error.get("translation_key") else "")
        )
        self.error = error

    @property
    def translation_key(self) -> str | None:
        """The translation key of a ServiceValidationError, if any."""
        key = self.error.get("translation_key")
        return str(key) if key else None


@dataclass
class Client:
    """REST access to one Home Assistant, refreshing its access token when needed."""

    base_url: str
    client_id: str = ""
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: float = 0.0
    timeout: float = 30.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.client_id:
            self.client_id = self.base_url + "/"

    # -- plumbing -----------------------------------------------------------
    def raw(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        auth: bool = True,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth and self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(
                request, timeout=timeout or self.timeout
            ) as response:
                return response.status, _decode(response.read())
        except urllib.error.HTTPError as err:
            return err.code, _decode(err.read())

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; raise ApiError on any non-2xx answer."""
        if (
            kwargs.get("auth", True)
            and self.refresh_token
            and time.time() > self.expires_at - 60
        ):
            self.refresh()
        status, body = self.raw(method, path, **kwargs)
        if status == 401 and kwargs.get("auth", True) and self.refresh_token:
            self.refresh()
            status, body = self.raw(method, path, **kwargs)
        if not 200 <= status < 300:
            raise ApiError(method, path, status, body)
        return body

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request(
            "POST", path, json_body={} if body is None else body, **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    # -- websocket ----------------------------------------------------------
    def ws(self, command: dict[str, Any], timeout: float | None = None) -> Any:
        """Run one websocket command on a fresh connection; return its result."""
        if self.refresh_token and time.time() > self.expires_at - 60:
            self.refresh()
        return asyncio.run(self._ws(command, timeout or self.timeout))

    async def _ws(self, command: dict[str, Any], seconds: float) -> Any:
        import aiohttp  # Home Assistant's; the REST half of this module does without

        url = "ws" + self.base_url.removeprefix("http") + "/api/websocket"
        try:
            return await self._ws_command(aiohttp, url, command, seconds)
        except aiohttp.ClientError as err:
            raise WsError(
                str(command.get("type")), {"code": "connection", "message": str(err)}
            ) from err

    async def _ws_command(
        self, aiohttp: Any, url: str, command: dict[str, Any], seconds: float
    ) -> Any:
        async with (
            asyncio.timeout(seconds),
            aiohttp.ClientSession() as session,
            session.ws_connect(url) as ws,
        ):
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.access_token})
            answer = await ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise WsError("auth", {"code": answer.get("type"), **answer})
            await ws.send_json({"id": 1, **command})
            while True:
                answer = await ws.receive_json()
                if answer.get("id") == 1 and answer.get("type") == "result":
                    break
        if not answer.get("success"):
            raise WsError(str(command.get("type")), answer.get("error") or {})
        return answer.get("result")

    def call_service(
        self, domain: str, service: str, data: dict[str, Any], *, response: bool = False
    ) -> Any:
        """Call a service over the websocket; with ``response`` return its response."""
        command: dict[str, Any] = {
            "type": "call_service",
            "domain": domain,
            "service": service,
            "service_data": data,
        }
        if response:
            command["return_response"] = True
        result = self.ws(command)
        return (result or {}).get("response") if response else result

    # -- auth ---------------------------------------------------------------
    def _take_tokens(self, tokens: dict[str, Any]) -> None:
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        self.expires_at = time.time() + float(tokens.get("expires_in", 1800))

    def exchange_code(self, code: str) -> None:
        """Trade an authorization code for tokens (/auth/token)."""
        status, body = self.raw(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
            auth=False,
        )
        if status != 200:
            raise ApiError("POST", "/auth/token", status, body)
        self._take_tokens(body)

    def refresh(self) -> None:
        """Get a new access token with the refresh token."""
        status, body = self.raw(
            "POST",
            "/auth/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token or "",
                "client_id": self.client_id,
            },
            auth=False,
        )
        if status != 200:
            raise ApiError("POST", "/auth/token (refresh)", status, body)
        self._take_tokens(body)

    def login_code(self, username: str, password: str) -> str:
        """Log in through /auth/login_flow like the login page does; return the auth code."""
        flow = self.post(
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id + "?auth_callback=1",
            },
            auth=False,
        )
        result = self.post(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
            auth=False,
        )
        if result.get("type") != "create_entry":
            raise ApiError(
                "POST", "/auth/login_flow", 400, result.get("errors") or result
            )
        return str(result["result"])

    # -- persistence --------------------------------------------------------
    def save(self, path: Path, **extra: Any) -> None:
        self.extra.update(extra)
        path.write_text(
            json.dumps(
                {
                    "base_url": self.base_url,
                    "client_id": self.client_id,
                    "access_token": self.access_token,
                    "refresh_token": self.refresh_token,
                    "expires_at": self.expires_at,
                    **self.extra,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> Client:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {"base_url", "client_id", "access_token", "refresh_token", "expires_at"}
        return cls(
            **{key: data[key] for key in known if key in data},
            extra={key: value for key, value in data.items() if key not in known},
        )


def _decode(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def wait_until_up(client: Client, deadline_s: float) -> list[dict[str, Any]]:
    """Wait until the (unauthenticated) onboarding API answers; return its steps.

    An empty list means onboarding was completed before.
    """
    end = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < end:
        try:
            status, body = client.raw("GET", "/api/onboarding", auth=False, timeout=5)
            if status == 200 and isinstance(body, list):
                return body
            if status == 404:
                # Once every onboarding step is done, the onboarding views are
                # not registered any more.
                return []
            last = ApiError("GET", "/api/onboarding", status, body)
        except OSError as err:  # connection refused while Home Assistant starts
            last = err
        time.sleep(0.5)
    raise TimeoutError(
        f"Home Assistant did not answer within {deadline_s:.0f} s ({last})"
    )
