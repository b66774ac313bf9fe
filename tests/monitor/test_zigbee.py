"""Tests of the Zigbee vocabulary helpers."""

from __future__ import annotations

import pytest
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell.core.monitor import zigbee
from custom_components.silver_bell.core.monitor.zigbee import (
    HEALTH_BITS,
    IAS_ZONE_CLUSTER_ID,
    OCCUPANCY_SENSING_CLUSTER_ID,
    POWER_CONFIGURATION_CLUSTER_ID,
    TEMPERATURE_MEASUREMENT_CLUSTER_ID,
    ZONE_STATUS_BITS,
    coerce_zone_status,
    decode_zone_status,
    health_bits,
    is_alarm,
    is_test,
    zone_type_kind,
)

ZS = IasZone.ZoneStatus
ZT = IasZone.ZoneType


def test_cluster_ids_match_the_zigbee_specification() -> None:
    """The ids come from zigpy and are the ZCL numbers the architecture names."""
    assert IAS_ZONE_CLUSTER_ID == 0x0500
    assert OCCUPANCY_SENSING_CLUSTER_ID == 0x0406
    assert TEMPERATURE_MEASUREMENT_CLUSTER_ID == 0x0402
    assert POWER_CONFIGURATION_CLUSTER_ID == 0x0001
    assert type(IAS_ZONE_CLUSTER_ID) is int


def test_every_zone_status_bit_has_one_name() -> None:
    """All ten ZoneStatus bits of zigpy are covered, each once, by a lower-case name."""
    names = [name for name, _ in ZONE_STATUS_BITS]
    bits = [bit for _, bit in ZONE_STATUS_BITS]
    assert len(set(names)) == len(names) == 10
    assert sorted(bits) == sorted(int(member) for member in ZS)
    assert all(name == name.lower() for name in names)


def test_decode_zone_status() -> None:
    """Set bits decode to their names; zero decodes to nothing."""
    assert decode_zone_status(0) == frozenset()
    value = int(ZS.Alarm_1 | ZS.Tamper | ZS.Battery_Defect)
    assert decode_zone_status(value) == {"alarm_1", "tamper", "battery_defect"}
    assert decode_zone_status(0xFFFF) == {name for name, _ in ZONE_STATUS_BITS}
    assert decode_zone_status(int(ZS.Test)) == {"test"}


@pytest.mark.parametrize("bad", [-1, 0x10000, True, "1", 1.0, None])
def test_decode_zone_status_rejects_non_16_bit_values(bad: object) -> None:
    """Anything that is not a 16-bit integer is a ValueError, not a wrong answer."""
    with pytest.raises(ValueError, match="ZoneStatus"):
        decode_zone_status(bad)  # type: ignore[arg-type]


def test_is_test_and_is_alarm() -> None:
    """The Test bit and the alarm bits are read from the value."""
    assert is_test(int(ZS.Test | ZS.Alarm_1))
    assert not is_test(int(ZS.Alarm_1))
    assert is_alarm(int(ZS.Alarm_1))
    assert is_alarm(int(ZS.Alarm_2))
    assert not is_alarm(int(ZS.Test | ZS.Tamper))


def test_health_bits() -> None:
    """Only tamper, trouble, battery and battery_defect are health bits."""
    assert frozenset({"tamper", "trouble", "battery", "battery_defect"}) == HEALTH_BITS
    assert health_bits(0xFFFF) == HEALTH_BITS
    assert health_bits(int(ZS.Alarm_1 | ZS.AC_mains | ZS.Test)) == frozenset()
    assert health_bits(int(ZS.Battery | ZS.Alarm_1)) == {"battery"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (0x0104, 0x0104),
        (0xFFFF, 0xFFFF),
        ("260", 260),
        (" 0x0104 ", 0x0104),
        ("nonsense", None),
        ("", None),
        (-1, None),
        (0x10000, None),
        (True, None),
        (False, None),
        (1.5, None),
        (None, None),
        ([1], None),
    ],
)
def test_coerce_zone_status(value: object, expected: int | None) -> None:
    """Untrusted attribute values become a ZoneStatus or None."""
    assert coerce_zone_status(value) == expected


@pytest.mark.parametrize(
    ("zone_type", "kind"),
    [
        (ZT.Motion_Sensor, "activity"),
        (ZT.Vibration_Movement_Sensor, "activity"),
        (ZT.Fire_Sensor, "fire"),
        (ZT.Personal_Emergency_Device, "help"),
        (ZT.Contact_Switch, "door"),
        (ZT.Remote_Control, None),
        (ZT.Key_Fob, None),
        (ZT.Carbon_Monoxide_Sensor, None),
        (ZT.Water_Sensor, None),
        (ZT.Standard_CIE, None),
        (ZT.Invalid_Zone_Type, None),
    ],
)
def test_zone_type_kind(zone_type: int, kind: str | None) -> None:
    """IAS zone types map to our roles (plain ints and zigpy enums alike)."""
    assert zone_type_kind(zone_type) == kind
    assert zone_type_kind(int(zone_type)) == kind


def test_zone_type_kind_numbers_and_odd_input() -> None:
    """The architecture's numbers map; unknown and boolean values give None."""
    assert zone_type_kind(0x000D) == "activity"
    assert zone_type_kind(0x0028) == "fire"
    assert zone_type_kind(0x002C) == "help"
    assert zone_type_kind(0x8001) is None
    assert zone_type_kind(True) is None


def test_door_window_handle_when_zigpy_has_it() -> None:
    """Newer zigpy's Door_Window_Handle (0x0016) is a door; older zigpy lacks it."""
    handle = getattr(ZT, "Door_Window_Handle", None)
    if handle is None:  # pragma: no cover - zigpy 0.63.x
        assert 0x0016 not in zigbee.KIND_BY_ZONE_TYPE
    else:
        assert zone_type_kind(int(handle)) == "door"
