"""What one ledger change costs the hub at district scale, inside Home Assistant.

Not a test (pytest collects only ``tests/``): run it with the test harness,

    .venv/bin/python -m pytest bench/bench_hub_ledger.py -q -s

It registers SILVER_BELL_BENCH_HOUSEHOLDS households (default 2 000) through
``import_ledger``, then times ``register_household`` and ``rotate_secret``
service calls (each one returns once the change is on disk). The harness
mocks Home Assistant's Store in memory; this module puts the real file writes
back (into a temporary configuration folder), so a release that keeps the
ledger in a Store pays for its real, atomic whole-document write.
"""

from __future__ import annotations

import os
from pathlib import Path
import statistics
import time
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import (
    CONF_HUB_NAME,
    CONF_ROLE,
    DOMAIN,
    ROLE_HUB,
)

HOUSEHOLDS = int(os.environ.get("SILVER_BELL_BENCH_HOUSEHOLDS", "2000"))
CALLS = int(os.environ.get("SILVER_BELL_BENCH_CALLS", "30"))
# The real write, taken before the harness replaces it for each test.
REAL_WRITE = Store._async_write_data  # noqa: SLF001


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom integrations."""


def _csv() -> str:
    rows = ["id,elder_name,address,phone,emergency_contacts,volunteers"]
    rows += [
        f"hh_{number:05d},Elder {number},{number} Jinhua Road building 3 flat 201,"
        f"+86 138 0000 0001,Son:+86 139 0000 0002,v-wang"
        for number in range(HOUSEHOLDS)
    ]
    return "\n".join(rows) + "\n"


async def _timed(hass: HomeAssistant, service: str, data: Any) -> float:
    start = time.perf_counter()
    await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    return time.perf_counter() - start


async def test_ledger_change_at_scale(hass: HomeAssistant, tmp_path: Path) -> None:
    """Median time of one register_household and one rotate_secret call."""
    hass.config.config_dir = str(tmp_path)
    hass.config.internal_url = "http://127.0.0.1:8123"
    with patch.object(Store, "_async_write_data", REAL_WRITE):
        entry = MockConfigEntry(
            domain=DOMAIN,
            data={CONF_ROLE: ROLE_HUB, CONF_HUB_NAME: "Bench hub"},
            unique_id=ROLE_HUB,
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await hass.services.async_call(
            DOMAIN,
            "import_ledger",
            {
                "volunteers_csv": "id,name,phone,notify,role,language\n"
                "v-wang,Wang Fang,+86 138 0000 0001,mobile_app_wang,volunteer,en\n",
                "households_csv": _csv(),
            },
            blocking=True,
            return_response=True,
        )
        await hass.async_block_till_done()
        register = []
        for number in range(CALLS):
            register.append(
                await _timed(
                    hass,
                    "register_household",
                    {"elder_name": f"New {number}", "address": f"{number} New Road"},
                )
            )
            await hass.async_block_till_done()
        rotate = [
            await _timed(hass, "rotate_secret", {"household_id": f"hh_{number:05d}"})
            for number in range(CALLS)
        ]
        files = sorted(path.name for path in (tmp_path / ".storage").iterdir())
        assert await hass.config_entries.async_unload(entry.entry_id)
    print()  # noqa: T201
    print(f"| hub with {HOUSEHOLDS:,} households | median | p90 |")  # noqa: T201
    print("|---|---|---|")  # noqa: T201
    for name, times in (("register_household", register), ("rotate_secret", rotate)):
        ordered = sorted(times)
        print(  # noqa: T201
            f"| {name} | {statistics.median(times) * 1e3:.1f} ms"
            f" | {ordered[int(0.9 * len(ordered))] * 1e3:.1f} ms |"
        )
    print(f"files: {', '.join(name for name in files if 'silver_bell' in name)}")  # noqa: T201
