"""What the household's Zigbee stack knows beyond the entities' states.

ZHA's binary sensors show only the IAS alarm bits. Where a watched sensor is a ZHA
device, the IAS Zone cluster of its zigpy device is read directly: the whole
ZoneStatus (Test, Tamper, Trouble, Battery …) and every change of it, plus the
radio's last-seen time and link quality. Zigbee2MQTT and other stacks publish the
same facts as sibling entities of the device (``tamper``, ``test``, ``battery_low``,
``linkquality``, ``last_seen``); those are read here too.

Everything degrades to "nothing known": a sensor whose zigpy device cannot be
reached (ZHA not loaded yet, another integration, internals shaped differently in
another Home Assistant release) behaves as an entity-only sensor, and is attached
later when its state changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import logging
from typing import Any

from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from zigpy.zcl.clusters.security import IasZone

from ..compat import ZHA_DOMAIN, zha_zigpy_device
from ..core.monitor.zigbee import IAS_ZONE_CLUSTER_ID

_LOGGER = logging.getLogger(__name__)

ZONE_STATUS_ID = int(IasZone.AttributeDefs.zone_status.id)
_Z = IasZone.ZoneStatus

# Sibling binary sensors (same device) and the ZoneStatus bit each stands for.
SIBLING_BITS: dict[str, int] = {
    "tamper": int(_Z.Tamper),
    "problem": int(_Z.Trouble),
    "battery": int(_Z.Battery),  # a battery binary sensor is on when the battery is low
}
LINK_QUALITY_SUFFIX = "_linkquality"
LAST_SEEN_SUFFIX = "_last_seen"

ZoneCallback = Callable[[str, int], None]


class _ZoneListener:
    """zigpy cluster listener: forwards ZoneStatus updates of one IAS Zone cluster."""

    def __init__(self, entity_ids: list[str], callback: ZoneCallback) -> None:
        self.entity_ids = entity_ids
        self._callback = callback

    def attribute_updated(self, attrid: int, value: Any, *_: Any) -> None:
        """Zigpy calls this for every attribute update (reports, reads, commands)."""
        if attrid != ZONE_STATUS_ID:
            return
        try:
            status = int(value)
        except (TypeError, ValueError):
            return
        for entity_id in self.entity_ids:
            self._callback(entity_id, status)

    def cluster_command(self, *_: Any) -> None:
        """Commands are seen again as the attribute update ZHA makes of them."""

    def general_command(self, *_: Any) -> None:
        """Attribute reports are seen as attribute updates."""


class ZigbeeLink:
    """The Zigbee-level view of a household's watched sensors."""

    def __init__(
        self, hass: HomeAssistant, entity_ids: list[str], on_zone_status: ZoneCallback
    ) -> None:
        """Prepare for ``entity_ids``; nothing is attached before :meth:`attach`."""
        self.hass = hass
        self._entity_ids = list(entity_ids)
        self._on_zone_status = on_zone_status
        self._pending: set[str] = set(entity_ids)
        self._clusters: dict[str, Any] = {}
        self._devices: dict[str, Any] = {}
        self._listeners: list[tuple[Any, _ZoneListener]] = []

    @property
    def pending(self) -> frozenset[str]:
        """Entities whose zigpy device has not been looked for successfully yet."""
        return frozenset(self._pending)

    def is_pending(self, entity_id: str) -> bool:
        """Whether the entity's zigpy device is still to be looked for (cheap)."""
        return entity_id in self._pending

    @property
    def attached(self) -> frozenset[str]:
        """Entities whose zigpy device was found."""
        return frozenset(self._devices)

    def attach(self, entity_id: str | None = None) -> None:
        """Find the zigpy devices of pending entities (one, or all when None)."""
        todo = [entity_id] if entity_id is not None else sorted(self._pending)
        for item in todo:
            if item in self._pending:
                self._attach(item)

    def _attach(self, entity_id: str) -> None:
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None or entry.device_id is None:
            return
        registered = dr.async_get(self.hass).async_get(entry.device_id)
        if registered is None or not any(
            identifier[0] == ZHA_DOMAIN for identifier in registered.identifiers
        ):
            # Not a ZHA device (now or ever): entity-level behaviour only.
            self._pending.discard(entity_id)
            return
        device = zha_zigpy_device(self.hass, entry.device_id)
        if device is None:
            return
        self._pending.discard(entity_id)
        self._devices[entity_id] = device
        if not entity_id.startswith("binary_sensor."):
            return
        cluster = _ias_cluster(device, entry.unique_id)
        if cluster is None:
            return
        self._clusters[entity_id] = cluster
        for known, listener in self._listeners:
            if known is cluster:
                listener.entity_ids.append(entity_id)
                return
        listener = _ZoneListener([entity_id], self._on_zone_status)
        cluster.add_listener(listener)
        self._listeners.append((cluster, listener))
        _LOGGER.debug("Reading IAS ZoneStatus of %s through zigpy", entity_id)

    def detach(self) -> None:
        """Remove every zigpy listener."""
        for cluster, listener in self._listeners:
            cluster.remove_listener(listener)
        self._listeners.clear()

    def zone_status(self, entity_id: str) -> int | None:
        """The last ZoneStatus the stack received from the entity's device."""
        cluster = self._clusters.get(entity_id)
        if cluster is None:
            return None
        value = cluster.get(ZONE_STATUS_ID)
        return None if value is None else int(value)

    def link(self, entity_id: str) -> dict[str, Any]:
        """Last seen (ISO) and link quality of the entity's device, where known."""
        device = self._devices.get(entity_id)
        if device is not None:
            return {
                "last_seen": _iso(getattr(device, "last_seen", None)),
                "lqi": _int(getattr(device, "lqi", None)),
            }
        return self._sibling_link(entity_id)

    def _sibling_link(self, entity_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for sibling in device_siblings(self.hass, entity_id):
            if sibling.domain != "sensor":
                continue
            state = self.hass.states.get(sibling.entity_id)
            if state is None:
                continue
            if sibling.entity_id.endswith(LINK_QUALITY_SUFFIX):
                found["lqi"] = _int(state.state)
            elif sibling.entity_id.endswith(LAST_SEEN_SUFFIX):
                found["last_seen"] = _iso(state.state)
        return found


def device_siblings(hass: HomeAssistant, entity_id: str) -> list[er.RegistryEntry]:
    """The other entities of the entity's device (none without a device)."""
    registry = er.async_get(hass)
    entry = registry.async_get(entity_id)
    if entry is None or entry.device_id is None:
        return []
    return [
        sibling
        for sibling in er.async_entries_for_device(registry, entry.device_id)
        if sibling.entity_id != entity_id
    ]


def device_class_of(entry: er.RegistryEntry) -> str | None:
    """The entity's device class: the user's choice, else the integration's."""
    return entry.device_class or entry.original_device_class


def sibling_bits(hass: HomeAssistant, entity_id: str) -> dict[str, int]:
    """Sibling binary sensors of the entity's device that report its health.

    Maps each sibling's entity id to the ZoneStatus bit it stands for (a
    Zigbee2MQTT ``tamper`` sensor → Tamper …). The watched entity itself and
    other watched roles are not siblings.
    """
    found: dict[str, int] = {}
    for sibling in device_siblings(hass, entity_id):
        if sibling.domain != "binary_sensor":
            continue
        if (bit := SIBLING_BITS.get(str(device_class_of(sibling)))) is not None:
            found[sibling.entity_id] = bit
    return found


def last_seen_sensor(hass: HomeAssistant, entity_id: str) -> str | None:
    """The stack's last-seen sensor of the entity's device (Zigbee2MQTT's ``last_seen``)."""
    for sibling in device_siblings(hass, entity_id):
        if sibling.domain == "sensor" and (
            sibling.entity_id.endswith(LAST_SEEN_SUFFIX)
            or sibling.translation_key == "last_seen"
        ):
            return sibling.entity_id
    return None


def sibling_status(hass: HomeAssistant, siblings: dict[str, int]) -> int:
    """ZoneStatus bits of the siblings that are on now."""
    status = 0
    for sibling, bit in siblings.items():
        state = hass.states.get(sibling)
        if state is not None and state.state == STATE_ON:
            status |= bit
    return status


def _ias_cluster(device: Any, unique_id: str | None) -> Any | None:
    """The IAS Zone input cluster of the entity's endpoint (else the first one)."""
    endpoints = getattr(device, "endpoints", {})
    wanted: int | None = None
    if unique_id:
        parts = unique_id.split("-")
        if len(parts) > 1 and parts[1].isdigit():
            wanted = int(parts[1])
    candidates = [
        endpoint.in_clusters[IAS_ZONE_CLUSTER_ID]
        for endpoint_id, endpoint in sorted(endpoints.items())
        if endpoint_id != 0
        and IAS_ZONE_CLUSTER_ID in getattr(endpoint, "in_clusters", {})
        and (wanted is None or endpoint_id == wanted)
    ]
    if not candidates and wanted is not None:
        return _ias_cluster(device, None)
    return candidates[0] if candidates else None


def _iso(value: Any) -> str | None:
    """A timestamp as ISO text: zigpy gives seconds since the epoch or a datetime."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC).isoformat()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.isoformat() if parsed.tzinfo is not None else None
    return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(float(value))
    except (TypeError, ValueError):
        return None
