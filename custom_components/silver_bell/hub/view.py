"""What the hub's entities show: figures computed once per change, on first use."""

from __future__ import annotations

from functools import cached_property

from homeassistant.util import dt as dt_util

from ..core.hub.figures import Stats
from ..core.hub.incidents import HubIncidentBook
from ..core.hub.records import HubIncident
from ..core.surveys import SurveyFigures


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
