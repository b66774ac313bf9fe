"""Satisfaction surveys after handled alarms: state, answers, statistics (issue 22).

Pure logic (no Home Assistant import), used by both roles: the hub keeps one
:class:`Survey` on each surveyed hub incident (``core/hub/incidents.py``); the household
keeps a :class:`FamilySurvey` for each survey the hub asked it to put to the family.

Decisions taken here:

* **One survey per hub incident; the first answer wins.** A repeated answer (the
  same or another one) changes nothing and gets the stored answer back, so a
  retried or duplicated message is harmless. The glue of a person-facing service
  may refuse a *different* second answer with a message instead (:meth:`Survey.same_answer`).
* **Asked at the resolution, open for SURVEY_DAYS.** A survey nobody answered by
  ``asked_at + SURVEY_DAYS`` is closed as ``no_answer`` (``closed_at`` is that
  deadline, also when the hub notices later); an answer after the deadline is
  refused with ``survey_closed``, even before the hub's timer closed it. The hub's
  clock decides: an answer given at home in time but delivered after the
  deadline (a week-long outage) is refused too.
* **A rating is an integer 1–5** (``True`` is not one); a comment is optional
  text of at most SURVEY_COMMENT_MAX_CHARS characters, kept without surrounding
  whitespace; an empty comment is no comment.
* **The comment is personal data** (and so is who answered at home): it is
  part of the elder's export, cleared by :meth:`Survey.erase`, and never goes
  into entity states, attributes, events or the CSV export. Figures
  (:func:`survey_figures`, :func:`survey_months`) carry numbers only.
* **Share answered** = answered / (answered + closed without answer): a survey
  still waiting counts once it is settled, so last week's alarms do not pull
  the share down while families may still answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
import re
from typing import Any

from ..const import (
    SURVEY_COMMENT_MAX_CHARS,
    SURVEY_DAYS,
    SURVEY_RATING_MAX,
    SURVEY_RATING_MIN,
)

SURVEY_WINDOW = timedelta(days=SURVEY_DAYS)
# The household forgets its copy of a survey this long after the survey closed.
FAMILY_KEEP = timedelta(days=SURVEY_DAYS)

# Companion-app actions of the family's question: SILVER_BELL_RATE_<n>_<incident id>.
# Android shows at most three actions, so the question offers 1, 3 and 5; any
# rating 1-5 is accepted (the rate_help action takes all five and a comment).
RATE_ACTION = "SILVER_BELL_RATE"
RATE_CHOICES: tuple[int, ...] = (1, 3, 5)
_RATE_ACTION_RE = re.compile(rf"^{RATE_ACTION}_([1-5])_([A-Za-z0-9_-]{{8,64}})$")


class SurveyState(StrEnum):
    """Where a survey stands."""

    PENDING = "pending"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"


class SurveyVia(StrEnum):
    """How an answer arrived."""

    HOUSEHOLD = "household"  # the family, through the household's Home Assistant
    HUB = "hub"  # recorded at the hub by a volunteer or the duty desk


class SurveyError(ValueError):
    """A refused answer; ``code`` is translated by the glue.

    Codes: ``invalid_rating``, ``comment_too_long``, ``survey_closed``.
    """

    def __init__(self, code: str, **placeholders: str) -> None:
        """Keep the code and its placeholders."""
        super().__init__(f"{code}: {placeholders}" if placeholders else code)
        self.code = code
        self.placeholders: dict[str, str] = placeholders


def check_rating(value: Any) -> int:
    """The rating as an int; SurveyError ``invalid_rating`` unless an integer 1-5."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not SURVEY_RATING_MIN <= value <= SURVEY_RATING_MAX
    ):
        raise SurveyError("invalid_rating", rating=str(value))
    return value


def clean_comment(value: Any) -> str | None:
    """The comment stripped (None if empty); SurveyError ``comment_too_long``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("a comment is text")
    text = value.strip()
    if len(text) > SURVEY_COMMENT_MAX_CHARS:
        raise SurveyError("comment_too_long", limit=str(SURVEY_COMMENT_MAX_CHARS))
    return text or None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_iso(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(kw_only=True, slots=True)
class Survey:
    """One survey: asked when its incident was resolved, answered once or closed."""

    asked_at: datetime
    answered_at: datetime | None = None
    rating: int | None = None
    comment: str | None = None
    by: str | None = None  # who answered (a person or a volunteer id)
    via: str | None = None  # a SurveyVia value, once answered
    closed_at: datetime | None = None  # closed without an answer

    @property
    def deadline(self) -> datetime:
        """When the survey closes if nobody answered."""
        return self.asked_at + SURVEY_WINDOW

    @property
    def state(self) -> SurveyState:
        """Pending, answered or closed without an answer."""
        if self.rating is not None:
            return SurveyState.ANSWERED
        if self.closed_at is not None:
            return SurveyState.NO_ANSWER
        return SurveyState.PENDING

    def open_at(self, now: datetime) -> bool:
        """Whether an answer given at ``now`` would be taken."""
        return self.state is SurveyState.PENDING and now < self.deadline

    def close_if_due(self, now: datetime) -> bool:
        """Close as "no answer" once the deadline passed; True if closed now."""
        if self.state is not SurveyState.PENDING or now < self.deadline:
            return False
        self.closed_at = self.deadline
        return True

    def answer(
        self,
        *,
        rating: Any,
        comment: Any = None,
        by: str | None = None,
        via: SurveyVia | str,
        now: datetime,
    ) -> bool:
        """Record an answer; True if stored, False if one was already (first wins).

        SurveyError ``invalid_rating`` / ``comment_too_long`` for bad input (checked
        first, so bad input never changes anything), ``survey_closed`` once closed
        without an answer or past the deadline.
        """
        rating = check_rating(rating)
        comment = clean_comment(comment)
        if self.state is SurveyState.ANSWERED:
            return False
        self.close_if_due(now)
        if self.state is SurveyState.NO_ANSWER:
            raise SurveyError("survey_closed")
        self.rating = rating
        self.comment = comment
        self.by = by
        self.via = SurveyVia(via).value
        self.answered_at = now
        return True

    def same_answer(self, rating: Any, comment: Any) -> bool:
        """Whether the stored answer is this one (a harmless repeat)."""
        return self.rating == rating and self.comment == clean_comment(comment)

    def erase(self) -> None:
        """Drop what is personal: the comment, and who answered at home."""
        self.comment = None
        if self.via == SurveyVia.HOUSEHOLD:
            self.by = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the per-person export."""
        return {
            "state": self.state.value,
            "asked_at": self.asked_at.isoformat(),
            "deadline": self.deadline.isoformat(),
            "answered_at": _iso(self.answered_at),
            "rating": self.rating,
            "comment": self.comment,
            "by": self.by,
            "via": self.via,
            "closed_at": _iso(self.closed_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Survey:
        """Rebuild from storage (``state`` and ``deadline`` are derived, not read)."""
        rating = data.get("rating")
        return cls(
            asked_at=datetime.fromisoformat(str(data["asked_at"])),
            answered_at=_from_iso(data.get("answered_at")),
            rating=None if rating is None else int(rating),
            comment=_text(data.get("comment")),
            by=_text(data.get("by")),
            via=_text(data.get("via")),
            closed_at=_from_iso(data.get("closed_at")),
        )


# ------------------------------------------------------------------ figures
@dataclass(frozen=True, slots=True)
class SurveyFigures:
    """Counts and averages of a set of surveys (numbers only: no comments)."""

    asked: int
    answered: int
    no_answer: int
    pending: int
    average_rating: float | None  # None: no rating yet
    answered_pct: float | None  # 0-100 of the settled surveys; None: none settled

    def as_dict(self) -> dict[str, Any]:
        """For a service response (averages rounded to two decimals)."""
        return {
            "asked": self.asked,
            "answered": self.answered,
            "no_answer": self.no_answer,
            "pending": self.pending,
            "average_rating": _round(self.average_rating),
            "answered_pct": _round(self.answered_pct),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def survey_figures(surveys: Iterable[Survey]) -> SurveyFigures:
    """Asked, answered, closed without answer, pending; average rating, share answered."""
    ratings: list[int] = []
    no_answer = pending = 0
    for survey in surveys:
        state = survey.state
        if state is SurveyState.ANSWERED and survey.rating is not None:
            ratings.append(survey.rating)
        elif state is SurveyState.NO_ANSWER:
            no_answer += 1
        else:
            pending += 1
    answered = len(ratings)
    settled = answered + no_answer
    return SurveyFigures(
        asked=answered + no_answer + pending,
        answered=answered,
        no_answer=no_answer,
        pending=pending,
        average_rating=sum(ratings) / answered if answered else None,
        answered_pct=100.0 * answered / settled if settled else None,
    )


def survey_months(
    surveys: Iterable[Survey], *, tz: tzinfo | None = None
) -> list[dict[str, Any]]:
    """Figures per calendar month of the asking (in ``tz``), oldest month first."""
    months: dict[str, list[Survey]] = {}
    for survey in surveys:
        moment = survey.asked_at if tz is None else survey.asked_at.astimezone(tz)
        months.setdefault(f"{moment.year:04d}-{moment.month:02d}", []).append(survey)
    return [
        {"month": month, **survey_figures(items).as_dict()}
        for month, items in sorted(months.items())
    ]


def months_back(now: datetime, months: int) -> datetime:
    """The start of the calendar month ``months - 1`` before ``now``'s (in its zone).

    ``months_back(now, 1)`` is the first moment of this month; 12 covers a year.
    """
    index = now.year * 12 + now.month - 1 - (max(months, 1) - 1)
    return now.replace(
        year=index // 12,
        month=index % 12 + 1,
        day=1,
        hour=0,
        minute=0,
        second=0,
        microsecond=0,
    )


# ------------------------------------------------------------------- family
def rate_action(rating: int, incident_id: str) -> str:
    """The companion-app action id of one rating button of the family's question."""
    return f"{RATE_ACTION}_{rating}_{incident_id}"


def parse_rate_action(action: Any) -> tuple[int, str] | None:
    """(rating, household incident id) from a rating button's action id, else None."""
    if not isinstance(action, str):
        return None
    match = _RATE_ACTION_RE.match(action)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


@dataclass(kw_only=True, slots=True)
class FamilySurvey:
    """The household's copy of a survey the hub asked for (about one of its incidents)."""

    incident_id: str  # the household's incident id (the hub knows it as a source id)
    kind: str
    survey: Survey  # asked_at: when the hub resolved the incident
    hub_state: SurveyState = SurveyState.PENDING  # the last state the hub reported

    def open_at(self, now: datetime) -> bool:
        """Whether the family can still answer."""
        return self.hub_state is SurveyState.PENDING and self.survey.open_at(now)

    def answer(self, *, rating: Any, comment: Any, by: str, now: datetime) -> bool:
        """The family's answer: True if stored now, False for a repeat of the stored one.

        SurveyError ``invalid_rating`` / ``comment_too_long`` (checked first),
        ``survey_answered`` (another answer was given here, or recorded at the
        hub), ``survey_closed`` (past the deadline, or the hub closed it).
        """
        rating = check_rating(rating)
        comment = clean_comment(comment)
        if self.survey.state is SurveyState.ANSWERED:
            if self.survey.same_answer(rating, comment):
                return False
            raise SurveyError("survey_answered")
        if self.hub_state is SurveyState.ANSWERED:
            raise SurveyError("survey_answered")
        if self.hub_state is SurveyState.NO_ANSWER:
            raise SurveyError("survey_closed")
        return self.survey.answer(
            rating=rating, comment=comment, by=by, via=SurveyVia.HOUSEHOLD, now=now
        )

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the household's store."""
        return {
            "incident_id": self.incident_id,
            "kind": self.kind,
            "survey": self.survey.as_dict(),
            "hub_state": self.hub_state.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FamilySurvey:
        """Rebuild from the household's store."""
        return cls(
            incident_id=str(data["incident_id"]),
            kind=str(data["kind"]),
            survey=Survey.from_dict(data["survey"]),
            hub_state=SurveyState(data.get("hub_state", SurveyState.PENDING)),
        )


class FamilySurveys:
    """The surveys a household was asked to put to the family."""

    def __init__(self, items: Iterable[FamilySurvey] = ()) -> None:
        """Start empty or from stored surveys."""
        self._items: dict[str, FamilySurvey] = {
            item.incident_id: item for item in items
        }

    @property
    def items(self) -> list[FamilySurvey]:
        """Every survey kept, oldest question first."""
        return sorted(self._items.values(), key=lambda item: item.survey.asked_at)

    def get(self, incident_id: str) -> FamilySurvey | None:
        """The survey about one incident, if the hub asked one."""
        return self._items.get(incident_id)

    def asked(
        self, incident_id: str, kind: str, asked_at: datetime
    ) -> FamilySurvey | None:
        """The hub asks about an incident: the new survey, or None if nothing new.

        None when the survey is known already, and when it is the survey of a hub
        incident the family is being asked about already: household incidents the
        hub merged into one are resolved together, so a survey of the same kind
        asked at the same moment is the same survey (asked once, answered once).
        """
        if incident_id in self._items:
            return None
        for item in self._items.values():
            if item.kind == kind and item.survey.asked_at == asked_at:
                return None
        item = FamilySurvey(
            incident_id=incident_id, kind=kind, survey=Survey(asked_at=asked_at)
        )
        self._items[incident_id] = item
        return item

    def hub_says(self, incident_id: str, state: SurveyState) -> bool:
        """Record the survey state the hub reported; True if it changed."""
        item = self._items.get(incident_id)
        if item is None or item.hub_state is state:
            return False
        item.hub_state = state
        return True

    def latest_open(self, now: datetime) -> FamilySurvey | None:
        """The most recently asked survey the family can still answer."""
        open_items = [item for item in self.items if item.open_at(now)]
        return open_items[-1] if open_items else None

    def unsent(self) -> list[FamilySurvey]:
        """Answered at home, and the hub has not confirmed it yet."""
        return [
            item
            for item in self.items
            if item.survey.via == SurveyVia.HOUSEHOLD
            and item.hub_state is SurveyState.PENDING
        ]

    def prune(self, now: datetime) -> int:
        """Forget surveys closed more than FAMILY_KEEP ago; returns how many."""
        old = [
            key
            for key, item in self._items.items()
            if now >= item.survey.deadline + FAMILY_KEEP
        ]
        for key in old:
            del self._items[key]
        return len(old)

    def as_dict(self) -> list[dict[str, Any]]:
        """Serialise for the household's store."""
        return [item.as_dict() for item in self.items]

    @classmethod
    def from_dict(cls, data: Any) -> FamilySurveys:
        """Rebuild from the household's store (anything not a list: empty)."""
        if not isinstance(data, list):
            return cls()
        items: list[FamilySurvey] = []
        for raw in data:
            try:
                items.append(FamilySurvey.from_dict(raw))
            except (KeyError, TypeError, ValueError):
                continue
        return cls(items)
