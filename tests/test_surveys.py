"""Tests of the satisfaction survey's pure rules (surveys.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from custom_components.silver_bell.const import SURVEY_DAYS
from custom_components.silver_bell.core.surveys import (
    FAMILY_KEEP,
    RATE_CHOICES,
    FamilySurvey,
    FamilySurveys,
    Survey,
    SurveyError,
    SurveyFigures,
    SurveyState,
    SurveyVia,
    check_rating,
    clean_comment,
    months_back,
    parse_rate_action,
    rate_action,
    survey_figures,
    survey_months,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DAYS = timedelta(days=SURVEY_DAYS)
INCIDENT = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def refused(code: str, call: Any) -> SurveyError:
    with pytest.raises(SurveyError) as info:
        call()
    assert info.value.code == code
    return info.value


# ------------------------------------------------------------------ input
@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_ratings_one_to_five(rating: int) -> None:
    assert check_rating(rating) == rating


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, 4.0, "4", "x", None])
def test_anything_else_is_not_a_rating(rating: Any) -> None:
    err = refused("invalid_rating", lambda: check_rating(rating))
    assert err.placeholders == {"rating": str(rating)}


def test_comments() -> None:
    assert clean_comment(None) is None
    assert clean_comment("   ") is None
    assert clean_comment("  came quickly \n") == "came quickly"
    assert clean_comment("很好" * 250) == "很好" * 250  # 500 characters
    # Surrounding whitespace does not count against the limit.
    assert clean_comment(" " + "x" * 500 + " ") == "x" * 500
    err = refused("comment_too_long", lambda: clean_comment("x" * 501))
    assert err.placeholders == {"limit": "500"}
    with pytest.raises(TypeError):
        clean_comment(5)


# ----------------------------------------------------------------- survey
def test_first_answer_wins() -> None:
    survey = Survey(asked_at=T0)
    assert survey.state is SurveyState.PENDING
    assert survey.deadline == T0 + DAYS
    later = T0 + timedelta(hours=2)
    assert survey.answer(
        rating=4, comment=" ok ", by="user:1", via=SurveyVia.HOUSEHOLD, now=later
    )
    assert survey.state is SurveyState.ANSWERED
    assert (survey.rating, survey.comment, survey.by, survey.via) == (
        4,
        "ok",
        "user:1",
        "household",
    )
    assert survey.answered_at == later
    before = survey.as_dict()
    # A repeat, the same or another, changes nothing (also after the deadline).
    assert not survey.answer(rating=4, comment="ok", via="household", now=later)
    assert not survey.answer(rating=1, comment="bad", via="hub", now=T0 + 2 * DAYS)
    assert survey.as_dict() == before
    assert survey.same_answer(4, "  ok")
    assert not survey.same_answer(4, None)
    assert not survey.same_answer(5, "ok")
    # Bad input is refused even then, and changes nothing.
    refused("invalid_rating", lambda: survey.answer(rating=9, via="hub", now=later))
    assert survey.as_dict() == before


def test_bad_input_changes_nothing() -> None:
    survey = Survey(asked_at=T0)
    refused("invalid_rating", lambda: survey.answer(rating=0, via="hub", now=T0))
    refused(
        "comment_too_long",
        lambda: survey.answer(rating=3, comment="x" * 501, via="hub", now=T0),
    )
    assert survey == Survey(asked_at=T0)
    with pytest.raises(ValueError, match="nowhere"):
        survey.answer(rating=3, via="nowhere", now=T0)


def test_seven_days_then_no_answer() -> None:
    survey = Survey(asked_at=T0)
    assert survey.open_at(T0 + DAYS - timedelta(seconds=1))
    assert not survey.open_at(T0 + DAYS)
    assert not survey.close_if_due(T0 + DAYS - timedelta(seconds=1))
    assert survey.state is SurveyState.PENDING
    # Noticed late (the hub was stopped): closed at the deadline all the same.
    assert survey.close_if_due(T0 + DAYS + timedelta(hours=5))
    assert survey.state is SurveyState.NO_ANSWER
    assert survey.closed_at == T0 + DAYS
    assert not survey.close_if_due(T0 + 3 * DAYS)
    refused("survey_closed", lambda: survey.answer(rating=5, via="hub", now=T0))
    assert survey.rating is None


def test_an_answer_past_the_deadline_closes_the_survey() -> None:
    survey = Survey(asked_at=T0)
    refused(
        "survey_closed",
        lambda: survey.answer(rating=5, via="household", now=T0 + DAYS),
    )
    assert survey.state is SurveyState.NO_ANSWER
    answered = Survey(asked_at=T0)
    assert answered.answer(rating=2, via="hub", now=T0 + DAYS - timedelta(minutes=1))
    assert not answered.close_if_due(T0 + 2 * DAYS)
    assert answered.state is SurveyState.ANSWERED


def test_erase_keeps_the_rating() -> None:
    family = Survey(asked_at=T0)
    family.answer(rating=2, comment="late", by="user:son", via="household", now=T0)
    family.erase()
    assert (family.rating, family.comment, family.by) == (2, None, None)
    desk = Survey(asked_at=T0)
    desk.answer(rating=5, comment="thanks", by="v-wang", via="hub", now=T0)
    desk.erase()
    # Who recorded it at the hub is a volunteer id, not the family's data.
    assert (desk.rating, desk.comment, desk.by) == (5, None, "v-wang")


def test_survey_storage_round_trip() -> None:
    survey = Survey(asked_at=T0)
    assert Survey.from_dict(survey.as_dict()) == survey
    survey.answer(rating=3, comment="ok", by="user:1", via="household", now=T0)
    stored = survey.as_dict()
    assert stored == {
        "state": "answered",
        "asked_at": "2026-11-24T08:00:00+00:00",
        "deadline": "2026-12-01T08:00:00+00:00",
        "answered_at": "2026-11-24T08:00:00+00:00",
        "rating": 3,
        "comment": "ok",
        "by": "user:1",
        "via": "household",
        "closed_at": None,
    }
    assert Survey.from_dict(stored) == survey
    closed = Survey(asked_at=T0)
    closed.close_if_due(T0 + DAYS)
    assert Survey.from_dict(closed.as_dict()).state is SurveyState.NO_ANSWER
    # Only asked_at is required.
    assert Survey.from_dict({"asked_at": T0.isoformat()}) == Survey(asked_at=T0)


# ---------------------------------------------------------------- figures
def answered(rating: int, at: datetime = T0) -> Survey:
    survey = Survey(asked_at=at)
    survey.answer(rating=rating, via="hub", now=at)
    return survey


def no_answer(at: datetime = T0) -> Survey:
    survey = Survey(asked_at=at)
    survey.close_if_due(at + DAYS)
    return survey


def test_figures() -> None:
    assert survey_figures([]) == SurveyFigures(
        asked=0,
        answered=0,
        no_answer=0,
        pending=0,
        average_rating=None,
        answered_pct=None,
    )
    # Pending surveys are counted as asked, not in the share until they settle.
    only_pending = survey_figures([Survey(asked_at=T0)])
    assert (only_pending.asked, only_pending.pending) == (1, 1)
    assert (only_pending.average_rating, only_pending.answered_pct) == (None, None)
    figures = survey_figures(
        [answered(5), answered(4), answered(2), no_answer(), Survey(asked_at=T0)]
    )
    assert figures == SurveyFigures(
        asked=5,
        answered=3,
        no_answer=1,
        pending=1,
        average_rating=11 / 3,
        answered_pct=75.0,
    )
    assert figures.as_dict() == {
        "asked": 5,
        "answered": 3,
        "no_answer": 1,
        "pending": 1,
        "average_rating": 3.67,
        "answered_pct": 75.0,
    }


def test_months_in_local_time() -> None:
    shanghai = timezone(timedelta(hours=8))
    # 30 November 20:00 UTC is already 1 December in Shanghai.
    late_november = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    surveys = [
        answered(4, datetime(2026, 10, 3, tzinfo=UTC)),
        answered(2, late_november),
        no_answer(datetime(2026, 11, 2, tzinfo=UTC)),
        answered(5, datetime(2026, 11, 5, tzinfo=UTC)),
    ]
    assert [row["month"] for row in survey_months(surveys)] == [
        "2026-10",
        "2026-11",
    ]
    local = survey_months(surveys, tz=shanghai)
    assert local == [
        {
            "month": "2026-10",
            "asked": 1,
            "answered": 1,
            "no_answer": 0,
            "pending": 0,
            "average_rating": 4.0,
            "answered_pct": 100.0,
        },
        {
            "month": "2026-11",
            "asked": 2,
            "answered": 1,
            "no_answer": 1,
            "pending": 0,
            "average_rating": 5.0,
            "answered_pct": 50.0,
        },
        {
            "month": "2026-12",
            "asked": 1,
            "answered": 1,
            "no_answer": 0,
            "pending": 0,
            "average_rating": 2.0,
            "answered_pct": 100.0,
        },
    ]
    assert survey_months([]) == []


@pytest.mark.parametrize(
    ("months", "start"),
    [
        (1, datetime(2026, 11, 1, tzinfo=UTC)),
        (0, datetime(2026, 11, 1, tzinfo=UTC)),
        (11, datetime(2026, 1, 1, tzinfo=UTC)),
        (12, datetime(2025, 12, 1, tzinfo=UTC)),
        (25, datetime(2024, 11, 1, tzinfo=UTC)),
    ],
)
def test_months_back(months: int, start: datetime) -> None:
    assert months_back(datetime(2026, 11, 24, 8, 30, 5, 7, tzinfo=UTC), months) == (
        start
    )


# ---------------------------------------------------------------- actions
def test_rate_actions() -> None:
    assert RATE_CHOICES == (1, 3, 5)
    action = rate_action(3, INCIDENT)
    assert action == f"SILVER_BELL_RATE_3_{INCIDENT}"
    assert parse_rate_action(action) == (3, INCIDENT)
    for other in (
        f"SILVER_BELL_RATE_0_{INCIDENT}",
        f"SILVER_BELL_RATE_6_{INCIDENT}",
        f"SILVER_BELL_RATE_5_{INCIDENT}_extra space",
        "SILVER_BELL_RATE_5_short",
        f"SILVER_BELL_ACK_{INCIDENT}",
        "OPEN_GARAGE",
        None,
        5,
    ):
        assert parse_rate_action(other) is None


# ----------------------------------------------------------------- family
def test_family_asked_once_also_for_merged_incidents() -> None:
    book = FamilySurveys()
    first = book.asked(INCIDENT, "help", T0)
    assert first is not None
    assert book.asked(INCIDENT, "help", T0) is None
    # Another of our incidents merged into the same hub incident: resolved at
    # the same moment, same kind. Asked once.
    assert book.asked("b" * 32, "help", T0) is None
    assert book.asked("c" * 32, "fire", T0) is not None
    assert book.asked("d" * 32, "help", T0 + timedelta(seconds=1)) is not None
    assert [item.incident_id for item in book.items] == [
        INCIDENT,
        "c" * 32,
        "d" * 32,
    ]
    assert book.get("b" * 32) is None


def test_family_answers() -> None:
    item = FamilySurvey(incident_id=INCIDENT, kind="help", survey=Survey(asked_at=T0))
    refused(
        "invalid_rating",
        lambda: item.answer(rating=6, comment=None, by="user:1", now=T0),
    )
    assert item.answer(rating=4, comment="ok", by="user:1", now=T0)
    assert item.survey.via == "household"
    # The same again: nothing to do; another one: refused.
    assert not item.answer(rating=4, comment=" ok", by="user:2", now=T0)
    refused(
        "survey_answered",
        lambda: item.answer(rating=5, comment="ok", by="user:1", now=T0),
    )
    assert item.survey.by == "user:1"

    at_hub = FamilySurvey(incident_id="e" * 32, kind="help", survey=Survey(asked_at=T0))
    at_hub.hub_state = SurveyState.ANSWERED  # the volunteer recorded it
    assert not at_hub.open_at(T0)
    refused(
        "survey_answered",
        lambda: at_hub.answer(rating=5, comment=None, by="family", now=T0),
    )
    closed = FamilySurvey(incident_id="f" * 32, kind="help", survey=Survey(asked_at=T0))
    closed.hub_state = SurveyState.NO_ANSWER
    refused(
        "survey_closed",
        lambda: closed.answer(rating=5, comment=None, by="family", now=T0),
    )
    late = FamilySurvey(incident_id="a" * 32, kind="help", survey=Survey(asked_at=T0))
    refused(
        "survey_closed",
        lambda: late.answer(rating=5, comment=None, by="family", now=T0 + DAYS),
    )


def test_family_book() -> None:
    book = FamilySurveys()
    old = book.asked("a" * 32, "help", T0)
    new = book.asked("b" * 32, "fire", T0 + timedelta(hours=1))
    assert old is not None
    assert new is not None
    assert book.latest_open(T0 + timedelta(hours=2)) is new
    new.answer(rating=5, comment=None, by="family", now=T0 + timedelta(hours=2))
    assert book.latest_open(T0 + timedelta(hours=2)) is old
    assert book.unsent() == [new]
    assert book.hub_says(new.incident_id, SurveyState.ANSWERED)
    assert not book.hub_says(new.incident_id, SurveyState.ANSWERED)
    assert not book.hub_says("unknown0", SurveyState.ANSWERED)
    assert book.unsent() == []
    assert book.latest_open(T0 + DAYS) is None

    restored = FamilySurveys.from_dict(book.as_dict())
    assert restored.as_dict() == book.as_dict()
    assert restored.get(new.incident_id) == new

    assert book.prune(T0 + DAYS + FAMILY_KEEP - timedelta(seconds=1)) == 0
    assert book.prune(T0 + DAYS + FAMILY_KEEP) == 1
    assert [item.incident_id for item in book.items] == ["b" * 32]


def test_family_book_from_garbage() -> None:
    assert FamilySurveys.from_dict(None).items == []
    assert FamilySurveys.from_dict({"x": 1}).items == []
    good = FamilySurvey(incident_id=INCIDENT, kind="help", survey=Survey(asked_at=T0))
    book = FamilySurveys.from_dict(
        [
            good.as_dict(),
            {"incident_id": "x"},
            {"incident_id": "y", "kind": "help", "survey": {"asked_at": "never"}},
            "junk",
            {**good.as_dict(), "hub_state": "maybe"},
        ]
    )
    assert [item.incident_id for item in book.items] == [INCIDENT]
