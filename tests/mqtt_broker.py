"""A real Mosquitto broker for the tests that speak MQTT (Zigbee2MQTT end to end).

Which broker a test run gets:

1. ``SILVER_BELL_MQTT_BROKER=host:port`` names a running broker: use it.
   ``scripts/test`` starts one mosquitto for the whole run and exports it, so both
   test stages (and every pytest-xdist worker) share it; tests keep apart by using
   their own topics.
2. Otherwise, if the ``mosquitto`` binary exists (PATH, or ``/usr/sbin`` where
   Debian puts it), start one on a free loopback port for this test module.
3. Otherwise skip with the reason, except under ``CI=true``, where a missing
   broker fails: CI must not pass without having run these tests.

Only loopback brokers are accepted: the test harness (pytest-socket) lets tests
connect to 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import time
from typing import NoReturn

from paho.mqtt import publish as paho_publish
import pytest

ENV_BROKER = "SILVER_BELL_MQTT_BROKER"
LOOPBACK = "127.0.0.1"
# Debian installs mosquitto in /usr/sbin, which is not on a normal user's PATH.
MOSQUITTO_FALLBACKS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
START_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker listens."""

    host: str
    port: int

    def __str__(self) -> str:
        """``host:port``, the format of ``SILVER_BELL_MQTT_BROKER``."""
        return f"{self.host}:{self.port}"


def parse_address(text: str) -> BrokerAddress:
    """Parse ``host:port`` (loopback only); raise ValueError with the reason."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        msg = f"{ENV_BROKER}={text!r}: expected host:port, e.g. 127.0.0.1:1883"
        raise ValueError(msg)
    if host in ("localhost", ""):
        host = LOOPBACK
    if host != LOOPBACK:
        msg = (
            f"{ENV_BROKER}={text!r}: the test harness only allows connections to "
            f"{LOOPBACK}"
        )
        raise ValueError(msg)
    return BrokerAddress(host, int(port_text))


def find_mosquitto() -> str | None:
    """The mosquitto binary, or None when it is not installed."""
    if found := shutil.which("mosquitto"):
        return found
    for candidate in MOSQUITTO_FALLBACKS:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def accepts_connections(address: BrokerAddress, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at ``address``."""
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_listening(
    address: BrokerAddress,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Return once ``address`` accepts connections; raise RuntimeError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if accepts_connections(address):
            return
        if process is not None and process.poll() is not None:
            msg = f"mosquitto exited with status {process.returncode}"
            raise RuntimeError(msg)
        if time.monotonic() > deadline:
            msg = f"nothing accepts connections at {address} after {timeout:.0f} s"
            raise RuntimeError(msg)
        time.sleep(0.05)


@contextmanager
def mosquitto(binary: str, attempts: int = 3) -> Iterator[BrokerAddress]:
    """Run mosquitto on a free loopback port (anonymous, no persistence)."""
    with tempfile.TemporaryDirectory(prefix="silver_bell_mqtt_") as tmp:
        log = Path(tmp, "mosquitto.log")
        for attempt in range(1, attempts + 1):
            address = BrokerAddress(LOOPBACK, free_port())
            config = Path(tmp, "mosquitto.conf")
            config.write_text(
                f"listener {address.port} {address.host}\nallow_anonymous true\n",
                encoding="utf-8",
            )
            with log.open("ab") as log_file:
                process = subprocess.Popen(  # noqa: S603 - fixed argument list
                    [binary, "-c", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            try:
                wait_until_listening(address, START_TIMEOUT, process)
            except RuntimeError as err:
                _stop(process)
                if attempt == attempts:  # another process may have taken the port
                    output = log.read_text(encoding="utf-8", errors="replace")
                    msg = f"could not start {binary}: {err}\n{output}"
                    raise RuntimeError(msg) from err
                continue
            try:
                yield address
            finally:
                _stop(process)
            return


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true (CI must run the MQTT tests)."""
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true, so this fails instead of skipping: {reason}", pytrace=False
        )
    pytest.skip(reason)


@contextmanager
def broker_for_tests() -> Iterator[BrokerAddress]:
    """The broker of this test run (see the module docstring for the rule)."""
    if configured := os.environ.get(ENV_BROKER):
        try:
            address = parse_address(configured)
        except ValueError as err:
            pytest.fail(str(err), pytrace=False)
        try:
            wait_until_listening(address, 5.0)
        except RuntimeError as err:
            # Set on purpose but not there: a broken set-up, never a skip.
            pytest.fail(f"{ENV_BROKER}={configured}: {err}", pytrace=False)
        yield address
        return
    binary = find_mosquitto()
    if binary is None:
        _unavailable(
            f"no MQTT broker: {ENV_BROKER} is not set and mosquitto is not installed "
            f"(apt-get install mosquitto, or set {ENV_BROKER}=127.0.0.1:<port>; "
            "scripts/test does both)"
        )
    with mosquitto(binary) as address:
        yield address


def publish(address: BrokerAddress, messages: Sequence[tuple[str, str, bool]]) -> None:
    """Publish ``(topic, payload, retain)`` in order from a fresh client, QoS 1.

    Returns once the broker has acknowledged every message. Blocking: call it
    from an executor thread.
    """
    paho_publish.multiple(
        [
            {"topic": topic, "payload": payload, "qos": 1, "retain": retain}
            for topic, payload, retain in messages
        ],
        hostname=address.host,
        port=address.port,
    )
