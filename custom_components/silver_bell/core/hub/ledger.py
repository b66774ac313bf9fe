"""The hub's people ledger: households (elders) and volunteers, CSV import/export.

Pure logic (no Home Assistant import). The glue persists :meth:`Ledger.as_dict`
in a ``Store`` and turns :class:`LedgerError` / :class:`RowError` codes into
translated messages.

This module holds personal data (names, addresses, phone numbers). It must only
ever leave the ledger in pushes to the assigned people (``pushes.py``), in a
per-person export, or in a CSV export the duty desk asked for — never in entity
states, attributes, events or logs.

Decisions taken here (details in each function's docstring):

* **Removing a volunteer unassigns them** from every household and returns the
  affected household ids (triage still pages somebody when a household has no
  assigned volunteer left, see ``triage.py``).
* **Household ids in CSV files are optional.** A blank id means "new household"
  unless a household with the same elder name at the same address already
  exists, in which case that one is updated — so importing the same spreadsheet twice does not
  duplicate anyone. Exported files carry the ids, so export → edit in Excel →
  import is idempotent.
* **Every row is validated and every error collected**; :func:`apply_import`
  refuses a result with errors and changes nothing. Extra columns (notes …) are
  ignored and never stored. Phones are optional (households: no "Call elder"
  button then), consent dates may be blank (``None``); addresses are required
  (a volunteer told "go now" must know where).
* **Ids** (volunteers and households) are 1–64 ASCII letters, digits, ``_`` or
  ``-`` starting with a letter or digit — what the wire protocol accepts.
* **Exports** are CSV text (the glue writes them with ``utf-8-sig``: Excel needs
  the BOM to read Chinese); cells that a spreadsheet would run as a formula
  (``+86 …``, ``=…``) get a leading apostrophe, which the import removes again.
* **Erasing an elder** keeps the household id (incident statistics), replaces the
  name with ``"erased"``, clears everything else personal, unassigns the
  volunteers and revokes the household's secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
import csv
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
import io
import re
from typing import Any, TypeVar
import unicodedata

from ..protocol import new_household_id, new_secret

_T = TypeVar("_T")

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
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
        cleaned = _clean(text).replace("：", ":")
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


def _clean(value: str | None) -> str:
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
    text = " ".join(unicodedata.normalize("NFKC", _clean(value)).split())
    digits = sum(char.isdigit() for char in text)
    if not _PHONE_CHARS.match(text) or not 3 <= digits <= 20:
        raise LedgerError("invalid_phone", value=value)
    return text


def tel_uri(phone: str) -> str:
    """``tel:`` URI of a stored phone number (spaces, dashes, brackets removed)."""
    return "tel:" + "".join(char for char in phone if char.isdigit() or char == "+")


def normalize_language(value: str | None) -> str:
    """``en`` or ``zh-Hans`` (blank: the default); LedgerError ``invalid_language``."""
    text = _clean(value)
    if not text:
        return DEFAULT_LANGUAGE
    language = _LANGUAGE_ALIASES.get(text.lower())
    if language is None:
        raise LedgerError("invalid_language", value=text)
    return language


def parse_role(value: str) -> Role:
    """A role from its English value or a Chinese alias; LedgerError ``invalid_role``."""
    text = _clean(value)
    role = _ROLE_ALIASES.get(text.lower())
    if role is None:
        raise LedgerError("invalid_role", value=text)
    return role


def normalize_notify(value: str) -> str:
    """A notify service name without the ``notify.`` domain; LedgerError ``invalid_notify``."""
    text = _clean(value)
    name = text.lower().removeprefix("notify.")
    if not _SERVICE.match(name) and not _CHANNEL_REF.match(name):
        raise LedgerError("invalid_notify", value=text)
    return name


def _check_id(value: str) -> str:
    text = _clean(value)
    if not _ID.match(text):
        raise LedgerError("invalid_id", value=text)
    return text


def _required(value: str, field_name: str) -> str:
    text = _clean(value)
    if not text:
        raise LedgerError("required", field=field_name)
    return text


def _parse_schedule(value: str | None) -> str | None:
    text = _clean(value)
    if not text:
        return None
    if not _SCHEDULE.match(text):
        raise LedgerError("invalid_schedule", value=text)
    return text


def _parse_date(value: str | None) -> date | None:
    """YYYY-MM-DD, or what Excel turns it into (2024/3/5, 2024.3.5, 2024年3月5日)."""
    text = _clean(value)
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


def _parse_bool(value: str | None) -> bool:
    text = _clean(value).lower()
    if not text or text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LedgerError("invalid_boolean", value=text)


def _split(value: str | None) -> list[str]:
    """A list cell: ``;`` (also ``；``, ``、``, ``|``, ``,``) separated, blanks dropped."""
    return [
        item
        for item in (_clean(part) for part in _LIST_SPLIT.split(value or ""))
        if item
    ]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def validate_volunteer(volunteer: Volunteer) -> Volunteer:
    """A normalised copy of ``volunteer``; LedgerError for the first bad field."""
    notify = _unique(normalize_notify(item) for item in volunteer.notify)
    if not notify:
        raise LedgerError("required", field="notify")
    return replace(
        volunteer,
        id=_check_id(volunteer.id),
        name=_required(volunteer.name, "name"),
        phone=_optional_phone(volunteer.phone),
        notify=notify,
        role=Role(volunteer.role),
        language=normalize_language(volunteer.language),
        schedule=_parse_schedule(volunteer.schedule),
    )


def _contact(item: Contact | str) -> Contact:
    """A checked contact; ``"name:phone"`` strings (forms, services) are parsed."""
    if isinstance(item, str):
        return Contact.parse(item)
    return Contact(
        name=_required(item.name, "emergency_contacts"),
        phone=normalize_phone(item.phone),
    )


def validate_household(household: HouseholdRecord) -> HouseholdRecord:
    """A normalised copy of ``household`` (volunteer references not checked here).

    ``emergency_contacts`` may hold ``"name:phone"`` strings; they become
    :class:`Contact` objects.
    """
    volunteers = _unique(_check_id(item) for item in household.volunteers)
    return replace(
        household,
        id=_check_id(household.id),
        elder_name=_required(household.elder_name, "elder_name"),
        address=_required(household.address, "address"),
        phone=_optional_phone(household.phone),
        emergency_contacts=[_contact(item) for item in household.emergency_contacts],
        volunteers=volunteers,
        backup_volunteers=[
            item
            for item in _unique(_check_id(item) for item in household.backup_volunteers)
            if item not in volunteers
        ],
        language=normalize_language(household.language),
    )


# --------------------------------------------------------------------------- ledger


@dataclass(frozen=True, slots=True)
class ApplySummary:
    """What :func:`apply_import` did."""

    added: int
    updated: int


class Ledger:
    """Households and volunteers of one hub."""

    def __init__(
        self,
        households: Mapping[str, HouseholdRecord] | None = None,
        volunteers: Mapping[str, Volunteer] | None = None,
    ) -> None:
        """Start empty or from existing records (trusted, e.g. from storage)."""
        self.households: dict[str, HouseholdRecord] = dict(households or {})
        self.volunteers: dict[str, Volunteer] = dict(volunteers or {})
        # Ids changed (added, edited or removed) since the glue last wrote them:
        # the hub persists just these (see ``hub/repository.py``).
        self.changed_households: set[str] = set()
        self.changed_volunteers: set[str] = set()

    def take_changes(self) -> tuple[set[str], set[str]]:
        """The changed household and volunteer ids, forgetting them."""
        households, volunteers = self.changed_households, self.changed_volunteers
        self.changed_households, self.changed_volunteers = set(), set()
        return households, volunteers

    # ------------------------------------------------------------ volunteers
    def get_volunteer(self, volunteer_id: str) -> Volunteer:
        """One volunteer; LedgerError ``unknown_volunteer``."""
        try:
            return self.volunteers[volunteer_id]
        except KeyError:
            raise LedgerError("unknown_volunteer", volunteer=volunteer_id) from None

    def add_volunteer(self, volunteer: Volunteer) -> Volunteer:
        """Validate and add; LedgerError ``duplicate_id`` if the id is taken."""
        checked = validate_volunteer(volunteer)
        if checked.id in self.volunteers:
            raise LedgerError("duplicate_id", id=checked.id)
        self.volunteers[checked.id] = checked
        self.changed_volunteers.add(checked.id)
        return checked

    def update_volunteer(self, volunteer: Volunteer) -> Volunteer:
        """Validate and replace the volunteer with the same id."""
        checked = validate_volunteer(volunteer)
        old = self.get_volunteer(checked.id)
        if checked.pin_hash is None and old.pin_hash is not None:
            checked = replace(checked, pin_hash=old.pin_hash)  # forms don't carry it
        self.volunteers[checked.id] = checked
        self.changed_volunteers.add(checked.id)
        return checked

    def set_pin(self, volunteer_id: str, pin_hash: str | None) -> Volunteer:
        """Give a volunteer a PIN for group accept links (hashed), or clear it."""
        volunteer = replace(self.get_volunteer(volunteer_id), pin_hash=pin_hash)
        self.volunteers[volunteer_id] = volunteer
        self.changed_volunteers.add(volunteer_id)
        return volunteer

    def remove_volunteer(self, volunteer_id: str) -> list[str]:
        """Remove a volunteer and unassign them; returns the households they left."""
        self.get_volunteer(volunteer_id)
        del self.volunteers[volunteer_id]
        self.changed_volunteers.add(volunteer_id)
        affected = []
        for household in self.households.values():
            if (
                volunteer_id in household.volunteers
                or volunteer_id in household.backup_volunteers
            ):
                household.volunteers = [
                    v for v in household.volunteers if v != volunteer_id
                ]
                household.backup_volunteers = [
                    v for v in household.backup_volunteers if v != volunteer_id
                ]
                affected.append(household.id)
        self.changed_households.update(affected)
        return affected

    # ------------------------------------------------------------ households
    def get_household(self, household_id: str) -> HouseholdRecord:
        """One household; LedgerError ``unknown_household``."""
        try:
            return self.households[household_id]
        except KeyError:
            raise LedgerError("unknown_household", household=household_id) from None

    def _check_references(self, household: HouseholdRecord) -> None:
        for volunteer_id in (*household.volunteers, *household.backup_volunteers):
            if volunteer_id not in self.volunteers:
                raise LedgerError("unknown_volunteer", volunteer=volunteer_id)

    def add_household(
        self, household: HouseholdRecord, now: datetime | None = None
    ) -> HouseholdRecord:
        """Validate and add; issues a secret and ``created_at`` when missing."""
        checked = validate_household(household)
        if checked.id in self.households:
            raise LedgerError("duplicate_id", id=checked.id)
        self._check_references(checked)
        checked.secret = checked.secret or new_secret()
        checked.created_at = checked.created_at or now or datetime.now(UTC)
        self.households[checked.id] = checked
        self.changed_households.add(checked.id)
        return checked

    def update_household(self, household: HouseholdRecord) -> HouseholdRecord:
        """Validate and replace the household's editable fields.

        The secret, revocation and creation time are kept: use
        :meth:`rotate_secret` and :meth:`revoke` for those.
        """
        checked = validate_household(household)
        current = self.get_household(checked.id)
        self._check_references(checked)
        checked.secret = current.secret
        checked.revoked = current.revoked
        checked.created_at = current.created_at
        self.households[checked.id] = checked
        self.changed_households.add(checked.id)
        return checked

    def remove_household(self, household_id: str) -> None:
        """Forget a household entirely (its incidents keep only the id)."""
        self.get_household(household_id)
        del self.households[household_id]
        self.changed_households.add(household_id)

    def rotate_secret(self, household_id: str) -> str:
        """Issue a new secret (the old one stops working) and lift a revocation."""
        household = self.get_household(household_id)
        household.secret = new_secret()
        household.revoked = False
        self.changed_households.add(household_id)
        return household.secret

    def revoke(self, household_id: str) -> None:
        """Refuse the household's requests until a new secret is issued."""
        self.get_household(household_id).revoked = True
        self.changed_households.add(household_id)

    def unassigned_households(self) -> list[str]:
        """Households without an active tier-1 volunteer (worth a repair issue)."""
        return [
            household.id
            for household in self.households.values()
            if not household.erased
            and not any(
                (volunteer := self.volunteers.get(volunteer_id)) is not None
                and volunteer.active
                for volunteer_id in household.volunteers
            )
        ]

    # ------------------------------------------------------------- personal
    def export_person(self, household_id: str) -> dict[str, Any]:
        """Everything the ledger holds about one elder (no secret: not personal data).

        The glue adds the elder's incidents (``HubIncidentBook.export_household``).
        """
        household = self.get_household(household_id)
        data = household.as_dict()
        del data["secret"]
        data["volunteers"] = [
            {"id": item, "tier": 1} for item in household.volunteers
        ] + [{"id": item, "tier": 2} for item in household.backup_volunteers]
        del data["backup_volunteers"]
        return data

    def erase_person(self, household_id: str) -> None:
        """Erase the elder's personal data, keep the id; the household is revoked."""
        household = self.get_household(household_id)
        household.elder_name = ERASED
        household.address = ""
        household.phone = ""
        household.emergency_contacts = []
        household.consent_date = None
        household.volunteers = []
        household.backup_volunteers = []
        household.secret = ""
        household.revoked = True
        self.changed_households.add(household_id)

    # ------------------------------------------------------------- storage
    def as_dict(self) -> dict[str, Any]:
        """Serialise for the Store."""
        return {
            "households": [item.as_dict() for item in self.households.values()],
            "volunteers": [item.as_dict() for item in self.volunteers.values()],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Ledger:
        """Rebuild from the Store (``None`` or anything not a mapping: empty)."""
        if not isinstance(data, Mapping):
            return cls()
        households = [
            HouseholdRecord.from_dict(item) for item in data.get("households", [])
        ]
        volunteers = [Volunteer.from_dict(item) for item in data.get("volunteers", [])]
        return cls(
            households={item.id: item for item in households},
            volunteers={item.id: item for item in volunteers},
        )


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
    text = _clean(cell).removeprefix("\ufeff")
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
        value=_clean(value)[:MAX_ERROR_VALUE],
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
        for item in _split(self.cells.get(field_name, "")):
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
        volunteer_id = row.read("id", _check_id, "")
        if volunteer_id in seen:
            row.errors.append(RowError(line, "id", "duplicate_id", volunteer_id))
        seen.add(volunteer_id)
        name = row.read("name", _required_name, "")
        phone = row.read("phone", _optional_phone, "")
        before = len(row.errors)
        notify = _unique(row.each("notify", normalize_notify))
        if not notify and len(row.errors) == before:
            row.errors.append(RowError(line, "notify", "required", ""))
        role = row.read("role", parse_role, Role.VOLUNTEER)
        language = row.read("language", normalize_language, DEFAULT_LANGUAGE)
        schedule = row.read("schedule", _parse_schedule, None)
        active = row.read("active", _parse_bool, True)
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
    return _required(value, "name")


def _optional_id(value: str) -> str:
    return _check_id(value) if _clean(value) else ""


def _optional_phone(value: str) -> str:
    return normalize_phone(value) if _clean(value) else ""


def _identity(elder_name: str, address: str) -> tuple[str, str]:
    """Who a household is when the file gives no id: same elder at the same address."""
    return ("".join(elder_name.split()), "".join(address.split()))


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
            "elder_name", lambda value: _required(value, "elder_name"), ""
        )
        address = row.read("address", lambda value: _required(value, "address"), "")
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
        phone = row.read("phone", _optional_phone, "")
        contacts = row.each("emergency_contacts", Contact.parse)
        consent = row.read("consent_date", _parse_date, None)
        tiers: list[list[str]] = []
        for column in ("volunteers", "backup_volunteers"):
            ids = []
            for volunteer_id in row.each(column, _check_id):
                if volunteer_id in known_volunteers:
                    ids.append(volunteer_id)
                else:
                    row.errors.append(
                        RowError(line, column, "unknown_volunteer", volunteer_id)
                    )
            tiers.append(_unique(ids))
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
    added = updated = 0
    touched_volunteers: set[str] = set()
    touched_households: set[str] = set()
    for volunteer in result.volunteers:
        person = validate_volunteer(volunteer)
        if person.id in volunteers:
            if person.pin_hash is None:  # CSV files never carry the PIN
                person = replace(person, pin_hash=volunteers[person.id].pin_hash)
            updated += 1
        else:
            added += 1
        volunteers[person.id] = person
        touched_volunteers.add(person.id)
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


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (``+86 …`` would be one in Excel)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


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
