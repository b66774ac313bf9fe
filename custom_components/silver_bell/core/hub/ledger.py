"""The hub's people ledger: households (elders) and volunteers (records in people.py, CSV in ledger_csv.py).

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

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..protocol import new_secret
from .people import (
    ERASED,
    HouseholdRecord,
    LedgerError,
    Volunteer,
    validate_household,
    validate_volunteer,
)


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
