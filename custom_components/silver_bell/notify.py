"""Notify "forward to the hub": a message becomes a household incident.

Legacy notify platform (loaded through discovery), so it works on every Home
Assistant version: ``notify.silver_bell`` (one household, or ``data.device_id``)
and ``notify.silver_bell_<household>`` per household. The incident it raises goes
through the household like any other: family notification, outbox, hub. On
releases that have notify entities, each household also gets one (see notify
entity below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.notify.const import ATTR_DATA, ATTR_TARGET, ATTR_TITLE
from homeassistant.components.notify.legacy import BaseNotificationService
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.util import slugify

from .compat import NotifyEntity, loaded_runtime, runtime_of
from .const import ATTR_DEVICE_ID, DOMAIN
from .core.models import IncidentKind
from .entity import HouseholdEntity
from .household.runtime import Household
from .services import household_by_device, loaded_households

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddEntitiesCallback

# Actions change the household's incidents: one at a time, in the order they come.
PARALLEL_UPDATES = 1
DATA_NOTIFY_SERVICE = f"{DOMAIN}_notify_service"
FORWARDABLE = {
    IncidentKind.HELP.value,
    IncidentKind.FIRE.value,
    IncidentKind.INACTIVITY.value,
    IncidentKind.COLD.value,
    IncidentKind.HEAT.value,
}


async def async_get_service(
    hass: HomeAssistant,
    config: ConfigType,
    discovery_info: DiscoveryInfoType | None = None,
) -> SilverBellNotificationService | None:
    """Create the service (only through discovery from a household entry)."""
    if discovery_info is None:
        return None
    return SilverBellNotificationService()


class SilverBellNotificationService(BaseNotificationService):
    """Raises an incident in a household from a notification."""

    async def async_setup(
        self,
        hass: HomeAssistant,
        service_name: str,
        target_service_name_prefix: str,
    ) -> None:
        """Publish the service only once the notify integration has set it up.

        Until then ``async_register_services`` cannot run (it needs what this sets);
        on newer releases (seen on 2026.10) a second household can finish its set-up
        in between.
        """
        await super().async_setup(hass, service_name, target_service_name_prefix)
        hass.data[DATA_NOTIFY_SERVICE] = self

    @property
    def targets(self) -> dict[str, str]:
        """One target per started household: notify.silver_bell_<name>.

        A household counts from the moment its runtime is attached, not from the
        entry's LOADED state: newer releases (seen on 2026.10) set the discovered
        platform up while the first household entry is still being set up, and the
        legacy notify platform reads the targets only then.
        """
        return {
            slugify(household.name): household.entry_id
            for household in _started_households(self.hass)
        }

    async def async_send_message(self, message: str = "", **kwargs: Any) -> None:
        """Raise (or add to) the household's incident of the given kind."""
        data: dict[str, Any] = dict(kwargs.get(ATTR_DATA) or {})
        kind = str(data.get("kind", IncidentKind.HELP.value))
        if kind not in FORWARDABLE:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_kind",
                translation_placeholders={
                    "kind": kind,
                    "kinds": ", ".join(sorted(FORWARDABLE)),
                },
            )
        households = loaded_households(self.hass)
        if targets := kwargs.get(ATTR_TARGET):
            chosen = [
                household for household in households if household.entry_id in targets
            ]
        else:
            chosen = [household_by_device(self.hass, data.get(ATTR_DEVICE_ID))]
        title = kwargs.get(ATTR_TITLE)
        text = (
            f"{title}: {message}" if title and message else (message or title or None)
        )
        for household in chosen:
            household.async_raise(IncidentKind(kind), "notify", text)


def _started_households(hass: HomeAssistant) -> list[Household]:
    """Households whose runtime is attached (set-up in progress or loaded)."""
    return [
        household
        for entry in hass.config_entries.async_entries(DOMAIN)
        if (household := runtime_of(entry, Household)) is not None
    ]


FORWARD = EntityDescription(key="forward", translation_key="forward")


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Add the household's notify entity (only forwarded where notify entities exist)."""
    async_add_entities([ForwardNotifyEntity(loaded_runtime(entry, Household), FORWARD)])


class ForwardNotifyEntity(HouseholdEntity, NotifyEntity):
    """Send a message: it becomes a help incident of this household (and goes to the hub)."""

    async def async_added_to_hass(self) -> None:
        """Notify entities keep no household state."""

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Raise (or add to) the household's help incident."""
        text = (
            f"{title}: {message}" if title and message else (message or title or None)
        )
        self.household.async_raise(IncidentKind.HELP, "notify", text)
