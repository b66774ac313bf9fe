"""Real-browser tests of the duty desk: Chromium (Debian's) driven by Playwright.

The browser logs in to the real hub of a demo pair (demo/launcher.py, Home
Assistant 2024.3.3 with its frontend, started from the demo venv as in
tests/realproc), opens the "Duty desk" sidebar panel and works an incident
through the panel's buttons.

- Needs: the demo venv (``scripts/demo --install-only``), the ``playwright``
  Python package (pinned in requirements_test.txt; Playwright's own browser
  download is not used) and Chromium at ``/usr/bin/chromium`` (Debian's
  ``chromium`` package; SILVER_BELL_CHROMIUM names another binary).
  scripts/test installs all three (Chromium with apt-get, as root).
- Without one of them the tests are skipped with the reason; under ``CI=true``
  that is a failure (scripts/test installs them, so CI must have them).
- Each test runs against two hubs: Home Assistant 2024.3.3 (in stage 1) and the
  newest release (``[newest]``, ``scripts/demo --latest``'s venv run through
  scripts/latest-env): scripts/test runs those after stage 2 with
  SILVER_BELL_BROWSER_NEWEST=1, from this Python (Playwright and Chromium live
  here, not in the Debian root). The second stage itself (SILVER_BELL_LATEST=1)
  skips this directory: it has no browser.
- Sockets: as tests/realproc, everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import importlib.util
import os
from pathlib import Path
import shutil
import sys
import tempfile
from typing import Any

import pytest
import pytest_socket

DEMO = Path(__file__).resolve().parents[2] / "demo"
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))

from launcher import DemoPair, latest_problem, venv_problem  # noqa: E402

CHROMIUM = Path(os.environ.get("SILVER_BELL_CHROMIUM", "/usr/bin/chromium"))
# The newest release's config dirs (inside the repository: see the pair fixture).
NEWEST_ROOT = DEMO.parent / ".cache" / "latest" / "browser"


def browser_problem() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if importlib.util.find_spec("playwright") is None:
        return (
            "the playwright package is not installed "
            "(pip install -r requirements_test.txt)"
        )
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, as root)"
    if (problem := venv_problem()) is not None:
        return f"the demo venv: {problem}"
    return None


def require_browser() -> None:
    """Skip (stage 2 always; elsewhere when something is missing, or fail under CI)."""
    if os.environ.get("SILVER_BELL_LATEST") == "1":
        pytest.skip(
            "no browser in the second stage's Debian root: scripts/test drives "
            "the newest release's desk from stage 1's Python after stage 2"
        )
    if (problem := browser_problem()) is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the real-browser tests cannot run: {problem}")
    pytest.skip(f"real-browser tests cannot run: {problem}")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite's autouse fixture: no in-process ``hass`` here."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """The tests talk to the hub on 127.0.0.1."""


def require_newest() -> None:
    """Skip unless the newest release's run was asked for (and can run).

    scripts/test asks for it after stage 2 (SILVER_BELL_BROWSER_NEWEST=1, with
    the newest release's demo venv built by ``scripts/demo --latest
    --install-only``); asked for but impossible is a failure.
    """
    if os.environ.get("SILVER_BELL_BROWSER_NEWEST") != "1":
        pytest.skip(
            "the newest release's desk runs after stage 2 "
            "(SILVER_BELL_BROWSER_NEWEST=1, see scripts/test)"
        )
    if (problem := latest_problem()) is not None:
        pytest.fail(f"SILVER_BELL_BROWSER_NEWEST=1 but it cannot run: {problem}")


@pytest.fixture(scope="module", params=["2024.3.3", "newest"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoPair]:
    """A household paired with its hub (with the frontend), once per module.

    Twice: on Home Assistant 2024.3.3 (the demo venv) and on the newest release
    (``scripts/demo --latest``'s venv, through scripts/latest-env; its config dirs
    lie inside the repository, where a Debian root can see them).
    """
    require_browser()
    newest = request.param == "newest"
    if newest:
        require_newest()
    elif os.environ.get("SILVER_BELL_BROWSER_NEWEST") == "1":
        pytest.skip("this run is for the newest release only")
    pytest_socket.enable_socket()  # module fixtures start before `socket_enabled`
    if newest:
        NEWEST_ROOT.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="browser-", dir=NEWEST_ROOT))
    else:
        root = tmp_path_factory.mktemp("browser")
    demo = DemoPair(root, latest=newest)
    try:
        demo.start()
        yield demo
    finally:
        demo.close()
        if newest:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def browser(pair: DemoPair) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (one per test).

    Per test, not per module: Playwright's sync API keeps its event loop running
    in this thread until it stops, and the harness's cleanup check (autouse, torn
    down after this fixture) runs an event loop of its own.
    """
    from playwright.sync_api import sync_playwright

    # Playwright starts its driver as an asyncio subprocess in a loop of its own;
    # the harness's event loop policy keeps a child watcher bound to its own
    # (closed) loop, so Playwright gets the thread-based one meanwhile.
    policy = asyncio.get_event_loop_policy()
    previous = policy.get_child_watcher()  # type: ignore[attr-defined]
    policy.set_child_watcher(asyncio.ThreadedChildWatcher())  # type: ignore[attr-defined]
    try:
        yield from _chromium(sync_playwright)
    finally:
        policy.set_child_watcher(previous)  # type: ignore[attr-defined]


def _chromium(sync_playwright: Any) -> Iterator[Any]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # Root in a container has no user namespaces for Chromium's sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
