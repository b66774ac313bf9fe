"""The hub's language fields use Home Assistant's language picker (issue 19).

A select with a translated ``selector.language`` option list needed the key
``zh-Hans`` in strings.json, which hassfest refuses (translation keys are
``[a-z0-9-_]+``). The language selector names the languages itself; what is
stored stays ``en`` / ``zh-Hans``.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import selector
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.hub.runtime import Hub

from .test_hub_options_flow import (
    GRANDMA_LI,
    HUB_URL,
    STRINGS,
    WANG_XIU,
    _menu,
    _submit,
)


@pytest.fixture
async def hub(hass: HomeAssistant, hub_entry: MockConfigEntry) -> Hub:
    """A loaded hub with a URL and an empty ledger."""
    hass.config.internal_url = HUB_URL
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    runtime: Hub = hub_entry.runtime_data
    return runtime


@pytest.mark.parametrize("step", ["add_volunteer", "add_household"])
async def test_language_field_is_the_language_selector(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub, step: str
) -> None:
    result = await _menu(hass, hub_entry, step)
    assert result["type"] == FlowResultType.FORM
    field = result["data_schema"].schema["language"]
    assert isinstance(field, selector.LanguageSelector)
    assert sorted(field.config["languages"]) == ["en", "zh-Hans"]
    assert field.config["native_name"] is True
    # What the frontend receives: a language selector, no translation key.
    serialized = field.serialize()["selector"]
    assert list(serialized) == ["language"]
    assert "translation_key" not in serialized["language"]


def test_no_language_options_in_strings() -> None:
    assert "language" not in STRINGS["selector"]


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
async def test_volunteer_language_is_stored_unchanged(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub, language: str
) -> None:
    result = await _menu(hass, hub_entry, "add_volunteer")
    result = await _submit(hass, result, {**WANG_XIU, "language": language})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert hub.ledger.volunteers["v-xiu"].language == language


async def test_household_language_defaults_to_chinese(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    result = await _menu(hass, hub_entry, "add_household")
    data: dict[str, Any] = {k: v for k, v in GRANDMA_LI.items() if k != "language"}
    result = await _submit(hass, result, data)
    assert result["step_id"] == "pairing_code"
    (record,) = hub.ledger.households.values()
    assert record.language == "zh-Hans"


async def test_other_languages_are_refused(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    result = await _menu(hass, hub_entry, "add_volunteer")
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**WANG_XIU, "language": "fr"}
        )
    assert hub.ledger.volunteers == {}
