"""The family's side of the satisfaction survey: asked, answered, delivered to the hub."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.silver_bell.const import (
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_NOTIFY,
    CONF_SECRET,
    DOMAIN,
)
from custom_components.silver_bell.core import messages
from custom_components.silver_bell.core.bodies import Progress
from custom_components.silver_bell.core.hub.pushes import (
    ACTION_ACCEPT,
    ACTION_RESOLVE,
    action_id,
)
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.protocol import decode_pairing
from custom_components.silver_bell.core.surveys import SurveyState, rate_action
from custom_components.silver_bell.household.survey import survey_tag

from .common import setup_household
from .conftest import HOUSEHOLD_DATA
from .test_hub import Pager, _call, _hub, _start_hub, _url

FAMILY = "mobile_app_family_phone"


async def _household(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    code: str,
    client: TestClient,
) -> MockConfigEntry:
    """A household paired with the hub, telling the family's phone."""
    pairing = decode_pairing(code)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Grandma Li",
        data={
            **HOUSEHOLD_DATA,
            CONF_HUB_URL: _url(client),
            CONF_HOUSEHOLD_ID: pairing.household_id,
            CONF_SECRET: pairing.secret,
        },
        options={CONF_NOTIFY: [f"notify.{FAMILY}"]},
        entry_id="household01",
    )
    entry.add_to_hass(hass)
    await setup_household(hass, entry, freezer, start=None)
    return entry


class Setup:
    """Hub and household in one Home Assistant, and the phones they notify."""

    def __init__(
        self, hass: HomeAssistant, hub_entry: MockConfigEntry, entry: MockConfigEntry
    ) -> None:
        self.hass = hass
        self.hub_entry = hub_entry
        self.entry = entry

    @property
    def household(self) -> Any:
        return self.entry.runtime_data

    @property
    def hub(self) -> Any:
        return _hub(self.hub_entry)

    def questions(self, calls: list[ServiceCall]) -> list[dict[str, Any]]:
        return [
            dict(call.data)
            for call in calls
            if str(call.data.get("data", {}).get("tag", "")).startswith(
                "silver_bell_survey_"
            )
        ]

    async def help_call_handled_by_volunteer(self) -> tuple[Any, Any]:
        """A help call accepted and resolved by Wang Fang, mirrored at home."""
        await _call(self.hass, "raise_help", {"message": "fell"})
        await self.hass.async_block_till_done()
        incident = self.hub.incidents.active[0]
        for action in (ACTION_ACCEPT, ACTION_RESOLVE):
            self.hass.bus.async_fire(
                "mobile_app_notification_action",
                {"action": action_id(action, incident.id, "v-wang")},
            )
            await self.hass.async_block_till_done()
        await self.household.forwarder.async_poll()
        await self.hass.async_block_till_done()
        local = next(iter(incident.source_ids))
        return incident, self.household.book.get(local)


@pytest.fixture
async def setup(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> Setup:
    Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    entry = await _household(hass, freezer, code, client)
    return Setup(hass, hub_entry, entry)


async def _rate(hass: HomeAssistant, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, "rate_help", data, blocking=True, return_response=True
    )


async def _refused(hass: HomeAssistant, key: str, **data: Any) -> dict[str, str]:
    with pytest.raises(ServiceValidationError) as info:
        await _rate(hass, **data)
    assert info.value.translation_key == key
    return info.value.translation_placeholders


async def test_the_family_rates_from_the_notification(
    hass: HomeAssistant, setup: Setup, hass_admin_user: Any
) -> None:
    family = async_mock_service(hass, "notify", FAMILY)
    incident, local = await setup.help_call_handled_by_volunteer()
    assert local.state is IncidentState.RESOLVED
    assert incident.survey.state is SurveyState.PENDING

    # The family is asked once, with three buttons (Android shows three).
    questions = setup.questions(family)
    assert len(questions) == 1
    question = questions[0]
    assert question["data"]["tag"] == survey_tag(local.id)
    assert [action["action"] for action in question["data"]["actions"]] == [
        rate_action(rating, local.id) for rating in (1, 3, 5)
    ]
    assert [action["title"] for action in question["data"]["actions"]] == [
        "1 · Poor",
        "3 · OK",
        "5 · Very good",
    ]
    assert question["message"] == messages.survey_question(
        IncidentKind.HELP, "Grandma Li", "en"
    )
    assert "Help call at Grandma Li's home is over" in question["message"]
    # Polling again does not ask again.
    await setup.household.forwarder.async_poll()
    await hass.async_block_till_done()
    assert len(setup.questions(family)) == 1

    # Buttons of other households' questions (one Home Assistant) are ignored.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": rate_action(1, "f" * 32)}
    )
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": rate_action(5, local.id)},
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    survey = incident.survey
    assert (survey.state, survey.rating, survey.via) == (
        SurveyState.ANSWERED,
        5,
        "household",
    )
    assert survey.by == f"user:{hass_admin_user.id}"
    assert setup.household.forwarder.outbox.pending == []
    assert setup.household.surveys.book.get(local.id).hub_state is (
        SurveyState.ANSWERED
    )
    # The question is taken off every family phone.
    assert family[-1].data == {
        "message": "clear_notification",
        "data": {"tag": survey_tag(local.id)},
    }
    # A second tap (another family member) changes nothing.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": rate_action(1, local.id)}
    )
    await hass.async_block_till_done()
    assert survey.rating == 5

    # The household remembers across a restart.
    assert await hass.config_entries.async_unload(setup.entry.entry_id)
    assert await hass.config_entries.async_setup(setup.entry.entry_id)
    await hass.async_block_till_done()
    item = setup.household.surveys.book.get(local.id)
    assert (item.survey.rating, item.hub_state) == (5, SurveyState.ANSWERED)


async def test_rate_help_action_with_a_comment(
    hass: HomeAssistant, setup: Setup
) -> None:
    family = async_mock_service(hass, "notify", FAMILY)
    await _refused(hass, "no_survey", rating=4)
    await _call(hass, "raise_help", {})
    await hass.async_block_till_done()
    incident = setup.hub.incidents.active[0]
    await _refused(hass, "survey_not_asked", incident_id=incident.id, rating=4)
    # The family closes it at home: the hub's answer asks for the survey.
    await _call(hass, "resolve", {"resolution": "false_alarm"})
    await hass.async_block_till_done()
    assert not incident.active
    assert len(setup.questions(family)) == 1
    local = next(iter(incident.source_ids))

    for rating in (0, 6, "x", 2.5):
        placeholders = await _refused(hass, "survey_invalid_rating", rating=rating)
        assert placeholders == {"rating": str(rating)}
    await _refused(hass, "survey_comment_too_long", rating=3, comment="x" * 501)
    await _refused(hass, "survey_not_asked", incident_id="nope0000", rating=3)
    assert incident.survey.state is SurveyState.PENDING
    assert setup.household.forwarder.outbox.pending == []

    comment = "Pressed it by mistake; Wang Fang called at once. 谢谢！"
    response = await _rate(hass, rating="4", comment=comment)
    await hass.async_block_till_done()
    assert response == {"incident_id": local, "rating": 4}
    assert (incident.survey.rating, incident.survey.comment) == (4, comment)
    assert incident.survey.by == "service"
    # The same again is harmless; another answer is refused: the first counts.
    assert await _rate(hass, incident_id=local, rating=4.0, comment=comment)
    await _refused(hass, "survey_answered", incident_id=local, rating=2)
    await _refused(hass, "no_survey", rating=2)
    assert incident.survey.rating == 4


async def test_answer_survives_an_outage_and_a_crash(
    hass: HomeAssistant, setup: Setup
) -> None:
    async_mock_service(hass, "notify", FAMILY)
    incident, local = await setup.help_call_handled_by_volunteer()
    forwarder = setup.household.forwarder
    hub_url = forwarder.pairing.url
    # The hub becomes unreachable (nothing listens on port 9).
    forwarder.pairing = type(forwarder.pairing)(
        "http://127.0.0.1:9", forwarder.pairing.household_id, forwarder.pairing.secret
    )
    await _rate(hass, rating=2, comment="Help came late")
    await hass.async_block_till_done()
    pending = forwarder.outbox.pending
    assert [item.path.rsplit("/", 1)[-1] for item in pending] == ["survey"]
    assert incident.survey.state is SurveyState.PENDING
    # The process dies between the household's two writes: the answer is in
    # the household's store, not in the outbox.
    forwarder.outbox.delivered(pending[0].id)
    await forwarder.async_stop()
    assert forwarder.pairing.url != hub_url
    assert await hass.config_entries.async_unload(setup.entry.entry_id)
    # Back up, with the hub reachable again: the answer is queued again and arrives.
    assert await hass.config_entries.async_setup(setup.entry.entry_id)
    await hass.async_block_till_done()
    assert (incident.survey.rating, incident.survey.comment) == (2, "Help came late")
    assert setup.household.forwarder.outbox.pending == []
    item = setup.household.surveys.book.get(local.id)
    assert item.hub_state is SurveyState.ANSWERED


async def test_the_question_closes_after_seven_days(
    hass: HomeAssistant, setup: Setup, freezer: FrozenDateTimeFactory
) -> None:
    family = async_mock_service(hass, "notify", FAMILY)
    incident, local = await setup.help_call_handled_by_volunteer()
    freezer.tick(timedelta(days=7, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert incident.survey.state is SurveyState.NO_ANSWER
    placeholders = await _refused(hass, "survey_closed", incident_id=local.id, rating=5)
    assert placeholders == {"days": "7"}
    await _refused(hass, "no_survey", rating=5)
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": rate_action(5, local.id)}
    )
    await hass.async_block_till_done()
    assert incident.survey.rating is None
    assert setup.household.forwarder.outbox.pending == []
    assert len(setup.questions(family)) == 1


async def test_recorded_at_the_hub_first(hass: HomeAssistant, setup: Setup) -> None:
    async_mock_service(hass, "notify", FAMILY)
    incident, local = await setup.help_call_handled_by_volunteer()
    await _call(
        hass,
        "record_survey",
        {"incident_id": incident.id, "rating": 3, "volunteer_id": "v-wang"},
    )
    # The family answers later: the hub keeps the first answer, and says so.
    await _rate(hass, rating=5)
    await hass.async_block_till_done()
    assert (incident.survey.rating, incident.survey.via) == (3, "hub")
    item = setup.household.surveys.book.get(local.id)
    assert item.hub_state is SurveyState.ANSWERED
    assert setup.household.forwarder.outbox.dead_letters == []
    await _refused(hass, "survey_answered", incident_id=local.id, rating=4)


async def test_a_broken_family_phone_does_not_stop_the_others(
    hass: HomeAssistant, setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    family = async_mock_service(hass, "notify", FAMILY)

    async def broken(call: ServiceCall) -> None:
        raise ServiceValidationError("phone gone")

    hass.services.async_register("notify", "old_phone", broken)
    hass.config_entries.async_update_entry(
        setup.entry, options={CONF_NOTIFY: ["notify.old_phone", f"notify.{FAMILY}"]}
    )
    await hass.async_block_till_done()
    assert setup.household.notify_targets == ["notify.old_phone", f"notify.{FAMILY}"]
    incident, local = await setup.help_call_handled_by_volunteer()
    assert len(setup.questions(family)) == 1
    assert "Could not send the survey to old_phone" in caplog.text
    # A progress about an incident this home does not have asks nothing.
    setup.household.surveys.hub_progress(
        Progress(
            id="0" * 32,
            state=IncidentState.RESOLVED,
            colour="red",
            acknowledged_by=None,
            acknowledged_at=None,
            on_the_way_at=None,
            resolved_at=incident.resolved_at,
            resolution="false_alarm",
            updated_at=incident.resolved_at,
            survey=SurveyState.PENDING,
        )
    )
    await hass.async_block_till_done()
    assert setup.household.surveys.book.get("0" * 32) is None
    assert len(setup.questions(family)) == 1
    await _rate(hass, rating=3)
    await hass.async_block_till_done()
    assert incident.survey.rating == 3
    assert local.id in {item.incident_id for item in setup.household.surveys.book.items}


def test_question_texts() -> None:
    assert messages.survey_question(IncidentKind.FIRE, "李奶奶", "zh-Hans") == (
        "李奶奶家的火警已处理完毕。救助是否及时？您满意吗？请打分：1分很差，5分很好。"
    )
    assert [messages.rating_text(rating, "zh") for rating in range(1, 6)] == [
        "1分 很差",
        "2分 较差",
        "3分 一般",
        "4分 满意",
        "5分 非常满意",
    ]
    assert messages.rating_text(4, "en") == "4 · Good"
