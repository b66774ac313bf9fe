"""Hub runtime, paging: one escalation step's pushes, through each volunteer's channels.

Who is paged at a step is ``core/hub/triage.py``'s decision and the texts are
``core/hub/pushes.py``'s; this part sends them through the volunteer's ordered
channels (a notify service or one of the hub's own channels), logs every
attempt on the incident, tries the next channel at once after a failure and
after the channel wait without an accept.
"""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any

from homeassistant.const import STATE_ON
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core.hub import escalation
from ..core.hub.actions import paged_people
from ..core.hub.people import HouseholdRecord, Volunteer
from ..core.hub.pushes import (
    group_text,
    informational_payload,
    page_payload,
    personal_text,
    resolved_payload,
    sms_params,
)
from ..core.hub.records import HubIncident
from ..core.hub.triage import Page, plan_step
from .base import HubBase
from .channels import (
    CONF_PUBLIC_URL,
    TYPE_SMS,
    ChannelMessage,
    Outcome,
    channel_ref,
    mainland_mobile,
)
from .links import LINK_PATH

_LOGGER = logging.getLogger(__name__)


class HubPaging(HubBase):
    """Pushes to volunteers and the duty desk."""

    def on_duty(self, volunteer: Volunteer) -> bool:
        """On duty: active and, if a schedule entity is set, that schedule is on."""
        if not volunteer.active:
            return False
        if volunteer.schedule is None:
            return True
        state = self.hass.states.get(volunteer.schedule)
        return state is not None and state.state == STATE_ON

    async def _async_page(
        self, incident: HubIncident, step: int, now: datetime
    ) -> None:
        """Run one escalation step: page recipients, inform the desk, schedule the next."""
        household = self.ledger.households.get(incident.household_id)
        self.incidents.touch(incident)
        if household is None:
            escalation.stop(incident)
            return
        page = plan_step(
            incident.colour,
            step,
            household,
            self.ledger.volunteers,
            self.on_duty,
            self.policy,
        )
        escalation.begin_step(incident, step, page, now)
        if page is not None:
            await self._async_send_page(incident, household, page)
        await self.async_save()
        self._arm()

    async def _async_send_page(
        self, incident: HubIncident, household: HouseholdRecord, page: Page
    ) -> None:
        """The step's pages, then the informational pushes (the duty desk)."""
        tz = dt_util.get_time_zone(self.hass.config.time_zone)
        for volunteer_id in page.recipients:
            volunteer = self.ledger.volunteers[volunteer_id]
            payload = page_payload(
                incident,
                household,
                language=volunteer.language,
                critical=page.critical,
                call_120=page.call_120,
                volunteer_id=volunteer_id,
                tz=tz,
            )
            await self._async_send(incident, volunteer, payload, f"page:{page.step}")
        for volunteer_id in page.informational:
            volunteer = self.ledger.volunteers[volunteer_id]
            payload = informational_payload(
                incident, household, language=volunteer.language, tz=tz
            )
            await self._async_send(incident, volunteer, payload, "inform")

    async def _async_send(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        start: int = 0,
    ) -> bool:
        """Try the volunteer's channels in order from ``start``; log every attempt.

        A failed send tries the next channel at once. After a page was sent
        through a channel that is not the volunteer's last, the channel wait
        starts: no accept by then pages the next channel.
        """
        self.incidents.touch(incident)
        for index, target in enumerate(volunteer.notify[start:], start):
            now = dt_util.utcnow()
            if channel_ref(target) is None:
                detail, failure = await self._async_send_notify(
                    incident, volunteer, payload, what, target
                )
            else:
                detail, failure = await self._async_send_own(
                    incident, volunteer, payload, what, target
                )
            if failure:
                incident.add_log(now, "send_failed", volunteer.id, detail)
                continue
            incident.add_log(now, "sent", volunteer.id, detail)
            if what.startswith("page") and index + 1 < len(volunteer.notify):
                self._start_channel_wait(incident, volunteer, payload, what, index + 1)
            return True
        incident.add_log(dt_util.utcnow(), "unreachable", volunteer.id, what)
        return False

    async def _async_send_notify(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        service: str,
    ) -> tuple[str, bool]:
        """Send through a notify service: (what the log says, failed)."""
        data, token = self._with_link(incident, volunteer, payload, what, service)
        try:
            await self.hass.services.async_call("notify", service, data, blocking=True)
        except (HomeAssistantError, ValueError) as err:
            _LOGGER.warning(
                "Push to %s via notify.%s failed: %s", volunteer.id, service, err
            )
            return f"{what} notify.{service}: {err}", True
        finally:
            if token:
                # On disk right after the page left (not before: the page is
                # not held up), so a hub that stops does not void its link.
                await self.links.async_save()
        return f"{what} notify.{service}", False

    async def _async_send_own(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        target: str,
    ) -> tuple[str, bool]:
        """Send through one of the hub's channels: (what the log says, failed)."""
        outcome = await self._async_send_channel(
            incident, volunteer, payload, what, target
        )
        if not outcome.ok:
            # The outcome is a code and the provider's words: no key, no URL.
            _LOGGER.warning(
                "Page to %s via %s failed: %s", volunteer.id, target, outcome
            )
        return f"{what} {target}: {outcome}", not outcome.ok

    def public_url(self) -> str | None:
        """Where accept links point: the option, else Home Assistant's external URL."""
        if configured := self.options.get(CONF_PUBLIC_URL):
            return str(configured).rstrip("/")
        try:
            return get_url(
                self.hass, allow_internal=False, allow_ip=True, prefer_external=True
            ).rstrip("/")
        except NoURLAvailableError:
            return None

    def _link(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        what: str,
        *,
        group: str | None = None,
    ) -> tuple[str | None, str]:
        """(link, token) for a page; (None, "") without a public URL or for other pushes."""
        if not what.startswith("page") or not incident.active:
            return None, ""
        base = self.public_url()
        if base is None:
            return None, ""
        token = self.links.issue(
            incident.id,
            volunteer_id=None if group else volunteer.id,
            channel=group,
            language=(
                self.channels[group].language
                if group in self.channels
                else volunteer.language
            ),
        )
        return f"{base}{LINK_PATH}/{token}", token

    def _with_link(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        service: str,
    ) -> tuple[dict[str, Any], str]:
        """A page with its accept link (tapping the app's notification opens it), the token."""
        link, token = self._link(incident, volunteer, what)
        if link is None:
            return payload, ""
        if service.startswith("mobile_app_"):
            data = {**payload.get("data", {}), "url": link, "clickAction": link}
            return {**payload, "data": data}, token
        return {
            **payload,
            "message": personal_text(
                {"message": payload.get("message")},
                language=volunteer.language,
                link=link,
            ),
        }, token

    async def _async_send_channel(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        target: str,
    ) -> Outcome:
        """Send through one of the hub's channels; the outcome is the provider's answer."""
        channel = self.channels.get(target)
        if channel is None:
            return Outcome(False, "not_configured")
        if channel.group and not what.startswith("page"):
            # Groups hear of pages only: the rest is for the person's own channels.
            return Outcome(False, "group_pages_only")
        link, token = self._link(
            incident, volunteer, what, group=target if channel.group else None
        )
        if channel.type == TYPE_SMS and not token:
            return Outcome(False, "no_public_url")
        if token:
            await self.links.async_save()
        message = ChannelMessage(
            personal_text=personal_text(
                payload, language=volunteer.language, link=link
            ),
            group_text=group_text(
                incident,
                language=channel.language,
                area=channel.neighbourhood,
                link=link,
            ),
            mobile=mainland_mobile(volunteer.phone),
            template_params=sms_params(
                incident,
                language=volunteer.language,
                area=channel.neighbourhood,
                token=token,
            ),
        )
        return await channel.async_send(async_get_clientsession(self.hass), message)

    def _start_channel_wait(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        next_index: int,
    ) -> None:
        """No accept within the channel wait (shorter than the tier's): page the next channel."""
        wait = escalation.channel_wait(
            self.channel_wait, incident.next_escalation_at, dt_util.utcnow()
        )
        step = incident.escalation_step
        self._wait_seq += 1
        key = self._wait_seq

        @callback
        def _expired(_now: datetime) -> None:
            self._channel_waits.pop(key, None)
            if not escalation.next_channel_wanted(incident, step):
                return
            self.entry.async_create_task(
                self.hass,
                self._async_next_channel(
                    incident, volunteer, payload, what, next_index
                ),
                f"{DOMAIN}_channel_wait",
            )

        self._channel_waits[key] = async_call_later(
            self.hass, wait.total_seconds(), _expired
        )

    async def _async_next_channel(
        self,
        incident: HubIncident,
        volunteer: Volunteer,
        payload: dict[str, Any],
        what: str,
        next_index: int,
    ) -> None:
        incident.add_log(dt_util.utcnow(), "channel_wait", volunteer.id, what)
        self.incidents.touch(incident)
        await self._async_send(incident, volunteer, payload, what, next_index)
        await self.async_save()

    async def _async_notify_resolved(self, incident: HubIncident) -> None:
        """The paged people's notifications say the incident is resolved."""
        household = self.ledger.households.get(incident.household_id)
        if household is None:
            return
        for volunteer in paged_people(incident, self.ledger.volunteers):
            await self._async_send(
                incident,
                volunteer,
                resolved_payload(incident, household, language=volunteer.language),
                "resolved",
            )
