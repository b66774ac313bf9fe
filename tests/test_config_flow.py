"""Tests of the config and options flows (every step and error branch)."""

from __future__ import annotations

from collections.abc import Generator
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import (
    CONF_ACTIVITY_SENSORS,
    CONF_AREA,
    CONF_COLD_BELOW,
    CONF_DAY_ALARM,
    CONF_DAY_END,
    CONF_DAY_START,
    CONF_DAY_WARNING,
    CONF_DOOR_SENSOR,
    CONF_FIRE_RATE_FLOOR,
    CONF_FIRE_SENSORS,
    CONF_HEAT_ABOVE,
    CONF_HELP_BUTTONS,
    CONF_HOUSEHOLD_ID,
    CONF_HUB_NAME,
    CONF_HUB_URL,
    CONF_KNOWN_DEVICES,
    CONF_NAME,
    CONF_NIGHT_WARNING,
    CONF_NOTIFY,
    CONF_PAIRING_CODE,
    CONF_ROLE,
    CONF_SECRET,
    CONF_TEMPERATURE_SENSORS,
    DOMAIN,
    ROLE_HOUSEHOLD,
)
from custom_components.silver_bell.core.protocol import Pairing, encode_pairing
from custom_components.silver_bell.household.flow_forms import sensor_errors
from custom_components.silver_bell.household.settings import DEFAULTS, engine_config

from .conftest import DOOR, HELP, MOTION_BEDROOM, MOTION_KITCHEN, SMOKE, TEMPERATURE

COMPONENT = Path(__file__).parent.parent / "custom_components" / "silver_bell"

HOUSEHOLD_INPUT: dict[str, Any] = {CONF_NAME: "  Grandma Li ", CONF_AREA: "living_room"}
SENSORS_INPUT: dict[str, Any] = {
    CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN, MOTION_BEDROOM, MOTION_KITCHEN],
    CONF_FIRE_SENSORS: [SMOKE],
    CONF_TEMPERATURE_SENSORS: [TEMPERATURE],
    CONF_HELP_BUTTONS: [HELP],
    CONF_DOOR_SENSOR: DOOR,
}

# The settings form (the family languages have a step of their own).
SETTINGS_FORM = {
    key: value for key, value in DEFAULTS.items() if key != "notify_languages"
}


def _no_setup() -> Any:
    return patch("custom_components.silver_bell.async_setup_entry", return_value=True)


@pytest.fixture(autouse=True)
def _entries_not_started() -> Generator[None, None, None]:
    """Flows only: entries are stored, not started (the setup path has its own tests)."""
    with (
        patch("custom_components.silver_bell.async_setup_entry", return_value=True),
        patch("custom_components.silver_bell.async_unload_entry", return_value=True),
    ):
        yield


async def _household_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["household", "hub"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "household"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "household"
    assert [str(key) for key in result["data_schema"].schema] == [CONF_NAME, CONF_AREA]
    return result


async def _sensors_form(
    hass: HomeAssistant, household: dict[str, Any] | None = None
) -> dict[str, Any]:
    result = await _household_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], household or HOUSEHOLD_INPUT
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"].startswith("household_sensors")
    return result


async def test_household_created(hass: HomeAssistant) -> None:
    result = await _sensors_form(hass)
    with _no_setup() as setup:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], SENSORS_INPUT
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Grandma Li"
    assert result["data"] == {
        CONF_ROLE: ROLE_HOUSEHOLD,
        CONF_NAME: "Grandma Li",
        CONF_AREA: "living_room",
        CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN, MOTION_BEDROOM],
        CONF_FIRE_SENSORS: [SMOKE],
        CONF_TEMPERATURE_SENSORS: [TEMPERATURE],
        CONF_HELP_BUTTONS: [HELP],
        CONF_DOOR_SENSOR: DOOR,
        CONF_KNOWN_DEVICES: [],
    }
    assert result["result"].unique_id == "household_grandma_li"
    assert len(setup.mock_calls) == 1


async def test_household_errors_then_success(hass: HomeAssistant) -> None:
    result = await _household_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOUSEHOLD_INPUT, CONF_NAME: "   "}
    )
    assert result["step_id"] == "household"
    assert result["errors"] == {CONF_NAME: "name_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Uncle Wang"}
    )
    assert result["step_id"].startswith("household_sensors")
    assert result["description_placeholders"]["area"] == "—"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**SENSORS_INPUT, CONF_ACTIVITY_SENSORS: []}
    )
    assert result["step_id"].startswith("household_sensors")
    assert result["errors"] == {CONF_ACTIVITY_SENSORS: "activity_required"}
    with _no_setup():
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Uncle Wang"
    assert CONF_DOOR_SENSOR not in result["data"]
    assert CONF_AREA not in result["data"]
    assert CONF_KNOWN_DEVICES not in result["data"]


async def test_household_duplicates(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    result = await _household_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Grandma Li"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    result = await _sensors_form(hass, {CONF_NAME: "Someone else"})
    # Grandma Li's activity sensors are not offered at all...
    (activity,) = (
        value
        for key, value in result["data_schema"].schema.items()
        if str(key) == CONF_ACTIVITY_SENSORS
    )
    assert sorted(activity.config["exclude_entities"]) == sorted(
        household_entry.data[CONF_ACTIVITY_SENSORS]
    )
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: [MOTION_BEDROOM]}
        )
    # ... and, if one gets through anyway, the error names it and its household.
    placeholders: dict[str, str] = {}
    assert sensor_errors(
        hass, {CONF_ACTIVITY_SENSORS: [MOTION_BEDROOM]}, None, placeholders
    ) == {CONF_ACTIVITY_SENSORS: "sensors_in_use"}
    assert placeholders == {
        "in_use": MOTION_BEDROOM,
        "in_use_by": household_entry.title,
    }
    with _no_setup():
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: ["binary_sensor.other"]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "household_someone_else"


async def test_hub_created_once(hass: HomeAssistant) -> None:
    async def hub_form() -> dict[str, Any]:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        return await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "hub"}
        )

    result = await hub_form()
    assert result["step_id"] == "hub"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HUB_NAME: "  "}
    )
    assert result["errors"] == {CONF_HUB_NAME: "name_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HUB_NAME: "Jinhua hub"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_ROLE: "hub", CONF_HUB_NAME: "Jinhua hub"}
    await hass.async_block_till_done()
    result = await hub_form()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_pairing_step(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    code = encode_pairing(Pairing("https://hub.example", "hh_test1234", "s" * 43))
    result = await _options_step(hass, household_entry, "hub")
    assert result["step_id"] == "hub"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: "not a code"}
    )
    assert result["errors"] == {CONF_PAIRING_CODE: "wrong_code"}
    for error in ("cannot_connect", "rejected", "clock_skew"):
        with patch(
            "custom_components.silver_bell.household.flow_forms.async_test_pairing",
            return_value=error,
        ):
            result = await hass.config_entries.options.async_configure(
                result["flow_id"], {CONF_PAIRING_CODE: code}
            )
        assert result["errors"] == {CONF_PAIRING_CODE: error}
    assert CONF_HUB_URL not in household_entry.data
    with patch(
        "custom_components.silver_bell.household.flow_forms.async_test_pairing",
        return_value=None,
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_PAIRING_CODE: f"  {code}\n"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert household_entry.data[CONF_HUB_URL] == "https://hub.example"
    assert household_entry.data[CONF_HOUSEHOLD_ID] == "hh_test1234"
    # An empty code unpairs.
    result = await _options_step(hass, household_entry, "hub")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_HUB_URL not in household_entry.data
    assert CONF_SECRET not in household_entry.data


async def _reauth_form(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_REAUTH, "entry_id": entry.entry_id},
        data=dict(entry.data),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {
        "name": "Grandma Li",
        "hub": "https://hub.example",
    }
    return result


async def test_reauth_errors_then_new_secret(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    old = Pairing("https://hub.example", "hh_test1234", "o" * 43)
    hass.config_entries.async_update_entry(
        household_entry,
        data={
            **household_entry.data,
            CONF_HUB_URL: old.url,
            CONF_HOUSEHOLD_ID: old.household_id,
            CONF_SECRET: old.secret,
        },
    )
    assert await hass.config_entries.async_setup(household_entry.entry_id)
    result = await _reauth_form(hass, household_entry)
    code = encode_pairing(Pairing(old.url, old.household_id, "n" * 43))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: "SB1-not-a-code"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PAIRING_CODE: "wrong_code"}
    # Unreachable, refused (the old or a wrong secret), clocks apart.
    for error in ("cannot_connect", "rejected", "clock_skew"):
        with patch(
            "custom_components.silver_bell.household.flow_forms.async_test_pairing",
            return_value=error,
        ):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_PAIRING_CODE: code}
            )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_PAIRING_CODE: error}
        assert household_entry.data[CONF_SECRET] == old.secret
    with (
        patch(
            "custom_components.silver_bell.household.flow_forms.async_test_pairing",
            return_value=None,
        ) as tested,
        patch(
            "custom_components.silver_bell.async_setup_entry", return_value=True
        ) as setup,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PAIRING_CODE: f"  {code}\n"}
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert tested.call_args.args[1] == Pairing(old.url, old.household_id, "n" * 43)
    assert household_entry.data[CONF_SECRET] == "n" * 43
    assert household_entry.data[CONF_HOUSEHOLD_ID] == old.household_id
    assert household_entry.data[CONF_ACTIVITY_SENSORS] == [
        MOTION_KITCHEN,
        MOTION_BEDROOM,
    ]
    assert len(setup.mock_calls) == 1  # reloaded
    assert household_entry.state is config_entries.ConfigEntryState.LOADED


async def test_reauth_of_a_hub_entry_aborts(
    hass: HomeAssistant, hub_entry: MockConfigEntry
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={
            "source": config_entries.SOURCE_REAUTH,
            "entry_id": hub_entry.entry_id,
        },
        data=dict(hub_entry.data),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_not_household"


async def test_reconfigure(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    other = MockConfigEntry(
        domain=DOMAIN, data={CONF_NAME: "B", CONF_ACTIVITY_SENSORS: ["binary_sensor.b"]}
    )
    other.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "reconfigure", "entry_id": household_entry.entry_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: ["binary_sensor.b"]}
        )
    with _no_setup():
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: [MOTION_BEDROOM]}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert household_entry.data[CONF_ACTIVITY_SENSORS] == [MOTION_BEDROOM]
    assert CONF_DOOR_SENSOR not in household_entry.data
    assert household_entry.data[CONF_NAME] == "Grandma Li"


async def _options_step(
    hass: HomeAssistant, entry: MockConfigEntry, step: str
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["settings", "sensors", "hub"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def test_options_settings(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    result = await _options_step(hass, household_entry, "settings")
    assert result["type"] is FlowResultType.FORM
    # Units are in the translated labels, not untranslated selector units.
    units = {
        str(key): field.config.get("unit_of_measurement")
        for key, field in result["data_schema"].schema.items()
        if hasattr(field, "config")
    }
    assert set(units.values()) <= {None, "°C"}
    settings = {
        **SETTINGS_FORM,
        CONF_NOTIFY: ["mobile_app_daughter"],
        CONF_DAY_ALARM: 150,
        "false_alarm_budget": 2.5,
    }
    # The false-alarm budget: half a page to ten pages per 30 days.
    for wrong in (0, 0.25, 11):
        with pytest.raises(InvalidData):
            await hass.config_entries.options.async_configure(
                result["flow_id"], {**settings, "false_alarm_budget": wrong}
            )
    bad_cases = [
        (
            {CONF_DAY_END: SETTINGS_FORM[CONF_DAY_START]},
            {CONF_DAY_END: "day_window_empty"},
        ),
        ({CONF_DAY_WARNING: 200}, {CONF_DAY_WARNING: "warning_after_alarm"}),
        ({CONF_NIGHT_WARNING: 900}, {CONF_NIGHT_WARNING: "warning_after_alarm"}),
        ({"ceiling_day": 120}, {"ceiling_day": "ceiling_below_alarm"}),
        ({"ceiling_night": 500}, {"ceiling_night": "ceiling_below_alarm"}),
        (
            {CONF_COLD_BELOW: 25, CONF_HEAT_ABOVE: 25},
            {CONF_COLD_BELOW: "cold_above_heat"},
        ),
        ({CONF_FIRE_RATE_FLOOR: 60}, {CONF_FIRE_RATE_FLOOR: "floor_above_static"}),
    ]
    for change, errors in bad_cases:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**settings, **change}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
    assert household_entry.options == {}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], settings
    )
    # Each family member's language: one field per notify target, server's default.
    assert result["step_id"] == "family_languages"
    assert [str(key) for key in result["data_schema"].schema] == ["mobile_app_daughter"]
    assert household_entry.options == {}
    with _no_setup():
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"mobile_app_daughter": "zh-Hans"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household_entry.options[CONF_DAY_ALARM] == 150
    assert household_entry.options["false_alarm_budget"] == 2.5
    budget = engine_config(household_entry.options, door_sensor=False).routine
    assert budget.false_alarm_budget == 2.5
    assert engine_config({}, door_sensor=False).routine.false_alarm_budget == 1.0
    assert household_entry.options[CONF_NOTIFY] == ["mobile_app_daughter"]
    assert household_entry.options["notify_languages"] == {
        "mobile_app_daughter": "zh-Hans"
    }


async def test_options_settings_without_family_targets(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    """No notify target: no language step, and no stale languages are kept."""
    hass.config_entries.async_update_entry(
        household_entry,
        options={
            **DEFAULTS,
            CONF_NOTIFY: ["old_phone"],
            "notify_languages": {"old_phone": "en"},
        },
    )
    result = await _options_step(hass, household_entry, "settings")
    with _no_setup():
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**SETTINGS_FORM, CONF_NOTIFY: []}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household_entry.options[CONF_NOTIFY] == []
    assert household_entry.options["notify_languages"] == {}


async def test_family_language_defaults_to_the_servers(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    hass.config.language = "zh-Hans"
    hass.config_entries.async_update_entry(
        household_entry,
        options={
            **DEFAULTS,
            CONF_NOTIFY: ["son"],
            "notify_languages": {"son": "en"},
        },
    )
    result = await _options_step(hass, household_entry, "settings")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**SETTINGS_FORM, CONF_NOTIFY: ["son", "daughter"]}
    )
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults == {"son": "en", "daughter": "zh-Hans"}


async def test_options_sensors(
    hass: HomeAssistant, household_entry: MockConfigEntry
) -> None:
    result = await _options_step(hass, household_entry, "sensors")
    assert result["step_id"] == "sensors"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ACTIVITY_SENSORS: []}
    )
    assert result["errors"] == {CONF_ACTIVITY_SENSORS: "activity_required"}
    with _no_setup():
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN],
                CONF_FIRE_SENSORS: [],
                CONF_DOOR_SENSOR: DOOR,
            },
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household_entry.data[CONF_ACTIVITY_SENSORS] == [MOTION_KITCHEN]
    assert household_entry.data[CONF_FIRE_SENSORS] == []
    assert household_entry.data[CONF_DOOR_SENSOR] == DOOR
    await hass.async_block_till_done()  # the flow reloads the entry itself


async def test_sensors_step_says_what_was_found(hass: HomeAssistant) -> None:
    """No area, or an area without sensors: the form says so (no rows of dashes)."""
    result = await _sensors_form(hass, {CONF_NAME: "Uncle Wang"})
    assert result["step_id"] == "household_sensors_no_area"
    result = await _sensors_form(hass, HOUSEHOLD_INPUT)
    assert result["step_id"] == "household_sensors_none_found"
    # Each form answers like the first one.
    with _no_setup():
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_open_flow_does_not_block_the_name(hass: HomeAssistant) -> None:
    """A dialog closed half-way does not block that elder's name until a restart."""
    first = await _sensors_form(hass)
    second = await _sensors_form(hass)
    assert second["type"] is FlowResultType.FORM
    with _no_setup():
        result = await hass.config_entries.flow.async_configure(
            second["flow_id"], {CONF_ACTIVITY_SENSORS: [MOTION_KITCHEN]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The one left open ends with the name taken (Home Assistant aborts it).
    assert first["flow_id"] not in {
        flow["flow_id"] for flow in hass.config_entries.flow.async_progress()
    }
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hub"}
    )
    second_hub = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    second_hub = await hass.config_entries.flow.async_configure(
        second_hub["flow_id"], {"next_step_id": "hub"}
    )
    assert second_hub["type"] is FlowResultType.FORM
    assert second_hub["step_id"] == "hub"


async def test_already_in_progress_has_a_text() -> None:
    """Should Home Assistant still abort with already_in_progress, it says why."""
    for language in ("en", "zh-Hans"):
        strings = json.loads(
            (COMPONENT / "translations" / f"{language}.json").read_text("utf-8")
        )
        assert strings["config"]["abort"]["already_in_progress"]
