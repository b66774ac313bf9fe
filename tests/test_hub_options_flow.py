"""The hub's options flow: ledger edits without a reload, settings with one."""

from __future__ import annotations

from datetime import date, timedelta
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
import voluptuous as vol

from custom_components.silver_bell.const import (
    CONF_DUTY_STAFF,
    CONF_OFFLINE_AFTER_MIN,
    CONF_ORANGE_ESCALATE_MIN,
    CONF_RATE_BURST,
    CONF_RATE_PER_MIN,
    CONF_RED_REPEAT_MIN,
    CONF_RED_TIER2_MIN,
    CONF_RED_TIER3_MIN,
    CONF_RETENTION_DAYS,
    DEFAULT_OFFLINE_AFTER_MIN,
    DEFAULT_ORANGE_ESCALATE_MIN,
    DEFAULT_RATE_BURST,
    DEFAULT_RATE_PER_MIN,
    DEFAULT_RED_REPEAT_MIN,
    DEFAULT_RED_TIER2_MIN,
    DEFAULT_RED_TIER3_MIN,
    DEFAULT_RETENTION_DAYS,
    DOMAIN,
)
from custom_components.silver_bell.core.hub.people import Contact, Role
from custom_components.silver_bell.core.models import TRIAGE, IncidentKind, Triage
from custom_components.silver_bell.core.protocol import decode_pairing
from custom_components.silver_bell.hub.runtime import Hub, colour_key

from .common import device_by_identifier
from .conftest import async_stored_hub
from .test_hub import VOLUNTEERS_CSV, Pager, _call

HUB_URL = "http://127.0.0.1:8123"
STRINGS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components/silver_bell/strings.json"
    ).read_text(encoding="utf-8")
)
OPTION_ERRORS = STRINGS["options"]["error"]
OPTION_ABORTS = STRINGS["options"]["abort"]

GRANDMA_LI: dict[str, Any] = {
    "elder_name": "Grandma Li",
    "address": "3-201 Jinhua Road",
    "phone": "+86 10 1234 5678",
    "emergency_contacts": "Li Hua:+86 139 0000 0009\n\n  Li Gang：13900000010  \n",
    "language": "en",
}
WANG_XIU: dict[str, Any] = {
    "volunteer_id": "v-xiu",
    "name": " Wang Xiu ",
    "phone": "+86 138 0000 0042",
    "notify": ["notify.mobile_app_wang", "sms_zhao"],
    "role": "staff",
    "language": "en",
}


@pytest.fixture
async def hub(hass: HomeAssistant, hub_entry: MockConfigEntry) -> Hub:
    """A loaded hub with a URL and an empty ledger."""
    Pager(hass)  # the notify services volunteers are paged through
    hass.config.internal_url = HUB_URL
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    runtime: Hub = hub_entry.runtime_data
    return runtime


def _shown(marker: Any) -> Any:
    """What a form field opens with: its default, else its suggested value."""
    if callable(marker.default):
        return marker.default()
    return (marker.description or {}).get("suggested_value")


async def _menu(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> Any:
    """Open the options flow and pick one menu entry."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] == FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def _submit(hass: HomeAssistant, result: Any, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_configure(result["flow_id"], data)
    await hass.async_block_till_done()
    if result["type"] == FlowResultType.FORM:
        for error in (result["errors"] or {}).values():
            assert error in OPTION_ERRORS, f"untranslated form error {error}"
    if result["type"] == FlowResultType.ABORT:
        assert result["reason"] in OPTION_ABORTS
    return result


async def _choose(hass: HomeAssistant, result: Any, option: str) -> Any:
    """Pick one entry of a menu step (e.g. confirm or keep)."""
    assert result["type"] == FlowResultType.MENU
    return await _submit(hass, result, {"next_step_id": option})


def _starts_empty(result: Any, field: str) -> bool:
    """The field has no default: the frontend opens it empty.

    A required select opens with its first option chosen (the frontend fills
    required fields); an optional one without a default stays empty.
    """
    marker = next(key for key in result["data_schema"].schema if key == field)
    return (
        isinstance(marker, vol.Optional)
        and marker.default is vol.UNDEFINED
        and not (marker.description or {}).get("suggested_value")
    )


def _assert_finished_without_reload(
    result: Any, entry: MockConfigEntry, hub: Hub, options: dict[str, Any]
) -> None:
    """A ledger edit ends the flow with the settings untouched: no reload."""
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert result["data"] == options
    assert dict(entry.options) == options
    assert entry.runtime_data is hub


async def test_menu(hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub) -> None:
    result = await hass.config_entries.options.async_init(hub_entry.entry_id)
    assert result["type"] == FlowResultType.MENU
    assert result["step_id"] == "init"
    assert result["menu_options"] == [
        "add_household",
        "add_volunteer",
        "remove_household",
        "remove_volunteer",
        "add_channel",
        "test_channel",
        "remove_channel",
        "hub_settings",
    ]
    labels = STRINGS["options"]["step"]["init"]["menu_options"]
    assert all(option in labels for option in result["menu_options"])


async def test_add_volunteer(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hub: Hub,
    hass_storage: dict[str, Any],
) -> None:
    hass.config_entries.async_update_entry(hub_entry, options={CONF_RATE_BURST: 50})
    await hass.async_block_till_done()
    hub = hub_entry.runtime_data  # that settings change reloaded the hub
    result = await _menu(hass, hub_entry, "add_volunteer")
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "add_volunteer"
    # The notify services on this Home Assistant are offered.
    notify = result["data_schema"].schema["notify"].config["options"]
    assert "mobile_app_wang" in notify
    assert "sms_zhao" in notify
    # ... but none is chosen: it would be another person's phone.
    assert _starts_empty(result, "notify")

    result = await _submit(hass, result, WANG_XIU)
    _assert_finished_without_reload(result, hub_entry, hub, {CONF_RATE_BURST: 50})
    volunteer = hub.ledger.volunteers["v-xiu"]
    assert volunteer.name == "Wang Xiu"
    assert volunteer.notify == ["mobile_app_wang", "sms_zhao"]
    assert volunteer.role is Role.STAFF
    assert volunteer.language == "en"
    assert volunteer.schedule is None
    # Written to the hub's database at once (nothing is lost on a restart).
    stored = (await async_stored_hub(hub))["ledger"]
    assert [item["id"] for item in stored["volunteers"]] == ["v-xiu"]


async def test_add_volunteer_errors_change_nothing(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    result = await _menu(hass, hub_entry, "add_volunteer")
    result = await _submit(hass, result, WANG_XIU)
    assert result["type"] == FlowResultType.CREATE_ENTRY

    result = await _menu(hass, hub_entry, "add_volunteer")
    result = await _submit(
        hass, result, {**WANG_XIU, "name": "Someone else", "role": "volunteer"}
    )
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "add_volunteer"
    assert result["errors"] == {"base": "ledger_duplicate_id"}
    assert hub.ledger.volunteers["v-xiu"].name == "Wang Xiu"

    for data, error in (
        ({**WANG_XIU, "volunteer_id": "v xiu!"}, "ledger_invalid_id"),
        (
            {**WANG_XIU, "volunteer_id": "v-2", "phone": "call me"},
            "ledger_invalid_phone",
        ),
        (
            {**WANG_XIU, "volunteer_id": "v-3", "notify": ["SMS gateway"]},
            "ledger_invalid_notify",
        ),
        ({**WANG_XIU, "volunteer_id": "v-4", "name": "  "}, "ledger_required"),
    ):
        result = await _submit(hass, result, data)
        assert result["type"] == FlowResultType.FORM
        assert result["errors"] == {"base": error}
    assert list(hub.ledger.volunteers) == ["v-xiu"]


async def test_add_volunteer_without_notify_refused(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    """An empty notify picker (no key, an empty list, blanks) is refused."""
    result = await _menu(hass, hub_entry, "add_volunteer")
    without = {key: value for key, value in WANG_XIU.items() if key != "notify"}
    for data in (without, {**without, "notify": []}, {**without, "notify": [" "]}):
        result = await _submit(hass, result, data)
        assert result["type"] == FlowResultType.FORM
        assert result["step_id"] == "add_volunteer"
        assert result["errors"] == {"notify": "notify_required"}
        assert _starts_empty(result, "notify")
    assert hub.ledger.volunteers == {}


async def test_add_household_shows_pairing_code(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    result = await _menu(hass, hub_entry, "add_household")
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "add_household"
    offered = result["data_schema"].schema["volunteers"].config["options"]
    assert {"value": "v-wang", "label": "Wang Fang (v-wang)"} in offered
    # Volunteers are optional here and start with nobody chosen.
    for field in ("volunteers", "backup_volunteers"):
        marker = next(key for key in result["data_schema"].schema if key == field)
        assert marker.default() == []

    result = await _submit(
        hass,
        result,
        {**GRANDMA_LI, "volunteers": ["v-wang"], "backup_volunteers": ["v-zhao"]},
    )
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "pairing_code"
    pairing = decode_pairing(result["description_placeholders"]["code"])
    assert pairing.url == HUB_URL
    record = hub.ledger.households[pairing.household_id]
    assert pairing.secret == record.secret
    assert hub.secret_for(pairing.household_id) == pairing.secret
    assert record.elder_name == "Grandma Li"
    assert record.emergency_contacts == [
        Contact("Li Hua", "+86 139 0000 0009"),
        Contact("Li Gang", "13900000010"),
    ]
    assert record.volunteers == ["v-wang"]
    assert record.backup_volunteers == ["v-zhao"]
    assert record.language == "en"
    # Its device appears under the hub at once, named by id (no personal data).
    device = device_by_identifier(
        hass,
        (DOMAIN, f"{hub_entry.entry_id}_{pairing.household_id}"),
        hub_entry.entry_id,
    )
    assert device is not None
    assert device.name == pairing.household_id

    result = await _submit(hass, result, {})
    _assert_finished_without_reload(result, hub_entry, hub, {})
    assert list(hub.ledger.households) == [pairing.household_id]


async def test_add_household_errors_change_nothing(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    result = await _menu(hass, hub_entry, "add_household")
    for data, errors in (
        ({**GRANDMA_LI, "elder_name": "   "}, {"elder_name": "name_required"}),
        (
            {**GRANDMA_LI, "address": " "},
            {"base": "ledger_required"},
        ),
        (
            {
                **GRANDMA_LI,
                "emergency_contacts": "Li Hua",
            },
            {"base": "ledger_invalid_contact"},
        ),
        (
            {
                **GRANDMA_LI,
                "phone": "ring twice",
            },
            {"base": "ledger_invalid_phone"},
        ),
    ):
        result = await _submit(hass, result, data)
        assert result["type"] == FlowResultType.FORM
        assert result["step_id"] == "add_household"
        assert result["errors"] == errors
    assert hub.ledger.households == {}


async def test_add_household_without_hub_url(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    hass.config.internal_url = None
    hass.config.external_url = None
    hass.config.api = None
    result = await _menu(hass, hub_entry, "add_household")
    result = await _submit(hass, result, GRANDMA_LI)
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "add_household"
    assert result["errors"] == {"base": "no_hub_url"}
    # No household without a code to pair it with.
    assert hub.ledger.households == {}


async def test_add_household_with_consent_date(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hub: Hub,
    hass_storage: dict[str, Any],
) -> None:
    result = await _menu(hass, hub_entry, "add_household")
    result = await _submit(
        hass,
        result,
        {
            **GRANDMA_LI,
            "consent_date": "2024-03-05",
        },
    )
    assert result["step_id"] == "pairing_code"
    household_id = decode_pairing(
        result["description_placeholders"]["code"]
    ).household_id
    assert hub.ledger.households[household_id].consent_date == date(2024, 3, 5)
    stored = (await async_stored_hub(hub))["ledger"]
    assert stored["households"][0]["consent_date"] == "2024-03-05"


async def test_remove_household(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    result = await _menu(hass, hub_entry, "remove_household")
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "no_households"

    first = await _call(
        hass, "register_household", {"elder_name": "Grandma Li", "address": "3-201"}
    )
    second = await _call(
        hass, "register_household", {"elder_name": "Uncle Wang", "address": "5-101"}
    )
    result = await _menu(hass, hub_entry, "remove_household")
    assert result["type"] == FlowResultType.FORM
    # Named by the elder (this form is for administrators), nothing preselected.
    offered = result["data_schema"].schema["household_id"].config["options"]
    assert sorted(offered, key=lambda option: option["label"]) == [
        {
            "value": first["household_id"],
            "label": f"Grandma Li ({first['household_id']})",
        },
        {
            "value": second["household_id"],
            "label": f"Uncle Wang ({second['household_id']})",
        },
    ]
    assert _starts_empty(result, "household_id")

    def device(household_id: str) -> dr.DeviceEntry | None:
        return device_by_identifier(
            hass, (DOMAIN, f"{hub_entry.entry_id}_{household_id}"), hub_entry.entry_id
        )

    await hass.async_block_till_done()
    assert device(first["household_id"]) is not None
    result = await _submit(hass, result, {"household_id": first["household_id"]})
    # Nothing is removed before the confirmation, which names the elder.
    assert result["type"] == FlowResultType.MENU
    assert result["step_id"] == "remove_household_confirm"
    assert result["menu_options"] == ["remove_household_confirmed", "keep"]
    assert result["description_placeholders"] == {
        "elder_name": "Grandma Li",
        "household_id": first["household_id"],
    }
    confirm = STRINGS["options"]["step"]["remove_household_confirm"]
    assert "{elder_name}" in confirm["description"]
    assert set(confirm["menu_options"]) == set(result["menu_options"])
    assert first["household_id"] in hub.ledger.households

    result = await _choose(hass, result, "remove_household_confirmed")
    _assert_finished_without_reload(result, hub_entry, hub, {})
    assert list(hub.ledger.households) == [second["household_id"]]
    assert hub.secret_for(first["household_id"]) is None
    # Its device goes with it; the other household's stays.
    assert device(first["household_id"]) is None
    assert device(second["household_id"]) is not None


async def test_remove_household_not_confirmed_keeps_it(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    registered = await _call(
        hass, "register_household", {"elder_name": "Grandma Li", "address": "3-201"}
    )
    household_id = registered["household_id"]
    secret = hub.secret_for(household_id)
    result = await _menu(hass, hub_entry, "remove_household")
    result = await _submit(hass, result, {"household_id": household_id})
    result = await _choose(hass, result, "keep")
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "nothing_removed"
    assert list(hub.ledger.households) == [household_id]
    assert hub.secret_for(household_id) == secret
    assert device_by_identifier(
        hass, (DOMAIN, f"{hub_entry.entry_id}_{household_id}"), hub_entry.entry_id
    )
    assert dict(hub_entry.options) == {}
    assert hub_entry.runtime_data is hub


async def test_remove_household_nothing_chosen(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    """The frontend leaves an empty picker out of the answer."""
    await _call(
        hass, "register_household", {"elder_name": "Grandma Li", "address": "3-201"}
    )
    households = dict(hub.ledger.households)
    result = await _menu(hass, hub_entry, "remove_household")
    for _ in range(2):  # and again: the form stays open with the error
        result = await _submit(hass, result, {})
        assert result["type"] == FlowResultType.FORM
        assert result["step_id"] == "remove_household"
        assert result["errors"] == {"household_id": "required_choice"}
        assert _starts_empty(result, "household_id")
    assert hub.ledger.households == households


async def test_remove_household_removed_meanwhile(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    first = await _call(
        hass, "register_household", {"elder_name": "Grandma Li", "address": "3-201"}
    )
    await _call(
        hass, "register_household", {"elder_name": "Uncle Wang", "address": "5-101"}
    )
    result = await _menu(hass, hub_entry, "remove_household")
    await _call(hass, "remove_household", {"household_id": first["household_id"]})
    result = await _submit(hass, result, {"household_id": first["household_id"]})
    assert result["type"] == FlowResultType.FORM
    assert result["errors"] == {"base": "ledger_unknown_household"}


async def test_remove_household_removed_before_confirming(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    first = await _call(
        hass, "register_household", {"elder_name": "Grandma Li", "address": "3-201"}
    )
    second = await _call(
        hass, "register_household", {"elder_name": "Uncle Wang", "address": "5-101"}
    )
    result = await _menu(hass, hub_entry, "remove_household")
    result = await _submit(hass, result, {"household_id": first["household_id"]})
    await _call(hass, "remove_household", {"household_id": first["household_id"]})
    result = await _choose(hass, result, "remove_household_confirmed")
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "remove_household"
    assert result["errors"] == {"base": "ledger_unknown_household"}
    offered = result["data_schema"].schema["household_id"].config["options"]
    assert [option["value"] for option in offered] == [second["household_id"]]
    assert list(hub.ledger.households) == [second["household_id"]]


async def test_remove_volunteer(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    result = await _menu(hass, hub_entry, "remove_volunteer")
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "no_volunteers"

    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    registered = await _call(
        hass,
        "register_household",
        {
            "elder_name": "Grandma Li",
            "address": "3-201",
            "volunteers": ["v-wang", "v-zhao"],
        },
    )
    result = await _menu(hass, hub_entry, "remove_volunteer")
    assert result["type"] == FlowResultType.FORM
    offered = result["data_schema"].schema["volunteer_id"].config["options"]
    assert [option["label"] for option in offered] == [
        "Wang Fang (v-wang)",
        "Zhao Lei (v-zhao)",
        "Li Ming (s-li)",
        "Chen Jie (it-chen)",
    ]
    assert [option["value"] for option in offered] == [
        "v-wang",
        "v-zhao",
        "s-li",
        "it-chen",
    ]
    assert _starts_empty(result, "volunteer_id")
    result = await _submit(hass, result, {"volunteer_id": "v-wang"})
    # Nothing is removed before the confirmation, which names the person.
    assert result["type"] == FlowResultType.MENU
    assert result["step_id"] == "remove_volunteer_confirm"
    assert result["menu_options"] == ["remove_volunteer_confirmed", "keep"]
    assert result["description_placeholders"] == {
        "name": "Wang Fang",
        "volunteer_id": "v-wang",
    }
    confirm = STRINGS["options"]["step"]["remove_volunteer_confirm"]
    assert "{name}" in confirm["description"]
    assert set(confirm["menu_options"]) == set(result["menu_options"])
    assert "v-wang" in hub.ledger.volunteers

    result = await _choose(hass, result, "remove_volunteer_confirmed")
    _assert_finished_without_reload(result, hub_entry, hub, {})
    assert "v-wang" not in hub.ledger.volunteers
    # Unassigned from the household they looked after.
    assert hub.ledger.households[registered["household_id"]].volunteers == ["v-zhao"]


async def test_remove_volunteer_removed_meanwhile(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    result = await _menu(hass, hub_entry, "remove_volunteer")
    await _call(hass, "remove_volunteer", {"volunteer_id": "v-zhao"})
    result = await _submit(hass, result, {"volunteer_id": "v-zhao"})
    assert result["type"] == FlowResultType.FORM
    assert result["errors"] == {"base": "ledger_unknown_volunteer"}
    offered = result["data_schema"].schema["volunteer_id"].config["options"]
    assert "v-zhao" not in [option["value"] for option in offered]
    assert set(hub.ledger.volunteers) == {"v-wang", "s-li", "it-chen"}


async def test_remove_volunteer_removed_before_confirming(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    result = await _menu(hass, hub_entry, "remove_volunteer")
    result = await _submit(hass, result, {"volunteer_id": "v-zhao"})
    await _call(hass, "remove_volunteer", {"volunteer_id": "v-zhao"})
    result = await _choose(hass, result, "remove_volunteer_confirmed")
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "remove_volunteer"
    assert result["errors"] == {"base": "ledger_unknown_volunteer"}
    assert set(hub.ledger.volunteers) == {"v-wang", "s-li", "it-chen"}


async def test_remove_volunteer_not_confirmed_keeps_them(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    registered = await _call(
        hass,
        "register_household",
        {"elder_name": "Grandma Li", "address": "3-201", "volunteers": ["v-wang"]},
    )
    result = await _menu(hass, hub_entry, "remove_volunteer")
    result = await _submit(hass, result, {"volunteer_id": "v-wang"})
    result = await _choose(hass, result, "keep")
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "nothing_removed"
    assert set(hub.ledger.volunteers) == {"v-wang", "v-zhao", "s-li", "it-chen"}
    assert hub.ledger.households[registered["household_id"]].volunteers == ["v-wang"]
    assert dict(hub_entry.options) == {}


async def test_remove_volunteer_nothing_chosen(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    result = await _menu(hass, hub_entry, "remove_volunteer")
    for _ in range(2):  # and again: the form stays open with the error
        result = await _submit(hass, result, {})
        assert result["type"] == FlowResultType.FORM
        assert result["step_id"] == "remove_volunteer"
        assert result["errors"] == {"volunteer_id": "required_choice"}
        assert _starts_empty(result, "volunteer_id")
    assert set(hub.ledger.volunteers) == {"v-wang", "v-zhao", "s-li", "it-chen"}


async def test_hub_settings_saved_and_applied(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    result = await _menu(hass, hub_entry, "hub_settings")
    assert result["type"] == FlowResultType.FORM
    assert result["step_id"] == "hub_settings"
    # Units (min, d, requests, requests/min) are in the translated labels.
    assert not any(
        field.config.get("unit_of_measurement")
        for field in result["data_schema"].schema.values()
        if hasattr(field, "config")
    )
    defaults = {str(key): _shown(key) for key in result["data_schema"].schema}
    assert defaults == {
        CONF_RED_TIER2_MIN: DEFAULT_RED_TIER2_MIN,
        CONF_RED_TIER3_MIN: DEFAULT_RED_TIER3_MIN,
        CONF_RED_REPEAT_MIN: DEFAULT_RED_REPEAT_MIN,
        CONF_ORANGE_ESCALATE_MIN: DEFAULT_ORANGE_ESCALATE_MIN,
        CONF_OFFLINE_AFTER_MIN: DEFAULT_OFFLINE_AFTER_MIN,
        CONF_RETENTION_DAYS: DEFAULT_RETENTION_DAYS,
        CONF_RATE_BURST: DEFAULT_RATE_BURST,
        CONF_RATE_PER_MIN: DEFAULT_RATE_PER_MIN,
        **{
            colour_key(kind): TRIAGE[kind].value
            for kind in IncidentKind
            if kind is not IncidentKind.TEST
        },
        CONF_DUTY_STAFF: [],  # the duty desk: administrators only
        "channel_wait": 45,  # seconds before a volunteer's next channel
        "public_url": "",  # empty: Home Assistant's external URL
        "household_entities": True,  # a device and three sensors per household
    }
    colours = {
        colour_key(kind): TRIAGE[kind].value
        for kind in IncidentKind
        if kind is not IncidentKind.TEST
    }
    colours[colour_key(IncidentKind.HEAT)] = "red"  # a heatwave policy
    settings: dict[str, Any] = {
        CONF_RED_TIER2_MIN: 1.0,  # number selectors answer floats
        CONF_RED_TIER3_MIN: 4.0,
        CONF_RED_REPEAT_MIN: 5.0,
        CONF_ORANGE_ESCALATE_MIN: 15.0,
        CONF_OFFLINE_AFTER_MIN: 45.0,
        CONF_RETENTION_DAYS: 90.0,
        CONF_RATE_BURST: 20.0,
        CONF_RATE_PER_MIN: 6.0,
    }
    result = await _submit(hass, result, {**settings, **colours})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    expected = {
        **{key: int(value) for key, value in settings.items()},
        **colours,
        CONF_DUTY_STAFF: [],
        "channel_wait": 45,  # the default, filled in by the form
        "household_entities": True,
    }
    assert result["data"] == expected  # no public_url: none was entered
    assert dict(hub_entry.options) == expected

    # The options change reloaded the entry: a new runtime with the new policy.
    reloaded: Hub = hub_entry.runtime_data
    assert reloaded is not hub
    assert reloaded.policy.red_tier2_after == timedelta(minutes=1)
    assert reloaded.policy.red_tier3_after == timedelta(minutes=4)
    assert reloaded.policy.red_repeat == timedelta(minutes=5)
    assert reloaded.policy.orange_escalate_after == timedelta(minutes=15)
    assert reloaded.offline_after == timedelta(minutes=45)
    assert reloaded.retention == timedelta(days=90)
    assert reloaded.limiter.burst == 20
    assert reloaded.limiter.per_second == pytest.approx(0.1)
    assert reloaded.triage[IncidentKind.HEAT] is Triage.RED
    assert reloaded.triage[IncidentKind.COLD] is Triage.ORANGE
    # The ledger survives the reload.
    assert set(reloaded.ledger.volunteers) == {"v-wang", "v-zhao", "s-li", "it-chen"}

    # The form now starts from the saved values.
    result = await _menu(hass, hub_entry, "hub_settings")
    defaults = {str(key): _shown(key) for key in result["data_schema"].schema}
    assert defaults == {**expected, "public_url": ""}


async def test_options_of_a_hub_that_is_not_running(
    hass: HomeAssistant, hub_entry: MockConfigEntry
) -> None:
    """Editing the ledger needs the running hub: a translated abort, nothing else."""
    result = await hass.config_entries.options.async_init(hub_entry.entry_id)
    assert result["type"] == FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_duty_staff_can_be_cleared(
    hass: HomeAssistant,
    hub: Hub,
    hub_entry: MockConfigEntry,
    hass_read_only_user: MockUser,
) -> None:
    """An emptied staff list arrives as no value and means nobody, not the old list."""
    result = await _menu(hass, hub_entry, "hub_settings")
    values = {str(key): _shown(key) for key in result["data_schema"].schema}
    result = await _submit(
        hass, result, {**values, CONF_DUTY_STAFF: [hass_read_only_user.id]}
    )
    assert hub_entry.options[CONF_DUTY_STAFF] == [hass_read_only_user.id]
    await hass.async_block_till_done()
    result = await _menu(hass, hub_entry, "hub_settings")
    values = {str(key): _shown(key) for key in result["data_schema"].schema}
    assert values[CONF_DUTY_STAFF] == [hass_read_only_user.id]
    del values[CONF_DUTY_STAFF]  # the frontend sends nothing for an emptied list
    result = await _submit(hass, result, values)
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert hub_entry.options[CONF_DUTY_STAFF] == []


async def test_household_entities_can_be_switched_off_and_on(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hub: Hub
) -> None:
    """Off: no device or sensor per household (the desk shows them); on again: back."""
    await _call(hass, "import_ledger", {"volunteers_csv": VOLUNTEERS_CSV})
    result = await _call(
        hass,
        "register_household",
        {"elder_name": "Li Hua", "address": "1 Jinhua Road"},
    )
    household_id = result["household_id"]
    await hass.async_block_till_done()
    entities = er.async_get(hass)
    identifier = (DOMAIN, f"{hub_entry.entry_id}_{household_id}")

    def device() -> dr.DeviceEntry | None:
        return device_by_identifier(hass, identifier, hub_entry.entry_id)

    def household_entities() -> list[str]:
        return [
            entity.entity_id
            for entity in er.async_entries_for_config_entry(
                entities, hub_entry.entry_id
            )
            if household_id in (entity.unique_id or "")
        ]

    assert device() is not None
    assert len(household_entities()) == 3

    for on in (False, True):
        result = await _menu(hass, hub_entry, "hub_settings")
        values = {str(key): _shown(key) for key in result["data_schema"].schema}
        result = await _submit(hass, result, {**values, "household_entities": on})
        assert result["type"] == FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert hub_entry.options["household_entities"] is on
        assert (device() is not None) is on
        assert len(household_entities()) == (3 if on else 0)
        # The hub-wide sensors stay either way.
        assert any(
            entity.unique_id.endswith("_open_incidents")
            for entity in er.async_entries_for_config_entry(
                entities, hub_entry.entry_id
            )
        )
