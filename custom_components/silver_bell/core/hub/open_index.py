"""The incident book with its active incidents indexed by household.

Pure logic (no Home Assistant import). Every incident message asks the book
for the household's open incident of the same kind (the merge target) and the
hub asks whether the household had an "offline" incident to close: answered
from the whole list of active incidents, that is a scan of every open incident
of every household per message, the largest part of the hub's own work per
request at a few hundred open incidents (issue 18). Here they read only the
household's own active incidents, with the same answers in the same order.

Incidents never become active again once closed, and they enter the book's
active set only when added (``_add``), so the index follows the book by
indexing what is added active and dropping what it finds closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..models import TRIAGE, IncidentKind, Triage
from .incidents import HubIncidentBook
from .records import HubIncident


class IndexedIncidentBook(HubIncidentBook):
    """:class:`HubIncidentBook` whose per-household questions cost per household."""

    def __init__(
        self,
        incidents: Iterable[HubIncident] = (),
        triage: Mapping[IncidentKind, Triage] = TRIAGE,
    ) -> None:
        """Start empty or from stored incidents (as the book)."""
        # household id -> its active incidents (and perhaps some closed since), in
        # the order they were added, as the book's own set of active incidents.
        self._open_by_household: dict[str, dict[str, HubIncident]] = {}
        super().__init__(incidents, triage)

    def _add(self, incident: HubIncident) -> None:
        super()._add(incident)
        if incident.active:
            bucket = self._open_by_household.setdefault(incident.household_id, {})
            bucket[incident.id] = incident

    def _household_open(self, household_id: str) -> list[HubIncident]:
        """The household's active incidents (forgetting the closed ones in the index)."""
        bucket = self._open_by_household.get(household_id)
        if not bucket:
            return []
        for closed in [key for key, item in bucket.items() if not item.active]:
            del bucket[closed]
        if not bucket:
            del self._open_by_household[household_id]
        return list(bucket.values())

    def open_for_household(
        self, household_id: str, kind: IncidentKind
    ) -> HubIncident | None:
        """The active incident of this household and kind (offline ones excluded)."""
        return next(
            (
                item
                for item in self._household_open(household_id)
                if item.kind == kind and not item.offline
            ),
            None,
        )

    def open_offline(self, household_id: str) -> HubIncident | None:
        """The household's active "offline" incident, if any."""
        return next(
            (item for item in self._household_open(household_id) if item.offline),
            None,
        )
