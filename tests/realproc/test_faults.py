"""Faults with real processes: a killed or frozen hub, a killed household.

Every scenario counts what arrived instead of assuming it: each household
incident must be in the hub's ledger exactly once (as the source of exactly one
hub incident, with its last version), no push may reach a pretend phone twice,
and the household's outbox must end empty. The household's incidents are help
calls (pendant pressed and released, then resolved through silver_bell.resolve):
they leave the home at once, without the check-in grace of inactivity.

The household's HTTP client gives up after REQUEST_TIMEOUT_SECONDS (15 s) and
retries with backoff (5 s, 10 s, 20 s ... 5 min); the frozen-hub scenario pauses
the hub longer than that timeout, so the hub later answers requests the
household has already given up on.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
import http.client
import json
import re
import threading
import time
from typing import Any

from launcher import DemoPair, wait_for
import provision
import pytest

from custom_components.silver_bell.const import (
    PROGRESS_POLL_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
)
from custom_components.silver_bell.core.protocol import PATH_INCIDENTS, signed_headers
from custom_components.silver_bell.hub.links import LINK_PATH

SHORT_INCIDENTS = 3
LONG_INCIDENTS = 10
DELIVERY_TIMEOUT = 120  # seconds; the household's backoff reaches 20-40 s
QUIET_SECONDS = 2.0  # no new push for this long: the hub is done paging
GIVE_UP_SECONDS = 6.0  # ... or for this long while a page is still missing


# -- reading both sides ---------------------------------------------------------
def household_seqs(pair: DemoPair, incident_ids: list[str]) -> dict[str, int]:
    """The household's current version (seq) of each incident."""
    found = {item["id"]: int(item["seq"]) for item in pair.household_incidents()}
    return {incident_id: found[incident_id] for incident_id in incident_ids}


def by_source(pair: DemoPair) -> dict[str, list[dict[str, Any]]]:
    """Household incident id -> the hub incidents that name it as a source."""
    found: dict[str, list[dict[str, Any]]] = {}
    for incident in pair.hub_incidents():
        for source_id in incident.get("source_ids") or {}:
            found.setdefault(source_id, []).append(incident)
    return found


def delivered(pair: DemoPair, incident_ids: list[str]) -> bool:
    """Every version of every incident reached the hub, and the outbox is empty."""
    if pair.outbox_pending():
        return False
    wanted = household_seqs(pair, incident_ids)
    sources = by_source(pair)
    return all(
        len(sources.get(incident_id, [])) == 1
        and sources[incident_id][0]["source_ids"][incident_id] >= seq
        for incident_id, seq in wanted.items()
    )


def wait_delivered(pair: DemoPair, incident_ids: list[str]) -> None:
    wait_for(
        lambda: delivered(pair, incident_ids),
        timeout=DELIVERY_TIMEOUT,
        what=f"delivery of {len(incident_ids)} incidents to the hub",
        interval=0.5,
    )


def tags_of(pair: DemoPair, incident_ids: list[str]) -> set[str]:
    sources = by_source(pair)
    return {
        f"silver_bell_{hub['id']}"
        for incident_id in incident_ids
        for hub in sources.get(incident_id, [])
    }


def pushes_for(pair: DemoPair, tags: set[str]) -> list[dict[str, Any]]:
    return [push for push in pair.pushes() if push.get("tag") in tags]


def wait_quiet(pair: DemoPair, tags: set[str], timeout: float = 30) -> None:
    """Until no push came for QUIET_SECONDS and every hub incident paged its volunteer.

    A page still missing after GIVE_UP_SECONDS without any push is left to the
    caller's assertions (pages follow the intake within milliseconds).
    """
    state = {"count": -1, "since": time.monotonic()}

    def quiet() -> bool:
        pushes = pushes_for(pair, tags)
        paged = {
            push["tag"]
            for push in pushes
            if push["service"] == "volunteer_wang" and not push["clear"]
        }
        now = time.monotonic()
        if len(pushes) != state["count"]:
            state["count"] = len(pushes)
            state["since"] = now
            return False
        idle = now - state["since"]
        return idle >= QUIET_SECONDS and (paged == tags or idle >= GIVE_UP_SECONDS)

    wait_for(quiet, timeout=timeout, what="the hub's pages", interval=0.25)


def push_key(push: dict[str, Any]) -> str:
    return json.dumps(
        [push["service"], push["tag"], push["title"], push["message"], push["data"]],
        sort_keys=True,
        ensure_ascii=False,
    )


def assert_exactly_once(
    pair: DemoPair, incident_ids: list[str], paged: list[str]
) -> set[str]:
    """Each incident in exactly one hub incident, no push twice; the pushes' tags.

    ``paged``: the incidents the hub heard of while they were still open, each
    paged exactly once. A help call raised and resolved at home while the hub was
    unreachable reaches it as resolved (the outbox keeps only the newest of its
    "open" versions) and pages nobody.
    """
    assert len(set(incident_ids)) == len(incident_ids)
    wanted = household_seqs(pair, incident_ids)
    sources = by_source(pair)
    for incident_id, seq in wanted.items():
        hubs = sources.get(incident_id, [])
        assert len(hubs) == 1, f"{incident_id} is in {len(hubs)} hub incidents"
        assert hubs[0]["source_ids"][incident_id] == seq
        assert hubs[0]["kind"] == "help"
    # No hub incident names a source that is not one of the household's.
    known = {item["id"] for item in pair.household_incidents()}
    assert set(sources) <= known | {""}
    tags = tags_of(pair, incident_ids)
    wait_quiet(pair, tags)
    pushes = pushes_for(pair, tags)
    repeated = {key: n for key, n in Counter(map(push_key, pushes)).items() if n > 1}
    assert not repeated, f"pushes received more than once: {repeated}"
    # One first page per hub incident for the assigned volunteer (tier 1).
    pages = Counter(
        push["tag"]
        for push in pushes
        if push["service"] == "volunteer_wang"
        and not push["clear"]
        and any(
            str(action.get("action", "")).startswith("SILVER_BELL_ACK_")
            for action in push["data"].get("actions") or []
        )
    )
    assert pages == Counter(dict.fromkeys(tags_of(pair, paged), 1)), pages
    return tags


def ready(pair: DemoPair) -> None:
    """Both running and idle: no active help call, nothing in the household's outbox.

    (A help call closed at the hub stays active at the household until its next
    progress poll, up to a minute: a new press would only add to it.)
    """
    for process in (pair.household, pair.hub):
        if not process.alive():
            process.restart()
        process.resume()
    for item in pair.household_incidents("help"):
        if item["state"] in ("open", "acknowledged"):
            pair.household_call(
                "resolve", {"incident_id": item["id"], "resolution": "test"}
            )
    wait_for(
        lambda: not pair.outbox_pending(),
        timeout=DELIVERY_TIMEOUT,
        what="an empty outbox before the test",
        interval=0.5,
    )


def raise_incidents(pair: DemoPair, count: int) -> list[str]:
    return [pair.help_incident_cycle() for _ in range(count)]


def wait_pending(pair: DemoPair, count: int) -> None:
    """Until the household's outbox on disk holds at least ``count`` items."""
    wait_for(
        lambda: len(pair.outbox_pending()) >= count,
        timeout=30,
        what=f"{count} items in the household's outbox",
    )


# -- scenarios ---------------------------------------------------------------------
def hub_killed(pair: DemoPair, count: int, outage: float) -> None:
    ready(pair)
    # One incident delivered before the crash, open while the hub dies.
    before = pair.help_incident_cycle(resolve=False)
    wait_delivered(pair, [before])
    pair.hub.kill()
    started = time.monotonic()
    pair.household_call("resolve", {"incident_id": before})
    incident_ids = raise_incidents(pair, count)
    # Every incident waits in the outbox, on disk (the hub is gone): the newest
    # version of each (resolved), and the resolution of the one delivered before.
    wait_pending(pair, count + 1)
    wait_for(
        lambda: time.monotonic() - started >= outage,
        timeout=outage + 1,
        what="the outage",
    )
    pair.hub.restart()
    everything = [before, *incident_ids]
    wait_delivered(pair, everything)
    assert_exactly_once(pair, everything, paged=[before])


def household_killed(pair: DemoPair, count: int) -> None:
    ready(pair)
    pair.hub.stop()
    incident_ids = raise_incidents(pair, count)
    # Each incident's newest version ("resolved") is in the outbox on disk.
    wait_for(
        lambda: (
            sum(
                item["body"]["incident"]["state"] == "resolved"
                for item in pair.outbox_pending()
            )
            >= count
        ),
        timeout=30,
        what=f"{count} resolved versions in the household's outbox",
    )
    pending = {item["id"] for item in pair.outbox_pending()}
    pair.household.kill()
    # What the dead household left on disk is the whole outbox.
    assert {item["id"] for item in pair.outbox_pending()} == pending
    # Both come back at once (as after a power cut): the household first finds
    # the hub starting, then delivers its outbox.
    pair.household.start()
    pair.hub.start()
    pair.household.wait_ready()
    pair.hub.wait_ready()
    wait_delivered(pair, incident_ids)
    assert_exactly_once(pair, incident_ids, paged=[])


def hub_frozen(pair: DemoPair, count: int, pause: float) -> None:
    assert pause > REQUEST_TIMEOUT_SECONDS
    ready(pair)
    pair.hub.pause()
    started = time.monotonic()
    try:
        incident_ids = raise_incidents(pair, count)
        # The first "open" version is on the wire (the frozen hub holds it); the
        # others were superseded by their "resolved" versions.
        wait_pending(pair, count + 1)
        wait_for(
            lambda: time.monotonic() - started >= pause,
            timeout=pause + 1,
            what="the pause",
        )
        # The hub never answered: everything is still pending.
        assert len(pair.outbox_pending()) >= count
    finally:
        pair.hub.resume()
    wait_delivered(pair, incident_ids)
    assert_exactly_once(pair, incident_ids, paged=incident_ids[:1])


def test_pair_settings_are_on_disk(pair: DemoPair) -> None:
    """What a SIGKILL leaves is the whole configuration (DemoPair.settle).

    Home Assistant writes config entries a moment after they change. In CI the
    first kill came seconds after provisioning: the restarted hub had no Silver
    Bell entry on disk and never came up; a hub restarted from older options
    has no WeCom channel. Both entries must be on disk, complete, before the
    first fault.
    """
    hub = pair.hub.entry_on_disk(str(pair.hub_api.extra["entry_id"]))
    assert hub is not None, "the hub's Silver Bell entry is not on disk"
    options = hub["options"]
    assert [(c["type"], c["id"]) for c in options["channels"]] == [
        ("wecom", provision.WECOM_CHANNEL_ID)
    ]
    assert options["public_url"] == pair.hub.url
    assert options["duty_staff"]
    household_id, secret = _household_pairing(pair)
    assert household_id and secret


@pytest.mark.timeout(240)
def test_hub_sigkill_exactly_once(pair: DemoPair) -> None:
    """Hub SIGKILLed while the household raises and resolves incidents."""
    hub_killed(pair, SHORT_INCIDENTS, outage=2)


@pytest.mark.timeout(240)
def test_household_sigkill_outbox_survives(pair: DemoPair) -> None:
    """Household SIGKILLed with a full outbox (hub stopped): nothing lost or doubled."""
    household_killed(pair, SHORT_INCIDENTS)


@pytest.mark.timeout(240)
def test_hub_sigstop_longer_than_client_timeout(pair: DemoPair) -> None:
    """Hub frozen (SIGSTOP) past the household's request timeout, then SIGCONT.

    Regression: the household hung up, Home Assistant cancelled the handler at the
    hub's Store write, and the help call stayed stored but never paged.
    """
    hub_frozen(pair, 1, pause=REQUEST_TIMEOUT_SECONDS + 1)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_hub_sigkill_long(pair: DemoPair) -> None:
    hub_killed(pair, LONG_INCIDENTS, outage=60)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_household_sigkill_long(pair: DemoPair) -> None:
    household_killed(pair, LONG_INCIDENTS)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_hub_sigstop_long(pair: DemoPair) -> None:
    hub_frozen(pair, 3, pause=3 * REQUEST_TIMEOUT_SECONDS + 5)


# -- escalation across a crash and a freeze --------------------------------------------
def set_tier2(pair: DemoPair, minutes: int) -> None:
    """The hub's red tier-2 delay (options flow 'hub_settings'; reloads the hub entry)."""
    entry_id = str(pair.hub_api.extra["entry_id"])
    result, _ = provision.run_menu_form(
        pair.hub_api,
        "/api/config/config_entries/options/flow",
        start={"handler": entry_id},
        menu_step="init",
        choice="hub_settings",
        values={"red_tier2_after": minutes},
        what="hub settings",
    )
    assert result["type"] == "create_entry"
    pair.hub.wait_ready()
    # On disk before a test kills the hub (Home Assistant writes it a moment later).
    wait_for(
        lambda: (
            ((pair.hub.entry_on_disk(entry_id) or {}).get("options", {})).get(
                "red_tier2_after"
            )
            == minutes
        ),
        timeout=30,
        what="the hub settings on disk",
    )


def escalation_survives(pair: DemoPair, fault: str) -> None:
    ready(pair)
    set_tier2(pair, 1)
    try:
        incident_id = pair.help_incident_cycle(resolve=False)
        wait_delivered(pair, [incident_id])
        hub = by_source(pair)[incident_id][0]
        tag = f"silver_bell_{hub['id']}"
        wait_for(
            lambda: any(
                p["service"] == "volunteer_wang" for p in pushes_for(pair, {tag})
            ),
            timeout=30,
            what="the first page",
        )
        first_page = min(
            p["wall"]
            for p in pushes_for(pair, {tag})
            if p["service"] == "volunteer_wang"
        )
        if fault == "kill":
            pair.hub.kill()
            pair.hub.restart()
        else:  # frozen across the moment tier 2 is due
            pair.hub.pause()
            wait_for(
                lambda: time.time() > first_page + 70,
                timeout=80,
                what="the tier-2 moment",
                interval=1,
            )
            pair.hub.resume()
        wait_for(
            lambda: any(
                p["service"] == "volunteer_zhao" for p in pushes_for(pair, {tag})
            ),
            timeout=150,
            what="the tier-2 page to the backup volunteer",
            interval=1,
        )
        tier2 = [p for p in pushes_for(pair, {tag}) if p["service"] == "volunteer_zhao"]
        assert tier2[0]["wall"] >= first_page + 60 - 1
        wait_quiet(pair, {tag})
        pushes = pushes_for(pair, {tag})
        assert [p["service"] for p in pushes].count("volunteer_zhao") == 1
        repeated = [k for k, n in Counter(map(push_key, pushes)).items() if n > 1]
        assert not repeated
        pair.hub_call(
            "hub_resolve",
            {"incident_id": hub["id"], "resolution": "test"},
            response=False,
        )
    finally:
        set_tier2(pair, 2)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_escalation_after_hub_sigkill(pair: DemoPair) -> None:
    """An unaccepted red incident still escalates to tier 2 after a hub crash."""
    escalation_survives(pair, "kill")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_escalation_after_hub_sigstop(pair: DemoPair) -> None:
    """Frozen past the tier-2 moment, the hub escalates once when it thaws."""
    escalation_survives(pair, "pause")


@pytest.mark.timeout(300)
def test_resolved_call_never_closes_a_later_open_call(pair: DemoPair) -> None:
    """Issue 15, defect 1, as the tester reproduced it with real processes.

    Hub frozen; help call #1 raised and resolved at once ("I'm OK"); help call #2
    raised and left open; the hub thaws after 20 s. Whatever order the outbox's
    messages are applied in, #2 stays open at the hub and at the household
    (across a progress poll), and is paged.
    """
    ready(pair)
    pair.hub.pause()
    started = time.monotonic()
    try:
        first = pair.help_incident_cycle()
        second = pair.help_incident_cycle(resolve=False)
        wait_for(
            lambda: time.monotonic() - started >= 20,
            timeout=21,
            what="the pause",
        )
    finally:
        pair.hub.resume()
    wait_delivered(pair, [first, second])
    hub = by_source(pair)[second][0]
    assert hub["state"] in ("open", "acknowledged"), hub
    tag = f"silver_bell_{hub['id']}"
    wait_for(
        lambda: any(
            p["service"] == "volunteer_wang" and not p["clear"]
            for p in pushes_for(pair, {tag})
        ),
        timeout=30,
        what="the page for the open call",
    )
    # The household polls the hub's progress every PROGRESS_POLL_SECONDS: after
    # a poll its own call #2 is still open (it was resolved "by hub:hub" before).
    polled = time.monotonic() + PROGRESS_POLL_SECONDS + 5
    wait_for(
        lambda: time.monotonic() >= polled,
        timeout=PROGRESS_POLL_SECONDS + 10,
        what="a poll",
        interval=1,
    )
    states = {item["id"]: item["state"] for item in pair.household_incidents("help")}
    assert states[first] == "resolved"
    assert states[second] == "open"
    assert by_source(pair)[second][0]["state"] in ("open", "acknowledged")
    assert not any(push.get("clear") for push in pushes_for(pair, {tag}))


def _household_pairing(pair: DemoPair) -> tuple[str, str]:
    """The paired household's id and secret, from its config entries on disk.

    Home Assistant writes config entries a moment after they change: wait for it.
    """
    path = pair.household.dir / ".storage" / "core.config_entries"

    def paired() -> tuple[str, str] | None:
        entries = json.loads(path.read_text(encoding="utf-8"))["data"]["entries"]
        for entry in entries:
            data = entry.get("data") or {}
            if entry.get("domain") == "silver_bell" and data.get("secret"):
                return str(data["household_id"]), str(data["secret"])
        return None

    found: tuple[str, str] = wait_for(
        paired, timeout=30, what="the paired household on disk"
    )
    return found


def _post_incident(
    hub_url: str, household_id: str, secret: str, incident_id: str
) -> int | None:
    """POST one already-resolved incident (stored, pages nobody); its status or None."""
    now = datetime.now(UTC).isoformat()
    body = json.dumps(
        {
            "v": 1,
            "incident": {
                "id": incident_id,
                "seq": 1,
                "kind": "help",
                "state": "resolved",
                "test": False,
                "created_at": now,
                "updated_at": now,
                "escalated_at": now,
                "details": {},
            },
        }
    ).encode()
    headers = signed_headers(
        household_id, secret, "POST", PATH_INCIDENTS, body, now=time.time()
    )
    headers["Content-Type"] = "application/json"
    host, port = hub_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", PATH_INCIDENTS, body=body, headers=headers)
        return int(connection.getresponse().status)
    except (OSError, http.client.HTTPException):
        return None  # the hub died under the request: not answered
    finally:
        connection.close()


@pytest.mark.timeout(300)
def test_hub_sigkill_during_writes_keeps_every_answered_incident(
    pair: DemoPair,
) -> None:
    """Issue 18: kill -9 while the hub writes its SQLite ledger loses nothing it answered 2xx.

    Four clients post a stream of new incidents; the hub is SIGKILLed after the
    first 20 answers, in the middle of the stream. After a restart every incident
    that got a 2xx is in the ledger (those cut off are the household's to resend).
    """
    ready(pair)
    household_id, secret = _household_pairing(pair)
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        for index in range(40):
            if stop.is_set():
                return
            incident_id = f"{number:02x}{index:06x}c0ffee00"
            status = _post_incident(pair.hub.url, household_id, secret, incident_id)
            if status is not None and 200 <= status < 300:
                with lock:
                    answered.append(incident_id)
            elif status is None:
                return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(answered) >= 20, timeout=60, what="20 answered posts")
        pair.hub.kill()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    with lock:
        kept = list(answered)
    assert len(kept) >= 20
    pair.hub.restart()
    sources = by_source(pair)
    missing = [incident_id for incident_id in kept if incident_id not in sources]
    assert not missing, f"{len(missing)} of {len(kept)} answered incidents lost"


# -- the hub's own channels: the pretend WeCom robot (issue 23) ---------------------
def _link_request(
    url: str, method: str, form: dict[str, str] | None = None
) -> tuple[int, str]:
    """GET or POST (a form, as the page's buttons do) one accept link."""
    split = url.removeprefix("http://")
    hostport, path = split.split("/", 1)
    host, port = hostport.split(":")
    body = "&".join(f"{key}={value}" for key, value in (form or {}).items()).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, f"/{path}", body=body or None, headers=headers)
        response = connection.getresponse()
        return int(response.status), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _hub_progress(pair: DemoPair, incident_id: str) -> dict[str, Any]:
    """The progress the household reads from the hub (its signed GET)."""
    household_id, secret = _household_pairing(pair)
    path = f"{PATH_INCIDENTS}/{incident_id}"
    headers = signed_headers(household_id, secret, "GET", path, b"", now=time.time())
    host, port = pair.hub.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        assert response.status == 200, response.status
        return dict(json.loads(response.read())["progress"])
    finally:
        connection.close()


def wecom_page(pair: DemoPair) -> tuple[str, dict[str, Any], str, float]:
    """A help call while Wang Fang's app fails: (incident, hub incident, link, delay).

    Wang Fang's channels are [her app, wecom:demo] (demo/provision.py); her
    pretend phone is switched to fail, so the hub tries the next channel at
    once. ``delay``: seconds from the failed push to the WeCom message (both
    wall times recorded on this machine).
    """
    ready(pair)
    before = len(pair.robot_messages())
    pair.fail_phone("volunteer_wang")
    try:
        incident_id = pair.help_incident_cycle(resolve=False)
        wait_delivered(pair, [incident_id])
        hub = by_source(pair)[incident_id][0]
        tag = f"silver_bell_{hub['id']}"
        messages = wait_for(
            lambda: pair.robot_messages()[before:],
            timeout=30,
            what="the WeCom page",
        )
    finally:
        pair.fail_phone("volunteer_wang", failing=False)
    failed = [
        p
        for p in pushes_for(pair, {tag})
        if p["service"] == "volunteer_wang" and p.get("failed")
    ]
    assert failed, "the app push did not fail"
    assert len(messages) == 1, messages
    page = messages[0]
    assert page["mentioned"] == ["13800000001"]
    # No personal data in a group message; a link to this hub.
    for personal in ("李奶奶", "Grandma Li", "3-201", "1234 5678"):
        assert personal not in page["text"], page["text"]
    match = re.search(
        rf"{re.escape(pair.hub.url)}{LINK_PATH}/[A-Za-z0-9_-]{{32}}", page["text"]
    )
    assert match, page["text"]
    return incident_id, hub, match.group(0), page["wall"] - failed[0]["wall"]


@pytest.mark.timeout(240)
def test_app_push_fails_wecom_page_within_2s(pair: DemoPair) -> None:
    """Issue 23: the companion-app push fails -> the WeCom page goes out within 2 s."""
    _, hub, _, delay = wecom_page(pair)
    assert 0 <= delay < 2.0, f"WeCom page {delay:.3f} s after the failed push"
    pair.hub_call(
        "hub_resolve", {"incident_id": hub["id"], "resolution": "test"}, response=False
    )


@pytest.mark.timeout(240)
def test_accept_link_once_then_refused(pair: DemoPair) -> None:
    """Issue 23: a WeCom accept link accepts once; again 409; after the end 410.

    The link is a group link: the page asks for the volunteer number and PIN.
    Refused uses change nothing at the hub (its progress, its ledger entry).
    """
    incident_id, hub, link, _ = wecom_page(pair)
    status, text = _link_request(link, "GET")
    assert status == 200 and 'name="pin"' in text, (status, text)
    form = {
        "action": "accept",
        "volunteer": provision.WECOM_VOLUNTEER,
        "pin": provision.WECOM_PIN,
    }
    status, text = _link_request(link, "POST", form)
    assert status == 200, (status, text)
    progress = _hub_progress(pair, incident_id)
    assert progress["state"] == "acknowledged", progress
    assert progress["acknowledged_by"] == "Wang Fang 王芳", progress
    accepted = by_source(pair)[incident_id][0]
    # The same link, the same action: refused, nothing changes.
    status, _ = _link_request(link, "POST", form)
    assert status == 409
    assert _hub_progress(pair, incident_id) == progress
    assert by_source(pair)[incident_id][0] == accepted

    pair.hub_call(
        "hub_resolve", {"incident_id": hub["id"], "resolution": "test"}, response=False
    )
    resolved = _hub_progress(pair, incident_id)
    assert resolved["state"] == "resolved"
    after = by_source(pair)[incident_id][0]
    # After the end: refused (410) for either action, and nothing changes.
    for action in ("accept", "on_the_way"):
        status, _ = _link_request(link, "POST", {**form, "action": action})
        assert status == 410, (action, status)
    status, _ = _link_request(link, "GET")
    assert status == 410
    assert _hub_progress(pair, incident_id) == resolved
    assert by_source(pair)[incident_id][0] == after
