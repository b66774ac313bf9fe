"""Tests of scripts/export_history against tiny recorder databases and a fake REST API.

No Home Assistant runs: the recorder databases (current and old schema) are
built with sqlite3, the config directory holds hand-written ``.storage`` files,
and the REST API is a small http.server on 127.0.0.1 that answers like Home
Assistant's history, template and config endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
import importlib.machinery
import importlib.util
import io
import json
from pathlib import Path
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from types import ModuleType
from typing import Any
import urllib.parse

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "export_history"


def _load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("export_history", str(SCRIPT))
    spec = importlib.util.spec_from_loader("export_history", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["export_history"] = module
    loader.exec_module(module)
    return module


eh = _load()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: these tests need no Home Assistant."""


KITCHEN = "binary_sensor.kitchen_motion"
BEDROOM = "binary_sensor.bedroom_motion"
LIVING = "binary_sensor.living_motion"
HALL = "binary_sensor.hall_motion"
DOOR = "binary_sensor.front_door"
AWAY = "switch.grandma_li_away_mode"
TEMPERATURE = "sensor.living_room_temperature"
ZONE = "Asia/Shanghai"
TOKEN = "good-token"  # noqa: S105
HEADER = [
    "# Silver Bell event log v1 (any line starting with # is a comment; blank lines ignored)",
    "# timestamp,sensor,room[,role]",
]

# One day of a household (local time +08:00), listed per entity (not by time).
HISTORY: list[tuple[str, str, str]] = [
    (KITCHEN, "off", "2024-05-01T06:00:00+08:00"),
    (KITCHEN, "on", "2024-05-01T07:12:03+08:00"),
    (KITCHEN, "off", "2024-05-01T07:12:30+08:00"),
    (KITCHEN, "off", "2024-05-01T07:12:31+08:00"),  # repeat
    (KITCHEN, "on", "2024-05-01T07:30:00+08:00"),
    (KITCHEN, "on", "2024-05-01T07:30:05+08:00"),  # repeat
    (KITCHEN, "unavailable", "2024-05-01T08:00:00+08:00"),
    (KITCHEN, "on", "2024-05-01T08:05:00+08:00"),  # after unavailable: no event
    (KITCHEN, "off", "2024-05-01T09:00:00+08:00"),
    (KITCHEN, "unknown", "2024-05-01T09:10:00+08:00"),
    (KITCHEN, "off", "2024-05-01T09:20:00+08:00"),
    (KITCHEN, "on", "2024-05-01T09:30:00+08:00"),
    (KITCHEN, "off", "2024-05-01T21:00:00+08:00"),
    (BEDROOM, "off", "2024-05-01T05:00:00+08:00"),
    (BEDROOM, "on", "2024-05-01T06:55:00+08:00"),
    (BEDROOM, "off", "2024-05-01T07:00:00+08:00"),
    (BEDROOM, "on", "2024-05-01T07:30:00+08:00"),  # same second as the kitchen
    (BEDROOM, "off", "2024-05-01T07:31:00+08:00"),
    (DOOR, "off", "2024-05-01T06:00:00+08:00"),
    (DOOR, "on", "2024-05-01T07:40:10+08:00"),
    (DOOR, "off", "2024-05-01T07:41:00+08:00"),
    (DOOR, "unavailable", "2024-05-01T07:41:30+08:00"),
    (DOOR, "off", "2024-05-01T07:42:00+08:00"),  # after unavailable: no event
    (DOOR, "on", "2024-05-01T12:00:00+08:00"),
    (DOOR, "off", "2024-05-01T12:01:00+08:00"),
    (LIVING, "off", "2024-05-01T10:00:00+08:00"),
    (LIVING, "on", "2024-05-01T10:15:00+08:00"),
    (HALL, "off", "2024-05-01T10:20:00+08:00"),
    (HALL, "on", "2024-05-01T10:25:00+08:00"),
    (AWAY, "off", "2024-05-01T06:00:00+08:00"),
    (AWAY, "on", "2024-05-01T08:00:00+08:00"),
    (AWAY, "unavailable", "2024-05-01T09:00:00+08:00"),  # neither ends nor starts
    (AWAY, "on", "2024-05-01T09:01:00+08:00"),
    (AWAY, "off", "2024-05-01T11:30:00+08:00"),
    (AWAY, "on", "2024-05-01T20:00:00+08:00"),  # still away at the end
    (TEMPERATURE, "21.5", "2024-05-01T07:00:00+08:00"),
]

EXPECTED = [
    "2024-05-01T06:55:00+08:00,binary_sensor.bedroom_motion,Bedroom",
    "2024-05-01T07:12:03+08:00,binary_sensor.kitchen_motion,Kitchen",
    "2024-05-01T07:30:00+08:00,binary_sensor.bedroom_motion,Bedroom",
    "2024-05-01T07:30:00+08:00,binary_sensor.kitchen_motion,Kitchen",
    "2024-05-01T07:40:10+08:00,binary_sensor.front_door,Hallway,door_open",
    "2024-05-01T07:41:00+08:00,binary_sensor.front_door,Hallway,door_closed",
    "away,2024-05-01T08:00:00+08:00,2024-05-01T11:30:00+08:00",
    "2024-05-01T09:30:00+08:00,binary_sensor.kitchen_motion,Kitchen",
    '2024-05-01T10:15:00+08:00,binary_sensor.living_motion,"Living room, upstairs"',
    "2024-05-01T10:25:00+08:00,binary_sensor.hall_motion,",
    "2024-05-01T12:00:00+08:00,binary_sensor.front_door,Hallway,door_open",
    "2024-05-01T12:01:00+08:00,binary_sensor.front_door,Hallway,door_closed",
    "away,2024-05-01T20:00:00+08:00,2024-05-01T21:00:00+08:00",
]

AREAS = {
    KITCHEN: "Kitchen",
    BEDROOM: "Bedroom",
    DOOR: "Hallway",
    LIVING: "Living room, upstairs",
    HALL: None,
}

ENTITY_ARGS = ["--entity", KITCHEN, "--entity", BEDROOM, "--entity", LIVING]
ENTITY_ARGS += ["--entity", HALL, "--door", DOOR, "--away-entity", AWAY]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _rows(history: list[tuple[str, str, str]]) -> list[Any]:
    return [eh.StateRow(entity, state, _at(at)) for entity, state, at in history]


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


# --------------------------------------------------------------------------
# Fixtures: config directory and recorder databases
# --------------------------------------------------------------------------


def _storage(config_dir: Path, key: str, data: Any) -> None:
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    content = {"version": 1, "minor_version": 1, "key": key, "data": data}
    (storage / key).write_text(json.dumps(content), encoding="utf-8")


def _entry(title: str, data: dict[str, Any], domain: str = "silver_bell") -> Any:
    return {"entry_id": title, "domain": domain, "title": title, "data": data}


HOUSEHOLD = {
    "role": "household",
    "name": "Grandma Li",
    "activity_sensors": [KITCHEN, BEDROOM],
    "door_sensor": DOOR,
}


def _write_config(config_dir: Path, entries: list[Any] | None = None) -> None:
    _storage(
        config_dir,
        "core.area_registry",
        {
            "areas": [
                {"id": "kitchen", "name": "Kitchen"},
                {"id": "bedroom", "name": "Bedroom"},
                {"id": "hallway", "name": "Hallway"},
                {"id": "living", "name": "Living room, upstairs"},
                "not a record",
            ]
        },
    )
    _storage(
        config_dir,
        "core.device_registry",
        {
            "devices": [
                {"id": "dev_bedroom", "area_id": "bedroom"},
                {"id": "dev_door", "area_id": "hallway"},
                {"id": "dev_nowhere", "area_id": None},
            ]
        },
    )
    _storage(
        config_dir,
        "core.entity_registry",
        {
            "entities": [
                # The entity's own area wins over its device's.
                {
                    "entity_id": KITCHEN,
                    "area_id": "kitchen",
                    "device_id": "dev_bedroom",
                },
                {"entity_id": BEDROOM, "area_id": None, "device_id": "dev_bedroom"},
                {"entity_id": DOOR, "area_id": None, "device_id": "dev_door"},
                {"entity_id": LIVING, "area_id": "living", "device_id": None},
                {"entity_id": HALL, "area_id": None, "device_id": "dev_nowhere"},
                {"entity_id": "binary_sensor.ghost", "area_id": "deleted_area"},
            ]
        },
    )
    _storage(config_dir, "core.config", {"time_zone": ZONE, "latitude": 31.2})
    if entries is None:
        entries = [
            _entry("Grandma Li", HOUSEHOLD),
            _entry("Community hub", {"role": "hub", "hub_name": "Community hub"}),
            _entry("Kitchen light", {"role": "household"}, domain="hue"),
        ]
    _storage(config_dir, "core.config_entries", {"entries": entries})


def _current_db(path: Path, history: list[tuple[str, str, str]]) -> None:
    """Build a recorder database in the current schema (states_meta)."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE states_meta (metadata_id INTEGER PRIMARY KEY, entity_id TEXT)"
        )
        conn.execute(
            "CREATE TABLE states (state_id INTEGER PRIMARY KEY, entity_id TEXT, "
            "state TEXT, last_updated TEXT, last_updated_ts FLOAT, "
            "last_changed_ts FLOAT, metadata_id INTEGER)"
        )
        metadata: dict[str, int] = {}
        for entity_id, state, at in history:
            if entity_id not in metadata:
                cursor = conn.execute(
                    "INSERT INTO states_meta (entity_id) VALUES (?)", (entity_id,)
                )
                assert cursor.lastrowid is not None
                metadata[entity_id] = cursor.lastrowid
            conn.execute(
                "INSERT INTO states (state, last_updated_ts, metadata_id) VALUES (?, ?, ?)",
                (state, _at(at).timestamp(), metadata[entity_id]),
            )
        # Rows a real database may hold that carry nothing usable.
        conn.execute(
            "INSERT INTO states (state, last_updated_ts, metadata_id) VALUES (NULL, 1.0, ?)",
            (metadata[KITCHEN],),
        )
        conn.execute(
            "INSERT INTO states (state, last_updated_ts, metadata_id) VALUES ('on', NULL, ?)",
            (metadata[KITCHEN],),
        )
    conn.close()


def _legacy_db(path: Path, history: list[tuple[str, str, str]]) -> None:
    """Build a recorder database in the old schema (states.entity_id, text times)."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE states (state_id INTEGER PRIMARY KEY, domain TEXT, "
            "entity_id TEXT, state TEXT, last_changed DATETIME, last_updated DATETIME)"
        )
        for entity_id, state, at in history:
            stamp = _at(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            conn.execute(
                "INSERT INTO states (entity_id, state, last_updated) VALUES (?, ?, ?)",
                (entity_id, state, stamp),
            )
        conn.executemany(
            "INSERT INTO states (entity_id, state, last_updated) VALUES (?, ?, ?)",
            [
                (KITCHEN, None, "2024-05-01 00:00:00"),
                (KITCHEN, "on", "yesterday"),
                (KITCHEN, "on", None),
            ],
        )
    conn.close()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """Return a Home Assistant config directory with registries and a database."""
    directory = tmp_path / "config"
    _write_config(directory)
    _current_db(directory / "home-assistant_v2.db", HISTORY)
    return directory


# --------------------------------------------------------------------------
# Fake Home Assistant REST API
# --------------------------------------------------------------------------


class FakeHomeAssistant:
    """State behind the fake REST API, and the requests it received."""

    def __init__(self) -> None:
        """Start with the one-day history and the rooms above."""
        self.history = _rows(HISTORY)
        self.areas: dict[str, str | None] = dict(AREAS)
        self.config: Any = {"time_zone": ZONE, "version": "2024.3.3"}
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.fail: dict[str, tuple[int, bytes]] = {}
        self.url = ""

    def history_answer(self, start: datetime, query: dict[str, list[str]]) -> Any:
        """Answer like /api/history/period with minimal_response and no_attributes."""
        end = datetime.fromisoformat(query["end_time"][0])
        answer = []
        for entity_id in sorted(query["filter_entity_id"][0].split(",")):
            rows = sorted(
                (row for row in self.history if row.entity_id == entity_id),
                key=lambda row: row.at,
            )
            before = [row for row in rows if row.at <= start]
            states = []
            if before:  # the state at the start of the period, stamped with it
                states.append((before[-1].state, start))
            states += [(row.state, row.at) for row in rows if start < row.at < end]
            if not states:
                continue
            first_state, first_at = states[0]
            items: list[dict[str, Any]] = [
                {
                    "entity_id": entity_id,
                    "state": first_state,
                    "last_changed": first_at.astimezone(UTC).isoformat(),
                    "last_updated": first_at.astimezone(UTC).isoformat(),
                }
            ]
            items += [
                {"state": state, "last_changed": at.astimezone(UTC).isoformat()}
                for state, at in states[1:]
            ]
            answer.append(items)
        return answer


class Handler(BaseHTTPRequestHandler):
    """Answer the history, template and config endpoints of the fake."""

    fake: FakeHomeAssistant

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep the test output quiet."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self, method: str, body: Any) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.fake.requests.append((method, path, query, body))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, b"401: Unauthorized", "text/plain")
            return
        for prefix, (status, content) in self.fake.fail.items():
            if path.startswith(prefix):
                self._send(status, content, "text/plain")
                return
        if path == "/api/config":
            self._send(200, json.dumps(self.fake.config).encode(), "application/json")
        elif path.startswith("/api/history/period/") and method == "GET":
            start = datetime.fromisoformat(path.rsplit("/", 1)[1])
            answer = self.fake.history_answer(start, query)
            self._send(200, json.dumps(answer).encode(), "application/json")
        elif path == "/api/template" and method == "POST":
            match = re.fullmatch(
                r"\{\{ area_name\('([a-z0-9_.]+)'\) \}\}", body["template"]
            )
            assert match is not None
            self._send(200, str(self.fake.areas.get(match[1])).encode(), "text/plain")
        else:
            self._send(404, b"404: Not Found", "text/plain")

    def do_GET(self) -> None:
        """Answer a GET."""
        self._answer("GET", None)

    def do_POST(self) -> None:
        """Answer a POST with a JSON body."""
        length = int(self.headers.get("Content-Length", "0"))
        self._answer("POST", json.loads(self.rfile.read(length)))


@pytest.fixture
def fake_ha(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeHomeAssistant]:
    """Serve a fake Home Assistant REST API on 127.0.0.1 in a thread."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("HASS_TOKEN", raising=False)
    fake = FakeHomeAssistant()
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    server = HTTPServer(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-ha"
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _history_requests(
    fake: FakeHomeAssistant,
) -> list[tuple[str, dict[str, list[str]]]]:
    return [
        (path.rsplit("/", 1)[1], query)
        for method, path, query, _ in fake.requests
        if method == "GET" and path.startswith("/api/history/period/")
    ]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = eh.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------
# Recorder database
# --------------------------------------------------------------------------


def test_current_schema_with_config_dir(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole database, rooms from the registries, times in HA's zone."""
    code, out, err = _run(["--config-dir", str(config_dir), *ENTITY_ARGS], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == HEADER
    assert lines[2].startswith("# exported by export_history from ")
    assert lines[2].endswith("; time zone Asia/Shanghai")
    assert lines[3:] == EXPECTED
    assert err == (
        "export_history: 11 events from 5 of 5 entities, 2 away periods, 0.6 days "
        "(2024-05-01 to 2024-05-01, Asia/Shanghai) -> stdout\n"
    )


def test_legacy_schema_gives_the_same_log(
    tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old schema (states.entity_id, last_updated text) reads the same."""
    db = tmp_path / "old.db"
    _legacy_db(db, HISTORY)
    code, out, _ = _run(
        ["--db", str(db), "--config-dir", str(config_dir), *ENTITY_ARGS], capsys
    )
    assert code == 0
    assert _body(out) == EXPECTED


@pytest.mark.parametrize("builder", [_current_db, _legacy_db])
def test_window_uses_the_state_before_the_start(
    tmp_path: Path,
    config_dir: Path,
    builder: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The state before --start decides the first change; away is clipped."""
    db = tmp_path / "window.db"
    builder(db, HISTORY)
    code, out, _ = _run(
        [
            "--db",
            str(db),
            "--config-dir",
            str(config_dir),
            *ENTITY_ARGS,
            "--start",
            "2024-05-01T07:29:59",
            "--end",
            "2024-05-01T10:00:00+08:00",
        ],
        capsys,
    )
    assert code == 0
    assert _body(out) == [
        "2024-05-01T07:30:00+08:00,binary_sensor.bedroom_motion,Bedroom",
        "2024-05-01T07:30:00+08:00,binary_sensor.kitchen_motion,Kitchen",
        "2024-05-01T07:40:10+08:00,binary_sensor.front_door,Hallway,door_open",
        "2024-05-01T07:41:00+08:00,binary_sensor.front_door,Hallway,door_closed",
        "away,2024-05-01T08:00:00+08:00,2024-05-01T10:00:00+08:00",
        "2024-05-01T09:30:00+08:00,binary_sensor.kitchen_motion,Kitchen",
    ]
    # An away period already open at the start is clipped to the start.
    code, out, _ = _run(
        [
            "--db",
            str(db),
            "--config-dir",
            str(config_dir),
            "--entity",
            KITCHEN,
            "--away-entity",
            AWAY,
            "--start",
            "2024-05-01T10:00:00",
            "--end",
            "2024-05-01",
        ],
        capsys,
    )
    assert code == 0
    assert _body(out) == [
        "away,2024-05-01T10:00:00+08:00,2024-05-01T11:30:00+08:00",
        "away,2024-05-01T20:00:00+08:00,2024-05-02T00:00:00+08:00",
    ]


def test_db_without_config_dir_is_utc_without_rooms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --config-dir: UTC timestamps and empty rooms; --output writes a file."""
    db = tmp_path / "ha.db"
    _current_db(db, HISTORY)
    output = tmp_path / "log.csv"
    code, out, err = _run(
        [
            "--db",
            str(db),
            "--entity",
            KITCHEN,
            "--entity",
            DOOR,
            "--output",
            str(output),
        ],
        capsys,
    )
    assert code == 0
    assert out == ""
    assert err.endswith(f"-> {output}\n")
    assert "(2024-04-30 to 2024-05-01, UTC)" in err
    text = output.read_text(encoding="utf-8")
    assert text.splitlines()[:2] == HEADER
    assert _body(text) == [
        "2024-04-30T23:12:03+00:00,binary_sensor.kitchen_motion,",
        "2024-04-30T23:30:00+00:00,binary_sensor.kitchen_motion,",
        "2024-04-30T23:40:10+00:00,binary_sensor.front_door,",
        "2024-05-01T01:30:00+00:00,binary_sensor.kitchen_motion,",
        "2024-05-01T04:00:00+00:00,binary_sensor.front_door,",
    ]


def test_time_zone_option_and_config_without_zone(
    tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--time-zone wins; a config dir without core.config falls back to UTC."""
    argv = ["--config-dir", str(config_dir), "--entity", KITCHEN]
    code, out, _ = _run([*argv, "--time-zone", "Europe/Amsterdam"], capsys)
    assert code == 0
    assert (
        _body(out)[0]
        == "2024-05-01T01:12:03+02:00,binary_sensor.kitchen_motion,Kitchen"
    )
    (config_dir / ".storage" / "core.config").unlink()
    code, out, _ = _run(argv, capsys)
    assert code == 0
    assert (
        _body(out)[0]
        == "2024-04-30T23:12:03+00:00,binary_sensor.kitchen_motion,Kitchen"
    )
    _storage(config_dir, "core.config", {"time_zone": ""})
    code, out, _ = _run(argv, capsys)
    assert _body(out)[0].endswith("+00:00,binary_sensor.kitchen_motion,Kitchen")


def test_entities_from_silver_bell(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The household entry's activity sensors and door sensor are exported."""
    code, out, err = _run(
        ["--config-dir", str(config_dir), "--entities-from-silver-bell"], capsys
    )
    assert code == 0
    assert _body(out) == [
        line
        for line in EXPECTED
        if not line.startswith("away")
        and any(entity in line for entity in (KITCHEN, BEDROOM, DOOR))
    ]
    assert "from 3 of 3 entities" in err
    # --door replaces the entry's door sensor; --entity adds to the entry's sensors.
    code, out, _ = _run(
        [
            "--config-dir",
            str(config_dir),
            "--entities-from-silver-bell",
            "--door",
            LIVING,
            "--entity",
            HALL,
        ],
        capsys,
    )
    assert code == 0
    body = _body(out)
    assert (
        '2024-05-01T10:15:00+08:00,binary_sensor.living_motion,"Living room, upstairs",door_open'
        in body
    )
    assert "2024-05-01T10:25:00+08:00,binary_sensor.hall_motion," in body
    assert not any(DOOR in line for line in body)


def test_several_household_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several household entries need --entry-title."""
    config = tmp_path / "config"
    second = {"role": "household", "activity_sensors": [LIVING, 7]}
    _write_config(
        config, [_entry("Grandma Li", HOUSEHOLD), _entry("Uncle Wang", second)]
    )
    _current_db(config / "home-assistant_v2.db", HISTORY)
    argv = ["--config-dir", str(config), "--entities-from-silver-bell"]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err == (
        "export_history: error: several Silver Bell household entries "
        "('Grandma Li', 'Uncle Wang'); choose one with --entry-title\n"
    )
    code, out, _ = _run([*argv, "--entry-title", "Uncle Wang"], capsys)
    assert code == 0
    assert _body(out) == [
        '2024-05-01T10:15:00+08:00,binary_sensor.living_motion,"Living room, upstairs"'
    ]
    code, _, err = _run([*argv, "--entry-title", "Nobody"], capsys)
    assert code == 2
    assert "no Silver Bell household entry titled 'Nobody'" in err


def test_silver_bell_entry_parsing(tmp_path: Path) -> None:
    """Missing entries and odd data give clear errors or empty values."""
    config = tmp_path / "config"
    _write_config(config, [_entry("Hub", {"role": "hub"})])
    with pytest.raises(eh.UsageError, match="no Silver Bell household entry in"):
        eh.silver_bell_entities(config)
    with pytest.raises(eh.UsageError, match=r"titled 'X' \(found: none\)"):
        eh.silver_bell_entities(config, "X")
    _write_config(config, [_entry("A", {"role": "household", "door_sensor": ""})])
    assert eh.silver_bell_entities(config) == ([], None)
    _write_config(
        config,
        [_entry("A", {"role": "household", "activity_sensors": "x", "door_sensor": 3})],
    )
    assert eh.silver_bell_entities(config) == ([], None)


def test_silver_bell_entry_without_sensors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An entry without sensors and no --entity is a usage error."""
    config = tmp_path / "config"
    _write_config(config, [_entry("A", {"role": "household"})])
    code, _, err = _run(
        ["--config-dir", str(config), "--entities-from-silver-bell"], capsys
    )
    assert code == 2
    assert "no entities" in err


def test_unknown_entity_is_reported(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Entities without history are named in a warning; no events is still a log."""
    code, out, err = _run(
        [
            "--config-dir",
            str(config_dir),
            "--entity",
            "binary_sensor.ghost",
            "--away-entity",
            "switch.nothing",
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines()[:2] == HEADER
    assert _body(out) == []
    assert err == (
        "export_history: 0 events from 0 of 1 entities, 0 days -> stdout\n"
        "export_history: warning: no history for binary_sensor.ghost, switch.nothing\n"
    )


def test_registry_shapes(tmp_path: Path) -> None:
    """Registries without lists, unknown entities and unknown areas give empty rooms."""
    config = tmp_path / "config"
    _write_config(config)
    _storage(config, "core.device_registry", {"devices": "none"})
    rooms = eh.registry_areas(
        config, [KITCHEN, BEDROOM, "binary_sensor.ghost", "light.x"]
    )
    assert rooms == {
        KITCHEN: "Kitchen",
        BEDROOM: "",
        "binary_sensor.ghost": "",
        "light.x": "",
    }


# --------------------------------------------------------------------------
# REST API
# --------------------------------------------------------------------------


def test_api_one_day(
    fake_ha: FakeHomeAssistant, capsys: pytest.CaptureFixture[str]
) -> None:
    """The API gives the same log; rooms by template, zone from /api/config."""
    code, out, err = _run(
        [
            "--url",
            fake_ha.url + "/",
            "--token",
            TOKEN,
            *ENTITY_ARGS,
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-01",
        ],
        capsys,
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == HEADER
    assert lines[2] == (
        f"# exported by export_history from {fake_ha.url}; time zone Asia/Shanghai"
    )
    # The away period still open at the end closes at the end of the export.
    assert lines[3:] == [
        *EXPECTED[:-1],
        "away,2024-05-01T20:00:00+08:00,2024-05-02T00:00:00+08:00",
    ]
    assert "(2024-05-01 to 2024-05-02, Asia/Shanghai)" in err
    ((start, query),) = _history_requests(fake_ha)
    assert start == "2024-04-30T16:00:00Z"
    assert query == {
        "end_time": ["2024-05-01T16:00:00Z"],
        "filter_entity_id": [f"{KITCHEN},{BEDROOM},{LIVING},{HALL},{DOOR},{AWAY}"],
        "minimal_response": [""],
        "no_attributes": [""],
    }
    templates = [body for method, _, _, body in fake_ha.requests if method == "POST"]
    assert templates == [
        {"template": f"{{{{ area_name('{entity}') }}}}"}
        for entity in (KITCHEN, BEDROOM, LIVING, HALL, DOOR)
    ]


MULTI_DAY: list[tuple[str, str, str]] = [
    (KITCHEN, "off", "2024-04-28T06:00:00+08:00"),
    (KITCHEN, "on", "2024-05-02T07:00:00+08:00"),
    (KITCHEN, "off", "2024-05-02T07:05:00+08:00"),
    (KITCHEN, "on", "2024-05-07T23:00:00+08:00"),
    (KITCHEN, "off", "2024-05-07T23:10:00+08:00"),
    (KITCHEN, "on", "2024-05-09T08:00:00+08:00"),
    (KITCHEN, "off", "2024-05-09T08:01:00+08:00"),
    (KITCHEN, "on", "2024-05-17T09:00:00+08:00"),
    (KITCHEN, "on", "2024-05-22T09:00:00+08:00"),  # after the end
    (DOOR, "off", "2024-05-01T06:00:00+08:00"),
    (DOOR, "on", "2024-05-07T23:59:00+08:00"),  # open across a chunk boundary
    (DOOR, "off", "2024-05-08T00:30:00+08:00"),
    (DOOR, "on", "2024-05-15T10:00:00+08:00"),
    (DOOR, "off", "2024-05-15T10:01:00+08:00"),
    (AWAY, "off", "2024-05-01T06:00:00+08:00"),
    (AWAY, "on", "2024-05-07T23:59:30+08:00"),  # away across a chunk boundary
    (AWAY, "off", "2024-05-08T06:00:00+08:00"),
]


def test_api_chunks_of_seven_days(
    fake_ha: FakeHomeAssistant,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20 days are read in 3 requests; states spanning a boundary are not doubled."""
    fake_ha.history = _rows(MULTI_DAY)
    monkeypatch.setenv("HASS_TOKEN", TOKEN)
    code, out, err = _run(
        [
            "--url",
            fake_ha.url,
            "--entity",
            KITCHEN,
            "--door",
            DOOR,
            "--away-entity",
            AWAY,
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-20",
        ],
        capsys,
    )
    assert code == 0, err
    assert _body(out) == [
        "2024-05-02T07:00:00+08:00,binary_sensor.kitchen_motion,Kitchen",
        "2024-05-07T23:00:00+08:00,binary_sensor.kitchen_motion,Kitchen",
        "2024-05-07T23:59:00+08:00,binary_sensor.front_door,Hallway,door_open",
        "away,2024-05-07T23:59:30+08:00,2024-05-08T06:00:00+08:00",
        "2024-05-08T00:30:00+08:00,binary_sensor.front_door,Hallway,door_closed",
        "2024-05-09T08:00:00+08:00,binary_sensor.kitchen_motion,Kitchen",
        "2024-05-15T10:00:00+08:00,binary_sensor.front_door,Hallway,door_open",
        "2024-05-15T10:01:00+08:00,binary_sensor.front_door,Hallway,door_closed",
        "2024-05-17T09:00:00+08:00,binary_sensor.kitchen_motion,Kitchen",
    ]
    assert err == (
        "export_history: 8 events from 2 of 2 entities, 1 away period, 15.1 days "
        "(2024-05-02 to 2024-05-17, Asia/Shanghai) -> stdout\n"
    )
    assert [
        (start, query["end_time"][0]) for start, query in _history_requests(fake_ha)
    ] == [
        ("2024-04-30T16:00:00Z", "2024-05-07T16:00:00Z"),
        ("2024-05-07T16:00:00Z", "2024-05-14T16:00:00Z"),
        ("2024-05-14T16:00:00Z", "2024-05-20T16:00:00Z"),
    ]


def test_api_default_period_and_time_zone_option(
    fake_ha: FakeHomeAssistant,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Default: the last 30 days in 5 requests; --time-zone skips /api/config."""
    monkeypatch.setattr(
        eh, "_utcnow", lambda: datetime(2024, 5, 30, 20, 0, 0, 123456, tzinfo=UTC)
    )
    code, out, err = _run(
        [
            "--url",
            fake_ha.url,
            "--token",
            TOKEN,
            "--entity",
            KITCHEN,
            "--time-zone",
            "UTC",
        ],
        capsys,
    )
    assert code == 0, err
    assert (
        _body(out)[0]
        == "2024-04-30T23:12:03+00:00,binary_sensor.kitchen_motion,Kitchen"
    )
    requests = _history_requests(fake_ha)
    assert [start for start, _ in requests] == [
        "2024-04-30T20:00:00Z",
        "2024-05-07T20:00:00Z",
        "2024-05-14T20:00:00Z",
        "2024-05-21T20:00:00Z",
        "2024-05-28T20:00:00Z",
    ]
    assert requests[-1][1]["end_time"] == ["2024-05-30T20:00:00Z"]
    assert not any(path == "/api/config" for _, path, _, _ in fake_ha.requests)


def test_api_wrong_token(
    fake_ha: FakeHomeAssistant, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 401 answer is exit status 1 with a hint, and no traceback."""
    code, out, err = _run(
        ["--url", fake_ha.url, "--token", "wrong", "--entity", KITCHEN], capsys
    )
    assert code == 1
    assert out == ""
    assert err == (
        f"export_history: error: Home Assistant at {fake_ha.url} refused the token "
        "(HTTP 401 Unauthorized); use a long-lived access token from the user profile\n"
    )


@pytest.mark.parametrize(
    ("fail", "config", "message"),
    [
        (
            {
                "/api/history": (
                    500,
                    b"500 Internal Server Error\n\nServer got itself in trouble",
                )
            },
            None,
            "HTTP 500 Internal Server Error from {url}/api/history/period/",
        ),
        (
            {"/api/template": (400, b"")},
            None,
            "HTTP 400 Bad Request from {url}/api/template\n",
        ),
        (
            {"/api/config": (200, b"<html>")},
            None,
            "{url}/api/config did not answer JSON",
        ),
        ({}, {"version": "2024.3.3"}, "{url}/api/config has no time_zone"),
        ({}, ["not", "a", "dict"], "{url}/api/config has no time_zone"),
        (
            {},
            {"time_zone": "Mars/Olympus"},
            "{url}/api/config: unknown time zone: 'Mars/Olympus'",
        ),
        (
            {"/api/history": (200, b'{"not": "a list"}')},
            None,
            "answered something other than a list",
        ),
    ],
)
def test_api_errors(
    fake_ha: FakeHomeAssistant,
    capsys: pytest.CaptureFixture[str],
    fail: dict[str, tuple[int, bytes]],
    config: Any,
    message: str,
) -> None:
    """HTTP errors and odd answers are exit status 1 with a one-line message."""
    fake_ha.fail = fail
    if config is not None:
        fake_ha.config = config
    code, out, err = _run(
        [
            "--url",
            fake_ha.url,
            "--token",
            TOKEN,
            "--entity",
            KITCHEN,
            "--start",
            "2024-05-01",
        ],
        capsys,
    )
    assert code == 1
    assert out == ""
    assert err.startswith("export_history: error: ")
    assert message.format(url=fake_ha.url) in err
    assert "Traceback" not in err


def test_api_unreachable(
    capsys: pytest.CaptureFixture[str], socket_enabled: None
) -> None:
    """A refused connection is exit status 1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    code, _, err = _run(["--url", url, "--token", TOKEN, "--entity", KITCHEN], capsys)
    assert code == 1
    assert err.startswith(
        f"export_history: error: cannot reach Home Assistant at {url}: "
    )


def test_api_connection_dropped(socket_enabled: None) -> None:
    """A server that hangs up without answering is a SourceError."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def hang_up() -> None:
            connection, _ = listener.accept()
            connection.recv(65536)
            connection.close()

        thread = threading.Thread(target=hang_up)
        thread.start()
        try:
            with pytest.raises(eh.SourceError, match="failed"):
                eh.api_request(f"http://127.0.0.1:{port}", TOKEN, "/api/config")
        finally:
            thread.join()


def test_history_rows_skip_odd_items() -> None:
    """Empty lists, items without entity or time are skipped; last_updated is a fallback."""
    payload = [
        [],
        "junk",
        [{"state": "on", "last_changed": "2024-05-01T00:00:00+00:00"}],
        [
            {
                "entity_id": KITCHEN,
                "state": "off",
                "last_updated": "2024-05-01T00:00:00Z",
            },
            "junk",
            {"state": "on"},
            {"state": None, "last_changed": "2024-05-01T00:01:00+00:00"},
            {"state": "on", "last_changed": "2024-05-01T00:02:00+00:00"},
        ],
    ]
    assert eh._history_rows(payload) == [
        eh.StateRow(KITCHEN, "off", datetime(2024, 5, 1, tzinfo=UTC)),
        eh.StateRow(KITCHEN, "on", datetime(2024, 5, 1, 0, 2, tzinfo=UTC)),
    ]
    assert (
        eh.read_history_api(
            "http://unused",
            TOKEN,
            [],
            _at("2024-05-01T00:00:00+00:00"),
            _at("2024-05-02T00:00:00+00:00"),
        )
        == []
    )


# --------------------------------------------------------------------------
# Pure logic
# --------------------------------------------------------------------------


def test_to_events_rules() -> None:
    """Only reliable changes to on (door: open and closed) inside the window are events."""
    rows = _rows(HISTORY)
    events = eh.to_events(rows, [KITCHEN], {KITCHEN: "Kitchen"})
    assert [(event.at.isoformat(), event.role) for event in events] == [
        ("2024-05-01T07:12:03+08:00", ""),
        ("2024-05-01T07:30:00+08:00", ""),
        ("2024-05-01T09:30:00+08:00", ""),
    ]
    door_events = eh.to_events(
        rows, [], door=DOOR, end=_at("2024-05-01T12:00:00+08:00")
    )
    assert [
        (event.at.isoformat(), event.room, event.role) for event in door_events
    ] == [
        ("2024-05-01T07:40:10+08:00", "", "door_open"),
        ("2024-05-01T07:41:00+08:00", "", "door_closed"),
    ]
    # A door state other than on/off is not an event; non-door off is not either.
    odd = [
        eh.StateRow(DOOR, "off", _at("2024-05-01T00:00:00+00:00")),
        eh.StateRow(DOOR, "open", _at("2024-05-01T00:01:00+00:00")),
    ]
    assert eh.to_events(odd, [], door=DOOR) == []


def test_to_away_edges() -> None:
    """Periods closed by off, open ones closed at the end, empty ones dropped."""
    rows = [
        eh.StateRow(AWAY, "on", _at("2024-05-01T08:00:00+00:00")),
        eh.StateRow(AWAY, "on", _at("2024-05-01T08:30:00+00:00")),
        eh.StateRow(AWAY, "off", _at("2024-05-01T09:00:00+00:00")),
        eh.StateRow(AWAY, "off", _at("2024-05-01T09:30:00+00:00")),
        eh.StateRow(AWAY, "on", _at("2024-05-01T10:00:00+00:00")),
    ]
    assert eh.to_away(rows, AWAY, None, _at("2024-05-01T12:00:00+00:00")) == [
        eh.AwayPeriod(
            _at("2024-05-01T08:00:00+00:00"), _at("2024-05-01T09:00:00+00:00")
        ),
        eh.AwayPeriod(
            _at("2024-05-01T10:00:00+00:00"), _at("2024-05-01T12:00:00+00:00")
        ),
    ]
    # A period ending before the window and one opening at its end are dropped.
    assert (
        eh.to_away(
            rows,
            AWAY,
            _at("2024-05-01T09:15:00+00:00"),
            _at("2024-05-01T10:00:00+00:00"),
        )
        == []
    )
    assert (
        eh.to_away(rows, "switch.other", None, _at("2024-05-02T00:00:00+00:00")) == []
    )


def test_window_keeps_the_latest_row_before_the_start() -> None:
    """Old-schema rows come unsorted: the latest row before the start is kept."""
    rows = [
        eh.StateRow(KITCHEN, "on", _at("2024-05-01T05:00:00+00:00")),
        eh.StateRow(KITCHEN, "off", _at("2024-05-01T04:00:00+00:00")),
        eh.StateRow(KITCHEN, "off", _at("2024-05-01T07:00:00+00:00")),
        eh.StateRow(KITCHEN, "on", _at("2024-05-01T09:00:00+00:00")),
    ]
    start = _at("2024-05-01T06:00:00+00:00")
    end = _at("2024-05-01T09:00:00+00:00")
    assert eh._window(rows, start, end) == [rows[0], rows[2]]
    assert eh._window(rows, None, None) == rows


def test_write_log_quotes_and_sorts() -> None:
    """CSV quoting for rooms with commas or quotes; away lines before same-time events."""
    at = _at("2024-05-01T08:00:00+00:00")
    stream = io.StringIO()
    eh.write_log(
        stream,
        [
            eh.Event(at, KITCHEN, 'Mum\'s "big" kitchen'),
            eh.Event(at, BEDROOM, "Bed, room"),
        ],
        [eh.AwayPeriod(at, at + timedelta(hours=1))],
    )
    assert stream.getvalue().splitlines() == [
        *HEADER,
        "away,2024-05-01T08:00:00+00:00,2024-05-01T09:00:00+00:00",
        '2024-05-01T08:00:00+00:00,binary_sensor.bedroom_motion,"Bed, room"',
        '2024-05-01T08:00:00+00:00,binary_sensor.kitchen_motion,"Mum\'s ""big"" kitchen"',
    ]


def test_parse_moment_and_chunks() -> None:
    """Dates are local midnights (--end inclusive); chunks never exceed 7 days."""
    zone = eh.parse_zone(ZONE)
    assert (
        eh.parse_moment("2024-05-01", zone).isoformat() == "2024-05-01T00:00:00+08:00"
    )
    assert (
        eh.parse_moment("2024-05-01", zone, end=True).isoformat()
        == "2024-05-02T00:00:00+08:00"
    )
    assert (
        eh.parse_moment("2024-05-01T07:00Z", zone).isoformat()
        == "2024-05-01T07:00:00+00:00"
    )
    basic = eh.parse_moment("20240501", zone, end=True)
    assert basic.isoformat() == "2024-05-02T00:00:00+08:00"
    spaced = eh.parse_moment("2024-05-01 07:00", zone)
    assert spaced.isoformat() == "2024-05-01T07:00:00+08:00"
    start = _at("2024-05-01T00:00:00+00:00")
    assert eh.chunks(start, start + timedelta(days=7)) == [
        (start, start + timedelta(days=7))
    ]
    assert len(eh.chunks(start, start + timedelta(days=7, seconds=1))) == 2
    assert eh.chunks(start, start) == []


def test_unique_and_entity_ids() -> None:
    """Entity ids are lower-cased and checked; repeats are dropped in order."""
    assert eh.check_entity_id(" Binary_Sensor.Kitchen ") == "binary_sensor.kitchen"
    assert eh._unique(["b", "a", "b"]) == ["b", "a"]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--entity", KITCHEN],
            "choose a source: --db PATH, --config-dir DIR or --url URL",
        ),
        (
            ["--db", "x.db", "--url", "http://h:8123", "--entity", KITCHEN],
            "choose one source",
        ),
        (["--db", "{tmp}/missing.db", "--entity", KITCHEN], "no recorder database at"),
        (
            ["--config-dir", "{tmp}/nowhere", "--entity", KITCHEN],
            "no such config directory",
        ),
        (["--config-dir", "{tmp}", "--entity", KITCHEN], "no recorder database at"),
        (["--db", "{db}"], "no entities: give --entity"),
        (
            ["--db", "{db}", "--entity", "Kitchen Motion"],
            "not an entity id: 'Kitchen Motion'",
        ),
        (["--db", "{db}", "--entities-from-silver-bell"], "needs --config-dir"),
        (
            ["--db", "{db}", "--entity", KITCHEN, "--entry-title", "A"],
            "--entry-title only works",
        ),
        (
            ["--db", "{db}", "--entity", KITCHEN, "--time-zone", "Nowhere/City"],
            "unknown time zone",
        ),
        (
            ["--db", "{db}", "--entity", KITCHEN, "--start", "May 1st"],
            "not an ISO date",
        ),
        (
            ["--db", "{db}", "--entity", KITCHEN, "--end", "2024-13-01"],
            "not an ISO date",
        ),
        (
            [
                "--db",
                "{db}",
                "--entity",
                KITCHEN,
                "--start",
                "2024-05-02",
                "--end",
                "2024-05-01",
            ],
            "--start (2024-05-02T00:00:00+00:00) must be before --end (2024-05-02T00:00:00+00:00)",
        ),
        (
            ["--db", "{db}", "--entity", KITCHEN, "--output", "{tmp}/no/dir/log"],
            "cannot write",
        ),
        (
            ["--db", "{db}", "--config-dir", "{tmp}", "--entity", KITCHEN],
            "missing {tmp}/.storage/core.entity_registry",
        ),
        (
            ["--url", "ftp://h", "--token", "t", "--entity", KITCHEN],
            "not an http(s) URL",
        ),
        (
            ["--url", "http://h:8123", "--entity", KITCHEN],
            "needs --token or $HASS_TOKEN",
        ),
    ],
)
def test_usage_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    """Bad arguments and missing files are exit status 2 with a one-line message."""
    monkeypatch.delenv("HASS_TOKEN", raising=False)
    db = tmp_path / "ha.db"
    _current_db(db, HISTORY)
    values = {"tmp": str(tmp_path), "db": str(db)}
    code, out, err = _run([arg.format(**values) for arg in argv], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("export_history: error: ")
    assert message.format(**values) in err
    assert err.count("\n") == 1


def test_bad_storage_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unreadable or malformed .storage files are exit status 2."""
    config = tmp_path / "config"
    _write_config(config)
    _current_db(config / "home-assistant_v2.db", HISTORY)
    argv = ["--config-dir", str(config), "--entity", KITCHEN]
    (config / ".storage" / "core.area_registry").write_text(
        "{not json", encoding="utf-8"
    )
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert "cannot read" in err
    assert "core.area_registry" in err
    (config / ".storage" / "core.area_registry").write_text(
        '{"data": []}', encoding="utf-8"
    )
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert "core.area_registry has no 'data' object" in err
    _storage(config, "core.config", {"time_zone": "Atlantis/Capital"})
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert "unknown time zone: 'Atlantis/Capital'" in err


def test_database_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Files that are not recorder databases are exit status 1."""
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("hello, this is not a database" * 100, encoding="utf-8")
    code, _, err = _run(["--db", str(not_sqlite), "--entity", KITCHEN], capsys)
    assert code == 1
    assert err.startswith(f"export_history: error: cannot read {not_sqlite}: ")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    conn.close()
    code, _, err = _run(["--db", str(other), "--entity", KITCHEN], capsys)
    assert code == 1
    assert "is not a Home Assistant recorder database (no states table)" in err
    # A states table without the expected columns is a database error too.
    odd = tmp_path / "odd.db"
    with sqlite3.connect(odd) as conn:
        conn.execute("CREATE TABLE states (x)")
    conn.close()
    code, _, err = _run(["--db", str(odd), "--entity", KITCHEN], capsys)
    assert code == 1
    assert "no such column" in err


def test_read_recorder_is_read_only(tmp_path: Path) -> None:
    """The database is opened read-only, and no entities means no rows."""
    db = tmp_path / "ha.db"
    _current_db(db, HISTORY)
    before = db.read_bytes()
    assert eh.read_recorder(db, []) == []
    rows = eh.read_recorder(db, [TEMPERATURE])
    assert rows == [eh.StateRow(TEMPERATURE, "21.5", _at("2024-05-01T07:00:00+08:00"))]
    assert db.read_bytes() == before


def test_read_recorder_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database sqlite3 cannot open is a SourceError."""
    db = tmp_path / "ha.db"
    db.write_bytes(b"")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(eh.sqlite3, "connect", refuse)
    with pytest.raises(eh.SourceError, match="cannot open"):
        eh.read_recorder(db, [KITCHEN])


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown options are argparse's usage errors (exit status 2)."""
    with pytest.raises(SystemExit) as exc:
        eh.main(["--bogus"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_script_runs_as_a_program(tmp_path: Path, config_dir: Path) -> None:
    """The file is executable with a python3 shebang and exits with its status."""
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")
    assert SCRIPT.stat().st_mode & 0o111
    result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, str(SCRIPT), "--config-dir", str(config_dir), *ENTITY_ARGS],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert _body(result.stdout) == EXPECTED
    result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [
            sys.executable,
            str(SCRIPT),
            "--db",
            str(tmp_path / "none.db"),
            "--entity",
            KITCHEN,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == f"export_history: error: no recorder database at {tmp_path / 'none.db'}\n"
    )


def test_the_export_is_what_the_replay_reads() -> None:
    """Contract: every exported line parses with the replay's event-log parser."""
    from custom_components.silver_bell.core.monitor.replay import parse_event_log

    log = parse_event_log([*HEADER, *EXPECTED])
    assert len(log.events) == 11
    assert len(log.away) == 2
    assert log.has_door
    assert {event.room for event in log.events} >= {"Living room, upstairs", ""}
