"""Routing and escalation: who is paged for an incident, how, and when to widen the circle.

Pure logic (no Home Assistant import). The glue calls :func:`plan_step` with the
incident's colour and escalation step, sends the pushes and, if nobody accepted,
runs step + 1 after ``Page.next_after``.

Escalation table (ARCHITECTURE.md, Decisions → Hub; times are the defaults)::

    colour  step  tier  paged (critical?)                         informational  call 120  next step
    red     0     1     assigned volunteers (critical)            duty staff     no        +2 min
    red     1     2     tier 1 + backups + duty staff (critical)  -              yes       +3 min
    red     2+    3     everyone on duty (critical)               -              yes       +2 min, forever
    orange  0     1     assigned volunteers (normal)              -              no        +10 min
    orange  1     2     tier 1 + backups + duty staff (normal)    -              no        stop
    yellow  0     1     community IT on duty (normal)             -              no        stop

Rules:

* Only active people are paged, and only while on duty (``on_duty``). A
  volunteer-role person without a ``schedule`` is on call for the households they
  are assigned to only; staff and IT without a schedule are always on duty. So
  "everyone on duty" (red tier 3) is: tiers 1 and 2, every staff and IT member on
  duty, and every volunteer whose schedule is on.
* Each tier includes the previous ones: escalation widens the circle and pages the
  earlier people again (same notification tag: the notification is updated and
  rings again, now with "call 120").
* Empty tiers are skipped: with nobody (available) assigned, step 0 is already
  tier 2, and so on — nobody assigned never means nobody paged.
* Last resort when a tier comes out empty: every active staff member regardless of
  schedule, then every active person. Yellow falls back from IT on duty to all
  active IT, then to staff on duty, then as above.
* Each person appears once per page, in order: tier 1 in the household's order,
  then backups, then others in ledger order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from ...const import (
    DEFAULT_ORANGE_ESCALATE_MIN,
    DEFAULT_RED_REPEAT_MIN,
    DEFAULT_RED_TIER2_MIN,
    DEFAULT_RED_TIER3_MIN,
)
from ..models import Triage
from .people import HouseholdRecord, Role, Volunteer


@dataclass(frozen=True, kw_only=True, slots=True)
class EscalationPolicy:
    """How long to wait for an accept before the next step."""

    red_tier2_after: timedelta = timedelta(minutes=DEFAULT_RED_TIER2_MIN)
    red_tier3_after: timedelta = timedelta(
        minutes=DEFAULT_RED_TIER3_MIN
    )  # after tier 2
    red_repeat: timedelta = timedelta(minutes=DEFAULT_RED_REPEAT_MIN)
    orange_escalate_after: timedelta = timedelta(minutes=DEFAULT_ORANGE_ESCALATE_MIN)


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One escalation step."""

    step: int
    tier: int  # 1, 2 or 3 (the tier this step pages, after skipping empty ones)
    recipients: tuple[str, ...]  # volunteer ids to page (critical or normal)
    informational: tuple[
        str, ...
    ] = ()  # ids told for information (red step 0: duty desk)
    critical: bool
    call_120: bool  # add the "call 120" prompt to the text
    next_after: timedelta | None  # run step + 1 after this if nobody accepted


class _People:
    """The ledger seen from one incident."""

    def __init__(
        self,
        household: HouseholdRecord,
        volunteers: Mapping[str, Volunteer],
        on_duty: Callable[[Volunteer], bool],
    ) -> None:
        self.volunteers = volunteers
        self.on_duty = on_duty
        self.tier1 = self._available(household.volunteers)
        self.backups = self._available(household.backup_volunteers)

    def _available(self, ids: Iterable[str]) -> list[str]:
        return [
            volunteer_id
            for volunteer_id in ids
            if (volunteer := self.volunteers.get(volunteer_id)) is not None
            and volunteer.active
            and self.on_duty(volunteer)
        ]

    def where(
        self, keep: Callable[[Volunteer], bool], *, duty: bool = True
    ) -> list[str]:
        """Active people (on duty unless ``duty`` is False) for whom ``keep`` holds."""
        return [
            volunteer.id
            for volunteer in self.volunteers.values()
            if volunteer.active
            and (not duty or self.on_duty(volunteer))
            and keep(volunteer)
        ]

    def staff_on_duty(self) -> list[str]:
        return self.where(lambda volunteer: volunteer.role is Role.STAFF)

    def tier2(self) -> list[str]:
        return _unique(self.tier1, self.backups, self.staff_on_duty())

    def tier3(self) -> list[str]:
        on_rota = self.where(
            lambda volunteer: (
                volunteer.role is not Role.VOLUNTEER or volunteer.schedule is not None
            )
        )
        return _unique(self.tier2(), on_rota)

    def last_resort(self) -> list[str]:
        return self.where(
            lambda volunteer: volunteer.role is Role.STAFF, duty=False
        ) or self.where(lambda volunteer: True, duty=False)

    def it(self) -> list[str]:
        return (
            self.where(lambda volunteer: volunteer.role is Role.IT)
            or self.where(lambda volunteer: volunteer.role is Role.IT, duty=False)
            or self.staff_on_duty()
            or self.last_resort()
        )


def _unique(*groups: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for group in groups for item in group))


def plan_step(
    colour: Triage,
    step: int,
    household: HouseholdRecord,
    volunteers: Mapping[str, Volunteer],
    on_duty: Callable[[Volunteer], bool],
    policy: EscalationPolicy,
) -> Page | None:
    """The page for escalation ``step`` (0 = first), or None when the plan has ended.

    Red never ends (tier 3 repeats until someone accepts); orange ends after
    step 1 (or step 0 if tier 1 was empty); yellow after step 0.
    """
    if step < 0:
        raise ValueError(f"escalation step must be >= 0, not {step}")
    people = _People(household, volunteers, on_duty)
    if colour is Triage.YELLOW:
        if step:
            return None
        return Page(
            step=0,
            tier=1,
            recipients=tuple(people.it()),
            critical=False,
            call_120=False,
            next_after=None,
        )
    tiers = [people.tier1, people.tier2(), people.tier3()]
    last = 2 if colour is Triage.RED else 1
    start = next((index for index in range(last) if tiers[index]), last)
    index = start + step
    if index > last:
        if colour is Triage.ORANGE:
            return None
        index = last
    recipients = tiers[index] or people.last_resort()
    if colour is Triage.ORANGE:
        return Page(
            step=step,
            tier=index + 1,
            recipients=tuple(recipients),
            critical=False,
            call_120=False,
            next_after=policy.orange_escalate_after if index == 0 else None,
        )
    return _red_page(step, index, recipients, people, policy)


def _red_page(
    step: int,
    index: int,
    recipients: list[str],
    people: _People,
    policy: EscalationPolicy,
) -> Page:
    """Red at tier ``index + 1``: critical; the desk told at tier 1; call 120 after."""
    informational = (
        [item for item in people.staff_on_duty() if item not in recipients]
        if index == 0
        else []
    )
    return Page(
        step=step,
        tier=index + 1,
        recipients=tuple(recipients),
        informational=tuple(informational),
        critical=True,
        call_120=index > 0,
        next_after=(policy.red_tier2_after, policy.red_tier3_after, policy.red_repeat)[
            index
        ],
    )
