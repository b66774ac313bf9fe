"""The hub's people: households (elders) and volunteers, their fields and validation.

Pure logic (no Home Assistant import). The records the ledger (``ledger.py``)
keeps and the CSV files (``ledger_csv.py``) carry; every value a person typed is
normalised and checked here, with :class:`LedgerError` codes the glue translates.

This module holds personal data (names, addresses, phone numbers): see
``ledger.py`` for where it may go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
import re
from typing import Any
import unicodedata

LANGUAGES: tuple[str, ...] = ("zh-Hans", "en")
DEFAULT_LANGUAGE = "zh-Hans"
ERASED = "erased"
MAX_ERROR_VALUE = 60

# Ids: what the wire protocol accepts for household ids, starting with a letter or digit.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-]+$")
_SERVICE = re.compile(r"^[a-z0-9_]+$")
# The hub's own channels in a volunteer's list (issue 23): wecom:<id>, dingtalk:<id>, sms:<id>.
_CHANNEL_REF = re.compile(r"^(wecom|dingtalk|sms):[a-z0-9_]{1,32}$")
_SCHEDULE = re.compile(r"^schedule\.[a-z0-9_]+$")
_LIST_SPLIT = re.compile(r"[;；、|,，]")
_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
# Cells a spreadsheet would run as a formula (CSV injection); exported with a
# leading apostrophe, which the import strips again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TRUE = frozenset({"1", "true", "yes", "y", "on", "是", "启用", "在岗"})
_FALSE = frozenset({"0", "false", "no", "n", "off", "否", "停用", "不在岗"})


class Role(StrEnum):
    """What a person does for the community."""

    VOLUNTEER = "volunteer"
    STAFF = "staff"
    IT = "it"


_ROLE_ALIASES: Mapping[str, Role] = {
    "volunteer": Role.VOLUNTEER,
    "志愿者": Role.VOLUNTEER,
    "义工": Role.VOLUNTEER,
    "staff": Role.STAFF,
    "社工": Role.STAFF,
    "工作人员": Role.STAFF,
    "值班": Role.STAFF,
    "值班员": Role.STAFF,
    "it": Role.IT,
    "信息": Role.IT,
    "技术": Role.IT,
    "技术员": Role.IT,
    "网管": Role.IT,
}

_LANGUAGE_ALIASES: Mapping[str, str] = {
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
    "zh": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh_cn": "zh-Hans",
    "chinese": "zh-Hans",
    "中文": "zh-Hans",
    "汉语": "zh-Hans",
    "简体中文": "zh-Hans",
}


class LedgerError(ValueError):
    """A refused ledger change; ``code`` is translated by the glue."""

    def __init__(self, code: str, **placeholders: str) -> None:
        """Keep the code and its placeholders."""
        super().__init__(f"{code}: {placeholders}" if placeholders else code)
        self.code = code
        self.placeholders: dict[str, str] = placeholders


@dataclass(frozen=True, slots=True)
class Contact:
    """An emergency contact of an elder (``"name:phone"`` in CSV files)."""

    name: str
    phone: str

    def __str__(self) -> str:
        """The CSV form, ``name:phone``."""
        return f"{self.name}:{self.phone}"

    @classmethod
    def parse(cls, text: str) -> Contact:
        """Read ``name:phone`` (full-width colon accepted); LedgerError if invalid."""
        cleaned = clean(text).replace("：", ":")
        name, sep, phone = cleaned.rpartition(":")
        name = name.strip()
        if not sep or not name:
            raise LedgerError("invalid_contact", value=text)
        return cls(name=name, phone=normalize_phone(phone))

    def as_dict(self) -> dict[str, str]:
        """Serialise for storage."""
        return {"name": self.name, "phone": self.phone}


@dataclass(kw_only=True, slots=True)
class Volunteer:
    """A volunteer, a member of staff or of community IT."""

    id: str
    name: str
    phone: str
    notify: list[str]  # notify service names, companion app first, then fallbacks
    role: Role
    language: str = DEFAULT_LANGUAGE
    schedule: str | None = None  # a schedule.* entity: on duty while it is "on"
    active: bool = True
    pin_hash: str | None = None  # accept links of group messages (hub/links.py)

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        data = {
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "notify": list(self.notify),
            "role": self.role.value,
            "language": self.language,
            "schedule": self.schedule,
            "active": self.active,
        }
        if self.pin_hash is not None:
            data["pin_hash"] = self.pin_hash
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Volunteer:
        """Rebuild from storage."""
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            phone=str(data.get("phone", "")),
            notify=[str(item) for item in data.get("notify", [])],
            role=Role(data.get("role", Role.VOLUNTEER)),
            language=str(data.get("language", DEFAULT_LANGUAGE)),
            schedule=data.get("schedule"),
            active=bool(data.get("active", True)),
            pin_hash=data.get("pin_hash"),
        )


@dataclass(kw_only=True, slots=True)
class HouseholdRecord:
    """One elder's home as the hub knows it."""

    id: str  # the protocol household id, e.g. "hh_3f2a…"
    elder_name: str
    address: str
    phone: str
    emergency_contacts: list[Contact] = field(default_factory=list)
    consent_date: date | None = None
    volunteers: list[str] = field(default_factory=list)  # tier 1, in order
    backup_volunteers: list[str] = field(default_factory=list)  # tier 2
    language: str = DEFAULT_LANGUAGE
    secret: str = ""
    revoked: bool = False
    created_at: datetime | None = None

    @property
    def erased(self) -> bool:
        """Whether the elder's personal data was erased."""
        return self.elder_name == ERASED and not self.address

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage (with the secret: the Store is private)."""
        return {
            "id": self.id,
            "elder_name": self.elder_name,
            "address": self.address,
            "phone": self.phone,
            "emergency_contacts": [item.as_dict() for item in self.emergency_contacts],
            "consent_date": None
            if self.consent_date is None
            else self.consent_date.isoformat(),
            "volunteers": list(self.volunteers),
            "backup_volunteers": list(self.backup_volunteers),
            "language": self.language,
            "secret": self.secret,
            "revoked": self.revoked,
            "created_at": None
            if self.created_at is None
            else self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HouseholdRecord:
        """Rebuild from storage."""
        consent = data.get("consent_date")
        created = data.get("created_at")
        return cls(
            id=str(data["id"]),
            elder_name=str(data.get("elder_name", "")),
            address=str(data.get("address", "")),
            phone=str(data.get("phone", "")),
            emergency_contacts=[
                Contact(name=str(item["name"]), phone=str(item["phone"]))
                for item in data.get("emergency_contacts", [])
            ],
            consent_date=None if consent is None else date.fromisoformat(str(consent)),
            volunteers=[str(item) for item in data.get("volunteers", [])],
            backup_volunteers=[str(item) for item in data.get("backup_volunteers", [])],
            language=str(data.get("language", DEFAULT_LANGUAGE)),
            secret=str(data.get("secret", "")),
            revoked=bool(data.get("revoked", False)),
            created_at=None
            if created is None
            else datetime.fromisoformat(str(created)),
        )


# --------------------------------------------------------------------------- values


def clean(value: str | None) -> str:
    """Trim (also full-width spaces) and undo the export's anti-formula apostrophe."""
    text = (value or "").replace("\u3000", " ").strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def normalize_phone(value: str) -> str:
    """A permissive phone check; returns the number with single spaces.

    Accepts digits, a leading ``+``, spaces, dashes and parentheses with 3–20 digits
    (``+86 138 0013 8000``, ``010-12345678``, ``120``); full-width characters are
    folded to ASCII. Raises LedgerError ``invalid_phone``.
    """
    text = " ".join(unicodedata.normalize("NFKC", clean(value)).split())
    digits = sum(char.isdigit() for char in text)
    if not _PHONE_CHARS.match(text) or not 3 <= digits <= 20:
        raise LedgerError("invalid_phone", value=value)
    return text


def tel_uri(phone: str) -> str:
    """``tel:`` URI of a stored phone number (spaces, dashes, brackets removed)."""
    return "tel:" + "".join(char for char in phone if char.isdigit() or char == "+")


def normalize_language(value: str | None) -> str:
    """``en`` or ``zh-Hans`` (blank: the default); LedgerError ``invalid_language``."""
    text = clean(value)
    if not text:
        return DEFAULT_LANGUAGE
    language = _LANGUAGE_ALIASES.get(text.lower())
    if language is None:
        raise LedgerError("invalid_language", value=text)
    return language


def parse_role(value: str) -> Role:
    """A role from its English value or a Chinese alias; LedgerError ``invalid_role``."""
    text = clean(value)
    role = _ROLE_ALIASES.get(text.lower())
    if role is None:
        raise LedgerError("invalid_role", value=text)
    return role


def normalize_notify(value: str) -> str:
    """A notify service name without the ``notify.`` domain; LedgerError ``invalid_notify``."""
    text = clean(value)
    name = text.lower().removeprefix("notify.")
    if not _SERVICE.match(name) and not _CHANNEL_REF.match(name):
        raise LedgerError("invalid_notify", value=text)
    return name


def check_id(value: str) -> str:
    """An id as the wire protocol accepts it; LedgerError ``invalid_id``."""
    text = clean(value)
    if not _ID.match(text):
        raise LedgerError("invalid_id", value=text)
    return text


def required(value: str, field_name: str) -> str:
    """A value that must not be blank; LedgerError ``required`` naming the field."""
    text = clean(value)
    if not text:
        raise LedgerError("required", field=field_name)
    return text


def parse_schedule(value: str | None) -> str | None:
    """A ``schedule.*`` entity id, or None when blank; LedgerError ``invalid_schedule``."""
    text = clean(value)
    if not text:
        return None
    if not _SCHEDULE.match(text):
        raise LedgerError("invalid_schedule", value=text)
    return text


def parse_date(value: str | None) -> date | None:
    """YYYY-MM-DD, or what Excel turns it into (2024/3/5, 2024.3.5, 2024年3月5日)."""
    text = clean(value)
    if not text:
        return None
    for form in _DATE_FORMS:
        if match := form.match(text):
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise LedgerError("invalid_date", value=text)


def parse_bool(value: str | None) -> bool:
    """Yes/no in English or Chinese (blank: yes); LedgerError ``invalid_boolean``."""
    text = clean(value).lower()
    if not text or text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LedgerError("invalid_boolean", value=text)


def split_list(value: str | None) -> list[str]:
    """A list cell: ``;`` (also ``；``, ``、``, ``|``, ``,``) separated, blanks dropped."""
    return [
        item
        for item in (clean(part) for part in _LIST_SPLIT.split(value or ""))
        if item
    ]


def unique(items: Iterable[str]) -> list[str]:
    """The items without repeats, in their first order."""
    return list(dict.fromkeys(items))


def optional_phone(value: str) -> str:
    """A phone, or "" when blank."""
    return normalize_phone(value) if clean(value) else ""


def validate_volunteer(volunteer: Volunteer) -> Volunteer:
    """A normalised copy of ``volunteer``; LedgerError for the first bad field."""
    notify = unique(normalize_notify(item) for item in volunteer.notify)
    if not notify:
        raise LedgerError("required", field="notify")
    return replace(
        volunteer,
        id=check_id(volunteer.id),
        name=required(volunteer.name, "name"),
        phone=optional_phone(volunteer.phone),
        notify=notify,
        role=Role(volunteer.role),
        language=normalize_language(volunteer.language),
        schedule=parse_schedule(volunteer.schedule),
    )


def _contact(item: Contact | str) -> Contact:
    """A checked contact; ``"name:phone"`` strings (forms, services) are parsed."""
    if isinstance(item, str):
        return Contact.parse(item)
    return Contact(
        name=required(item.name, "emergency_contacts"),
        phone=normalize_phone(item.phone),
    )


def validate_household(household: HouseholdRecord) -> HouseholdRecord:
    """A normalised copy of ``household`` (volunteer references not checked here).

    ``emergency_contacts`` may hold ``"name:phone"`` strings; they become
    :class:`Contact` objects.
    """
    volunteers = unique(check_id(item) for item in household.volunteers)
    return replace(
        household,
        id=check_id(household.id),
        elder_name=required(household.elder_name, "elder_name"),
        address=required(household.address, "address"),
        phone=optional_phone(household.phone),
        emergency_contacts=[_contact(item) for item in household.emergency_contacts],
        volunteers=volunteers,
        backup_volunteers=[
            item
            for item in unique(check_id(item) for item in household.backup_volunteers)
            if item not in volunteers
        ],
        language=normalize_language(household.language),
    )
