"""What Silver Bell adds to each state change of a watched sensor, inside Home Assistant.

Not a test (pytest collects only ``tests/``): ``scripts/bench --ha`` runs it with
the test harness, which starts a real Home Assistant core in-process. It writes
the same number of state changes to a motion sensor twice: once with no Silver
Bell entry (Home Assistant's own cost: the state machine, the event bus), once
with a household entry watching that sensor (and a smoke sensor, a temperature
sensor, a help button and a door). The difference per change is Silver Bell's
cost: the monitors, the incident book, its entities' state writes.
"""

from __future__ import annotations

import os
import statistics
import time

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import DOMAIN
from tests.conftest import HOUSEHOLD_DATA, MOTION_KITCHEN, set_sensor_states

CHANGES = int(os.environ.get("SILVER_BELL_BENCH_CHANGES", "4000"))
ROUNDS = int(os.environ.get("SILVER_BELL_BENCH_ROUNDS", "5"))
RESULTS: dict[str, list[float]] = {}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom integrations."""


async def _per_change(hass: HomeAssistant) -> float:
    """Seconds per motion state change, everything it triggers included."""
    await hass.async_block_till_done()
    start = time.perf_counter()
    for number in range(CHANGES):
        hass.states.async_set(
            MOTION_KITCHEN, "on" if number % 2 else "off", {"device_class": "motion"}
        )
        if number % 100 == 99:
            await hass.async_block_till_done()
    await hass.async_block_till_done()
    return (time.perf_counter() - start) / CHANGES


@pytest.mark.parametrize("loaded", [False, True], ids=["without", "with"])
async def test_state_change_cost(hass: HomeAssistant, loaded: bool) -> None:
    """Measure one configuration (ROUNDS rounds of CHANGES changes)."""
    hass.loop.set_debug(False)  # the test harness debugs the loop; users don't
    set_sensor_states(hass)
    if loaded:
        entry = MockConfigEntry(domain=DOMAIN, title="Grandma Li", data=HOUSEHOLD_DATA)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await _per_change(hass)  # warm-up
    RESULTS["with" if loaded else "without"] = [
        await _per_change(hass) for _ in range(ROUNDS)
    ]
    if loaded:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def test_report() -> None:
    """Print the table (runs last)."""
    without = statistics.median(RESULTS["without"])
    with_ = statistics.median(RESULTS["with"])
    print()  # noqa: T201
    print("| Home Assistant, one motion state change | median per change |")  # noqa: T201
    print("|---|---|")  # noqa: T201
    print(f"| without Silver Bell | {without * 1e6:.1f} µs |")  # noqa: T201
    print(f"| with a household watching it | {with_ * 1e6:.1f} µs |")  # noqa: T201
    print(f"| **added by Silver Bell** | **{(with_ - without) * 1e6:.1f} µs** |")  # noqa: T201
