"""Zigbee vocabulary for the monitors, taken from zigpy instead of re-typed numbers.

Only names present in both zigpy 0.63.4 (Home Assistant 2024.3's ZHA) and zigpy 2.x
are used directly. ``Door_Window_Handle`` exists only in newer zigpy and is looked
up by name, so the module imports on both.

IAS Zone ZoneStatus bits are turned into stable lower-case names (``"alarm_1"``,
``"tamper"``, ``"battery_defect"`` ...) that the rest of Silver Bell uses.
No Home Assistant import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from zigpy.zcl.clusters.general import PowerConfiguration
from zigpy.zcl.clusters.measurement import OccupancySensing, TemperatureMeasurement
from zigpy.zcl.clusters.security import IasZone

IAS_ZONE_CLUSTER_ID: Final = int(IasZone.cluster_id)
OCCUPANCY_SENSING_CLUSTER_ID: Final = int(OccupancySensing.cluster_id)
TEMPERATURE_MEASUREMENT_CLUSTER_ID: Final = int(TemperatureMeasurement.cluster_id)
POWER_CONFIGURATION_CLUSTER_ID: Final = int(PowerConfiguration.cluster_id)

_ZoneStatus = IasZone.ZoneStatus
_ZoneType = IasZone.ZoneType

ZONE_STATUS_MAX: Final = 0xFFFF

# Our names for the ZoneStatus bits; the numbers come from zigpy.
ALARM_1: Final = "alarm_1"
ALARM_2: Final = "alarm_2"
TAMPER: Final = "tamper"
BATTERY: Final = "battery"
SUPERVISION_REPORTS: Final = "supervision_reports"
RESTORE_REPORTS: Final = "restore_reports"
TROUBLE: Final = "trouble"
AC_MAINS: Final = "ac_mains"
TEST: Final = "test"
BATTERY_DEFECT: Final = "battery_defect"

ZONE_STATUS_BITS: Final[tuple[tuple[str, int], ...]] = (
    (ALARM_1, int(_ZoneStatus.Alarm_1)),
    (ALARM_2, int(_ZoneStatus.Alarm_2)),
    (TAMPER, int(_ZoneStatus.Tamper)),
    (BATTERY, int(_ZoneStatus.Battery)),
    (SUPERVISION_REPORTS, int(_ZoneStatus.Supervision_reports)),
    (RESTORE_REPORTS, int(_ZoneStatus.Restore_reports)),
    (TROUBLE, int(_ZoneStatus.Trouble)),
    (AC_MAINS, int(_ZoneStatus.AC_mains)),
    (TEST, int(_ZoneStatus.Test)),
    (BATTERY_DEFECT, int(_ZoneStatus.Battery_Defect)),
)

#: ZoneStatus bits that describe the device's own health (see monitor.health).
#: AC_mains ("mains fault") is left out on purpose: devices disagree on its meaning.
HEALTH_BITS: Final = frozenset({TAMPER, TROUBLE, BATTERY, BATTERY_DEFECT})

# Roles a watched sensor can play in a household (config-flow suggestions).
KIND_ACTIVITY: Final = "activity"
KIND_FIRE: Final = "fire"
KIND_HELP: Final = "help"
KIND_DOOR: Final = "door"
KIND_TEMPERATURE: Final = "temperature"

_KIND_BY_ZONE_TYPE: dict[int, str] = {
    int(_ZoneType.Motion_Sensor): KIND_ACTIVITY,
    # Bed/chair vibration sensors are a common activity signal in elderly care.
    int(_ZoneType.Vibration_Movement_Sensor): KIND_ACTIVITY,
    int(_ZoneType.Fire_Sensor): KIND_FIRE,
    # Only the dedicated emergency device is a help button: IAS remote controls and
    # key fobs are ordinary arm/disarm/light remotes and would raise false help calls.
    int(_ZoneType.Personal_Emergency_Device): KIND_HELP,
    int(_ZoneType.Contact_Switch): KIND_DOOR,
}
# Newer zigpy only (0x0016); looked up by name so zigpy 0.63.4 still imports.
_DOOR_HANDLE = getattr(_ZoneType, "Door_Window_Handle", None)
if _DOOR_HANDLE is not None:  # pragma: no branch - present in the zigpy we test with
    _KIND_BY_ZONE_TYPE[int(_DOOR_HANDLE)] = KIND_DOOR
KIND_BY_ZONE_TYPE: Final = dict(_KIND_BY_ZONE_TYPE)

#: The IAS Zone attribute holding the zone type (0x0001), from zigpy.
ZONE_TYPE_ATTRIBUTE: Final = IasZone.AttributeDefs.zone_type.name
ZONE_TYPE_ATTRIBUTE_ID: Final = int(IasZone.AttributeDefs.zone_type.id)


def coerce_zone_status(value: object) -> int | None:
    """Return ``value`` as a ZoneStatus integer, or None when it is not one.

    Accepts ints (not booleans) in 0..0xFFFF and decimal or ``0x`` hex strings,
    which is how state attributes may carry it.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip(), 0)
        except ValueError:
            return None
    if not isinstance(value, int) or not 0 <= value <= ZONE_STATUS_MAX:
        return None
    return value


def _checked(value: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= ZONE_STATUS_MAX
    ):
        msg = f"not a 16-bit IAS ZoneStatus: {value!r}"
        raise ValueError(msg)
    return value


def decode_zone_status(value: int) -> frozenset[str]:
    """Return the names of the ZoneStatus bits set in ``value``.

    Raises ValueError for anything that is not an integer in 0..0xFFFF
    (use :func:`coerce_zone_status` first for untrusted input).
    """
    checked = _checked(value)
    return frozenset(name for name, bit in ZONE_STATUS_BITS if checked & bit)


def is_test(value: int) -> bool:
    """Return True when the device reports it is in test mode (ZoneStatus Test bit)."""
    return TEST in decode_zone_status(value)


def is_alarm(value: int) -> bool:
    """Return True when either alarm bit (Alarm_1 or Alarm_2) is set."""
    return not decode_zone_status(value).isdisjoint({ALARM_1, ALARM_2})


def health_bits(value: int) -> frozenset[str]:
    """Return the device-health bits set in ``value`` (subset of :data:`HEALTH_BITS`)."""
    return decode_zone_status(value) & HEALTH_BITS


def zone_type_kind(zone_type: int) -> str | None:
    """Map an IAS zone type to the role Silver Bell would suggest for it.

    ``"activity"`` (motion, vibration), ``"fire"`` (fire sensor), ``"help"``
    (personal emergency device), ``"door"`` (contact switch, door/window handle),
    or None for everything else (including carbon monoxide, water, remotes,
    key fobs, keypads and manufacturer-specific types).
    """
    if isinstance(zone_type, bool):
        return None
    return KIND_BY_ZONE_TYPE.get(zone_type)


def cached_zone_type(cluster: Any) -> int | None:
    """The zone type an IAS Zone cluster has in its attribute cache, or None.

    Uses ``cluster.get("zone_type")`` (zigpy 0.63.4 and 2.x); a quirk may have
    replaced the cache by a plain dict keyed by attribute id, read as a fallback.
    Nothing is read from the device.
    """
    value: Any = None
    getter = getattr(cluster, "get", None)
    if callable(getter):
        try:
            value = getter(ZONE_TYPE_ATTRIBUTE)
        except (KeyError, LookupError, ValueError, TypeError, AttributeError):
            value = None
    if value is None:
        cache = getattr(cluster, "_attr_cache", None)
        if isinstance(cache, Mapping):
            value = cache.get(ZONE_TYPE_ATTRIBUTE_ID)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def cluster_kind(cluster_id: int, zone_type: int | None = None) -> str | None:
    """The role a device's input (server) cluster suggests, or None.

    IAS Zone: by zone type (:func:`zone_type_kind`); Occupancy Sensing: activity;
    Temperature Measurement: temperature. Power Configuration (battery) and every
    other cluster play no role.
    """
    if cluster_id == IAS_ZONE_CLUSTER_ID:
        return None if zone_type is None else zone_type_kind(zone_type)
    if cluster_id == OCCUPANCY_SENSING_CLUSTER_ID:
        return KIND_ACTIVITY
    if cluster_id == TEMPERATURE_MEASUREMENT_CLUSTER_ID:
        return KIND_TEMPERATURE
    return None


def device_kinds(device: Any) -> frozenset[str]:
    """The roles a zigpy device's endpoints suggest (see :func:`cluster_kind`).

    ``device`` is a ``zigpy.device.Device``; only ``endpoints`` and each endpoint's
    ``in_clusters`` are read (the ZDO endpoint has none and is skipped). The IAS
    zone type comes from the attribute cache; a zone whose type was never read
    suggests nothing.
    """
    kinds: set[str] = set()
    endpoints = getattr(device, "endpoints", None)
    if not isinstance(endpoints, Mapping):
        return frozenset()
    for endpoint in endpoints.values():
        clusters = getattr(endpoint, "in_clusters", None)
        if not isinstance(clusters, Mapping):
            continue
        for cluster_id, cluster in clusters.items():
            zone_type = (
                cached_zone_type(cluster)
                if int(cluster_id) == IAS_ZONE_CLUSTER_ID
                else None
            )
            if (kind := cluster_kind(int(cluster_id), zone_type)) is not None:
                kinds.add(kind)
    return frozenset(kinds)
