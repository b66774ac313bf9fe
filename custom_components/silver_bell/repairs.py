"""Repair flows: add a sensor that joined a household's area later."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import voluptuous as vol

from .const import CONF_NAME, DOMAIN
from .household.discovery import (
    ISSUE_DATA_DEVICE,
    ISSUE_DATA_ENTRY,
    ISSUE_NEW_SENSOR,
    add_offer,
    new_sensor_issue_id,
    new_sensor_offer,
    with_known,
)
from .household.flow_forms import update_data_and_reload

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.data_entry_flow import FlowResult


class NewSensorRepairFlow(RepairsFlow):
    """Offer a device that joined the area: confirm, and it is watched."""

    def __init__(self, entry_id: str, device_id: str) -> None:
        """Remember which household and device the offer is about."""
        self._entry_id = entry_id
        self._device_id = device_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Go straight to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Show what would be added; add it, remember the device and reload."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        offer = (
            new_sensor_offer(self.hass, entry, self._device_id)
            if entry is not None
            else None
        )
        if entry is None or not offer:
            ir.async_delete_issue(
                self.hass, DOMAIN, new_sensor_issue_id(self._entry_id, self._device_id)
            )
            return self.async_abort(reason="nothing_to_add")
        if user_input is not None:
            data = with_known(add_offer(entry.data, offer.roles), [self._device_id])
            update_data_and_reload(self.hass, entry, data)
            return self.async_create_entry(title="", data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                "name": str(entry.data.get(CONF_NAME, entry.title)),
                "device": _device_name(self.hass, self._device_id),
                **offer.placeholders(),
            },
        )


def _device_name(hass: HomeAssistant, device_id: str) -> str:
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return device_id
    return str(device.name_by_user or device.name or device_id)


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """The fix flow of a fixable Silver Bell issue."""
    if issue_id.startswith(f"{ISSUE_NEW_SENSOR}_") and data:
        return NewSensorRepairFlow(
            str(data[ISSUE_DATA_ENTRY]), str(data[ISSUE_DATA_DEVICE])
        )
    return ConfirmRepairFlow()
