"""Accept links: signed one-time tokens a volunteer answers a page with, without the app.

A token is ``<nonce><mac>`` (32 URL-safe characters): a random nonce and the
first 96 bits of HMAC-SHA256 over (nonce, incident, volunteer) under the hub's
link secret. The URL holds nothing else — no incident id, volunteer id, name or
phone. The hub keeps each token's binding and the actions already taken with it,
so a token is

* bound to one incident and one volunteer (a group robot's token to one incident
  and one channel: the page then asks who is accepting and their PIN);
* usable once per action (accept, on my way);
* void when its incident ends (and forgotten then).

PINs are kept as salted PBKDF2-SHA256 hashes in the ledger (:func:`hash_pin`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
import hashlib
import hmac
import re
import secrets
from typing import Any

from homeassistant.core import HomeAssistant

from ..storage import silver_bell_store

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
PIN = re.compile(r"^[0-9]{4,8}$")
PIN_ITERATIONS = 100_000
LINK_PATH = "/api/silver_bell/a"
ACTIONS = ("accept", "on_the_way")
# Wrong PINs tolerated per group token before it refuses further tries.
MAX_PIN_FAILURES = 5


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` (slow: run in an executor)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"pbkdf2_sha256${PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` matches a :func:`hash_pin` result (slow: run in an executor)."""
    if not stored or not PIN.match(pin):
        return False
    try:
        scheme, iterations, salt, expected = stored.split("$")
        digest = hashlib.pbkdf2_hmac(
            "sha256", pin.encode(), bytes.fromhex(salt), int(iterations)
        )
    except ValueError:
        return False
    return scheme == "pbkdf2_sha256" and hmac.compare_digest(digest.hex(), expected)


@dataclass(slots=True)
class Link:
    """What one token is bound to."""

    incident_id: str
    volunteer_id: str | None  # None: a group robot's link (asks who and their PIN)
    channel: str | None
    language: str
    used: list[str] = field(default_factory=list)
    pin_failures: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "incident_id": self.incident_id,
            "volunteer_id": self.volunteer_id,
            "channel": self.channel,
            "language": self.language,
            "used": list(self.used),
            "pin_failures": self.pin_failures,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Link:
        """Read the stored form."""
        return cls(
            incident_id=str(data["incident_id"]),
            volunteer_id=data.get("volunteer_id"),
            channel=data.get("channel"),
            language=str(data.get("language", "zh-Hans")),
            used=[str(item) for item in data.get("used", [])],
            pin_failures=int(data.get("pin_failures", 0)),
        )


class AcceptLinks:
    """The hub's accept tokens, persisted in their own store."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is read before :meth:`async_load`."""
        self._store = silver_bell_store(hass, "links", entry_id)
        self._secret = b""
        self.links: dict[str, Link] = {}
        # The stored form of each link, kept up to date as links come, change
        # and go: a save costs the same with ten links or ten thousand (a busy
        # hub pages through a channel, and saves, several times a second).
        self._bodies: dict[str, dict[str, Any]] = {}

    async def async_load(self) -> None:
        """Read the secret and the tokens (a new secret on first start)."""
        data = await self._store.async_load() or {}
        secret = data.get("secret")
        self._secret = bytes.fromhex(secret) if secret else secrets.token_bytes(32)
        self.links = {}
        for token, item in (data.get("links") or {}).items():
            try:
                self.links[token] = Link.from_dict(item)
            except (KeyError, TypeError, ValueError):
                continue
        self._bodies = {token: link.as_dict() for token, link in self.links.items()}
        if not secret:
            await self.async_save()

    async def async_save(self) -> None:
        """Write the secret and the tokens now."""
        # A copy of the outer mapping only (the Store writes it in the executor
        # while links may come and go); each body is replaced, never changed.
        await self._store.async_save(
            {"secret": self._secret.hex(), "links": dict(self._bodies)}
        )

    def changed(self, token: str) -> None:
        """A link's use or PIN failures changed: its stored form follows."""
        if (link := self.links.get(token)) is not None:
            self._bodies[token] = link.as_dict()

    def record_use(self, token: str, link: Link, action: str) -> None:
        """The link was used for ``action`` (saved by the next save)."""
        link.used.append(action)
        self.changed(token)

    def record_pin_failure(self, token: str, link: Link) -> None:
        """A wrong PIN was given on the link's page (saved by the next save)."""
        link.pin_failures += 1
        self.changed(token)

    def _mac(self, nonce: str, incident_id: str, bound: str) -> str:
        message = f"{nonce}|{incident_id}|{bound}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest()[:12])

    def issue(
        self,
        incident_id: str,
        *,
        volunteer_id: str | None,
        channel: str | None,
        language: str,
    ) -> str:
        """A new token bound to the incident and the volunteer (or the group channel)."""
        nonce = _b64(secrets.token_bytes(12))
        bound = volunteer_id or f"group:{channel}"
        token = nonce + self._mac(nonce, incident_id, bound)
        link = self.links[token] = Link(incident_id, volunteer_id, channel, language)
        self._bodies[token] = link.as_dict()
        return token

    def lookup(self, token: str) -> Link | None:
        """The link of a genuine, known token; None otherwise."""
        if not TOKEN.match(token):
            return None
        link = self.links.get(token)
        if link is None:
            return None
        bound = link.volunteer_id or f"group:{link.channel}"
        expected = self._mac(token[:16], link.incident_id, bound)
        if not hmac.compare_digest(expected, token[16:]):
            return None  # pragma: no cover - a store edited by hand
        return link

    def purge(self, active_incidents: set[str]) -> bool:
        """Forget the tokens of incidents that ended; True if any were."""
        ended = [
            token
            for token, link in self.links.items()
            if link.incident_id not in active_incidents
        ]
        for token in ended:
            del self.links[token]
            del self._bodies[token]
        return bool(ended)
