"""Tests of the household's persistent outbox (pure, no Home Assistant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.silver_bell.core.household.outbox import (
    MAX_RETRY_AFTER,
    Outbox,
    OutboxItem,
    Outcome,
    classify,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PATH = "/api/silver_bell/v1/incidents"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def add(
    outbox: Outbox,
    incident_id: str | None,
    seq: int,
    now: datetime = T0,
) -> OutboxItem:
    item = outbox.add(
        incident_id=incident_id,
        seq=seq,
        method="post",
        path=PATH,
        body={"v": 1, "incident": {"id": incident_id, "seq": seq}},
        now=now,
    )
    assert item is not None
    return item


def ids(items: list[OutboxItem]) -> list[tuple[str | None, int]]:
    return [(item.incident_id, item.seq) for item in items]


# ------------------------------------------------------------------ classify
@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (None, Outcome.RETRY),
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (400, Outcome.DEAD),
        (401, Outcome.RETRY),
        (403, Outcome.DEAD),
        (404, Outcome.RETRY),
        (405, Outcome.DEAD),
        (408, Outcome.RETRY),
        (409, Outcome.DEAD),
        (413, Outcome.DEAD),
        (422, Outcome.DEAD),
        (425, Outcome.RETRY),
        (429, Outcome.RETRY),
        (499, Outcome.DEAD),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (599, Outcome.RETRY),
        (100, Outcome.RETRY),
        (302, Outcome.RETRY),
        (600, Outcome.RETRY),
    ],
)
def test_classify(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


# ------------------------------------------------------------------- queueing
def test_add_and_deliver() -> None:
    outbox = Outbox()
    item = add(outbox, "inc1", 0)
    assert item.method == "POST"
    assert (item.attempts, item.next_attempt, item.created_at) == (0, T0, T0)
    assert item.last_error is None
    assert outbox.pending == [item]
    assert outbox.due(T0) == [item]
    assert outbox.next_due() == T0
    assert outbox.oldest_pending_since() == T0
    outbox.delivered(item.id)
    assert outbox.pending == []
    assert outbox.due(T0) == []
    assert outbox.next_due() is None
    assert outbox.oldest_pending_since() is None


def test_add_is_idempotent_per_incident_version() -> None:
    outbox = Outbox()
    first = add(outbox, "inc1", 3)
    again = outbox.add(
        incident_id="inc1", seq=3, method="POST", path=PATH, body={}, now=T0
    )
    assert again is None
    assert outbox.pending == [first]
    # Non-incident messages are never coalesced.
    add(outbox, None, 0)
    add(outbox, None, 0)
    assert len(outbox.pending) == 3
    # Once delivered, the same version may be queued again.
    outbox.delivered(first.id)
    assert outbox.add(
        incident_id="inc1", seq=3, method="POST", path=PATH, body={}, now=T0
    )


def test_pending_and_dead_letters_are_copies() -> None:
    outbox = Outbox()
    add(outbox, "inc1", 0)
    outbox.pending.clear()
    outbox.dead_letters.append(outbox.pending[0])
    assert len(outbox.pending) == 1
    assert outbox.dead_letters == []


def test_due_gives_the_head_item_per_incident_oldest_first() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0, T0)
    add(outbox, "a", 1, T0 + timedelta(seconds=1))
    b0 = add(outbox, "b", 0, T0 + timedelta(seconds=2))
    n1 = add(outbox, None, 0, T0 + timedelta(seconds=3))
    n2 = add(outbox, None, 0, T0 + timedelta(seconds=4))
    assert outbox.due(T0 + timedelta(seconds=10)) == [a0, b0, n1, n2]
    # Items not yet created are not due before their time.
    assert outbox.due(T0) == [a0]


def test_lower_seq_is_queued_before_higher_seq_of_the_same_incident() -> None:
    outbox = Outbox()
    add(outbox, "a", 5)
    add(outbox, "b", 1)
    add(outbox, "a", 4)
    assert ids(outbox.pending) == [("a", 4), ("a", 5), ("b", 1)]


def test_ordering_per_incident_across_failures() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0)
    a1 = add(outbox, "a", 1)
    b0 = add(outbox, "b", 0)
    assert outbox.due(T0) == [a0, b0]
    # a0 fails (hub unreachable); b0 goes through.
    outbox.failed(a0.id, T0, error="unreachable")
    outbox.delivered(b0.id)
    b1 = add(outbox, "b", 1, T0 + timedelta(seconds=1))
    # a1 still waits for a0 although it was due long ago; b proceeds.
    assert outbox.due(T0 + timedelta(seconds=1)) == [b1]
    assert outbox.next_due() == T0 + timedelta(seconds=1)
    outbox.delivered(b1.id)
    assert outbox.next_due() == T0 + timedelta(seconds=5)
    assert outbox.due(T0 + timedelta(seconds=4)) == []
    # a0 fails again, then succeeds: only then a1 is sent.
    outbox.failed(a0.id, T0 + timedelta(seconds=5), error="500")
    assert outbox.due(T0 + timedelta(seconds=14)) == []
    assert outbox.due(T0 + timedelta(seconds=15)) == [a0]
    outbox.delivered(a0.id)
    assert outbox.due(T0 + timedelta(seconds=15)) == [a1]
    outbox.delivered(a1.id)
    assert outbox.pending == []


def test_hub_unreachable_then_back_delivers_everything_in_order_once() -> None:
    outbox = Outbox()
    now = T0
    for seq in range(3):
        add(outbox, "a", seq, now)
        add(outbox, "b", seq, now)
    sent: list[tuple[str | None, int]] = []
    for _ in range(6):  # an hour of outage
        for item in outbox.due(now):
            outbox.failed(item.id, now, error="unreachable")
        now = outbox.next_due() or now
    while outbox.pending:
        for item in outbox.due(now):
            sent.append((item.incident_id, item.seq))
            outbox.delivered(item.id)
        now += timedelta(seconds=1)
    assert [s for s in sent if s[0] == "a"] == [("a", 0), ("a", 1), ("a", 2)]
    assert [s for s in sent if s[0] == "b"] == [("b", 0), ("b", 1), ("b", 2)]
    assert len(sent) == 6


# -------------------------------------------------------------------- backoff
def test_backoff_doubles_and_is_capped() -> None:
    outbox = Outbox()
    item = add(outbox, "a", 0)
    delays = []
    for _ in range(9):
        outbox.failed(item.id, T0, error="unreachable")
        delays.append((item.next_attempt - T0).total_seconds())
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert item.attempts == 9
    assert item.last_error == "unreachable"
    # Far beyond any cap: no overflow.
    item.attempts = 10_000
    outbox.failed(item.id, T0, error="unreachable")
    assert item.next_attempt == T0 + timedelta(minutes=5)
    assert outbox.backoff(0) == timedelta(seconds=5)


def test_backoff_settings_and_jitter() -> None:
    values = iter([0.0, 1.0, 0.5, 7.0, -3.0])
    outbox = Outbox(
        base_backoff=timedelta(seconds=2),
        max_backoff=timedelta(seconds=60),
        jitter=lambda: next(values),
    )
    item = add(outbox, "a", 0)
    delays = []
    for _ in range(5):
        outbox.failed(item.id, T0, error="x")
        delays.append((item.next_attempt - T0).total_seconds())
    # 2, 4, 8, 16, 32 shortened by jitter/2 (jitter clamped to [0, 1]).
    assert delays == [2.0, 2.0, 6.0, 8.0, 32.0]


@pytest.mark.parametrize(
    ("base", "cap"),
    [(timedelta(0), timedelta(1)), (timedelta(seconds=10), timedelta(seconds=5))],
)
def test_backoff_arguments(base: timedelta, cap: timedelta) -> None:
    with pytest.raises(ValueError):
        Outbox(base_backoff=base, max_backoff=cap)


def test_retry_after_is_honoured_and_capped() -> None:
    outbox = Outbox(jitter=lambda: 1.0)
    item = add(outbox, "a", 0)
    outbox.failed(item.id, T0, error="429 rate_limited", retry_after=12.5)
    assert item.next_attempt == T0 + timedelta(seconds=12.5)
    outbox.failed(item.id, T0, error="429 rate_limited", retry_after=86_400)
    assert item.next_attempt == T0 + MAX_RETRY_AFTER
    outbox.failed(item.id, T0, error="503", retry_after=-5)
    assert item.next_attempt == T0
    # A nonsensical value falls back to the backoff (4th failure: 40 s, halved).
    outbox.failed(item.id, T0, error="503", retry_after=float("nan"))
    assert item.next_attempt == T0 + timedelta(seconds=20)
    outbox.failed(item.id, T0, error="503", retry_after=float("inf"))
    assert item.next_attempt == T0 + timedelta(seconds=40)
    assert item.attempts == 5


def test_unknown_ids_are_ignored() -> None:
    outbox = Outbox()
    item = add(outbox, "a", 0)
    outbox.delivered("nope")
    outbox.failed("nope", T0, error="x")
    outbox.discard_dead("nope")
    outbox.retry_dead("nope", T0)
    outbox.discard_dead(item.id)  # pending, not dead
    outbox.retry_dead(item.id, T0)
    assert outbox.pending == [item]
    assert item.attempts == 0
    with pytest.raises(KeyError):
        outbox.dead("nope", T0, error="x")


# ---------------------------------------------------------------- dead letters
def test_dead_letter_does_not_block() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0)
    a1 = add(outbox, "a", 1)
    b0 = add(outbox, "b", 0)
    dead = outbox.dead(a0.id, T0 + timedelta(seconds=1), error="400 invalid")
    assert dead is a0
    assert (dead.attempts, dead.last_error) == (1, "400 invalid")
    assert outbox.dead_letters == [a0]
    assert outbox.due(T0 + timedelta(seconds=1)) == [a1, b0]
    assert outbox.oldest_pending_since() == T0


def test_discard_dead() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0)
    outbox.dead(a0.id, T0, error="403 forbidden")
    outbox.discard_dead(a0.id)
    assert outbox.dead_letters == []
    assert outbox.pending == []


def test_retry_dead_goes_back_in_order() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0)
    add(outbox, "a", 1)
    b0 = add(outbox, "b", 0)
    outbox.failed(a0.id, T0, error="x")
    outbox.dead(a0.id, T0, error="400 invalid")
    outbox.dead(b0.id, T0, error="400 invalid")
    later = T0 + timedelta(minutes=1)
    outbox.retry_dead(a0.id, later)
    assert (a0.attempts, a0.next_attempt, a0.last_error) == (0, later, "400 invalid")
    assert ids(outbox.pending) == [("a", 0), ("a", 1)]  # before the later seq
    assert outbox.due(later) == [a0]
    outbox.retry_dead(b0.id, later)
    assert ids(outbox.pending) == [("a", 0), ("a", 1), ("b", 0)]
    assert outbox.dead_letters == []


def test_retry_dead_drops_it_when_the_version_is_pending_again() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0)
    outbox.dead(a0.id, T0, error="400 invalid")
    again = add(outbox, "a", 0)
    outbox.retry_dead(a0.id, T0)
    assert outbox.pending == [again]
    assert outbox.dead_letters == []


# ---------------------------------------------------------------- persistence
def test_persistence_round_trip() -> None:
    outbox = Outbox()
    a0 = add(outbox, "a", 0)
    add(outbox, "a", 1)
    b0 = add(outbox, "b", 0)
    add(outbox, None, 0)
    outbox.failed(a0.id, T0, error="unreachable", retry_after=30)
    outbox.dead(b0.id, T0, error="413 too_large")
    data = json.loads(json.dumps(outbox.as_dict()))  # what a Store writes
    assert data["format"] == 1
    restored = Outbox.from_dict(data)
    assert restored.as_dict() == outbox.as_dict()
    assert restored.pending == outbox.pending
    assert restored.dead_letters == outbox.dead_letters
    assert restored.due(T0) == outbox.due(T0)
    assert restored.next_due() == outbox.next_due()


def test_from_dict_passes_settings() -> None:
    restored = Outbox.from_dict(None, max_backoff=timedelta(seconds=7))
    assert restored.max_backoff == timedelta(seconds=7)
    assert restored.pending == []


@pytest.mark.parametrize("data", [None, [], "x", 5, {}, {"pending": "x", "dead": {}}])
def test_from_dict_of_garbage_is_empty(data: Any) -> None:
    outbox = Outbox.from_dict(data)
    assert outbox.pending == []
    assert outbox.dead_letters == []


def _stored(**changes: Any) -> dict[str, Any]:
    item = {
        "id": "item1",
        "incident_id": "a",
        "seq": 0,
        "method": "post",
        "path": PATH,
        "body": {"v": 1},
        "created_at": T0.isoformat(),
        "attempts": 2,
        "next_attempt": T0.isoformat(),
        "last_error": "500",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not ...}


@pytest.mark.parametrize(
    "bad",
    [
        "not an item",
        _stored(id=""),
        _stored(id=5),
        _stored(id=...),
        _stored(incident_id=5),
        _stored(seq="1"),
        _stored(seq=True),
        _stored(method=""),
        _stored(method=None),
        _stored(path="no-slash"),
        _stored(path=None),
        _stored(body=[]),
        _stored(attempts="2"),
        _stored(last_error=5),
        _stored(created_at="yesterday"),
        _stored(created_at=None),
        _stored(next_attempt=12),
    ],
)
def test_from_dict_skips_garbage_items(bad: Any) -> None:
    good = _stored(id="good", incident_id="b")
    outbox = Outbox.from_dict({"pending": [bad, good], "dead": [bad]})
    assert [item.id for item in outbox.pending] == ["good"]
    assert outbox.dead_letters == []


def test_from_dict_repairs_what_it_can() -> None:
    naive = datetime(2026, 11, 24, 8, 0).isoformat()  # as stored by a bug
    data = {
        "pending": [
            _stored(id="one", seq=2, attempts=-4, created_at=naive, last_error=...),
            _stored(id="one", seq=3),  # repeated id
            _stored(id="two", seq=2),  # repeated incident version
            _stored(id="three", seq=1),  # lower seq stored later: goes first
            _stored(id="four", incident_id=None, seq=0),
        ],
        "dead": [_stored(id="one"), _stored(id="five"), _stored(id="six", seq=1)],
    }
    outbox = Outbox.from_dict(data)
    assert [item.id for item in outbox.pending] == ["three", "one", "four"]
    one = outbox.pending[1]
    assert (one.created_at, one.attempts, one.method, one.last_error) == (
        T0,
        0,
        "POST",
        None,
    )
    assert [item.id for item in outbox.dead_letters] == ["five", "six"]
