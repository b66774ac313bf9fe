"""The hub's ledger repository, without Home Assistant: SQLite and the in-memory twin.

Also the pure side of "only what changed is written": the ledger and the
incident book name the records each change touched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import sqlite3
from typing import Any

import pytest

from custom_components.silver_bell.core.hub.incidents import HubIncidentBook
from custom_components.silver_bell.core.hub.ledger import Ledger
from custom_components.silver_bell.core.hub.people import (
    ERASED,
    HouseholdRecord,
    Role,
    Volunteer,
)
from custom_components.silver_bell.hub.repository import (
    SCHEMA_VERSION,
    Changes,
    IncidentRow,
    MemoryRepository,
    Repository,
    SchemaTooNewError,
    Snapshot,
    SqliteRepository,
    erase_from_store,
)

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _ledger(households: int = 3) -> Ledger:
    ledger = Ledger()
    ledger.add_volunteer(
        Volunteer(
            id="v-wang",
            name="Wang Fang",
            phone="13800000001",
            notify=["mobile_app_wang"],
            role=Role.VOLUNTEER,
        )
    )
    for number in range(households):
        ledger.add_household(
            HouseholdRecord(
                id=f"hh_{number:05d}",
                elder_name=f"Elder {number}",
                address=f"{number} Jinhua Road",
                phone="13900000000",
                volunteers=["v-wang"],
            ),
            now=NOW,
        )
    ledger.take_changes()
    return ledger


def _book() -> HubIncidentBook:
    book = HubIncidentBook()
    for number in range(3):
        book.apply(
            f"hh_{number:05d}",
            source_id=f"src{number}",
            seq=1,
            kind="help",
            state="open",
            now=NOW + timedelta(minutes=number),
        )
    return book


def _snapshot(ledger: Ledger, book: HubIncidentBook) -> Snapshot:
    return Snapshot.from_store(
        {
            "ledger": ledger.as_dict(),
            "incidents": book.as_dict(),
            "heartbeats": {"hh_00000": NOW.isoformat()},
        }
    )


@pytest.fixture(params=["sqlite", "memory"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Each implementation of the repository contract."""
    if request.param == "memory":
        yield MemoryRepository()
        return
    repository = SqliteRepository(tmp_path / "ledger.db")
    yield repository
    repository.close()


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def test_initialise_then_load_round_trips(repo: Repository) -> None:
    ledger, book = _ledger(), _book()
    assert not repo.initialised()
    repo.initialise(_snapshot(ledger, book))
    assert repo.initialised()
    loaded = repo.load()
    assert _by_id(loaded.households) == _by_id(ledger.as_dict()["households"])
    assert _by_id(loaded.volunteers) == _by_id(ledger.as_dict()["volunteers"])
    # Incidents come back in the order they arrived (the statistics rely on it).
    assert loaded.incidents == book.as_dict()["incidents"]
    assert loaded.heartbeats == {"hh_00000": NOW.isoformat()}
    again = Ledger.from_dict(
        {"households": loaded.households, "volunteers": loaded.volunteers}
    )
    assert again.as_dict() == ledger.as_dict()


def test_writes_upsert_and_delete_only_what_they_name(repo: Repository) -> None:
    ledger, book = _ledger(), _book()
    repo.initialise(_snapshot(ledger, book))
    first = book.incidents[0]
    repo.write(
        Changes(
            households={"hh_00001": {**ledger.households["hh_00001"].as_dict()}},
            households_removed={"hh_00002"},
            incidents_removed={first.id},
            heartbeats={"hh_00001": NOW.isoformat()},
            heartbeats_removed={"hh_00000"},
        )
    )
    loaded = repo.load()
    assert sorted(item["id"] for item in loaded.households) == [
        "hh_00000",
        "hh_00001",
    ]
    assert [item["id"] for item in loaded.incidents] == [
        item.id for item in book.incidents[1:]
    ]
    assert loaded.heartbeats == {"hh_00001": NOW.isoformat()}
    assert len(loaded.volunteers) == 1


def test_queries_for_open_incidents_statistics_and_export(repo: Repository) -> None:
    book = _book()
    book.resolve(book.incidents[0].id, "v-wang", "false_alarm", NOW)
    repo.initialise(_snapshot(_ledger(), book))
    assert [item["id"] for item in repo.open_incidents()] == [
        item.id for item in book.incidents[1:]
    ]
    since = NOW + timedelta(minutes=1)
    assert [item["id"] for item in repo.incidents_since(since)] == [
        item.id for item in book.incidents[1:]
    ]
    assert [item["id"] for item in repo.household_incidents("hh_00000")] == [
        book.incidents[0].id
    ]


def test_the_queries_use_the_indexes(tmp_path: Path) -> None:
    repo = SqliteRepository(tmp_path / "ledger.db")
    for sql, index in (
        ("SELECT body FROM incidents WHERE state IN ('open', 'acknowledged')", "state"),
        ("SELECT body FROM incidents WHERE created_at >= ''", "created"),
        ("SELECT body FROM incidents WHERE resolved_at < ''", "resolved"),
        ("SELECT body FROM incidents WHERE household_id = ''", "household"),
    ):
        assert f"incidents_{index}" in repo.explain(sql)
    repo.close()


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    repo = SqliteRepository(tmp_path / "ledger.db")
    repo.initialise(_snapshot(_ledger(), _book()))
    before = repo.load()
    bad = IncidentRow.of(_book().incidents[0].as_dict())
    with pytest.raises(TypeError):
        repo.write(
            Changes(
                households_removed={"hh_00000"},
                incidents={"x": IncidentRow(**{**_fields(bad), "body": {"x": {1, 2}}})},
            )
        )
    assert repo.load() == before
    repo.close()


def _fields(row: IncidentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "household_id": row.household_id,
        "state": row.state,
        "created_at": row.created_at,
        "resolved_at": row.resolved_at,
        "body": row.body,
    }


def test_the_file_survives_reopening_and_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    repo = SqliteRepository(path)
    repo.initialise(_snapshot(_ledger(), _book()))
    repo.write(Changes(heartbeats={"hh_00002": NOW.isoformat()}))
    # No close: as after a crash, the last write is in the WAL only.
    other = SqliteRepository(path)
    assert other.initialised()
    assert other.schema_version() == SCHEMA_VERSION
    assert "hh_00002" in other.load().heartbeats
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()
    repo.close()


def test_an_older_schema_is_migrated_a_newer_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as raw:  # an empty file: schema 0
        raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    repo = SqliteRepository(path)
    assert repo.schema_version() == SCHEMA_VERSION
    assert not repo.initialised()
    repo.close()
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE meta SET value=? WHERE key='schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    raw.close()
    with pytest.raises(SchemaTooNewError):
        SqliteRepository(path)


def test_erased_text_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    repo = SqliteRepository(path)
    ledger = _ledger()
    repo.initialise(_snapshot(ledger, _book()))
    repo.checkpoint()
    assert b"Elder 1" in path.read_bytes()
    ledger.erase_person("hh_00001")
    households, _ = ledger.take_changes()
    assert households == {"hh_00001"}
    repo.write(
        Changes(households={"hh_00001": ledger.households["hh_00001"].as_dict()})
    )
    repo.checkpoint()
    assert b"Elder 1" not in path.read_bytes()
    assert b"1 Jinhua Road" not in path.read_bytes()
    repo.close()


def test_store_snapshot_of_nothing_or_rubbish_is_empty() -> None:
    assert Snapshot.from_store(None) == Snapshot()
    assert Snapshot.from_store({"ledger": [], "incidents": "x"}) == Snapshot()


# --------------------------------------------------- what a change marks


def test_the_ledger_names_each_changed_record() -> None:
    ledger = _ledger(2000)
    ledger.rotate_secret("hh_01999")
    assert ledger.take_changes() == ({"hh_01999"}, set())
    ledger.revoke("hh_00001")
    ledger.update_household(ledger.households["hh_00002"])
    ledger.remove_household("hh_00003")
    assert ledger.take_changes() == ({"hh_00001", "hh_00002", "hh_00003"}, set())
    # Removing a volunteer changes the households they served.
    ledger.remove_volunteer("v-wang")
    households, volunteers = ledger.take_changes()
    assert volunteers == {"v-wang"}
    assert len(households) == 1999
    assert ledger.take_changes() == (set(), set())


def test_the_incident_book_names_each_changed_incident() -> None:
    book = _book()
    first, second, third = (item.id for item in book.incidents)
    assert book.take_changes() == {first, second, third}
    book.accept(first, "v-wang", NOW)
    book.on_the_way(first, "v-wang", NOW)
    assert book.take_changes() == {first}
    book.resolve(second, "v-wang", "false_alarm", NOW)
    book.set_resolution(second, "v-wang", "resident_ok", NOW)
    book.apply(
        "hh_00002", source_id="src2", seq=2, kind="help", state="resolved", now=NOW
    )
    assert book.take_changes() == {second, third}
    assert book.purge(NOW + timedelta(days=400), timedelta(days=365)) == 2
    assert book.take_changes() == {second, third}  # gone: deleted when written
    book.erase_household("hh_00000")
    assert book.take_changes() == {first}
    # Loaded from storage: nothing to write yet.
    assert HubIncidentBook.from_dict(book.as_dict()).take_changes() == set()


def test_erasing_from_the_store_kept_aside_touches_only_that_elder() -> None:
    """The pre-database Store document, with one elder erased as the database erases."""
    ledger, book = _ledger(), _book()
    book.apply(
        "hh_00001",
        source_id="src1",
        seq=2,
        kind="help",
        state="open",
        now=NOW + timedelta(minutes=5),
        details={"message": "Elder 1 fell in the kitchen"},
    )
    document = {
        "ledger": ledger.as_dict(),
        "incidents": book.as_dict(),
        "heartbeats": {"hh_00001": NOW.isoformat()},
        "something_newer": [1, 2],
    }
    erased = erase_from_store(document, "hh_00001")
    assert erased is not None
    text = repr(erased)
    assert "Elder 1" not in text
    assert "1 Jinhua Road" not in text
    households = _by_id(erased["ledger"]["households"])
    assert households["hh_00001"]["elder_name"] == ERASED
    assert households["hh_00001"]["revoked"] is True
    # Everyone else, and what this code does not know, is kept as it was written.
    for other in ("hh_00000", "hh_00002"):
        assert households[other] == _by_id(document["ledger"]["households"])[other]
    assert erased["ledger"]["volunteers"] == document["ledger"]["volunteers"]
    assert erased["heartbeats"] == document["heartbeats"]
    assert erased["something_newer"] == [1, 2]
    before = _by_id(document["incidents"]["incidents"])
    after = _by_id(erased["incidents"]["incidents"])
    assert list(after) == list(before)
    for incident_id, item in after.items():
        if item["household_id"] != "hh_00001":
            assert item == before[incident_id]
    # Someone registered after the upgrade, or no document at all: nothing to do.
    assert erase_from_store(document, "hh_99999") is None
    assert erase_from_store(None, "hh_00001") is None
    assert erase_from_store({"ledger": "rubbish"}, "hh_00001") is None
