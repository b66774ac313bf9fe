"""The indexed incident book answers as the book does (pure, no Home Assistant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random

import pytest

from custom_components.silver_bell.core.hub.incidents import HubIncidentBook
from custom_components.silver_bell.core.hub.open_index import IndexedIncidentBook
from custom_components.silver_bell.core.hub.records import HubIncident
from custom_components.silver_bell.core.models import IncidentKind, IncidentState

T0 = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
KINDS = (IncidentKind.FIRE, IncidentKind.HELP, IncidentKind.SENSOR_FAULT)
HOUSEHOLDS = ("hh_a", "hh_b", "hh_c")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def _key(incident: HubIncident | None) -> tuple | None:
    """The same incident in both books (their ids are random)."""
    if incident is None:
        return None
    return (incident.kind, incident.created_at, tuple(incident.source_ids))


def _same(plain: HubIncidentBook, indexed: HubIncidentBook) -> None:
    for household_id in HOUSEHOLDS:
        for kind in KINDS:
            a = plain.open_for_household(household_id, kind)
            b = indexed.open_for_household(household_id, kind)
            assert _key(a) == _key(b)
        a, b = plain.open_offline(household_id), indexed.open_offline(household_id)
        assert _key(a) == _key(b)


def test_the_same_answers_through_a_random_day() -> None:
    """Messages, merges, resolutions, offline and back, a restore: the same answers."""
    rng = random.Random(18)  # noqa: S311 - a repeatable test, not a secret
    plain, indexed = HubIncidentBook(), IndexedIncidentBook()
    now = T0
    for step in range(600):
        now += timedelta(seconds=rng.randint(1, 90))
        household_id = rng.choice(HOUSEHOLDS)
        roll = rng.random()
        if roll < 0.1:
            for book in (plain, indexed):
                book.household_offline(household_id, now)
        elif roll < 0.2:
            for book in (plain, indexed):
                book.household_online(household_id, now)
        else:
            source = f"s{rng.randint(0, step // 3 + 1)}-{household_id}"
            existing = plain.by_source(source)
            seq = (existing.source_ids[source] + 1) if existing else 1
            state = rng.choice(
                (IncidentState.OPEN, IncidentState.RESOLVED, IncidentState.OPEN)
            )
            kind = rng.choice(KINDS)
            details = {"reason": "offline"} if rng.random() < 0.05 else {}
            for book in (plain, indexed):
                book.apply(
                    household_id,
                    source_id=source,
                    seq=seq,
                    kind=existing.kind if existing else kind,
                    state=state,
                    details=details,
                    now=now,
                )
        _same(plain, indexed)
    assert [_key(i) for i in plain.active] == [_key(i) for i in indexed.active]
    assert any(len(i.source_ids) > 1 for i in plain.incidents)  # merges happened
    assert sum(i.offline for i in plain.incidents) > 3  # offline and back, often
    # Restored from storage, the index starts from the stored incidents.
    restored = IndexedIncidentBook.from_dict(indexed.as_dict())
    assert isinstance(restored, IndexedIncidentBook)
    again = HubIncidentBook.from_dict(plain.as_dict())
    _same(again, restored)


def test_the_index_forgets_closed_incidents() -> None:
    book = IndexedIncidentBook()
    incident, _ = book.household_offline("hh_a", T0)
    assert book.open_offline("hh_a") is incident
    assert book.household_online("hh_a", T0) is incident
    assert book.open_offline("hh_a") is None
    assert book.open_for_household("hh_a", IncidentKind.FIRE) is None
    assert book._open_by_household == {}
