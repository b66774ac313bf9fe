"""The household's side of the satisfaction survey (issue 22): ask the family, send the answer.

When the hub's progress on one of the household's incidents says ``survey:
"pending"`` (the hub resolved it, or learnt that the household did), the family
is asked once: a notification to each family notify target with the buttons
1 · 3 · 5 (Android shows at most three), answered through the companion app's
``mobile_app_notification_action`` event, or with the ``silver_bell.rate_help``
action (any rating 1–5 and a comment). The answer is kept in the household's
store and sent to the hub through the outbox, which delivers it across outages
and restarts; the hub's answer carries the progress that says it arrived.

The rules (one answer, seven days, what is personal) are in ``surveys.py``.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, EVENT_NOTIFICATION_ACTION
from ..core import messages
from ..core.bodies import Progress, survey_answer_body
from ..core.household.incidents import UnknownIncidentError
from ..core.models import IncidentKind
from ..core.surveys import (
    RATE_CHOICES,
    FamilySurvey,
    FamilySurveys,
    SurveyError,
    SurveyState,
    parse_rate_action,
    rate_action,
)
from ..survey_errors import service_rating, survey_error

if TYPE_CHECKING:
    from .runtime import Household

_LOGGER = logging.getLogger(__name__)

TAG_PREFIX = "silver_bell_survey_"


def survey_tag(incident_id: str) -> str:
    """The notification tag of the family's question about one incident."""
    return f"{TAG_PREFIX}{incident_id}"


class HouseholdSurveys:
    """Asks the family about handled alarms and forwards their answers."""

    def __init__(
        self, hass: HomeAssistant, household: Household, save: Callable[[], None]
    ) -> None:
        """Bind to the household; ``save`` writes the household's store at once."""
        self.hass = hass
        self.household = household
        self._save = save
        self.book = FamilySurveys()
        self._unsub: CALLBACK_TYPE | None = None

    # ----------------------------------------------------------------- life
    def load(self, data: Any) -> None:
        """Restore the surveys from the household's store."""
        self.book = FamilySurveys.from_dict(data)
        self.book.prune(dt_util.utcnow())

    def as_store(self) -> list[dict[str, Any]]:
        """What the household's store keeps."""
        return self.book.as_dict()

    @callback
    def async_start(self) -> None:
        """Listen for the family's rating buttons; queue answers that never reached the outbox."""
        self._unsub = self.hass.bus.async_listen(
            EVENT_NOTIFICATION_ACTION, self._async_action
        )
        forwarder = self.household.forwarder
        if forwarder is None:
            return
        # The household's store and the outbox are two files: an answer stored
        # just before a crash may be missing from the outbox. The hub keeps the
        # first answer only, so sending it again is harmless.
        for item in self.book.unsent():
            if not forwarder.survey_queued(item.incident_id):
                forwarder.enqueue_survey(item.incident_id, _body(item))

    @callback
    def async_stop(self) -> None:
        """Stop listening."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    # ------------------------------------------------------------------ hub
    @callback
    def hub_progress(self, progress: Progress) -> None:
        """The hub's progress on an incident: ask the family, or note the survey's end."""
        if progress.survey is None:
            return
        if progress.survey is not SurveyState.PENDING:
            if self.book.hub_says(progress.id, progress.survey):
                self._save()
            return
        try:
            incident = self.household.book.get(progress.id)
        except UnknownIncidentError:
            return
        now = dt_util.utcnow()
        item = self.book.asked(
            incident.id, incident.kind.value, progress.resolved_at or now
        )
        if item is None:
            return
        self.book.prune(now)
        self._save()
        if item.open_at(now) and self.household.notify_targets:
            self.household.entry.async_create_task(
                self.hass, self._async_ask(item), f"{DOMAIN}_survey_{item.incident_id}"
            )

    # --------------------------------------------------------------- family
    @callback
    def async_answer(
        self, incident_id: str | None, rating: Any, comment: str | None, by: str
    ) -> FamilySurvey:
        """Record the family's answer and send it to the hub (translated errors).

        Without ``incident_id``: the most recently asked survey still open. A
        repeat of the stored answer changes nothing; another answer is refused.
        """
        now = dt_util.utcnow()
        if incident_id:
            item = self.book.get(incident_id)
            if item is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="survey_not_asked",
                    translation_placeholders={"incident_id": incident_id},
                )
        else:
            item = self.book.latest_open(now)
            if item is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="no_survey",
                    translation_placeholders={"name": self.household.name},
                )
        rating = service_rating(rating)
        try:
            if not item.answer(rating=rating, comment=comment, by=by, now=now):
                return item  # the stored answer again: nothing to do
        except SurveyError as err:
            raise survey_error(err) from None
        self._save()
        if self.household.forwarder is not None:
            self.household.forwarder.enqueue_survey(item.incident_id, _body(item))
        if self.household.notify_targets:
            # The question is answered: take it off every family phone.
            self.household.entry.async_create_task(
                self.hass,
                self._async_send(
                    lambda _language: {
                        "message": "clear_notification",
                        "data": {"tag": survey_tag(item.incident_id)},
                    }
                ),
                f"{DOMAIN}_survey_clear_{item.incident_id}",
            )
        return item

    @callback
    def _async_action(self, event: Event) -> None:
        """A rating button of the family's question was tapped."""
        parsed = parse_rate_action(event.data.get("action"))
        if parsed is None:
            return
        rating, incident_id = parsed
        if self.book.get(incident_id) is None:
            return  # another household's question (several on one Home Assistant)
        user_id = event.context.user_id
        by = f"user:{user_id}" if user_id else "family"
        try:
            self.async_answer(incident_id, rating, None, by)
        except ServiceValidationError as err:
            _LOGGER.info(
                "Rating %s for incident %s not taken: %s",
                rating,
                incident_id,
                err.translation_key,
            )

    async def _async_ask(self, item: FamilySurvey) -> None:
        await self._async_send(
            lambda language: {
                "title": messages.title(language),
                "message": messages.survey_question(
                    IncidentKind(item.kind), self.household.name, language
                ),
                "data": {
                    "tag": survey_tag(item.incident_id),
                    "group": DOMAIN,
                    "actions": [
                        {
                            "action": rate_action(rating, item.incident_id),
                            "title": messages.rating_text(rating, language),
                        }
                        for rating in RATE_CHOICES
                    ],
                },
            }
        )

    async def _async_send(self, payload: Callable[[str], dict[str, Any]]) -> None:
        """Send to every family notify target in its language; failures are logged."""
        for target in self.household.notify_targets:
            service = target.removeprefix("notify.")
            try:
                await self.hass.services.async_call(
                    "notify",
                    service,
                    payload(self.household.language_of(target)),
                    blocking=True,
                )
            except (HomeAssistantError, ValueError) as err:
                _LOGGER.warning("Could not send the survey to %s: %s", service, err)


def _body(item: FamilySurvey) -> dict[str, Any]:
    survey = item.survey
    assert survey.rating is not None
    return survey_answer_body(survey.rating, survey.comment, survey.by)
