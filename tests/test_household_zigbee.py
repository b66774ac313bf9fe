"""Device-level facts beside the entities: sibling health sensors, link quality, names.

Stack-neutral (registry entries and states, as Zigbee2MQTT or deCONZ create them);
the ZHA path through zigpy is tested with Home Assistant's real ZHA in tests/zha/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from types import SimpleNamespace
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from zigpy.zcl.clusters.security import IasZone

from custom_components.silver_bell.core import messages
from custom_components.silver_bell.core.models import IncidentKind
from custom_components.silver_bell.core.monitor.health import Problem
from custom_components.silver_bell.diagnostics import async_get_config_entry_diagnostics
from custom_components.silver_bell.household import zigbee

from .common import advance, set_state, setup_household
from .conftest import SMOKE

Z = IasZone.ZoneStatus


def _smoke_device(hass: HomeAssistant) -> str:
    """Put the watched smoke detector on a device with Zigbee2MQTT-style siblings."""
    other = MockConfigEntry(domain="mqtt", entry_id="mqtt01")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id,
        identifiers={("mqtt", "zigbee2mqtt_0x00158d0001a2b3c4")},
        name="Kitchen smoke detector",
        manufacturer="Heiman",
        model="HS1SA",
    )
    registry = er.async_get(hass)
    for domain, key, device_class in (
        ("binary_sensor", "kitchen_smoke", "smoke"),
        ("binary_sensor", "kitchen_smoke_tamper", "tamper"),
        ("binary_sensor", "kitchen_smoke_battery_low", "battery"),
        ("binary_sensor", "kitchen_smoke_fault", "problem"),
        ("binary_sensor", "kitchen_smoke_test", None),
        ("sensor", "kitchen_smoke_linkquality", None),
        ("sensor", "kitchen_smoke_last_seen", "timestamp"),
    ):
        registry.async_get_or_create(
            domain,
            "mqtt",
            f"0x00158d0001a2b3c4_{key}",
            suggested_object_id=key,
            device_id=device.id,
            config_entry=other,
            original_device_class=device_class,
        )
    return device.id


async def test_sibling_tamper_battery_and_fault_sensors(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stack's tamper/battery/problem sensors beside the detector raise a named fault."""
    _smoke_device(hass)
    hass.states.async_set("sensor.kitchen_smoke_linkquality", "87")
    hass.states.async_set("sensor.kitchen_smoke_last_seen", "2026-11-24T07:59:00+08:00")
    hass.states.async_set("binary_sensor.kitchen_smoke_tamper", "off")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data

    await set_state(hass, "binary_sensor.kitchen_smoke_tamper", "on")
    fault = household.book.active_of(IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"] == {SMOKE: ["tamper"]}
    assert fault.details["devices"] == {SMOKE: "Kitchen smoke detector"}
    assert "last_seen" not in fault.details  # the device still talks
    # Device names are the family's words: redacted in the diagnostics download.
    download = await async_get_config_entry_diagnostics(hass, household_entry)
    assert "Kitchen smoke detector" not in json.dumps(download, default=str)

    await set_state(hass, "binary_sensor.kitchen_smoke_battery_low", "on")
    await set_state(hass, "binary_sensor.kitchen_smoke_fault", "on")
    assert fault.details["sensors"] == {SMOKE: ["battery_low", "tamper", "trouble"]}
    assert messages.problem_text(fault.details, "en") == (
        "Kitchen smoke detector: battery low, tampered with or opened, reports a fault"
    )
    assert messages.problem_text(fault.details, "zh-Hans") == (
        "Kitchen smoke detector：电量低、被拆动或打开、报告故障"
    )

    for sibling in ("tamper", "battery_low", "fault"):
        await set_state(hass, f"binary_sensor.kitchen_smoke_{sibling}", "off")
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None

    diagnostics = household.diagnostics()
    assert diagnostics["health_siblings"] == {
        "binary_sensor.kitchen_smoke_tamper": SMOKE,
        "binary_sensor.kitchen_smoke_battery_low": SMOKE,
        "binary_sensor.kitchen_smoke_fault": SMOKE,
    }
    assert diagnostics["zigbee"][SMOKE] == {
        "read_through_zigpy": False,
        "zone_status": None,
        "lqi": 87,
        "last_seen": "2026-11-24T07:59:00+08:00",
    }


async def test_offline_detector_fault_says_when_it_was_last_heard(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An offline sensor's fault carries the stack's last-seen time (stable while quiet)."""
    _smoke_device(hass)
    hass.states.async_set("sensor.kitchen_smoke_last_seen", "2026-11-24T07:50:00+08:00")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    await set_state(hass, SMOKE, "unavailable")
    await advance(hass, freezer, timedelta(minutes=31))
    fault = household.book.active_of(IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"] == {SMOKE: ["unavailable"]}
    assert fault.details["last_seen"] == {SMOKE: "2026-11-24T07:50:00+08:00"}
    assert "offline" in messages.problem_text(fault.details, "en")


def test_problem_text_without_names() -> None:
    """Sensors without a device name are named by entity id; nothing → None."""
    details: dict[str, Any] = {"sensors": {"binary_sensor.x": ["silent", "new"]}}
    assert messages.problem_text(details, "en") == (
        "binary_sensor.x: no reports for days, new"
    )
    assert messages.problem_text({"sensors": {"binary_sensor.x": []}}, "en") is None
    assert messages.problem_text({"sensors": "junk"}, "en") is None


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
@pytest.mark.parametrize("problem", list(Problem))
def test_every_problem_has_a_text(problem: Problem, language: str) -> None:
    """Families and volunteers read a phrase, never the problem's code."""
    text = messages.problem_text({"sensors": {"binary_sensor.x": [problem]}}, language)
    assert text is not None
    assert text.startswith("binary_sensor.x")
    assert not text.endswith(str(problem))


def test_zone_listener_ignores_other_attributes_and_junk() -> None:
    """Only ZoneStatus updates with an integer value reach the household."""
    seen: list[tuple[str, int]] = []
    listener = zigbee._ZoneListener(
        ["binary_sensor.a", "binary_sensor.b"], lambda e, s: seen.append((e, s))
    )
    listener.attribute_updated(0x0001, 0x0028, datetime.now(UTC))  # zone type
    listener.attribute_updated(zigbee.ZONE_STATUS_ID, "junk")
    listener.attribute_updated(zigbee.ZONE_STATUS_ID, Z.Tamper, datetime.now(UTC))
    listener.cluster_command(1, 0, [Z.Tamper])
    listener.general_command(object(), object())
    assert seen == [("binary_sensor.a", 4), ("binary_sensor.b", 4)]


def _endpoint(*clusters: int) -> SimpleNamespace:
    return SimpleNamespace(
        in_clusters={cluster: f"cluster{cluster:#x}" for cluster in clusters}
    )


def test_ias_cluster_prefers_the_entitys_endpoint() -> None:
    """The entity's endpoint (from ZHA's unique id) wins; otherwise the first IAS one."""
    ias = IasZone.cluster_id
    device = SimpleNamespace(
        endpoints={0: _endpoint(ias), 1: _endpoint(0x0402), 2: _endpoint(ias)}
    )
    assert zigbee._ias_cluster(device, "00:11-2-1280") == "cluster0x500"
    assert zigbee._ias_cluster(device, "00:11-1-1280") == "cluster0x500"
    assert zigbee._ias_cluster(device, None) == "cluster0x500"
    assert zigbee._ias_cluster(SimpleNamespace(endpoints={}), "x") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00+00:00"),
        (1767323040.0, "2026-01-02T03:04:00+00:00"),
        (0, None),
        (True, None),
        ("unavailable", None),
        ("2026-01-02T03:04:00Z", "2026-01-02T03:04:00+00:00"),
        ("2026-01-02T03:04:00", None),  # no time zone: not a moment
        ("not a time", None),
        (None, None),
    ],
)
def test_last_seen_forms(value: object, expected: str | None) -> None:
    """Zigpy gives seconds or a datetime, sibling sensors give text."""
    assert zigbee._iso(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("87", 87), ("87.0", 87), ("x", None), (True, None), (None, None)],
)
def test_link_quality_forms(value: object, expected: int | None) -> None:
    """Link quality as zigpy (int) or a sensor state (text) gives it."""
    assert zigbee._int(value) == expected


async def test_smoke_with_a_test_entity_is_judged_after_the_message(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A detector with a test entity: fire unless the test entity is on by then."""
    _smoke_device(hass)
    hass.states.async_set("binary_sensor.kitchen_smoke_test", "off")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data

    # Both entities of one message, smoke written first.
    hass.states.async_set(SMOKE, "on", {"device_class": "smoke"})
    hass.states.async_set("binary_sensor.kitchen_smoke_test", "on")
    await hass.async_block_till_done()
    assert household.book.active_of(IncidentKind.TEST) is not None
    assert household.book.active_of(IncidentKind.FIRE) is None

    await set_state(hass, "binary_sensor.kitchen_smoke_test", "off")
    await set_state(hass, SMOKE, "off")
    await set_state(hass, SMOKE, "on")
    fire = household.book.active_of(IncidentKind.FIRE)
    assert fire is not None
    assert fire.details == {"sensor": SMOKE, "reason": "smoke"}


async def test_smoke_judgement_after_unload_changes_nothing(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A deferred judgement that arrives after the household stopped is dropped."""
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    assert await hass.config_entries.async_unload(household_entry.entry_id)
    await household._async_confirm_smoke(SMOKE, datetime.now(UTC))
    assert household.book.active_of(IncidentKind.FIRE) is None


async def test_stack_last_seen_says_a_quiet_detector_is_gone(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Zigbee2MQTT without availability: the last-seen sensor reveals a dead detector."""
    _smoke_device(hass)
    hass.states.async_set("sensor.kitchen_smoke_last_seen", "2026-11-24T07:30:00+08:00")
    await setup_household(hass, household_entry, freezer)
    household = household_entry.runtime_data
    assert household.diagnostics()["last_seen_sensors"] == {
        "sensor.kitchen_smoke_last_seen": SMOKE
    }
    await advance(hass, freezer, timedelta(hours=24))
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None
    # The detector talks again (the stack moves its last-seen time): still fine.
    await set_state(hass, "sensor.kitchen_smoke_last_seen", "2026-11-25T07:45:00+08:00")
    await set_state(hass, "sensor.kitchen_smoke_last_seen", "not a time")
    await advance(hass, freezer, timedelta(hours=24))
    assert household.book.active_of(IncidentKind.SENSOR_FAULT) is None
    # Then silence: 25 h after it was last heard, a fault that says since when.
    await advance(hass, freezer, timedelta(hours=1, minutes=1))
    fault = household.book.active_of(IncidentKind.SENSOR_FAULT)
    assert fault is not None
    assert fault.details["sensors"] == {SMOKE: ["not_heard"]}
    assert fault.details["last_seen"] == {SMOKE: "2026-11-25T07:45:00+08:00"}
    assert "not heard from for over a day" in messages.problem_text(fault.details, "en")
