"""The hub's survey endpoint over signed HTTP, its services and its statistics."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.silver_bell.const import DOMAIN
from custom_components.silver_bell.core.protocol import (
    PATH_INCIDENTS,
    Pairing,
    decode_pairing,
    incident_path,
    survey_path,
)
from custom_components.silver_bell.core.surveys import SurveyState

from .test_hub import Pager, _call, _hub, _signed, _start_hub

SOURCE = "a1b2c3d4e5f6a7b8"
COMMENT = "Wang Fang came within ten minutes, Grandma Li was grateful"


class Home:
    """One household speaking the protocol by hand."""

    def __init__(self, client: TestClient, pairing: Pairing) -> None:
        self.client = client
        self.pairing = pairing

    async def request(
        self, method: str, path: str, payload: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        body = raw if raw is not None else b""
        if payload is not None:
            body = json.dumps(payload).encode()
        response = await _signed(
            self.client,
            method,
            path,
            body,
            self.pairing.household_id,
            self.pairing.secret,
        )
        return response.status, await response.json()

    async def report(self, source: str = SOURCE, kind: str = "fire") -> Any:
        now = dt_util.utcnow().isoformat()
        incident = {
            "id": source,
            "seq": 1,
            "kind": kind,
            "state": "open",
            "test": False,
            "created_at": now,
            "updated_at": now,
            "escalated_at": now,
            "details": {},
        }
        status, body = await self.request(
            "POST", PATH_INCIDENTS, {"v": 1, "incident": incident}
        )
        assert status == 200
        return body["progress"]

    async def answer(self, survey: Any, source: str = SOURCE) -> tuple[int, Any]:
        return await self.request(
            "POST", survey_path(source), {"v": 1, "survey": survey}
        )


async def _home(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> Home:
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    return Home(client, decode_pairing(code))


async def _resolved(hass: HomeAssistant, hub_entry: MockConfigEntry, home: Home) -> Any:
    await home.report()
    incident = _hub(hub_entry).incidents.by_source(SOURCE)
    await _call(
        hass, "hub_resolve", {"incident_id": incident.id, "resolution": "false_alarm"}
    )
    return incident


def _hub_states(hass: HomeAssistant, hub_entry: MockConfigEntry) -> str:
    return json.dumps(
        [
            hass.states.get(entity.entity_id).as_dict()
            for entity in er.async_entries_for_config_entry(
                er.async_get(hass), hub_entry.entry_id
            )
            if entity.disabled_by is None
        ],
        default=str,
    )


def _sensor(hass: HomeAssistant, hub_entry: MockConfigEntry, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{hub_entry.entry_id}_{key}"
    )
    assert entity_id is not None
    return hass.states.get(entity_id).state


async def test_the_family_answers_over_http(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    Pager(hass)
    home = await _home(hass, hub_entry, hass_client_no_auth)
    await home.report()
    # Still open: there is nothing to answer yet.
    status, body = await home.answer({"rating": 4})
    assert (status, body["error"]) == (409, "no_survey")
    incident = _hub(hub_entry).incidents.by_source(SOURCE)
    await _call(
        hass, "hub_resolve", {"incident_id": incident.id, "resolution": "false_alarm"}
    )
    # The household learns it is asked from the progress it polls.
    status, body = await home.request("GET", incident_path(SOURCE))
    assert (status, body["progress"]["survey"]) == (200, "pending")
    assert _sensor(hass, hub_entry, "survey_average_rating") == "unknown"

    events = async_capture_events(hass, "silver_bell_hub_incident")
    status, body = await home.answer(
        {"rating": 4, "comment": f"  {COMMENT} ", "by": "user:son"}
    )
    assert status == 200
    assert body["ok"] is True
    assert body["survey"]["state"] == "answered"
    assert (body["survey"]["rating"], body["survey"]["comment"]) == (4, COMMENT)
    assert body["progress"]["id"] == SOURCE
    assert body["progress"]["survey"] == "answered"
    assert incident.survey.via == "household"
    assert incident.survey.by == "user:son"
    assert [event.data["action"] for event in events] == ["survey_answered"]
    assert "Grandma" not in json.dumps(events[0].data)

    # A repeat (a retry, another family member) gets the stored answer back.
    status, again = await home.answer({"rating": 1, "comment": "changed my mind"})
    assert status == 200
    assert (again["survey"]["rating"], again["survey"]["comment"]) == (4, COMMENT)
    assert incident.survey.rating == 4
    assert len(events) == 1

    await hass.async_block_till_done()
    assert float(_sensor(hass, hub_entry, "survey_average_rating")) == 4.0
    assert float(_sensor(hass, hub_entry, "surveys_answered")) == 100.0
    # The comment is personal data: never in an entity state or attribute.
    assert "Grandma" not in _hub_states(hass, hub_entry)
    assert "ten minutes" not in _hub_states(hass, hub_entry)

    # It survives a restart of the hub.
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    stored = _hub(hub_entry).incidents.by_source(SOURCE).survey
    assert (stored.rating, stored.comment) == (4, COMMENT)


@pytest.mark.parametrize(
    ("survey", "field"),
    [
        ({"rating": 0}, "survey.rating"),
        ({"rating": 6}, "survey.rating"),
        ({"rating": "x"}, "survey.rating"),
        ({"rating": 2.5}, "survey.rating"),
        ({}, "survey.rating"),
        ({"rating": 3, "comment": "x" * 501}, "survey.comment"),
        ({"rating": 3, "by": 7}, "survey.by"),
    ],
)
async def test_bad_answers_get_a_json_error_and_change_nothing(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    survey: Any,
    field: str,
) -> None:
    Pager(hass)
    home = await _home(hass, hub_entry, hass_client_no_auth)
    incident = await _resolved(hass, hub_entry, home)
    before = json.dumps(incident.as_dict())
    status, body = await home.answer(survey)
    assert (status, body["error"], body["field"]) == (400, "invalid", field)
    assert json.dumps(incident.as_dict()) == before
    assert incident.survey.state is SurveyState.PENDING


async def test_other_refusals(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    Pager(hass)
    home = await _home(hass, hub_entry, hass_client_no_auth)
    incident = await _resolved(hass, hub_entry, home)
    before = json.dumps(incident.as_dict())

    status, body = await home.request(
        "POST", survey_path(SOURCE), raw=b'{"v": 1, "survey": '
    )
    assert (status, body["error"], body["field"]) == (400, "invalid", "body")
    status, body = await home.answer({"rating": 3}, source="ffffffffffffffff")
    assert (status, body["error"]) == (404, "not_found")
    status, body = await home.request(
        "POST", survey_path(SOURCE), {"v": 2, "survey": {"rating": 3}}
    )
    assert (status, body["error"]) == (400, "unsupported_version")
    status, body = await home.request("GET", survey_path(SOURCE))
    assert (status, body["error"]) == (405, "method_not_allowed")
    # Unsigned: refused before anything is read.
    response = await home.client.post(
        survey_path(SOURCE), data=b'{"v": 1, "survey": {"rating": 3}}'
    )
    assert (response.status, (await response.json())["error"]) == (
        401,
        "missing_header",
    )

    other = await _call(
        hass, "register_household", {"elder_name": "Aunt Zhou", "address": "7-302"}
    )
    stranger = Home(home.client, decode_pairing(other["pairing_code"]))
    status, body = await stranger.answer({"rating": 1})
    assert (status, body["error"]) == (403, "forbidden")
    assert json.dumps(incident.as_dict()) == before


async def test_a_survey_closes_after_seven_days(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    Pager(hass)
    home = await _home(hass, hub_entry, hass_client_no_auth)
    incident = await _resolved(hass, hub_entry, home)
    freezer.tick(timedelta(days=7, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert incident.survey.state is SurveyState.NO_ANSWER
    status, body = await home.request("GET", incident_path(SOURCE))
    assert body["progress"]["survey"] == "no_answer"
    status, body = await home.answer({"rating": 5})
    assert (status, body["error"]) == (409, "survey_closed")
    assert incident.survey.rating is None
    assert float(_sensor(hass, hub_entry, "surveys_answered")) == 0.0


async def test_record_survey_at_the_hub(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    hass_read_only_user: Any,
) -> None:
    Pager(hass)
    home = await _home(hass, hub_entry, hass_client_no_auth)
    await home.report("b1b2c3d4e5f6a7b8", kind="help")  # still open
    open_incident = _hub(hub_entry).incidents.by_source("b1b2c3d4e5f6a7b8")
    incident = await _resolved(hass, hub_entry, home)

    async def record(**data: Any) -> Any:
        return await hass.services.async_call(
            DOMAIN,
            "record_survey",
            data,
            blocking=True,
            return_response=True,
            # Duty staff need not be administrators.
            context=Context(user_id=hass_read_only_user.id),
        )

    async def refused(key: str, **data: Any) -> dict[str, str]:
        with pytest.raises(ServiceValidationError) as info:
            await record(**data)
        assert info.value.translation_key == key
        return info.value.translation_placeholders

    assert await refused("unknown_incident", incident_id="nope", rating=3) == {
        "incident_id": "nope"
    }
    assert await refused(
        "survey_not_asked", incident_id=open_incident.id, rating=3
    ) == {"incident_id": open_incident.id}
    for rating in (0, 6, "x", 2.5, True):
        assert (
            await refused(
                "survey_invalid_rating", incident_id=incident.id, rating=rating
            )
        )["rating"] == str(rating)
    assert await refused(
        "survey_comment_too_long", incident_id=incident.id, rating=3, comment="x" * 501
    ) == {"limit": "500"}
    await refused(
        "ledger_unknown_volunteer",
        incident_id=incident.id,
        rating=3,
        volunteer_id="v-nobody",
    )
    assert incident.survey.state is SurveyState.PENDING

    response = await record(
        incident_id=incident.id, rating="5", comment="Thank you", volunteer_id="v-wang"
    )
    assert response == {
        "incident_id": incident.id,
        "state": "answered",
        "rating": 5,
        "recorded": True,
    }
    assert (incident.survey.via, incident.survey.by) == ("hub", "v-wang")
    assert incident.log[-1].actor == "v-wang"
    # The same again is harmless; another answer is refused: the first counts.
    again = await record(incident_id=incident.id, rating=5.0, comment=" Thank you ")
    assert again["recorded"] is False
    await refused("survey_answered", incident_id=incident.id, rating=4)
    # The family's answer arriving later gets the stored one.
    status, body = await home.answer({"rating": 1})
    assert (status, body["survey"]["rating"]) == (200, 5)


async def test_report_export_and_erase(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    hass_read_only_user: Any,
) -> None:
    Pager(hass)
    home = await _home(hass, hub_entry, hass_client_no_auth)
    incident = await _resolved(hass, hub_entry, home)
    await home.answer({"rating": 2, "comment": COMMENT, "by": "user:son"})

    report = await hass.services.async_call(
        DOMAIN,
        "survey_report",
        {"months": 3},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_read_only_user.id),
    )
    month = dt_util.now().strftime("%Y-%m")
    assert report == {
        "last_30_days": {
            "asked": 1,
            "answered": 1,
            "no_answer": 0,
            "pending": 0,
            "average_rating": 2.0,
            "answered_pct": 100.0,
        },
        "months": [
            {
                "month": month,
                "asked": 1,
                "answered": 1,
                "no_answer": 0,
                "pending": 0,
                "average_rating": 2.0,
                "answered_pct": 100.0,
            }
        ],
    }
    assert "ten minutes" not in json.dumps(report)
    csv_text = (await _call(hass, "export_incidents", {}))["csv"]
    assert "ten minutes" not in csv_text
    assert ",answered,2" in csv_text

    household_id = home.pairing.household_id
    exported = await _call(hass, "export_person", {"household_id": household_id})
    assert exported["incidents"][0]["survey"]["comment"] == COMMENT
    await _call(hass, "erase_person", {"household_id": household_id})
    assert (incident.survey.comment, incident.survey.by, incident.survey.rating) == (
        None,
        None,
        2,
    )
    exported = await _call(hass, "export_person", {"household_id": household_id})
    assert "ten minutes" not in json.dumps(exported)
