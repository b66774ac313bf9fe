"""Start the demo's two real Home Assistants from Python: for fault tests and benchmarks.

``scripts/demo`` is the interactive way; this module does the same from a test or
a benchmark, with throw-away config dirs and free ports::

    from launcher import DemoPair

    with DemoPair(root=tmp_path) as pair:      # starts, onboards, pairs both,
                                               # restarts both (all on disk)
        pair.press_help()                      # the help pendant, as a sensor
        pair.hub.kill()                        # SIGKILL the hub's process group
        pair.hub.restart()                     # same config dir, same port
        pair.pushes()                          # what the pretend phones received

The config dirs are made from demo/household.yaml and demo/hub.yaml exactly as
``scripts/demo`` makes them (@PORT@ filled in, the custom
components symlinked), optionally with extra Home Assistant packages (the
do-it-yourself comparison of bench/diy/). Each Home Assistant runs as
``hass --config DIR --skip-pip`` from the demo venv (``scripts/demo
--install-only`` builds it) in its own session, so signals reach its whole
process group. Provisioning reuses demo/provision.py: the hub gets its volunteers
(their notify services are the pretend phones) and Grandma Li's household, which
is paired with it.

The pretend phones append every push to ``<hub dir>/pushes.jsonl``
(``SILVER_BELL_DEMO_PHONE_RECORD``, see
demo/custom_components/silver_bell_demo_phone/notify.py), with the wall-clock
time taken inside the hub's process. The pretend WeCom/DingTalk robots
(demo/providers.py) run in this process on a free port and append every group
message to ``<root>/robots.jsonl`` (``robot_messages()``); the hub's channel
``wecom:demo`` posts there, second in Wang Fang's channels after her app.

Standard library only (plus demo/client.py, whose websocket half uses the aiohttp
that comes with Home Assistant).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
from types import TracebackType
from typing import Any, Self

DEMO_DIR = Path(__file__).resolve().parent
REPO = DEMO_DIR.parent
sys.path.insert(0, str(DEMO_DIR))

from client import ApiError, Client, WsError  # noqa: E402
from providers import PretendRobots  # noqa: E402
import provision  # noqa: E402

DOMAIN = "silver_bell"
RECORD_ENV = "SILVER_BELL_DEMO_PHONE_RECORD"
FAIL_ENV = "SILVER_BELL_DEMO_PHONE_FAIL"
PATH_ENV = (RECORD_ENV, FAIL_ENV)  # environment variables that name files
HELP = "input_boolean.sim_help_pressed"
HELP_SENSOR = "binary_sensor.help_pendant"
# Tests run longer than the demo's 2-minute inactivity alarm: no inactivity
# incidents unless a test asks for them (the fixed windows stay the ceiling).
QUIET_SETTINGS: dict[str, Any] = {
    "day_warning": 600,
    "day_alarm": 700,
    "night_warning": 600,
    "night_alarm": 700,
    "ceiling_day": 720,
    "ceiling_night": 720,
}


class LaunchError(RuntimeError):
    """A Home Assistant did not start, or Silver Bell could not be set up."""


def default_venv() -> Path:
    """The demo venv: $SILVER_BELL_DEMO_VENV or .venv-demo in the repository."""
    return Path(os.environ.get("SILVER_BELL_DEMO_VENV") or REPO / ".venv-demo")


def venv_problem(venv: Path | None = None) -> str | None:
    """Why the demo venv cannot run Home Assistant (None if it can)."""
    venv = venv or default_venv()
    if not (venv / "bin" / "hass").is_file():
        return f"no Home Assistant in {venv} (run scripts/demo --install-only)"
    if not (venv / "bin" / "python").resolve().is_file():
        return f"the Python of {venv} is gone (delete {venv}, run scripts/demo --install-only)"
    if not (venv / ".silver-bell-demo-stamp").is_file():
        return f"{venv} was not fully installed (run scripts/demo --install-only)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LATEST_VENV = REPO / ".cache" / "latest" / "demo-venv"
LATEST_ENV = REPO / "scripts" / "latest-env"


def latest_problem() -> str | None:
    """Why the newest release's demo cannot run here (None if it can).

    ``scripts/demo --latest --install-only`` builds its venv (under
    .cache/latest/, run where scripts/latest-env puts Python >= 3.14.2).
    """
    if not (LATEST_VENV / ".silver-bell-demo-stamp").is_file():
        return (
            f"no demo venv for the newest Home Assistant in {LATEST_VENV} "
            "(run scripts/demo --latest --install-only)"
        )
    describe = subprocess.run(
        [str(LATEST_ENV), "describe"], capture_output=True, text=True, check=False
    )
    if describe.returncode != 0:
        return f"scripts/latest-env: {(describe.stdout + describe.stderr).strip()}"
    return None


class Latest:
    """Runs the newest release's Home Assistant through scripts/latest-env.

    In a Debian root (chroot) the repository is seen as /repo, so every path
    handed to that Home Assistant (config dir, custom components, files its
    environment names) must lie inside the repository and is translated; with a
    host Python 3.14 paths stay as they are. latest-env starts the command with
    an empty environment, so the environment is passed through ``env``.
    """

    def __init__(self) -> None:
        """Ask latest-env where the newest release runs."""
        describe = subprocess.run(
            [str(LATEST_ENV), "describe"], capture_output=True, text=True, check=True
        )
        self.chroot = not describe.stdout.startswith("host ")

    def path(self, path: Path) -> str:
        """``path`` as the newest release's Home Assistant sees it."""
        if not self.chroot:
            return str(path)
        try:
            inside = Path(os.path.abspath(path)).relative_to(REPO)
        except ValueError as err:
            raise LaunchError(
                f"{path} is outside the repository: the Debian root cannot see it"
            ) from err
        return str(Path("/repo") / inside)

    def command(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """``argv`` (paths already translated) run in the newest release's place."""
        pairs = [f"{key}={value}" for key, value in env.items()]
        return [str(LATEST_ENV), "exec", "/usr/bin/env", *pairs, *argv]


def prepare_config(
    directory: Path,
    template: Path,
    port: int,
    components: list[Path],
    *,
    packages: dict[str, Path] | None = None,
    substitutions: dict[str, str] | None = None,
    latest: Latest | None = None,
) -> None:
    """Make a config dir like scripts/demo's prepare_config (+ optional packages).

    Each package file is copied next to configuration.yaml with @PORT@ and the
    ``substitutions`` (e.g. ``{"@HUB_PORT@": "8124"}``) filled in, and included
    under ``homeassistant: packages:``. For the newest release (``latest``) the
    links point where its Home Assistant sees the components, and the ``http:``
    block moves to ``.storage/http`` as scripts/demo --latest does.
    """
    (directory / "custom_components").mkdir(parents=True, exist_ok=True)
    for component in components:
        link = directory / "custom_components" / component.name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(latest.path(component) if latest else component)
    text = template.read_text(encoding="utf-8").replace("@PORT@", str(port))
    if latest is not None:
        text = _without_http_block(text)
        store = directory / ".storage" / "http"
        store.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            latest.command(
                [
                    latest.path(LATEST_VENV / "bin" / "python"),
                    latest.path(DEMO_DIR / "http_config.py"),
                    latest.path(store),
                    str(port),
                ],
                {},
            ),
            check=True,
            capture_output=True,
        )
    if packages:
        lines = ["homeassistant:", "  packages:"]
        for name, source in packages.items():
            target = f"package_{name}.yaml"
            body = source.read_text(encoding="utf-8").replace("@PORT@", str(port))
            for key, value in (substitutions or {}).items():
                body = body.replace(key, value)
            (directory / target).write_text(body, encoding="utf-8")
            lines.append(f"    {name}: !include {target}")
        if "\nhomeassistant:\n" not in "\n" + text:
            raise LaunchError(f"{template} has no 'homeassistant:' section")
        text = ("\n" + text).replace(
            "\nhomeassistant:\n", "\n" + "\n".join(lines) + "\n", 1
        )[1:]
    (directory / "configuration.yaml").write_text(text, encoding="utf-8")


def _live_members(group: int) -> list[int]:
    """The processes of a process group that still run (Linux /proc; not zombies)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _without_http_block(text: str) -> str:
    """configuration.yaml without its top-level ``http:`` block."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line.startswith("http:"):
            skipping = True
            continue
        if skipping and line.strip() and not line[0].isspace() and line[0] != "#":
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


class HassProcess:
    """One Home Assistant process: start, stop, kill, pause, resume, restart."""

    def __init__(
        self,
        role: str,
        directory: Path,
        port: int,
        *,
        venv: Path,
        env: dict[str, str] | None = None,
        latest: Latest | None = None,
    ) -> None:
        """Remember where and how to run (nothing starts yet)."""
        self.role = role
        self.dir = directory
        self.port = port
        self.venv = venv
        self.env = env or {}
        self.latest = latest
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: Client | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """The process id while it runs (also its process group id)."""
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        """Whether the process has not exited (a paused one is alive)."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start ``hass`` in its own session; returns at once (see wait_ready)."""
        if self.alive():
            raise LaunchError(f"{self.role} runs already (pid {self.pid})")
        self.starts += 1
        out = (self.dir / "hass.out").open("ab")
        try:
            self.proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # PYTHONFAULTHANDLER: SIGABRT (diagnose()) dumps every thread's stack.
                env={**os.environ, "TZ": "UTC", "PYTHONFAULTHANDLER": "1", **self.env},
            )
        finally:
            out.close()

    def _command(self) -> list[str]:
        if self.latest is None:
            return [
                str(self.venv / "bin" / "hass"),
                "--config",
                str(self.dir),
                "--skip-pip",
                "--log-no-color",
            ]
        latest = self.latest
        env = {
            key: latest.path(Path(value)) if key in PATH_ENV else value
            for key, value in self.env.items()
        }
        return latest.command(
            [
                latest.path(self.venv / "bin" / "hass"),
                "--config",
                latest.path(self.dir),
                "--skip-pip",
                "--log-no-color",
            ],
            env,
        )

    def _signal_group(self, signum: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (a graceful stop) and wait; SIGKILL after ``timeout``. Exit code."""
        if self.proc is None:
            return None
        if self.alive():
            self._signal_group(signal.SIGCONT)  # a paused one could not stop
            if self.latest is not None:  # latest-env passes no signal on
                self._signal_group(signal.SIGTERM)
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
                if self.latest is not None:
                    # latest-env is gone at once; Home Assistant, in the same
                    # group, writes its files before it exits: wait for it.
                    self._wait_group(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._signal_group(signal.SIGKILL)  # anything it left in its group
        return self.proc.returncode

    def _wait_group(self, timeout: float) -> None:
        """Wait until no live process of the group is left (zombies do not count)."""
        assert self.proc is not None
        group = self.proc.pid
        end = time.monotonic() + timeout
        while _live_members(group):
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired("process group", timeout)
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group and reap it (a crash, a power cut)."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)

    def pause(self) -> None:
        """SIGSTOP: the process hangs (its port still accepts connections)."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        self._signal_group(signal.SIGCONT)

    def restart(self, timeout: float = 120) -> None:
        """Stop (if running), start again with the same config dir; wait until ready."""
        if self.alive():
            self.stop()
        self.start()
        self.wait_ready(timeout)

    def log_tail(self, lines: int = 30) -> str:
        """The end of hass.out and home-assistant.log (for error messages)."""
        parts = []
        for name in ("hass.out", "home-assistant.log"):
            path = self.dir / name
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                parts.append(f"--- {path} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until the API answers, Home Assistant runs and Silver Bell is loaded.

        Before the first provisioning (no client yet) only the onboarding API
        is waited for.
        """
        end = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < end:
            if not self.alive():
                raise LaunchError(
                    f"the {self.role}'s Home Assistant exited (code "
                    f"{self.proc.returncode if self.proc else '?'})\n{self.log_tail()}"
                )
            try:
                if self.client is None:
                    status, body = self.client_raw_onboarding()
                    if status in (200, 404):
                        return
                    last = (status, body)
                elif (waiting := self._not_ready()) is None:
                    return
                else:
                    last = waiting
            except (OSError, ApiError, WsError) as err:
                last = err
            time.sleep(0.2)
        report = self.diagnose()
        raise LaunchError(
            f"the {self.role} was not ready within {timeout:.0f} s ({last})\n"
            f"{self.log_tail(80)}\n--- {report} ---\n"
            + report.read_text(encoding="utf-8", errors="replace")[-6000:]
        )

    def diagnose(self) -> Path:
        """What a hung process is doing, in ``<dir>/diagnosis-<n>.txt`` (returned).

        Its threads' kernel wait channels and stacks, its open files, the
        listening sockets of the machine, then SIGABRT: Python's faulthandler
        (PYTHONFAULTHANDLER) writes every thread's Python stack to hass.out.
        The process is dead afterwards.
        """
        report = self.dir / f"diagnosis-{self.starts}.txt"
        parts: list[str] = []

        def read(path: Path) -> str:
            try:
                return path.read_text(encoding="utf-8", errors="replace").strip()
            except OSError as err:
                return f"({err})"

        pid = self.pid
        if pid is not None and self.alive():
            proc = Path(f"/proc/{pid}")
            parts.append(f"pid {pid}: {read(proc / 'stat')}")
            for task in sorted((proc / "task").glob("*")):
                parts.append(
                    f"task {task.name} {read(task / 'comm')}: "
                    f"state {read(task / 'stat').split(') ')[-1][:1]} "
                    f"wchan {read(task / 'wchan')}"
                )
                parts.append(read(task / "stack"))
            for fd in sorted((proc / "fd").glob("*"), key=lambda p: int(p.name)):
                with contextlib.suppress(OSError):
                    parts.append(f"fd {fd.name} -> {os.readlink(fd)}")
        else:
            parts.append("the process is not running")
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            parts.append(
                subprocess.run(
                    ["ss", "-tanp"],
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=10,
                ).stdout
            )
        report.write_text("\n".join(parts) + "\n", encoding="utf-8")
        if pid is not None and self.alive():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                assert self.proc is not None
                self.proc.wait(10)
        return report

    def client_raw_onboarding(self) -> tuple[int, Any]:
        """GET /api/onboarding without a token (answers once the HTTP server is up)."""
        status, body = Client(self.url).raw(
            "GET", "/api/onboarding", auth=False, timeout=5
        )
        return int(status), body

    def _not_ready(self) -> str | None:
        """Why Home Assistant is not ready yet (None: running, Silver Bell loaded)."""
        assert self.client is not None
        state = self.client.get("/api/config").get("state", "RUNNING")
        if state != "RUNNING":
            return f"Home Assistant is {state}"
        entries = self.client.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
        if not entries:
            return f"answers, but has no {DOMAIN} config entry"
        if waiting := [e["state"] for e in entries if e["state"] != "loaded"]:
            return f"answers; {DOMAIN} entries are {', '.join(waiting)}"
        return None

    def entry_on_disk(self, entry_id: str) -> dict[str, Any] | None:
        """A config entry as Home Assistant last wrote it (``.storage/core.config_entries``).

        Home Assistant writes config entries a moment after they change (one
        second later, longer while the disk is busy): what a SIGKILL leaves.
        """
        path = self.dir / ".storage" / "core.config_entries"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        for entry in (data.get("data") or {}).get("entries") or []:
            if entry.get("entry_id") == entry_id:
                return dict(entry)
        return None


class DemoPair:
    """A household and its hub, started, onboarded and paired (a context manager)."""

    def __init__(
        self,
        root: Path,
        *,
        venv: Path | None = None,
        settings: dict[str, Any] | None = None,
        household_packages: dict[str, Path] | None = None,
        hub_packages: dict[str, Path] | None = None,
        time_zone: str = "UTC",
        timeout: float = 180,
        latest: bool = False,
    ) -> None:
        """Prepare (nothing starts before start()); ``root`` holds both config dirs.

        ``latest``: both run the newest release (``scripts/demo --latest``'s venv,
        through scripts/latest-env); ``root`` must then lie inside the repository.
        """
        self.root = Path(root)
        self.latest = Latest() if latest else None
        self.venv = venv or (LATEST_VENV if latest else default_venv())
        self.settings = {**QUIET_SETTINGS, **(settings or {})}
        self.timeout = timeout
        self.record = self.root / "hub" / "pushes.jsonl"
        self.failing_phones = self.root / "failing_phones.txt"
        self.robots = PretendRobots(self.root / "robots.jsonl")
        self.household = HassProcess(
            "household",
            self.root / "household",
            free_port(),
            venv=self.venv,
            latest=self.latest,
        )
        hub_port = free_port()
        while hub_port == self.household.port:  # pragma: no cover - unlikely
            hub_port = free_port()
        self.hub = HassProcess(
            "hub",
            self.root / "hub",
            hub_port,
            venv=self.venv,
            env={RECORD_ENV: str(self.record), FAIL_ENV: str(self.failing_phones)},
            latest=self.latest,
        )
        self._household_packages = household_packages
        self._hub_packages = hub_packages
        self.time_zone = time_zone
        self.hub_household_id = ""
        self.provision_log = self.root / "provision.out"

    # ------------------------------------------------------------------ life
    def __enter__(self) -> Self:
        """Start both (see start)."""
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop both."""
        self.close()

    @property
    def substitutions(self) -> dict[str, str]:
        """What package files may refer to: both ports."""
        return {
            "@HOUSEHOLD_PORT@": str(self.household.port),
            "@HUB_PORT@": str(self.hub.port),
        }

    def start(self) -> None:
        """Prepare the config dirs, start both, provision and pair them; settle()."""
        problem = latest_problem() if self.latest else venv_problem(self.venv)
        if problem:
            raise LaunchError(problem)
        component = REPO / "custom_components" / DOMAIN
        phone = DEMO_DIR / "custom_components" / "silver_bell_demo_phone"
        prepare_config(
            self.household.dir,
            DEMO_DIR / "household.yaml",
            self.household.port,
            [component],
            packages=self._household_packages,
            substitutions=self.substitutions,
            latest=self.latest,
        )
        prepare_config(
            self.hub.dir,
            DEMO_DIR / "hub.yaml",
            self.hub.port,
            [component, phone],
            packages=self._hub_packages,
            substitutions=self.substitutions,
            latest=self.latest,
        )
        self.robots.start()
        self.hub.start()
        self.household.start()
        self.hub.wait_ready(self.timeout)
        self.household.wait_ready(self.timeout)
        self._provision()
        self.settle()

    def settle(self) -> None:
        """Restart both gracefully: everything provisioning changed is on disk.

        Home Assistant keeps config entries, users and tokens, and its
        registries in memory and writes them a moment after each change (config
        entries one second later, registries ten; an fsync on a busy disk takes
        seconds more). A SIGKILL inside that window loses the change, as on a
        real machine that loses power seconds after being set up. The fault
        tests kill the hub seconds after provisioning: under load the restarted
        hub had no Silver Bell entry on disk and never came up (CI), and one
        with the entry but older options has no WeCom channel. A graceful stop
        writes everything; the tests start from what is on disk.
        """
        for process in (self.household, self.hub):
            process.stop()
        self.hub.start()
        self.household.start()
        self.hub.wait_ready(self.timeout)
        self.household.wait_ready(self.timeout)

    def _provision(self) -> None:
        household_state = self.root / "household.json"
        hub_state = self.root / "hub.json"
        with (
            self.provision_log.open("a", encoding="utf-8") as out,
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(out),
        ):
            try:
                provision.provision(
                    household_url=self.household.url,
                    hub_url=self.hub.url,
                    household_state=household_state,
                    hub_state=hub_state,
                    time_zone=self.time_zone,
                    wait=self.timeout,
                    household_log=self.household.dir / "home-assistant.log",
                    hub_log=self.hub.dir / "home-assistant.log",
                    settings=self.settings,
                    wecom_url=self.robots.url("wecom"),
                )
            except SystemExit as err:
                code = err.code
            else:
                code = 0
        if code:
            raise LaunchError(
                f"provisioning failed (exit {code}):\n"
                + self.provision_log.read_text(encoding="utf-8")[-3000:]
            )
        self.household.client = Client.load(household_state)
        self.hub.client = Client.load(hub_state)
        self.hub_household_id = str(self.hub.client.extra.get("household_id", ""))

    def close(self) -> None:
        """Stop both (gracefully, then by force); never raises."""
        for process in (self.household, self.hub):
            with contextlib.suppress(Exception):
                process.stop(timeout=30)
        for process in (self.household, self.hub):
            with contextlib.suppress(Exception):
                process.kill()
        with contextlib.suppress(Exception):
            self.robots.stop()

    # ------------------------------------------------------------- clients
    @property
    def home(self) -> Client:
        """The household's API client."""
        assert self.household.client is not None, "not started"
        return self.household.client

    @property
    def hub_api(self) -> Client:
        """The hub's API client."""
        assert self.hub.client is not None, "not started"
        return self.hub.client

    # ---------------------------------------------------- simulated sensors
    def set_boolean(self, entity_id: str, on: bool) -> None:
        """Switch one of the household's simulated sensors (an input_boolean)."""
        self.home.post(
            f"/api/services/input_boolean/turn_{'on' if on else 'off'}",
            {"entity_id": entity_id},
        )

    def set_number(self, entity_id: str, value: float) -> None:
        """Set a simulated temperature (an input_number)."""
        self.home.post(
            "/api/services/input_number/set_value",
            {"entity_id": entity_id, "value": value},
        )

    def press_help(self) -> None:
        """Press the help pendant (and keep it pressed: see release_help)."""
        self.set_boolean(HELP, True)

    def fail_phone(self, service: str, failing: bool = True) -> None:
        """Make a pretend phone refuse its pushes (or work again): FAIL_ENV's file."""
        names = set()
        if self.failing_phones.is_file():
            names = set(self.failing_phones.read_text(encoding="utf-8").split())
        names = names | {service} if failing else names - {service}
        self.failing_phones.write_text(
            "".join(f"{name}\n" for name in sorted(names)), encoding="utf-8"
        )

    def release_help(self) -> None:
        """Release the help pendant."""
        self.set_boolean(HELP, False)

    def household_call(
        self, service: str, data: dict[str, Any] | None = None, *, response: bool = True
    ) -> Any:
        """Call a silver_bell service at the household (websocket, with its response)."""
        return self.home.call_service(DOMAIN, service, data or {}, response=response)

    def hub_call(
        self, service: str, data: dict[str, Any] | None = None, *, response: bool = True
    ) -> Any:
        """Call a silver_bell service at the hub (websocket, with its response)."""
        return self.hub_api.call_service(DOMAIN, service, data or {}, response=response)

    def help_incident_cycle(self, *, resolve: bool = True) -> str:
        """Press and release the pendant; resolve the help incident. Its household id.

        The incident is taken from the household (the one active help incident);
        with ``resolve`` it is resolved through silver_bell.resolve.
        """
        before = {item["id"] for item in self.household_incidents("help")}
        self.press_help()
        incident_id = wait_for(
            lambda: next(
                (
                    item["id"]
                    for item in self.household_incidents("help")
                    if item["id"] not in before
                ),
                None,
            ),
            timeout=20,
            what="the household's help incident",
        )
        self.release_help()
        if resolve:
            self.household_call(
                "resolve", {"incident_id": incident_id, "resolution": "resident_ok"}
            )
        return str(incident_id)

    # -------------------------------------------------------------- reading
    def household_store(self) -> dict[str, Any]:
        """The household's Silver Bell storage files (``.storage/silver_bell*``), by name.

        Read from disk: also works while the household is stopped or killed.
        """
        found = {}
        for path in sorted((self.household.dir / ".storage").glob(f"{DOMAIN}*")):
            with contextlib.suppress(OSError, ValueError):
                found[path.name] = json.loads(path.read_text(encoding="utf-8"))
        return found

    def outbox_pending(self) -> list[dict[str, Any]]:
        """The household's undelivered outbox items, as last written to disk."""
        items: list[dict[str, Any]] = []
        for name, data in self.household_store().items():
            if "outbox" in name:
                outbox = (data.get("data") or {}).get("outbox") or {}
                items += list(outbox.get("pending") or [])
        return items

    def household_incidents(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The household's incidents from the diagnostics-free source: its Store on disk.

        The Store is written at once when incidents change (``immediate``), so
        this follows the household closely without any API.
        """
        incidents: list[dict[str, Any]] = []
        for name, data in self.household_store().items():
            if "outbox" in name:
                continue
            body = data.get("data") or {}
            incidents.extend(
                item
                for item in body.get("incidents") or []
                if isinstance(item, dict) and (kind is None or item.get("kind") == kind)
            )
        return incidents

    def hub_incidents(self) -> list[dict[str, Any]]:
        """The hub's incidents of the paired household, with their ``source_ids``.

        From silver_bell.export_person (the ledger's per-household export), which
        carries each hub incident's household incident ids and its log.
        """
        answer = self.hub_call("export_person", {"household_id": self.hub_household_id})
        return list((answer or {}).get("incidents") or [])

    def hub_incidents_csv(self) -> list[dict[str, str]]:
        """The hub's whole incident ledger (silver_bell.export_incidents CSV)."""
        answer = self.hub_call("export_incidents")
        text = str((answer or {}).get("csv", "")).lstrip("\ufeff")
        return list(csv.DictReader(io.StringIO(text)))

    def pushes(self) -> list[dict[str, Any]]:
        """Every push the pretend phones received (also across hub restarts)."""
        if not self.record.is_file():
            return []
        found = []
        for line in self.record.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def robot_messages(self, robot: str | None = "wecom") -> list[dict[str, Any]]:
        """Every message the pretend robots received (demo/providers.py's record)."""
        return self.robots.messages(robot)


def wait_for(check: Any, *, timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``check()`` until it returns something truthy (returned); TimeoutError."""
    end = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if result := check():
                return result
        except (OSError, ApiError, WsError) as err:
            last_error = err
        if time.monotonic() >= end:
            raise TimeoutError(
                f"{what}: not within {timeout:.0f} s"
                + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(interval)
