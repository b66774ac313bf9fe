"""Smoke tests: the developer scripts run against the current code.

They are not measurements: ``scripts/bench --quick`` runs each operation a few
times, and ``scripts/evaluate_baseline`` is run on a small event log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
import subprocess
import sys

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [sys.executable, *args], capture_output=True, text=True, check=False
    )


def test_bench_quick() -> None:
    """The benchmark script imports and runs every operation."""
    result = _run(str(SCRIPTS / "bench"), "--quick")
    assert result.returncode == 0, result.stderr
    assert "learned routine" in result.stdout


@pytest.fixture
def event_log(tmp_path: Path) -> Path:
    """Twelve days: kitchen every 30 min from 07:00 to 22:30, bedroom at night."""
    lines = ["# test log"]
    start = datetime.fromisoformat("2024-05-01T07:00:00+08:00")
    for day in range(12):
        moment = start + timedelta(days=day)
        for _ in range(32):
            room = "bedroom" if moment.hour >= 22 else "kitchen"
            lines.append(f"{moment.isoformat()},binary_sensor.{room},{room}")
            moment += timedelta(minutes=30)
    path = tmp_path / "home.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", [(), ("--sweep",), ("--advice",)])
def test_evaluate_baseline_on_an_event_log(
    event_log: Path, mode: tuple[str, ...]
) -> None:
    """The evaluation script reads the documented format and prints tables."""
    result = _run(
        str(SCRIPTS / "evaluate_baseline"),
        "--log",
        str(event_log),
        "--collapses",
        "20",
        *mode,
    )
    assert result.returncode == 0, result.stderr
    assert "| --- |" in result.stdout
    if not mode:
        lines = result.stdout.splitlines()
        # The report table keeps its interface; the frontier comes after it.
        header = next(line for line in lines if line.startswith("| "))
        # Existing columns never change or move; new ones are added at the end.
        assert header.startswith(REPORT_HEADER)
        assert header.removeprefix(REPORT_HEADER) == ADDED_COLUMNS
        row = next(line for line in lines if line.startswith("| all days after"))
        assert row.count("|") == header.count("|")
        frontier = lines.index(next(line for line in lines if "frontier" in line))
        assert frontier > lines.index(row)
        assert any(line.startswith("| per room × time of day |") for line in lines)
        assert any(line.startswith("| 0 (0.0) |") for line in lines)


REPORT_HEADER = (
    "| Period | Days scored | Escalated false alarms (per 30 d) | Alarms before "
    "check-in | 'Away too long' notices | Median delay | p90 | Worst | "
    "Never / only by the away cap |"
)


ADDED_COLUMNS = (
    " Escalated: learned routine | Escalated: safety ceilings (6 h / 12 h) and "
    "fixed windows | Escalated: away check-ins | Collapses noticed only by an "
    "away check-in or the away cap |"
)


def test_evaluate_baseline_without_home_assistant(event_log: Path) -> None:
    """The script runs on a plain Python: no Home Assistant (no site-packages)."""
    bare = [sys.executable, "-S"]
    probe = subprocess.run(  # noqa: S603 - fixed arguments
        [*bare, "-c", "import homeassistant"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode != 0  # Home Assistant really is out of reach
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [
            *bare,
            str(SCRIPTS / "evaluate_baseline"),
            *("--log", str(event_log), "--collapses", "20"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    row = next(
        line for line in result.stdout.splitlines() if line.startswith("| all days")
    )
    # The added columns: learned, ceilings, away check-ins, collapses left to away.
    assert row.endswith("| 0 | 0 | 0 | 0 of 20 |")


def test_evaluate_baseline_rejects_a_bad_log(tmp_path: Path) -> None:
    """A malformed log gets a clear error naming the line, exit code 2."""
    path = tmp_path / "bad.csv"
    path.write_text("yesterday,sensor,room\n", encoding="utf-8")
    result = _run(str(SCRIPTS / "evaluate_baseline"), "--log", str(path))
    assert result.returncode == 2
    assert "line 1" in result.stderr
