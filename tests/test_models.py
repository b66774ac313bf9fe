"""Tests of the incident model and the incident book (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.silver_bell.core import messages
from custom_components.silver_bell.core.household.incidents import (
    KEEP_CLOSED,
    Action,
    IncidentBook,
    UnknownIncidentError,
)
from custom_components.silver_bell.core.models import (
    TRIAGE,
    Incident,
    IncidentKind,
    IncidentState,
    InvalidTransitionError,
    Triage,
    most_urgent,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_every_kind_has_a_colour() -> None:
    assert set(TRIAGE) == set(IncidentKind)
    assert TRIAGE[IncidentKind.FIRE] is Triage.RED
    assert TRIAGE[IncidentKind.COLD] is Triage.ORANGE
    assert TRIAGE[IncidentKind.SENSOR_FAULT] is Triage.YELLOW


def test_state_machine_and_audit() -> None:
    incident = Incident(kind=IncidentKind.FIRE, created_at=T0)
    assert incident.active
    assert incident.colour is Triage.RED
    incident.transition(
        IncidentState.ACKNOWLEDGED, T0 + timedelta(minutes=1), "volunteer"
    )
    incident.transition(
        IncidentState.RESOLVED, T0 + timedelta(minutes=9), "volunteer", "false_alarm"
    )
    assert not incident.active
    assert [item.state for item in incident.audit] == [
        IncidentState.OPEN,
        IncidentState.ACKNOWLEDGED,
        IncidentState.RESOLVED,
    ]
    assert incident.updated_at == T0 + timedelta(minutes=9)
    assert incident.seq == 2
    with pytest.raises(InvalidTransitionError) as err:
        incident.transition(IncidentState.OPEN, T0, "x")
    assert err.value.current is IncidentState.RESOLVED


def test_cancel_only_during_grace() -> None:
    incident = Incident(
        kind=IncidentKind.INACTIVITY,
        created_at=T0,
        grace_until=T0 + timedelta(minutes=10),
    )
    assert incident.in_grace(T0 + timedelta(minutes=5))
    with pytest.raises(InvalidTransitionError):
        incident.transition(
            IncidentState.CANCELLED, T0 + timedelta(minutes=11), "motion"
        )
    incident.transition(IncidentState.CANCELLED, T0 + timedelta(minutes=5), "motion")
    assert incident.state is IncidentState.CANCELLED


def test_round_trip() -> None:
    incident = Incident(
        kind=IncidentKind.HEAT, created_at=T0, details={"sensors": ["a"]}
    )
    incident.escalate(T0)
    incident.escalate(T0 + timedelta(seconds=1))  # only once
    incident.transition(IncidentState.ACKNOWLEDGED, T0, "me", "on my way")
    again = Incident.from_dict(incident.as_dict())
    assert again == incident
    assert again.as_dict()["colour"] == "orange"


def test_most_urgent_prefers_fire() -> None:
    cold = Incident(kind=IncidentKind.COLD, created_at=T0)
    fire = Incident(kind=IncidentKind.FIRE, created_at=T0 + timedelta(minutes=1))
    assert most_urgent([cold, fire]) is fire
    assert most_urgent([]) is None


def test_book_merges_same_kind_and_escalates() -> None:
    book = IncidentBook()
    changes = book.open(IncidentKind.FIRE, T0, details={"sensor": "a"})
    assert [c.action for c in changes] == [Action.OPENED, Action.ESCALATED]
    assert book.open(IncidentKind.FIRE, T0, details={"sensor": "a"}) == []
    changes = book.open(IncidentKind.FIRE, T0, details={"sensor": "b"})
    assert [c.action for c in changes] == [Action.UPDATED]
    assert len(book.active) == 1


def test_book_grace_then_escalation() -> None:
    book = IncidentBook()
    changes = book.open(IncidentKind.INACTIVITY, T0, grace=timedelta(minutes=10))
    assert [c.action for c in changes] == [Action.OPENED]
    assert book.next_grace_end() == T0 + timedelta(minutes=10)
    assert book.escalate_due(T0 + timedelta(minutes=9)) == []
    changes = book.escalate_due(T0 + timedelta(minutes=10))
    assert [c.action for c in changes] == [Action.ESCALATED]
    assert book.next_grace_end() is None
    assert book.check_in(T0 + timedelta(minutes=11), "motion") == []


def test_book_check_in_cancels() -> None:
    book = IncidentBook()
    book.open(IncidentKind.INACTIVITY, T0, grace=timedelta(minutes=10))
    changes = book.check_in(T0 + timedelta(minutes=2), "motion")
    assert [c.action for c in changes] == [Action.CANCELLED]
    assert book.active == []


def test_book_transitions_and_errors() -> None:
    book = IncidentBook()
    book.open(IncidentKind.HELP, T0)
    incident = book.active_of(IncidentKind.HELP)
    assert incident is not None
    assert book.most_urgent() is incident
    book.transition(incident.id, IncidentState.ACKNOWLEDGED, T0, "me")
    with pytest.raises(UnknownIncidentError):
        book.get("nope")
    assert book.resolve_kind(IncidentKind.COLD, T0, "x", "y") == []
    changes = book.resolve_kind(IncidentKind.HELP, T0, "x", "done")
    assert [c.action for c in changes] == [Action.RESOLVED]
    again = IncidentBook.from_dict(book.as_dict())
    assert again.get(incident.id).state is IncidentState.RESOLVED


def test_book_keeps_bounded_history() -> None:
    book = IncidentBook()
    for minute in range(KEEP_CLOSED + 5):
        book.open(IncidentKind.TEST, T0 + timedelta(minutes=minute), test=True)
        incident = book.active_of(IncidentKind.TEST)
        assert incident is not None
        book.transition(incident.id, IncidentState.RESOLVED, T0, "me")
    book.open(IncidentKind.TEST, T0 + timedelta(days=1), test=True)
    assert len(book.incidents) == KEEP_CLOSED + 1
    assert book.most_urgent(include_tests=False) is None


def test_messages_in_both_languages() -> None:
    incident = Incident(kind=IncidentKind.FIRE, created_at=T0)
    assert messages.incident_text(Action.OPENED, incident, "Grandma Li", "en") == (
        "Fire alarm at Grandma Li's home"
    )
    assert messages.incident_text(
        Action.OPENED, incident, "Grandma Li", "en", message="kitchen"
    ) == ("Fire alarm at Grandma Li's home: kitchen")
    assert (
        messages.incident_text(Action.ESCALATED, incident, "李奶奶", "zh-Hans")
        == "李奶奶家：火警，已发出警报"
    )
    assert messages.title("zh-Hant") == "银铃守护"
    assert messages.kind_text(IncidentKind.COLD, None) == "Too cold"
    test = Incident(kind=IncidentKind.TEST, created_at=T0, test=True)
    assert messages.incident_text(Action.RESOLVED, test, "A", "en", "Bob").startswith(
        "[TEST] "
    )
