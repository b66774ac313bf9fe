"""Tests of the satisfaction survey on the hub's incidents (pure logic)."""

from __future__ import annotations

import csv
from datetime import timedelta
import io
import json

import pytest

from custom_components.silver_bell.core.hub.figures import (
    INCIDENT_COLUMNS,
    incidents_csv,
)
from custom_components.silver_bell.core.hub.incidents import HubIncidentBook
from custom_components.silver_bell.core.hub.records import (
    ACTOR_FAMILY,
    HubIncident,
    HubIncidentError,
    LogEvent,
)
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.surveys import SurveyFigures, SurveyState

from .test_hub_incidents import HH, T0, apply

DAYS = timedelta(days=7)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def resolved(
    book: HubIncidentBook, source_id: str = "src1", at: timedelta = timedelta(0), **kw
) -> HubIncident:
    """A fire accepted and resolved by a volunteer ``at`` after T0."""
    incident, _ = apply(book, T0 + at, source_id=source_id, **kw)
    book.accept(incident.id, "v_li", T0 + at + timedelta(seconds=30))
    book.resolve(incident.id, "v_li", "resident_ok", T0 + at + timedelta(minutes=20))
    return incident


def refused(code: str, call) -> HubIncidentError:
    with pytest.raises(HubIncidentError) as info:
        call()
    assert info.value.code == code
    return info.value


def test_asked_when_resolved_by_a_volunteer() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    assert incident.survey is None
    refused(
        "no_survey",
        lambda: book.answer_survey(incident.id, rating=5, via="household", now=T0),
    )
    book.resolve(incident.id, "v_li", "unspecified", T0 + timedelta(minutes=20))
    assert incident.survey is not None
    assert incident.survey.asked_at == T0 + timedelta(minutes=20)
    assert incident.survey.state is SurveyState.PENDING


def test_asked_when_the_household_closes_it() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book, source_id="a")
    apply(book, source_id="b", kind=IncidentKind.FIRE)  # merged into it
    apply(book, T0 + timedelta(minutes=3), source_id="a", seq=2, state="resolved")
    assert incident.active
    assert incident.survey is None
    apply(book, T0 + timedelta(minutes=5), source_id="b", seq=2, state="resolved")
    assert not incident.active
    assert incident.survey is not None
    assert incident.survey.asked_at == T0 + timedelta(minutes=5)


def test_not_asked_for_tests_yellow_and_offline() -> None:
    book = HubIncidentBook()
    test_alarm, _ = apply(book, source_id="t", test=True)
    fault, _ = apply(book, source_id="f", kind=IncidentKind.SENSOR_FAULT)
    cold, _ = apply(book, source_id="c", kind=IncidentKind.COLD)  # orange: asked
    offline, _ = book.household_offline("hh_b", T0)
    for incident in (test_alarm, fault, cold):
        book.resolve(incident.id, "desk", "false_alarm", T0 + timedelta(minutes=1))
    book.household_online("hh_b", T0 + timedelta(minutes=1))
    assert [item.survey is not None for item in (test_alarm, fault, offline)] == [
        False,
        False,
        False,
    ]
    assert cold.survey is not None
    refused(
        "no_survey",
        lambda: book.answer_survey(fault.id, rating=5, via="household", now=T0),
    )


def test_first_answer_wins_and_is_logged() -> None:
    book = HubIncidentBook()
    incident = resolved(book)
    now = T0 + timedelta(hours=1)
    same, stored = book.answer_survey(
        incident.id,
        rating=4,
        comment="Came in ten minutes",
        by="user:son",
        via="household",
        now=now,
    )
    assert (same, stored) == (incident, True)
    assert incident.survey is not None
    assert (incident.survey.rating, incident.survey.comment) == (
        4,
        "Came in ten minutes",
    )
    last = incident.log[-1]
    # The rating is logged; the comment, free text, is not.
    assert (last.event, last.actor, last.detail) == (
        LogEvent.SURVEY_ANSWERED,
        ACTOR_FAMILY,
        "4",
    )
    logged = len(incident.log)
    _, again = book.answer_survey(
        incident.id, rating=1, via="hub", by="v_li", now=now + timedelta(hours=1)
    )
    assert not again
    assert incident.survey.rating == 4
    assert len(incident.log) == logged
    # A person at the hub is logged by name.
    other = resolved(book, "src2", at=timedelta(hours=2), household_id="hh_b")
    book.answer_survey(other.id, rating=5, via="hub", by="v_li", now=now)
    assert other.log[-1].actor == "v_li"
    refused(
        "unknown_incident",
        lambda: book.answer_survey("nope", rating=5, via="hub", now=now),
    )


def test_bad_answers_change_nothing() -> None:
    book = HubIncidentBook()
    incident = resolved(book)
    before = json.dumps(incident.as_dict())
    for rating in (0, 6, "x", True):
        refused(
            "invalid_rating",
            lambda rating=rating: book.answer_survey(
                incident.id, rating=rating, via="household", now=T0
            ),
        )
    refused(
        "comment_too_long",
        lambda: book.answer_survey(
            incident.id, rating=3, comment="x" * 501, via="household", now=T0
        ),
    )
    assert json.dumps(incident.as_dict()) == before


def test_unanswered_surveys_close_after_seven_days() -> None:
    book = HubIncidentBook()
    early = resolved(book, "a")
    late = resolved(book, "b", at=timedelta(days=2), household_id="hh_b")
    answered = resolved(book, "c", household_id="hh_c")
    book.answer_survey(answered.id, rating=5, via="household", now=T0)
    asked = T0 + timedelta(minutes=20)
    assert book.close_surveys(asked + DAYS - timedelta(seconds=1)) == []
    assert book.close_surveys(asked + DAYS) == [early]
    assert early.survey is not None
    assert early.survey.state is SurveyState.NO_ANSWER
    assert early.log[-1].event == LogEvent.SURVEY_NO_ANSWER
    assert book.close_surveys(asked + DAYS + timedelta(minutes=1)) == []
    refused(
        "survey_closed",
        lambda: book.answer_survey(early.id, rating=5, via="household", now=T0),
    )
    # Past its deadline before the timer came round: refused, and closed now.
    assert late.survey is not None
    refused(
        "survey_closed",
        lambda: book.answer_survey(
            late.id, rating=5, via="household", now=asked + timedelta(days=9)
        ),
    )
    assert late.survey.state is SurveyState.NO_ANSWER
    assert late.log[-1].event == LogEvent.SURVEY_NO_ANSWER
    assert book.close_surveys(asked + timedelta(days=30)) == []
    assert answered.survey is not None
    assert answered.survey.state is SurveyState.ANSWERED


def test_survey_survives_a_restart_and_old_data_has_none() -> None:
    book = HubIncidentBook()
    pending = resolved(book, "a")
    done = resolved(book, "b", household_id="hh_b")
    book.answer_survey(done.id, rating=2, comment="slow", via="household", now=T0)
    stored = json.loads(json.dumps(book.as_dict()))
    again = HubIncidentBook.from_dict(stored)
    assert again.get(done.id).survey == done.survey
    assert again.get(pending.id).survey == pending.survey
    # The restored book still closes the pending survey on time.
    assert [item.id for item in again.close_surveys(T0 + 2 * DAYS)] == [pending.id]
    # Stored before surveys existed: no "survey" key, none asked.
    for item in stored["incidents"]:
        del item["survey"]
    old = HubIncidentBook.from_dict(stored)
    assert old.get(done.id).survey is None
    assert old.close_surveys(T0 + 2 * DAYS) == []


def test_purge_forgets_the_survey_too() -> None:
    book = HubIncidentBook()
    incident = resolved(book)
    assert book.purge(T0 + timedelta(days=31), timedelta(days=30)) == 1
    assert book.close_surveys(T0 + timedelta(days=60)) == []
    assert book.get_or_none(incident.id) is None


def test_statistics_of_the_last_thirty_days() -> None:
    book = HubIncidentBook()
    now = T0 + timedelta(days=20)
    assert book.survey_statistics(now) == SurveyFigures(
        asked=0,
        answered=0,
        no_answer=0,
        pending=0,
        average_rating=None,
        answered_pct=None,
    )
    ancient = resolved(book, "old", at=-timedelta(days=40), household_id="hh_old")
    book.answer_survey(ancient.id, rating=1, via="hub", now=T0 - timedelta(days=39))
    five = resolved(book, "a")
    book.answer_survey(five.id, rating=5, via="household", now=T0)
    four = resolved(book, "b", household_id="hh_b")
    book.answer_survey(four.id, rating=4, via="hub", now=T0)
    resolved(book, "c", household_id="hh_c")  # closed without answer by now
    resolved(book, "d", at=timedelta(days=19), household_id="hh_d")  # still pending
    apply(book, T0 + timedelta(days=19), source_id="e", household_id="hh_e")  # open
    book.close_surveys(now)
    figures = book.survey_statistics(now)
    assert figures == SurveyFigures(
        asked=4,
        answered=2,
        no_answer=1,
        pending=1,
        average_rating=4.5,
        answered_pct=200 / 3,
    )
    report = book.survey_report(T0 - timedelta(days=60))
    assert [(row["month"], row["asked"], row["average_rating"]) for row in report] == [
        ("2026-10", 1, 1.0),
        ("2026-11", 3, 4.5),
        ("2026-12", 1, None),
    ]
    assert [row["month"] for row in book.survey_report(T0)] == ["2026-11", "2026-12"]


def test_export_has_the_comment_and_erase_clears_it() -> None:
    book = HubIncidentBook()
    incident = resolved(book)
    book.answer_survey(
        incident.id,
        rating=2,
        comment="Nobody came until the son called",
        by="user:son",
        via="household",
        now=T0 + timedelta(hours=1),
    )
    other = resolved(book, "o", household_id="hh_other")
    book.answer_survey(other.id, rating=5, comment="Thank you", via="household", now=T0)
    exported = book.export_household(HH)
    assert exported[0]["survey"]["comment"] == "Nobody came until the son called"
    assert exported[0]["survey"]["rating"] == 2
    assert book.erase_household(HH) == 1
    survey = book.export_household(HH)[0]["survey"]
    assert (survey["comment"], survey["by"], survey["rating"]) == (None, None, 2)
    assert other.survey is not None
    assert other.survey.comment == "Thank you"


def test_csv_has_the_rating_never_the_comment() -> None:
    book = HubIncidentBook()
    incident = resolved(book)
    book.answer_survey(
        incident.id, rating=3, comment="Grandma Li was scared", via="household", now=T0
    )
    resolved(book, "b", household_id="hh_b")
    apply(book, source_id="c", household_id="hh_c")
    text = incidents_csv(book)
    assert "scared" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert INCIDENT_COLUMNS[-2:] == ("survey", "survey_rating")
    assert [(row["survey"], row["survey_rating"]) for row in rows] == [
        ("answered", "3"),
        ("pending", ""),
        ("", ""),
    ]
    assert rows[2]["state"] == IncidentState.OPEN.value
