"""Escalation in time: what is due at a moment, when the next timer fires.

Pure logic (no Home Assistant import; the clock is an argument). Who is paged at
each step is :func:`triage.plan_step`; this module keeps the incident's place in
the table (its step and when the next one is due), says which incidents are due,
which households went quiet, how long a volunteer's channel is given before
the next one is tried, and when the hub's one escalation timer must fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from .people import HouseholdRecord
from .records import HubIncident
from .triage import Page

# A channel wait never shorter than this, however soon the next tier is due.
MIN_CHANNEL_WAIT = timedelta(seconds=1)


def begin_step(
    incident: HubIncident, step: int, page: Page | None, now: datetime
) -> None:
    """Record that ``step`` runs now; the next one is due after ``page.next_after``."""
    incident.escalation_step = step
    incident.next_escalation_at = (
        now + page.next_after if page is not None and page.next_after else None
    )


def is_due(incident: HubIncident, now: datetime) -> bool:
    """Whether an active incident's next step is due (and nobody accepted)."""
    due = incident.next_escalation_at
    return due is not None and due <= now and incident.accepted_by is None


def take_due(incident: HubIncident) -> int:
    """Start the due step: never twice, even if paging fails. Returns the step."""
    incident.next_escalation_at = None
    return incident.escalation_step + 1


def stop(incident: HubIncident) -> None:
    """Somebody took the incident: no further step."""
    incident.next_escalation_at = None


def next_timer(incidents: Iterable[HubIncident]) -> datetime | None:
    """The soonest escalation of the given (open) incidents; None: no timer."""
    moments = [
        incident.next_escalation_at
        for incident in incidents
        if incident.next_escalation_at is not None
    ]
    return min(moments) if moments else None


def sooner_timer(incident: HubIncident, armed_at: datetime | None) -> datetime | None:
    """After one incident changed: its moment if that is sooner than the armed timer.

    None: keep the timer as it is (constant cost per message; a timer left for
    an incident that closed or moved later fires, finds nothing due and the
    full scan sets it again).
    """
    moment = incident.next_escalation_at if incident.active else None
    if moment is None or (armed_at is not None and armed_at <= moment):
        return None
    return moment


def checks_offline(now: datetime, started_at: datetime, grace: timedelta) -> bool:
    """No offline incidents during the grace period after the hub starts."""
    return now - started_at >= grace


def offline_households(
    households: Mapping[str, HouseholdRecord],
    heartbeats: Mapping[str, datetime],
    now: datetime,
    offline_after: timedelta,
) -> list[tuple[str, datetime]]:
    """(household id, last seen) of the active households silent too long."""
    quiet: list[tuple[str, datetime]] = []
    for household_id, record in households.items():
        if record.revoked:
            continue
        seen = heartbeats.get(household_id)
        if seen is not None and now - seen >= offline_after:
            quiet.append((household_id, seen))
    return quiet


def channel_wait(
    wait: timedelta, next_escalation_at: datetime | None, now: datetime
) -> timedelta:
    """How long a channel is given: shorter than what is left of the tier's wait."""
    if next_escalation_at is not None:
        tier_wait = next_escalation_at - now
        if wait >= tier_wait:
            return max(tier_wait / 2, MIN_CHANNEL_WAIT)
    return wait


def next_channel_wanted(incident: HubIncident, step: int) -> bool:
    """After a channel wait: still active, nobody accepted, still the same step."""
    return (
        incident.active
        and incident.accepted_by is None
        and incident.escalation_step == step
    )
