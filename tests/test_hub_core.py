"""The pure hub core without Home Assistant: intake, escalation in time, people's actions.

A fake clock drives the escalation; every function is called directly.
"""

# mypy narrows attributes across the book's mutating calls; these tests check exactly those.
# mypy: disable-error-code="unreachable,comparison-overlap"

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.silver_bell.core.bodies import IncidentMessage
from custom_components.silver_bell.core.hub import actions, escalation, intake
from custom_components.silver_bell.core.hub.actions import Answer
from custom_components.silver_bell.core.hub.incidents import HubIncidentBook
from custom_components.silver_bell.core.hub.people import (
    HouseholdRecord,
    Role,
    Volunteer,
)
from custom_components.silver_bell.core.hub.pushes import (
    ACTION_ACCEPT,
    ACTION_FALSE_ALARM,
    ACTION_ON_THE_WAY,
    ACTION_RESOLVE,
)
from custom_components.silver_bell.core.hub.records import HubIncident, HubIncidentError
from custom_components.silver_bell.core.hub.triage import (
    EscalationPolicy,
    Page,
    plan_step,
)
from custom_components.silver_bell.core.models import (
    IncidentKind,
    IncidentState,
    Triage,
)
from custom_components.silver_bell.core.protocol import Rejection

T0 = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
HH = "hh_li01"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


@dataclass
class Clock:
    """A fake clock: time moves only when the test says so."""

    now: datetime = T0

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass
class People:
    """The ledger's records, as the core functions take them."""

    households: dict[str, HouseholdRecord] = field(default_factory=dict)
    volunteers: dict[str, Volunteer] = field(default_factory=dict)


def _people() -> People:
    people = People()
    for vid, name in (("v_wang", "Wang"), ("v_zhao", "Zhao"), ("s_desk", "Desk")):
        role = Role.STAFF if vid.startswith("s_") else Role.VOLUNTEER
        people.volunteers[vid] = Volunteer(
            id=vid,
            name=name,
            phone="13800000000",
            notify=[f"mobile_app_{vid}"],
            role=role,
        )
    people.households[HH] = HouseholdRecord(
        id=HH,
        elder_name="Li",
        address="1 Road",
        phone="1",
        volunteers=["v_wang"],
        backup_volunteers=["v_zhao"],
        secret="s3cret",  # noqa: S106
    )
    return people


def _message(
    source_id: str = "src1",
    seq: int = 1,
    state: IncidentState = IncidentState.OPEN,
    kind: IncidentKind = IncidentKind.FIRE,
) -> IncidentMessage:
    return IncidentMessage(
        id=source_id,
        seq=seq,
        kind=kind,
        state=state,
        test=False,
        created_at=T0,
        updated_at=T0,
        escalated_at=None,
        details={},
        by=None,
        note=None,
    )


def _paged(incident: HubIncident, *volunteer_ids: str) -> None:
    for vid in volunteer_ids:
        incident.add_log(T0, "sent", vid, f"page:0 notify.mobile_app_{vid}")


# ----------------------------------------------------------------- intake
def test_secret_only_for_active_households() -> None:
    record = _people().households[HH]
    assert intake.secret_of(record) == "s3cret"
    assert intake.secret_of(None) is None
    assert intake.secret_of(replace(record, revoked=True)) is None
    assert intake.secret_of(replace(record, secret="")) is None


def test_intake_new_merged_repeat_closed() -> None:
    book = HubIncidentBook()
    first = intake.receive(book, HH, _message("a"), T0)
    assert first.changed and not first.was_active
    assert first.event == intake.EVENT_RECEIVED and not first.closed_now
    assert intake.needs_first_page(first.incident, set())
    assert not intake.needs_first_page(first.incident, {first.incident.id})

    merged = intake.receive(book, HH, _message("b"), T0)
    assert merged.incident is first.incident and merged.changed

    repeat = intake.receive(book, HH, _message("a"), T0)
    assert not repeat.changed and repeat.event is None and not repeat.closed_now

    _paged(first.incident, "v_wang")
    assert not intake.needs_first_page(first.incident, set())

    closed = intake.receive(book, HH, _message("a", 2, IncidentState.RESOLVED), T0)
    closed = intake.receive(book, HH, _message("b", 2, IncidentState.RESOLVED), T0)
    assert closed.closed_now and closed.event == intake.EVENT_RESOLVED
    assert not intake.needs_first_page(closed.incident, set())


def test_intake_refuses_another_households_incident() -> None:
    book = HubIncidentBook()
    intake.receive(book, HH, _message("a"), T0)
    with pytest.raises(Rejection) as err:
        intake.receive(book, "hh_other", _message("a", 2), T0)
    assert err.value.status == 403
    assert book.take_changes() == {book.incidents[0].id}  # only the first message


def test_own_incident_and_progress() -> None:
    people = _people()
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    assert intake.own_incident(book, HH, "a") is incident
    with pytest.raises(Rejection) as err:
        intake.own_incident(book, HH, "nope")
    assert err.value.status == 404
    with pytest.raises(Rejection) as err:
        intake.own_incident(book, "hh_other", "a")
    assert err.value.status == 403

    progress = intake.progress(incident, "a", people.volunteers)
    assert progress.id == "a" and progress.acknowledged_by is None
    assert progress.survey is None
    actions.accept(book, incident.id, "v_wang", T0)
    assert intake.progress(incident, "a", people.volunteers).acknowledged_by == "Wang"
    actions.accept(book, incident.id, "v_wang", T0)  # the same owner: still True
    other = intake.receive(book, HH, _message("c", kind=IncidentKind.HELP), T0)
    actions.accept(book, other.incident.id, "Desk user", T0)
    assert (
        intake.progress(other.incident, "c", people.volunteers).acknowledged_by
        == "Desk user"
    )


# ------------------------------------------------------------- escalation
def test_red_escalates_in_time_with_a_fake_clock() -> None:
    people = _people()
    policy = EscalationPolicy()
    clock = Clock()
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), clock.now).incident
    assert incident.colour is Triage.RED

    def run(step: int) -> Page | None:
        page = plan_step(
            incident.colour,
            step,
            people.households[HH],
            people.volunteers,
            lambda _v: True,
            policy,
        )
        escalation.begin_step(incident, step, page, clock.now)
        return page

    run(0)
    assert incident.next_escalation_at == T0 + policy.red_tier2_after
    assert escalation.next_timer(book.open_incidents()) == incident.next_escalation_at
    assert not escalation.is_due(incident, clock.advance(seconds=119))
    assert escalation.is_due(incident, clock.advance(seconds=1))
    step = escalation.take_due(incident)
    assert step == 1 and incident.next_escalation_at is None
    assert not escalation.is_due(incident, clock.now)  # never twice
    assert escalation.next_timer(book.open_incidents()) is None
    run(step)
    assert incident.next_escalation_at == clock.now + policy.red_tier3_after

    assert actions.accept(book, incident.id, "v_wang", clock.now)
    assert incident.next_escalation_at is None
    incident.next_escalation_at = clock.now  # a stale moment: accepted wins
    assert not escalation.is_due(incident, clock.advance(minutes=5))


def test_a_step_with_nothing_after_it() -> None:
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    page = Page(
        step=1,
        tier=2,
        recipients=(),
        critical=False,
        call_120=False,
        next_after=None,
    )
    escalation.begin_step(incident, 1, page, T0)
    assert incident.escalation_step == 1 and incident.next_escalation_at is None
    escalation.begin_step(incident, 2, None, T0)
    assert incident.escalation_step == 2 and incident.next_escalation_at is None
    incident.next_escalation_at = T0
    escalation.stop(incident)
    assert incident.next_escalation_at is None


def test_sooner_timer() -> None:
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    assert escalation.sooner_timer(incident, None) is None  # nothing due
    incident.next_escalation_at = T0 + timedelta(minutes=2)
    assert escalation.sooner_timer(incident, None) == incident.next_escalation_at
    assert escalation.sooner_timer(incident, T0 + timedelta(minutes=5)) == (
        incident.next_escalation_at
    )
    assert escalation.sooner_timer(incident, T0 + timedelta(minutes=1)) is None
    assert escalation.sooner_timer(incident, T0 + timedelta(minutes=2)) is None
    book.resolve(incident.id, "v_wang", "false_alarm", T0)
    incident.next_escalation_at = T0
    assert escalation.sooner_timer(incident, None) is None  # closed


def test_offline_households() -> None:
    people = _people()
    people.households["hh_gone"] = replace(
        people.households[HH], id="hh_gone", revoked=True
    )
    people.households["hh_new"] = replace(people.households[HH], id="hh_new")
    clock = Clock()
    grace = timedelta(minutes=30)
    assert not escalation.checks_offline(clock.now, T0, grace)
    assert escalation.checks_offline(clock.advance(minutes=30), T0, grace)
    heartbeats = {HH: T0, "hh_gone": T0}  # hh_new never sent one
    after = timedelta(minutes=30)
    assert escalation.offline_households(
        people.households, heartbeats, clock.now, after
    ) == [(HH, T0)]
    assert (
        escalation.offline_households(
            people.households, heartbeats, T0 + timedelta(minutes=29), after
        )
        == []
    )


def test_channel_wait() -> None:
    wait = timedelta(seconds=45)
    assert escalation.channel_wait(wait, None, T0) == wait
    assert escalation.channel_wait(wait, T0 + timedelta(minutes=2), T0) == wait
    assert escalation.channel_wait(wait, T0 + timedelta(seconds=40), T0) == (
        timedelta(seconds=20)
    )
    assert escalation.channel_wait(wait, T0, T0) == escalation.MIN_CHANNEL_WAIT

    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    assert escalation.next_channel_wanted(incident, 0)
    assert not escalation.next_channel_wanted(incident, 1)
    actions.accept(book, incident.id, "v_wang", T0)
    assert not escalation.next_channel_wanted(incident, 0)
    book.resolve(incident.id, "v_wang", "false_alarm", T0)
    assert not escalation.next_channel_wanted(incident, 0)


# ---------------------------------------------------------------- actions
def test_volunteer_answers() -> None:
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    incident.next_escalation_at = T0 + timedelta(minutes=2)
    book.take_changes()
    assert actions.answer(book, ACTION_ACCEPT, incident.id, "v_wang", T0) is (
        Answer.ACCEPTED
    )
    assert incident.next_escalation_at is None
    assert book.take_changes() == {incident.id}
    assert actions.answer(book, ACTION_ACCEPT, incident.id, "v_zhao", T0) is (
        Answer.REFUSED
    )
    assert actions.answer(book, ACTION_ON_THE_WAY, incident.id, "v_wang", T0) is (
        Answer.ON_THE_WAY
    )
    assert incident.on_the_way_at == T0
    assert actions.answer(book, "SOMETHING_ELSE", incident.id, "v_wang", T0) is (
        Answer.UNKNOWN
    )
    assert actions.answer(book, ACTION_RESOLVE, incident.id, "v_wang", T0) is (
        Answer.RESOLVED
    )
    assert incident.resolution == actions.RESOLUTION_UNSPECIFIED
    assert actions.answer(book, ACTION_RESOLVE, incident.id, "v_wang", T0) is (
        Answer.ALREADY_CLOSED
    )
    assert actions.answer(book, ACTION_FALSE_ALARM, incident.id, "v_wang", T0) is (
        Answer.RESOLUTION
    )
    assert incident.resolution == "false_alarm"


def test_desk_resolve_closes_or_corrects() -> None:
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    assert actions.resolve_at_desk(book, incident.id, "Desk", "real_emergency", T0)
    assert incident.state is IncidentState.RESOLVED
    assert not actions.resolve_at_desk(book, incident.id, "Desk", "false_alarm", T0)
    assert incident.resolution == "false_alarm"
    with pytest.raises(HubIncidentError):
        actions.resolve_at_desk(book, "unknown", "Desk", "false_alarm", T0)


def test_paged_people() -> None:
    people = _people()
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    _paged(incident, "v_wang", "v_gone", "v_zhao", "v_wang")
    assert [v.id for v in actions.paged_people(incident, people.volunteers)] == [
        "v_wang",
        "v_zhao",
    ]
    assert [
        v.id for v in actions.paged_people(incident, people.volunteers, but="v_wang")
    ] == ["v_zhao"]


def test_desk_page_again_note_and_links() -> None:
    people = _people()
    book = HubIncidentBook()
    incident = intake.receive(book, HH, _message("a"), T0).incident
    book.take_changes()

    def page_again(volunteer_id: str | None, incident_id: str = incident.id) -> tuple:
        return actions.page_again(
            book,
            people.households,
            people.volunteers,
            incident_id,
            "Desk",
            volunteer_id,
            T0,
        )

    assert page_again(None) == (incident, people.households[HH], None)
    assert incident.has_log(actions.LOG_DESK_PAGED)
    assert book.take_changes() == {incident.id}
    assert page_again("v_zhao")[2] is people.volunteers["v_zhao"]
    log = len(incident.log)
    with pytest.raises(HubIncidentError) as err:
        page_again("v_nobody")
    assert err.value.code == "unknown_volunteer"
    del people.households[HH]
    with pytest.raises(HubIncidentError):
        page_again("v_zhao")
    assert len(incident.log) == log  # a refusal changes nothing
    with pytest.raises(HubIncidentError) as err:
        page_again(None, "unknown")
    assert err.value.code == "unknown_incident"

    assert actions.note(book, incident.id, "Desk", "called the son", T0) is incident
    assert incident.has_log(actions.LOG_DESK_NOTE, "called the son")

    actions.link_used(book, ACTION_ACCEPT, incident.id, "v_wang", "wecom:1", T0)
    assert incident.has_log(actions.LOG_LINK_USED, f"{ACTION_ACCEPT} wecom:1")
    actions.link_used(book, ACTION_ACCEPT, incident.id, "v_wang", None, T0)
    assert incident.has_log(actions.LOG_LINK_USED, f"{ACTION_ACCEPT} ")
    actions.link_used(book, ACTION_ACCEPT, "purged", "v_wang", None, T0)  # no error

    book.resolve(incident.id, "Desk", "false_alarm", T0)
    with pytest.raises(HubIncidentError) as err:
        page_again(None)
    assert err.value.code == "incident_closed"
