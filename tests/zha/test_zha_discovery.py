"""Config-flow suggestions from Home Assistant's real ZHA: roles read from zigpy clusters."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr

from custom_components.silver_bell.household.discovery import async_discover

from .conftest import (
    ZhaNetwork,
    ias_motion_sensor,
    occupancy_sensor,
    smoke_detector,
    temperature_sensor,
)


async def test_area_suggestion_from_zha_clusters(
    hass: HomeAssistant, zha: ZhaNetwork
) -> None:
    """IAS zone types, Occupancy and Temperature clusters pick each device's role."""
    area = ar.async_get(hass).async_create("Grandma Li's flat")
    devices = dr.async_get(hass)
    joined = {}
    for name, build, ieee in (
        ("smoke", smoke_detector, "00:0d:6f:00:0a:00:00:01"),
        ("motion", ias_motion_sensor, "00:0d:6f:00:0a:00:00:02"),
        ("occupancy", occupancy_sensor, "00:0d:6f:00:0a:00:00:03"),
        ("thermometer", temperature_sensor, "00:0d:6f:00:0a:00:00:04"),
    ):
        device_id = await zha.async_join(build(zha.app, ieee))
        devices.async_update_device(device_id, area_id=area.id)
        joined[name] = device_id

    found = async_discover(hass, area.id).suggestion.sensors
    assert found["fire"] == (zha.entity(joined["smoke"], "binary_sensor", "smoke"),)
    assert set(found["activity"]) == {
        zha.entity(joined["motion"], "binary_sensor", "motion"),
        zha.entity(joined["occupancy"], "binary_sensor", "occupancy"),
    }
    # Both the thermometer and the motion sensor's temperature cluster (0x0402).
    assert set(found["temperature"]) == {
        zha.entity(joined["thermometer"], "sensor", "temperature"),
        zha.entity(joined["occupancy"], "sensor", "temperature"),
    }
    assert not found.get("help")
    assert not found.get("door")
