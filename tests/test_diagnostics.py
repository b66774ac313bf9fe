"""Snapshots of entity states and diagnostics; logbook; translations; compat."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION, STATE_ON
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props
from syrupy.location import PyTestLocation

from custom_components.silver_bell import async_migrate_entry, logbook
from custom_components.silver_bell.compat import (
    HAS_NOTIFY_ENTITY,
    loaded_runtime,
    runtime_of,
    set_runtime_data,
)
from custom_components.silver_bell.const import (
    CONF_NAME,
    CONF_ROLE,
    DOMAIN,
    EVENT_INCIDENT,
)
from custom_components.silver_bell.diagnostics import async_get_config_entry_diagnostics

from .common import set_state, setup_household
from .conftest import SMOKE

PACKAGE = Path(__file__).parent.parent / "custom_components" / DOMAIN
# Snapshots hold Home Assistant's own objects (registry entries, states), whose
# fields differ between releases, so each tested release has its own set:
# snapshots/2024.3/ for the first test stage, snapshots/latest/ for the second
# (update with: scripts/latest-env run python -m pytest tests/test_diagnostics.py
# --snapshot-update).
SNAPSHOT_SET = "2024.3" if (MAJOR_VERSION, MINOR_VERSION) == (2024, 3) else "latest"


class VersionedSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot format, one directory per tested release."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """snapshots/<release set>/ next to the test file."""
        return str(Path(super().dirname(test_location=test_location)) / SNAPSHOT_SET)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """The harness's snapshot fixture, in this release's snapshot directory."""
    return snapshot.use_extension(VersionedSnapshotExtension)


async def test_entity_states(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    await setup_household(hass, household_entry, freezer)
    entities = er.async_entries_for_config_entry(
        er.async_get(hass), household_entry.entry_id
    )
    # The "forward to hub" notify entity exists where Home Assistant has notify
    # entities (2024.5+); 2024.3 has only the legacy notify service.
    assert len(entities) == 13 + HAS_NOTIFY_ENTITY, sorted(
        e.unique_id for e in entities
    )
    for entity in sorted(entities, key=lambda item: item.entity_id):
        assert entity == snapshot(name=f"{entity.entity_id}-entry")
        assert hass.states.get(entity.entity_id) == snapshot(
            name=f"{entity.entity_id}-state"
        )


async def test_diagnostics_redacted(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, SMOKE, STATE_ON)
    diagnostics = await async_get_config_entry_diagnostics(hass, household_entry)
    assert "Grandma Li" not in json.dumps(diagnostics)
    assert diagnostics == snapshot(exclude=props("id"))


async def test_logbook_describes_incidents(
    hass: HomeAssistant,
    household_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    described: dict[str, Any] = {}

    def register(domain: str, event_type: str, describe: Any) -> None:
        described[event_type] = describe

    # A callback listener runs in the event loop in firing order. (A plain
    # ``list.append`` is not a callback: Home Assistant runs it in the executor,
    # one thread per event, so the two events of one smoke alarm were appended in
    # either order and "the last one" was the "opened" event about 1 run in 3.)
    captured: list[Event] = async_capture_events(hass, EVENT_INCIDENT)
    await setup_household(hass, household_entry, freezer)
    await set_state(hass, SMOKE, STATE_ON)
    await hass.async_block_till_done()
    logbook.async_describe_events(hass, register)
    # A fire opens and is escalated at once: two events, in that order, and the
    # logbook tells both (the second one says the alert went out).
    assert [event.data["action"] for event in captured] == ["opened", "escalated"]
    texts = [described[EVENT_INCIDENT](event) for event in captured]
    assert texts == [
        {"name": "Grandma Li", "message": "Fire alarm at Grandma Li's home"},
        {
            "name": "Grandma Li",
            "message": "Fire alarm at Grandma Li's home: alert sent",
        },
    ]


async def test_migrate_entry(hass: HomeAssistant) -> None:
    old = MockConfigEntry(domain=DOMAIN, data={CONF_NAME: "A"}, version=1)
    old.add_to_hass(hass)
    assert await async_migrate_entry(hass, old)
    assert old.data[CONF_ROLE] == "household"
    future = MockConfigEntry(domain=DOMAIN, data={CONF_NAME: "B"}, version=99)
    future.add_to_hass(hass)
    assert not await async_migrate_entry(hass, future)


def test_runtime_data_helpers(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, title="Grandma Li")
    assert runtime_of(entry, str) is None
    with pytest.raises(RuntimeError, match="Grandma Li has no running str"):
        loaded_runtime(entry, str)
    set_runtime_data(entry, "x")
    assert runtime_of(entry, str) == "x"
    assert loaded_runtime(entry, str) == "x"
    # Another role's runtime object is not taken for this one.
    assert runtime_of(entry, int) is None
    set_runtime_data(entry, None)
    assert runtime_of(entry, str) is None


def _keys(tree: Any, prefix: str = "") -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.update(_keys(value, f"{prefix}.{key}" if prefix else key))
    else:
        found[prefix] = set(re.findall(r"\{(\w+)\}", str(tree)))
    return found


def test_translations_match_strings() -> None:
    strings = _keys(json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8")))
    for language in ("en", "zh-Hans"):
        translated = _keys(
            json.loads(
                (PACKAGE / "translations" / f"{language}.json").read_text(
                    encoding="utf-8"
                )
            )
        )
        assert translated == strings, language


def test_manifest_is_sorted() -> None:
    manifest = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["config_flow"] is True
    assert manifest["documentation"].startswith("https://")
