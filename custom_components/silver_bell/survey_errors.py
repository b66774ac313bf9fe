"""Survey answers from service calls: the rating read leniently, refusals translated.

Shared by the household's ``rate_help`` and the hub's ``record_survey`` (glue: the
rules themselves are in surveys.py).
"""

from __future__ import annotations

from typing import Any

from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN, SURVEY_DAYS
from .core.surveys import SurveyError, check_rating

# Survey refusals (surveys.SurveyError codes) and their translation keys.
_SURVEY_ERRORS = {
    "invalid_rating": "survey_invalid_rating",
    "comment_too_long": "survey_comment_too_long",
    "survey_closed": "survey_closed",
    "survey_answered": "survey_answered",
}


def survey_error(err: SurveyError) -> ServiceValidationError:
    """A refused survey answer as a translated service error."""
    placeholders = dict(err.placeholders)
    if err.code == "survey_closed":
        placeholders.setdefault("days", str(SURVEY_DAYS))
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=_SURVEY_ERRORS[err.code],
        translation_placeholders=placeholders,
    )


def service_rating(value: Any) -> int:
    """A rating from a service call (4, 4.0 or "4"); a translated error unless 1-5."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    try:
        return check_rating(value)
    except SurveyError as err:
        raise survey_error(err) from None
