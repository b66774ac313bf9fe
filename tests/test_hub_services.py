"""The hub's services: ledger, pairing secrets, CSV import/export, privacy, desk resolve."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
import json
from pathlib import Path
import re
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.silver_bell.const import DOMAIN
from custom_components.silver_bell.core.bodies import IncidentMessage, heartbeat_body
from custom_components.silver_bell.core.hub.figures import INCIDENT_COLUMNS
from custom_components.silver_bell.core.hub.people import Contact, Role
from custom_components.silver_bell.core.hub.records import HubIncident, LogEvent
from custom_components.silver_bell.core.models import IncidentKind, IncidentState
from custom_components.silver_bell.core.protocol import PATH_HEARTBEAT, decode_pairing
from custom_components.silver_bell.hub.links import check_pin
from custom_components.silver_bell.hub.runtime import Hub

from .conftest import async_stored_hub, database_bytes
from .test_hub import VOLUNTEERS_CSV, Pager, _call, _signed, _start_hub

HUB_URL = "http://127.0.0.1:8123"
EXCEPTIONS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components/silver_bell/strings.json"
    ).read_text(encoding="utf-8")
)["exceptions"]

HOUSEHOLDS_CSV = """elder_name,address,phone,emergency_contacts,consent_date,volunteers,backup_volunteers,language
Aunt Zhou,7-302 Jinhua Road,010-87654321,Zhou Min:13900000011,2024/3/5,v-zhao,v-wang,en
"""


@pytest.fixture
async def started(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> tuple[Hub, TestClient, str]:
    """A hub with the four people of VOLUNTEERS_CSV and Grandma Li registered."""
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    return hub_entry.runtime_data, client, decode_pairing(code).household_id


@contextmanager
def _refused(
    key: str, **placeholders: str
) -> Iterator[pytest.ExceptionInfo[ServiceValidationError]]:
    """A ServiceValidationError with a translated message whose placeholders are given."""
    with pytest.raises(ServiceValidationError) as err:
        yield err
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert key in EXCEPTIONS, f"{key} is missing from strings.json exceptions"
    given = err.value.translation_placeholders or {}
    needed = set(re.findall(r"{(\w+)}", EXCEPTIONS[key]["message"]))
    assert needed <= set(given), f"{key} lacks placeholders {needed - set(given)}"
    for name, value in placeholders.items():
        assert given[name] == value


def _no_url(hass: HomeAssistant) -> None:
    hass.config.internal_url = None
    hass.config.external_url = None
    hass.config.api = None


async def _help(
    hub: Hub, household_id: str, source: str = "a1b2c3d4e5f6a7b8"
) -> HubIncident:
    """A help call arrives (as the intake view hands it over), then the family answers."""
    now = dt_util.utcnow()
    message = IncidentMessage(
        id=source,
        seq=1,
        kind=IncidentKind.HELP,
        state=IncidentState.OPEN,
        test=False,
        created_at=now,
        updated_at=now,
        escalated_at=now,
        details={"message": "Grandma Li fell in the bathroom"},
        by=None,
        note=None,
    )
    await hub.async_receive(household_id, message)
    await hub.hass.async_block_till_done()  # the first page goes out in the background
    ack = replace(
        message,
        seq=2,
        state=IncidentState.ACKNOWLEDGED,
        by="Li Hua",
        note="her daughter is on the way",
    )
    await hub.async_receive(household_id, ack)
    incident = hub.incidents.by_source(source)
    assert incident is not None
    return incident


def _resolved_by(incident: HubIncident) -> str:
    return next(
        entry.actor for entry in incident.log if entry.event == LogEvent.RESOLVED
    )


async def _beat(client: TestClient, household_id: str, secret: str) -> int:
    body = json.dumps(
        heartbeat_body(now=dt_util.utcnow(), open_incidents=0, version=None)
    ).encode()
    response = await _signed(client, "POST", PATH_HEARTBEAT, body, household_id, secret)
    return response.status


# ------------------------------------------------------------------ no hub


async def test_every_service_needs_a_loaded_hub(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    await _start_hub(hass, hub_entry, hass_client_no_auth)
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    calls = {
        "register_household": {"elder_name": "Grandma Li", "address": "3-201"},
        "add_volunteer": {"volunteer_id": "v-1", "name": "A", "notify": "x"},
        "remove_household": {"household_id": "hh_1"},
        "remove_volunteer": {"volunteer_id": "v-1"},
        "rotate_secret": {"household_id": "hh_1"},
        "revoke_household": {"household_id": "hh_1"},
        "import_ledger": {"volunteers_csv": VOLUNTEERS_CSV},
        "export_incidents": {},
        "export_person": {"household_id": "hh_1"},
        "erase_person": {"household_id": "hh_1"},
        "hub_resolve": {"incident_id": "x", "resolution": "test"},
    }
    for service, data in calls.items():
        with _refused("no_hub"):
            await _call(hass, service, data)


# ---------------------------------------------------------- registration


async def test_register_household(
    hass: HomeAssistant,
    started: tuple[Hub, TestClient, str],
    hass_storage: dict[str, Any],
) -> None:
    hub, client, _ = started
    response = await _call(
        hass,
        "register_household",
        {
            "elder_name": " Aunt Zhou ",
            "address": "7-302 Jinhua Road",
            "emergency_contacts": ["Zhou Min:13900000011"],
            "consent_date": "2024-03-05",
            "volunteers": "v-zhao",
        },
    )
    pairing = decode_pairing(response["pairing_code"])
    assert pairing.household_id == response["household_id"]
    assert pairing.url == HUB_URL
    record = hub.ledger.households[pairing.household_id]
    assert record.elder_name == "Aunt Zhou"
    assert record.emergency_contacts == [Contact("Zhou Min", "13900000011")]
    assert record.consent_date.isoformat() == "2024-03-05"
    assert record.volunteers == ["v-zhao"]
    assert record.language == "zh-Hans"
    stored = (await async_stored_hub(hub))["ledger"]
    assert pairing.household_id in [item["id"] for item in stored["households"]]
    # The code works: the household's signed heartbeat is accepted.
    assert await _beat(client, pairing.household_id, pairing.secret) == 200


async def test_register_household_refusals_change_nothing(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, _, _ = started
    before = set(hub.ledger.households)
    with _refused("ledger_unknown_volunteer", volunteer="v-nobody"):
        await _call(
            hass,
            "register_household",
            {"elder_name": "Aunt Zhou", "address": "7-302", "volunteers": ["v-nobody"]},
        )
    with _refused("ledger_invalid_phone"):
        await _call(
            hass,
            "register_household",
            {"elder_name": "Aunt Zhou", "address": "7-302", "phone": "ring twice"},
        )
    with _refused("ledger_required", field="address"):
        await _call(
            hass, "register_household", {"elder_name": "Aunt Zhou", "address": " "}
        )
    _no_url(hass)
    with _refused("no_hub_url"):
        await _call(
            hass, "register_household", {"elder_name": "Aunt Zhou", "address": "7-302"}
        )
    assert set(hub.ledger.households) == before


# ------------------------------------------------------------ volunteers


async def test_add_and_remove_volunteer(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, _, household_id = started
    response = await _call(
        hass,
        "add_volunteer",
        {
            "volunteer_id": "v-xiu",
            "name": "Wang Xiu",
            "notify": ["notify.mobile_app_xiu", "sms_xiu"],
        },
    )
    assert response == {"volunteer_id": "v-xiu"}
    volunteer = hub.ledger.volunteers["v-xiu"]
    assert volunteer.notify == ["mobile_app_xiu", "sms_xiu"]
    assert volunteer.role is Role.VOLUNTEER
    assert volunteer.language == "zh-Hans"

    with _refused("ledger_duplicate_id", id="v-xiu"):
        await _call(
            hass,
            "add_volunteer",
            {"volunteer_id": "v-xiu", "name": "Somebody", "notify": "x", "role": "it"},
        )
    assert hub.ledger.volunteers["v-xiu"].name == "Wang Xiu"
    with _refused("ledger_invalid_schedule", value="light.kitchen"):
        await _call(
            hass,
            "add_volunteer",
            {
                "volunteer_id": "v-sun",
                "name": "Sun Li",
                "notify": "mobile_app_sun",
                "schedule": "light.kitchen",
            },
        )
    assert "v-sun" not in hub.ledger.volunteers

    await _call(hass, "remove_volunteer", {"volunteer_id": "v-wang"})
    assert "v-wang" not in hub.ledger.volunteers
    assert hub.ledger.households[household_id].volunteers == []
    with _refused("ledger_unknown_volunteer", volunteer="v-wang"):
        await _call(hass, "remove_volunteer", {"volunteer_id": "v-wang"})


async def test_remove_household(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, client, household_id = started
    secret = hub.secret_for(household_id)
    assert secret is not None
    await _call(hass, "remove_household", {"household_id": household_id})
    assert household_id not in hub.ledger.households
    assert await _beat(client, household_id, secret) == 401
    with _refused("ledger_unknown_household", household=household_id):
        await _call(hass, "remove_household", {"household_id": household_id})


# --------------------------------------------------------------- secrets


async def test_rotate_secret(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, client, household_id = started
    old = hub.secret_for(household_id)
    assert old is not None
    await _call(hass, "revoke_household", {"household_id": household_id})
    response = await _call(hass, "rotate_secret", {"household_id": household_id})
    pairing = decode_pairing(response["pairing_code"])
    assert response["household_id"] == pairing.household_id == household_id
    assert pairing.url == HUB_URL
    # The old secret no longer verifies; the new one does (and lifts the revocation).
    assert pairing.secret != old
    assert hub.secret_for(household_id) == pairing.secret
    assert await _beat(client, household_id, old) == 401
    assert await _beat(client, household_id, pairing.secret) == 200
    with _refused("ledger_unknown_household", household="hh_nobody"):
        await _call(hass, "rotate_secret", {"household_id": "hh_nobody"})


async def test_rotate_secret_without_url_changes_nothing(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, _, household_id = started
    old = hub.secret_for(household_id)
    _no_url(hass)
    with _refused("no_hub_url"):
        await _call(hass, "rotate_secret", {"household_id": household_id})
    assert hub.secret_for(household_id) == old


async def test_revoke_household(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, client, household_id = started
    secret = hub.secret_for(household_id)
    assert secret is not None
    assert await _beat(client, household_id, secret) == 200
    await _call(hass, "revoke_household", {"household_id": household_id})
    assert hub.secret_for(household_id) is None
    assert hub.ledger.households[household_id].revoked
    assert await _beat(client, household_id, secret) == 401
    with _refused("ledger_unknown_household", household="hh_nobody"):
        await _call(hass, "revoke_household", {"household_id": "hh_nobody"})


# ---------------------------------------------------------------- import


async def test_import_ledger_from_text(
    hass: HomeAssistant, hub_entry: MockConfigEntry
) -> None:
    hass.config.internal_url = HUB_URL
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    hub: Hub = hub_entry.runtime_data
    # Households may name volunteers imported in the same call.
    data = {"volunteers_csv": VOLUNTEERS_CSV, "households_csv": HOUSEHOLDS_CSV}
    assert await _call(hass, "import_ledger", data) == {
        "volunteers": 4,
        "households": 1,
    }
    (record,) = hub.ledger.households.values()
    assert record.elder_name == "Aunt Zhou"
    assert record.consent_date.isoformat() == "2024-03-05"
    assert record.volunteers == ["v-zhao"]
    assert record.backup_volunteers == ["v-wang"]
    assert hub.secret_for(record.id)
    # Importing the same sheet again updates, never duplicates, and keeps the secret.
    secret = record.secret
    await _call(hass, "import_ledger", data)
    assert list(hub.ledger.households) == [record.id]
    assert hub.secret_for(record.id) == secret
    assert len(hub.ledger.volunteers) == 4
    with _refused("import_empty"):
        await _call(hass, "import_ledger", {"volunteers_csv": ""})


async def test_import_ledger_from_files(
    hass: HomeAssistant,
    started: tuple[Hub, TestClient, str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hub, _, _ = started
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    volunteers = tmp_path / "volunteers.csv"
    volunteers.write_text(
        "id,name,phone,notify,role\nv-sun,孙丽,13800000099,mobile_app_sun,志愿者\n",
        encoding="utf-8-sig",
    )
    # Excel on Chinese Windows saves "CSV (逗号分隔)" as GBK.
    households = tmp_path / "households.csv"
    households.write_bytes(
        "老人姓名,地址,电话,志愿者,语言\n李奶奶,金华路3号201室,010-12345678,v-sun,中文\n".encode(
            "gbk"
        )
    )
    response = await _call(
        hass,
        "import_ledger",
        {"volunteers_file": str(volunteers), "households_file": str(households)},
    )
    assert response == {"volunteers": 1, "households": 1}
    assert hub.ledger.volunteers["v-sun"].name == "孙丽"
    record = next(
        item for item in hub.ledger.households.values() if item.elder_name == "李奶奶"
    )
    assert record.address == "金华路3号201室"
    assert record.volunteers == ["v-sun"]
    assert record.language == "zh-Hans"

    before = (set(hub.ledger.volunteers), set(hub.ledger.households))
    outside = tmp_path_factory.mktemp("outside") / "volunteers.csv"
    outside.write_text(VOLUNTEERS_CSV, encoding="utf-8")
    with _refused("file_not_allowed", path=str(outside)):
        await _call(hass, "import_ledger", {"volunteers_file": str(outside)})
    missing = str(tmp_path / "missing.csv")
    with _refused("file_not_allowed", path=missing):
        await _call(hass, "import_ledger", {"households_file": missing})
    with _refused("file_not_allowed", path=str(tmp_path)):
        await _call(hass, "import_ledger", {"households_file": str(tmp_path)})
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"id,name\n\xff\xff\n")
    with _refused("ledger_invalid_encoding"):
        await _call(hass, "import_ledger", {"volunteers_file": str(garbage)})
    assert (set(hub.ledger.volunteers), set(hub.ledger.households)) == before


async def test_import_bad_households_file_reports_rows_imports_nothing(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str], tmp_path: Path
) -> None:
    hub, _, _ = started
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    before = hub.ledger.as_dict()
    bad = tmp_path / "households.csv"
    bad.write_text(
        "elder_name,address,phone,consent_date,volunteers\n"
        "Aunt Zhou,7-302,010-87654321,2024-03-05,v-zhao\n"
        "Uncle Wang,5-101,ring twice,,v-nobody\n"
        ",6-202,,2024-13-40,\n",
        encoding="utf-8",
    )
    new_volunteer = "id,name,notify,role\nv-sun,Sun Li,mobile_app_sun,volunteer\n"
    with _refused("import_rejected", count="4") as err:
        await _call(
            hass,
            "import_ledger",
            {"volunteers_csv": new_volunteer, "households_file": str(bad)},
        )
    rows = (err.value.translation_placeholders or {})["rows"]
    assert "households row 3, phone: invalid_phone ('ring twice')" in rows
    assert "households row 3, volunteers: unknown_volunteer ('v-nobody')" in rows
    assert "households row 4, elder_name: required" in rows
    assert "households row 4, consent_date: invalid_date ('2024-13-40')" in rows
    assert "row 2" not in rows
    # Nothing at all was imported: not the good row, not the volunteer.
    assert hub.ledger.as_dict() == before


# ---------------------------------------------------------------- export


async def test_export_incidents(
    hass: HomeAssistant,
    started: tuple[Hub, TestClient, str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hub, _, household_id = started
    Pager(hass)
    empty = await _call(hass, "export_incidents", {})
    assert empty == {"csv": ",".join(INCIDENT_COLUMNS) + "\r\n", "incidents": 0}
    incident = await _help(hub, household_id)
    response = await _call(hass, "export_incidents", {})
    assert response["incidents"] == 1
    header, row = response["csv"].splitlines()
    assert header.split(",") == list(INCIDENT_COLUMNS)
    assert row.startswith(f"{incident.id},{household_id},help,")
    # No personal data in the incident ledger.
    assert "Grandma" not in response["csv"]
    assert "Li Hua" not in response["csv"]

    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "incidents.csv"
    written = await _call(hass, "export_incidents", {"file": str(target)})
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM
    assert raw.decode("utf-8-sig") == written["csv"]

    outside = tmp_path_factory.mktemp("outside") / "incidents.csv"
    with _refused("file_not_allowed", path=str(outside)):
        await _call(hass, "export_incidents", {"file": str(outside)})
    assert not outside.exists()


async def test_export_person(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, _, household_id = started
    Pager(hass)
    incident = await _help(hub, household_id)
    person = await _call(hass, "export_person", {"household_id": household_id})
    assert person["elder_name"] == "Grandma Li"
    assert person["address"] == "3-201 Jinhua Road"
    assert person["phone"] == "+86 10 1234 5678"
    assert person["volunteers"] == [
        {"id": "v-wang", "tier": 1},
        {"id": "v-zhao", "tier": 2},
    ]
    assert "secret" not in person
    assert [item["id"] for item in person["incidents"]] == [incident.id]
    assert person["incidents"][0]["details"] == {
        "message": "Grandma Li fell in the bathroom"
    }
    json.dumps(person)  # a service response must be JSON
    with _refused("ledger_unknown_household", household="hh_nobody"):
        await _call(hass, "export_person", {"household_id": "hh_nobody"})


async def test_erase_person(
    hass: HomeAssistant,
    started: tuple[Hub, TestClient, str],
    hass_storage: dict[str, Any],
) -> None:
    hub, client, household_id = started
    Pager(hass)
    incident = await _help(hub, household_id)
    secret = hub.secret_for(household_id)
    assert secret is not None
    family = [entry for entry in incident.log if entry.actor == "family"]
    assert any(entry.detail and "Li Hua" in entry.detail for entry in family)

    await _call(hass, "erase_person", {"household_id": household_id})
    person = await _call(hass, "export_person", {"household_id": household_id})
    assert person["elder_name"] == "erased"
    assert person["address"] == person["phone"] == ""
    assert person["emergency_contacts"] == []
    assert person["volunteers"] == []
    assert person["revoked"] is True
    assert hub.secret_for(household_id) is None
    assert await _beat(client, household_id, secret) == 401
    # The incident stays for the statistics, anonymised.
    (kept,) = person["incidents"]
    assert kept["id"] == incident.id
    assert kept["kind"] == "help"
    assert kept["details"] == {}
    assert all(
        entry["detail"] is None for entry in kept["log"] if entry["actor"] == "family"
    )
    stored = json.dumps(await async_stored_hub(hub), ensure_ascii=False)
    on_disk = await hass.async_add_executor_job(database_bytes, hub)
    for personal in ("Grandma Li", "Jinhua Road", "1234 5678", "Li Hua", "bathroom"):
        assert personal not in stored
        # Not in the files either (no old row versions left in free pages or the WAL).
        assert personal.encode() not in on_disk
    with _refused("ledger_unknown_household", household="hh_nobody"):
        await _call(hass, "erase_person", {"household_id": "hh_nobody"})


# ------------------------------------------------------------ desk resolve


async def test_hub_resolve(
    hass: HomeAssistant,
    started: tuple[Hub, TestClient, str],
    hass_admin_user: MockUser,
) -> None:
    hub, _, household_id = started
    pager = Pager(hass)
    with _refused("unknown_incident", incident_id="nope"):
        await _call(hass, "hub_resolve", {"incident_id": "nope", "resolution": "test"})

    incident = await _help(hub, household_id)
    assert len(pager.messages("mobile_app_wang")) == 1  # paged
    assert len(pager.messages("mobile_app_desk")) == 1  # informed
    await hass.services.async_call(
        DOMAIN,
        "hub_resolve",
        {"incident_id": incident.id, "resolution": "false_alarm"},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolution == "false_alarm"
    assert _resolved_by(incident) == f"user:{hass_admin_user.id}"
    assert hub.incidents.active == []
    # Everyone who was paged or informed gets the quiet "resolved" replacement.
    for service in ("mobile_app_wang", "mobile_app_desk"):
        messages = pager.messages(service)
        assert len(messages) == 2
        resolved = messages[-1]
        assert resolved["data"]["tag"].endswith(incident.id)
        assert "actions" not in resolved["data"]  # no Accept on a closed incident
        assert resolved["data"]["push"]["interruption-level"] == "passive"
        assert "Grandma Li" in resolved["message"]
    assert not pager.messages("mobile_app_zhao")
    assert hass.states.get("sensor.jinhua_hub_open_incidents").state == "0"


async def test_hub_resolve_twice_pushes_once(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    hub, _, household_id = started
    pager = Pager(hass)
    incident = await _help(hub, household_id)
    await _call(hass, "hub_resolve", {"incident_id": incident.id, "resolution": "test"})
    assert _resolved_by(incident) == "desk"
    pushes = len(pager.messages("mobile_app_wang"))
    # Resolving again only corrects the code: no second push, no second event.
    await _call(
        hass,
        "hub_resolve",
        {"incident_id": incident.id, "resolution": "real_emergency"},
    )
    assert len(pager.messages("mobile_app_wang")) == pushes
    assert incident.resolution == "real_emergency"


# ------------------------------------------------------------ volunteer PIN


async def test_set_volunteer_pin(
    hass: HomeAssistant, started: tuple[Hub, TestClient, str]
) -> None:
    """The PIN group accept links ask for: kept hashed, checked, removable."""
    hub, _, _ = started
    for bad in ("12", "12345678901", "12ab"):
        with _refused("invalid_pin"):
            await _call(
                hass, "set_volunteer_pin", {"volunteer_id": "v-wang", "pin": bad}
            )
    with _refused("ledger_unknown_volunteer", volunteer="nobody"):
        await _call(
            hass, "set_volunteer_pin", {"volunteer_id": "nobody", "pin": "1234"}
        )
    assert hub.ledger.volunteers["v-wang"].pin_hash is None
    await _call(hass, "set_volunteer_pin", {"volunteer_id": "v-wang", "pin": "2468"})
    stored = hub.ledger.volunteers["v-wang"].pin_hash
    assert stored is not None
    assert "2468" not in stored
    assert check_pin("2468", stored)
    assert not check_pin("1357", stored)
    # Survives a restart (the ledger row was written), and an empty PIN removes it.
    assert await hass.config_entries.async_reload(hub.entry.entry_id)
    await hass.async_block_till_done()
    hub = hub.entry.runtime_data
    assert check_pin("2468", hub.ledger.volunteers["v-wang"].pin_hash)
    await _call(hass, "set_volunteer_pin", {"volunteer_id": "v-wang"})
    assert hub.ledger.volunteers["v-wang"].pin_hash is None
