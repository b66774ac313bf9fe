"""Automatic away through Home Assistant: the check of an inferred outing, presence.

Issue 17, item 3: a fall right after the front door closed looks like an outing;
the household asks first (the inactivity check-in) once the outing is longer than
usual, and a chosen presence entity must agree that the person is out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import CONF_PRESENCE
from custom_components.silver_bell.core.models import IncidentKind
from custom_components.silver_bell.household.settings import DEFAULTS

from .common import advance, eid, set_state, setup_household
from .conftest import DOOR, MOTION_KITCHEN
from .test_config_flow import SETTINGS_FORM, _no_setup, _options_step

STATUS = eid("sensor", "status")
OPEN = eid("sensor", "open_incident")
AWAY = eid("switch", "away_mode")
SILENCE = eid("sensor", "time_without_activity")
PHONE = "person.grandma_li"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _leave(hass: HomeAssistant) -> None:
    await set_state(hass, MOTION_KITCHEN, STATE_ON)
    await set_state(hass, MOTION_KITCHEN, STATE_OFF)
    await set_state(hass, DOOR, STATE_ON)
    await set_state(hass, DOOR, STATE_OFF)


async def test_options_choose_and_clear_the_presence_entity(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    """The settings form has an optional person/device_tracker field."""
    result = await _options_step(hass, household_entry, "settings")
    keys = {str(key): key for key in result["data_schema"].schema}
    assert CONF_PRESENCE in keys
    field: Any = result["data_schema"].schema[keys[CONF_PRESENCE]]
    assert field.config["domain"] == ["person", "device_tracker"]
    with _no_setup():
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**SETTINGS_FORM, CONF_PRESENCE: PHONE}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household_entry.options[CONF_PRESENCE] == PHONE
    # Shown again as a suggestion, and cleared by leaving it empty.
    result = await _options_step(hass, household_entry, "settings")
    keys = {str(key): key for key in result["data_schema"].schema}
    assert keys[CONF_PRESENCE].description == {"suggested_value": PHONE}
    with _no_setup():
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], SETTINGS_FORM
        )
    assert CONF_PRESENCE not in household_entry.options


async def test_an_inferred_outing_is_checked_after_the_short_cap(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Door, then silence: away, and 2 h after the door closed the check-in."""
    await setup_household(hass, household_entry, freezer, start="2026-11-02 08:00:00")
    await _leave(hass)
    await advance(hass, freezer, timedelta(minutes=31))
    assert _state(hass, AWAY) == STATE_ON
    assert _state(hass, OPEN) == "none"
    await advance(hass, freezer, timedelta(minutes=89))
    # Nothing learned yet: 2 h after the door closed Silver Bell asks first.
    assert _state(hass, OPEN) == "inactivity"
    assert hass.states.get(OPEN).attributes["check_in_until"] is not None
    assert _state(hass, STATUS) == "warning"
    household = household_entry.runtime_data
    incident = household.book.active_of(IncidentKind.INACTIVITY)
    assert incident.details["rule"] == "away_check"
    assert incident.details["compared_with"] == "outings"
    assert incident.details["alarm_after"] == 120
    attributes = hass.states.get(SILENCE).attributes
    assert attributes["rule"] == "away_check"
    assert attributes["level"] == "alarm"
    # Nobody answers within the check-in time: it leaves the home.
    await advance(hass, freezer, timedelta(minutes=10))
    assert _state(hass, STATUS) == "alarm"
    assert incident.escalated_at is not None


async def test_an_outing_that_comes_home_is_learned_and_kept(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An arrival is learned; the outings survive a restart (with the store)."""
    await setup_household(hass, household_entry, freezer, start="2026-11-02 08:00:00")
    await _leave(hass)
    await advance(hass, freezer, timedelta(minutes=90))
    assert _state(hass, AWAY) == STATE_ON
    await set_state(hass, DOOR, STATE_ON)  # home again before the check
    await set_state(hass, DOOR, STATE_OFF)
    assert _state(hass, AWAY) == STATE_OFF
    assert _state(hass, OPEN) == "none"
    household = household_entry.runtime_data
    assert len(household.engine.away.outings) == 1
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    await hass.async_block_till_done()
    restored = household_entry.runtime_data
    assert restored is not household
    assert restored.engine.away.outings == household.engine.away.outings


async def test_presence_must_agree(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home: no outing (judged as at home); not home: only the cap; unknown: the check."""
    hass.config_entries.async_update_entry(
        household_entry, options={**DEFAULTS, CONF_PRESENCE: PHONE}
    )
    hass.states.async_set(PHONE, "home")
    await setup_household(hass, household_entry, freezer, start="2026-11-02 08:00:00")
    await _leave(hass)
    await advance(hass, freezer, timedelta(minutes=31))
    # The phone is at home: the door and the silence are no outing.
    assert _state(hass, AWAY) == STATE_OFF
    # The phone leaves (GPS lag): away since the door closed, confirmed.
    await set_state(hass, PHONE, "not_home")
    assert _state(hass, AWAY) == STATE_ON
    await advance(hass, freezer, timedelta(hours=4))
    assert _state(hass, OPEN) == "none"
    # No information: never trusted as away, the outing is checked.
    await set_state(hass, PHONE, "unavailable")
    assert _state(hass, AWAY) == STATE_ON
    assert _state(hass, OPEN) == "inactivity"
    household = household_entry.runtime_data
    incident = household.book.active_of(IncidentKind.INACTIVITY)
    assert incident.details["rule"] == "away_check"
    # The phone comes home: the person is back, the outing ends.
    await set_state(hass, PHONE, "home")
    assert _state(hass, AWAY) == STATE_OFF
    # The entity removed: no information either.
    hass.states.async_remove(PHONE)
    await hass.async_block_till_done()
    assert household.engine.away.presence_state is None


async def test_coming_home_answers_the_check(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The door opening during the check-in time is the person coming home."""
    await setup_household(hass, household_entry, freezer, start="2026-11-02 08:00:00")
    await _leave(hass)
    await advance(hass, freezer, timedelta(hours=2, minutes=1))
    assert _state(hass, OPEN) == "inactivity"
    await set_state(hass, DOOR, STATE_ON)
    await set_state(hass, DOOR, STATE_OFF)
    assert _state(hass, OPEN) == "none"
    assert _state(hass, AWAY) == STATE_OFF
    household = household_entry.runtime_data
    assert household.engine.away.outings == (timedelta(hours=2, minutes=1),)
