"""Tests of routing and the escalation plan (pure logic)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.silver_bell.core.hub.people import (
    HouseholdRecord,
    Role,
    Volunteer,
)
from custom_components.silver_bell.core.hub.triage import (
    EscalationPolicy,
    Page,
    plan_step,
)
from custom_components.silver_bell.core.models import Triage

ON = {"schedule.on"}
POLICY = EscalationPolicy()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def person(
    volunteer_id: str,
    role: Role = Role.VOLUNTEER,
    schedule: str | None = None,
    active: bool = True,
) -> Volunteer:
    return Volunteer(
        id=volunteer_id,
        name=volunteer_id,
        phone="120",
        notify=[f"mobile_app_{volunteer_id}"],
        role=role,
        schedule=schedule,
        active=active,
    )


def community(*people: Volunteer) -> dict[str, Volunteer]:
    return {item.id: item for item in people}


EVERYONE = community(
    person("v_li"),
    person("v_wang", schedule="schedule.on"),
    person("v_off", schedule="schedule.off"),
    person("v_inactive", active=False),
    person("b_zhou"),
    person("s_zhao", Role.STAFF),
    person("s_night", Role.STAFF, schedule="schedule.off"),
    person("it_chen", Role.IT),
    person("it_off", Role.IT, schedule="schedule.off"),
    person("v_rota", schedule="schedule.on"),
    person("v_free"),
)

HOME = HouseholdRecord(
    id="hh_1",
    elder_name="Li",
    address="Lane 1",
    phone="",
    volunteers=["v_li", "ghost", "v_off", "v_inactive", "v_wang"],
    backup_volunteers=["b_zhou", "v_li"],
)
NOBODY = HouseholdRecord(id="hh_2", elder_name="Wang", address="Lane 2", phone="")


def on_duty(volunteer: Volunteer) -> bool:
    return volunteer.schedule is None or volunteer.schedule in ON


def plan(
    colour: Triage,
    step: int,
    household: HouseholdRecord = HOME,
    volunteers: dict[str, Volunteer] = EVERYONE,
    policy: EscalationPolicy = POLICY,
) -> Page | None:
    return plan_step(colour, step, household, volunteers, on_duty, policy)


def test_default_policy_matches_the_decisions() -> None:
    assert (
        EscalationPolicy(
            red_tier2_after=timedelta(minutes=2),
            red_tier3_after=timedelta(minutes=3),
            red_repeat=timedelta(minutes=2),
            orange_escalate_after=timedelta(minutes=10),
        )
        == POLICY
    )


def test_red_escalation() -> None:
    assert plan(Triage.RED, 0) == Page(
        step=0,
        tier=1,
        recipients=("v_li", "v_wang"),
        informational=("s_zhao",),
        critical=True,
        call_120=False,
        next_after=timedelta(minutes=2),
    )
    assert plan(Triage.RED, 1) == Page(
        step=1,
        tier=2,
        recipients=("v_li", "v_wang", "b_zhou", "s_zhao"),
        critical=True,
        call_120=True,
        next_after=timedelta(minutes=3),
    )
    tier3 = Page(
        step=2,
        tier=3,
        recipients=("v_li", "v_wang", "b_zhou", "s_zhao", "it_chen", "v_rota"),
        critical=True,
        call_120=True,
        next_after=timedelta(minutes=2),
    )
    assert plan(Triage.RED, 2) == tier3
    repeated = plan(Triage.RED, 9)
    assert repeated is not None
    assert (repeated.step, repeated.tier, repeated.recipients) == (
        9,
        3,
        tier3.recipients,
    )


def test_staff_in_tier_1_gets_the_page_not_the_information() -> None:
    home = HouseholdRecord(
        id="hh_3", elder_name="Z", address="A", phone="", volunteers=["s_zhao"]
    )
    page = plan(Triage.RED, 0, home)
    assert page is not None
    assert (page.recipients, page.informational) == (("s_zhao",), ())


def test_red_with_nobody_assigned_starts_at_tier_2() -> None:
    page = plan(Triage.RED, 0, NOBODY)
    assert page == Page(
        step=0,
        tier=2,
        recipients=("s_zhao",),
        critical=True,
        call_120=True,
        next_after=timedelta(minutes=3),
    )
    page = plan(Triage.RED, 1, NOBODY)
    assert page is not None
    assert (page.tier, page.recipients, page.next_after) == (
        3,
        ("s_zhao", "v_wang", "it_chen", "v_rota"),
        timedelta(minutes=2),
    )


def test_red_with_no_staff_on_duty_starts_at_tier_3() -> None:
    people = community(person("it_chen", Role.IT), person("v_free"))
    page = plan(Triage.RED, 0, NOBODY, people)
    assert page is not None
    assert (page.tier, page.recipients, page.call_120) == (3, ("it_chen",), True)


def test_last_resort_staff_then_anyone_active() -> None:
    off_duty = community(
        person("v_free"),
        person("s_night", Role.STAFF, schedule="schedule.off"),
        person("s_gone", Role.STAFF, active=False),
    )
    page = plan(Triage.RED, 0, NOBODY, off_duty)
    assert page is not None
    assert (page.tier, page.recipients) == (3, ("s_night",))
    volunteers_only = community(person("v_free"), person("v_gone", active=False))
    page = plan(Triage.RED, 0, NOBODY, volunteers_only)
    assert page is not None
    assert page.recipients == ("v_free",)
    assert plan(Triage.RED, 0, NOBODY, {}) == Page(
        step=0,
        tier=3,
        recipients=(),
        critical=True,
        call_120=True,
        next_after=timedelta(minutes=2),
    )


def test_orange_escalation() -> None:
    assert plan(Triage.ORANGE, 0) == Page(
        step=0,
        tier=1,
        recipients=("v_li", "v_wang"),
        critical=False,
        call_120=False,
        next_after=timedelta(minutes=10),
    )
    assert plan(Triage.ORANGE, 1) == Page(
        step=1,
        tier=2,
        recipients=("v_li", "v_wang", "b_zhou", "s_zhao"),
        critical=False,
        call_120=False,
        next_after=None,
    )
    assert plan(Triage.ORANGE, 2) is None


def test_orange_with_nobody_assigned() -> None:
    page = plan(Triage.ORANGE, 0, NOBODY)
    assert page == Page(
        step=0,
        tier=2,
        recipients=("s_zhao",),
        critical=False,
        call_120=False,
        next_after=None,
    )
    assert plan(Triage.ORANGE, 1, NOBODY) is None
    page = plan(
        Triage.ORANGE,
        0,
        NOBODY,
        community(person("s_night", Role.STAFF, "schedule.off")),
    )
    assert page is not None
    assert page.recipients == ("s_night",)


def test_yellow_goes_to_it() -> None:
    assert plan(Triage.YELLOW, 0) == Page(
        step=0,
        tier=1,
        recipients=("it_chen",),
        critical=False,
        call_120=False,
        next_after=None,
    )
    assert plan(Triage.YELLOW, 1) is None
    it_off = community(
        person("it_off", Role.IT, "schedule.off"), person("s_zhao", Role.STAFF)
    )
    assert plan(Triage.YELLOW, 0, volunteers=it_off) == Page(
        step=0,
        tier=1,
        recipients=("it_off",),
        critical=False,
        call_120=False,
        next_after=None,
    )
    no_it = community(person("s_zhao", Role.STAFF), person("v_li"))
    page = plan(Triage.YELLOW, 0, volunteers=no_it)
    assert page is not None
    assert page.recipients == ("s_zhao",)
    page = plan(Triage.YELLOW, 0, volunteers=community(person("v_li")))
    assert page is not None
    assert page.recipients == ("v_li",)


def test_custom_policy() -> None:
    policy = EscalationPolicy(
        red_tier2_after=timedelta(seconds=60),
        red_tier3_after=timedelta(minutes=1),
        red_repeat=timedelta(minutes=5),
        orange_escalate_after=timedelta(minutes=30),
    )
    assert [plan(Triage.RED, step, policy=policy).next_after for step in range(3)] == [  # type: ignore[union-attr]
        timedelta(minutes=1),
        timedelta(minutes=1),
        timedelta(minutes=5),
    ]
    page = plan(Triage.ORANGE, 0, policy=policy)
    assert page is not None
    assert page.next_after == timedelta(minutes=30)


def test_negative_step_is_a_bug() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        plan(Triage.RED, -1)


def test_every_person_once_per_page() -> None:
    for colour in Triage:
        for step in range(4):
            page = plan(colour, step)
            if page is not None:
                assert len(set(page.recipients)) == len(page.recipients)
                assert not set(page.informational) & set(page.recipients)
                assert "v_off" not in page.recipients
                assert "v_inactive" not in page.recipients
                assert "v_free" not in page.recipients
