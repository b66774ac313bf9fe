"""Hub services: ledger management, CSV import/export, privacy, pairing, desk resolve, surveys.

Registered once in ``async_setup``; they act on the loaded hub entry. Bad input
raises a translated ServiceValidationError and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..compat import runtime_of
from ..const import CONF_ROLE, DOMAIN, ROLE_HUB, SURVEY_REPORT_MONTHS
from ..core.hub.figures import incidents_csv
from ..core.hub.ledger_csv import (
    apply_import,
    decode_csv,
    parse_households_csv,
    parse_volunteers_csv,
)
from ..core.hub.ledger_export import households_csv, volunteers_csv
from ..core.hub.people import HouseholdRecord, LedgerError, Role, Volunteer
from ..core.hub.records import HubIncidentError
from ..core.protocol import Pairing, encode_pairing, new_household_id, new_secret
from ..core.surveys import SurveyError, months_back
from ..services import RATING
from ..survey_errors import service_rating, survey_error
from .links import hash_pin

if TYPE_CHECKING:
    from .runtime import Hub

RESOLUTIONS = ("real_emergency", "false_alarm", "resident_ok", "test")
LANGUAGES = ("zh-Hans", "en")

REGISTER_SCHEMA = vol.Schema(
    {
        vol.Required("elder_name"): cv.string,
        vol.Required("address"): cv.string,
        vol.Optional("phone", default=""): cv.string,
        vol.Optional("emergency_contacts", default=[]): vol.All(
            cv.ensure_list, [cv.string]
        ),
        vol.Optional("consent_date"): cv.date,
        vol.Optional("volunteers", default=[]): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("backup_volunteers", default=[]): vol.All(
            cv.ensure_list, [cv.string]
        ),
        vol.Optional("language", default="zh-Hans"): vol.In(LANGUAGES),
    }
)
VOLUNTEER_SCHEMA = vol.Schema(
    {
        vol.Required("volunteer_id"): cv.string,
        vol.Required("name"): cv.string,
        vol.Optional("phone", default=""): cv.string,
        vol.Required("notify"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("role", default=Role.VOLUNTEER.value): vol.In(
            [role.value for role in Role]
        ),
        vol.Optional("language", default="zh-Hans"): vol.In(LANGUAGES),
        vol.Optional("schedule"): cv.entity_id,
    }
)
HOUSEHOLD_ID_SCHEMA = vol.Schema({vol.Required("household_id"): cv.string})
VOLUNTEER_ID_SCHEMA = vol.Schema({vol.Required("volunteer_id"): cv.string})
PIN_SCHEMA = vol.Schema(
    {vol.Required("volunteer_id"): cv.string, vol.Optional("pin"): cv.string}
)
PIN_PATTERN = re.compile(r"[0-9]{4,8}")
IMPORT_SCHEMA = vol.Schema(
    {
        vol.Optional("volunteers_csv"): cv.string,
        vol.Optional("households_csv"): cv.string,
        vol.Optional("volunteers_file"): cv.string,
        vol.Optional("households_file"): cv.string,
    }
)
EXPORT_SCHEMA = vol.Schema({vol.Optional("file"): cv.string})
EXPORT_LEDGER_SCHEMA = vol.Schema(
    {vol.Optional("language", default="en"): vol.In(LANGUAGES)}
)
HUB_RESOLVE_SCHEMA = vol.Schema(
    {
        vol.Required("incident_id"): cv.string,
        vol.Required("resolution"): vol.In(RESOLUTIONS),
    }
)
RECORD_SURVEY_SCHEMA = vol.Schema(
    {
        vol.Required("incident_id"): cv.string,
        vol.Required("rating"): RATING,
        vol.Optional("comment"): cv.string,
        vol.Optional("volunteer_id"): cv.string,
    }
)
SURVEY_REPORT_SCHEMA = vol.Schema(
    {
        vol.Optional("months", default=SURVEY_REPORT_MONTHS): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=120)
        )
    }
)


# The duty desk may close incidents and record or read satisfaction surveys (a
# comment is written, never read back: the report has numbers only); everything
# touching the ledger (personal data, secrets) needs an administrator.
DESK_SERVICES = frozenset({"hub_resolve", "record_survey", "survey_report"})

_Handler = Callable[[HomeAssistant, ServiceCall], Coroutine[Any, Any, ServiceResponse]]
_Call = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]


def _admin_only(hass: HomeAssistant, handler: _Call) -> _Call:
    """Refuse the call unless it comes from an administrator (or from automations)."""

    async def guarded(call: ServiceCall) -> ServiceResponse:
        if call.context.user_id:
            user = await hass.auth.async_get_user(call.context.user_id)
            if user is None:
                raise UnknownUser(context=call.context, user_id=call.context.user_id)
            if not user.is_admin:
                raise Unauthorized(context=call.context)
        return await handler(call)

    return guarded


def loaded_hub(hass: HomeAssistant) -> Hub:
    """The loaded hub entry's runtime, or a translated error."""
    from .runtime import Hub

    for entry in hass.config_entries.async_entries(DOMAIN):
        if (
            entry.data.get(CONF_ROLE) == ROLE_HUB
            and (hub := runtime_of(entry, Hub)) is not None
        ):
            return hub
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_hub")


def ledger_error(err: LedgerError) -> ServiceValidationError:
    """A ledger refusal as a translated service error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=f"ledger_{err.code}",
        translation_placeholders={
            key: str(value) for key, value in err.placeholders.items()
        },
    )


def hub_url(hass: HomeAssistant) -> str:
    """The URL households reach this hub at (translated error if there is none)."""
    try:
        url = get_url(hass, allow_internal=True, prefer_external=True)
    except NoURLAvailableError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_hub_url"
        ) from err
    return url.rstrip("/")


def pairing_code(url: str, record: HouseholdRecord) -> str:
    """The one string a household pastes to pair with this hub."""
    return encode_pairing(Pairing(url, record.id, record.secret))


def _write_file(hass: HomeAssistant, path: str, text: str) -> None:
    if not hass.config.is_allowed_path(path) or Path(path).is_dir():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="file_not_allowed",
            translation_placeholders={"path": path},
        )
    Path(path).write_text(text, encoding="utf-8-sig")


def _read_file(hass: HomeAssistant, path: str) -> str:
    if not hass.config.is_allowed_path(path) or not Path(path).is_file():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="file_not_allowed",
            translation_placeholders={"path": path},
        )
    try:
        return decode_csv(Path(path).read_bytes())
    except LedgerError as err:
        raise ledger_error(err) from err


async def async_register_household(
    hub: Hub, data: dict[str, Any]
) -> tuple[HouseholdRecord, str]:
    """Add a household to the ledger with a fresh id and secret; return it and its code."""
    record = HouseholdRecord(
        id=new_household_id(),
        elder_name=data["elder_name"].strip(),
        address=data.get("address", ""),
        phone=data.get("phone", ""),
        emergency_contacts=list(data.get("emergency_contacts", [])),
        consent_date=cv.date(data["consent_date"])
        if data.get("consent_date")
        else None,
        volunteers=list(data.get("volunteers", [])),
        backup_volunteers=list(data.get("backup_volunteers", [])),
        language=data.get("language", "zh-Hans"),
        secret=new_secret(),
    )
    code = pairing_code(hub_url(hub.hass), record)
    try:
        hub.ledger.add_household(record)
    except LedgerError as err:
        raise ledger_error(err) from err
    await hub.async_ledger_changed()
    return record, code


async def _register_household(
    hass: HomeAssistant, call: ServiceCall
) -> ServiceResponse:
    hub = loaded_hub(hass)
    record, code = await async_register_household(hub, dict(call.data))
    return {"household_id": record.id, "pairing_code": code}


async def _add_volunteer(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(hass)
    volunteer = Volunteer(
        id=call.data["volunteer_id"],
        name=call.data["name"],
        phone=call.data.get("phone", ""),
        notify=[s.removeprefix("notify.") for s in call.data["notify"]],
        role=Role(call.data["role"]),
        language=call.data["language"],
        schedule=call.data.get("schedule"),
    )
    try:
        hub.ledger.add_volunteer(volunteer)
    except LedgerError as err:
        raise ledger_error(err) from err
    await hub.async_ledger_changed()
    return {"volunteer_id": volunteer.id}


async def _remove_household(hass: HomeAssistant, call: ServiceCall) -> None:
    hub = loaded_hub(hass)
    try:
        hub.ledger.remove_household(call.data["household_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    await hub.async_ledger_changed()


async def _remove_volunteer(hass: HomeAssistant, call: ServiceCall) -> None:
    hub = loaded_hub(hass)
    try:
        hub.ledger.remove_volunteer(call.data["volunteer_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    await hub.async_ledger_changed()


async def _set_volunteer_pin(hass: HomeAssistant, call: ServiceCall) -> None:
    """A volunteer's PIN for the accept links of group messages (empty: none)."""
    hub = loaded_hub(hass)
    pin = str(call.data.get("pin") or "").strip()
    if pin and not PIN_PATTERN.fullmatch(pin):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="invalid_pin"
        )
    try:
        hub.ledger.get_volunteer(call.data["volunteer_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    # PBKDF2 is slow on purpose: hash in the executor.
    hashed = await hass.async_add_executor_job(hash_pin, pin) if pin else None
    hub.ledger.set_pin(call.data["volunteer_id"], hashed)
    await hub.async_ledger_changed()


async def _rotate_secret(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(hass)
    url = hub_url(hass)  # before the old secret dies
    try:
        hub.ledger.rotate_secret(call.data["household_id"])
        record = hub.ledger.get_household(call.data["household_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    await hub.async_ledger_changed()
    return {"household_id": record.id, "pairing_code": pairing_code(url, record)}


async def _revoke_household(hass: HomeAssistant, call: ServiceCall) -> None:
    hub = loaded_hub(hass)
    try:
        hub.ledger.revoke(call.data["household_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    await hub.async_ledger_changed()


async def _import_ledger(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(hass)
    volunteers = call.data.get("volunteers_csv")
    households = call.data.get("households_csv")
    if path := call.data.get("volunteers_file"):
        volunteers = await hass.async_add_executor_job(_read_file, hass, path)
    if path := call.data.get("households_file"):
        households = await hass.async_add_executor_job(_read_file, hass, path)
    if not volunteers and not households:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="import_empty"
        )
    errors = []
    results = []
    if volunteers:
        parsed = parse_volunteers_csv(volunteers)
        errors += [("volunteers", error) for error in parsed.errors]
        results.append(parsed)
    known = set(hub.ledger.volunteers) | {
        volunteer.id for result in results for volunteer in result.volunteers
    }
    if households:
        parsed = parse_households_csv(households, known)
        errors += [("households", error) for error in parsed.errors]
        results.append(parsed)
    if errors:
        lines = [
            f"{table} row {error.row}, {error.field}: {error.code} ({error.value!r})"
            for table, error in errors
        ]
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="import_rejected",
            translation_placeholders={
                "count": str(len(errors)),
                "rows": "; ".join(lines[:20]),
            },
        )
    try:
        for result in results:
            apply_import(hub.ledger, result)
    except LedgerError as err:  # pragma: no cover - parsing already refused it
        raise ledger_error(err) from err
    await hub.async_ledger_changed()
    return {
        "volunteers": sum(len(result.volunteers) for result in results),
        "households": sum(len(result.households) for result in results),
    }


async def _export_incidents(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(hass)
    text = incidents_csv(hub.incidents, tz=dt_util.get_time_zone(hass.config.time_zone))
    if path := call.data.get("file"):
        await hass.async_add_executor_job(_write_file, hass, path, text)
    return {"csv": text, "incidents": len(hub.incidents.incidents)}


async def _export_ledger(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(hass)
    language = call.data["language"]
    return {
        "volunteers_csv": volunteers_csv(hub.ledger, language=language),
        "households_csv": households_csv(hub.ledger, language=language),
    }


async def _export_person(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(hass)
    try:
        person = hub.ledger.export_person(call.data["household_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    return {
        **person,
        "incidents": hub.incidents.export_household(call.data["household_id"]),
    }


async def _erase_person(hass: HomeAssistant, call: ServiceCall) -> None:
    hub = loaded_hub(hass)
    try:
        hub.ledger.erase_person(call.data["household_id"])
    except LedgerError as err:
        raise ledger_error(err) from err
    hub.incidents.erase_household(call.data["household_id"])
    await hub.async_ledger_changed()
    # Overwritten rows leave nothing behind (secure_delete); fold the WAL
    # in so the old versions are gone from the files too.
    await hub.async_checkpoint()
    # The pre-database Store kept aside at the upgrade holds them too.
    await hub.async_erase_from_kept_store(call.data["household_id"])


async def _hub_resolve(hass: HomeAssistant, call: ServiceCall) -> None:
    hub = loaded_hub(hass)
    if hub.incidents.get_or_none(call.data["incident_id"]) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_incident",
            translation_placeholders={"incident_id": call.data["incident_id"]},
        )
    actor = f"user:{call.context.user_id}" if call.context.user_id else "desk"
    await hub.async_resolve(call.data["incident_id"], actor, call.data["resolution"])


async def _record_survey(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    """The family's answer, recorded by the volunteer who attended or the desk."""
    hub = loaded_hub(hass)
    incident_id = call.data["incident_id"]
    if hub.incidents.get_or_none(incident_id) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_incident",
            translation_placeholders={"incident_id": incident_id},
        )
    volunteer_id = call.data.get("volunteer_id")
    if volunteer_id and volunteer_id not in hub.ledger.volunteers:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="ledger_unknown_volunteer",
            translation_placeholders={"volunteer": volunteer_id},
        )
    rating = service_rating(call.data["rating"])
    comment = call.data.get("comment")
    user_id = call.context.user_id
    by = volunteer_id or (f"user:{user_id}" if user_id else "desk")
    try:
        incident, stored = await hub.async_record_survey(
            incident_id, rating, comment, by
        )
    except HubIncidentError as err:
        if err.code == "no_survey":
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="survey_not_asked",
                translation_placeholders={"incident_id": incident_id},
            ) from None
        raise survey_error(SurveyError(err.code, **err.placeholders)) from None
    survey = incident.survey
    assert survey is not None
    if not stored and not survey.same_answer(rating, comment):
        raise survey_error(SurveyError("survey_answered"))
    return {
        "incident_id": incident.id,
        "state": survey.state.value,
        "rating": survey.rating,
        "recorded": stored,
    }


async def _survey_report(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    """Satisfaction figures: the last 30 days and per month (numbers only)."""
    hub = loaded_hub(hass)
    tz = dt_util.get_time_zone(hass.config.time_zone)
    since = months_back(dt_util.now(tz), call.data["months"])
    months: list[Any] = hub.incidents.survey_report(since, tz=tz)
    return {"last_30_days": hub.survey_statistics().as_dict(), "months": months}


_OPTIONAL = SupportsResponse.OPTIONAL
_SERVICES: dict[str, tuple[_Handler, vol.Schema, SupportsResponse]] = {
    "register_household": (_register_household, REGISTER_SCHEMA, _OPTIONAL),
    "add_volunteer": (_add_volunteer, VOLUNTEER_SCHEMA, _OPTIONAL),
    "remove_household": (
        _remove_household,
        HOUSEHOLD_ID_SCHEMA,
        SupportsResponse.NONE,
    ),
    "remove_volunteer": (
        _remove_volunteer,
        VOLUNTEER_ID_SCHEMA,
        SupportsResponse.NONE,
    ),
    "rotate_secret": (_rotate_secret, HOUSEHOLD_ID_SCHEMA, _OPTIONAL),
    "set_volunteer_pin": (_set_volunteer_pin, PIN_SCHEMA, SupportsResponse.NONE),
    "revoke_household": (
        _revoke_household,
        HOUSEHOLD_ID_SCHEMA,
        SupportsResponse.NONE,
    ),
    "import_ledger": (_import_ledger, IMPORT_SCHEMA, _OPTIONAL),
    "export_incidents": (_export_incidents, EXPORT_SCHEMA, _OPTIONAL),
    "export_ledger": (_export_ledger, EXPORT_LEDGER_SCHEMA, SupportsResponse.ONLY),
    "export_person": (_export_person, HOUSEHOLD_ID_SCHEMA, SupportsResponse.ONLY),
    "erase_person": (_erase_person, HOUSEHOLD_ID_SCHEMA, SupportsResponse.NONE),
    "hub_resolve": (_hub_resolve, HUB_RESOLVE_SCHEMA, SupportsResponse.NONE),
    "record_survey": (_record_survey, RECORD_SURVEY_SCHEMA, _OPTIONAL),
    "survey_report": (
        _survey_report,
        SURVEY_REPORT_SCHEMA,
        SupportsResponse.ONLY,
    ),
}


@callback
def async_register_hub_services(hass: HomeAssistant) -> None:
    """Register the hub's services (ledger ones for administrators only)."""
    for name, (service, schema, response) in _SERVICES.items():
        handler = _bound(hass, service)
        if name not in DESK_SERVICES:
            handler = _admin_only(hass, handler)
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=response
        )


def _bound(hass: HomeAssistant, service: _Handler) -> _Call:
    """The service as Home Assistant calls it: with the call only."""

    async def handler(call: ServiceCall) -> ServiceResponse:
        return await service(hass, call)

    return handler
