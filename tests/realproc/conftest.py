"""Real Home Assistant processes for the fault tests: one household/hub pair per module.

These tests do not use the harness's ``hass`` fixture: they start the demo's two
Home Assistants (demo/launcher.py) from the demo venv as subprocesses on free
loopback ports, in throw-away directories, and drive them through their APIs.

- No demo venv: the module is skipped with the reason, except with ``CI=true``,
  where that is an error (CI must run ``scripts/demo --install-only`` first).
  The suite's second stage (SILVER_BELL_LATEST=1) skips it: see require_demo_venv.
- pytest-homeassistant-custom-component blocks sockets before every test
  (pytest-socket, only 127.0.0.1 allowed); this package re-enables them for its
  own tests (``socket_enabled``) and while the module's pair starts. Everything
  talks to 127.0.0.1 only.
- ``slow`` tests (longer outages, more incidents, the 1-minute escalation) run
  only when asked for: ``pytest -m slow tests/realproc``.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import sys

import pytest
import pytest_socket

DEMO = Path(__file__).resolve().parents[2] / "demo"
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))

from launcher import DemoPair, venv_problem  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``slow`` marker (also registered in pyproject.toml)."""
    config.addinivalue_line(
        "markers", "slow: long fault tests with real processes (run with -m slow)"
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Leave ``slow`` tests out unless the marker expression asks for them."""
    if "slow" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite's autouse fixture: no in-process ``hass`` here."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """The tests talk to the Home Assistants on 127.0.0.1."""


def require_demo_venv() -> None:
    """Skip (or, with CI=true, fail) when the demo venv is missing.

    In the suite's second stage (newest Home Assistant, SILVER_BELL_LATEST=1) the
    module is skipped on purpose: the processes it starts are the demo's Home
    Assistant 2024.3.3 either way, and stage 1 ran them.
    """
    if os.environ.get("SILVER_BELL_LATEST") == "1":
        pytest.skip("real-process tests run in stage 1 only (the demo is 2024.3.3)")
    if (problem := venv_problem()) is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the real-process tests cannot run: {problem}")
    pytest.skip(f"real-process tests need the demo venv: {problem}")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPair]:
    """A household paired with its hub, started once per module (stopped at the end)."""
    require_demo_venv()
    pytest_socket.enable_socket()  # module fixtures start before `socket_enabled`
    demo = DemoPair(tmp_path_factory.mktemp("realproc"))
    try:
        demo.start()
        yield demo
    finally:
        demo.close()
