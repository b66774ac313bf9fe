"""Where the hub's ledger lives: a small repository interface and its SQLite form.

The hub keeps its households, volunteers, incidents (each with its log: the
audit trail) and heartbeats in memory as domain objects (``ledger.py``,
``core/hub/incidents.py``); they are the read model. This module persists them: the
runtime hands over only what changed since the last write (:class:`Changes`),
so a change costs the same with 20 households or 20 000.

Plain Python (standard library only, no Home Assistant): the glue calls it in
the executor, one write at a time. :class:`SqliteRepository` is the real one
(WAL, one writer, schema versioned and migrated); :class:`MemoryRepository`
is the same contract in a dictionary, for tests of the pure logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
from pathlib import Path
import sqlite3
import threading
from typing import Any, Protocol

from ..core.hub.incidents import HubIncidentBook
from ..core.hub.ledger import Ledger

# The schema this code writes; older files are migrated on open (MIGRATIONS).
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident as stored: its indexed columns and the whole record."""

    id: str
    household_id: str
    state: str
    created_at: str
    resolved_at: str | None
    body: dict[str, Any]

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> IncidentRow:
        """The row of a serialised incident (``HubIncident.as_dict``)."""
        return cls(
            id=str(body["id"]),
            household_id=str(body["household_id"]),
            state=str(body["state"]),
            created_at=str(body["created_at"]),
            resolved_at=(
                None if body.get("resolved_at") is None else str(body["resolved_at"])
            ),
            body=dict(body),
        )


@dataclass(slots=True)
class Changes:
    """What one write stores: records to upsert and ids to delete, per table."""

    households: dict[str, dict[str, Any]] = field(default_factory=dict)
    households_removed: set[str] = field(default_factory=set)
    volunteers: dict[str, dict[str, Any]] = field(default_factory=dict)
    volunteers_removed: set[str] = field(default_factory=set)
    incidents: dict[str, IncidentRow] = field(default_factory=dict)
    incidents_removed: set[str] = field(default_factory=set)
    heartbeats: dict[str, str] = field(default_factory=dict)  # id -> ISO time
    heartbeats_removed: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        """Whether there is anything to write."""
        return any(
            (
                self.households,
                self.households_removed,
                self.volunteers,
                self.volunteers_removed,
                self.incidents,
                self.incidents_removed,
                self.heartbeats,
                self.heartbeats_removed,
            )
        )

    @property
    def size(self) -> int:
        """How many rows the write touches."""
        return (
            len(self.households)
            + len(self.households_removed)
            + len(self.volunteers)
            + len(self.volunteers_removed)
            + len(self.incidents)
            + len(self.incidents_removed)
            + len(self.heartbeats)
            + len(self.heartbeats_removed)
        )


@dataclass(slots=True)
class Snapshot:
    """Everything stored, in the shapes of the domain objects' ``as_dict``."""

    households: list[dict[str, Any]] = field(default_factory=list)
    volunteers: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    heartbeats: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_store(cls, data: Any) -> Snapshot:
        """The whole-document Store of releases before the database (best effort)."""
        if not isinstance(data, Mapping):
            return cls()
        ledger = _mapping(data.get("ledger"))
        incidents = _mapping(data.get("incidents"))
        heartbeats = data.get("heartbeats")
        return cls(
            households=[dict(item) for item in ledger.get("households") or ()],
            volunteers=[dict(item) for item in ledger.get("volunteers") or ()],
            incidents=[dict(item) for item in incidents.get("incidents") or ()],
            heartbeats={
                str(key): str(value)
                for key, value in (
                    heartbeats.items() if isinstance(heartbeats, Mapping) else ()
                )
                if isinstance(value, str)
            },
        )

    def as_store(self) -> dict[str, Any]:
        """The Store document of the same data (what releases before wrote)."""
        return {
            "ledger": {"households": self.households, "volunteers": self.volunteers},
            "incidents": {"incidents": self.incidents},
            "heartbeats": dict(self.heartbeats),
        }

    def as_changes(self) -> Changes:
        """Every record as an upsert (the one-time import of a Store)."""
        return Changes(
            households={str(item["id"]): item for item in self.households},
            volunteers={str(item["id"]): item for item in self.volunteers},
            incidents={
                row.id: row for row in (IncidentRow.of(item) for item in self.incidents)
            },
            heartbeats=dict(self.heartbeats),
        )


def erase_from_store(data: Any, household_id: str) -> dict[str, Any] | None:
    """A Store document of earlier releases with one elder erased; None if not in it.

    The upgrade keeps that document aside (a downgrade can still read it), so an
    erasure must reach it too: the household's record and its incidents are
    erased exactly as ``Ledger.erase_person`` and ``HubIncidentBook.erase_household``
    erase them in the database; every other record is left as it was written.
    """
    if not isinstance(data, Mapping):
        return None
    ledger_doc = _mapping(data.get("ledger"))
    households = [
        item for item in ledger_doc.get("households") or () if isinstance(item, Mapping)
    ]
    if not any(item.get("id") == household_id for item in households):
        return None
    ledger = Ledger.from_dict(
        {"households": [item for item in households if item.get("id") == household_id]}
    )
    ledger.erase_person(household_id)
    erased = ledger.households[household_id].as_dict()
    incidents_doc = _mapping(data.get("incidents"))
    incidents = [
        item
        for item in incidents_doc.get("incidents") or ()
        if isinstance(item, Mapping)
    ]
    book = HubIncidentBook.from_dict(
        {
            "incidents": [
                item for item in incidents if item.get("household_id") == household_id
            ]
        }
    )
    book.erase_household(household_id)
    scrubbed = {item["id"]: item for item in book.as_dict()["incidents"]}
    return {
        **data,
        "ledger": {
            **ledger_doc,
            "households": [
                erased if item.get("id") == household_id else dict(item)
                for item in households
            ],
        },
        "incidents": {
            **incidents_doc,
            "incidents": [
                scrubbed.get(str(item.get("id")), dict(item))
                if item.get("household_id") == household_id
                else dict(item)
                for item in incidents
            ],
        },
    }


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class Repository(Protocol):
    """The ledger's storage as the hub uses it (blocking: call it in the executor)."""

    def initialised(self) -> bool:
        """Whether the ledger was ever written (False: a new one, or to import)."""

    def initialise(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` and mark the ledger initialised, all or nothing."""

    def load(self) -> Snapshot:
        """Everything stored."""

    def write(self, changes: Changes) -> None:
        """Apply ``changes`` all or nothing; durable when it returns."""

    def open_incidents(self) -> list[dict[str, Any]]:
        """The incidents not closed (the open-incident view), oldest first."""

    def incidents_since(self, since: datetime) -> list[dict[str, Any]]:
        """The incidents created at or after ``since`` (statistics), oldest first."""

    def household_incidents(self, household_id: str) -> list[dict[str, Any]]:
        """One household's incidents (the per-elder export), oldest first."""

    def checkpoint(self) -> None:
        """Fold everything into the main file (before a backup, after an erase)."""

    def close(self) -> None:
        """Release the file."""


# States of an incident that still needs somebody (``IncidentState``'s active ones).
OPEN_STATES = ("open", "acknowledged")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class MemoryRepository:
    """The repository contract in memory (tests of the pure logic, benchmarks)."""

    def __init__(self) -> None:
        """Start empty and not initialised."""
        self.done = False
        self.households: dict[str, str] = {}
        self.volunteers: dict[str, str] = {}
        self.incidents: dict[str, IncidentRow] = {}
        self.heartbeats: dict[str, str] = {}
        self.writes = 0

    def initialised(self) -> bool:
        """Whether the ledger was ever written."""
        return self.done

    def initialise(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` and mark the ledger initialised."""
        self.write(snapshot.as_changes())
        self.done = True

    def write(self, changes: Changes) -> None:
        """Apply ``changes`` (JSON round trip, as the database would)."""
        self.writes += 1
        for table, upserts, removed in (
            (self.households, changes.households, changes.households_removed),
            (self.volunteers, changes.volunteers, changes.volunteers_removed),
        ):
            for key in removed:
                table.pop(key, None)
            table.update((key, _dumps(value)) for key, value in upserts.items())
        for key in changes.incidents_removed:
            self.incidents.pop(key, None)
        for key, row in changes.incidents.items():
            self.incidents[key] = IncidentRow.of(json.loads(_dumps(row.body)))
        for key in changes.heartbeats_removed:
            self.heartbeats.pop(key, None)
        self.heartbeats.update(changes.heartbeats)

    def load(self) -> Snapshot:
        """Everything stored."""
        return Snapshot(
            households=[json.loads(item) for item in self.households.values()],
            volunteers=[json.loads(item) for item in self.volunteers.values()],
            incidents=[dict(row.body) for row in self._incidents(lambda _row: True)],
            heartbeats=dict(self.heartbeats),
        )

    def _incidents(self, keep: Callable[[IncidentRow], bool]) -> list[IncidentRow]:
        return sorted(
            (row for row in self.incidents.values() if keep(row)),
            key=lambda row: (row.created_at, row.id),
        )

    def open_incidents(self) -> list[dict[str, Any]]:
        """The incidents not closed, oldest first."""
        return [
            row.body for row in self._incidents(lambda row: row.state in OPEN_STATES)
        ]

    def incidents_since(self, since: datetime) -> list[dict[str, Any]]:
        """The incidents created at or after ``since``, oldest first."""
        return [
            row.body
            for row in self._incidents(
                lambda row: datetime.fromisoformat(row.created_at) >= since
            )
        ]

    def household_incidents(self, household_id: str) -> list[dict[str, Any]]:
        """One household's incidents, oldest first."""
        return [
            row.body
            for row in self._incidents(lambda row: row.household_id == household_id)
        ]

    def checkpoint(self) -> None:
        """Nothing to fold."""

    def close(self) -> None:
        """Nothing to release."""


# Each migration brings the schema from version (index) to version (index + 1).
# Version 0 is an empty file. Add a function here for every schema change.
def _schema_1(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE households (id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        " WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE volunteers (id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        " WITHOUT ROWID"
    )
    # ``seq`` keeps the order incidents arrived in (the statistics read the
    # newest end); times are ISO 8601 in UTC, so text order is time order.
    db.execute(
        "CREATE TABLE incidents (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " id TEXT NOT NULL UNIQUE, household_id TEXT NOT NULL, state TEXT NOT NULL,"
        " created_at TEXT NOT NULL, resolved_at TEXT, body TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX incidents_household ON incidents (household_id)")
    db.execute("CREATE INDEX incidents_state ON incidents (state)")
    db.execute("CREATE INDEX incidents_created ON incidents (created_at)")
    db.execute("CREATE INDEX incidents_resolved ON incidents (resolved_at)")
    db.execute(
        "CREATE TABLE heartbeats (household_id TEXT PRIMARY KEY, seen_at TEXT NOT NULL)"
        " WITHOUT ROWID"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_schema_1,)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer release (refuse rather than damage it)."""


class SqliteRepository:
    """The ledger in one SQLite file (standard library ``sqlite3``).

    WAL journal, ``synchronous=FULL`` (a write is on disk when ``write``
    returns, also across a power cut) and ``secure_delete`` (erased personal
    data is overwritten, not just unlinked). One connection and one lock: one
    writer at a time, whichever executor thread calls.
    """

    def __init__(self, path: Path | str) -> None:
        """Open (and create or migrate) the file at ``path``."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------- schema
    def schema_version(self) -> int:
        """The schema version of the file."""
        with self._lock:
            return self._version()

    def _version(self) -> int:
        exists = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not exists:
            return 0
        row = self._db.execute(
            "SELECT value FROM meta WHERE key='schema_version'"
        ).fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)"
            )
            version = self._version()
            if version > len(MIGRATIONS):
                raise SchemaTooNewError(
                    f"{self.path} has schema {version}; this release knows"
                    f" {len(MIGRATIONS)}"
                )
            for step in MIGRATIONS[version:]:
                step(self._db)
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                (str(len(MIGRATIONS)),),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # -------------------------------------------------------------- writes
    def initialised(self) -> bool:
        """Whether the ledger was ever written (an import is part of that write)."""
        with self._lock:
            return (
                self._db.execute(
                    "SELECT 1 FROM meta WHERE key='initialised'"
                ).fetchone()
                is not None
            )

    def initialise(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` and mark the ledger initialised, in one transaction."""
        with self._lock, self._transaction():
            self._apply(snapshot.as_changes())
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('initialised', ?)",
                (datetime.now().astimezone().isoformat(),),
            )

    def write(self, changes: Changes) -> None:
        """Apply ``changes`` in one transaction."""
        if not changes:
            return
        with self._lock, self._transaction():
            self._apply(changes)

    def _apply(self, changes: Changes) -> None:
        db = self._db
        for table, upserts, removed in (
            ("households", changes.households, changes.households_removed),
            ("volunteers", changes.volunteers, changes.volunteers_removed),
        ):
            db.executemany(
                f"DELETE FROM {table} WHERE id=?",  # noqa: S608 - fixed names
                ((key,) for key in removed),
            )
            db.executemany(
                f"INSERT INTO {table} (id, body) VALUES (?, ?)"  # noqa: S608
                " ON CONFLICT (id) DO UPDATE SET body=excluded.body",
                ((key, _dumps(value)) for key, value in upserts.items()),
            )
        db.executemany(
            "DELETE FROM incidents WHERE id=?",
            ((key,) for key in changes.incidents_removed),
        )
        db.executemany(
            "INSERT INTO incidents"
            " (id, household_id, state, created_at, resolved_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " household_id=excluded.household_id, state=excluded.state,"
            " created_at=excluded.created_at, resolved_at=excluded.resolved_at,"
            " body=excluded.body",
            (
                (
                    row.id,
                    row.household_id,
                    row.state,
                    row.created_at,
                    row.resolved_at,
                    _dumps(row.body),
                )
                for row in changes.incidents.values()
            ),
        )
        db.executemany(
            "DELETE FROM heartbeats WHERE household_id=?",
            ((key,) for key in changes.heartbeats_removed),
        )
        db.executemany(
            "INSERT INTO heartbeats (household_id, seen_at) VALUES (?, ?)"
            " ON CONFLICT (household_id) DO UPDATE SET seen_at=excluded.seen_at",
            changes.heartbeats.items(),
        )

    # --------------------------------------------------------------- reads
    def load(self) -> Snapshot:
        """Everything stored (incidents in the order they arrived)."""
        with self._lock:
            db = self._db
            return Snapshot(
                households=_bodies(db.execute("SELECT body FROM households")),
                volunteers=_bodies(db.execute("SELECT body FROM volunteers")),
                incidents=_bodies(
                    db.execute("SELECT body FROM incidents ORDER BY seq")
                ),
                heartbeats=dict(
                    db.execute("SELECT household_id, seen_at FROM heartbeats")
                ),
            )

    def _select(self, where: str, params: Iterable[Any]) -> list[dict[str, Any]]:
        with self._lock:
            return _bodies(
                self._db.execute(
                    f"SELECT body FROM incidents WHERE {where} ORDER BY seq",  # noqa: S608
                    tuple(params),
                )
            )

    def open_incidents(self) -> list[dict[str, Any]]:
        """The incidents not closed, in the order they arrived (index on state)."""
        return self._select("state IN (?, ?)", OPEN_STATES)

    def incidents_since(self, since: datetime) -> list[dict[str, Any]]:
        """Incidents created at or after ``since`` (index on created_at).

        Stored times carry their UTC offset as written (``+00:00``), so the
        bound is given in UTC too.
        """
        return self._select("created_at >= ?", (_utc_text(since),))

    def household_incidents(self, household_id: str) -> list[dict[str, Any]]:
        """One household's incidents (index on household_id)."""
        return self._select("household_id = ?", (household_id,))

    def explain(self, sql: str, params: Iterable[Any] = ()) -> str:
        """SQLite's query plan (tests check that the queries use the indexes)."""
        with self._lock:
            rows = self._db.execute(f"EXPLAIN QUERY PLAN {sql}", tuple(params))
            return " | ".join(str(row[-1]) for row in rows)

    # ------------------------------------------------------------ upkeep
    def checkpoint(self) -> None:
        """Copy the WAL into the main file and empty it (TRUNCATE)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Checkpoint and close (the next open finds one file)."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.isoformat()
    return moment.astimezone(UTC).isoformat()


def _bodies(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    loads = json.loads
    return [loads(row[0]) for row in rows]


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
