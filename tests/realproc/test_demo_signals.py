"""One signal stops ``scripts/demo`` and both of its Home Assistants.

A script started in the background by a non-interactive shell ignores SIGINT, and
bash cannot trap a signal ignored at entry; ``scripts/demo`` starts itself once
more with SIGINT at its default. Here it runs like that (SIGINT ignored, its own
session, throw-away config dirs via SILVER_BELL_DEMO_DIR, free ports), and one
SIGINT must stop it, both Home Assistants first.
"""

from __future__ import annotations

import os
from pathlib import Path
import signal
import socket
import subprocess
import time

from launcher import default_venv
import pytest

from .conftest import require_demo_venv

REPO = Path(__file__).resolve().parents[2]


def _free_port_pair() -> int:
    """A port p with p and p + 1 free on 127.0.0.1 (household and hub)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two free consecutive ports")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_one_signal_stops_the_background_demo(
    tmp_path: Path, sig: signal.Signals
) -> None:
    require_demo_venv()
    demo_dir = tmp_path / "demo"
    log_path = tmp_path / "demo.log"
    env = {
        **os.environ,
        "SILVER_BELL_DEMO_DIR": str(demo_dir),
        "SILVER_BELL_DEMO_VENV": str(default_venv()),
    }
    env.pop("SILVER_BELL_DEMO_REEXEC", None)
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own script
            [
                str(REPO / "scripts" / "demo"),
                "--no-scenario",
                "--port",
                str(_free_port_pair()),
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As `scripts/demo &` from a script: SIGINT ignored at entry.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
        )
    hass_pids: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while "demo is up" not in log_path.read_text(encoding="utf-8"):
            assert proc.poll() is None, log_path.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8")
            time.sleep(0.5)
        hass_pids = [
            int((demo_dir / role / ".hass.pid").read_text(encoding="utf-8"))
            for role in ("household", "hub")
        ]
        assert all(_alive(pid) for pid in hass_pids)

        proc.send_signal(sig)
        assert proc.wait(timeout=90) == 0, log_path.read_text(encoding="utf-8")
        assert not [pid for pid in hass_pids if _alive(pid)], "a Home Assistant is left"
        assert "Stopped: household" in log_path.read_text(encoding="utf-8")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=90)
        for pid in hass_pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
