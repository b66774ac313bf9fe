"""Pretend providers for the demo: a WeCom and a DingTalk group robot on 127.0.0.1.

The hub's own channels (custom_components/silver_bell/hub/channels.py) post to
the providers' webhooks; a channel's ``base_url`` option points them elsewhere.
This server stands in for both robots, so the demo and the real-process tests
can show a page going out through WeCom without the internet::

    POST /wecom?key=...                      (WeCom's /cgi-bin/webhook/send)
    POST /dingtalk?access_token=...&...      (DingTalk's /robot/send)

Each message is appended to the record file as one JSON line, like the pretend
phones' ``pushes.jsonl``: ``wall`` (``time.time()`` when it arrived), ``robot``
(``wecom`` / ``dingtalk``), ``text`` (the message's text), ``mentioned`` (the
mobile numbers it @mentions) and ``body`` (the JSON as posted). The query (the
webhook key, the access token) is not recorded. Every message is answered
``{"errcode": 0, "errmsg": "ok"}``, as the real robots answer a delivered one.

Standard library only. In a program: ``PretendRobots(record).start()`` (a
daemon thread; ``.url("wecom")``, ``.stop()``); on its own (scripts/demo)::

    python demo/providers.py --port 8125 --record .demo/hub/robots.jsonl
"""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
from pathlib import Path
import threading
import time
from typing import Any
from urllib.parse import urlsplit

ROBOTS = ("wecom", "dingtalk")
MAX_BODY = 64 * 1024
OK = {"errcode": 0, "errmsg": "ok"}


def record_line(path: Path, entry: dict[str, Any]) -> None:
    """Append one message as a JSON line (one O_APPEND write, like the pretend phones)."""
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def entry_of(robot: str, body: dict[str, Any]) -> dict[str, Any]:
    """What is recorded of one message: its text and whom it @mentions."""
    text = body.get("text") if isinstance(body.get("text"), dict) else {}
    if robot == "wecom":
        mentioned = text.get("mentioned_mobile_list") or []
    else:
        at = body.get("at") if isinstance(body.get("at"), dict) else {}
        mentioned = at.get("atMobiles") or []
    return {
        "wall": time.time(),
        "robot": robot,
        "text": str(text.get("content", "")),
        "mentioned": [str(number) for number in mentioned],
        "body": body,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the record is the log (and the query holds the robot's key)."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        robot = urlsplit(self.path).path.strip("/")
        if robot not in ROBOTS:
            self._answer(404, {"errcode": 404, "errmsg": "no such robot"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(413, {"errcode": 413, "errmsg": "too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # WeCom's own answer to a body that is not JSON.
            self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
            return
        record_line(self.server.record, entry_of(robot, body))
        self._answer(200, OK)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, record: Path) -> None:
        self.record = record
        super().__init__(("127.0.0.1", port), _Handler)


class PretendRobots:
    """The pretend WeCom and DingTalk robots, served from a daemon thread."""

    def __init__(self, record: Path, port: int = 0) -> None:
        """Prepare (nothing listens before start()); port 0: a free one."""
        self.record = Path(record)
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on (after start())."""
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    def url(self, robot: str) -> str:
        """A channel's ``base_url`` for ``wecom`` or ``dingtalk``."""
        return f"http://127.0.0.1:{self.port}/{robot}"

    def start(self) -> PretendRobots:
        """Listen on 127.0.0.1 and serve in a daemon thread."""
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self._server = _Server(self._port, self.record)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="pretend-robots", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (never raises)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def messages(self, robot: str | None = None) -> list[dict[str, Any]]:
        """Every message recorded so far (of one robot, or all)."""
        return read_record(self.record, robot)


def read_record(path: Path, robot: str | None = None) -> list[dict[str, Any]]:
    """The recorded messages of a record file (of one robot, or all)."""
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and robot in (None, entry.get("robot")):
            found.append(entry)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    server = _Server(args.port, args.record)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
