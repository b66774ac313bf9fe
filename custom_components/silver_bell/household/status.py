"""The household's overall status, as the status sensor shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..core.models import IncidentKind, Triage
from ..core.monitor.inactivity import Level

if TYPE_CHECKING:
    from ..core.bodies import Progress
    from ..core.models import Incident
    from .runtime import Household

STATUS_OK = "ok"
STATUS_WARNING = "warning"
STATUS_ALARM = "alarm"
STATUS_AWAY = "away"
STATUS_OPTIONS = (STATUS_OK, STATUS_WARNING, STATUS_ALARM, STATUS_AWAY)
NO_INCIDENT = "none"
PROGRESS_NONE = "none"
PROGRESS_WAITING = "waiting"
PROGRESS_ACKNOWLEDGED = "acknowledged"
PROGRESS_ON_THE_WAY = "on_the_way"
PROGRESS_OPTIONS = (
    PROGRESS_NONE,
    PROGRESS_WAITING,
    PROGRESS_ACKNOWLEDGED,
    PROGRESS_ON_THE_WAY,
)


def household_status(household: Household) -> str:
    """Ok / warning / alarm / away.

    alarm: a red or orange incident has left the household (fire, help, inactivity
    after its check-in, cold, heat, away too long). warning: an inactivity check-in
    is running, inactivity reached its warning level, or a sensor has a problem.
    away: away mode and nothing else. Test incidents never change the status.
    """
    now = dt_util.utcnow()
    warning = False
    for incident in household.book.active:
        if incident.test:
            continue
        if incident.colour in (Triage.RED, Triage.ORANGE) and not incident.in_grace(
            now
        ):
            return STATUS_ALARM
        warning = True
    if warning or (
        household.inactivity is not None and household.inactivity.level is not Level.OK
    ):
        return STATUS_WARNING
    if household.away_state is not None and household.away_state.away:
        return STATUS_AWAY
    return STATUS_OK


def has_active(household: Household, *kinds: IncidentKind) -> bool:
    """Whether an active, non-test incident of one of ``kinds`` exists."""
    return any(
        incident.kind in kinds and not incident.test
        for incident in household.book.active
    )


def help_progress(household: Household) -> tuple[Incident | None, Progress | None]:
    """The most urgent incident that left the home, and what the hub says about it."""
    sent = [item for item in household.book.active if item.escalated_at is not None]
    if not sent:
        return None, None
    incident = household.book.most_urgent()
    if incident not in sent:
        incident = sent[0]
    assert incident is not None
    return incident, household.progress.get(incident.id)
