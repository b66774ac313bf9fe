"""Domain services: raise_help, acknowledge, resolve, rate_help (registered in async_setup)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .compat import device_belongs_to, runtime_of
from .const import (
    ATTR_COMMENT,
    ATTR_DEVICE_ID,
    ATTR_INCIDENT_ID,
    ATTR_MESSAGE,
    ATTR_RATING,
    ATTR_RESOLUTION,
    DOMAIN,
    SERVICE_ACKNOWLEDGE,
    SERVICE_RAISE_HELP,
    SERVICE_RATE_HELP,
    SERVICE_RESOLVE,
    SERVICE_RETRY_DEAD_LETTERS,
)
from .core.models import IncidentKind, IncidentState

if TYPE_CHECKING:
    from .household.runtime import Household

RESOLUTIONS = ("real_emergency", "false_alarm", "resident_ok", "test")

_BASE = {vol.Optional(ATTR_DEVICE_ID): cv.string}
RAISE_HELP_SCHEMA = vol.Schema({**_BASE, vol.Optional(ATTR_MESSAGE): cv.string})
ACKNOWLEDGE_SCHEMA = vol.Schema({**_BASE, vol.Optional(ATTR_INCIDENT_ID): cv.string})
RESOLVE_SCHEMA = vol.Schema(
    {
        **_BASE,
        vol.Optional(ATTR_INCIDENT_ID): cv.string,
        vol.Optional(ATTR_RESOLUTION): vol.In(RESOLUTIONS),
    }
)
# The rating is checked by service_rating, whose refusal is translated.
RATING = vol.Any(int, float, str)
RATE_HELP_SCHEMA = vol.Schema(
    {
        **_BASE,
        vol.Optional(ATTR_INCIDENT_ID): cv.string,
        vol.Required(ATTR_RATING): RATING,
        vol.Optional(ATTR_COMMENT): cv.string,
    }
)


def loaded_households(hass: HomeAssistant) -> list[Household]:
    """Households whose entries are loaded."""
    from .household.runtime import Household

    return [
        household
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
        and (household := runtime_of(entry, Household)) is not None
    ]


def household_by_device(hass: HomeAssistant, device_id: str | None) -> Household:
    """The household of a device (device_id may be omitted if only one exists)."""
    households = loaded_households(hass)
    if device_id is None:
        if len(households) == 1:
            return households[0]
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_required" if households else "no_household",
        )
    device = dr.async_get(hass).async_get(device_id)
    for household in households:
        if device is not None and device_belongs_to(device, household.entry_id):
            return household
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_device",
        translation_placeholders={"device_id": device_id},
    )


def household_for_call(hass: HomeAssistant, call: ServiceCall) -> Household:
    """The household a service call is about (device_id required if several)."""
    return household_by_device(hass, call.data.get(ATTR_DEVICE_ID))


def _by(call: ServiceCall) -> str:
    return f"user:{call.context.user_id}" if call.context.user_id else "service"


async def _raise_help(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    household = household_for_call(hass, call)
    incident = household.async_raise(
        IncidentKind.HELP, _by(call), call.data.get(ATTR_MESSAGE)
    )
    return {"incident_id": incident.id}


async def _acknowledge(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    household = household_for_call(hass, call)
    incident = household.async_transition(
        call.data.get(ATTR_INCIDENT_ID), IncidentState.ACKNOWLEDGED, _by(call)
    )
    return {"incident_id": incident.id}


async def _resolve(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    household = household_for_call(hass, call)
    incident = household.async_transition(
        call.data.get(ATTR_INCIDENT_ID),
        IncidentState.RESOLVED,
        _by(call),
        call.data.get(ATTR_RESOLUTION),
    )
    return {"incident_id": incident.id}


async def _retry_dead_letters(
    hass: HomeAssistant, call: ServiceCall
) -> ServiceResponse:
    household = household_for_call(hass, call)
    if household.forwarder is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_paired",
            translation_placeholders={"name": household.name},
        )
    return {"requeued": household.forwarder.retry_dead_letters()}


async def _rate_help(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    household = household_for_call(hass, call)
    item = household.surveys.async_answer(
        call.data.get(ATTR_INCIDENT_ID),
        call.data[ATTR_RATING],
        call.data.get(ATTR_COMMENT),
        _by(call),
    )
    return {"incident_id": item.incident_id, "rating": item.survey.rating}


@callback
def async_register_services(hass: HomeAssistant) -> None:
    """Register the domain services."""

    def bound(
        handler: Callable[
            [HomeAssistant, ServiceCall], Coroutine[Any, Any, ServiceResponse]
        ],
    ) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
        """The handler for this Home Assistant."""

        async def handle(call: ServiceCall) -> ServiceResponse:
            return await handler(hass, call)

        return handle

    services: dict[str, tuple[Any, vol.Schema]] = {
        SERVICE_RAISE_HELP: (_raise_help, RAISE_HELP_SCHEMA),
        SERVICE_ACKNOWLEDGE: (_acknowledge, ACKNOWLEDGE_SCHEMA),
        SERVICE_RESOLVE: (_resolve, RESOLVE_SCHEMA),
        SERVICE_RETRY_DEAD_LETTERS: (_retry_dead_letters, vol.Schema(_BASE)),
        SERVICE_RATE_HELP: (_rate_help, RATE_HELP_SCHEMA),
    }
    for name, (handler, schema) in services.items():
        hass.services.async_register(
            DOMAIN,
            name,
            bound(handler),
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
