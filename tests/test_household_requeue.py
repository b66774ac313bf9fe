"""A version recorded as forwarded but never written to the outbox is sent at start."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.core.models import IncidentState

from .test_hub import _add_household, _call, _hub, _start_hub, _url


async def test_a_version_lost_between_two_writes_is_sent_after_a_restart(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Killed after the household store recorded "forwarded", before the outbox write."""
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    household_entry = await _add_household(hass, freezer, code, _url(client))
    await _call(hass, "raise_help", {"message": "help"})
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    (incident,) = hub.incidents.active
    household = household_entry.runtime_data
    # The resolution is recorded as forwarded, but the outbox write never happens.
    with patch.object(type(household.forwarder), "enqueue"):
        await _call(hass, "resolve", {})
        await hass.async_block_till_done()
    assert household.forwarder.outbox.pending == []
    assert incident.active  # the hub never heard of the resolution
    assert await hass.config_entries.async_reload(household_entry.entry_id)
    await hass.async_block_till_done()
    assert not incident.active
    assert incident.state is IncidentState.RESOLVED
