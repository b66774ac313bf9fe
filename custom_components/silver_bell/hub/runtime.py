"""Hub role: the runtime of a hub config entry — lifecycle, ledger storage, listeners.

Decisions live in the pure modules (``core/protocol.py``, ``core/hub/``); the
runtime :class:`Hub` is put together from parts, one module each (see
``base.py``): this module starts and stops it, loads the ledger and tells the
entities; ``saving.py`` writes changes and holds the writer for a backup;
``intake.py`` takes households' messages; ``paging.py`` sends pushes through
volunteers' channels; ``escalation.py`` keeps the timer; ``desk_actions.py``
applies volunteers' answers and the duty desk's actions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_time_interval
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
    RATE_ALARM_RESERVE,
)
from ..core.hub.figures import Stats
from ..core.hub.ledger import Ledger
from ..core.hub.open_index import IndexedIncidentBook
from ..core.hub.records import paused_gc
from ..core.hub.triage import EscalationPolicy
from ..core.models import TRIAGE, IncidentKind, Triage
from ..core.protocol import NonceCache, RateLimiter
from ..storage import silver_bell_store
from .channels import CONF_CHANNEL_WAIT, DEFAULT_CHANNEL_WAIT_S, Channel, build_channels
from .desk_actions import HubDeskActions
from .escalation import TICK, HubEscalation
from .intake import HubIntake
from .links import AcceptLinks
from .paging import HubPaging
from .repository import Snapshot, SqliteRepository, erase_from_store
from .saving import HubSaving
from .view import HubView

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

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


class Hub(HubSaving, HubIntake, HubPaging, HubEscalation, HubDeskActions):
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
        self.incidents = IndexedIncidentBook(triage=self.triage)
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
        self._maybe_offline: set[str] = set()
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
            self.incidents = IndexedIncidentBook.from_dict(
                {"incidents": snapshot.incidents}, triage=self.triage
            )
        self._known_households = set(self.ledger.households)
        self._maybe_offline = {
            incident.household_id
            for incident in self.incidents.open_incidents()
            if incident.offline
        }
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


async def async_remove_hub_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the hub's stored ledger and incidents (entry deleted)."""
    await silver_bell_store(hass, "hub", entry_id).async_remove()
    await silver_bell_store(hass, STORE_KEPT_AS, entry_id).async_remove()
    path = database_path(hass, entry_id)

    def remove() -> None:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    await hass.async_add_executor_job(remove)
