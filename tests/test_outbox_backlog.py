"""The outbox after an outage: superseded "open" versions, and draining at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.silver_bell.core.household.outbox import Outbox, OutboxItem

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def _add(
    box: Outbox, incident_id: str, seq: int, state: str, now: datetime = T0
) -> OutboxItem | None:
    return box.add(
        incident_id=incident_id,
        seq=seq,
        method="POST",
        path="/api/silver_bell/v1/incidents",
        body={"v": 1, "incident": {"id": incident_id, "seq": seq, "state": state}},
        now=now,
    )


def _take(box: Outbox, now: datetime = T0, skip: tuple[str, ...] = ()) -> OutboxItem:
    item = box.take(now, skip=skip)
    assert item is not None
    return item


def _versions(box: Outbox) -> list[tuple[str | None, int]]:
    return [(item.incident_id, item.seq) for item in box.pending]


def test_a_newer_version_replaces_a_pending_open_one() -> None:
    """Raised and resolved during an outage: the hub gets "resolved" only, pages nobody."""
    box = Outbox()
    _add(box, "help1", 1, "open")
    _add(box, "fire1", 1, "open")
    _add(box, "help1", 2, "open")  # details updated
    _add(box, "help1", 3, "acknowledged")  # a person's words: kept
    _add(box, "help1", 4, "resolved")
    assert _versions(box) == [("fire1", 1), ("help1", 3), ("help1", 4)]


def test_the_version_on_the_wire_is_kept_until_its_attempt_is_reported() -> None:
    box = Outbox()
    _add(box, "help1", 1, "open")
    first = _take(box)
    assert box.in_flight == {first.id}
    _add(box, "help1", 2, "resolved")
    assert _versions(box) == [("help1", 1), ("help1", 2)]
    # Nothing of the incident is due while its open version is on the wire:
    # "resolved" is never sent before "open" is settled.
    assert box.due(T0) == []
    assert box.take(T0) is None


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [("unreachable", None), ("503 unavailable", None), ("429 rate_limited", 30.0)],
)
def test_an_open_version_whose_attempt_fails_after_a_newer_one_was_queued_is_dropped(
    error: str, retry_after: float | None
) -> None:
    """Issue 15: resolved while the first send was in flight; that send fails.

    The open version is not retried: the hub gets the resolved version only and
    pages nobody (before, the open version was retried first and paged).
    """
    box = Outbox(jitter=lambda: 0.0)
    _add(box, "help1", 1, "open")
    first = _take(box)
    resolved = _add(box, "help1", 2, "resolved")
    assert resolved is not None
    assert not box.failed(first.id, T0, error=error, retry_after=retry_after)
    assert _versions(box) == [("help1", 2)]
    assert box.in_flight == frozenset()
    # The resolved version goes at once, and it is the only one that ever goes.
    sent = []
    now = T0
    while box.pending:
        item = box.take(now)
        if item is None:
            now = box.next_due() or now
            continue
        sent.append((item.seq, item.body["incident"]["state"]))
        box.delivered(item.id)
    assert sent == [(2, "resolved")]
    assert now == T0


def test_an_open_version_that_reached_the_hub_cannot_be_undone() -> None:
    """The documented case that still pages: the attempt in flight succeeded."""
    box = Outbox()
    _add(box, "help1", 1, "open")
    first = _take(box)
    _add(box, "help1", 2, "resolved")
    box.delivered(first.id)  # the hub has "open" (and pages), then gets "resolved"
    assert [item.seq for item in box.due(T0)] == [2]


def test_a_newer_open_version_also_supersedes_the_one_in_flight() -> None:
    box = Outbox()
    _add(box, "help1", 1, "open")
    first = _take(box)
    _add(box, "help1", 2, "open")  # new details while the first attempt is on the wire
    assert not box.failed(first.id, T0, error="unreachable")
    assert _versions(box) == [("help1", 2)]
    assert _take(box).seq == 2


def test_a_failed_acknowledgement_in_flight_is_retried_before_the_resolution() -> None:
    box = Outbox(jitter=lambda: 0.0)
    _add(box, "help1", 3, "acknowledged")
    ack = _take(box)
    _add(box, "help1", 4, "resolved")
    assert box.failed(ack.id, T0, error="unreachable")  # a person's words: kept
    assert _versions(box) == [("help1", 3), ("help1", 4)]
    assert box.due(T0) == []  # the resolution waits behind the acknowledgement
    later = T0 + timedelta(seconds=5)
    assert _take(box, later).seq == 3


def test_an_open_version_refused_for_good_in_flight_goes_to_the_dead_letters() -> None:
    box = Outbox()
    _add(box, "help1", 1, "open")
    first = _take(box)
    _add(box, "help1", 2, "resolved")
    box.dead(first.id, T0, error="400 invalid")
    assert [item.seq for item in box.dead_letters] == [1]
    assert _take(box).seq == 2
    # Queued again while the resolution is still pending, it adds nothing: dropped.
    box.retry_dead(first.id, T0)
    assert box.dead_letters == []
    assert _versions(box) == [("help1", 2)]


def test_an_abandoned_attempt_is_checked_again_too() -> None:
    box = Outbox()
    _add(box, "help1", 1, "open")
    first = _take(box)
    _add(box, "help1", 2, "resolved")
    box.abandon(first.id)  # cancelled at shutdown
    assert box.in_flight == frozenset()
    assert _versions(box) == [("help1", 2)]
    assert _take(box).seq == 2


def test_an_outbox_written_while_an_open_version_was_in_flight() -> None:
    """Stopped with both versions stored: after the restart only "resolved" goes."""
    box = Outbox()
    _add(box, "help1", 1, "open")
    _take(box)
    _add(box, "help1", 2, "resolved")
    stored = box.as_dict()
    assert [item["seq"] for item in stored["pending"]] == [1, 2]
    restored = Outbox.from_dict(stored)
    assert _versions(restored) == [("help1", 2)]


def test_an_older_open_version_queued_after_a_newer_one_is_not_queued() -> None:
    box = Outbox()
    _add(box, "help1", 2, "resolved")
    assert _add(box, "help1", 1, "open") is None
    assert _versions(box) == [("help1", 2)]


def test_the_next_item_is_chosen_again_before_every_attempt() -> None:
    """Another incident's open version, due in the same round, is replaced meanwhile.

    A round that took its list of due items once sent the replaced open version
    after the first item's attempt (and paged for a resolved help call).
    """
    box = Outbox(jitter=lambda: 0.0)
    _add(box, "fire1", 1, "open")
    _add(box, "help1", 1, "open", T0 + timedelta(seconds=1))
    later = T0 + timedelta(seconds=2)
    assert [item.incident_id for item in box.due(later)] == ["fire1", "help1"]
    fire = _take(box, later)
    assert fire.incident_id == "fire1"
    _add(box, "help1", 2, "resolved", later)  # help1's open version is not in flight
    assert box.failed(fire.id, later, error="unreachable")  # fire1 stays open: kept
    help_item = _take(box, later, skip=(fire.id,))
    assert (help_item.incident_id, help_item.seq) == ("help1", 2)
    assert box.take(later, skip=(fire.id, help_item.id)) is None


def test_take_skips_what_is_in_flight_and_what_was_tried() -> None:
    box = Outbox()
    _add(box, "a", 1, "open")
    _add(box, "b", 1, "open")
    first = _take(box)
    second = _take(box)
    assert {first.incident_id, second.incident_id} == {"a", "b"}
    assert box.take(T0) is None
    box.failed(first.id, T0, error="unreachable", retry_after=0)
    assert box.take(T0, skip=(first.id,)) is None
    assert _take(box).id == first.id


def test_hurry_makes_the_backlog_due_now() -> None:
    box = Outbox(jitter=lambda: 1.0)
    items = [_add(box, f"i{n}", 1, "open") for n in range(3)]
    for item in items:
        assert item is not None
        for _ in range(4):
            box.failed(item.id, T0, error="timeout")
    assert box.due(T0) == []
    later = T0 + timedelta(seconds=1)
    assert box.hurry(later)
    assert len(box.due(later)) == 3
    assert not box.hurry(later)  # nothing waited any more
