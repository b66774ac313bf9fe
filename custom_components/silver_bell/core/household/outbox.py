"""The household's persistent outbox: what must reach the hub, in order, never lost.

Pure Python (no Home Assistant import). The household glue stores the outbox
(``as_dict``/``from_dict``) before sending, does the HTTP requests (each one
signed afresh) and reports every answer back here:

- ``classify(status)`` turns the hub's answer into DELIVERED, RETRY or DEAD;
- DELIVERED items are removed (only after a 2xx);
- RETRY items wait with exponential backoff (capped), or as long as the hub's
  Retry-After says (capped at one hour);
- DEAD items (a permanent 4xx) move to the dead letters, so one refused
  message never blocks the others; the glue raises a repair naming it.

Items of one incident are delivered in order: an incident's next item waits
until the one before it was delivered or moved to the dead letters. Items of
different incidents (and non-incident items) do not wait for each other. The
hub is idempotent by (incident id, seq), so a retry after a lost answer is harmless.

Superseded "open" versions: every version is a full snapshot of its incident,
so an "open" version adds nothing once a newer version of the same incident is
queued, and it is dropped instead of sent. The glue takes each item with
``take`` right before sending it (the item is then *in flight*) and reports the
outcome with ``delivered``/``failed``/``dead`` (or ``abandon`` if the attempt
was cut off). An in-flight item is never dropped under the glue's feet, but the
moment its attempt fails the outbox checks again: if a newer version was queued
meanwhile, the "open" one is dropped rather than retried, so a call resolved
while its first attempt was on the wire reaches the hub only as resolved. Only
an attempt that reached the hub (delivered, or counted as failed after the hub
had received it, e.g. its answer timed out) cannot be undone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
from typing import Any, TypeGuard
import uuid

STORAGE_FORMAT = 1
MAX_RETRY_AFTER = timedelta(hours=1)
_MAX_EXPONENT = 30  # 2**30 * any sane base is far beyond any cap; avoids overflow


class Outcome(StrEnum):
    """What to do with an item after the hub answered (or did not)."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


# 4xx answers that are not the item's fault: retried like 5xx.
#   401: authentication (clock skew, revoked or rotated secret, replay) - a fresh
#        signature after the user fixed the clock or re-paired succeeds; the glue
#        raises a repair meanwhile.
#   404: the route or the hub entry is not there (yet) - e.g. the hub is starting.
#   408/425/429: timing out, too early, rate limited.
_RETRY_4XX = frozenset({401, 404, 408, 425, 429})


def classify(status: int | None) -> Outcome:
    """Outcome of one attempt from the HTTP status (None: no answer at all)."""
    if status is None:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if 400 <= status < 500 and status not in _RETRY_4XX:
        return Outcome.DEAD
    return Outcome.RETRY  # 5xx, the 4xx above, and anything odd (1xx, 3xx)


@dataclass(kw_only=True, slots=True)
class OutboxItem:
    """One message waiting for the hub."""

    id: str
    incident_id: str | None  # None for messages that belong to no incident
    seq: int
    method: str
    path: str
    body: dict[str, Any]
    created_at: datetime
    attempts: int = 0
    next_attempt: datetime
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
            "attempts": self.attempts,
            "next_attempt": self.next_attempt.isoformat(),
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: Any) -> OutboxItem:
        """Rebuild from storage; ValueError if ``data`` is not a valid item."""
        if not isinstance(data, Mapping):
            raise ValueError("item is not an object")  # noqa: TRY004 - one error type for callers
        item_id = data.get("id")
        incident_id = data.get("incident_id")
        seq = data.get("seq")
        method = data.get("method")
        path = data.get("path")
        body = data.get("body")
        attempts = data.get("attempts", 0)
        last_error = data.get("last_error")
        if (
            not isinstance(item_id, str)
            or not item_id
            or not (incident_id is None or isinstance(incident_id, str))
            or not _is_int(seq)
            or not isinstance(method, str)
            or not method
            or not isinstance(path, str)
            or not path.startswith("/")
            or not isinstance(body, dict)
            or not _is_int(attempts)
            or not (last_error is None or isinstance(last_error, str))
        ):
            raise ValueError("item has a missing or wrong field")
        return cls(
            id=item_id,
            incident_id=incident_id,
            seq=seq,
            method=method.upper(),
            path=path,
            body=body,
            created_at=_time(data.get("created_at")),
            attempts=max(0, attempts),
            next_attempt=_time(data.get("next_attempt")),
            last_error=last_error,
        )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("time is not a string")  # noqa: TRY004 - one error type for callers
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Outbox:
    """Pending items (oldest first, in seq order per incident) and dead letters."""

    def __init__(
        self,
        *,
        base_backoff: timedelta = timedelta(seconds=5),
        max_backoff: timedelta = timedelta(minutes=5),
        jitter: Callable[[], float] | None = None,
    ) -> None:
        """Create an empty outbox.

        ``jitter`` returns a number in [0, 1] (e.g. ``random.random``); a backoff
        delay ``d`` becomes ``d * (1 - jitter() / 2)``, so households that lost
        the hub together do not all come back in the same second.
        """
        if base_backoff <= timedelta(0) or max_backoff < base_backoff:
            raise ValueError("need 0 < base_backoff <= max_backoff")
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._jitter = jitter
        self._pending: list[OutboxItem] = []
        self._dead: list[OutboxItem] = []
        self._in_flight: set[str] = set()  # ids taken for sending, not reported yet

    # ------------------------------------------------------------- reading
    @property
    def pending(self) -> list[OutboxItem]:
        """Items still to deliver (a copy; oldest first, in order per incident)."""
        return list(self._pending)

    @property
    def dead_letters(self) -> list[OutboxItem]:
        """Items the hub refused for good (a copy; oldest refusal first)."""
        return list(self._dead)

    def _heads(self) -> list[OutboxItem]:
        """The first pending item of each incident, and every non-incident item."""
        seen: set[str] = set()
        heads: list[OutboxItem] = []
        for item in self._pending:
            if item.incident_id is not None:
                if item.incident_id in seen:
                    continue
                seen.add(item.incident_id)
            heads.append(item)
        return heads

    @property
    def in_flight(self) -> frozenset[str]:
        """Ids of the items taken for sending whose outcome is not reported yet."""
        return frozenset(self._in_flight)

    def due(self, now: datetime) -> list[OutboxItem]:
        """Items to send now: at most the head item per incident, oldest first.

        Items in flight are not due again. An incident's later versions are never
        due while an earlier one is pending (in flight or waiting for a retry).
        """
        ready = [
            item
            for item in self._heads()
            if item.next_attempt <= now and item.id not in self._in_flight
        ]
        return sorted(ready, key=lambda item: item.created_at)

    def take(self, now: datetime, *, skip: Collection[str] = ()) -> OutboxItem | None:
        """The item to send next (first of ``due``, minus ``skip``), now in flight.

        Call it right before each attempt, not once for a batch: what the outbox
        holds may change while another item is on the wire (a newer version
        queued, an "open" one dropped), and a dropped item must not be sent.
        Report the attempt with ``delivered``, ``failed``, ``dead`` or ``abandon``.
        """
        item = next((item for item in self.due(now) if item.id not in skip), None)
        if item is not None:
            self._in_flight.add(item.id)
        return item

    def next_due(self) -> datetime | None:
        """When the next item becomes due (None if nothing is pending)."""
        return min((item.next_attempt for item in self._heads()), default=None)

    def oldest_pending_since(self) -> datetime | None:
        """Creation time of the oldest undelivered item (None if none)."""
        return min((item.created_at for item in self._pending), default=None)

    # ------------------------------------------------------------- writing
    def _insert(self, item: OutboxItem) -> None:
        """Append, but before any pending item of the same incident with a higher seq."""
        if item.incident_id is not None:
            for index, other in enumerate(self._pending):
                if other.incident_id == item.incident_id and other.seq > item.seq:
                    self._pending.insert(index, item)
                    return
        self._pending.append(item)

    def _queued(self, incident_id: str | None, seq: int) -> bool:
        return incident_id is not None and any(
            item.incident_id == incident_id and item.seq == seq
            for item in self._pending
        )

    def _newest(self) -> dict[str, int]:
        """The highest pending seq of every incident."""
        newest: dict[str, int] = {}
        for item in self._pending:
            if item.incident_id is not None:
                newest[item.incident_id] = max(
                    item.seq, newest.get(item.incident_id, item.seq)
                )
        return newest

    def _drop_superseded(self) -> list[OutboxItem]:
        """Drop every pending "open" version that a newer pending version supersedes.

        Items in flight are kept (their outcome is still to be reported; the check
        runs again when it is). Returns the dropped items.
        """
        newest = self._newest()
        dropped = [
            item
            for item in self._pending
            if item.incident_id is not None
            and item.id not in self._in_flight
            and item.seq < newest[item.incident_id]
            and _state_of(item.body) == "open"
        ]
        if dropped:
            gone = {item.id for item in dropped}
            self._pending = [item for item in self._pending if item.id not in gone]
        return dropped

    def add(
        self,
        *,
        incident_id: str | None,
        seq: int,
        method: str,
        path: str,
        body: dict[str, Any],
        now: datetime,
    ) -> OutboxItem | None:
        """Queue a message, due at once; None if there is nothing new to send.

        Each version is a full snapshot of the incident, so an older pending
        version that only says "open" adds nothing the newer one does not say:
        it is dropped (a help call raised and resolved during an outage reaches
        the hub as resolved, and nobody is paged for it). Versions that carry a
        person's acknowledgement or resolution are kept. An "open" version in
        flight is kept until its attempt is reported; if that attempt fails, it
        is dropped then (see ``failed``).

        None if the same incident version is already queued, or if the message
        is an "open" version older than one already queued (it is superseded).
        """
        if self._queued(incident_id, seq):
            return None
        if (
            incident_id is not None
            and _state_of(body) == "open"
            and seq < self._newest().get(incident_id, seq)
        ):
            return None
        item = OutboxItem(
            id=uuid.uuid4().hex,
            incident_id=incident_id,
            seq=seq,
            method=method.upper(),
            path=path,
            body=body,
            created_at=now,
            next_attempt=now,
        )
        self._insert(item)
        self._drop_superseded()
        return item

    def _find(self, items: list[OutboxItem], item_id: str) -> OutboxItem | None:
        return next((item for item in items if item.id == item_id), None)

    def hurry(self, now: datetime) -> bool:
        """The hub answered again: everything pending is due now (True if any waited).

        After an outage the backlog goes out at once instead of each item
        waiting out its own backoff.
        """
        waiting = False
        for item in self._pending:
            if item.next_attempt > now:
                item.next_attempt = now
                waiting = True
        return waiting

    def delivered(self, item_id: str) -> None:
        """The hub answered 2xx: forget the item (unknown ids are ignored)."""
        self._in_flight.discard(item_id)
        if (item := self._find(self._pending, item_id)) is not None:
            self._pending.remove(item)

    def abandon(self, item_id: str) -> None:
        """The attempt ended without an answer to report (e.g. cancelled at shutdown).

        The item is no longer in flight and counts no attempt; if a newer version
        of its incident was queued meanwhile and it only says "open", it is
        dropped. Unknown ids are ignored.
        """
        self._in_flight.discard(item_id)
        self._drop_superseded()

    def backoff(self, attempts: int) -> timedelta:
        """Delay after the ``attempts``-th failure (1-based), before jitter."""
        exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
        return min(self.max_backoff, self.base_backoff * (1 << exponent))

    def failed(
        self,
        item_id: str,
        now: datetime,
        *,
        error: str,
        retry_after: float | None = None,
    ) -> bool:
        """A retryable failure: wait with backoff, or as long as Retry-After says.

        Checked again first: an "open" version for which a newer version of its
        incident was queued while it was in flight is dropped, not retried (the
        newer version says all it said; sending it would page for a call that is
        already resolved). Returns True if the item waits for a retry, False if
        it was dropped (or the id is unknown).

        Backoff: ``min(max_backoff, base_backoff * 2**(attempts - 1))`` with jitter,
        so 5 s, 10 s, 20 s ... 5 min by default. A finite ``retry_after`` (seconds,
        capped at one hour) replaces the backoff: the hub knows when it has room.
        """
        self._in_flight.discard(item_id)
        if any(dropped.id == item_id for dropped in self._drop_superseded()):
            return False
        item = self._find(self._pending, item_id)
        if item is None:
            return False
        item.attempts += 1
        item.last_error = error
        if retry_after is not None and math.isfinite(retry_after):
            delay = min(MAX_RETRY_AFTER, timedelta(seconds=max(0.0, retry_after)))
        else:
            delay = self.backoff(item.attempts)
            if self._jitter is not None:
                fraction = min(1.0, max(0.0, float(self._jitter())))
                delay = delay * (1 - fraction / 2)
        item.next_attempt = now + delay
        return True

    def dead(self, item_id: str, now: datetime, *, error: str) -> OutboxItem:
        """The hub refused the item for good: move it to the dead letters.

        The incident's later items become due in its place. KeyError if the id is
        not pending.
        """
        self._in_flight.discard(item_id)
        item = self._find(self._pending, item_id)
        if item is None:
            raise KeyError(item_id)
        self._pending.remove(item)
        item.attempts += 1
        item.last_error = error
        item.next_attempt = now
        self._dead.append(item)
        return item

    def discard_dead(self, item_id: str) -> None:
        """Forget a dead letter (unknown ids are ignored)."""
        if (item := self._find(self._dead, item_id)) is not None:
            self._dead.remove(item)

    def retry_dead(self, item_id: str, now: datetime) -> None:
        """Queue a dead letter again, due at once, before later items of its incident.

        If the same incident version is pending again already, or the dead letter
        only says "open" and a newer version of its incident is pending, the dead
        letter is simply dropped. Unknown ids are ignored.
        """
        item = self._find(self._dead, item_id)
        if item is None:
            return
        self._dead.remove(item)
        if self._queued(item.incident_id, item.seq):
            return
        item.attempts = 0
        item.next_attempt = now
        self._insert(item)
        self._drop_superseded()

    # --------------------------------------------------------- persistence
    def as_dict(self) -> dict[str, Any]:
        """Serialise for the glue's Store."""
        return {
            "format": STORAGE_FORMAT,
            "pending": [item.as_dict() for item in self._pending],
            "dead": [item.as_dict() for item in self._dead],
        }

    @classmethod
    def from_dict(cls, data: Any, **kwargs: Any) -> Outbox:
        """Rebuild from storage; garbage (or a missing outbox) yields what is valid.

        Invalid items, repeated ids and repeated (incident id, seq) pairs are
        skipped, and so are "open" versions superseded by a newer pending version
        (one was in flight when the outbox was written). ``kwargs`` go to the
        constructor (backoff settings, jitter).
        """
        outbox = cls(**kwargs)
        if not isinstance(data, Mapping):
            return outbox
        ids: set[str] = set()
        for key, target in (("pending", outbox._pending), ("dead", outbox._dead)):
            items = data.get(key)
            if not isinstance(items, list):
                continue
            for raw in items:
                try:
                    item = OutboxItem.from_dict(raw)
                except ValueError:
                    continue
                if item.id in ids or (
                    target is outbox._pending
                    and outbox._queued(item.incident_id, item.seq)
                ):
                    continue
                ids.add(item.id)
                if target is outbox._pending:
                    outbox._insert(item)
                else:
                    target.append(item)
        outbox._drop_superseded()
        return outbox


def _state_of(body: Mapping[str, Any]) -> Any:
    """The incident state a queued incident message carries (None for others)."""
    incident = body.get("incident")
    return incident.get("state") if isinstance(incident, Mapping) else None
