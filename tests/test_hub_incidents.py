"""Tests of the hub's incident ledger (pure logic)."""

# mypy narrows attributes across the book's mutating calls; these tests check exactly those.
# mypy: disable-error-code="unreachable,comparison-overlap"

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
import io
from typing import Any

import pytest

from custom_components.silver_bell.core.hub.figures import (
    INCIDENT_COLUMNS,
    Stats,
    incidents_csv,
    month_figures,
)
from custom_components.silver_bell.core.hub.incidents import HubIncidentBook
from custom_components.silver_bell.core.hub.records import (
    ACTOR_FAMILY,
    ACTOR_HUB,
    OFFLINE_REASON,
    RESOLUTION_CODES,
    HubIncident,
    HubIncidentError,
    LogEntry,
    LogEvent,
    Resolution,
    send_purpose,
)
from custom_components.silver_bell.core.models import (
    IncidentKind,
    IncidentState,
    Triage,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
HH = "hh_li01"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def message(source_id: str = "src1", seq: int = 1, **kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source_id": source_id,
        "seq": seq,
        "kind": IncidentKind.FIRE,
        "state": IncidentState.OPEN,
        "test": False,
        "created_at": T0 - timedelta(seconds=5),
        "details": {"sensor": "binary_sensor.kitchen_smoke"},
        "by": None,
        "note": None,
    }
    values.update(kwargs)
    return values


def apply(
    book: HubIncidentBook,
    now: datetime = T0,
    household_id: str = HH,
    **kwargs: Any,
) -> tuple[HubIncident, bool]:
    return book.apply(household_id, now=now, **message(**kwargs))


def test_new_incident() -> None:
    book = HubIncidentBook()
    incident, changed = apply(book)
    assert changed
    assert incident.household_id == HH
    assert (incident.kind, incident.colour, incident.state) == (
        IncidentKind.FIRE,
        Triage.RED,
        IncidentState.OPEN,
    )
    assert incident.created_at == T0
    assert incident.raised_at == T0 - timedelta(seconds=5)
    assert incident.source_ids == {"src1": 1}
    assert incident.details == {"sensor": "binary_sensor.kitchen_smoke"}
    assert incident.log == [
        LogEntry(at=T0, event="received", actor="household", detail="src1")
    ]
    assert incident.active
    assert not incident.offline
    assert incident.accepted_by is None
    assert incident.updated_at == T0
    assert len(incident.id) == 32
    assert book.get(incident.id) is incident
    assert book.get_or_none(incident.id) is incident
    assert book.get_or_none("nope") is None
    assert book.by_source("src1") is incident
    assert book.by_source("nope") is None
    assert book.open_for_household(HH, IncidentKind.FIRE) is incident
    assert book.open_for_household(HH, IncidentKind.HELP) is None
    with pytest.raises(HubIncidentError) as err:
        book.get("nope")
    assert (err.value.code, err.value.placeholders) == (
        "unknown_incident",
        {"incident": "nope"},
    )


def test_kind_and_state_as_strings_and_defaults() -> None:
    book = HubIncidentBook()
    incident, _ = book.apply(
        HH, source_id="s", seq=0, kind="cold", state="open", now=T0
    )
    assert incident.colour is Triage.ORANGE
    assert incident.raised_at == T0
    assert incident.details == {}


def test_idempotent_by_seq() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book, seq=3)
    log = list(incident.log)
    assert apply(book, seq=3) == (incident, False)
    assert apply(book, seq=2, state=IncidentState.RESOLVED) == (incident, False)
    assert incident.log == log
    assert incident.active
    updated, changed = apply(
        book, T0 + timedelta(seconds=9), seq=4, details={"temperature": 71}
    )
    assert (updated, changed) == (incident, True)
    assert incident.source_ids == {"src1": 4}
    assert incident.details == {
        "sensor": "binary_sensor.kitchen_smoke",
        "temperature": 71,
    }
    assert incident.log[-1].event == LogEvent.UPDATED
    assert incident.updated_at == T0 + timedelta(seconds=9)


def test_another_households_source_is_refused() -> None:
    book = HubIncidentBook()
    apply(book)
    with pytest.raises(HubIncidentError) as err:
        apply(book, household_id="hh_other", seq=2)
    assert err.value.code == "other_household"
    assert str(err.value) == "other_household: {'incident': 'src1'}"


def test_blueprint_forward_merges_into_open_incident() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    merged, changed = apply(
        book,
        T0 + timedelta(seconds=3),
        source_id="blueprint1",
        seq=0,
        details={"message": "Smoke in the kitchen", "sensor": "other"},
    )
    assert changed
    assert merged is incident
    assert incident.source_ids == {"src1": 1, "blueprint1": 0}
    assert incident.details == {
        "sensor": "binary_sensor.kitchen_smoke",
        "message": "Smoke in the kitchen",
    }
    assert incident.log[-1] == LogEntry(
        at=T0 + timedelta(seconds=3),
        event="merged",
        actor="household",
        detail="blueprint1",
    )
    assert book.by_source("blueprint1") is incident
    assert len(book.incidents) == 1
    # Replays of the merged source are idempotent too.
    assert apply(book, source_id="blueprint1", seq=0) == (incident, False)
    # A test alarm is never merged into a real one, nor another household's, nor another kind.
    test_incident, _ = apply(book, source_id="t1", test=True)
    other_home, _ = apply(book, household_id="hh_other", source_id="o1")
    help_call, _ = apply(book, source_id="h1", kind=IncidentKind.HELP)
    assert len({incident.id, test_incident.id, other_home.id, help_call.id}) == 4


def test_merge_carries_the_household_state() -> None:
    """A merged source's acknowledgement is recorded on that source only.

    The hub incident counts as acknowledged by the family once every unresolved
    source is (regression, issue 15: one source's answer changed another's state
    at the household through the hub's progress).
    """
    book = HubIncidentBook()
    incident, _ = apply(book)
    apply(
        book,
        source_id="blueprint1",
        seq=1,
        state=IncidentState.ACKNOWLEDGED,
        by="Li Ming",
    )
    assert incident.source_states == {"src1": "open", "blueprint1": "acknowledged"}
    assert incident.state is IncidentState.OPEN
    assert incident.acknowledged_by is None
    assert incident.log[-1].event == "family_acknowledged"
    apply(book, seq=2, state=IncidentState.ACKNOWLEDGED, by="Li Ming")
    assert incident.acknowledged_by == ACTOR_FAMILY
    assert incident.state is IncidentState.ACKNOWLEDGED


def _help(
    book: HubIncidentBook, source: str, seq: int, state: IncidentState, at: datetime
) -> HubIncident:
    incident, _ = apply(
        book, at, source_id=source, seq=seq, kind=IncidentKind.HELP, state=state
    )
    return incident


@pytest.mark.parametrize("older_first", [True, False])
def test_one_calls_resolution_never_closes_another(older_first: bool) -> None:
    """Issue 15, defect 1: help call X raised and resolved during an outage, then Y.

    Whatever order X's "resolved" and Y's "open" arrive in, Y stays open and paging.
    """
    book = HubIncidentBook()
    t1 = T0 + timedelta(seconds=20)
    if older_first:
        x = _help(book, "x", 2, IncidentState.RESOLVED, t1)
        y = _help(book, "y", 1, IncidentState.OPEN, t1)
        assert x is not y
        assert not x.active
    else:
        y = _help(book, "y", 1, IncidentState.OPEN, t1)
        x = _help(book, "x", 2, IncidentState.RESOLVED, t1)
        assert x is y  # merged: same household, same kind
        assert y.source_states == {"y": "open", "x": "resolved"}
        assert y.log[-1].event == "household_resolved"
    assert y.active
    assert y.state is IncidentState.OPEN
    assert (y.resolved_at, y.resolution) == (None, None)
    assert book.open_for_household(HH, IncidentKind.HELP) is y
    # Y's own resolution closes it; a person at the hub could have too.
    _help(book, "y", 2, IncidentState.RESOLVED, t1 + timedelta(seconds=30))
    assert not y.active
    assert y.resolution == Resolution.HOUSEHOLD


def test_merged_incident_closes_when_all_sources_resolved() -> None:
    book = HubIncidentBook()
    incident = _help(book, "a", 1, IncidentState.OPEN, T0)
    _help(book, "b", 1, IncidentState.OPEN, T0)
    _help(book, "c", 1, IncidentState.OPEN, T0)
    _help(book, "a", 2, IncidentState.RESOLVED, T0 + timedelta(seconds=1))
    _help(book, "c", 2, IncidentState.CANCELLED, T0 + timedelta(seconds=2))
    assert incident.active
    _help(book, "b", 2, IncidentState.RESOLVED, T0 + timedelta(seconds=3))
    assert not incident.active
    assert incident.resolved_at == T0 + timedelta(seconds=3)


def test_person_at_hub_resolves_all_merged_sources() -> None:
    book = HubIncidentBook()
    incident = _help(book, "a", 1, IncidentState.OPEN, T0)
    _help(book, "b", 1, IncidentState.OPEN, T0)
    assert book.resolve(incident.id, "v_li", "resident_ok", T0 + timedelta(minutes=1))
    assert not incident.active
    # A late answer from one source is logged and changes nothing.
    _help(book, "a", 2, IncidentState.ACKNOWLEDGED, T0 + timedelta(minutes=2))
    assert incident.resolution == "resident_ok"


def test_new_call_merged_into_family_acknowledged_incident_reopens_it() -> None:
    """The family answered call A; call B (nobody answered yet) makes it open again."""
    book = HubIncidentBook()
    incident = _help(book, "a", 1, IncidentState.OPEN, T0)
    _help(book, "a", 2, IncidentState.ACKNOWLEDGED, T0 + timedelta(seconds=5))
    assert incident.state is IncidentState.ACKNOWLEDGED
    _help(book, "b", 1, IncidentState.OPEN, T0 + timedelta(seconds=9))
    assert incident.state is IncidentState.OPEN
    assert incident.accepted_by is None
    # The first response time is kept for the statistics.
    assert incident.acknowledged_at == T0 + timedelta(seconds=5)
    _help(book, "b", 2, IncidentState.ACKNOWLEDGED, T0 + timedelta(seconds=12))
    assert incident.state is IncidentState.ACKNOWLEDGED
    # A volunteer's acceptance is not undone by a merged call.
    assert book.accept(incident.id, "v_li", T0 + timedelta(seconds=20))
    _help(book, "c", 1, IncidentState.OPEN, T0 + timedelta(seconds=30))
    assert incident.accepted_by == "v_li"
    assert incident.state is IncidentState.ACKNOWLEDGED


def test_source_states_survive_storage() -> None:
    book = HubIncidentBook()
    incident = _help(book, "a", 1, IncidentState.OPEN, T0)
    _help(book, "b", 2, IncidentState.RESOLVED, T0)
    stored = HubIncidentBook.from_dict(book.as_dict())
    again = stored.get(incident.id)
    assert again.source_states == {"a": "open", "b": "resolved"}
    _help(stored, "a", 2, IncidentState.RESOLVED, T0 + timedelta(seconds=1))
    assert not again.active
    # Incidents stored before source states existed: their sources count as open.
    legacy = incident.as_dict()
    del legacy["source_states"]
    assert HubIncident.from_dict(legacy).source_states == {}


def test_replayed_resolutions_of_merged_sources_are_logged_once() -> None:
    """After an outage the outbox replays every merged source's versions.

    Two help calls merged into one hub incident, each acknowledged and resolved
    at home: the incident is acknowledged once, resolved once, and each fact is
    logged once (regression: "resolved" was logged for every merged source).
    """
    book = HubIncidentBook()
    incident, _ = apply(book, source_id="help1", kind=IncidentKind.HELP)
    apply(book, source_id="help2", kind=IncidentKind.HELP)
    for source in ("help1", "help2"):
        apply(
            book,
            source_id=source,
            seq=2,
            kind=IncidentKind.HELP,
            state=IncidentState.ACKNOWLEDGED,
            by="Li Ming",
        )
    for source in ("help1", "help2"):
        _, changed = apply(
            book,
            T0 + timedelta(seconds=9),
            source_id=source,
            seq=3,
            kind=IncidentKind.HELP,
            state=IncidentState.RESOLVED,
        )
        assert changed  # the source's seq is stored, so a replay is idempotent
    events = [entry.event for entry in incident.log]
    assert events == [
        "received",
        "merged",
        "family_acknowledged",
        "household_resolved",
    ]
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolved_at == T0 + timedelta(seconds=9)
    assert incident.source_ids == {"help1": 3, "help2": 3}
    assert len(book.incidents) == 1
    # A different family member acknowledging is a different fact.
    other, _ = apply(book, source_id="fire1")
    apply(book, source_id="fire1", seq=2, state=IncidentState.ACKNOWLEDGED, by="A")
    apply(book, source_id="fire2", seq=1, state=IncidentState.ACKNOWLEDGED, by="B")
    assert [e.detail for e in other.log if e.event == "family_acknowledged"] == [
        "A",
        "B",
    ]


def test_family_acknowledges_then_resolves() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    t1 = T0 + timedelta(seconds=40)
    apply(
        book,
        t1,
        seq=2,
        state=IncidentState.ACKNOWLEDGED,
        by="Li Ming",
        note="on my way",
    )
    assert incident.state is IncidentState.ACKNOWLEDGED
    assert (incident.acknowledged_at, incident.acknowledged_by) == (t1, ACTOR_FAMILY)
    assert [incident.accepted_by] == [None]
    assert incident.log[-1] == LogEntry(
        at=t1, event="family_acknowledged", actor="family", detail="Li Ming; on my way"
    )
    # A second acknowledgement is logged, the first time kept.
    apply(book, t1 + timedelta(seconds=5), seq=3, state=IncidentState.ACKNOWLEDGED)
    assert incident.acknowledged_at == t1
    assert incident.log[-1] == LogEntry(
        at=t1 + timedelta(seconds=5), event="family_acknowledged", actor="family"
    )
    # A volunteer still takes it over (the hub owns the incident).
    assert book.accept(incident.id, "v_li", t1 + timedelta(seconds=10))
    assert incident.accepted_by == "v_li"
    assert incident.acknowledged_at == t1 + timedelta(
        seconds=10
    )  # the volunteer's time
    t2 = T0 + timedelta(minutes=5)
    apply(book, t2, seq=4, state=IncidentState.RESOLVED, by="Li Ming")
    assert incident.state is IncidentState.RESOLVED
    assert (incident.resolved_at, incident.resolution) == (t2, Resolution.HOUSEHOLD)
    assert not incident.active
    # Updates after the hub closed it are only logged.
    apply(book, t2 + timedelta(seconds=1), seq=5, state=IncidentState.ACKNOWLEDGED)
    apply(
        book,
        t2 + timedelta(seconds=2),
        seq=6,
        state=IncidentState.RESOLVED,
        note="false_alarm",
    )
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolution == Resolution.HOUSEHOLD
    # The repeated plain acknowledgement is a fact already logged; the new code is new.
    assert [(entry.event, entry.detail) for entry in incident.log[-2:]] == [
        ("household_resolved", "Li Ming"),
        ("household_resolved", "false_alarm"),
    ]


@pytest.mark.parametrize(
    ("state", "note", "resolution"),
    [
        (IncidentState.RESOLVED, "false_alarm", "false_alarm"),
        (IncidentState.RESOLVED, "all fine", "household"),
        (IncidentState.CANCELLED, None, "household"),
    ],
)
def test_household_resolution_codes(
    state: IncidentState, note: str | None, resolution: str
) -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    apply(book, seq=2, state=state, note=note)
    assert incident.resolution == resolution
    assert incident.acknowledged_at is None


def test_first_message_already_resolved() -> None:
    book = HubIncidentBook()
    incident, changed = apply(book, state=IncidentState.RESOLVED)
    assert changed
    assert not incident.active
    assert incident.resolution == Resolution.HOUSEHOLD
    assert book.active == []


def test_accept_on_the_way_resolve() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    incident.next_escalation_at = T0 + timedelta(minutes=2)
    t1 = T0 + timedelta(seconds=25)
    assert book.accept(incident.id, "v_li", t1)
    assert (incident.acknowledged_at, incident.acknowledged_by) == (t1, "v_li")
    assert (incident.state, incident.next_escalation_at) == (
        IncidentState.ACKNOWLEDGED,
        None,
    )
    assert incident.log[-1] == LogEntry(at=t1, event="accepted", actor="v_li")
    assert book.accept(incident.id, "v_li", t1 + timedelta(seconds=1))
    assert not book.accept(incident.id, "v_wang", t1 + timedelta(seconds=2))
    assert incident.acknowledged_by == "v_li"
    assert not book.on_the_way(incident.id, "v_wang", t1)
    assert incident.on_the_way_at is None
    t2 = t1 + timedelta(minutes=1)
    assert book.on_the_way(incident.id, "v_li", t2)
    assert book.on_the_way(incident.id, "v_li", t2 + timedelta(seconds=30))
    assert incident.on_the_way_at == t2
    with pytest.raises(HubIncidentError) as err:
        book.resolve(incident.id, "v_li", "fixed", t2)
    assert (err.value.code, err.value.placeholders) == (
        "invalid_resolution",
        {"resolution": "fixed"},
    )
    with pytest.raises(HubIncidentError, match="unknown_incident"):
        book.resolve("nope", "v_li", "false_alarm", t2)
    with pytest.raises(HubIncidentError, match="incident_open"):
        book.set_resolution(incident.id, "desk", "false_alarm", t2)
    t3 = t2 + timedelta(minutes=10)
    assert book.resolve(incident.id, "v_li", "unspecified", t3)
    assert (incident.state, incident.resolved_at, incident.resolution) == (
        IncidentState.RESOLVED,
        t3,
        Resolution.UNSPECIFIED,
    )
    assert not book.resolve(incident.id, "v_li", "false_alarm", t3)
    assert not book.accept(incident.id, "v_wang", t3)
    book.set_resolution(incident.id, "v_li", "real_emergency", t3)
    assert incident.resolution == Resolution.REAL_EMERGENCY
    assert incident.log[-1] == LogEntry(
        at=t3, event="resolution_changed", actor="v_li", detail="real_emergency"
    )


def test_on_the_way_without_accept_takes_the_incident() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    assert book.on_the_way(incident.id, "v_wang", T0)
    assert incident.accepted_by == "v_wang"
    assert [entry.event for entry in incident.log[-2:]] == ["accepted", "on_the_way"]


def test_resolution_codes_people_choose() -> None:
    assert RESOLUTION_CODES == ("real_emergency", "false_alarm", "resident_ok", "test")


def test_household_offline_and_back_online() -> None:
    book = HubIncidentBook()
    assert book.household_online(HH, T0) is None
    last_seen = T0 - timedelta(minutes=30)
    incident, opened = book.household_offline(HH, T0, since=last_seen)
    assert opened
    assert incident.offline
    assert (incident.kind, incident.colour) == (
        IncidentKind.SENSOR_FAULT,
        Triage.YELLOW,
    )
    assert incident.details == {"reason": OFFLINE_REASON}
    assert incident.raised_at == last_seen
    assert incident.source_ids == {}
    assert incident.log == [LogEntry(at=T0, event="offline", actor=ACTOR_HUB)]
    assert book.household_offline(HH, T0 + timedelta(minutes=1)) == (incident, False)
    assert book.open_offline(HH) is incident
    # The household's own sensor fault is not merged into the offline incident.
    fault, _ = apply(book, source_id="f1", kind=IncidentKind.SENSOR_FAULT, details={})
    assert fault is not incident
    assert book.open_for_household(HH, IncidentKind.SENSOR_FAULT) is fault
    back = book.household_online(HH, T0 + timedelta(minutes=3))
    assert back is incident
    assert (incident.resolution, incident.resolved_at) == (
        Resolution.BACK_ONLINE,
        T0 + timedelta(minutes=3),
    )
    assert fault.active
    assert book.open_offline(HH) is None
    other, opened = book.household_offline(HH, T0 + timedelta(minutes=40))
    assert opened
    assert other.raised_at == T0 + timedelta(minutes=40)


def test_active_is_most_urgent_first() -> None:
    book = HubIncidentBook()
    cold, _ = apply(book, source_id="c", kind=IncidentKind.COLD)
    fire_late, _ = apply(
        book, T0 + timedelta(seconds=2), household_id="hh_b", source_id="f2"
    )
    fire, _ = apply(book, source_id="f1")
    done, _ = apply(book, source_id="h", kind=IncidentKind.HELP)
    book.resolve(done.id, "desk", "test", T0)
    assert book.active == [fire, fire_late, cold]
    assert book.incidents == [cold, fire_late, fire, done]


def test_log_pages_and_paged_volunteers() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    assert incident.log_pages() == []
    assert incident.paged_volunteers() == []
    incident.add_log(T0, "send_failed", "v_li", "page:0 notify.mobile_app_li: timeout")
    incident.add_log(T0, "sent", "v_li", "page:0 notify.sms_li")
    incident.add_log(T0, "unreachable", "v_wang", "page:0")
    incident.add_log(T0, "sent", "s_zhao", "inform notify.mobile_app_zhao")
    incident.add_log(T0, "sent", "v_li", "page:1 notify.sms_li")
    incident.add_log(T0, "sent", "v_x", "handled_by notify.mobile_app_x")
    incident.add_log(T0, LogEvent.ACCEPTED, "v_li")
    assert [entry.actor for entry in incident.log_pages()] == [
        "v_li",
        "v_li",
        "v_wang",
        "v_li",
    ]
    assert incident.paged_volunteers() == ["v_li", "s_zhao"]
    assert send_purpose("page:2 notify.x") == "page"
    assert send_purpose("inform") == "inform"
    assert send_purpose(None) == ""


def test_purge_keeps_open_and_recent() -> None:
    book = HubIncidentBook()
    old, _ = apply(book, T0 - timedelta(days=400), source_id="old")
    book.resolve(old.id, "desk", "false_alarm", T0 - timedelta(days=399))
    recent, _ = apply(
        book, T0 - timedelta(days=10), source_id="recent", kind=IncidentKind.HELP
    )
    book.resolve(recent.id, "desk", "resident_ok", T0 - timedelta(days=10))
    still_open, _ = apply(
        book, T0 - timedelta(days=500), source_id="open", kind=IncidentKind.COLD
    )
    imported = HubIncident(
        id="x" * 32,
        household_id=HH,
        kind=IncidentKind.TEST,
        colour=Triage.YELLOW,
        state=IncidentState.CANCELLED,
        created_at=T0 - timedelta(days=366),
    )
    book = HubIncidentBook.from_dict(
        {"incidents": [*book.as_dict()["incidents"], imported.as_dict()]}
    )
    assert book.purge(T0, timedelta(days=365)) == 2
    assert [item.source_ids for item in book.incidents] == [{"recent": 1}, {"open": 1}]
    assert book.by_source("old") is None
    assert book.purge(T0, timedelta(days=365)) == 0


def test_statistics() -> None:
    book = HubIncidentBook()
    today = T0.replace(hour=0)
    # Yesterday: accepted in 30 s and in 90 s; closed by the family in 20 s before
    # anyone accepted (not judged: no volunteer response to measure).
    fast, _ = apply(book, T0 - timedelta(days=1), source_id="a")
    book.accept(fast.id, "v", T0 - timedelta(days=1) + timedelta(seconds=30))
    slow, _ = apply(book, T0 - timedelta(days=1), source_id="b", kind=IncidentKind.HELP)
    book.accept(slow.id, "v", T0 - timedelta(days=1) + timedelta(seconds=90))
    family, _ = apply(book, T0 - timedelta(days=1), household_id="hh_b", source_id="c")
    apply(
        book,
        T0 - timedelta(days=1) + timedelta(seconds=20),
        household_id="hh_b",
        source_id="c",
        seq=2,
        state=IncidentState.RESOLVED,
    )
    # Today: one overdue without answer, one just received (not judged yet).
    apply(book, T0 - timedelta(minutes=5), source_id="d", kind=IncidentKind.INACTIVITY)
    apply(
        book,
        T0 - timedelta(seconds=10),
        household_id="hh_c",
        source_id="e",
        kind=IncidentKind.COLD,
    )
    # Not counted: tests, yellow, outside the window.
    test_alarm, _ = apply(
        book, T0 - timedelta(minutes=1), household_id="hh_t", source_id="t", test=True
    )
    book.household_offline("hh_x", T0 - timedelta(minutes=2))
    ancient, _ = apply(
        book, T0 - timedelta(days=40), household_id="hh_old", source_id="z"
    )
    book.accept(ancient.id, "v", T0 - timedelta(days=40) + timedelta(seconds=500))

    stats = book.statistics(T0, today_start=today)
    assert stats == Stats(
        open=6,
        today=3,
        median_ack_seconds=60.0,
        ack_within_target_pct=100.0 / 3,
        window_total=5,
        responded=2,
    )
    assert test_alarm.active
    assert (
        book.statistics(
            T0, today_start=today, target=timedelta(seconds=100)
        ).ack_within_target_pct
        == 200.0 / 3
    )


def test_statistics_without_data() -> None:
    book = HubIncidentBook()
    empty = book.statistics(T0, today_start=T0)
    assert empty == Stats(
        open=0,
        today=0,
        median_ack_seconds=None,
        ack_within_target_pct=None,
        window_total=0,
        responded=0,
    )
    apply(book)
    pending = book.statistics(T0 + timedelta(seconds=5), today_start=T0)
    assert (pending.median_ack_seconds, pending.ack_within_target_pct) == (None, None)
    assert (pending.open, pending.today, pending.window_total) == (1, 1, 1)


def test_month_figures_for_the_last_twelve_months() -> None:
    """Red/orange per calendar month (local time), oldest first; empty months too."""
    book = HubIncidentBook()
    # November (this month): accepted in 30 s and in 90 s, the first one rated 4,
    # the second one 5; one open and overdue (a miss).
    fast, _ = apply(book, T0 - timedelta(days=2), source_id="a")
    book.accept(fast.id, "v", fast.created_at + timedelta(seconds=30))
    book.resolve(fast.id, "v", "real_emergency", T0 - timedelta(days=2, hours=-1))
    book.answer_survey(fast.id, rating=4, via="household", now=T0 - timedelta(days=1))
    slow, _ = apply(book, T0 - timedelta(days=1), source_id="b", kind=IncidentKind.HELP)
    book.accept(slow.id, "v", slow.created_at + timedelta(seconds=90))
    book.resolve(slow.id, "v", "resident_ok", T0 - timedelta(hours=20))
    book.answer_survey(slow.id, rating=5, via="household", now=T0 - timedelta(hours=2))
    apply(book, T0 - timedelta(minutes=5), source_id="c", kind=IncidentKind.INACTIVITY)
    # Not counted: a test, a yellow one, one 13 months ago.
    apply(
        book, T0 - timedelta(minutes=1), household_id="hh_t", source_id="t", test=True
    )
    apply(
        book,
        T0 - timedelta(minutes=1),
        household_id="hh_y",
        source_id="y",
        kind=IncidentKind.SENSOR_FAULT,
    )
    apply(book, T0 - timedelta(days=400), household_id="hh_old", source_id="z")
    # 31 Aug 23:30 UTC is 1 Sep 07:30 in Shanghai: September there, August in UTC.
    edge_at = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)
    edge, _ = apply(book, edge_at, household_id="hh_e", source_id="e")
    book.accept(edge.id, "v", edge_at + timedelta(seconds=120))

    rows = month_figures(book.incidents, T0)
    assert [row["month"] for row in rows] == [
        *(f"2025-{month:02d}" for month in (12,)),
        *(f"2026-{month:02d}" for month in range(1, 12)),
    ]
    november = rows[-1]
    assert november == {
        "month": "2026-11",
        "incidents": 3,
        "responded": 2,
        "median_ack_seconds": 60.0,
        "ack_within_target_pct": 100.0 / 3,
        "surveys_answered": 2,
        "survey_average": 4.5,
    }
    by_month = {row["month"]: row for row in rows}
    assert by_month["2026-08"]["incidents"] == 1
    assert by_month["2026-08"]["ack_within_target_pct"] == 0.0
    assert by_month["2026-08"]["survey_average"] is None
    assert by_month["2026-10"] == {
        "month": "2026-10",
        "incidents": 0,
        "responded": 0,
        "median_ack_seconds": None,
        "ack_within_target_pct": None,
        "surveys_answered": 0,
        "survey_average": None,
    }
    shanghai = timezone(timedelta(hours=8))
    local = {
        row["month"]: row for row in month_figures(book.incidents, T0, tz=shanghai)
    }
    assert (local["2026-08"]["incidents"], local["2026-09"]["incidents"]) == (0, 1)
    # The book's method reads the same (only the recent end of the ledger).
    assert book.month_statistics(T0, tz=shanghai) == list(local.values())
    assert [row["month"] for row in month_figures([], T0, months=2)] == [
        "2026-10",
        "2026-11",
    ]


def test_clock_skew_never_gives_negative_times() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    book.accept(incident.id, "v", T0 - timedelta(seconds=3))
    assert book.statistics(T0, today_start=T0).median_ack_seconds == 0.0


def test_export_and_erase_household() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book, details={"message": "Grandma Li fell"})
    apply(book, seq=2, state=IncidentState.ACKNOWLEDGED, by="Li Ming (son)")
    incident.add_log(T0, "sent", "v_li", "page:0 notify.mobile_app_li")
    offline, _ = book.household_offline(HH, T0)
    other, _ = apply(
        book, household_id="hh_other", source_id="o", details={"message": "x"}
    )
    exported = book.export_household(HH)
    assert [item["id"] for item in exported] == [incident.id, offline.id]
    assert exported[0]["details"] == {
        "message": "Grandma Li fell",
        "sensor": "binary_sensor.kitchen_smoke",
    }
    assert book.erase_household(HH) == 2
    assert incident.details == {}
    assert offline.details == {"reason": OFFLINE_REASON}
    assert "Li Ming (son)" not in str(book.as_dict())
    assert [entry.detail for entry in incident.log] == [
        None,
        None,
        "page:0 notify.mobile_app_li",
    ]
    assert incident.acknowledged_by == ACTOR_FAMILY
    assert other.details == {"message": "x"}


def test_storage_round_trip() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book)
    book.accept(incident.id, "v_li", T0 + timedelta(seconds=20))
    book.on_the_way(incident.id, "v_li", T0 + timedelta(seconds=50))
    incident.escalation_step = 1
    incident.next_escalation_at = T0 + timedelta(minutes=5)
    book.household_offline("hh_b", T0)
    data = book.as_dict()
    again = HubIncidentBook.from_dict(data)
    assert again.as_dict() == data
    assert again.by_source("src1") is again.get(incident.id)
    assert again.get(incident.id).accepted_by == "v_li"
    assert HubIncidentBook.from_dict(None).incidents == []
    assert HubIncidentBook.from_dict("garbage").incidents == []
    minimal = HubIncident.from_dict(
        {
            "id": "a",
            "household_id": HH,
            "kind": "cold",
            "state": "open",
            "created_at": T0.isoformat(),
        }
    )
    assert (minimal.colour, minimal.test, minimal.source_ids, minimal.log) == (
        Triage.ORANGE,
        False,
        {},
        [],
    )


def test_configured_triage_colours_new_incidents() -> None:
    colours = dict.fromkeys(IncidentKind, Triage.RED)
    book = HubIncidentBook(triage=colours)
    incident, _ = apply(book, kind=IncidentKind.COLD)
    assert incident.colour is Triage.RED
    assert (
        HubIncidentBook.from_dict(None, triage=colours)
        .household_offline(HH, T0)[0]
        .colour
        is Triage.RED
    )


def test_incidents_csv() -> None:
    book = HubIncidentBook()
    incident, _ = apply(book, details={"message": "Grandma Li fell"})
    book.accept(incident.id, "v_li", T0 + timedelta(seconds=42))
    book.resolve(incident.id, "v_li", "resident_ok", T0 + timedelta(minutes=9))
    book.household_offline("hh_b", T0)
    text = incidents_csv(book)
    assert "Grandma" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == INCIDENT_COLUMNS
    assert rows[0]["kind"] == "fire"
    assert rows[0]["acknowledged_by"] == "v_li"
    assert rows[0]["seconds_to_acknowledge"] == "42"
    assert rows[0]["created_at"] == "2026-11-24T08:00:00+00:00"
    assert rows[0]["resolution"] == "resident_ok"
    assert rows[0]["test"] == "no"
    assert rows[0]["sources"] == "1"
    assert rows[1]["reason"] == "offline"
    assert rows[1]["acknowledged_at"] == ""
    assert rows[1]["seconds_to_acknowledge"] == ""
    china = timezone(timedelta(hours=8))
    local = list(csv.DictReader(io.StringIO(incidents_csv(book, tz=china))))
    assert local[0]["created_at"] == "2026-11-24T16:00:00+08:00"


def test_stored_log_is_built_on_first_use_only() -> None:
    """Years of closed incidents load without building their logs; nothing is lost."""
    book = HubIncidentBook()
    incident, _ = apply(book)
    book.accept(incident.id, "v_li", T0 + timedelta(seconds=30))
    stored = book.as_dict()
    loaded = HubIncidentBook.from_dict(stored)
    again = loaded.get(incident.id)
    assert again.entries is None  # not built yet
    assert loaded.as_dict() == stored  # written back as it was read
    assert again.entries is None
    assert again.log == incident.log  # built on first use
    again.add_log(T0 + timedelta(minutes=1), "note", "v_li", "all fine")
    assert loaded.as_dict()["incidents"][0]["log"][-1]["detail"] == "all fine"
    assert again.updated_at == T0 + timedelta(minutes=1)


def test_paused_gc_restores_the_collector() -> None:
    """The collector is paused while a ledger loads, and left as it was."""
    import gc

    from custom_components.silver_bell.core.hub.records import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
