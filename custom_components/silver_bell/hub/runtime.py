"""Hub role: intake, ledger, triage, dispatch to volunteers, escalation, statistics.

Decisions live in the pure modules (``protocol.py``, ``ledger.py``,
``core/hub/incidents.py``, ``triage.py``, ``pushes.py``); this module persists, keeps
time, calls notify services and listens for the volunteers' answers.

The ledger lives in SQLite (``repository.py``): the domain objects in memory
are the read model, and each save writes only the records changed since the
last one, in one transaction in the executor (one writer at a time).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import cached_property
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_ON
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_COLOUR_PREFIX,
    CONF_DUTY_STAFF,
    CONF_HOUSEHOLD_ENTITIES,
    CONF_OFFLINE_AFTER_MIN,
    CONF_ORANGE_ESCALATE_MIN,
    CONF_RATE_BURST,
    CONF_RATE_PER_MIN,
    CONF_RED_REPEAT_MIN,
    CONF_RED_TIER2_MIN,
    CONF_RED_TIER3_MIN,
    CONF_RETENTION_DAYS,
    DEFAULT_HOUSEHOLD_ENTITIES,
    DEFAULT_OFFLINE_AFTER_MIN,
    DEFAULT_ORANGE_ESCALATE_MIN,
    DEFAULT_RATE_BURST,
    DEFAULT_RATE_PER_MIN,
    DEFAULT_RED_REPEAT_MIN,
    DEFAULT_RED_TIER2_MIN,
    DEFAULT_RED_TIER3_MIN,
    DEFAULT_RETENTION_DAYS,
    DOMAIN,
    EVENT_NOTIFICATION_ACTION,
    OFFLINE_STARTUP_GRACE_MIN,
    RATE_ALARM_RESERVE,
)
from ..core.bodies import Heartbeat, IncidentMessage, Progress, SurveyAnswer
from ..core.hub.figures import Stats
from ..core.hub.incidents import HubIncidentBook
from ..core.hub.ledger import Ledger
from ..core.hub.people import Volunteer
from ..core.hub.pushes import (
    ACTION_ACCEPT,
    ACTION_ON_THE_WAY,
    ACTION_RESOLVE,
    RESOLUTION_ACTIONS,
    accepted_payload,
    group_text,
    handled_by_payload,
    informational_payload,
    page_payload,
    parse_action,
    personal_text,
    resolution_payload,
    resolved_payload,
    sms_params,
)
from ..core.hub.records import HubIncident, HubIncidentError, paused_gc
from ..core.hub.triage import EscalationPolicy, plan_step
from ..core.models import TRIAGE, IncidentKind, Triage
from ..core.protocol import NonceCache, RateLimiter, Rejection
from ..core.surveys import SurveyFigures, SurveyVia
from ..storage import silver_bell_store
from .channels import (
    CONF_CHANNEL_WAIT,
    CONF_PUBLIC_URL,
    DEFAULT_CHANNEL_WAIT_S,
    TYPE_SMS,
    Channel,
    ChannelMessage,
    Outcome,
    build_channels,
    channel_ref,
    mainland_mobile,
)
from .links import LINK_PATH, AcceptLinks
from .repository import (
    Changes,
    IncidentRow,
    Snapshot,
    SqliteRepository,
    erase_from_store,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

EVENT_HUB_INCIDENT = f"{DOMAIN}_hub_incident"
TICK = timedelta(minutes=1)
# While a backup holds the writer, households are asked to come back this much later.
BACKUP_RETRY_AFTER_S = 30
# A backup that never says it is done does not hold the writer longer than this.
BACKUP_HOLD_MAX = timedelta(minutes=30)
# Where the ledger of releases before the database is kept after its import.
STORE_KEPT_AS = "hub_before_sqlite"


def database_path(hass: HomeAssistant, entry_id: str) -> Path:
    """The hub's ledger database: ``.storage/silver_bell.hub.<entry id>.db``."""
    return Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.hub.{entry_id}.db"))


def colour_key(kind: IncidentKind) -> str:
    """The option holding the triage colour of one incident kind."""
    return f"{CONF_COLOUR_PREFIX}{kind.value}"


def hub_settings(options: dict[str, Any] | Any) -> dict[str, Any]:
    """The hub's options completed with defaults."""
    return {
        **{colour_key(kind): colour.value for kind, colour in TRIAGE.items()},
        CONF_RETENTION_DAYS: DEFAULT_RETENTION_DAYS,
        CONF_RED_TIER2_MIN: DEFAULT_RED_TIER2_MIN,
        CONF_RED_TIER3_MIN: DEFAULT_RED_TIER3_MIN,
        CONF_RED_REPEAT_MIN: DEFAULT_RED_REPEAT_MIN,
        CONF_ORANGE_ESCALATE_MIN: DEFAULT_ORANGE_ESCALATE_MIN,
        CONF_RATE_BURST: DEFAULT_RATE_BURST,
        CONF_RATE_PER_MIN: DEFAULT_RATE_PER_MIN,
        CONF_OFFLINE_AFTER_MIN: DEFAULT_OFFLINE_AFTER_MIN,
        CONF_DUTY_STAFF: [],
        CONF_CHANNEL_WAIT: DEFAULT_CHANNEL_WAIT_S,
        CONF_HOUSEHOLD_ENTITIES: DEFAULT_HOUSEHOLD_ENTITIES,
        **dict(options),
    }


class HubView:
    """The entities' figures as of the last change, each computed on first use.

    A household's entities need only the open incidents by household; the
    statistics (a scan of the last 30 days) are computed only when a hub-wide
    entity, the desk or diagnostics ask, and once per change.
    """

    def __init__(self, incidents: HubIncidentBook) -> None:
        """Bind to the incidents (nothing is computed yet)."""
        self._incidents = incidents
        self._now = dt_util.utcnow()

    @cached_property
    def statistics(self) -> Stats:
        """Open, today, response times (last 30 days)."""
        return self._incidents.statistics(
            self._now, today_start=dt_util.start_of_local_day()
        )

    @cached_property
    def active_by_household(self) -> dict[str, list[HubIncident]]:
        """The active incidents per household, most urgent first."""
        active: dict[str, list[HubIncident]] = {}
        for incident in self._incidents.active:
            active.setdefault(incident.household_id, []).append(incident)
        return active

    @cached_property
    def surveys(self) -> SurveyFigures:
        """Survey figures of the last 30 days."""
        return self._incidents.survey_statistics(self._now)


class Hub:
    """Runtime of the hub config entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Read the settings; nothing runs before async_start."""
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        self.options = dict(entry.options)
        opts = hub_settings(entry.options)
        self.retention = timedelta(days=opts[CONF_RETENTION_DAYS])
        self.household_entities = bool(opts[CONF_HOUSEHOLD_ENTITIES])
        self.offline_after = timedelta(minutes=opts[CONF_OFFLINE_AFTER_MIN])
        self.policy = EscalationPolicy(
            red_tier2_after=timedelta(minutes=opts[CONF_RED_TIER2_MIN]),
            red_tier3_after=timedelta(minutes=opts[CONF_RED_TIER3_MIN]),
            red_repeat=timedelta(minutes=opts[CONF_RED_REPEAT_MIN]),
            orange_escalate_after=timedelta(minutes=opts[CONF_ORANGE_ESCALATE_MIN]),
        )
        self.nonces = NonceCache()
        self.limiter = RateLimiter(
            burst=int(opts[CONF_RATE_BURST]),
            per_minute=float(opts[CONF_RATE_PER_MIN]),
            reserve=RATE_ALARM_RESERVE,
        )
        self.ledger = Ledger()
        self.triage = {kind: Triage(opts[colour_key(kind)]) for kind in IncidentKind}
        self.incidents = HubIncidentBook(triage=self.triage)
        self.heartbeats: dict[str, datetime] = {}
        self.started_at = dt_util.utcnow()
        # The whole-document Store of releases before the database: imported
        # once into the database, then kept aside (see async_start).
        self._store = silver_bell_store(hass, "hub", entry.entry_id)
        self._repo: SqliteRepository | None = None
        self._heartbeats_changed: set[str] = set()
        # Cleared while a backup holds the writer (see async_hold_writes).
        self._writes_open = asyncio.Event()
        self._writes_open.set()
        self._hold_timeout: CALLBACK_TYPE | None = None
        # Listeners per household id (None: hub-wide, told of every change).
        self._listeners: dict[str | None, list[CALLBACK_TYPE]] = {}
        self._view: HubView | None = None
        # Entities to tell at the end of this turn of the event loop (_changed).
        self._tell_all = False
        self._tell_households: set[str] = set()
        self._tell_handle: asyncio.Handle | None = None
        self._save_lock = asyncio.Lock()
        self._writing: asyncio.Future[None] | None = None  # the write under way
        self._changes = 0  # bumped by every save request
        self._saved = 0  # the last change number on disk
        self._ledger_listeners: list[CALLBACK_TYPE] = []
        self._known_households: set[str] = set()  # as the devices were last fitted
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._first_pages: set[str] = set()
        # The hub's own channels (issue 23): robots, SMS; accept links.
        self.channels: dict[str, Channel] = build_channels(entry.options)
        self.channel_wait = timedelta(seconds=float(opts[CONF_CHANNEL_WAIT]))
        self.links = AcceptLinks(hass, entry.entry_id)
        self._channel_waits: dict[int, CALLBACK_TYPE] = {}
        self._wait_seq = 0

    # ---------------------------------------------------------------- life
    async def async_start(self) -> None:
        """Restore the ledger and incidents; re-arm escalations; listen for answers."""
        self._repo = await self.hass.async_add_executor_job(
            SqliteRepository, database_path(self.hass, self.entry_id)
        )
        if not await self.hass.async_add_executor_job(self._repo.initialised):
            await self._async_import_store(self._repo)
        with paused_gc():  # a ledger of years loads in a fraction of the time
            snapshot = await self.hass.async_add_executor_job(self._repo.load)
            self.ledger = Ledger.from_dict(
                {"households": snapshot.households, "volunteers": snapshot.volunteers}
            )
            self.incidents = HubIncidentBook.from_dict(
                {"incidents": snapshot.incidents}, triage=self.triage
            )
        self._known_households = set(self.ledger.households)
        # Switched off in the options: the household devices of earlier runs go.
        self.async_remove_household_devices(keep=self._known_households)
        self.heartbeats = {
            household_id: moment
            for household_id, value in snapshot.heartbeats.items()
            if (moment := dt_util.parse_datetime(value))
        }
        self.started_at = dt_util.utcnow()
        await self.links.async_load()
        # An incident stored just before the hub stopped may not have been paged.
        for incident in self.incidents.active:
            self._page_if_never_paged(incident, self.started_at)
        self._unsubs.append(
            self.hass.bus.async_listen(EVENT_NOTIFICATION_ACTION, self._async_action)
        )
        self._unsubs.append(
            async_track_time_interval(self.hass, self._async_tick, TICK)
        )
        await self._async_run_due(dt_util.utcnow())

    async def _async_import_store(self, repo: SqliteRepository) -> None:
        """First start with the database: import the Store of earlier releases.

        One transaction (all or nothing; an import cut short is done again on
        the next start). The Store is then kept aside under another key, never
        deleted: a downgrade or a question about the import can still read it.
        """
        data = await self._store.async_load()
        snapshot = Snapshot.from_store(data)
        await self.hass.async_add_executor_job(repo.initialise, snapshot)
        if data is None:
            return
        _LOGGER.info(
            "Moved the hub ledger into %s (%d households, %d volunteers,"
            " %d incidents); the previous store is kept as %s",
            repo.path,
            len(snapshot.households),
            len(snapshot.volunteers),
            len(snapshot.incidents),
            f"{DOMAIN}.{STORE_KEPT_AS}.{self.entry_id}",
        )
        await silver_bell_store(self.hass, STORE_KEPT_AS, self.entry_id).async_save(
            data
        )
        await self._store.async_remove()

    async def async_erase_from_kept_store(self, household_id: str) -> bool:
        """Erase one elder from the Store kept aside at the upgrade, if it is there."""
        store = silver_bell_store(self.hass, STORE_KEPT_AS, self.entry_id)
        erased = erase_from_store(await store.async_load(), household_id)
        if erased is None:
            return False
        await store.async_save(erased)
        return True

    async def async_stop(self) -> None:
        """Stop timers and listeners, write everything, close the database."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._set_timer(None)
        if self._tell_handle is not None:
            self._tell_handle.cancel()
            self._tell_handle = None
        for cancel in self._channel_waits.values():
            cancel()
        self._channel_waits.clear()
        self.async_release_writes()
        await self.async_save()
        await self.links.async_save()
        if (repo := self._repo) is not None:
            async with self._save_lock:
                self._repo = None
                await self.hass.async_add_executor_job(repo.close)

    async def async_save(self) -> None:
        """Write what changed in the ledger and incidents now (nothing is lost).

        Returns once everything changed before the call is on disk. Calls that
        arrive while a write is under way share the next write (group commit),
        so a burst of requests costs a few writes, not one each. Each write
        holds only the records changed since the last one (constant cost per
        change, however large the ledger). While a backup holds the writer,
        the write waits for it.
        """
        self._view = None
        self._changes += 1
        wanted = self._changes
        while self._saved < wanted:
            if (writing := self._writing) is not None:
                # A write is under way: it may hold this change or not; either
                # way, every caller waiting for it resumes together when it ends.
                await asyncio.shield(writing)
                continue
            writing = self._writing = self.hass.loop.create_future()
            try:
                async with self._save_lock:
                    await self._writes_open.wait()
                    covered = self._changes
                    taken = self._take_changes()
                    changes = self._as_changes(*taken)
                    if changes and self._repo is not None:
                        try:
                            await self._async_write(changes)
                        except BaseException:
                            self._give_back(*taken)  # written by the next save
                            raise
                    self._saved = covered
            finally:
                self._writing = None
                writing.set_result(None)

    async def _async_write(self, changes: Changes) -> None:
        """One transaction in the executor (the save lock makes it the one writer)."""
        assert self._repo is not None
        await self.hass.async_add_executor_job(self._repo.write, changes)

    def _take_changes(self) -> tuple[set[str], set[str], set[str], set[str]]:
        households, volunteers = self.ledger.take_changes()
        heartbeats, self._heartbeats_changed = self._heartbeats_changed, set()
        return households, volunteers, self.incidents.take_changes(), heartbeats

    def _give_back(
        self,
        households: set[str],
        volunteers: set[str],
        incidents: set[str],
        heartbeats: set[str],
    ) -> None:
        self.ledger.changed_households |= households
        self.ledger.changed_volunteers |= volunteers
        self.incidents.changed |= incidents
        self._heartbeats_changed |= heartbeats

    def _as_changes(
        self,
        households: set[str],
        volunteers: set[str],
        incidents: set[str],
        heartbeats: set[str],
    ) -> Changes:
        """The rows of the changed records, serialised now (in the event loop)."""
        changes = Changes()
        for household_id in households:
            if (household := self.ledger.households.get(household_id)) is None:
                changes.households_removed.add(household_id)
            else:
                changes.households[household_id] = household.as_dict()
        for volunteer_id in volunteers:
            if (volunteer := self.ledger.volunteers.get(volunteer_id)) is None:
                changes.volunteers_removed.add(volunteer_id)
            else:
                changes.volunteers[volunteer_id] = volunteer.as_dict()
        # New incidents keep the order they arrived in (the statistics read the
        # newest end first): one write may hold several.
        for incident_id in sorted(incidents, key=self._arrival):
            if (incident := self.incidents.get_or_none(incident_id)) is None:
                changes.incidents_removed.add(incident_id)
            else:
                changes.incidents[incident_id] = IncidentRow.of(incident.as_dict())
        for household_id in heartbeats:
            if (moment := self.heartbeats.get(household_id)) is None:
                changes.heartbeats_removed.add(household_id)
            else:
                changes.heartbeats[household_id] = moment.isoformat()
        return changes

    def _arrival(self, incident_id: str) -> tuple[str, str]:
        incident = self.incidents.get_or_none(incident_id)
        return (
            "" if incident is None else incident.created_at.isoformat(),
            incident_id,
        )

    def _seen(self, household_id: str, now: datetime) -> None:
        self.heartbeats[household_id] = now
        self._heartbeats_changed.add(household_id)

    # -------------------------------------------------------------- backups
    @property
    def writes_held(self) -> bool:
        """Whether a backup holds the writer (the intake answers 503 meanwhile)."""
        return not self._writes_open.is_set()

    def refuse_while_held(self) -> None:
        """Rejection 503 ``backup_in_progress`` (with Retry-After) during a backup."""
        if self.writes_held:
            raise Rejection(
                503,
                "backup_in_progress",
                "The hub is taking a backup; try again shortly.",
                retry_after=BACKUP_RETRY_AFTER_S,
            )

    async def async_hold_writes(self) -> None:
        """Before a backup: finish the current write, fold the WAL in, hold the writer.

        Until :meth:`async_release_writes`, the database file does not change:
        saves wait (what they hold stays in memory) and the intake answers 503.
        """
        self._writes_open.clear()
        if self._hold_timeout is not None:
            self._hold_timeout()

        @callback
        def _expired(_now: datetime) -> None:
            self._hold_timeout = None
            _LOGGER.warning("A backup held the hub ledger too long; writing again")
            self.async_release_writes()

        self._hold_timeout = async_call_later(
            self.hass, BACKUP_HOLD_MAX.total_seconds(), _expired
        )
        async with self._save_lock:  # a write under way finishes first
            if self._repo is not None:
                await self.hass.async_add_executor_job(self._repo.checkpoint)

    @callback
    def async_release_writes(self) -> None:
        """After a backup: writes go on (held saves run now)."""
        if self._hold_timeout is not None:
            self._hold_timeout()
            self._hold_timeout = None
        self._writes_open.set()

    async def async_checkpoint(self) -> None:
        """Write now and fold the WAL into the main file (after an erase)."""
        await self.async_save()
        async with self._save_lock:
            if self._repo is not None and not self.writes_held:
                await self.hass.async_add_executor_job(self._repo.checkpoint)

    # ------------------------------------------------------------ listeners
    @callback
    def async_add_listener(
        self, update: CALLBACK_TYPE, household_id: str | None = None
    ) -> CALLBACK_TYPE:
        """Call ``update`` when incidents or statistics change.

        With ``household_id``, only for changes of that household (and changes
        of everything); without, for every change.
        """
        listeners = self._listeners.setdefault(household_id, [])
        listeners.append(update)
        return lambda: listeners.remove(update)

    @callback
    def async_add_ledger_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` whenever households are added or removed."""
        self._ledger_listeners.append(update)
        return lambda: self._ledger_listeners.remove(update)

    @callback
    def _changed(self, household_id: str | None = None, *, batch: bool = False) -> None:
        """Tell the entities; ``household_id``: only that household changed.

        ``batch`` (the intake): tell them at the end of this turn of the event
        loop, once for every change of that turn. The requests of one group
        commit resume together, so their households' and the hub's entities
        are written once for all of them (the hub's figures computed once).
        Otherwise (services, the desk, timers) at once, with anything batched.
        """
        self._view = None
        if household_id is None:
            self._tell_all = True
        else:
            self._tell_households.add(household_id)
        if not batch:
            self._tell_listeners()
        elif self._tell_handle is None:
            self._tell_handle = self.hass.loop.call_soon(self._tell_listeners)

    @callback
    def _tell_listeners(self) -> None:
        if self._tell_handle is not None:
            self._tell_handle.cancel()
            self._tell_handle = None
        if self._tell_all:
            groups = list(self._listeners.values())
        else:
            groups = [self._listeners.get(None, [])]
            groups += [
                self._listeners.get(household_id, [])
                for household_id in self._tell_households
            ]
        self._tell_all = False
        self._tell_households = set()
        for update in [update for group in groups for update in group]:
            update()

    def view(self) -> HubView:
        """What the entities show, computed once per change (not once per entity)."""
        if self._view is None:
            self._view = HubView(self.incidents)
        return self._view

    @callback
    def async_remove_household_devices(self, keep: set[str]) -> None:
        """Remove the household devices (and their entities) not in ``keep``."""
        if not self.household_entities:
            keep = set()
        registry = dr.async_get(self.hass)
        known = {(DOMAIN, f"{self.entry_id}_{hid}") for hid in keep}
        for device in dr.async_entries_for_config_entry(registry, self.entry_id):
            if device.via_device_id is not None and not device.identifiers & known:
                registry.async_remove_device(device.id)

    async def async_ledger_changed(self) -> None:
        """Persist the ledger and add/remove household devices.

        A change of one household's record (a rotated secret, an edit) tells
        only that household's entities and the hub's: the cost of a change
        does not grow with the number of households.
        """
        changed = set(self.ledger.changed_households)
        await self.async_save()
        households = set(self.ledger.households)
        if households != self._known_households:
            self._known_households = households
            self.async_remove_household_devices(keep=households)
            for update in list(self._ledger_listeners):
                update()
        if len(changed) == 1:
            self._changed(changed.pop())
        else:
            self._changed()

    # --------------------------------------------------------------- intake
    def secret_for(self, household_id: str) -> str | None:
        """The secret of an active household (None: unknown or revoked)."""
        record = self.ledger.households.get(household_id)
        if record is None or record.revoked or not record.secret:
            return None
        return record.secret

    async def async_receive(
        self, household_id: str, message: IncidentMessage
    ) -> Progress:
        """Apply an incident message (idempotent), persist, dispatch; return progress."""
        self.refuse_while_held()
        now = dt_util.utcnow()
        existing = self.incidents.by_source(message.id)
        if existing is not None and existing.household_id != household_id:
            raise Rejection(
                403, "forbidden", "This incident belongs to another household."
            )
        was_active = existing.active if existing is not None else False
        incident, changed = self.incidents.apply(
            household_id,
            source_id=message.id,
            seq=message.seq,
            kind=message.kind,
            state=message.state,
            test=message.test,
            created_at=message.created_at,
            details=message.details,
            by=message.by,
            note=message.note,
            now=now,
        )
        self._seen(household_id, now)
        # From here on nothing may be lost to a cancelled request: Home Assistant
        # cancels the handler when the household hangs up (its timeout, or a hub
        # that was paused), so the rest runs as a task of its own.
        await asyncio.shield(
            self.entry.async_create_task(
                self.hass,
                self._async_settle(household_id, incident, changed, was_active, now),
                f"{DOMAIN}_receive",
            )
        )
        return self.progress(incident, message.id)

    async def _async_settle(
        self,
        household_id: str,
        incident: HubIncident,
        changed: bool,
        was_active: bool,
        now: datetime,
    ) -> None:
        """Persist, page and announce what an incident message changed."""
        if (back := self.incidents.household_online(household_id, now)) is not None:
            await self._async_notify_resolved(back)
            self._fire(back, "resolved")
        # Page first, write second: the page does not need the disk, and a hub
        # that dies in between is told again by the household's retry (which
        # pages what was never paged). Also for a repeat: an incident stored by
        # an earlier attempt that was cut off before its first page is paged now.
        self._page_if_never_paged(incident, now)
        if changed:
            await self.async_save()
        if changed:
            if was_active and not incident.active:
                # Closed at the household: the paged people's notifications are updated.
                await self._async_notify_resolved(incident)
                self._fire(incident, "resolved")
            else:
                self._fire(incident, "received")
            self._arm_for(incident)
        if changed or back is not None:
            self._changed(household_id, batch=True)

    def _page_if_never_paged(self, incident: HubIncident, now: datetime) -> None:
        """Start the first page of an active incident nobody was paged for yet."""
        if (
            incident.active
            and incident.escalation_step == 0
            and not incident.log_pages()
            and incident.id not in self._first_pages
        ):
            # Answer the household at once; page in the background.
            self._first_pages.add(incident.id)
            self.entry.async_create_task(
                self.hass, self._async_first_page(incident, now), f"{DOMAIN}_page"
            )

    async def _async_first_page(self, incident: HubIncident, now: datetime) -> None:
        try:
            await self._async_page(incident, 0, now)
        finally:
            self._first_pages.discard(incident.id)

    def _own_incident(self, household_id: str, source_id: str) -> HubIncident:
        """The hub incident of a household's own incident id (Rejection 404 / 403)."""
        incident = self.incidents.by_source(source_id)
        if incident is None:
            raise Rejection(404, "not_found", "The hub has no such incident.")
        if incident.household_id != household_id:
            raise Rejection(
                403, "forbidden", "This incident belongs to another household."
            )
        return incident

    def progress_for(self, household_id: str, source_id: str) -> Progress:
        """Progress of a household's own incident (403 for another's, 404 unknown)."""
        return self.progress(self._own_incident(household_id, source_id), source_id)

    def progress(self, incident: HubIncident, source_id: str) -> Progress:
        """What the household is told about its incident."""
        volunteer = self.ledger.volunteers.get(incident.acknowledged_by or "")
        return Progress(
            id=source_id,
            state=incident.state,
            colour=incident.colour.value,
            acknowledged_by=volunteer.name if volunteer else incident.acknowledged_by,
            acknowledged_at=incident.acknowledged_at,
            on_the_way_at=incident.on_the_way_at,
            resolved_at=incident.resolved_at,
            resolution=incident.resolution,
            updated_at=incident.updated_at,
            survey=None if incident.survey is None else incident.survey.state,
        )

    # -------------------------------------------------------------- surveys
    async def async_survey(
        self, household_id: str, source_id: str, answer: SurveyAnswer
    ) -> tuple[HubIncident, Progress]:
        """The family's answer to the survey of a household's incident (idempotent).

        Rejection 404 (unknown incident), 403 (another household's), 409
        ``no_survey`` (not resolved yet, or not surveyed) or ``survey_closed``.
        """
        self.refuse_while_held()
        incident = self._own_incident(household_id, source_id)
        try:
            _, stored = self.incidents.answer_survey(
                incident.id,
                rating=answer.rating,
                comment=answer.comment,
                by=answer.by,
                via=SurveyVia.HOUSEHOLD,
                now=dt_util.utcnow(),
            )
        except HubIncidentError as err:
            if err.code == "survey_closed":
                await self.async_save()  # closed just now: the log says so
                raise Rejection(
                    409,
                    "survey_closed",
                    "The survey closed without an answer after its last day.",
                ) from None
            if err.code == "no_survey":
                raise Rejection(
                    409, "no_survey", "This incident has no survey (yet)."
                ) from None
            raise Rejection(400, "invalid", str(err)) from None  # pragma: no cover
        if stored:
            # Written even if the household hangs up meanwhile (its retry is
            # answered from memory as a repeat, so this write must not be lost).
            await asyncio.shield(
                self.entry.async_create_task(
                    self.hass, self._async_survey_stored(incident), f"{DOMAIN}_survey"
                )
            )
        return incident, self.progress(incident, source_id)

    async def async_record_survey(
        self, incident_id: str, rating: int, comment: str | None, by: str
    ) -> tuple[HubIncident, bool]:
        """Record the family's answer at the hub (a volunteer or the duty desk).

        Returns (incident, stored now); HubIncidentError as ``answer_survey``.
        """
        incident, stored = self.incidents.answer_survey(
            incident_id,
            rating=rating,
            comment=comment,
            by=by,
            via=SurveyVia.HUB,
            now=dt_util.utcnow(),
        )
        if stored:
            await self._async_survey_stored(incident)
        return incident, stored

    async def _async_survey_stored(self, incident: HubIncident) -> None:
        await self.async_save()
        self._fire(incident, "survey_answered")
        self._changed(incident.household_id)

    def survey_statistics(self) -> SurveyFigures:
        """Survey figures of the last 30 days for the sensors (numbers only)."""
        return self.view().surveys

    async def async_heartbeat(self, household_id: str, heartbeat: Heartbeat) -> None:
        """A household is alive: close its offline incident if it had one."""
        now = dt_util.utcnow()
        self._seen(household_id, now)
        if (incident := self.incidents.household_online(household_id, now)) is not None:
            await self.async_save()
            await self._async_notify_resolved(incident)
            self._fire(incident, "resolved")
        self._changed(household_id, batch=True)

    # ------------------------------------------------------------- dispatch
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
            incident.next_escalation_at = None
            return
        page = plan_step(
            incident.colour,
            step,
            household,
            self.ledger.volunteers,
            self.on_duty,
            self.policy,
        )
        incident.escalation_step = step
        incident.next_escalation_at = (
            now + page.next_after if page is not None and page.next_after else None
        )
        if page is not None:
            for volunteer_id in page.recipients:
                volunteer = self.ledger.volunteers[volunteer_id]
                payload = page_payload(
                    incident,
                    household,
                    language=volunteer.language,
                    critical=page.critical,
                    call_120=page.call_120,
                    volunteer_id=volunteer_id,
                    tz=dt_util.get_time_zone(self.hass.config.time_zone),
                )
                await self._async_send(incident, volunteer, payload, f"page:{step}")
            for volunteer_id in page.informational:
                volunteer = self.ledger.volunteers[volunteer_id]
                payload = informational_payload(
                    incident,
                    household,
                    language=volunteer.language,
                    tz=dt_util.get_time_zone(self.hass.config.time_zone),
                )
                await self._async_send(incident, volunteer, payload, "inform")
        await self.async_save()
        self._arm()

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
                service = target
                try:
                    await self.hass.services.async_call(
                        "notify",
                        service,
                        self._with_link(incident, volunteer, payload, what, service),
                        blocking=True,
                    )
                except (HomeAssistantError, ValueError) as err:
                    _LOGGER.warning(
                        "Push to %s via notify.%s failed: %s",
                        volunteer.id,
                        service,
                        err,
                    )
                    incident.add_log(
                        now,
                        "send_failed",
                        volunteer.id,
                        f"{what} notify.{service}: {err}",
                    )
                    continue
                incident.add_log(now, "sent", volunteer.id, f"{what} notify.{service}")
            else:
                outcome = await self._async_send_channel(
                    incident, volunteer, payload, what, target
                )
                if not outcome.ok:
                    # The outcome is a code and the provider's words: no key, no URL.
                    _LOGGER.warning(
                        "Page to %s via %s failed: %s", volunteer.id, target, outcome
                    )
                    incident.add_log(
                        now, "send_failed", volunteer.id, f"{what} {target}: {outcome}"
                    )
                    continue
                incident.add_log(
                    now, "sent", volunteer.id, f"{what} {target}: {outcome}"
                )
            if what.startswith("page") and index + 1 < len(volunteer.notify):
                self._start_channel_wait(incident, volunteer, payload, what, index + 1)
            return True
        incident.add_log(dt_util.utcnow(), "unreachable", volunteer.id, what)
        return False

    # ------------------------------------------------- the hub's own channels
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
    ) -> dict[str, Any]:
        """A page with its accept link: tapping the app's notification opens it."""
        link, _ = self._link(incident, volunteer, what)
        if link is None:
            return payload
        if service.startswith("mobile_app_"):
            data = {**payload.get("data", {}), "url": link, "clickAction": link}
            return {**payload, "data": data}
        return {
            **payload,
            "message": personal_text(
                {"message": payload.get("message")},
                language=volunteer.language,
                link=link,
            ),
        }

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
        wait = self.channel_wait
        if incident.next_escalation_at is not None:
            tier_wait = incident.next_escalation_at - dt_util.utcnow()
            if wait >= tier_wait:
                wait = max(tier_wait / 2, timedelta(seconds=1))
        step = incident.escalation_step
        self._wait_seq += 1
        key = self._wait_seq

        @callback
        def _expired(_now: datetime) -> None:
            self._channel_waits.pop(key, None)
            if (
                not incident.active
                or incident.accepted_by is not None
                or incident.escalation_step != step
            ):
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
        household = self.ledger.households.get(incident.household_id)
        if household is None:
            return
        for volunteer_id in incident.paged_volunteers():
            volunteer = self.ledger.volunteers.get(volunteer_id)
            if volunteer is not None:
                await self._async_send(
                    incident,
                    volunteer,
                    resolved_payload(incident, household, language=volunteer.language),
                    "resolved",
                )

    # ------------------------------------------------------------ escalation
    def _arm(self) -> None:
        """Set the escalation timer to the soonest escalation of any active incident."""
        moments = [
            incident.next_escalation_at
            for incident in self.incidents.open_incidents()
            if incident.next_escalation_at is not None
        ]
        self._set_timer(min(moments) if moments else None)

    def _arm_for(self, incident: HubIncident) -> None:
        """After one incident changed: bring the timer forward if it escalates sooner.

        Constant cost per message (not a scan of every open incident). A timer
        left for an incident that closed or moved later fires, finds nothing
        due and is set again by the full scan (``_async_run_due``).
        """
        moment = incident.next_escalation_at if incident.active else None
        if moment is None or (
            self._timer is not None
            and self._timer_at is not None
            and self._timer_at <= moment
        ):
            return
        self._set_timer(moment)

    def _set_timer(self, moment: datetime | None) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = moment
        if moment is not None:
            self._timer = async_track_point_in_utc_time(
                self.hass, self._async_timer, max(moment, dt_util.utcnow())
            )

    @callback
    def _async_timer(self, _now: datetime) -> None:
        self._timer = None
        self._timer_at = None
        self.entry.async_create_task(
            self.hass, self._async_run_due(dt_util.utcnow()), f"{DOMAIN}_escalate"
        )

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self.entry.async_create_task(
            self.hass, self._async_run_due(dt_util.utcnow()), f"{DOMAIN}_hub_tick"
        )

    async def _async_run_due(self, now: datetime) -> None:
        """Escalate what is due (exactly once each), find offline households, purge."""
        for incident in self.incidents.active:
            due = incident.next_escalation_at
            if due is not None and due <= now and incident.accepted_by is None:
                incident.next_escalation_at = None  # never twice, even if paging fails
                self.incidents.touch(incident)
                await self.async_save()
                await self._async_page(incident, incident.escalation_step + 1, now)
                self._fire(incident, "escalated")
        if now - self.started_at >= timedelta(minutes=OFFLINE_STARTUP_GRACE_MIN):
            for household_id, record in self.ledger.households.items():
                if record.revoked:
                    continue
                seen = self.heartbeats.get(household_id)
                if seen is not None and now - seen >= self.offline_after:
                    incident, opened = self.incidents.household_offline(
                        household_id, now, since=seen
                    )
                    if opened:
                        await self.async_save()
                        await self._async_page(incident, 0, now)
                        self._fire(incident, "received")
        if self.incidents.close_surveys(now):
            await self.async_save()
        if self.incidents.purge(now, self.retention):
            await self.async_save()
        if self.links.purge({incident.id for incident in self.incidents.active}):
            await self.links.async_save()
        self._arm()
        self._changed()

    # ---------------------------------------------------------- volunteers
    @callback
    def _async_action(self, event: Event) -> None:
        parsed = parse_action(str(event.data.get("action", "")))
        if parsed is None:
            return
        self.entry.async_create_task(
            self.hass, self.async_handle_action(*parsed), f"{DOMAIN}_action"
        )

    async def async_handle_action(
        self, action: str, incident_id: str, volunteer_id: str | None
    ) -> None:
        """Accept / on my way / resolve from a volunteer's notification."""
        incident = self.incidents.get_or_none(incident_id)
        volunteer = self.ledger.volunteers.get(volunteer_id or "")
        if incident is None or volunteer is None:
            return
        household = self.ledger.households.get(incident.household_id)
        now = dt_util.utcnow()
        if action == ACTION_ACCEPT:
            if not self.incidents.accept(incident_id, volunteer.id, now):
                return
            incident.next_escalation_at = None
            self.incidents.touch(incident)
            await self.async_save()
            if household is not None:
                await self._async_send(
                    incident,
                    volunteer,
                    accepted_payload(incident, household, language=volunteer.language),
                    "accepted",
                )
                for other_id in incident.paged_volunteers():
                    other = self.ledger.volunteers.get(other_id)
                    if other is not None and other.id != volunteer.id:
                        await self._async_send(
                            incident,
                            other,
                            handled_by_payload(
                                incident,
                                household,
                                volunteer.name,
                                language=other.language,
                            ),
                            "handled_by",
                        )
            self._fire(incident, "accepted")
        elif action == ACTION_ON_THE_WAY:
            self.incidents.on_the_way(incident_id, volunteer.id, now)
            self._fire(incident, "on_the_way")
        elif action == ACTION_RESOLVE:
            if self.incidents.resolve(incident_id, volunteer.id, "unspecified", now):
                await self._async_notify_resolved(incident)
                if household is not None:
                    # Ask the person who closed it what it was (for the statistics).
                    await self._async_send(
                        incident,
                        volunteer,
                        resolution_payload(
                            incident,
                            household,
                            language=volunteer.language,
                            volunteer_id=volunteer.id,
                        ),
                        "resolution",
                    )
                self._fire(incident, "resolved")
        elif action in RESOLUTION_ACTIONS:
            self.incidents.set_resolution(
                incident_id, volunteer.id, RESOLUTION_ACTIONS[action], now
            )
        await self.async_save()
        self._arm()
        self._changed(incident.household_id)

    async def async_link_action(
        self, action: str, incident_id: str, volunteer_id: str, channel: str | None
    ) -> None:
        """Accept / on my way from an accept link (the view checked the token)."""
        incident = self.incidents.get_or_none(incident_id)
        if incident is not None:
            incident.add_log(
                dt_util.utcnow(), "link_used", volunteer_id, f"{action} {channel or ''}"
            )
            self.incidents.touch(incident)
        await self.async_handle_action(action, incident_id, volunteer_id)

    async def async_resolve(
        self, incident_id: str, actor: str, resolution: str
    ) -> HubIncident:
        """Resolve from the duty desk (service)."""
        now = dt_util.utcnow()
        incident = self.incidents.get(incident_id)
        if not self.incidents.resolve(incident_id, actor, resolution, now):
            # Already closed: the desk only corrects the resolution code.
            self.incidents.set_resolution(incident_id, actor, resolution, now)
            await self.async_save()
            self._changed(incident.household_id)
            return incident
        await self._async_notify_resolved(incident)
        await self.async_save()
        self._fire(incident, "resolved")
        self._arm()
        self._changed(incident.household_id)
        return incident

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

    # -------------------------------------------------------------- status
    def household_status(self, household_id: str) -> str:
        """Ok / incident / offline for a household device."""
        seen = self.heartbeats.get(household_id)
        if seen is None or dt_util.utcnow() - seen >= self.offline_after:
            return "offline"
        if self.view().active_by_household.get(household_id):
            return "incident"
        return "ok"

    def statistics(self) -> Stats:
        """Hub-wide statistics for the sensors."""
        return self.view().statistics

    # ------------------------------------------------------------ duty desk
    async def async_desk_accept(self, incident_id: str, actor: str) -> bool:
        """The duty desk takes the incident (``actor``: the staff user's name).

        Like a volunteer's accept: escalation stops and the paged people are told
        who handles it. False if it is closed or a volunteer accepted first.
        HubIncidentError ``unknown_incident``.
        """
        incident = self.incidents.get(incident_id)
        if not self.incidents.accept(incident_id, actor, dt_util.utcnow()):
            return False
        incident.next_escalation_at = None
        self.incidents.touch(incident)
        await self.async_save()
        if (household := self.ledger.households.get(incident.household_id)) is not None:
            for volunteer_id in incident.paged_volunteers():
                if (volunteer := self.ledger.volunteers.get(volunteer_id)) is not None:
                    payload = handled_by_payload(
                        incident, household, actor, language=volunteer.language
                    )
                    await self._async_send(incident, volunteer, payload, "handled_by")
        await self.async_save()
        self._fire(incident, "accepted")
        self._arm()
        self._changed(incident.household_id)
        return True

    async def async_desk_page_again(
        self, incident_id: str, actor: str, volunteer_id: str | None = None
    ) -> HubIncident:
        """Page the current tier again, or page one more volunteer (``volunteer_id``).

        Logged as ``desk_paged`` by ``actor``; each send is logged as usual.
        HubIncidentError ``unknown_incident`` / ``incident_closed`` /
        ``unknown_volunteer``.
        """
        incident = self.incidents.get(incident_id)
        if not incident.active:
            raise HubIncidentError("incident_closed", incident=incident_id)
        household = self.ledger.households.get(incident.household_id)
        volunteer = None
        if volunteer_id:
            volunteer = self.ledger.volunteers.get(volunteer_id)
            if volunteer is None or household is None:
                raise HubIncidentError("unknown_volunteer", volunteer=volunteer_id)
        now = dt_util.utcnow()
        incident.add_log(now, "desk_paged", actor, volunteer_id)
        self.incidents.touch(incident)
        if volunteer is not None and household is not None:
            payload = page_payload(
                incident,
                household,
                language=volunteer.language,
                critical=incident.colour is Triage.RED,
                call_120=incident.colour is Triage.RED,
                volunteer_id=volunteer.id,
                tz=dt_util.get_time_zone(self.hass.config.time_zone),
            )
            await self._async_send(
                incident, volunteer, payload, f"page:{incident.escalation_step}"
            )
            await self.async_save()
        else:
            await self._async_page(incident, incident.escalation_step, now)
        self._changed(incident.household_id)
        return incident

    async def async_desk_note(self, incident_id: str, actor: str, note: str) -> None:
        """Add a note of the duty desk to the incident's log."""
        incident = self.incidents.get(incident_id)
        incident.add_log(dt_util.utcnow(), "desk_note", actor, note)
        self.incidents.touch(incident)
        await self.async_save()
        self._changed(incident.household_id)


async def async_remove_hub_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the hub's stored ledger and incidents (entry deleted)."""
    await silver_bell_store(hass, "hub", entry_id).async_remove()
    await silver_bell_store(hass, STORE_KEPT_AS, entry_id).async_remove()
    path = database_path(hass, entry_id)

    def remove() -> None:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    await hass.async_add_executor_job(remove)
