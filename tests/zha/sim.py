"""A simulated Zigbee network for Home Assistant's real ZHA integration.

The radio is the only thing simulated: a zigpy ``ControllerApplication`` whose radio
methods do nothing, and end devices built from zigpy's real clusters. Frames from
the devices enter through ``packet_received`` as serialized ZCL, so zigpy parses
them and ZHA's cluster handlers and entities react as they would to a radio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
import itertools
from typing import Any
from unittest.mock import AsyncMock

from zigpy.application import ControllerApplication
import zigpy.config
import zigpy.device
import zigpy.endpoint
import zigpy.profiles.zha
import zigpy.state
import zigpy.types as t
from zigpy.zcl import foundation
from zigpy.zcl.clusters.general import Basic
from zigpy.zcl.clusters.security import IasZone
import zigpy.zdo.types as zdo_t

try:  # zha-quirks 2.x (the newest release): zigpy's own get_device is deprecated
    from zhaquirks.legacy import get_device as quirked
except ImportError:  # zha-quirks 0.0.112 with zigpy 0.63.4 (Home Assistant 2024.3.3)
    from zigpy.quirks import get_device as quirked

COORDINATOR_IEEE = "00:15:8d:00:02:32:4f:32"
ZONE_STATUS = IasZone.AttributeDefs.zone_status.id


class SimulatedController(ControllerApplication):  # type: ignore[misc]
    """A zigpy application controller without a radio."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Create the controller; outgoing packets are kept in ``sent``."""
        super().__init__(config)
        self.sent: list[t.ZigbeePacket] = []
        # Called before each frame a device sends. Tests with frozen time let a
        # millisecond pass here: zigpy's duplicate filter needs time to move.
        self.before_frame: Callable[[], object] = lambda: None

    async def connect(self) -> None:
        """Nothing to connect to."""

    async def disconnect(self) -> None:
        """Nothing to disconnect from."""

    async def start_network(self) -> None:
        """The network is always up."""

    async def force_remove(self, dev: zigpy.device.Device) -> None:
        """Nothing to remove on a radio."""

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        """The coordinator's endpoints need no registration."""

    async def permit_ncp(self, time_s: int = 60) -> None:
        """Joins are simulated by the tests."""

    async def permit_with_link_key(
        self, node: t.EUI64, link_key: t.KeyData, time_s: int = 60
    ) -> None:
        """Joins are simulated by the tests."""

    async def write_network_info(self, *, network_info: Any, node_info: Any) -> None:
        """Nothing to write."""

    async def reset_network_info(self) -> None:
        """Nothing to reset."""

    async def load_network_info(self, *, load_devices: bool = False) -> None:
        """A formed network with this controller as coordinator."""
        self.state.node_info = zigpy.state.NodeInfo(
            nwk=t.NWK(0x0000),
            ieee=t.EUI64.convert(COORDINATOR_IEEE),
            logical_type=zdo_t.LogicalType.Coordinator,
        )
        self.state.network_info = zigpy.state.NetworkInfo(
            extended_pan_id=t.ExtendedPanId.convert("aa:bb:cc:dd:ee:ff:00:11"),
            pan_id=t.PanId(0x1234),
            channel=15,
            network_key=zigpy.state.Key(key=t.KeyData(range(16))),
        )

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        """Keep what the coordinator sends."""
        self.sent.append(packet)


def controller_config() -> dict[str, Any]:
    """Zigpy configuration with every background job switched off."""
    config: dict[str, Any] = {
        zigpy.config.CONF_DATABASE: None,
        zigpy.config.CONF_DEVICE: {zigpy.config.CONF_DEVICE_PATH: "/dev/null"},
        zigpy.config.CONF_STARTUP_ENERGY_SCAN: False,
        zigpy.config.CONF_NWK_BACKUP_ENABLED: False,
        zigpy.config.CONF_TOPO_SCAN_ENABLED: False,
        zigpy.config.CONF_WATCHDOG_ENABLED: False,
        zigpy.config.CONF_OTA: {zigpy.config.CONF_OTA_ENABLED: False},
    }
    return config  # the controller validates it (twice breaks zigpy 2.x's OTA schema)


def _node_descriptor(
    logical_type: zdo_t.LogicalType, manufacturer_code: int, server_mask: int
) -> zdo_t.NodeDescriptor:
    return zdo_t.NodeDescriptor(
        logical_type=logical_type,
        mac_capability_flags=zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress,
        manufacturer_code=manufacturer_code,
        maximum_buffer_size=82,
        maximum_incoming_transfer_size=82,
        server_mask=server_mask,
        maximum_outgoing_transfer_size=82,
        descriptor_capability_field=0,
    )


def add_coordinator(app: SimulatedController) -> zigpy.device.Device:
    """The coordinator device ZHA expects at NWK 0x0000."""
    device = app.add_device(t.EUI64.convert(COORDINATOR_IEEE), t.NWK(0x0000))
    device.node_desc = _node_descriptor(zdo_t.LogicalType.Coordinator, 0x1234, 0x2C00)
    endpoint = device.add_endpoint(1)
    endpoint.status = zigpy.endpoint.Status.ZDO_INIT
    endpoint.profile_id = zigpy.profiles.zha.PROFILE_ID
    endpoint.device_type = zigpy.profiles.zha.DeviceType.IAS_CONTROL
    return device


_nwk = itertools.count(0x1001)


@dataclass
class SimDevice:
    """A simulated battery-powered end device and the attribute values it answers with."""

    app: SimulatedController
    device: zigpy.device.Device
    values: dict[int, dict[int, Any]] = field(default_factory=dict)
    _tsn: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def ieee(self) -> str:
        """IEEE address as ZHA writes it in the device registry."""
        return str(self.device.ieee)

    def cluster(self, cluster_id: int) -> Any:
        """The device's input cluster ``cluster_id`` on endpoint 1."""
        return self.device.endpoints[1].in_clusters[cluster_id]

    def _send(self, cluster_id: int, frame: bytes) -> None:
        self.app.before_frame()
        self.app.packet_received(
            t.ZigbeePacket(
                src=t.AddrModeAddress(
                    addr_mode=t.AddrMode.NWK, address=self.device.nwk
                ),
                src_ep=1,
                dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=0x0000),
                dst_ep=1,
                tsn=frame[1],
                profile_id=zigpy.profiles.zha.PROFILE_ID,
                cluster_id=cluster_id,
                data=t.SerializableBytes(frame),
                lqi=200,
                rssi=-60,
            )
        )

    def zone_status_change(self, zone_status: int) -> None:
        """Send an IAS Zone status_change_notification (a real ZCL frame)."""
        self.values.setdefault(IasZone.cluster_id, {})[ZONE_STATUS] = zone_status
        command = IasZone.ClientCommandDefs.status_change_notification
        payload = command.schema(
            zone_status=IasZone.ZoneStatus(zone_status),
            extended_status=0,
            zone_id=1,
            delay=0,
        )
        hdr = foundation.ZCLHeader.cluster(
            next(self._tsn) % 256,
            command.id,
            direction=foundation.Direction.Server_to_Client,
        )
        self._send(IasZone.cluster_id, hdr.serialize() + payload.serialize())

    def report(self, cluster_id: int, attributes: Mapping[int, Any]) -> None:
        """Send a ZCL Report_Attributes frame for ``attributes`` (id → value)."""
        cluster = self.cluster(cluster_id)
        records = []
        for attrid, value in attributes.items():
            self.values.setdefault(cluster_id, {})[attrid] = value  # read back later
            definition = cluster.attributes[attrid]
            records.append(
                foundation.Attribute(
                    attrid=attrid,
                    value=foundation.TypeValue(
                        type=_type_id(definition.type), value=definition.type(value)
                    ),
                )
            )
        command = foundation.GENERAL_COMMANDS[
            foundation.GeneralCommand.Report_Attributes
        ]
        hdr = foundation.ZCLHeader.general(
            next(self._tsn) % 256,
            foundation.GeneralCommand.Report_Attributes,
            direction=foundation.Direction.Server_to_Client,
        )
        payload = command.schema(attribute_reports=records)
        self._send(cluster_id, hdr.serialize() + payload.serialize())


def build_device(
    app: SimulatedController,
    ieee: str,
    *,
    manufacturer: str,
    model: str,
    device_type: int,
    in_clusters: Iterable[int],
    values: Mapping[int, Mapping[int, Any]],
) -> SimDevice:
    """Create an end device with real zigpy clusters and add it to the network."""
    device = zigpy.device.Device(app, t.EUI64.convert(ieee), t.NWK(next(_nwk)))
    device.node_desc = _node_descriptor(zdo_t.LogicalType.EndDevice, 0x115F, 0)
    endpoint = device.add_endpoint(1)
    endpoint.status = zigpy.endpoint.Status.ZDO_INIT
    endpoint.profile_id = zigpy.profiles.zha.PROFILE_ID
    endpoint.device_type = device_type
    for cluster_id in (Basic.cluster_id, *in_clusters):
        endpoint.add_input_cluster(cluster_id)
    device.manufacturer = manufacturer
    device.model = model
    device = quirked(device)
    sim = SimDevice(app, device, {k: dict(v) for k, v in values.items()})
    sim.values.setdefault(Basic.cluster_id, {}).update(
        {0x0004: manufacturer, 0x0005: model, 0x0007: 0x03}
    )
    for cluster_id, cluster in device.endpoints[1].in_clusters.items():
        _answer_from(cluster, sim.values.setdefault(cluster_id, {}))
    # Requests the coordinator sends (enroll response, bind, configure) succeed.
    device.request = AsyncMock(return_value=[foundation.Status.SUCCESS])
    app.devices[device.ieee] = device
    return sim


def _type_id(pytype: type) -> int:
    """ZCL data type id of a zigpy Python type (zigpy 2.x and 0.63 spell it apart)."""
    if hasattr(foundation, "DataType"):
        return int(foundation.DataType.from_python_type(pytype).type_id)
    return int(foundation.DATA_TYPES.pytype_to_datatype_id(pytype))


def _answer_from(cluster: Any, values: dict[int, Any]) -> None:
    """Make ``cluster`` answer reads from ``values`` and accept configuration."""

    async def read_attributes_raw(
        attributes: list[int], manufacturer: int | None = None, **_: Any
    ) -> list[list[foundation.ReadAttributeRecord]]:
        records = []
        for attrid in attributes:
            record = foundation.ReadAttributeRecord(attrid=attrid)
            if attrid in values:
                record.status = foundation.Status.SUCCESS
                definition = cluster.attributes[attrid]
                record.value = foundation.TypeValue(
                    type=_type_id(definition.type),
                    value=definition.type(values[attrid]),
                )
            else:
                record.status = foundation.Status.UNSUPPORTED_ATTRIBUTE
            records.append(record)
        return [records]

    success = [[foundation.ConfigureReportingResponseRecord(foundation.Status.SUCCESS)]]
    cluster.read_attributes_raw = read_attributes_raw
    cluster.bind = AsyncMock(return_value=[foundation.Status.SUCCESS])
    cluster.unbind = AsyncMock(return_value=[foundation.Status.SUCCESS])
    cluster.configure_reporting = AsyncMock(return_value=success)
    cluster.configure_reporting_multiple = AsyncMock(return_value=success)
    cluster._write_attributes = AsyncMock(
        return_value=[
            [foundation.WriteAttributesStatusRecord(foundation.Status.SUCCESS)]
        ]
    )
