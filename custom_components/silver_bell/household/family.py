"""Family notifications: one message per family notify target, in its language."""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core import messages
from ..core.household.incidents import Action
from ..core.models import Incident, Triage

_LOGGER = logging.getLogger(__name__)

#: iOS critical alert and Android alarm stream, for a red incident leaving the home.
CRITICAL: dict[str, Any] = {
    "push": {
        "interruption-level": "critical",
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
    },
    "ttl": 0,
    "priority": "high",
    "channel": "alarm_stream",
}


class FamilyNotifier:
    """Tells the family's notify targets what happened to an incident."""

    def __init__(
        self,
        hass: HomeAssistant,
        name: str,
        targets: list[str],
        languages: dict[str, str],
        failed: Callable[[Incident, str], None],
    ) -> None:
        """Send as household ``name``; ``failed`` is told of a target that failed."""
        self.hass = hass
        self.name = name
        self.targets = targets
        self.languages = languages
        self._failed = failed

    def language_of(self, target: str) -> str:
        """The language a family notify target reads (the server's unless chosen)."""
        return self.languages.get(target) or self.hass.config.language

    def payload(
        self, action: Action, incident: Incident, language: str, by: str
    ) -> dict[str, Any]:
        """The notify service data of one message (``by``: who made the change)."""
        data: dict[str, Any] = {"tag": f"silver_bell_{incident.id}", "group": DOMAIN}
        if (
            incident.colour is Triage.RED
            and not incident.test
            and action is Action.ESCALATED
        ):
            data.update(CRITICAL)
        return {
            "title": messages.title(language),
            "message": messages.incident_text(
                Action.OPENED if action is Action.ESCALATED else action,
                incident,
                self.name,
                language,
                by,
                messages.details_text(incident, language, dt_util.utcnow()),
            ),
            "data": data,
        }

    async def async_notify(self, action: Action, incident: Incident) -> None:
        """Send one message to each target; failures are logged on the incident."""
        # Who made the change, as it was when the change was made.
        by = incident.audit[-1].by
        for target in self.targets:
            payload = self.payload(action, incident, self.language_of(target), by)
            service = target.removeprefix("notify.")
            try:
                await self.hass.services.async_call(
                    "notify", service, payload, blocking=True
                )
            except (HomeAssistantError, ValueError) as err:
                _LOGGER.warning(
                    "Could not notify %s about %s: %s", service, incident.id, err
                )
                self._failed(incident, service)
