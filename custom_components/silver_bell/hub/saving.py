"""Hub runtime, storage: write what changed (group commit), hold the writer for a backup.

The ledger lives in SQLite (``repository.py``): the domain objects in memory
are the read model, and each save writes only the records changed since the
last one, in one transaction in the executor (one writer at a time).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later

from ..core.protocol import Rejection
from .base import HubBase
from .repository import Changes, IncidentRow

if TYPE_CHECKING:
    from .repository import SqliteRepository
    from .view import HubView

_LOGGER = logging.getLogger(__name__)

# While a backup holds the writer, households are asked to come back this much later.
BACKUP_RETRY_AFTER_S = 30
# A backup that never says it is done does not hold the writer longer than this.
BACKUP_HOLD_MAX = timedelta(minutes=30)


class HubSaving(HubBase):
    """Saves of the hub runtime (one writer; saves wait while a backup holds it)."""

    _repo: SqliteRepository | None
    _save_lock: asyncio.Lock
    _writing: asyncio.Future[None] | None
    _changes: int
    _saved: int
    _view: HubView | None
    _hold_timeout: CALLBACK_TYPE | None

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
