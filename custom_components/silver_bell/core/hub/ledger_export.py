"""CSV export of the hub's ledger (households and volunteers), for spreadsheets.

Pure logic (no Home Assistant import). The glue writes the text with ``utf-8-sig``
(Excel needs the BOM to read Chinese); cells a spreadsheet would run as a formula
get a leading apostrophe, which the import (``ledger_csv.py``) removes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import csv
import io

from .ledger import Ledger
from .ledger_csv import HOUSEHOLD_COLUMNS, VOLUNTEER_COLUMNS
from .people import FORMULA_START

_HEADERS_ZH: Mapping[str, str] = {
    "id": "编号",
    "name": "姓名",
    "phone": "电话",
    "notify": "通知服务",
    "role": "角色",
    "language": "语言",
    "schedule": "值班表",
    "active": "启用",
    "elder_name": "老人姓名",
    "address": "地址",
    "emergency_contacts": "紧急联系人",
    "consent_date": "同意日期",
    "volunteers": "志愿者",
    "backup_volunteers": "备用志愿者",
}


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (``+86 …`` would be one in Excel)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _write(
    columns: tuple[str, ...], rows: Iterable[Mapping[str, str]], language: str
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if language == "zh-Hans":
        writer.writerow([_HEADERS_ZH[column] for column in columns])
    else:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe_cell(row[column]) for column in columns])
    return buffer.getvalue()


def volunteers_csv(ledger: Ledger, *, language: str = "en") -> str:
    """All volunteers as CSV text.

    Write it with ``encoding="utf-8-sig"``: without the BOM Excel reads Chinese
    as the ANSI code page.
    """
    return _write(
        VOLUNTEER_COLUMNS,
        (
            {
                "id": item.id,
                "name": item.name,
                "phone": item.phone,
                "notify": ";".join(item.notify),
                "role": item.role.value,
                "language": item.language,
                "schedule": item.schedule or "",
                "active": "yes" if item.active else "no",
            }
            for item in ledger.volunteers.values()
        ),
        language,
    )


def households_csv(ledger: Ledger, *, language: str = "en") -> str:
    """All households as CSV, without secrets (erased households left out)."""
    return _write(
        HOUSEHOLD_COLUMNS,
        (
            {
                "id": item.id,
                "elder_name": item.elder_name,
                "address": item.address,
                "phone": item.phone,
                "emergency_contacts": ";".join(
                    str(contact) for contact in item.emergency_contacts
                ),
                "consent_date": ""
                if item.consent_date is None
                else item.consent_date.isoformat(),
                "volunteers": ";".join(item.volunteers),
                "backup_volunteers": ";".join(item.backup_volunteers),
                "language": item.language,
            }
            for item in ledger.households.values()
            if not item.erased
        ),
        language,
    )
