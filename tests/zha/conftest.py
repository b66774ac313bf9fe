"""Home Assistant's real ZHA integration on a simulated Zigbee network."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import zigpy.config
import zigpy.profiles.zha
from zigpy.zcl.clusters.general import PowerConfiguration
from zigpy.zcl.clusters.measurement import OccupancySensing, TemperatureMeasurement
from zigpy.zcl.clusters.security import IasZone

from .sim import (
    SimDevice,
    SimulatedController,
    add_coordinator,
    build_device,
    controller_config,
)

ZHA = "zha"


# Home Assistant up to 2024.6 has ZHA's gateway inside it (the first test stage);
# from 2024.7 it lives in the `zha` library (2.x on zigpy 2.x, the second stage).
# The simulated radio drives both: only the radio library (bellows) is replaced.
IAS_ZONE_DEVICE = zigpy.profiles.zha.DeviceType.IAS_ZONE
ZONE_STATUS = IasZone.AttributeDefs.zone_status.id
ZONE_TYPE = IasZone.AttributeDefs.zone_type.id
BATTERY_PCT = PowerConfiguration.AttributeDefs.battery_percentage_remaining.id
MEASURED = TemperatureMeasurement.AttributeDefs.measured_value.id
OCCUPANCY = OccupancySensing.AttributeDefs.occupancy.id


@pytest.fixture
async def zigpy_app() -> SimulatedController:
    """The simulated radio's application controller, with its coordinator."""
    app = SimulatedController(controller_config())
    add_coordinator(app)
    return app


@pytest.fixture
async def zha(
    hass: HomeAssistant, zigpy_app: SimulatedController, request: pytest.FixtureRequest
) -> AsyncIterator[ZhaNetwork]:
    """ZHA set up on the simulated radio; unloaded at the end of the test."""
    entry = MockConfigEntry(
        domain=ZHA,
        version=4,
        data={
            zigpy.config.CONF_DEVICE: {
                zigpy.config.CONF_DEVICE_PATH: "/dev/ttyUSB0",
                zigpy.config.CONF_DEVICE_BAUDRATE: 115200,
                zigpy.config.CONF_DEVICE_FLOW_CONTROL: "hardware",
            },
            "radio_type": "ezsp",
        },
        title="Simulated coordinator",
    )
    entry.add_to_hass(hass)
    with (
        patch(
            "bellows.zigbee.application.ControllerApplication.new",
            return_value=zigpy_app,
        ),
        patch("homeassistant.components.zha.radio_manager.CONNECT_DELAY_S", 0),
    ):
        assert await async_setup_component(hass, ZHA, {ZHA: {}})
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        network = ZhaNetwork(hass, zigpy_app, entry)
        if "freezer" in request.fixturenames:
            # Tests on a frozen clock: let a millisecond pass before each frame, as
            # zigpy's duplicate filter orders packets by arrival time.
            freezer: FrozenDateTimeFactory = request.getfixturevalue("freezer")
            zigpy_app.before_frame = lambda: freezer.tick(timedelta(milliseconds=5))
            network.clock = lambda: freezer.tick(timedelta(milliseconds=50))
        yield network
        await network.async_unload()


class ZhaNetwork:
    """Join simulated devices and find their Home Assistant entities."""

    def __init__(
        self, hass: HomeAssistant, app: SimulatedController, entry: MockConfigEntry
    ) -> None:
        """Wrap the running ZHA."""
        self.hass = hass
        self.app = app
        self.entry = entry
        # Moves a frozen test clock (None when the clock runs).
        self.clock: Callable[[], object] | None = None

    async def async_join(self, sim: SimDevice) -> str:
        """Join ``sim`` the way a paired device arrives; return its registry id."""
        self.app.device_initialized(sim.device)
        # Newer releases' ZHA library joins in tasks Home Assistant does not track.
        registry = dr.async_get(self.hass)
        for _ in range(200):
            await self.hass.async_block_till_done()
            for device in dr.async_entries_for_config_entry(
                registry, self.entry.entry_id
            ):
                if (ZHA, sim.ieee) in device.identifiers and any(
                    True
                    for _ in er.async_entries_for_device(
                        er.async_get(self.hass), device.id
                    )
                ):
                    await self.hass.async_block_till_done()
                    return device.id
            await asyncio.sleep(0)
        raise AssertionError("ZHA did not register the device")

    def entity(self, device_id: str, domain: str, device_class: str) -> str:
        """The entity of ``domain`` with ``device_class`` on the device."""
        for entry in er.async_entries_for_device(er.async_get(self.hass), device_id):
            if entry.domain == domain and device_class in (
                entry.device_class,
                entry.original_device_class,
            ):
                return entry.entity_id
        raise AssertionError(f"no {domain} {device_class} entity on {device_id}")

    async def async_unload(self) -> None:
        """Unload ZHA (2024.3 leaves the sensor platform's poll timer otherwise)."""
        for platform in self.hass.data.get("entity_platform", {}).get(ZHA, []):
            unsub = getattr(platform, "_async_unsub_polling", None)
            if unsub is not None:
                unsub()
                platform._async_unsub_polling = None
        unloading = asyncio.ensure_future(
            self.hass.config_entries.async_unload(self.entry.entry_id)
        )
        # Newer releases' ZHA library waits on timers while it shuts down: on a
        # frozen clock, keep time moving until the unload is over.
        while self.clock is not None and not unloading.done():
            self.clock()
            await asyncio.sleep(0)
        await unloading
        await self.hass.async_block_till_done()


def _ias_zone_device(
    app: SimulatedController,
    ieee: str,
    *,
    manufacturer: str,
    model: str,
    zone_type: IasZone.ZoneType,
    battery_half_pct: int,
) -> SimDevice:
    """A battery IAS Zone device, enrolled, with all ZoneStatus bits clear."""
    return build_device(
        app,
        ieee,
        manufacturer=manufacturer,
        model=model,
        device_type=IAS_ZONE_DEVICE,
        in_clusters=(PowerConfiguration.cluster_id, IasZone.cluster_id),
        values={
            IasZone.cluster_id: {
                ZONE_TYPE: zone_type,
                ZONE_STATUS: 0,
                IasZone.AttributeDefs.zone_state.id: 1,
            },
            PowerConfiguration.cluster_id: {BATTERY_PCT: battery_half_pct},
        },
    )


def smoke_detector(app: SimulatedController, ieee: str) -> SimDevice:
    """An IAS Zone fire sensor with a battery (Heiman HS1SA-like)."""
    return _ias_zone_device(
        app,
        ieee,
        manufacturer="HEIMAN",
        model="SmokeSensor-EM",
        zone_type=IasZone.ZoneType.Fire_Sensor,
        battery_half_pct=180,
    )


def ias_motion_sensor(app: SimulatedController, ieee: str) -> SimDevice:
    """An IAS Zone motion sensor (Sonoff SNZB-03-like)."""
    return _ias_zone_device(
        app,
        ieee,
        manufacturer="eWeLink",
        model="MS01",
        zone_type=IasZone.ZoneType.Motion_Sensor,
        battery_half_pct=200,
    )


def occupancy_sensor(app: SimulatedController, ieee: str) -> SimDevice:
    """An Occupancy Sensing motion sensor with temperature (Philips SML001-like)."""
    return build_device(
        app,
        ieee,
        manufacturer="Signify Netherlands B.V.",
        model="SML001-sim",
        device_type=zigpy.profiles.zha.DeviceType.OCCUPANCY_SENSOR,
        in_clusters=(
            PowerConfiguration.cluster_id,
            OccupancySensing.cluster_id,
            TemperatureMeasurement.cluster_id,
        ),
        values={
            OccupancySensing.cluster_id: {OCCUPANCY: 0},
            TemperatureMeasurement.cluster_id: {MEASURED: 2150},
            PowerConfiguration.cluster_id: {BATTERY_PCT: 190},
        },
    )


def temperature_sensor(app: SimulatedController, ieee: str) -> SimDevice:
    """A Temperature Measurement sensor (Aqara WSDCGQ11LM-like)."""
    return build_device(
        app,
        ieee,
        manufacturer="LUMI-sim",
        model="lumi.weather-sim",
        device_type=zigpy.profiles.zha.DeviceType.TEMPERATURE_SENSOR,
        in_clusters=(PowerConfiguration.cluster_id, TemperatureMeasurement.cluster_id),
        values={
            TemperatureMeasurement.cluster_id: {MEASURED: 2200},
            PowerConfiguration.cluster_id: {BATTERY_PCT: 170},
        },
    )
