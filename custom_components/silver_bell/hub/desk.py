"""The duty desk (issue 21): websocket commands and the sidebar panel of the hub.

The desk is, with the pushes to the assigned people, the only place personal data
(names, addresses, phones) is shown (ARCHITECTURE.md, Decisions → Hub). Every
command checks the user: Home Assistant administrators and the users the hub's
options name as duty staff (``duty_staff``). Anybody else gets ``unauthorized``
and no data. Actions are written to the incident's log with the staff user's name.

Commands (registered once in ``async_setup``; each looks up the loaded hub):

* ``silver_bell/desk/incidents``: the desk's data once (open incidents, problems,
  who is on duty, the 30-day statistics and the month view of the last 12 months);
* ``silver_bell/desk/subscribe``: the same data now and after every change of the hub;
* ``silver_bell/desk/acknowledge``: the desk takes the incident (escalation stops);
* ``silver_bell/desk/resolve``: close it with a resolution code and an optional note;
* ``silver_bell/desk/page_again``: page the current tier again, or one more volunteer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.components import frontend, websocket_api
from homeassistant.components.websocket_api.const import ERR_UNAUTHORIZED
from homeassistant.components.websocket_api.decorators import (
    async_response,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..compat import async_register_static_path, runtime_of
from ..const import (
    ACK_TARGET_SECONDS,
    CONF_DUTY_STAFF,
    CONF_ROLE,
    DESK_ELEMENT,
    DESK_PANEL_URL,
    DESK_STATIC_URL,
    DOMAIN,
    ROLE_HUB,
)
from ..core.hub.people import HouseholdRecord, Volunteer, tel_uri
from ..core.hub.pushes import detail_message
from ..core.hub.records import (
    RESOLUTION_CODES,
    SEND_EVENTS,
    HubIncident,
    HubIncidentError,
    send_purpose,
)
from ..core.messages import language_for
from ..core.models import IncidentKind, Triage
from .runtime import Hub

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.components.websocket_api.connection import ActiveConnection

_LOGGER = logging.getLogger(__name__)

FRONTEND_DIR = Path(__file__).parent.parent / "frontend"
DESK_LANGUAGES = ("en", "zh-Hans")
DATA_SUBSCRIPTIONS = f"{DOMAIN}_desk_subscriptions"
COLOUR_ORDER = {Triage.RED: 0, Triage.ORANGE: 1, Triage.YELLOW: 2}
NOTE_MAX_CHARS = 500

WS_INCIDENTS = f"{DOMAIN}/desk/incidents"
WS_SUBSCRIBE = f"{DOMAIN}/desk/subscribe"
WS_ACKNOWLEDGE = f"{DOMAIN}/desk/acknowledge"
WS_RESOLVE = f"{DOMAIN}/desk/resolve"
WS_PAGE_AGAIN = f"{DOMAIN}/desk/page_again"

ERR_NO_HUB = "no_hub"
ERR_UNKNOWN_INCIDENT = "unknown_incident"
ERR_INCIDENT_CLOSED = "incident_closed"
ERR_UNKNOWN_VOLUNTEER = "unknown_volunteer"

_LANGUAGE = vol.Optional("language", default="en")


# ---------------------------------------------------------------- access


def loaded_hub(hass: HomeAssistant) -> Hub | None:
    """The runtime of the loaded hub entry, if there is one."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_ROLE) == ROLE_HUB and (hub := runtime_of(entry, Hub)):
            return hub
    return None


def may_use_desk(hub: Hub | None, user: User | None) -> bool:
    """Administrators, and the users the hub's options name as duty staff."""
    if user is None or not user.is_active:
        return False
    if user.is_admin:
        return True
    return hub is not None and user.id in (hub.options.get(CONF_DUTY_STAFF) or [])


def actor_name(user: User) -> str:
    """How a staff user appears in an incident's log."""
    return user.name or user.id


def _checked(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> Hub | None:
    """The hub if this user may use the desk; else an error is sent and None returned."""
    hub = loaded_hub(hass)
    if not may_use_desk(hub, connection.user):
        connection.send_error(
            msg["id"],
            ERR_UNAUTHORIZED,
            "Only administrators and duty staff may use the duty desk.",
        )
        return None
    if hub is None:
        connection.send_error(msg["id"], ERR_NO_HUB, "No Silver Bell hub is loaded.")
        return None
    return hub


# ------------------------------------------------------------------ data


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _tel(phone: str | None) -> str | None:
    return tel_uri(phone) if phone else None


def _person(
    volunteers: Mapping[str, Volunteer], actor: str | None
) -> dict[str, Any] | None:
    """Who did something: a volunteer (with a tel: link) or another actor by name."""
    if actor is None:
        return None
    volunteer = volunteers.get(actor)
    return {
        "id": actor,
        "name": volunteer.name if volunteer else actor,
        "tel": _tel(volunteer.phone) if volunteer else None,
        "volunteer": volunteer is not None,
    }


def _pages(
    incident: HubIncident, volunteers: Mapping[str, Volunteer]
) -> list[dict[str, Any]]:
    """Every send attempt logged on the incident: when, to whom, how, with what outcome."""
    pages = []
    for entry in incident.log:
        if entry.event not in SEND_EVENTS:
            continue
        _purpose, _, rest = (entry.detail or "").partition(" ")
        channel, _, error = rest.partition(": ")
        pages.append(
            {
                "at": entry.at.isoformat(),
                "person": _person(volunteers, entry.actor),
                "outcome": entry.event,
                "purpose": send_purpose(entry.detail),
                "channel": channel or None,
                "error": error or None,
            }
        )
    return pages


def _elder(household: HouseholdRecord | None) -> dict[str, Any]:
    """The elder's name, address, phone and emergency contacts (desk staff only)."""
    return {
        "elder_name": household.elder_name if household else None,
        "address": household.address if household else None,
        "phone": household.phone if household else None,
        "tel": _tel(household.phone) if household else None,
        "emergency_contacts": [
            {"name": contact.name, "phone": contact.phone, "tel": _tel(contact.phone)}
            for contact in (household.emergency_contacts if household else [])
        ],
    }


def _incident(
    hub: Hub, incident: HubIncident, language: str, now: datetime
) -> dict[str, Any]:
    """One open incident as the desk shows it (personal data included)."""
    volunteers = hub.ledger.volunteers
    waited = (
        incident.acknowledged_at if incident.acknowledged_at is not None else now
    ) - incident.created_at
    accepted_in = None if incident.acknowledged_at is None else waited.total_seconds()
    return {
        "id": incident.id,
        "household_id": incident.household_id,
        "kind": "offline" if incident.offline else incident.kind.value,
        "colour": incident.colour.value,
        "state": incident.state.value,
        "test": incident.test,
        "created_at": incident.created_at.isoformat(),
        "raised_at": _iso(incident.raised_at),
        "age_s": max((now - incident.created_at).total_seconds(), 0.0),
        **_elder(hub.ledger.households.get(incident.household_id)),
        "reported": detail_message(incident, language),
        "details": dict(incident.details),
        "pages": _pages(incident, volunteers),
        "accepted": _person(volunteers, incident.acknowledged_by),
        "accepted_at": _iso(incident.acknowledged_at),
        "time_to_accept_s": accepted_in,
        "waiting_s": None if accepted_in is not None else waited.total_seconds(),
        "within_target": (
            None if accepted_in is None else accepted_in <= ACK_TARGET_SECONDS
        ),
        "escalation_step": incident.escalation_step,
        "next_escalation_at": _iso(incident.next_escalation_at),
        "timeline": [
            {
                "at": entry.at.isoformat(),
                "event": entry.event,
                "actor": _person(volunteers, entry.actor),
                "detail": entry.detail,
            }
            for entry in incident.log
        ],
    }


def _problems(hub: Hub, language: str) -> list[dict[str, Any]]:
    """Households offline or with a sensor fault (revoked ones left out)."""
    problems = []
    for household_id, household in hub.ledger.households.items():
        if household.revoked:
            continue
        faults = [
            item
            for item in hub.view().active_by_household.get(household_id, [])
            if item.kind is IncidentKind.SENSOR_FAULT
        ]
        if hub.household_status(household_id) == "offline" or faults:
            problems.append(
                {
                    "household_id": household_id,
                    "elder_name": household.elder_name,
                    "offline": hub.household_status(household_id) == "offline",
                    "last_seen": _iso(hub.heartbeats.get(household_id)),
                    "faults": [detail_message(item, language) for item in faults],
                }
            )
    return problems


def desk_data(hub: Hub, language: str | None = None) -> dict[str, Any]:
    """Everything the desk shows: open incidents (red first, oldest first) and more."""
    lang = language_for(language)
    now = dt_util.utcnow()
    active = sorted(
        hub.incidents.active,
        key=lambda item: (COLOUR_ORDER.get(item.colour, 9), item.created_at),
    )
    stats = hub.statistics()
    return {
        "now": now.isoformat(),
        "ack_target_s": ACK_TARGET_SECONDS,
        "incidents": [_incident(hub, item, lang, now) for item in active],
        "problems": _problems(hub, lang),
        "on_duty": [
            {
                "id": volunteer.id,
                "name": volunteer.name,
                "role": volunteer.role.value,
                "tel": _tel(volunteer.phone),
            }
            for volunteer in hub.ledger.volunteers.values()
            if hub.on_duty(volunteer)
        ],
        "volunteers": [
            {"id": volunteer.id, "name": volunteer.name, "role": volunteer.role.value}
            for volunteer in hub.ledger.volunteers.values()
            if volunteer.active
        ],
        "statistics": {
            "open": stats.open,
            "today": stats.today,
            "median_ack_seconds": stats.median_ack_seconds,
            "ack_within_target_pct": stats.ack_within_target_pct,
            "window_total": stats.window_total,
            "responded": stats.responded,
        },
        "resolutions": list(RESOLUTION_CODES),
        # The month view: red/orange incidents per calendar month (local time),
        # the last STATS_MONTHS months, oldest first.
        "months": hub.incidents.month_statistics(now, tz=dt_util.as_local(now).tzinfo),
    }


# ------------------------------------------------------------ subscribers


class _Subscription:
    """One desk's live view: the data again after each change of the hub."""

    def __init__(
        self,
        hass: HomeAssistant,
        connection: ActiveConnection,
        msg_id: int,
        language: str,
    ) -> None:
        self.hass = hass
        self.connection = connection
        self.msg_id = msg_id
        self.language = language
        self.hub: Hub | None = None
        self._unlisten: Any = None
        self._pending = False

    @callback
    def bind(self, hub: Hub | None) -> None:
        """Follow ``hub`` (a reloaded or unloaded hub entry: the new one, or none)."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.hub = hub
        if hub is None:
            return
        if not may_use_desk(hub, self.connection.user):
            # Taken off the duty staff while watching: no more data.
            self.close()
            self.connection.subscriptions.pop(self.msg_id, None)
            self.connection.send_error(
                self.msg_id,
                ERR_UNAUTHORIZED,
                "Only administrators and duty staff may use the duty desk.",
            )
            return
        self._unlisten = hub.async_add_listener(self._async_changed)
        self._send()

    @callback
    def _async_changed(self) -> None:
        if not self._pending:  # one message for a burst of changes
            self._pending = True
            self.hass.loop.call_soon(self._send)

    @callback
    def _send(self) -> None:
        self._pending = False
        if self.hub is None or self._unlisten is None:
            return
        self.connection.send_message(
            event_message(self.msg_id, desk_data(self.hub, self.language))
        )

    @callback
    def close(self) -> None:
        """The desk went away (unsubscribed, disconnected or no longer staff)."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.hub = None
        self.hass.data.get(DATA_SUBSCRIPTIONS, set()).discard(self)


@callback
def async_hub_changed(hass: HomeAssistant, hub: Hub | None) -> None:
    """A hub entry was set up (``hub``) or unloaded (None): live desks follow it."""
    for subscription in list(hass.data.get(DATA_SUBSCRIPTIONS, ())):
        subscription.bind(hub)


# --------------------------------------------------------------- commands


@websocket_command({vol.Required("type"): WS_INCIDENTS, _LANGUAGE: str})
@callback
def ws_incidents(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The desk's data once."""
    if (hub := _checked(hass, connection, msg)) is None:
        return
    connection.send_result(msg["id"], desk_data(hub, msg["language"]))


@websocket_command({vol.Required("type"): WS_SUBSCRIBE, _LANGUAGE: str})
@callback
def ws_subscribe(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The desk's data now and after every change, until unsubscribed."""
    if (hub := _checked(hass, connection, msg)) is None:
        return
    subscription = _Subscription(hass, connection, msg["id"], msg["language"])
    hass.data.setdefault(DATA_SUBSCRIPTIONS, set()).add(subscription)
    connection.subscriptions[msg["id"]] = subscription.close
    connection.send_result(msg["id"])
    subscription.bind(hub)


def _incident_or_error(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> HubIncident | None:
    incident = hub.incidents.get_or_none(msg["incident_id"])
    if incident is None:
        connection.send_error(msg["id"], ERR_UNKNOWN_INCIDENT, "No such incident.")
        return None
    if not incident.active:
        connection.send_error(
            msg["id"], ERR_INCIDENT_CLOSED, "The incident is already closed."
        )
        return None
    return incident


@websocket_command(
    {vol.Required("type"): WS_ACKNOWLEDGE, vol.Required("incident_id"): str}
)
@async_response
async def ws_acknowledge(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The staff member takes the incident (like a volunteer's Accept)."""
    if (hub := _checked(hass, connection, msg)) is None:
        return
    if (incident := _incident_or_error(hub, connection, msg)) is None:
        return
    assert connection.user is not None  # checked above
    taken = await hub.async_desk_accept(incident.id, actor_name(connection.user))
    connection.send_result(
        msg["id"],
        {"accepted": taken, "accepted_by": incident.acknowledged_by},
    )


@websocket_command(
    {
        vol.Required("type"): WS_RESOLVE,
        vol.Required("incident_id"): str,
        vol.Required("resolution"): vol.In(RESOLUTION_CODES),
        vol.Optional("note"): vol.All(str, vol.Length(max=NOTE_MAX_CHARS)),
    }
)
@async_response
async def ws_resolve(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Close the incident with a resolution code; the note goes to its log."""
    if (hub := _checked(hass, connection, msg)) is None:
        return
    if (incident := _incident_or_error(hub, connection, msg)) is None:
        return
    assert connection.user is not None  # checked above
    actor = actor_name(connection.user)
    if note := (msg.get("note") or "").strip():
        await hub.async_desk_note(incident.id, actor, note)
    await hub.async_resolve(incident.id, actor, msg["resolution"])
    connection.send_result(
        msg["id"], {"state": incident.state.value, "resolution": incident.resolution}
    )


@websocket_command(
    {
        vol.Required("type"): WS_PAGE_AGAIN,
        vol.Required("incident_id"): str,
        vol.Optional("volunteer_id"): str,
    }
)
@async_response
async def ws_page_again(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Page the current tier again, or page another volunteer."""
    if (hub := _checked(hass, connection, msg)) is None:
        return
    if (incident := _incident_or_error(hub, connection, msg)) is None:
        return
    assert connection.user is not None  # checked above
    try:
        await hub.async_desk_page_again(
            incident.id, actor_name(connection.user), msg.get("volunteer_id")
        )
    except HubIncidentError as err:
        connection.send_error(msg["id"], err.code, str(err))
        return
    connection.send_result(msg["id"], {"pages": len(incident.log_pages())})


# ------------------------------------------------------------------ set-up


async def async_setup_desk(hass: HomeAssistant) -> None:
    """Register the commands and the panel's static files (once per Home Assistant)."""
    for command in (
        ws_incidents,
        ws_subscribe,
        ws_acknowledge,
        ws_resolve,
        ws_page_again,
    ):
        websocket_api.async_register_command(hass, command)
    await async_register_static_path(hass, DESK_STATIC_URL, str(FRONTEND_DIR))


def _catalogue(language: str) -> dict[str, str]:
    path = FRONTEND_DIR / f"desk.{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panel_title(language: str | None) -> str:
    """The sidebar title in the server's language, from the panel's catalogue."""
    return _catalogue(language_for(language))["title"]


async def async_register_panel(hass: HomeAssistant) -> None:
    """Add the "Duty desk" sidebar panel (hub entry set up)."""
    title = await hass.async_add_executor_job(panel_title, hass.config.language)
    frontend.async_register_built_in_panel(
        hass,
        component_name="custom",
        sidebar_title=title,
        sidebar_icon="mdi:account-tie-voice",
        frontend_url_path=DESK_PANEL_URL,
        config={
            "_panel_custom": {
                "name": DESK_ELEMENT,
                "module_url": f"{DESK_STATIC_URL}/desk.js",
                "embed_iframe": False,
                "trust_external": False,
            }
        },
        require_admin=False,
        update=True,
    )


@callback
def async_remove_panel(hass: HomeAssistant) -> None:
    """Remove the sidebar panel (hub entry unloaded)."""
    frontend.async_remove_panel(hass, DESK_PANEL_URL)
