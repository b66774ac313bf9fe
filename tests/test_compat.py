"""The shims of compat.py and the test-suite guards that keep both tested releases honest."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell import compat
from custom_components.silver_bell.const import DOMAIN

from .common import async_set_time_zone, device_by_identifier
from .conftest import DEPRECATION_REPORT, deprecation_reports

PARENT = DeviceInfo(
    identifiers={(DOMAIN, "hub01")},
    name="Community hub",
    manufacturer="Silver Bell",
    model="Community hub",
    entry_type=DeviceEntryType.SERVICE,
)


def _child() -> DeviceInfo:
    return DeviceInfo(identifiers={(DOMAIN, "hub01_hh1")}, name="hh1")


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, entry_id="hub01")
    entry.add_to_hass(hass)
    return entry


async def test_child_device_is_linked_to_its_parent(hass: HomeAssistant) -> None:
    """The household device sits under the hub device on every release."""
    entry = _entry(hass)
    registry = dr.async_get(hass)
    parent = registry.async_get_or_create(config_entry_id=entry.entry_id, **PARENT)
    info = compat.link_to_parent_device(hass, entry.entry_id, _child(), PARENT)
    key = "via_device_id" if compat.HAS_VIA_DEVICE_ID else "via_device"
    assert set(info) == {"identifiers", "name", key}
    child = registry.async_get_or_create(config_entry_id=entry.entry_id, **info)
    assert child.via_device_id == parent.id


@pytest.mark.skipif(
    not compat.HAS_VIA_DEVICE_ID, reason="via_device_id exists from 2026.8"
)
async def test_missing_parent_is_registered_first(hass: HomeAssistant) -> None:
    """Linking by id does not depend on the order entities are added in."""
    entry = _entry(hass)
    info = compat.link_to_parent_device(hass, entry.entry_id, _child(), PARENT)
    parent = device_by_identifier(hass, (DOMAIN, "hub01"), entry.entry_id)
    assert parent is not None
    assert parent.name == "Community hub"
    assert parent.model == "Community hub"
    assert info["via_device_id"] == parent.id


def test_via_device_id_used_where_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The branch the newest release takes, checked on every release."""
    monkeypatch.setattr(compat, "HAS_VIA_DEVICE_ID", True)
    monkeypatch.setattr(compat, "_parent_device_id", lambda *args: "parent-id")
    info = compat.link_to_parent_device(None, "hub01", _child(), PARENT)  # type: ignore[arg-type]
    assert info["via_device_id"] == "parent-id"
    assert "via_device" not in info


def test_deprecation_reports_are_found() -> None:
    """The autouse guard recognises Home Assistant's report about this integration."""
    reported = logging.LogRecord(
        "homeassistant.helpers.frame",
        logging.WARNING,
        __file__,
        1,
        "%s calls `x` with a deprecated `y`; This will stop working in %s",
        (DEPRECATION_REPORT, "2027.8.0"),
        None,
    )
    other = logging.LogRecord(
        "homeassistant.helpers.frame",
        logging.WARNING,
        __file__,
        1,
        "Detected that custom integration 'other' calls `x`",
        None,
        None,
    )
    expected = f"{DEPRECATION_REPORT} calls `x` with a deprecated `y`; "
    assert deprecation_reports([reported, other]) == [
        expected + "This will stop working in 2027.8.0"
    ]


async def test_time_zone_helper(hass: HomeAssistant) -> None:
    """Tests set the time zone the same way on every release."""
    await async_set_time_zone(hass, "Asia/Shanghai")
    assert hass.config.time_zone == "Asia/Shanghai"


def test_device_belongs_to_either_shape() -> None:
    """One config entry (2026.8+) or a set of them (2024.3)."""
    new = SimpleNamespace(config_entry_id="a", config_entries={"a"})
    old = SimpleNamespace(config_entries={"a", "b"})
    assert compat.device_belongs_to(new, "a")  # type: ignore[arg-type]
    assert not compat.device_belongs_to(new, "b")  # type: ignore[arg-type]
    assert compat.device_belongs_to(old, "b")  # type: ignore[arg-type]
    assert not compat.device_belongs_to(old, "c")  # type: ignore[arg-type]


async def test_device_belongs_to_registry_device(hass: HomeAssistant) -> None:
    """A real device of this release answers without a deprecation report."""
    entry = _entry(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **PARENT
    )
    assert compat.device_belongs_to(device, entry.entry_id)
    assert not compat.device_belongs_to(device, "other")


async def test_zha_zigpy_device_only_for_zha_devices(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other integrations' devices and devices without a zigpy device give None."""
    entry = MockConfigEntry(domain="zha")
    entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    mqtt = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("mqtt", "z2m_0x01")}
    )
    zha = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("zha", "00:11:22:33:44:55:66:77")}
    )
    assert compat.zha_zigpy_device(hass, "no-such-device") is None
    assert compat.zha_zigpy_device(hass, mqtt.id) is None
    # A Green Power device (no zigpy device with endpoints behind it).
    monkeypatch.setattr(compat, "_zha_zigpy_device", lambda _hass, _id: object())
    assert compat.zha_zigpy_device(hass, zha.id) is None
    zigpy_like = SimpleNamespace(endpoints={})
    monkeypatch.setattr(compat, "_zha_zigpy_device", lambda _hass, _id: zigpy_like)
    assert compat.zha_zigpy_device(hass, zha.id) is zigpy_like
