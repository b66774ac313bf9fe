"""Tests of the survey's part of the wire protocol (pure, no Home Assistant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.silver_bell.core.bodies import (
    InvalidField,
    Progress,
    SurveyAnswer,
    parse_progress,
    parse_survey_answer,
    progress_body,
    survey_answer_body,
    survey_body,
)
from custom_components.silver_bell.core.models import IncidentState
from custom_components.silver_bell.core.protocol import (
    ERRORS,
    Rejection,
    encode_body,
    survey_path,
)
from custom_components.silver_bell.core.surveys import Survey, SurveyState

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
INCIDENT = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"
DOCS = Path(__file__).parent.parent / "docs" / "protocol.md"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def rejected(payload: Any) -> Rejection:
    with pytest.raises(Rejection) as info:
        parse_survey_answer(payload)
    return info.value


def test_path_and_errors() -> None:
    assert survey_path(INCIDENT) == f"/api/silver_bell/v1/incidents/{INCIDENT}/survey"
    assert ERRORS["survey_closed"] == 409
    assert ERRORS["no_survey"] == 409


def test_answer_round_trip() -> None:
    body = survey_answer_body(4, "Came in ten minutes", "user:9b1f0c2d")
    assert body == {
        "v": 1,
        "survey": {
            "rating": 4,
            "comment": "Came in ten minutes",
            "by": "user:9b1f0c2d",
        },
    }
    wire = json.loads(encode_body(body))
    assert parse_survey_answer(wire) == SurveyAnswer(
        rating=4, comment="Came in ten minutes", by="user:9b1f0c2d"
    )
    # Only the rating is required; by is cut to what the hub accepts.
    assert parse_survey_answer({"v": 1, "survey": {"rating": 1}}) == SurveyAnswer(
        rating=1, comment=None, by=None
    )
    long_by = survey_answer_body(5, None, "x" * 300)
    assert parse_survey_answer(long_by).by == "x" * 200
    # Unknown keys are ignored (forward compatibility), within the limit.
    assert parse_survey_answer(
        {"v": 1, "survey": {"rating": 5, "mood": "happy"}, "extra": 1}
    ) == SurveyAnswer(rating=5, comment=None, by=None)
    assert parse_survey_answer(
        {"v": 1, "survey": {"rating": 2, "comment": "很" * 500}}
    ).comment == ("很" * 500)


@pytest.mark.parametrize(
    ("survey", "field"),
    [
        ({"rating": 0}, "survey.rating"),
        ({"rating": 6}, "survey.rating"),
        ({"rating": "x"}, "survey.rating"),
        ({"rating": "4"}, "survey.rating"),
        ({"rating": 4.0}, "survey.rating"),
        ({"rating": True}, "survey.rating"),
        ({"rating": None}, "survey.rating"),
        ({}, "survey.rating"),
        ({"rating": 3, "comment": "x" * 501}, "survey.comment"),
        ({"rating": 3, "comment": 3}, "survey.comment"),
        ({"rating": 3, "by": "x" * 201}, "survey.by"),
        ({"rating": 3, "by": ["me"]}, "survey.by"),
        ({"rating": 3, **{f"k{i}": i for i in range(17)}}, "survey"),
        ("rating 3", "survey"),
    ],
)
def test_bad_answers_name_the_field(survey: Any, field: str) -> None:
    rejection = rejected({"v": 1, "survey": survey})
    assert (rejection.status, rejection.code, rejection.field) == (
        400,
        "invalid",
        field,
    )
    assert rejection.body()["field"] == field


def test_envelope() -> None:
    assert rejected([]).field == "body"
    assert rejected({"survey": {"rating": 3}}).field == "v"
    assert rejected({"v": 1}).field == "survey"
    future = rejected({"v": 2, "survey": {"rating": 3}})
    assert (future.status, future.code, future.field) == (
        400,
        "unsupported_version",
        "v",
    )


def test_survey_body_is_the_stored_survey() -> None:
    survey = Survey(asked_at=T0)
    assert survey_body(survey) == {
        "state": "pending",
        "asked_at": "2026-11-24T08:00:00+00:00",
        "deadline": "2026-12-01T08:00:00+00:00",
        "answered_at": None,
        "rating": None,
        "comment": None,
        "by": None,
    }
    survey.answer(
        rating=4,
        comment="ok",
        by="user:1",
        via="household",
        now=T0 + timedelta(hours=1),
    )
    body = survey_body(survey)
    assert (body["state"], body["rating"], body["comment"], body["answered_at"]) == (
        "answered",
        4,
        "ok",
        "2026-11-24T09:00:00+00:00",
    )


def progress(survey: SurveyState | None) -> Progress:
    return Progress(
        id=INCIDENT,
        state=IncidentState.RESOLVED,
        colour="red",
        acknowledged_by="Wang Fang",
        acknowledged_at=T0,
        on_the_way_at=None,
        resolved_at=T0 + timedelta(minutes=20),
        resolution="resident_ok",
        updated_at=T0 + timedelta(minutes=20),
        survey=survey,
    )


@pytest.mark.parametrize("state", [None, *SurveyState])
def test_progress_carries_the_survey_state(state: SurveyState | None) -> None:
    body = progress_body(progress(state))
    assert body["survey"] == (None if state is None else state.value)
    assert parse_progress(json.loads(json.dumps(body))) == progress(state)


def test_progress_without_survey_from_an_older_hub() -> None:
    body = progress_body(progress(SurveyState.PENDING))
    del body["survey"]
    assert parse_progress(body).survey is None


@pytest.mark.parametrize("value", ["maybe", 1, True, ["pending"]])
def test_progress_bad_survey_names_the_field(value: Any) -> None:
    body = progress_body(progress(None))
    body["survey"] = value
    with pytest.raises(InvalidField) as info:
        parse_progress(body)
    assert info.value.field == "progress.survey"


def test_docs_describe_the_survey() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for needle in (
        "/api/silver_bell/v1/incidents/{id}/survey",
        "`survey_closed`",
        "`no_survey`",
        "| `rating` | yes |",
        "| `comment` | no |",
        "| `survey` |",
        "## Satisfaction survey",
    ):
        assert needle in text
