"""The outbox after an outage: superseded "open" versions, and draining at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.silver_bell.outbox import Outbox, OutboxItem

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def _add(
    box: Outbox, incident_id: str, seq: int, state: str, *, sending: str | None = None
) -> OutboxItem | None:
    return box.add(
        incident_id=incident_id,
        seq=seq,
        method="POST",
        path="/api/silver_bell/v1/incidents",
        body={"v": 1, "incident": {"id": incident_id, "seq": seq, "state": state}},
        now=T0,
        sending=sending,
    )


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


def test_the_version_on_the_wire_is_never_dropped() -> None:
    box = Outbox()
    first = _add(box, "help1", 1, "open")
    assert first is not None
    _add(box, "help1", 2, "resolved", sending=first.id)
    assert _versions(box) == [("help1", 1), ("help1", 2)]


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
