"""What the parts of the hub runtime share: its state and the calls between them.

:class:`~.runtime.Hub` is put together from parts, one module each: the
lifecycle, storage and listeners (``runtime.py``, ``saving.py``), the intake
(``intake.py``), paging through pushes and channels (``paging.py``), the
escalation timer (``escalation.py``) and people's actions (``desk_actions.py``).
Each part inherits :class:`HubBase`, which declares (for the type checker only)
the state the runtime sets up and the methods one part calls in another.
Decisions are made in the pure ``core/hub/`` modules; the parts apply them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import CALLBACK_TYPE, HomeAssistant

    from ..core.hub.incidents import HubIncidentBook
    from ..core.hub.ledger import Ledger
    from ..core.hub.people import Volunteer
    from ..core.hub.records import HubIncident
    from ..core.hub.triage import EscalationPolicy
    from .channels import Channel
    from .links import AcceptLinks
    from .view import HubView

EVENT_HUB_INCIDENT = f"{DOMAIN}_hub_incident"


class HubBase:
    """The hub runtime's shared state (set up in ``Hub.__init__``)."""

    hass: HomeAssistant
    entry: ConfigEntry
    entry_id: str
    options: dict[str, Any]
    policy: EscalationPolicy
    ledger: Ledger
    incidents: HubIncidentBook
    heartbeats: dict[str, datetime]
    started_at: datetime
    offline_after: timedelta
    retention: timedelta
    channels: dict[str, Channel]
    channel_wait: timedelta
    links: AcceptLinks
    _first_pages: set[str]
    # Households that may have an open "offline" incident (a superset): only
    # their messages look for one to close (a scan of every open incident).
    _maybe_offline: set[str]
    _channel_waits: dict[int, CALLBACK_TYPE]
    _wait_seq: int
    _timer: CALLBACK_TYPE | None
    _timer_at: datetime | None
    _writes_open: asyncio.Event
    _heartbeats_changed: set[str]

    def _fire(self, incident: HubIncident, action: str) -> None:
        """Announce without personal data (every Home Assistant user can read events)."""
        data = {
            "action": action,
            "incident_id": incident.id,
            "household_id": incident.household_id,
            "kind": incident.kind.value,
            "colour": incident.colour.value,
            "state": incident.state.value,
            "test": incident.test,
        }
        self.hass.bus.async_fire(EVENT_HUB_INCIDENT, data)

    if TYPE_CHECKING:
        # Defined by the parts; declared here so each part can call the others.
        async def async_save(self) -> None: ...  # noqa: D102 (saving.py)
        def refuse_while_held(self) -> None: ...  # noqa: D102 (saving.py)
        def _seen(self, household_id: str, now: datetime) -> None: ...  # saving.py
        def _changed(
            self, household_id: str | None = None, *, batch: bool = False
        ) -> None: ...  # runtime.py
        async def _async_page(
            self, incident: HubIncident, step: int, now: datetime
        ) -> None: ...  # paging.py
        async def _async_send(
            self,
            incident: HubIncident,
            volunteer: Volunteer,
            payload: dict[str, Any],
            what: str,
            start: int = 0,
        ) -> bool: ...  # paging.py
        async def _async_notify_resolved(
            self, incident: HubIncident
        ) -> None: ...  # paging.py
        def _page_if_never_paged(
            self, incident: HubIncident, now: datetime
        ) -> None: ...  # intake.py
        def view(self) -> HubView: ...  # noqa: D102 (runtime.py)
        def _arm(self) -> None: ...  # escalation.py
        def _arm_for(self, incident: HubIncident) -> None: ...  # escalation.py
        def _set_timer(self, moment: datetime | None) -> None: ...  # escalation.py
