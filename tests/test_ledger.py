"""Tests of the hub's people ledger and its CSV import/export (pure logic)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from custom_components.silver_bell.core.hub.ledger import Ledger
from custom_components.silver_bell.core.hub.ledger_csv import (
    ApplySummary,
    ImportResult,
    RowError,
    apply_import,
    decode_csv,
    parse_households_csv,
    parse_volunteers_csv,
)
from custom_components.silver_bell.core.hub.ledger_export import (
    households_csv,
    volunteers_csv,
)
from custom_components.silver_bell.core.hub.people import (
    ERASED,
    Contact,
    HouseholdRecord,
    LedgerError,
    Role,
    Volunteer,
    normalize_language,
    normalize_notify,
    normalize_phone,
    parse_role,
    tel_uri,
    validate_household,
    validate_volunteer,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


# --------------------------------------------------------------------- fixtures
# What community staff really send: Excel's "CSV UTF-8" (BOM, CRLF), Chinese
# headers, a notes column, blank trailing lines.
VOLUNTEERS_EXCEL = (
    "\ufeff编号,姓名,电话,通知服务,角色,语言,值班表,备注\r\n"
    "v_li,李秀兰,+86 138 0013 8000,mobile_app_li_phone;sms_gateway_li,志愿者,中文,,住3号楼\r\n"
    "v_wang,王建国,139-1234-5678,notify.mobile_app_wang,志愿者,zh-Hans,schedule.wang_duty,\r\n"
    "s_zhao,赵敏,010-12345678,mobile_app_zhao,社工,,,白班\r\n"
    "it_chen,陈工,１３７００１３７０００,Mobile_App_Chen,IT,en,,\r\n"
    "\r\n"
    ",,,,,,,\r\n"
)

# European Excel: ";" delimiter, so list cells are quoted; English headers in
# another order; a multi-line address (Alt+Enter in Excel).
HOUSEHOLDS_SEMICOLON = (
    "Elder Name;Address;Phone;Emergency Contacts;Consent Date;Volunteers;Backup Volunteers;ID\n"
    'Li Guilan;"Lane 12 No. 3\nRoom 301";021-5555 1234;'
    '"Li Ming (son):+86 139 0000 1111;Wang Fang:13800001111";2024-03-05;v_li;"v_wang;v_li";hh_li01\n'
    "Zhou Lan;Lane 14 No. 1;;;;v_wang;;\n"
)

# Chinese headers, tab separated, Excel's date format, full-width separators.
HOUSEHOLDS_CHINESE_TAB = (
    "\ufeff编号\t老人姓名\t地址\t电话\t紧急联系人\t同意日期\t志愿者\t备用志愿者\t语言\r\n"
    "\t王秀英\t幸福里5号楼2单元101室\t010-87654321\t王强（儿子）：13912345678；王丽：13698765432"
    "\t2024/3/5\tv_li、v_wang\ts_zhao\t中文\r\n"
)

# Three bad rows among good ones: all three reported, nothing imported.
VOLUNTEERS_THREE_BAD = (
    "id,name,phone,notify,role,language,schedule\n"
    "v_li,李秀兰,13800138000,mobile_app_li,volunteer,zh-Hans,\n"
    "v_bad_phone,张三,1.38001E+10,mobile_app_zhang,volunteer,zh-Hans,\n"
    "v_bad_role,李四,13800138001,mobile_app_lisi,队长,zh-Hans,\n"
    "v_wang,王建国,13912345678,mobile_app_wang,volunteer,zh-Hans,\n"
    "v_li,李秀兰,13800138000,mobile_app_li,volunteer,zh-Hans,\n"
)


def volunteer(
    volunteer_id: str, role: Role = Role.VOLUNTEER, **kwargs: object
) -> Volunteer:
    values: dict[str, object] = {
        "id": volunteer_id,
        "name": f"Name {volunteer_id}",
        "phone": "13800138000",
        "notify": [f"mobile_app_{volunteer_id}"],
        "role": role,
    }
    values.update(kwargs)
    return Volunteer(**values)  # type: ignore[arg-type]


def household(household_id: str = "hh_1", **kwargs: object) -> HouseholdRecord:
    values: dict[str, object] = {
        "id": household_id,
        "elder_name": "Li Guilan",
        "address": "Lane 12 No. 3",
        "phone": "021-5555 1234",
    }
    values.update(kwargs)
    return HouseholdRecord(**values)  # type: ignore[arg-type]


def ledger_with_volunteers() -> Ledger:
    ledger = Ledger()
    result = parse_volunteers_csv(VOLUNTEERS_EXCEL)
    apply_import(ledger, result)
    return ledger


# ------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+86 138 0013 8000", "+86 138 0013 8000"),
        ("010-12345678", "010-12345678"),
        ("120", "120"),
        ("  (021)  5555-1234 ", "(021) 5555-1234"),
        ("＋８６ １３８００１３８０００", "+86 13800138000"),
        ("'+86 138 0013 8000", "+86 138 0013 8000"),
    ],
)
def test_phone_accepts_international_and_chinese_forms(
    text: str, expected: str
) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    ["12", "1.38001E+10", "138-0013-800a", "", "1" * 21, "86+138", "010-12345678转123"],
)
def test_phone_rejects_the_rest(text: str) -> None:
    with pytest.raises(LedgerError) as err:
        normalize_phone(text)
    assert err.value.code == "invalid_phone"
    assert err.value.placeholders == {"value": text}


def test_tel_uri_keeps_digits_and_plus() -> None:
    assert tel_uri("+86 (138) 0013-8000") == "tel:+8613800138000"


def test_languages_roles_and_notify_names() -> None:
    assert normalize_language(None) == "zh-Hans"
    assert normalize_language("English") == "en"
    assert normalize_language("zh-CN") == "zh-Hans"
    assert normalize_language("中文") == "zh-Hans"
    with pytest.raises(LedgerError, match="invalid_language"):
        normalize_language("fr")
    assert parse_role("Staff") is Role.STAFF
    assert parse_role("社工") is Role.STAFF
    assert parse_role("志愿者") is Role.VOLUNTEER
    assert parse_role("IT") is Role.IT
    with pytest.raises(LedgerError, match="invalid_role"):
        parse_role("boss")
    assert normalize_notify("notify.Mobile_App_Li") == "mobile_app_li"
    with pytest.raises(LedgerError, match="invalid_notify"):
        normalize_notify("notify.mobile app")


def test_contact_parse_and_text() -> None:
    contact = Contact.parse("王强（儿子）：139 1234 5678")
    assert contact == Contact(name="王强（儿子）", phone="139 1234 5678")
    assert str(contact) == "王强（儿子）:139 1234 5678"
    assert Contact.parse("a:b:120").name == "a:b"
    assert contact.as_dict() == {"name": "王强（儿子）", "phone": "139 1234 5678"}
    for bad in ("13912345678", ":13912345678"):
        with pytest.raises(LedgerError, match="invalid_contact"):
            Contact.parse(bad)
    with pytest.raises(LedgerError, match="invalid_phone"):
        Contact.parse("王强:x")


def test_validate_volunteer_normalises_and_refuses() -> None:
    checked = validate_volunteer(
        volunteer(
            "v1",
            notify=["notify.mobile_app_v1", "mobile_app_v1", "sms_v1"],
            language="English",
            schedule=" schedule.v1_duty ",
        )
    )
    assert checked.notify == ["mobile_app_v1", "sms_v1"]
    assert checked.language == "en"
    assert checked.schedule == "schedule.v1_duty"
    assert validate_volunteer(volunteer("v1", phone=" ")).phone == ""
    with pytest.raises(LedgerError) as err:
        validate_volunteer(volunteer("v1", notify=[]))
    assert (err.value.code, err.value.placeholders) == ("required", {"field": "notify"})
    with pytest.raises(LedgerError, match="invalid_id"):
        validate_volunteer(volunteer("v 1", notify=["mobile_app_x"]))
    with pytest.raises(LedgerError, match="invalid_id"):
        validate_volunteer(volunteer("v.1", notify=["mobile_app_x"]))
    with pytest.raises(LedgerError, match="required"):
        validate_volunteer(volunteer("v1", name="  "))
    with pytest.raises(LedgerError, match="invalid_schedule"):
        validate_volunteer(volunteer("v1", schedule="input_boolean.duty"))


def test_validate_household_normalises() -> None:
    checked = validate_household(
        household(
            phone="",
            emergency_contacts=[
                Contact(name=" Ming ", phone="+86 139-0000-1111"),
                "Fang：120",
            ],
            volunteers=["v1", "v2", "v1"],
            backup_volunteers=["v2", "v3"],
            language="en",
        )
    )
    assert checked.phone == ""
    assert checked.emergency_contacts == [
        Contact(name="Ming", phone="+86 139-0000-1111"),
        Contact(name="Fang", phone="120"),
    ]
    assert checked.volunteers == ["v1", "v2"]
    assert checked.backup_volunteers == ["v3"]
    with pytest.raises(LedgerError, match="required"):
        validate_household(household(address=""))
    with pytest.raises(LedgerError, match="invalid_phone"):
        validate_household(household(emergency_contacts=[Contact(name="x", phone="1")]))


def test_ledger_error_message() -> None:
    assert str(LedgerError("duplicate_id", id="v1")) == "duplicate_id: {'id': 'v1'}"
    assert str(LedgerError("import_has_errors")) == "import_has_errors"


# ------------------------------------------------------------------------ ledger


def test_volunteers_add_update_remove() -> None:
    ledger = Ledger()
    ledger.add_volunteer(volunteer("v1"))
    ledger.add_volunteer(volunteer("v2"))
    with pytest.raises(LedgerError) as err:
        ledger.add_volunteer(volunteer("v1"))
    assert err.value.code == "duplicate_id"
    updated = ledger.update_volunteer(volunteer("v1", name="New name", active=False))
    assert ledger.get_volunteer("v1") is updated
    assert not updated.active
    with pytest.raises(LedgerError) as err:
        ledger.update_volunteer(volunteer("v9"))
    assert (err.value.code, err.value.placeholders) == (
        "unknown_volunteer",
        {"volunteer": "v9"},
    )
    ledger.add_household(
        household("hh_1", volunteers=["v1"], backup_volunteers=["v2"]), T0
    )
    ledger.add_household(household("hh_2", elder_name="B", volunteers=["v2"]), T0)
    ledger.add_household(household("hh_3", elder_name="C"), T0)
    assert ledger.remove_volunteer("v2") == ["hh_1", "hh_2"]
    assert ledger.households["hh_1"].backup_volunteers == []
    assert ledger.households["hh_2"].volunteers == []
    assert "v2" not in ledger.volunteers
    with pytest.raises(LedgerError, match="unknown_volunteer"):
        ledger.remove_volunteer("v2")


def test_households_add_update_remove_secrets() -> None:
    ledger = Ledger()
    ledger.add_volunteer(volunteer("v1"))
    with pytest.raises(LedgerError) as err:
        ledger.add_household(household(volunteers=["ghost"]))
    assert (err.value.code, err.value.placeholders) == (
        "unknown_volunteer",
        {"volunteer": "ghost"},
    )
    added = ledger.add_household(household(volunteers=["v1"]))
    assert added.secret
    assert added.created_at is not None
    with pytest.raises(LedgerError, match="duplicate_id"):
        ledger.add_household(household())
    given = ledger.add_household(household("hh_2", secret="s", created_at=T0), T0)  # noqa: S106
    assert (given.secret, given.created_at) == ("s", T0)

    updated = ledger.update_household(household(address="Lane 13"))
    assert updated.secret == added.secret
    assert updated.created_at == added.created_at
    assert ledger.get_household("hh_1").address == "Lane 13"
    with pytest.raises(LedgerError) as err:
        ledger.update_household(household("hh_9"))
    assert (err.value.code, err.value.placeholders) == (
        "unknown_household",
        {"household": "hh_9"},
    )

    ledger.revoke("hh_1")
    assert ledger.households["hh_1"].revoked
    new = ledger.rotate_secret("hh_1")
    assert new != added.secret
    assert (ledger.households["hh_1"].secret, ledger.households["hh_1"].revoked) == (
        new,
        False,
    )

    ledger.remove_household("hh_2")
    assert "hh_2" not in ledger.households
    with pytest.raises(LedgerError, match="unknown_household"):
        ledger.remove_household("hh_2")


def test_unassigned_households() -> None:
    ledger = Ledger()
    ledger.add_volunteer(volunteer("v1"))
    ledger.add_volunteer(volunteer("v2", active=False))
    ledger.add_household(household("hh_ok", volunteers=["v1"]), T0)
    ledger.add_household(
        household("hh_inactive", elder_name="B", volunteers=["v2"]), T0
    )
    ledger.add_household(household("hh_none", elder_name="C"), T0)
    ledger.add_household(household("hh_gone", elder_name="D"), T0)
    ledger.erase_person("hh_gone")
    ledger.households["hh_ok"].volunteers.append("ghost")
    assert ledger.unassigned_households() == ["hh_inactive", "hh_none"]


def test_export_and_erase_person() -> None:
    ledger = Ledger()
    ledger.add_volunteer(volunteer("v1"))
    ledger.add_volunteer(volunteer("v2"))
    ledger.add_household(
        household(
            emergency_contacts=[Contact(name="Ming", phone="13900001111")],
            consent_date=date(2024, 3, 5),
            volunteers=["v1"],
            backup_volunteers=["v2"],
        ),
        T0,
    )
    exported = ledger.export_person("hh_1")
    assert exported == {
        "id": "hh_1",
        "elder_name": "Li Guilan",
        "address": "Lane 12 No. 3",
        "phone": "021-5555 1234",
        "emergency_contacts": [{"name": "Ming", "phone": "13900001111"}],
        "consent_date": "2024-03-05",
        "volunteers": [{"id": "v1", "tier": 1}, {"id": "v2", "tier": 2}],
        "language": "zh-Hans",
        "revoked": False,
        "created_at": T0.isoformat(),
    }
    assert "secret" not in exported
    with pytest.raises(LedgerError, match="unknown_household"):
        ledger.export_person("hh_9")

    ledger.erase_person("hh_1")
    record = ledger.households["hh_1"]
    assert record.erased
    assert record.elder_name == ERASED
    assert (record.address, record.phone, record.emergency_contacts) == ("", "", [])
    assert (record.consent_date, record.volunteers, record.backup_volunteers) == (
        None,
        [],
        [],
    )
    assert (record.secret, record.revoked) == ("", True)
    assert record.created_at == T0
    with pytest.raises(LedgerError, match="unknown_household"):
        ledger.erase_person("hh_9")


def test_storage_round_trip() -> None:
    ledger = ledger_with_volunteers()
    apply_import(
        ledger,
        parse_households_csv(HOUSEHOLDS_SEMICOLON, set(ledger.volunteers)),
        T0,
    )
    ledger.add_household(household("hh_plain", elder_name="X"))
    ledger.households["hh_plain"].created_at = None
    data = ledger.as_dict()
    again = Ledger.from_dict(data)
    assert again.as_dict() == data
    assert again.households["hh_li01"].consent_date == date(2024, 3, 5)
    assert again.volunteers["v_wang"].schedule == "schedule.wang_duty"
    assert Ledger.from_dict(None).as_dict() == {"households": [], "volunteers": []}
    assert Ledger.from_dict([]).households == {}
    minimal = Ledger.from_dict(
        {"households": [{"id": "hh_m"}], "volunteers": [{"id": "v_m", "name": "M"}]}
    )
    assert minimal.households["hh_m"].consent_date is None
    assert minimal.volunteers["v_m"].role is Role.VOLUNTEER
    assert minimal.volunteers["v_m"].active


# ------------------------------------------------------------------- CSV import


def test_excel_volunteers_with_bom_and_chinese_headers() -> None:
    result = parse_volunteers_csv(VOLUNTEERS_EXCEL)
    assert result.ok
    assert result.errors == []
    assert result.households == []
    by_id = {item.id: item for item in result.volunteers}
    assert list(by_id) == ["v_li", "v_wang", "s_zhao", "it_chen"]
    li = by_id["v_li"]
    assert li.name == "李秀兰"
    assert li.phone == "+86 138 0013 8000"
    assert li.notify == ["mobile_app_li_phone", "sms_gateway_li"]
    assert (li.role, li.language, li.schedule, li.active) == (
        Role.VOLUNTEER,
        "zh-Hans",
        None,
        True,
    )
    assert by_id["v_wang"].notify == ["mobile_app_wang"]
    assert by_id["v_wang"].schedule == "schedule.wang_duty"
    assert by_id["s_zhao"].role is Role.STAFF
    assert by_id["it_chen"].role is Role.IT
    assert by_id["it_chen"].phone == "13700137000"
    assert by_id["it_chen"].notify == ["mobile_app_chen"]
    assert by_id["it_chen"].language == "en"


def test_three_bad_rows_all_reported_nothing_imported() -> None:
    result = parse_volunteers_csv(VOLUNTEERS_THREE_BAD)
    assert not result.ok
    assert result.errors == [
        RowError(row=3, field="phone", code="invalid_phone", value="1.38001E+10"),
        RowError(row=4, field="role", code="invalid_role", value="队长"),
        RowError(row=6, field="id", code="duplicate_id", value="v_li"),
    ]
    ledger = Ledger()
    ledger.add_volunteer(volunteer("v_existing"))
    before = ledger.as_dict()
    with pytest.raises(LedgerError) as err:
        apply_import(ledger, result)
    assert (err.value.code, err.value.placeholders) == (
        "import_has_errors",
        {"count": "3"},
    )
    assert ledger.as_dict() == before


def test_volunteer_row_errors_every_field() -> None:
    text = (
        "id;name;phone;notify;role;language;schedule;active\n"
        "bad id;;12;;volunteer;fr;light.x;maybe\n"
        "v2;Two;13800138000;bad service;staff;;;no\n"
        "v3;Three;13800138000;mobile_app_v3;it;en;schedule.it;是\n"
        "v4;Four;13800138000\n"
    )
    result = parse_volunteers_csv(text)
    assert [(error.row, error.field, error.code) for error in result.errors] == [
        (2, "id", "invalid_id"),
        (2, "name", "required"),
        (2, "phone", "invalid_phone"),
        (2, "notify", "required"),
        (2, "language", "invalid_language"),
        (2, "schedule", "invalid_schedule"),
        (2, "active", "invalid_boolean"),
        (3, "notify", "invalid_notify"),
        (5, "notify", "required"),
        (5, "role", "invalid_role"),
    ]
    assert [(item.id, item.active) for item in result.volunteers] == [("v3", True)]


def test_inactive_column_and_tab_delimiter() -> None:
    text = "id\tname\tphone\tnotify\trole\tactive\nv1\tOne\t120\tmobile_app_v1\tstaff\tno\n"
    result = parse_volunteers_csv(text)
    assert result.ok
    assert not result.volunteers[0].active


def test_header_problems() -> None:
    assert parse_volunteers_csv("").errors == [
        RowError(row=1, field="", code="empty_file", value="")
    ]
    assert parse_volunteers_csv("\ufeff\r\n\r\n").errors[0].code == "empty_file"
    result = parse_volunteers_csv("id,姓名,name,phone,notify\nv1,a,b,120,x\n")
    assert result.errors == [
        RowError(row=1, field="name", code="duplicate_column", value="name"),
        RowError(row=1, field="role", code="missing_column", value=""),
    ]
    assert result.volunteers == []
    single = parse_households_csv("elder_name\nLi\n", set())
    assert single.errors == [
        RowError(row=1, field="address", code="missing_column", value="")
    ]


def test_blank_leading_lines_and_line_numbers_after_multiline_cells() -> None:
    text = (
        "\n\nid,name,phone,notify,role\n"
        'v1,"One\nwith a second line",120,mobile_app_v1,staff\n'
        "v2,Two,12,mobile_app_v2,staff\n"
    )
    result = parse_volunteers_csv(text)
    assert result.errors == [
        RowError(row=6, field="phone", code="invalid_phone", value="12")
    ]


def test_households_semicolon_file() -> None:
    known = {"v_li", "v_wang"}
    result = parse_households_csv(HOUSEHOLDS_SEMICOLON, known)
    assert result.ok
    assert result.volunteers == []
    li, zhou = result.households
    assert li.id == "hh_li01"
    assert li.address == "Lane 12 No. 3\nRoom 301"
    assert li.phone == "021-5555 1234"
    assert li.emergency_contacts == [
        Contact(name="Li Ming (son)", phone="+86 139 0000 1111"),
        Contact(name="Wang Fang", phone="13800001111"),
    ]
    assert li.consent_date == date(2024, 3, 5)
    assert li.volunteers == ["v_li"]
    assert li.backup_volunteers == ["v_wang"]
    assert zhou.id == ""
    assert (zhou.phone, zhou.emergency_contacts, zhou.consent_date) == ("", [], None)


def test_households_chinese_tab_file() -> None:
    result = parse_households_csv(HOUSEHOLDS_CHINESE_TAB, {"v_li", "v_wang", "s_zhao"})
    assert result.ok
    (wang,) = result.households
    assert wang.elder_name == "王秀英"
    assert wang.emergency_contacts == [
        Contact(name="王强（儿子）", phone="13912345678"),
        Contact(name="王丽", phone="13698765432"),
    ]
    assert wang.consent_date == date(2024, 3, 5)
    assert wang.volunteers == ["v_li", "v_wang"]
    assert wang.backup_volunteers == ["s_zhao"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2024/3/5", date(2024, 3, 5)),
        ("2024.3.5", date(2024, 3, 5)),
        ("2024年3月5日", date(2024, 3, 5)),
        ("", None),
    ],
)
def test_consent_date_forms(text: str, expected: date | None) -> None:
    csv_text = f"elder_name,address,consent_date\nLi,Lane 1,{text}\n"
    assert parse_households_csv(csv_text, set()).households[0].consent_date == expected


def test_three_bad_household_rows() -> None:
    text = (
        "编号,老人姓名,地址,电话,紧急联系人,同意日期,志愿者,备用志愿者\n"
        "hh_1,李桂兰,幸福里1号,010-12345678,李明:13912345678,2024-03-05,v_li,\n"
        "hh_2,王秀英,幸福里2号,,,2024-13-01,v_li,\n"
        "hh_3,赵大爷,,,李明,,v_ghost,v_li\n"
        "hh_1,李桂兰,幸福里1号,,,,,\n"
        ",周兰,幸福里4号,,,,,\n"
        ",周兰,幸福里 4号,,,,,\n"
        "bad id!,x,y,,,3/5/2024,,\n"
    )
    result = parse_households_csv(text, {"v_li"})
    assert [
        (error.row, error.field, error.code, error.value) for error in result.errors
    ] == [
        (3, "consent_date", "invalid_date", "2024-13-01"),
        (4, "address", "required", ""),
        (4, "emergency_contacts", "invalid_contact", "李明"),
        (4, "volunteers", "unknown_volunteer", "v_ghost"),
        (5, "id", "duplicate_id", "hh_1"),
        (7, "elder_name", "duplicate_household", "周兰"),
        (8, "id", "invalid_id", "bad id!"),
        (8, "consent_date", "invalid_date", "3/5/2024"),
    ]
    assert [item.elder_name for item in result.households] == ["李桂兰", "周兰"]
    with pytest.raises(LedgerError, match="import_has_errors"):
        apply_import(Ledger(), result)


def test_long_error_values_are_cut() -> None:
    text = "id,name,phone,notify,role\nv1,One," + "9" * 100 + ",m,staff\n"
    (error,) = parse_volunteers_csv(text).errors
    assert error.value == "9" * 60


# ------------------------------------------------------------------- apply


def test_apply_import_upserts_atomically() -> None:
    ledger = Ledger()
    summary = apply_import(ledger, parse_volunteers_csv(VOLUNTEERS_EXCEL), T0)
    assert summary == ApplySummary(added=4, updated=0)
    result = parse_households_csv(HOUSEHOLDS_SEMICOLON, set(ledger.volunteers))
    assert apply_import(ledger, result, T0) == ApplySummary(added=2, updated=0)
    li = ledger.households["hh_li01"]
    assert li.secret
    assert li.created_at == T0
    (zhou_id,) = [key for key in ledger.households if key != "hh_li01"]
    assert zhou_id.startswith("hh_")

    # The same file again (Zhou still without id): nobody duplicated, secrets kept.
    secrets_before = {key: item.secret for key, item in ledger.households.items()}
    later = datetime(2026, 12, 1, tzinfo=UTC)
    assert apply_import(ledger, result, later) == ApplySummary(added=0, updated=2)
    assert {
        key: item.secret for key, item in ledger.households.items()
    } == secrets_before
    assert ledger.households[zhou_id].created_at == T0
    ledger.revoke(zhou_id)
    apply_import(ledger, result, later)
    assert ledger.households[zhou_id].revoked

    # Volunteers are upserted, and ones missing from the file are kept.
    again = parse_volunteers_csv(
        "id,name,phone,notify,role\nv_li,李秀兰,120,mobile_app_li_new,volunteer\n"
    )
    assert apply_import(ledger, again) == ApplySummary(added=0, updated=1)
    assert ledger.volunteers["v_li"].notify == ["mobile_app_li_new"]
    assert "v_wang" in ledger.volunteers


def test_apply_import_refuses_unknown_volunteers_and_changes_nothing() -> None:
    ledger = ledger_with_volunteers()
    result = parse_households_csv(HOUSEHOLDS_SEMICOLON, {"v_li", "v_wang"})
    del ledger.volunteers["v_wang"]
    before = ledger.as_dict()
    with pytest.raises(LedgerError) as err:
        apply_import(ledger, result)
    assert (err.value.code, err.value.placeholders) == (
        "unknown_volunteer",
        {"volunteer": "v_wang"},
    )
    assert ledger.as_dict() == before


def test_apply_import_with_volunteers_and_households_together() -> None:
    volunteers = parse_volunteers_csv(VOLUNTEERS_EXCEL)
    households = parse_households_csv(
        HOUSEHOLDS_CHINESE_TAB, {item.id for item in volunteers.volunteers}
    )
    combined = ImportResult(
        households=households.households,
        volunteers=volunteers.volunteers,
        errors=[*volunteers.errors, *households.errors],
    )
    ledger = Ledger()
    assert apply_import(ledger, combined, T0) == ApplySummary(added=5, updated=0)
    assert len(ledger.households) == 1


# ------------------------------------------------------------------- export


def test_exports_round_trip_and_are_excel_safe() -> None:
    ledger = ledger_with_volunteers()
    ledger.volunteers["v_wang"].active = False
    apply_import(
        ledger, parse_households_csv(HOUSEHOLDS_SEMICOLON, set(ledger.volunteers)), T0
    )
    ledger.add_household(
        household("hh_eq", elder_name="=HYPERLINK(1)", address="@here"), T0
    )
    ledger.add_household(household("hh_gone", elder_name="Gone"), T0)
    ledger.erase_person("hh_gone")

    text = volunteers_csv(ledger)
    assert text.startswith("id,name,phone,notify,role,language,schedule,active\r\n")
    assert "'+86 138 0013 8000" in text
    assert "mobile_app_li_phone;sms_gateway_li" in text
    back = parse_volunteers_csv(text)
    assert back.ok
    assert [item.as_dict() for item in back.volunteers] == [
        item.as_dict() for item in ledger.volunteers.values()
    ]

    homes = households_csv(ledger)
    assert "secret" not in homes
    assert "'=HYPERLINK(1)" in homes
    assert "hh_gone" not in homes
    assert all(
        item.secret not in homes for item in ledger.households.values() if item.secret
    )
    parsed = parse_households_csv(homes, set(ledger.volunteers))
    assert parsed.ok
    for record in parsed.households:
        stored = ledger.households[record.id]
        assert record.elder_name == stored.elder_name
        assert record.address == stored.address
        assert record.emergency_contacts == stored.emergency_contacts
        assert record.consent_date == stored.consent_date
        assert record.volunteers == stored.volunteers
        assert record.backup_volunteers == stored.backup_volunteers
    before = ledger.as_dict()
    assert apply_import(ledger, parsed) == ApplySummary(added=0, updated=3)
    assert ledger.as_dict() == before


def test_exports_with_chinese_headers() -> None:
    ledger = ledger_with_volunteers()
    apply_import(
        ledger, parse_households_csv(HOUSEHOLDS_CHINESE_TAB, set(ledger.volunteers)), T0
    )
    text = volunteers_csv(ledger, language="zh-Hans")
    assert text.startswith("编号,姓名,电话,通知服务,角色,语言,值班表,启用\r\n")
    assert parse_volunteers_csv(text).ok
    homes = households_csv(ledger, language="zh-Hans")
    assert homes.startswith(
        "编号,老人姓名,地址,电话,紧急联系人,同意日期,志愿者,备用志愿者,语言\r\n"
    )
    # As the glue writes it (utf-8-sig), Excel's BOM included, it reads back.
    assert parse_households_csv(
        (homes.encode("utf-8-sig")).decode("utf-8"), set(ledger.volunteers)
    ).ok
    assert "王强（儿子）:13912345678;王丽:13698765432" in homes
    assert parse_households_csv(homes, set(ledger.volunteers)).ok


def test_single_column_file_uses_comma() -> None:
    result = parse_households_csv("elder_name\n", set())
    assert result.errors == [
        RowError(row=1, field="address", code="missing_column", value="")
    ]


def test_decode_utf8_bom_and_chinese_excel_ansi() -> None:
    assert decode_csv(
        VOLUNTEERS_EXCEL.encode("utf-8")
    ) == VOLUNTEERS_EXCEL.removeprefix("\ufeff")
    assert decode_csv("编号,姓名\n".encode()) == "编号,姓名\n"
    gbk = VOLUNTEERS_EXCEL.removeprefix("\ufeff").encode("gbk")
    assert (
        parse_volunteers_csv(decode_csv(gbk)).volunteers
        == parse_volunteers_csv(VOLUNTEERS_EXCEL).volunteers
    )
    with pytest.raises(LedgerError, match="invalid_encoding"):
        decode_csv(b"\xff\xfe\x00\x81")
