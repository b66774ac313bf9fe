"""The household glue applies one engine result in one place (issues 18 and 24).

A smoke alarm of a paired household: the book (with the "forwarded" mark) is
written once, at once, and the incident goes to the outbox once; its incident
events keep the data as it was at each change.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.silver_bell.const import (
    CONF_HOUSEHOLD_ID,
    CONF_HUB_URL,
    CONF_SECRET,
    EVENT_INCIDENT,
)
from custom_components.silver_bell.core.models import IncidentKind
from custom_components.silver_bell.core.protocol import (
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    Pairing,
)

from .common import setup_household
from .conftest import SMOKE

HUB = "https://hub.example"
PAIRING = Pairing(HUB, "hh_grandma01", "s" * 43)


async def test_one_result_is_saved_once_and_forwarded_once(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A fire: one immediate write of the household store, one outbox entry."""
    aioclient_mock.post(HUB + PATH_HEARTBEAT, json={"ok": True, "server_time": 0})
    aioclient_mock.post(HUB + PATH_INCIDENTS, json={"ok": True})
    hass.config_entries.async_update_entry(
        household_entry,
        data={
            **household_entry.data,
            CONF_HUB_URL: HUB,
            CONF_HOUSEHOLD_ID: PAIRING.household_id,
            CONF_SECRET: PAIRING.secret,
        },
    )
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    events: list[Event] = []

    # A callback: run in the event loop, in the order the events were fired (a
    # plain function would run in the executor, where two events may swap).
    @callback
    def heard(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_INCIDENT, heard)
    written: list[dict[str, Any]] = []
    enqueued: list[int] = []
    real_enqueue = household.forwarder.enqueue

    def schedule(factory: Any, *, immediate: bool) -> None:
        if immediate:
            written.append(factory())

    def enqueue(incident: Any) -> None:
        # The book and its "forwarded" mark are already in the write.
        assert written
        assert written[-1]["forwarded"][incident.id] == incident.seq
        enqueued.append(incident.seq)
        real_enqueue(incident)

    with (
        patch.object(household._store, "schedule", side_effect=schedule),
        patch.object(household.forwarder, "enqueue", side_effect=enqueue),
    ):
        hass.states.async_set(SMOKE, "on", {"device_class": "smoke"})
        await hass.async_block_till_done()
    fire = household.book.active_of(IncidentKind.FIRE)
    assert fire is not None
    assert len(written) == 1
    assert enqueued == [fire.seq]
    assert [event.data["action"] for event in events] == ["opened", "escalated"]
    assert all(event.data["incident"]["id"] == fire.id for event in events)
    # What platforms and diagnostics read is the engine's.
    core = household.core
    assert household.fire is core.fire
    assert household.health is core.health
    assert household.assessment is core.assessment


async def test_a_confirmation_after_stop_changes_nothing(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The smoke confirmation task finds the household stopped: nothing opens."""
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await household.async_confirm_smoke(SMOKE, household.last_activity)
    assert household.book.active_of(IncidentKind.FIRE) is None
