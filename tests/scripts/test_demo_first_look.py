"""A newcomer's first look at the demo is clean: what provision.py tidies up.

Onboarding adds entries that need the internet (newer releases a moment later, from
background tasks), and 2025.12+ raises a repair about the demo's way of running Home
Assistant (a Python venv). A fake client plays Home Assistant's API here.
"""

from __future__ import annotations

from pathlib import Path
import sys
from typing import Any

import pytest

DEMO = Path(__file__).resolve().parents[2] / "demo"
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))

import client as demo_client  # noqa: E402
import provision  # noqa: E402


class FakeHass:
    """The config entries, in-progress flows and repairs of a Home Assistant."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.flows: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.later: list[list[dict[str, Any]]] = []  # entries that appear per poll
        self.deleted: list[str] = []
        self.ignored: list[tuple[str, str]] = []
        self.repairs_loaded = True

    # the demo client's interface
    def get(self, path: str, **_: Any) -> Any:
        domain = path.split("domain=")[1]
        return [entry for entry in self.entries if entry["domain"] == domain]

    def delete(self, path: str, **_: Any) -> Any:
        entry_id = path.rsplit("/", 1)[1]
        self.deleted.append(entry_id)
        self.entries = [e for e in self.entries if e["entry_id"] != entry_id]

    def ws(self, command: dict[str, Any], timeout: float | None = None) -> Any:
        kind = command["type"]
        if kind == "config_entries/flow/progress":
            flows, self.flows = self.flows, []
            if self.later:
                self.entries += self.later.pop(0)
            return flows
        if not self.repairs_loaded:
            raise demo_client.WsError(kind, {"code": "unknown_command"})
        if kind == "repairs/list_issues":
            return {"issues": self.issues}
        if kind == "repairs/ignore_issue":
            self.ignored.append((command["domain"], command["issue_id"]))
            return None
        raise AssertionError(kind)


def entry(domain: str, entry_id: str) -> dict[str, Any]:
    return {"domain": domain, "entry_id": entry_id, "title": domain}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision.time, "sleep", lambda _: None)


def test_entries_added_in_the_background_are_removed() -> None:
    hass = FakeHass()
    hass.entries = [entry("radio_browser", "r1"), entry("shopping_list", "s1")]
    hass.flows = [{"handler": "met"}, {"handler": "google_translate"}]
    hass.later = [[entry("met", "m1"), entry("google_translate", "g1")]]
    provision.settle_network_entries(hass, "hub")  # type: ignore[arg-type]
    assert sorted(hass.deleted) == ["g1", "m1", "r1"]
    assert [e["domain"] for e in hass.entries] == ["shopping_list"]  # works offline


def test_settling_gives_up_after_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    hass = FakeHass()
    ticks = iter(range(100))
    monkeypatch.setattr(provision.time, "monotonic", lambda: next(ticks) * 10.0)

    def always_busy(command: dict[str, Any], timeout: float | None = None) -> Any:
        return [{"handler": "met"}]

    hass.ws = always_busy  # type: ignore[method-assign]
    provision.settle_network_entries(hass, "hub", seconds=20)  # type: ignore[arg-type]


def test_installation_repair_is_ignored_once() -> None:
    hass = FakeHass()
    hass.issues = [
        {"domain": "homeassistant", "issue_id": "deprecated_method", "ignored": False},
        {"domain": "silver_bell", "issue_id": "dead_letter_x", "ignored": False},
    ]
    provision.ignore_installation_repairs(hass, "household")  # type: ignore[arg-type]
    assert hass.ignored == [("homeassistant", "deprecated_method")]
    hass.issues[0]["ignored"] = True
    provision.ignore_installation_repairs(hass, "household")  # type: ignore[arg-type]
    assert hass.ignored == [("homeassistant", "deprecated_method")]


def test_no_repairs_integration_is_fine() -> None:
    hass = FakeHass()
    hass.repairs_loaded = False
    provision.ignore_installation_repairs(hass, "household")  # type: ignore[arg-type]
    assert hass.ignored == []
