"""Forwarding a household's incidents to the community hub: outbox, heartbeat, progress.

Every incident change that must reach the hub is written to the outbox (on disk)
before it is sent; items leave the outbox only after the hub answered 2xx. The
pure queue logic lives in ``outbox.py``, the wire format in ``protocol.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import logging
import math
import random
from typing import TYPE_CHECKING, Any

import aiohttp
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from ..const import (
    DOMAIN,
    HEARTBEAT_INTERVAL_MIN,
    HUB_UNREACHABLE_REPAIR_MIN,
    PROGRESS_POLL_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
)
from ..core.bodies import Progress, heartbeat_body, incident_body, parse_progress
from ..core.household.outbox import Outbox, OutboxItem, Outcome, classify
from ..core.models import Incident
from ..core.protocol import (
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    Pairing,
    encode_body,
    incident_path,
    signed_headers,
    survey_path,
)
from ..storage import silver_bell_store

if TYPE_CHECKING:
    from .runtime import Household

_LOGGER = logging.getLogger(__name__)

ISSUE_UNREACHABLE = "hub_unreachable_{entry_id}"
ISSUE_CLOCK_SKEW = "clock_skew_{entry_id}"
ISSUE_REJECTED = "hub_rejected_{entry_id}"
ISSUE_DEAD_LETTER = "dead_letter_{item_id}"

# 401 answers that mean the secret (or the household itself) is no longer valid:
# only a new pairing code helps, so the household asks for one in a reauth flow.
# A clock-skew 401 is fixed on this machine instead (a repair), and other 401s
# (a replayed nonce, a missing header) are passing or a bug (a repair as well).
REAUTH_ERRORS = frozenset({"bad_signature", "unknown_household"})


class _Response:
    """What the hub answered (status None = no answer at all)."""

    def __init__(
        self, status: int | None, payload: Any = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.payload = payload
        self.retry_after = retry_after

    @property
    def error(self) -> str:
        if self.status is None:
            return "unreachable"
        if isinstance(self.payload, dict) and isinstance(
            self.payload.get("error"), str
        ):
            return f"{self.status} {self.payload['error']}"
        return str(self.status)


class Forwarder:
    """Sends a household's incidents to its hub and mirrors the hub's progress."""

    def __init__(
        self,
        hass: HomeAssistant,
        household: Household,
        pairing: Pairing,
        on_progress: Callable[[Progress], None],
    ) -> None:
        """Set up (nothing is sent before async_start)."""
        self.hass = hass
        self.household = household
        self.pairing = pairing
        self._on_progress = on_progress
        self.outbox = Outbox(jitter=random.random)
        self._store = silver_bell_store(hass, "outbox", household.entry_id)
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None
        self._lock = asyncio.Lock()
        self._failing_since: datetime | None = None
        self.last_contact: datetime | None = None
        self.connected: bool | None = None
        self._stopping = False

    # ----------------------------------------------------------------- life
    async def async_start(self) -> None:
        """Restore the outbox and start sending, heartbeats and polling."""
        data = await self._store.async_load()
        # Jitter: households that lost the hub together do not retry in step.
        self.outbox = Outbox.from_dict(
            data.get("outbox") if data else None, jitter=random.random
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._async_heartbeat_tick,
                timedelta(minutes=HEARTBEAT_INTERVAL_MIN),
            )
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._async_poll_tick,
                timedelta(seconds=PROGRESS_POLL_SECONDS),
            )
        )
        self._kick()
        self._background(self.async_heartbeat(), "heartbeat")

    async def async_stop(self) -> None:
        """Stop timers and write the outbox."""
        self._stopping = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._timer is not None:
            self._timer()
            self._timer = None
        await self._store.async_save(self._as_store())

    def _as_store(self) -> dict[str, Any]:
        return {"outbox": self.outbox.as_dict()}

    def _background(self, coro: Any, name: str, *, eager: bool = False) -> None:
        """Run ``coro`` as a task; ``eager``: at once, up to its first wait."""
        self.household.entry.async_create_task(
            self.hass,
            coro,
            f"{DOMAIN}_{name}_{self.household.entry_id}",
            eager_start=eager,
        )

    def _repair(self, issue_id: str, key: str, **placeholders: str) -> None:
        """Raise (or refresh) a repair issue about this household's hub link."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders={"name": self.household.name, **placeholders},
        )

    @callback
    def retry_dead_letters(self) -> int:
        """Queue every dead letter again (after the cause was fixed); clear their repairs."""
        now = dt_util.utcnow()
        dead = self.outbox.dead_letters
        for item in dead:
            self.outbox.retry_dead(item.id, now)
            ir.async_delete_issue(
                self.hass, DOMAIN, ISSUE_DEAD_LETTER.format(item_id=item.id)
            )
        if dead:
            self._async_send_new()
        return len(dead)

    def queued_seq(self, incident_id: str) -> int:
        """The newest version of the incident in the outbox (pending or dead), or -1."""
        return max(
            (
                item.seq
                for item in (*self.outbox.pending, *self.outbox.dead_letters)
                if item.incident_id == incident_id
            ),
            default=-1,
        )

    def has_pending(self, incident_id: str) -> bool:
        """Whether a version of the incident still waits to be delivered."""
        return any(item.incident_id == incident_id for item in self.outbox.pending)

    # ---------------------------------------------------------------- queue
    @callback
    def enqueue(self, incident: Incident) -> None:
        """Queue the incident's current version, write the outbox and send."""
        item = self.outbox.add(
            incident_id=incident.id,
            seq=incident.seq,
            method="POST",
            path=PATH_INCIDENTS,
            body=incident_body(incident),
            now=dt_util.utcnow(),
        )
        if item is not None:
            self._async_send_new()

    @callback
    def _async_send_new(self) -> None:
        """Send what was just queued now, and write the outbox beside it.

        The attempt starts at once (an eager task: the request is on the wire
        before the rest of the state change is handled - entity updates, the
        household's own store), and it does not wait for the outbox to reach
        the disk: until the hub answered 2xx the item stays in the outbox, which
        is written now and again after the attempt.
        """
        self._background(self.async_pump(), "send", eager=True)
        self._background(self._async_write_outbox(), "outbox")

    async def _async_write_outbox(self) -> None:
        # The outbox as it is when the write starts (a snapshot taken earlier
        # could land after the round's own write and bring back a delivered item).
        await self._store.async_save(self._as_store())

    @callback
    def _kick(self) -> None:
        """Send what is due now (in the background)."""
        if not self._stopping:
            self._background(self.async_pump(), "pump")

    @callback
    def _async_timer(self, _now: datetime) -> None:
        self._timer = None
        self._kick()

    async def async_pump(self) -> None:
        """Send every due item once; re-arm the timer for the next one.

        The outbox is asked again before every attempt (never a list taken once
        for the whole round): while one item is on the wire a newer version of
        another incident may replace that incident's queued "open" version, and
        the replaced version must not go out. Items queued during the round are
        sent in it too, each in its incident's order. The outbox is written
        after the round (if it sent anything), outside the lock.
        """
        async with self._lock:
            tried: set[str] = set()
            while (item := self.outbox.take(dt_util.utcnow(), skip=tried)) is not None:
                tried.add(item.id)
                await self._send_item(item)
            self._arm()
        self.household.async_forwarder_changed()
        # Written after the lock is released: a help call queued meanwhile is
        # sent without waiting for this write (seconds on a slow SD card). The
        # store writes the newest outbox whichever save comes last.
        if tried:
            await self._store.async_save(self._as_store())

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        if (moment := self.outbox.next_due()) is not None and not self._stopping:
            self._timer = async_track_point_in_utc_time(
                self.hass, self._async_timer, max(moment, dt_util.utcnow())
            )

    async def _send_item(self, item: OutboxItem) -> None:
        """One attempt for an item taken from the outbox (in flight until reported)."""
        try:
            response = await self._request(item.method, item.path, item.body)
        except BaseException:
            self.outbox.abandon(item.id)  # cancelled (shutdown): not in flight any more
            raise
        now = dt_util.utcnow()
        outcome = classify(response.status)
        if outcome is Outcome.DELIVERED:
            self.outbox.delivered(item.id)
            self._progress(response.payload)
        elif outcome is Outcome.RETRY:
            if not self.outbox.failed(
                item.id, now, error=response.error, retry_after=response.retry_after
            ):
                _LOGGER.debug(
                    "Not retrying %s: a newer version of incident %s is queued",
                    item.id,
                    item.incident_id,
                )
        else:
            dead = self.outbox.dead(item.id, now, error=response.error)
            _LOGGER.error(
                "The hub refused %s for good (%s); moved to the dead letters",
                dead.id,
                response.error,
            )
            self._repair(
                ISSUE_DEAD_LETTER.format(item_id=dead.id),
                "dead_letter",
                incident_id=dead.incident_id or "-",
                error=response.error,
            )

    # ------------------------------------------------------------- requests
    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> _Response:
        """One signed request; never raises. Updates connectivity and repairs."""
        response = await _signed_request(self.hass, self.pairing, method, path, body)
        self._contact(response)
        return response

    def _contact(self, response: _Response) -> None:
        now = dt_util.utcnow()
        if (
            response.status is not None
            and response.status < 300
            and self.outbox.hurry(now)
        ):
            self._kick()  # the hub is back: the backlog goes now, not after its backoff
        if response.status is not None and response.status < 500:
            self._reached(now)
        else:
            self._unreachable(now, response.error)
        self._answered(response)
        self.household.async_forwarder_changed()

    def _reached(self, now: datetime) -> None:
        """The hub answered (anything below 500): connected, its repair gone."""
        if self.connected is False:  # logged once when lost, once when back
            _LOGGER.info(
                "Community hub %s is reachable again; sending %d queued message(s)",
                self.pairing.url,
                len(self.outbox.pending),
            )
        self.last_contact = now
        self._failing_since = None
        self.connected = True
        ir.async_delete_issue(
            self.hass,
            DOMAIN,
            ISSUE_UNREACHABLE.format(entry_id=self.household.entry_id),
        )

    def _unreachable(self, now: datetime, error: str | None) -> None:
        """No answer (or a 5xx): disconnected; a repair once it lasts."""
        if self.connected is not False:
            _LOGGER.info(
                "Community hub %s is unreachable (%s); incidents are kept and "
                "sent when it answers again",
                self.pairing.url,
                error,
            )
        self.connected = False
        self._failing_since = self._failing_since or now
        if now - self._failing_since >= timedelta(minutes=HUB_UNREACHABLE_REPAIR_MIN):
            self._repair(
                ISSUE_UNREACHABLE.format(entry_id=self.household.entry_id),
                "hub_unreachable",
                url=self.pairing.url,
                pending=str(len(self.outbox.pending)),
            )

    def _answered(self, response: _Response) -> None:
        """Repairs (or a reauth) for what the answer says: clock skew, refusal, OK."""
        entry_id = self.household.entry_id
        skew = (
            isinstance(response.payload, dict)
            and response.payload.get("error") == "clock_skew"
        )
        if skew:
            self._repair(
                ISSUE_CLOCK_SKEW.format(entry_id=entry_id),
                "clock_skew",
                server_time=_format_ts(response.payload.get("server_time")),
            )
        elif response.status == 401 and _error_code(response) in REAUTH_ERRORS:
            ir.async_delete_issue(
                self.hass, DOMAIN, ISSUE_REJECTED.format(entry_id=entry_id)
            )
            if not self._stopping:
                # A no-op while a reauth flow for this entry is in progress.
                self.household.entry.async_start_reauth(self.hass)
        elif response.status == 401:
            self._repair(
                ISSUE_REJECTED.format(entry_id=entry_id),
                "hub_rejected",
                error=response.error,
            )
        elif response.status is not None and response.status < 300:
            for issue in (ISSUE_CLOCK_SKEW, ISSUE_REJECTED):
                ir.async_delete_issue(
                    self.hass, DOMAIN, issue.format(entry_id=entry_id)
                )

    def _progress(self, payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(
            payload.get("progress"), dict
        ):
            return
        try:
            progress = parse_progress(payload["progress"])
        except ValueError as err:
            _LOGGER.warning(
                "Ignoring a malformed progress report from the hub: %s", err
            )
            return
        self._on_progress(progress)

    # ---------------------------------------------------- heartbeat and poll
    @callback
    def _async_heartbeat_tick(self, _now: datetime) -> None:
        self._background(self.async_heartbeat(), "heartbeat")

    @callback
    def _async_poll_tick(self, _now: datetime) -> None:
        self._kick()
        self._background(self.async_poll(), "poll")

    async def async_heartbeat(self) -> bool:
        """Tell the hub this household is alive; True if it answered 2xx."""
        body = heartbeat_body(
            now=dt_util.utcnow(),
            open_incidents=len(self.household.book.active),
            version=None,
        )
        response = await self._request("POST", PATH_HEARTBEAT, body)
        if (
            response.status is not None
            and response.status < 300
            and self.outbox.pending
        ):
            self._kick()
        return response.status is not None and response.status < 300

    async def async_poll(self) -> None:
        """Fetch the hub's progress for every forwarded incident still open."""
        for incident in self.household.book.active:
            if incident.escalated_at is None or self.has_pending(incident.id):
                continue
            response = await self._request("GET", incident_path(incident.id), None)
            if response.status == 200:
                self._progress(response.payload)

    # -------------------------------------------------------------- surveys
    def survey_queued(self, incident_id: str) -> bool:
        """Whether the family's survey answer about the incident is in the outbox.

        Pending or among the dead letters: either way it must not be queued again.
        """
        path = survey_path(incident_id)
        return any(
            item.path == path
            for item in (*self.outbox.pending, *self.outbox.dead_letters)
        )

    @callback
    def enqueue_survey(self, incident_id: str, body: dict[str, Any]) -> None:
        """Queue the family's answer to an incident's survey, write the outbox and send.

        It is an item of no incident (``incident_id`` None), so it waits for no
        incident version and none waits for it. The hub's answer carries the
        incident's progress, which tells the household the survey is answered.
        """
        if self.survey_queued(incident_id):
            return
        self.outbox.add(
            incident_id=None,
            seq=0,
            method="POST",
            path=survey_path(incident_id),
            body=body,
            now=dt_util.utcnow(),
        )
        self._async_send_new()


def _error_code(response: _Response) -> str | None:
    """The ``error`` field of the hub's JSON answer, if any."""
    if isinstance(response.payload, dict) and isinstance(
        response.payload.get("error"), str
    ):
        return str(response.payload["error"])
    return None


def _retry_after(payload: Any, header: str | None) -> float | None:
    """How long the hub asks us to wait: its body's exact ``retry_after``, else the header.

    The header is in whole seconds (rounded up), so a hub that can take the
    request again in 0.2 s says 1 there; its JSON body says 0.2.
    """
    exact = payload.get("retry_after") if isinstance(payload, dict) else None
    if (
        isinstance(exact, int | float)
        and not isinstance(exact, bool)
        and math.isfinite(exact)
    ):
        return max(0.0, float(exact))
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None


def _format_ts(value: Any) -> str:
    if isinstance(value, int | float):
        return dt_util.as_local(dt_util.utc_from_timestamp(value)).isoformat(
            timespec="seconds"
        )
    return "?"


async def _signed_request(
    hass: HomeAssistant,
    pairing: Pairing,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> _Response:
    """One request signed afresh; never raises (status None: the hub was not reached)."""
    raw = b"" if body is None else encode_body(body)
    headers = signed_headers(
        pairing.household_id,
        pairing.secret,
        method,
        path,
        raw,
        now=dt_util.utcnow().timestamp(),
    )
    headers["Content-Type"] = "application/json"
    try:
        async with async_get_clientsession(hass).request(
            method,
            f"{pairing.url}{path}",
            data=raw if body is not None else None,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
        ) as resp:
            try:
                payload = await resp.json(content_type=None)
            except ValueError:
                payload = None
            return _Response(
                resp.status,
                payload,
                _retry_after(payload, resp.headers.get("Retry-After")),
            )
    except (TimeoutError, aiohttp.ClientError) as err:
        _LOGGER.debug("Hub %s unreachable: %s", pairing.url, err)
        return _Response(None)


async def async_test_pairing(hass: HomeAssistant, pairing: Pairing) -> str | None:
    """Send one signed heartbeat; None if the hub accepted it, else a form error key."""
    body = heartbeat_body(now=dt_util.utcnow(), open_incidents=0, version=None)
    response = await _signed_request(hass, pairing, "POST", PATH_HEARTBEAT, body)
    if response.status is not None and response.status < 300:
        return None
    if (
        isinstance(response.payload, dict)
        and response.payload.get("error") == "clock_skew"
    ):
        return "clock_skew"
    if response.status in (401, 403):
        return "rejected"
    return "cannot_connect"


async def async_remove_outbox_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a household's outbox (entry deleted)."""
    await silver_bell_store(hass, "outbox", entry_id).async_remove()
