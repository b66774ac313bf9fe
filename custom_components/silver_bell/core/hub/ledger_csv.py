"""CSV import of the hub's ledger (households and volunteers).

Pure logic (no Home Assistant import). Every row is validated and every error
collected (:class:`RowError`); :func:`apply_import` refuses a result with errors and
changes nothing. The export is ``ledger_export.py``; the leading apostrophe it puts
before a cell a spreadsheet would run as a formula is removed again here. See
``ledger.py`` for the decisions both follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
import csv
from dataclasses import dataclass, replace
from datetime import UTC, datetime
import io
import re
from typing import TypeVar

from ..protocol import new_household_id, new_secret
from .ledger import Ledger
from .people import (
    DEFAULT_LANGUAGE,
    MAX_ERROR_VALUE,
    Contact,
    HouseholdRecord,
    LedgerError,
    Role,
    Volunteer,
    check_id,
    clean,
    normalize_language,
    normalize_notify,
    optional_phone,
    parse_bool,
    parse_date,
    parse_role,
    parse_schedule,
    required,
    split_list,
    unique,
    validate_household,
    validate_volunteer,
)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ApplySummary:
    """What :func:`apply_import` did."""

    added: int
    updated: int


# ------------------------------------------------------------------------------ CSV


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell of an imported file (``row``: 1-based line number, header = 1)."""

    row: int
    field: str
    code: str
    value: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """A parsed file: the valid records and every error found."""

    households: list[HouseholdRecord]
    volunteers: list[Volunteer]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        """Whether the file may be applied."""
        return not self.errors


VOLUNTEER_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "phone",
    "notify",
    "role",
    "language",
    "schedule",
    "active",
)
VOLUNTEER_REQUIRED = frozenset({"id", "name", "notify", "role"})
HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "id",
    "elder_name",
    "address",
    "phone",
    "emergency_contacts",
    "consent_date",
    "volunteers",
    "backup_volunteers",
    "language",
)
HOUSEHOLD_REQUIRED = frozenset({"elder_name", "address"})

_VOLUNTEER_ALIASES: Mapping[str, str] = {
    "编号": "id",
    "志愿者编号": "id",
    "姓名": "name",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "通知服务": "notify",
    "角色": "role",
    "语言": "language",
    "值班表": "schedule",
    "启用": "active",
    "在岗": "active",
}
_HOUSEHOLD_ALIASES: Mapping[str, str] = {
    "编号": "id",
    "户号": "id",
    "老人姓名": "elder_name",
    "elder": "elder_name",
    "name": "elder_name",
    "地址": "address",
    "电话": "phone",
    "紧急联系人": "emergency_contacts",
    "contacts": "emergency_contacts",
    "同意日期": "consent_date",
    "consent": "consent_date",
    "志愿者": "volunteers",
    "备用志愿者": "backup_volunteers",
    "backups": "backup_volunteers",
    "语言": "language",
    "姓名": "elder_name",
    "手机": "phone",
}


def decode_csv(data: bytes) -> str:
    """Text of an uploaded spreadsheet export: UTF-8 (with or without BOM) or GB18030.

    Excel on Chinese Windows saves "CSV (逗号分隔)" in the ANSI code page (GBK, a
    subset of GB18030) and only "CSV UTF-8" as UTF-8. LedgerError
    ``invalid_encoding`` if it is neither.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LedgerError("invalid_encoding")


def _sniff_delimiter(text: str) -> str:
    """``,``, ``;`` or tab: the most frequent in the first non-blank line."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


class _UnreadableError(Exception):
    """The CSV reader gave up on a line (e.g. a cell over its 128 KiB limit)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV records with the line number each starts on."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise _UnreadableError(start, str(err)) from err
        if any(cell.strip() for cell in row):
            yield start, row


def _header_key(
    cell: str, aliases: Mapping[str, str], columns: tuple[str, ...]
) -> str | None:
    text = clean(cell).removeprefix("\ufeff")
    if text in aliases:
        return aliases[text]
    key = re.sub(r"[\s\-]+", "_", text.lower())
    if key in columns:
        return key
    return aliases.get(key)


class _Table:
    """A CSV file mapped onto our column names, with header errors."""

    def __init__(
        self,
        text: str,
        aliases: Mapping[str, str],
        columns: tuple[str, ...],
        required: frozenset[str],
    ) -> None:
        self.errors: list[RowError] = []
        self.rows: list[tuple[int, dict[str, str]]] = []
        try:
            self._read(_records(text), aliases, columns, required)
        except _UnreadableError as err:
            self.rows.clear()
            self.errors.append(
                RowError(
                    row=err.line,
                    field="",
                    code="unreadable",
                    value=str(err)[:MAX_ERROR_VALUE],
                )
            )

    def _read(
        self,
        records: Iterator[tuple[int, list[str]]],
        aliases: Mapping[str, str],
        columns: tuple[str, ...],
        required: frozenset[str],
    ) -> None:
        header = next(records, None)
        if header is None:
            self.errors.append(RowError(row=1, field="", code="empty_file", value=""))
            return
        header_row, cells = header
        positions: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = _header_key(cell, aliases, columns)
            if key is None:
                continue  # extra columns (notes …) are ignored, never imported
            if key in positions:
                self.errors.append(
                    RowError(
                        row=header_row, field=key, code="duplicate_column", value=cell
                    )
                )
                continue
            positions[key] = index
        self.errors.extend(
            RowError(row=header_row, field=key, code="missing_column", value="")
            for key in columns
            if key in required and key not in positions
        )
        if self.errors:
            return
        for line, row in records:
            self.rows.append(
                (
                    line,
                    {
                        key: row[index] if index < len(row) else ""
                        for key, index in positions.items()
                    },
                )
            )


def _error(line: int, field_name: str, err: LedgerError, value: str) -> RowError:
    return RowError(
        row=line,
        field=err.placeholders.get("field", field_name),
        code=err.code,
        value=clean(value)[:MAX_ERROR_VALUE],
    )


class _Row:
    """Collects the errors of one row while its cells are read."""

    def __init__(self, line: int, cells: Mapping[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.errors: list[RowError] = []

    def read(self, field_name: str, parse: Callable[[str], _T], default: _T) -> _T:
        """Parse one cell; on error record it and return ``default``."""
        value = self.cells.get(field_name, "")
        try:
            return parse(value)
        except LedgerError as err:
            self.errors.append(_error(self.line, field_name, err, value))
            return default

    def each(self, field_name: str, parse: Callable[[str], _T]) -> list[_T]:
        """Parse every item of a list cell, recording each bad item."""
        results = []
        for item in split_list(self.cells.get(field_name, "")):
            try:
                results.append(parse(item))
            except LedgerError as err:
                self.errors.append(_error(self.line, field_name, err, item))
        return results


def parse_volunteers_csv(text: str) -> ImportResult:
    """Read a volunteers file; every row is validated, every error collected.

    Columns (English or Chinese headers, any order, extra columns ignored):
    ``id, name, phone, notify (";"-separated), role, language, schedule, active``
    (``phone``, ``language``, ``schedule`` and ``active`` may be blank or missing;
    ``active`` blank = yes). UTF-8 with or without BOM;
    ``,``, ``;`` or tab delimited.
    """
    table = _Table(text, _VOLUNTEER_ALIASES, VOLUNTEER_COLUMNS, VOLUNTEER_REQUIRED)
    errors = list(table.errors)
    volunteers: list[Volunteer] = []
    seen: set[str] = set()
    for line, cells in table.rows:
        row = _Row(line, cells)
        volunteer_id = row.read("id", check_id, "")
        if volunteer_id in seen:
            row.errors.append(RowError(line, "id", "duplicate_id", volunteer_id))
        seen.add(volunteer_id)
        name = row.read("name", _required_name, "")
        phone = row.read("phone", optional_phone, "")
        before = len(row.errors)
        notify = unique(row.each("notify", normalize_notify))
        if not notify and len(row.errors) == before:
            row.errors.append(RowError(line, "notify", "required", ""))
        role = row.read("role", parse_role, Role.VOLUNTEER)
        language = row.read("language", normalize_language, DEFAULT_LANGUAGE)
        schedule = row.read("schedule", parse_schedule, None)
        active = row.read("active", parse_bool, True)
        if row.errors:
            errors.extend(row.errors)
            continue
        volunteers.append(
            Volunteer(
                id=volunteer_id,
                name=name,
                phone=phone,
                notify=notify,
                role=role,
                language=language,
                schedule=schedule,
                active=active,
            )
        )
    return ImportResult(households=[], volunteers=volunteers, errors=errors)


def _required_name(value: str) -> str:
    return required(value, "name")


def _optional_id(value: str) -> str:
    return check_id(value) if clean(value) else ""


def _identity(elder_name: str, address: str) -> tuple[str, str]:
    """Who a household is when the file gives no id: same elder at the same address."""
    return ("".join(elder_name.split()), "".join(address.split()))


def _known_volunteers(row: _Row, column: str, known: set[str]) -> list[str]:
    """The volunteer ids of a list cell, each once; an unknown one is a row error."""
    ids = []
    for volunteer_id in row.each(column, check_id):
        if volunteer_id in known:
            ids.append(volunteer_id)
        else:
            row.errors.append(
                RowError(row.line, column, "unknown_volunteer", volunteer_id)
            )
    return unique(ids)


def parse_households_csv(text: str, known_volunteers: set[str]) -> ImportResult:
    """Read a households file; every row is validated, every error collected.

    Columns: ``id`` (optional; blank = new household, see :func:`apply_import`),
    ``elder_name, address, phone (optional), emergency_contacts ("name:phone;…"),
    consent_date (YYYY-MM-DD; Excel's 2024/3/5 accepted), volunteers,
    backup_volunteers (";"-separated ids, each in ``known_volunteers``), language``.
    """
    table = _Table(text, _HOUSEHOLD_ALIASES, HOUSEHOLD_COLUMNS, HOUSEHOLD_REQUIRED)
    errors = list(table.errors)
    households: list[HouseholdRecord] = []
    seen: set[str] = set()
    identities: set[tuple[str, str]] = set()
    for line, cells in table.rows:
        row = _Row(line, cells)
        household_id = row.read("id", _optional_id, "")
        if household_id and household_id in seen:
            row.errors.append(RowError(line, "id", "duplicate_id", household_id))
        seen.add(household_id)
        elder_name = row.read(
            "elder_name", lambda value: required(value, "elder_name"), ""
        )
        address = row.read("address", lambda value: required(value, "address"), "")
        identity = _identity(elder_name, address)
        if not household_id and elder_name and address and identity in identities:
            row.errors.append(
                RowError(
                    line,
                    "elder_name",
                    "duplicate_household",
                    elder_name[:MAX_ERROR_VALUE],
                )
            )
        identities.add(identity)
        phone = row.read("phone", optional_phone, "")
        contacts = row.each("emergency_contacts", Contact.parse)
        consent = row.read("consent_date", parse_date, None)
        tiers = [
            _known_volunteers(row, column, known_volunteers)
            for column in ("volunteers", "backup_volunteers")
        ]
        language = row.read("language", normalize_language, DEFAULT_LANGUAGE)
        if row.errors:
            errors.extend(row.errors)
            continue
        households.append(
            HouseholdRecord(
                id=household_id,
                elder_name=elder_name,
                address=address,
                phone=phone,
                emergency_contacts=contacts,
                consent_date=consent,
                volunteers=tiers[0],
                backup_volunteers=[item for item in tiers[1] if item not in tiers[0]],
                language=language,
            )
        )
    return ImportResult(households=households, volunteers=[], errors=errors)


def _merge_volunteers(
    volunteers: dict[str, Volunteer], incoming: Iterable[Volunteer]
) -> tuple[int, int, set[str]]:
    """Validate and upsert ``incoming`` into ``volunteers``: (added, updated, ids)."""
    added = updated = 0
    touched: set[str] = set()
    for volunteer in incoming:
        person = validate_volunteer(volunteer)
        if person.id in volunteers:
            if person.pin_hash is None:  # CSV files never carry the PIN
                person = replace(person, pin_hash=volunteers[person.id].pin_hash)
            updated += 1
        else:
            added += 1
        volunteers[person.id] = person
        touched.add(person.id)
    return added, updated, touched


def apply_import(
    ledger: Ledger, result: ImportResult, now: datetime | None = None
) -> ApplySummary:
    """Upsert every record of ``result`` at once, or nothing.

    Raises LedgerError ``import_has_errors`` (placeholder ``count``) if the file had
    errors, or ``unknown_volunteer`` if a household refers to a volunteer that is
    neither in the ledger nor in ``result`` (the ledger is then unchanged).
    Volunteers are applied before households. A household with a blank id updates
    the household with the same elder name and address, or is added with a new id.
    New households get a secret and ``created_at``; existing ones keep their
    secret, revocation and creation time. Volunteers not in the file are kept.
    """
    if result.errors:
        raise LedgerError("import_has_errors", count=str(len(result.errors)))
    volunteers = dict(ledger.volunteers)
    households = dict(ledger.households)
    added, updated, touched_volunteers = _merge_volunteers(
        volunteers, result.volunteers
    )
    touched_households: set[str] = set()
    by_identity = {
        _identity(item.elder_name, item.address): item.id
        for item in households.values()
    }
    moment = now or datetime.now(UTC)
    for household in result.households:
        household_id = household.id or by_identity.get(
            _identity(household.elder_name, household.address), ""
        )
        checked = validate_household(
            replace(household, id=household_id or new_household_id())
        )
        for volunteer_id in (*checked.volunteers, *checked.backup_volunteers):
            if volunteer_id not in volunteers:
                raise LedgerError("unknown_volunteer", volunteer=volunteer_id)
        current = households.get(checked.id)
        if current is None:
            added += 1
            checked.secret = new_secret()
            checked.created_at = moment
        else:
            updated += 1
            checked.secret = current.secret
            checked.revoked = current.revoked
            checked.created_at = current.created_at
        households[checked.id] = checked
        touched_households.add(checked.id)
        by_identity[_identity(checked.elder_name, checked.address)] = checked.id
    ledger.volunteers = volunteers
    ledger.households = households
    ledger.changed_volunteers.update(touched_volunteers)
    ledger.changed_households.update(touched_households)
    return ApplySummary(added=added, updated=updated)
