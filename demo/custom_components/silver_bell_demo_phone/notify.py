"""A pretend phone: a notify service that shows companion-app pushes in Home Assistant.

Configured in the demo hub's configuration.yaml, one per volunteer::

    notify:
      - platform: silver_bell_demo_phone
        name: volunteer_wang          # -> notify.volunteer_wang
        owner: "Wang Fang 王芳"

Each push becomes a persistent notification (the bell in the sidebar) that shows
what the companion app would: title, text, alert level and the action buttons
with their action ids, and a logbook entry. Like a phone, a push with the same
``data.tag`` replaces the earlier notification of that tag, and the message
``clear_notification`` removes it. A button is "tapped" by firing the event the
companion app would send: ``mobile_app_notification_action`` with its ``action``
(Developer tools -> Events, or ``POST /api/events/mobile_app_notification_action``).

For tests and benchmarks (demo/launcher.py, scripts/bench_e2e): when the
environment variable ``SILVER_BELL_DEMO_PHONE_RECORD`` names a file, every push
(and every clear) is also appended to it as one JSON line, written before the
notification is shown: ``wall`` (``time.time()`` when the notify service ran, in
the hub's process), ``service``, ``owner``, ``title``, ``message``, ``tag``,
``clear`` and the ``data`` of the push. Persistent notifications replace each
other by tag, so only this record counts every push reliably.

A phone can be made to fail, as a push the companion app's service refuses:
when ``SILVER_BELL_DEMO_PHONE_FAIL`` names a file that lists the phone's service
name (one per line), each push is recorded with ``"failed": true`` and the
notify service raises HomeAssistantError (the hub then tries the volunteer's
next channel). Delete the file, or the line, and the phone works again.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.components.logbook import async_log_entry
from homeassistant.components.notify import (
    ATTR_DATA,
    ATTR_TITLE,
    PLATFORM_SCHEMA,
    BaseNotificationService,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
import voluptuous as vol

CONF_OWNER = "owner"
CLEAR = "clear_notification"
TAP_HINT = (
    "(To tap a button, fire the event `mobile_app_notification_action` "
    "with `action: <id>` in Developer tools → Events.)"
)

PLATFORM_SCHEMA = PLATFORM_SCHEMA.extend({vol.Required(CONF_OWNER): cv.string})
RECORD_ENV = "SILVER_BELL_DEMO_PHONE_RECORD"
FAIL_ENV = "SILVER_BELL_DEMO_PHONE_FAIL"


def failing(service: str) -> bool:
    """Whether this phone is switched to fail (its name is in the FAIL_ENV file)."""
    path = os.environ.get(FAIL_ENV)
    if not path:
        return False
    try:
        with open(path, encoding="utf-8") as file:
            return service in {line.strip() for line in file}
    except OSError:
        return False


def record(entry: dict[str, Any]) -> None:
    """Append one push to the machine-readable record (if one is asked for).

    A few hundred bytes with O_APPEND: one write per line, so lines of several
    phones never interleave, and a killed Home Assistant loses at most the push
    it was sending.
    """
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


async def async_get_service(
    hass: HomeAssistant,
    config: ConfigType,
    discovery_info: DiscoveryInfoType | None = None,
) -> DemoPhone:
    """One phone per configured volunteer."""
    return DemoPhone(config[CONF_OWNER])


def notification_id(service: str, tag: str) -> str:
    """The persistent notification that stands for a tagged push on this phone."""
    return f"{service}:{tag}"


def alert_level(data: dict[str, Any]) -> str:
    """How the phone would ring (iOS interruption level, Android channel)."""
    push = data.get("push") if isinstance(data.get("push"), dict) else {}
    level = str(push.get("interruption-level", "active"))
    channel = data.get("channel")
    if level == "critical":
        return f"critical alert: rings through silent mode (iOS critical sound, Android channel {channel})"
    return f"{level} (Android channel {channel})" if channel else level


def render(message: str, data: dict[str, Any]) -> str:
    """The notification text: the push's text, how it rings and its buttons."""
    lines = [message, "", f"*{alert_level(data)}*"]
    actions = [item for item in data.get("actions") or [] if isinstance(item, dict)]
    if actions:
        lines += ["", "Buttons:"]
        for action in actions:
            if action.get("action") == "URI":
                lines.append(f"- **{action.get('title')}** → {action.get('uri')}")
            else:
                lines.append(f"- **{action.get('title')}** → `{action.get('action')}`")
        if any(action.get("action") != "URI" for action in actions):
            lines += ["", TAP_HINT]
    if tag := data.get("tag"):
        lines += ["", f"tag `{tag}`"]
    return "\n".join(lines)


class DemoPhone(BaseNotificationService):
    """One volunteer's pretend phone."""

    def __init__(self, owner: str) -> None:
        """Remember whose phone this is."""
        self.owner = owner

    async def async_send_message(self, message: str = "", **kwargs: Any) -> None:
        """Show the push as a persistent notification and a logbook entry."""
        wall = time.time()
        title = str(kwargs.get(ATTR_TITLE) or "")
        data = kwargs.get(ATTR_DATA) or {}
        if not isinstance(data, dict):
            data = {}
        tag = data.get("tag")
        service = self._service_name
        failed = failing(service)
        record(
            {
                "wall": wall,
                "service": service,
                "owner": self.owner,
                "title": title,
                "message": message,
                "tag": tag,
                "clear": message == CLEAR,
                "data": data,
                **({"failed": True} if failed else {}),
            }
        )
        if failed:
            raise HomeAssistantError(f"pretend phone {service} is switched to fail")
        phone = f"📱 {self.owner}"
        if message == CLEAR:
            if tag:
                persistent_notification.async_dismiss(
                    self.hass, notification_id(service, str(tag))
                )
            async_log_entry(
                self.hass, phone, f"notification {tag} cleared", domain="notify"
            )
            return
        persistent_notification.async_create(
            self.hass,
            render(message, data),
            f"{phone} · {title}" if title else phone,
            notification_id(service, str(tag)) if tag else None,
        )
        async_log_entry(
            self.hass,
            phone,
            f"received “{title}”: {message}" if title else f"received: {message}",
            domain="notify",
        )
