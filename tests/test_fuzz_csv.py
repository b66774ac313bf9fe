"""Property-based fuzz of the ledger's CSV import (``silver_bell.import_ledger``).

Hypothesis writes spreadsheets nobody should write: random bytes, wrong and
duplicate columns, quotes and line breaks in cells, byte-order marks, huge
cells, duplicate ids, formula injection (``=cmd|' /C calc'!A0``). Whatever the
file, the import either succeeds cleanly or raises a translated
``ServiceValidationError`` (``import_rejected`` names the rows), and a refused
file changes nothing: the ledger is imported whole or not at all.

As in test_fuzz_intake.py, the ``@given`` property runs in an executor thread
and calls the service on Home Assistant's loop, so the hub is set up once per
test. ``SENT`` counts the files per family.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
import csv
from dataclasses import dataclass
import io
import json
from pathlib import Path
import re
from typing import Any, TypeVar

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import DOMAIN
from custom_components.silver_bell.core.hub.ledger import Ledger
from custom_components.silver_bell.core.hub.ledger_csv import (
    apply_import,
    decode_csv,
    parse_households_csv,
    parse_volunteers_csv,
)
from custom_components.silver_bell.core.hub.people import LedgerError

_T = TypeVar("_T")

#: Files imported per family, over the whole module.
SENT: Counter[str] = Counter()

STRINGS = json.loads(
    (
        Path(__file__).parent.parent
        / "custom_components"
        / "silver_bell"
        / "strings.json"
    ).read_text(encoding="utf-8")
)
EXCEPTIONS = set(STRINGS["exceptions"])

VOLUNTEERS_CSV = """id,name,phone,notify,role,language
v-wang,Wang Fang,+86 138 0000 0001,mobile_app_wang,volunteer,en
v-zhao,Zhao Lei,+86 138 0000 0002,mobile_app_zhao;sms_zhao,volunteer,zh-Hans
s-li,Li Ming,+86 138 0000 0003,mobile_app_desk,staff,en
"""

FUZZ = settings(deadline=None, database=None, print_blob=True)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


@dataclass
class Desk:
    """The hub, and the import service as the duty desk calls it."""

    hass: HomeAssistant
    hub: Any
    files: Path

    def call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run a coroutine on Home Assistant's loop from the Hypothesis thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.hass.loop).result(120)

    def ledger(self) -> str:
        """The whole ledger (secrets included) as one comparable string."""
        return json.dumps(self.hub.ledger.as_dict(), sort_keys=True, default=str)

    def import_ledger(self, family: str, **data: str) -> dict[str, Any] | None:
        """Import; the answer, or None when refused (then nothing changed).

        Any exception other than a translated ServiceValidationError fails.
        """
        SENT[family] += 1
        before = self.ledger()
        try:
            answer = self.call(
                self.hass.services.async_call(
                    DOMAIN,
                    "import_ledger",
                    data,
                    blocking=True,
                    return_response=True,
                )
            )
        except ServiceValidationError as err:
            _translated(err, data)
            assert self.ledger() == before, "a refused import changed the ledger"
            return None
        assert isinstance(answer, dict)
        _exports_are_safe(self)
        return answer

    async def run(self, prop: Callable[[], None]) -> None:
        """Run a Hypothesis property in an executor thread."""
        await self.hass.async_add_executor_job(prop)
        await self.hass.async_block_till_done()


def _translated(err: ServiceValidationError, data: dict[str, str]) -> None:
    """A refusal says why in the user's language, and which rows."""
    assert err.translation_domain == DOMAIN
    assert err.translation_key in EXCEPTIONS, err.translation_key
    if err.translation_key == "import_rejected":
        placeholders = err.translation_placeholders or {}
        assert int(placeholders["count"]) >= 1
        rows = [int(row) for row in re.findall(r"row (\d+)", placeholders["rows"])]
        assert rows, placeholders["rows"]
        if any(not key.endswith("_csv") for key in data):
            return  # a file: its lines are not at hand here
        lines = max(
            (text.count("\n") + text.count("\r") + 1 for text in data.values()),
            default=1,
        )
        assert all(1 <= row <= lines for row in rows), (rows, lines)


def _exports_are_safe(desk: Desk) -> None:
    """After an import, no exported cell would run as a spreadsheet formula."""
    exported = desk.call(
        desk.hass.services.async_call(
            DOMAIN, "export_ledger", {}, blocking=True, return_response=True
        )
    )
    for key in ("volunteers_csv", "households_csv"):
        for row in csv.reader(io.StringIO(exported[key], newline="")):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (key, cell)


@pytest.fixture
async def desk(hass: HomeAssistant, hub_entry: MockConfigEntry, tmp_path: Path) -> Desk:
    """A hub with three volunteers and one household in its ledger."""
    hass.config.internal_url = "http://127.0.0.1:8123"
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN,
        "import_ledger",
        {"volunteers_csv": VOLUNTEERS_CSV},
        blocking=True,
        return_response=True,
    )
    await hass.services.async_call(
        DOMAIN,
        "register_household",
        {"elder_name": "Grandma Li", "address": "3-201", "volunteers": ["v-wang"]},
        blocking=True,
        return_response=True,
    )
    return Desk(hass, hub_entry.runtime_data, tmp_path)


def _done(family: str, minimum: int) -> None:
    print(f"\n[fuzz] {family}: {SENT[family]} files")  # noqa: T201
    assert SENT[family] >= minimum


# -------------------------------------------------------------- strategies
FORMULAS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil","x")',
    "+86 138 0000 0009",
    "-2+3",
    "@SUM(1+1)",
    "'=1+1",
    "\t=1",
    "=1",
)
GOOD_CELLS = (
    "v-wang",
    "v-zhao",
    "s-li",
    "v-new",
    "v-new",  # twice: duplicate ids are likely
    "hh_dup0001",
    "Wang Fang",
    "王芳",
    "mobile_app_wang",
    "notify.mobile_app_new;sms_new",
    "volunteer",
    "staff",
    "志愿者",
    "it",
    "en",
    "zh-Hans",
    "中文",
    "schedule.duty",
    "yes",
    "否",
    "+86 138 0000 0001",
    "010-12345678",
    "2024-03-05",
    "2024/3/5",
    "2024年3月5日",
    "2024-02-30",
    "3-201 Jinhua Road",
    "Aunt Zhou:+86 139 0000 0000",
    "",
    " ",
)
cells = (
    st.sampled_from(GOOD_CELLS)
    | st.sampled_from(FORMULAS)
    | st.text(max_size=30)
    | st.text(alphabet="\",;\t\r\n'\ufeff\u3000", max_size=6)
)
VOLUNTEER_HEADERS = (
    "id",
    "name",
    "phone",
    "notify",
    "role",
    "language",
    "schedule",
    "active",
    "编号",
    "姓名",
    "通知服务",
    "角色",
    "notes",
    "Notify",
    " ID ",
    "\ufeffid",
)
HOUSEHOLD_HEADERS = (
    "id",
    "elder_name",
    "address",
    "phone",
    "emergency_contacts",
    "consent_date",
    "volunteers",
    "backup_volunteers",
    "language",
    "老人姓名",
    "地址",
    "志愿者",
    "elder",
    "notes",
)


names = st.sampled_from(("Wang Fang", "王芳", "Li Ming", *FORMULAS)) | st.text(
    min_size=1, max_size=20
)
phones = st.sampled_from(("", "+86 138 0000 0001", "010-12345678", "120", "=1+1"))
GOOD_COLUMNS: dict[str, st.SearchStrategy[str]] = {
    "id": st.sampled_from(
        ("v-wang", "v-new", "v-new2", "v-3", "s-li", "hh_a1", "", "=id", "v new")
    ),
    "name": names,
    "elder_name": names,
    "address": names,
    "phone": phones,
    "notify": st.sampled_from(
        ("mobile_app_new", "notify.mobile_app_new;sms_new", "=cmd", "")
    ),
    "role": st.sampled_from(("volunteer", "staff", "it", "志愿者", "pilot")),
    "language": st.sampled_from(("en", "zh-Hans", "中文", "", "fr")),
    "emergency_contacts": st.sampled_from(
        ("", "Aunt Zhou:+86 139 0000 0000", "=HYPERLINK(1):120", "nobody")
    ),
    "consent_date": st.sampled_from(("", "2024-03-05", "2024/3/5", "2024-02-30")),
}


@st.composite
def good_row(draw: st.DrawFn, header: list[str]) -> list[str]:
    """A row that is mostly right: a value that fits each known column."""
    return [
        draw(GOOD_COLUMNS.get(column, cells) if draw(st.integers(0, 29)) else cells)
        for column in header
    ]


def _render(rows: list[list[str]], delimiter: str, newline: str, quoting: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting
    )
    writer.writerows(rows)
    return buffer.getvalue()


@st.composite
def spreadsheet(draw: st.DrawFn, headers: tuple[str, ...]) -> str:
    """A CSV file a person (or an attacker) might make from a spreadsheet."""
    if draw(st.booleans()):  # a clean export, edited: the columns an import needs
        header = [*headers[:6], *draw(st.lists(st.just("notes"), max_size=1))]
    else:
        header = draw(
            st.lists(
                st.sampled_from(headers) | st.text(max_size=10), min_size=1, max_size=10
            )
        )
        if draw(st.booleans()):
            header = [*headers[:6], *header]
    rows = draw(
        st.lists(
            good_row(header) | st.lists(cells, min_size=0, max_size=len(header) + 2),
            max_size=draw(st.sampled_from((2, 8))),
        )
    )
    text = _render(
        [header, *rows],
        delimiter=draw(st.sampled_from((",", ";", "\t"))),
        newline=draw(st.sampled_from(("\n", "\r\n", "\r"))),
        quoting=draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL))),
    )
    if draw(st.booleans()):
        text = "\ufeff" + text
    if draw(st.integers(0, 9)) == 0:  # a broken quote somewhere
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + '"' + text[cut:]
    return text


# ----------------------------------------------------------------- families
async def test_random_text_imports_cleanly_or_is_refused(desk: Desk) -> None:
    """Arbitrary text, and random bytes read like an uploaded file."""

    @_fuzz(300)
    @given(
        text=st.text(min_size=1, max_size=400),
        table=st.sampled_from(("volunteers_csv", "households_csv")),
    )
    def prop(text: str, table: str) -> None:
        desk.import_ledger("random text", **{table: text})

    @_fuzz(200)
    @given(
        data=st.binary(min_size=1, max_size=400),
        bom=st.booleans(),
        table=st.sampled_from(("volunteers", "households")),
    )
    def raw(data: bytes, bom: bool, table: str) -> None:
        path = desk.files / "upload.csv"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        desk.import_ledger("random bytes", **{f"{table}_file": str(path)})

    await desk.run(prop)
    await desk.run(raw)
    _done("random text", 300)
    _done("random bytes", 200)


async def test_volunteer_spreadsheets(desk: Desk) -> None:
    """Wrong, duplicate and extra columns, quotes, BOMs, duplicate ids, formulas."""
    outcomes: Counter[str] = Counter()

    @_fuzz(500)
    @given(text=spreadsheet(VOLUNTEER_HEADERS))
    def prop(text: str) -> None:
        answer = desk.import_ledger("volunteer spreadsheet", volunteers_csv=text)
        outcomes["imported" if answer else "refused"] += 1
        if answer:
            parsed = parse_volunteers_csv(text)
            assert answer["volunteers"] == len(parsed.volunteers)
            for volunteer in parsed.volunteers:
                assert desk.hub.ledger.volunteers[volunteer.id].name == volunteer.name

    await desk.run(prop)
    print(f"\n[fuzz] volunteer spreadsheet outcomes: {dict(outcomes)}")  # noqa: T201
    _done("volunteer spreadsheet", 500)


async def test_household_spreadsheets(desk: Desk) -> None:
    """The same for households (optional ids, identities, volunteer references)."""
    outcomes: Counter[str] = Counter()

    @_fuzz(400)
    @given(
        households=spreadsheet(HOUSEHOLD_HEADERS),
        volunteers=st.none() | spreadsheet(VOLUNTEER_HEADERS),
    )
    def prop(households: str, volunteers: str | None) -> None:
        data = {"households_csv": households}
        if volunteers is not None:
            data["volunteers_csv"] = volunteers
        secrets = {
            key: record.secret for key, record in desk.hub.ledger.households.items()
        }
        answer = desk.import_ledger("household spreadsheet", **data)
        outcomes["imported" if answer else "refused"] += 1
        if answer:
            # Existing households keep their secrets: nobody has to re-pair.
            for key, secret in secrets.items():
                assert desk.hub.ledger.households[key].secret == secret

    await desk.run(prop)
    print(f"\n[fuzz] household spreadsheet outcomes: {dict(outcomes)}")  # noqa: T201
    _done("household spreadsheet", 400)


async def test_huge_cells(desk: Desk) -> None:
    """A cell of up to 200 000 characters: imported or refused, never a crash.

    Python's csv module refuses fields over 131 072 characters with
    ``_csv.Error``, which must not escape the import.
    """

    @_fuzz(25)
    @given(
        size=st.integers(1, 100_000) | st.integers(100_000, 200_000),
        column=st.integers(0, 3),
        quoted=st.booleans(),
    )
    def prop(size: int, column: int, quoted: bool) -> None:
        row = ["v-huge", "Huge Name", "mobile_app_huge", "volunteer"]
        row[column] = ("=" if column == 1 else "x") + "A" * (size - 1)
        text = _render(
            [["id", "name", "notify", "role"], row],
            ",",
            "\n",
            csv.QUOTE_ALL if quoted else csv.QUOTE_MINIMAL,
        )
        desk.import_ledger("huge cell", volunteers_csv=text)

    await desk.run(prop)
    _done("huge cell", 25)


async def test_huge_cell_over_the_csv_field_limit(desk: Desk) -> None:
    """The minimal case: one 140 000-character name."""
    text = "id,name,notify,role\nv-1," + "A" * 140_000 + ",mobile_app_x,volunteer\n"
    await desk.run(lambda: desk.import_ledger("huge cell", volunteers_csv=text))


def test_parse_and_apply_are_atomic_without_home_assistant() -> None:
    """The pure functions: only LedgerError, and a refused apply changes nothing."""

    @_fuzz(1500)
    @given(
        volunteers=spreadsheet(VOLUNTEER_HEADERS) | st.text(max_size=300),
        households=spreadsheet(HOUSEHOLD_HEADERS) | st.text(max_size=300),
        raw=st.binary(max_size=200),
    )
    def prop(volunteers: str, households: str, raw: bytes) -> None:
        SENT["pure parse"] += 1
        code = "decoded"
        try:
            decode_csv(raw)
        except LedgerError as err:
            code = err.code
        assert code in ("decoded", "invalid_encoding")
        ledger = Ledger()
        parsed = parse_volunteers_csv(volunteers)
        before = json.dumps(ledger.as_dict(), sort_keys=True)
        try:
            apply_import(ledger, parsed)
        except LedgerError:
            assert json.dumps(ledger.as_dict(), sort_keys=True) == before
            assert parsed.errors
        known = set(ledger.volunteers)
        homes = parse_households_csv(households, known)
        before = json.dumps(ledger.as_dict(), sort_keys=True, default=str)
        try:
            apply_import(ledger, homes)
        except LedgerError:
            assert json.dumps(ledger.as_dict(), sort_keys=True, default=str) == before
            assert homes.errors
        for error in (*parsed.errors, *homes.errors):
            assert error.row >= 1
            assert len(error.value) <= 60

    prop()
    _done("pure parse", 1500)
