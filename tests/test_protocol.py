"""Tests of the household <-> hub wire protocol (pure, no Home Assistant)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
import hashlib
import hmac
import json
from pathlib import Path
import re
from typing import Any

import pytest

from custom_components.silver_bell.core.bodies import (
    Heartbeat,
    IncidentMessage,
    InvalidField,
    Progress,
    fit_details,
    heartbeat_body,
    incident_body,
    parse_heartbeat,
    parse_incident,
    parse_progress,
    progress_body,
)
from custom_components.silver_bell.core.models import (
    Incident,
    IncidentKind,
    IncidentState,
)
from custom_components.silver_bell.core.protocol import (
    ERRORS,
    HEADER_HOUSEHOLD,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    MAX_BODY_BYTES,
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    TIMESTAMP_WINDOW_S,
    NonceCache,
    Pairing,
    RateLimiter,
    Rejection,
    canonical,
    decode_pairing,
    encode_body,
    encode_pairing,
    incident_path,
    new_household_id,
    new_nonce,
    new_secret,
    parse_json,
    sign,
    signed_headers,
    verify_request,
)

# The worked example of docs/protocol.md.
EXAMPLE_SECRET = "kP3vX9qL2mN8rT5wY7zA1bC4dE6fG0hJ-_sUuVvWwXx"  # noqa: S105 - public example
EXAMPLE_HOUSEHOLD = "hh_Q2x1c3RlcjA1"
EXAMPLE_TIMESTAMP = 1795507205  # 2026-11-24T08:00:05Z
EXAMPLE_NONCE = "9f86d081884c7d659a2feaa0c55ad015"
EXAMPLE_INCIDENT_ID = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"
EXAMPLE_BODY_SHA256 = "43e6eaf93f8ec4979a6d535c687d8bff63a2b040f911ec3f224408eed39a234d"
EXAMPLE_SIGNATURE = "e747e1981c08ba81e6744ce3089702d2f776dc1732d147c64d64443640839499"
EXAMPLE_GET_SIGNATURE = (
    "2815282251a0b1c069cfcc0309416c89732126ec9349b6d02fef135416ef2d3b"
)
EXAMPLE_PAIRING_CODE = (
    "SB1-eyJ1IjoiaHR0cHM6Ly9odWIuZXhhbXBsZS5vcmc6ODEyMyIsImgiOiJoaF9RMngxYzNSbGNqQTEi"
    "LCJzIjoia1Azdlg5cUwybU44clQ1d1k3ekExYkM0ZEU2ZkcwaEotX3NVdVZ2V3dYeCJ9"
)
DOCS = Path(__file__).parent.parent / "docs" / "protocol.md"

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
NOW = float(EXAMPLE_TIMESTAMP)
SECRET = "s" * 43
HOUSEHOLD = "hh_abcdefghijkl"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def example_incident() -> Incident:
    incident = Incident(
        kind=IncidentKind.HELP,
        created_at=T0,
        id=EXAMPLE_INCIDENT_ID,
        details={"source": "binary_sensor.help_button"},
    )
    incident.escalate(T0)
    return incident


def example_raw_body() -> bytes:
    return encode_body(incident_body(example_incident()))


def valid_incident(**changes: Any) -> dict[str, Any]:
    body = incident_body(example_incident())
    body["incident"].update(changes)
    return body


def secrets_of(known: dict[str, str]) -> Callable[[str], str | None]:
    calls: list[str] = []

    def secret_for(household_id: str) -> str | None:
        calls.append(household_id)
        return known.get(household_id)

    secret_for.calls = calls  # type: ignore[attr-defined]
    return secret_for


def request(
    *,
    body: bytes = b'{"v":1}',
    method: str = "POST",
    path: str = PATH_INCIDENTS,
    now: float = NOW,
    secret: str = SECRET,
    household: str = HOUSEHOLD,
    nonce: str | None = None,
) -> dict[str, str]:
    return signed_headers(household, secret, method, path, body, now=now, nonce=nonce)


def verify(
    headers: dict[str, str],
    *,
    body: bytes = b'{"v":1}',
    method: str = "POST",
    path: str = PATH_INCIDENTS,
    now: float = NOW,
    nonces: NonceCache | None = None,
    secret_for: Callable[[str], str | None] | None = None,
) -> str:
    return verify_request(
        headers,
        method,
        path,
        body,
        secret_for=secret_for or secrets_of({HOUSEHOLD: SECRET}),
        nonces=nonces if nonces is not None else NonceCache(),
        now=now,
    )


def rejected(call: Callable[[], Any]) -> Rejection:
    with pytest.raises(Rejection) as info:
        call()
    return info.value


# ------------------------------------------------------------------ basics
def test_paths() -> None:
    assert PATH_INCIDENTS == "/api/silver_bell/v1/incidents"
    assert PATH_HEARTBEAT == "/api/silver_bell/v1/heartbeat"
    assert incident_path("abc12345") == "/api/silver_bell/v1/incidents/abc12345"


def test_identifiers_are_random_and_well_formed() -> None:
    ids = {new_household_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"hh_[A-Za-z0-9_-]{12}", value) for value in ids)
    secret = new_secret()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
    assert new_secret() != secret
    nonce = new_nonce()
    assert re.fullmatch(r"[0-9a-f]{32}", nonce)
    assert new_nonce() != nonce


def test_errors_table() -> None:
    assert ERRORS == {
        "invalid": 400,
        "unsupported_version": 400,
        "missing_header": 401,
        "unknown_household": 401,
        "clock_skew": 401,
        "bad_signature": 401,
        "replayed": 401,
        "forbidden": 403,
        "not_found": 404,
        "method_not_allowed": 405,
        "timeout": 408,
        "no_survey": 409,
        "survey_closed": 409,
        "too_large": 413,
        "rate_limited": 429,
        "unavailable": 503,
    }


def test_rejection_body() -> None:
    plain = Rejection(403, "forbidden", "Not yours.")
    assert plain.body() == {"error": "forbidden", "message": "Not yours."}
    assert str(plain) == "403 forbidden: Not yours."
    full = Rejection(
        429, "rate_limited", "Slow down.", field="x", retry_after=3, server_time=1.5
    )
    assert full.body() == {
        "error": "rate_limited",
        "message": "Slow down.",
        "field": "x",
        "server_time": 1.5,
        "retry_after": 3,
    }
    assert (full.status, full.code, full.field) == (429, "rate_limited", "x")
    assert full.retry_after_header == "3"
    assert plain.retry_after_header is None


@pytest.mark.parametrize(
    ("wait", "body", "header"),
    [(0.2134, 0.214, "1"), (0.0001, 0.001, "1"), (1.0, 1, "1"), (30, 30, "30")],
)
def test_rejection_retry_after_exact_in_body_whole_seconds_in_header(
    wait: float, body: float, header: str
) -> None:
    """The body says when to come back to the millisecond (rounded up); HTTP whole seconds."""
    rejection = Rejection(429, "rate_limited", "Slow down.", retry_after=wait)
    assert rejection.body()["retry_after"] == body
    assert type(rejection.body()["retry_after"]) is type(body)
    assert rejection.retry_after_header == header


def test_parse_and_encode_json() -> None:
    assert parse_json(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    for garbage in (b"{", b"\xff\xfe", b"[" * 100_000, b""):
        rejection = rejected(partial(parse_json, garbage))
        assert (rejection.status, rejection.code, rejection.field) == (
            400,
            "invalid",
            "body",
        )
    assert encode_body({"b": "é", "a": [1]}) == '{"b":"é","a":[1]}'.encode()
    with pytest.raises(ValueError):
        encode_body({"x": float("nan")})


# ------------------------------------------------------------------ signing
def test_canonical_is_exactly_documented() -> None:
    body = b'{"v":1}'
    assert canonical("post", "/p", 12, "n" * 32, body) == (
        b"POST\n/p\n12\n"
        + b"n" * 32
        + b"\n"
        + hashlib.sha256(body).hexdigest().encode()
    )


def test_sign_is_hmac_sha256_over_canonical() -> None:
    expected = hmac.new(
        SECRET.encode(), canonical("GET", "/x", 5, "abc", b""), hashlib.sha256
    ).hexdigest()
    assert sign(SECRET, "GET", "/x", 5, "abc", b"") == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_worked_example_of_the_docs() -> None:
    raw = example_raw_body()
    assert hashlib.sha256(raw).hexdigest() == EXAMPLE_BODY_SHA256
    headers = signed_headers(
        EXAMPLE_HOUSEHOLD,
        EXAMPLE_SECRET,
        "POST",
        PATH_INCIDENTS,
        raw,
        now=EXAMPLE_TIMESTAMP + 0.7,  # seconds are floored
        nonce=EXAMPLE_NONCE,
    )
    assert headers == {
        HEADER_HOUSEHOLD: EXAMPLE_HOUSEHOLD,
        HEADER_TIMESTAMP: str(EXAMPLE_TIMESTAMP),
        HEADER_NONCE: EXAMPLE_NONCE,
        HEADER_SIGNATURE: EXAMPLE_SIGNATURE,
    }
    assert (
        sign(
            EXAMPLE_SECRET,
            "GET",
            incident_path(EXAMPLE_INCIDENT_ID),
            EXAMPLE_TIMESTAMP,
            EXAMPLE_NONCE,
            b"",
        )
        == EXAMPLE_GET_SIGNATURE
    )
    assert (
        encode_pairing(
            Pairing("https://hub.example.org:8123/", EXAMPLE_HOUSEHOLD, EXAMPLE_SECRET)
        )
        == EXAMPLE_PAIRING_CODE
    )


def test_docs_show_the_worked_example() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for value in (
        example_raw_body().decode(),
        EXAMPLE_SECRET,
        str(EXAMPLE_TIMESTAMP),
        EXAMPLE_NONCE,
        EXAMPLE_BODY_SHA256,
        EXAMPLE_SIGNATURE,
        EXAMPLE_GET_SIGNATURE,
        EXAMPLE_PAIRING_CODE,
    ):
        assert value in text
    for code, status in ERRORS.items():
        assert f"`{code}`" in text
        assert str(status) in text


def test_signed_headers_use_a_fresh_nonce_every_call() -> None:
    first = request()
    second = request()
    assert first[HEADER_NONCE] != second[HEADER_NONCE]
    assert first[HEADER_SIGNATURE] != second[HEADER_SIGNATURE]
    assert first[HEADER_TIMESTAMP] == str(EXAMPLE_TIMESTAMP)


# ------------------------------------------------------------- verification
def test_verify_accepts_a_signed_request() -> None:
    assert verify(request()) == HOUSEHOLD
    assert (
        verify(
            request(method="GET", path="/p", body=b""),
            method="get",
            path="/p",
            body=b"",
        )
        == HOUSEHOLD
    )


def test_verify_accepts_the_docs_example() -> None:
    raw = example_raw_body()
    headers = {
        HEADER_HOUSEHOLD: EXAMPLE_HOUSEHOLD,
        HEADER_TIMESTAMP: str(EXAMPLE_TIMESTAMP),
        HEADER_NONCE: EXAMPLE_NONCE,
        HEADER_SIGNATURE: EXAMPLE_SIGNATURE,
    }
    assert (
        verify(
            headers,
            body=raw,
            secret_for=secrets_of({EXAMPLE_HOUSEHOLD: EXAMPLE_SECRET}),
        )
        == EXAMPLE_HOUSEHOLD
    )


def test_header_lookup_is_case_insensitive() -> None:
    headers = {name.lower(): value for name, value in request().items()}
    assert verify(headers) == HOUSEHOLD
    upper = {name.upper(): value for name, value in request().items()}
    assert verify(upper) == HOUSEHOLD


def test_uppercase_hex_signature_is_accepted() -> None:
    headers = request()
    headers[HEADER_SIGNATURE] = headers[HEADER_SIGNATURE].upper()
    assert verify(headers) == HOUSEHOLD


def test_too_large_comes_first() -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    rejection = rejected(lambda: verify({}, body=body))
    assert (rejection.status, rejection.code) == (413, "too_large")
    at_limit = b"x" * MAX_BODY_BYTES
    assert verify(request(body=at_limit), body=at_limit) == HOUSEHOLD


@pytest.mark.parametrize(
    "header", [HEADER_HOUSEHOLD, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE]
)
def test_missing_header(header: str) -> None:
    headers = request()
    del headers[header]
    rejection = rejected(lambda: verify(headers))
    assert (rejection.status, rejection.code, rejection.field) == (
        401,
        "missing_header",
        header,
    )
    headers[header] = ""
    assert rejected(lambda: verify(headers)).code == "missing_header"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (HEADER_TIMESTAMP, "12.5"),
        (HEADER_TIMESTAMP, "-5"),
        (HEADER_TIMESTAMP, " 1795507205"),
        (HEADER_TIMESTAMP, "١٢٣"),  # non-ASCII digits int() would accept
        (HEADER_TIMESTAMP, "1" * 13),
        (HEADER_NONCE, "short"),
        (HEADER_NONCE, "n" * 65),
        (HEADER_NONCE, "has space in it 0123"),
    ],
)
def test_malformed_header(header: str, value: str) -> None:
    headers = request()
    headers[header] = value
    rejection = rejected(lambda: verify(headers))
    assert (rejection.status, rejection.code, rejection.field) == (
        401,
        "missing_header",
        header,
    )
    assert "malformed" in rejection.message


def test_unknown_household() -> None:
    secret_for = secrets_of({HOUSEHOLD: SECRET})
    rejection = rejected(
        lambda: verify(request(household="hh_other"), secret_for=secret_for)
    )
    assert (rejection.status, rejection.code) == (401, "unknown_household")
    # A malformed id is never looked up.
    weird = request(household="x" * 65)
    assert rejected(lambda: verify(weird, secret_for=secret_for)).code == (
        "unknown_household"
    )
    assert secret_for.calls == ["hh_other"]  # type: ignore[attr-defined]
    # A revoked household (no secret) is unknown as well.
    revoked = secrets_of({HOUSEHOLD: ""})
    assert rejected(lambda: verify(request(), secret_for=revoked)).code == (
        "unknown_household"
    )


@pytest.mark.parametrize("offset", [-TIMESTAMP_WINDOW_S, TIMESTAMP_WINDOW_S, 0])
def test_timestamp_exactly_at_the_window_edge_is_accepted(offset: int) -> None:
    assert verify(request(now=NOW + offset)) == HOUSEHOLD


@pytest.mark.parametrize("offset", [-TIMESTAMP_WINDOW_S - 1, TIMESTAMP_WINDOW_S + 1])
def test_clock_skew(offset: int) -> None:
    rejection = rejected(lambda: verify(request(now=NOW + offset)))
    assert (rejection.status, rejection.code) == (401, "clock_skew")
    assert rejection.server_time == NOW
    assert rejection.body()["server_time"] == NOW


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.5, 0.999])
def test_timestamp_window_is_whole_seconds_inclusive(fraction: float) -> None:
    """Stamps are whole seconds: 300 s away is accepted whatever the hub's fraction.

    Regression: the hub compared its float clock with the whole-second stamp, so
    a request stamped exactly 300 s ago was refused once any fraction had passed.
    """
    old = request(now=NOW - TIMESTAMP_WINDOW_S)
    future = request(now=NOW + TIMESTAMP_WINDOW_S)
    assert verify(old, now=NOW + fraction) == HOUSEHOLD
    assert verify(future, now=NOW + fraction) == HOUSEHOLD
    assert (
        rejected(
            lambda: verify(
                request(now=NOW - TIMESTAMP_WINDOW_S - 1), now=NOW + fraction
            )
        ).code
        == "clock_skew"
    )
    assert (
        rejected(
            lambda: verify(
                request(now=NOW + TIMESTAMP_WINDOW_S + 1), now=NOW + fraction
            )
        ).code
        == "clock_skew"
    )


def test_a_nonce_outlives_its_timestamp() -> None:
    """A request stamped +300 s stays valid for 601 s: its nonce is kept that long."""
    headers = request(now=NOW + TIMESTAMP_WINDOW_S)
    nonces = NonceCache()
    assert verify(headers, now=NOW, nonces=nonces) == HOUSEHOLD
    last_accepted_second = NOW + 2 * TIMESTAMP_WINDOW_S + 0.999
    assert (
        rejected(lambda: verify(headers, now=last_accepted_second, nonces=nonces)).code
        == "replayed"
    )
    assert (
        rejected(
            lambda: verify(headers, now=last_accepted_second + 0.001, nonces=nonces)
        ).code
        == "clock_skew"
    )


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "t" * 43},
        {"body": b'{"v":2}'},
        {"path": PATH_HEARTBEAT},
        {"method": "PUT"},
    ],
)
def test_bad_signature(tamper: dict[str, Any]) -> None:
    signing: dict[str, Any] = {
        "body": b'{"v":1}',
        "path": PATH_INCIDENTS,
        "method": "POST",
    }
    signing.update(tamper)
    headers = request(**signing)
    rejection = rejected(lambda: verify(headers))
    assert (rejection.status, rejection.code) == (401, "bad_signature")


@pytest.mark.parametrize("signature", ["zz" * 32, "ab", "é" * 64, "0" * 64])
def test_malformed_signature_is_a_bad_signature(signature: str) -> None:
    headers = request()
    headers[HEADER_SIGNATURE] = signature
    assert rejected(lambda: verify(headers)).code == "bad_signature"


def test_signature_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # protocol looks it up per call
    headers = request()
    assert verify(headers) == HOUSEHOLD
    assert calls == [(headers[HEADER_SIGNATURE], headers[HEADER_SIGNATURE])]
    headers = request(secret="t" * 43)
    rejected(lambda: verify(headers))
    assert len(calls) == 2
    # A malformed signature is compared too (against a placeholder).
    headers[HEADER_SIGNATURE] = "nope"
    rejected(lambda: verify(headers))
    assert len(calls) == 3


def test_replay_after_a_valid_signature_is_rejected() -> None:
    nonces = NonceCache()
    headers = request()
    assert verify(headers, nonces=nonces) == HOUSEHOLD
    rejection = rejected(lambda: verify(headers, nonces=nonces, now=NOW + 10))
    assert (rejection.status, rejection.code) == (401, "replayed")


def test_nonce_is_recorded_only_after_a_valid_signature() -> None:
    nonces = NonceCache()
    forged = request(secret="t" * 43, nonce="a" * 32)
    assert rejected(lambda: verify(forged, nonces=nonces)).code == "bad_signature"
    assert len(nonces) == 0
    # The household's real request with that nonce still goes through.
    genuine = request(nonce="a" * 32)
    assert verify(genuine, nonces=nonces) == HOUSEHOLD
    assert len(nonces) == 1


def test_nonce_is_not_recorded_on_earlier_rejections() -> None:
    nonces = NonceCache()
    rejected(lambda: verify(request(now=NOW - 1000), nonces=nonces))
    rejected(lambda: verify(request(household="hh_nobody"), nonces=nonces))
    assert len(nonces) == 0


def test_check_order() -> None:
    """Size, headers, household, clock, signature, replay - in this order."""
    big = b"x" * (MAX_BODY_BYTES + 1)
    assert rejected(lambda: verify({}, body=big)).code == "too_large"
    # Unknown household wins over a skewed clock and a bad signature.
    headers = request(household="hh_nobody", now=NOW - 1000, secret="t" * 43)
    assert rejected(lambda: verify(headers)).code == "unknown_household"
    # A skewed clock wins over a bad signature.
    headers = request(now=NOW - 1000, secret="t" * 43)
    assert rejected(lambda: verify(headers)).code == "clock_skew"


# --------------------------------------------------------------- nonce cache
def test_nonce_cache_basics() -> None:
    cache = NonceCache(window_s=10)
    assert cache.check_and_add("a", "n1", 0.0)
    assert not cache.check_and_add("a", "n1", 1.0)
    assert cache.check_and_add("b", "n1", 1.0)  # per household
    # Remembered for twice the window: a request stamped +window is valid that long.
    # (+1 s: timestamps are whole seconds, the last accepted second is whole.)
    assert not cache.check_and_add("a", "n1", 20.9)
    assert cache.check_and_add("a", "n1", 21.0)
    assert len(cache) == 2
    assert cache.check_and_add("c", "n1", 22.0)
    assert len(cache) == 2  # ("b", "n1") expired


def test_nonce_cache_is_bounded() -> None:
    cache = NonceCache(window_s=100, max_entries=3)
    for index in range(5):
        assert cache.check_and_add("a", f"n{index}", float(index))
    assert len(cache) == 3
    assert cache.check_and_add("a", "n0", 5.0)  # evicted, so accepted again
    assert not cache.check_and_add("a", "n4", 5.0)


def test_nonce_cache_survives_a_clock_going_backwards() -> None:
    cache = NonceCache(window_s=10)
    assert cache.check_and_add("a", "n1", 100.0)
    assert cache.check_and_add("a", "n2", 50.0)
    assert not cache.check_and_add("a", "n1", 60.0)
    assert not cache.check_and_add("a", "n2", 60.0)


@pytest.mark.parametrize(("window", "entries"), [(0, 10), (10, 0)])
def test_nonce_cache_arguments(window: int, entries: int) -> None:
    with pytest.raises(ValueError):
        NonceCache(window_s=window, max_entries=entries)


# --------------------------------------------------------------- rate limit
def test_rate_limiter_burst_then_sustained_rate() -> None:
    limiter = RateLimiter(burst=120, per_minute=60.0)
    for _ in range(120):
        assert limiter.acquire("a", 0.0) is None
    assert limiter.acquire("a", 0.0) == pytest.approx(1.0)
    assert limiter.acquire("a", 0.5) == pytest.approx(0.5)
    assert limiter.acquire("a", 1.0) is None
    assert limiter.acquire("a", 1.0) == pytest.approx(1.0)
    # Other households have their own bucket.
    assert limiter.acquire("b", 1.0) is None


def test_rate_limiter_refill_maths() -> None:
    limiter = RateLimiter(burst=10, per_minute=30.0)  # one token per 2 s
    for _ in range(10):
        assert limiter.acquire("a", 100.0) is None
    assert limiter.acquire("a", 100.0) == pytest.approx(2.0)
    assert limiter.acquire("a", 101.0) == pytest.approx(1.0)
    # 10 s later: 5 tokens.
    for _ in range(5):  # 0.5 + 10 s x 0.5/s = 5.5 tokens
        assert limiter.acquire("a", 111.0) is None
    assert limiter.acquire("a", 111.0) == pytest.approx(1.0)
    # The bucket never holds more than the burst.
    for _ in range(10):
        assert limiter.acquire("a", 10_000.0) is None
    assert limiter.acquire("a", 10_000.0) is not None


def test_rate_limiter_reserve_lets_new_alarms_through_an_empty_bucket() -> None:
    """Urgent requests take the bucket into debt; the sustained rate stays the same."""
    limiter = RateLimiter(burst=2, per_minute=60.0, reserve=3)
    assert limiter.acquire("a", 0.0) is None
    assert limiter.acquire("a", 0.0) is None
    assert limiter.acquire("a", 0.0) == pytest.approx(1.0)  # routine: wait
    for _ in range(3):  # new alarms: the reserve
        assert limiter.acquire("a", 0.0, urgent=True) is None
    # The reserve is used up: a flood of alarms waits too.
    assert limiter.acquire("a", 0.0, urgent=True) == pytest.approx(4.0)
    # The debt (3 tokens) is repaid before routine traffic passes again.
    assert limiter.acquire("a", 3.5) == pytest.approx(0.5)
    assert limiter.acquire("a", 4.0) is None
    # Urgent requests pass whenever the bucket is above the reserve's floor.
    assert limiter.acquire("a", 4.0, urgent=True) is None
    # Without a reserve, urgent is the same as routine.
    plain = RateLimiter(burst=1, per_minute=60.0)
    assert plain.acquire("a", 0.0, urgent=True) is None
    assert plain.acquire("a", 0.0, urgent=True) == pytest.approx(1.0)


def test_rate_limiter_clock_going_backwards_adds_nothing() -> None:
    limiter = RateLimiter(burst=1, per_minute=60.0)
    assert limiter.acquire("a", 100.0) is None
    assert limiter.acquire("a", 50.0) == pytest.approx(1.0)


def test_rate_limiter_forgets_full_buckets() -> None:
    limiter = RateLimiter(burst=2, per_minute=60.0)
    limiter.prune_above = 3
    for name in "abcd":
        assert limiter.acquire(name, 0.0) is None
    assert len(limiter) == 4
    assert limiter.acquire("e", 10.0) is None  # a-d are full again: forgotten
    assert len(limiter) == 1


@pytest.mark.parametrize(
    ("burst", "per_minute"), [(0, 60.0), (1, 0.0), (1, float("nan"))]
)
def test_rate_limiter_arguments(burst: int, per_minute: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(burst=burst, per_minute=per_minute)
    with pytest.raises(ValueError):
        RateLimiter(reserve=-1)


# ------------------------------------------------------------------ incident
def test_incident_body_and_round_trip() -> None:
    incident = example_incident()
    body = incident_body(incident)
    assert body == {
        "v": 1,
        "incident": {
            "id": EXAMPLE_INCIDENT_ID,
            "seq": 1,
            "kind": "help",
            "state": "open",
            "test": False,
            "created_at": "2026-11-24T08:00:00+00:00",
            "updated_at": "2026-11-24T08:00:00+00:00",
            "escalated_at": "2026-11-24T08:00:00+00:00",
            "details": {"source": "binary_sensor.help_button"},
            "by": "silver_bell",
            "note": None,
        },
    }
    message = parse_incident(json.loads(encode_body(body)))
    assert message == IncidentMessage(
        id=EXAMPLE_INCIDENT_ID,
        seq=1,
        kind=IncidentKind.HELP,
        state=IncidentState.OPEN,
        test=False,
        created_at=T0,
        updated_at=T0,
        escalated_at=T0,
        details={"source": "binary_sensor.help_button"},
        by="silver_bell",
        note=None,
    )


def test_incident_body_takes_by_and_note_from_the_audit() -> None:
    incident = example_incident()
    incident.transition(
        IncidentState.ACKNOWLEDGED, T0 + timedelta(minutes=1), "family:Li", "on my way"
    )
    inner = incident_body(incident)["incident"]
    assert (inner["state"], inner["seq"], inner["by"], inner["note"]) == (
        "acknowledged",
        2,
        "family:Li",
        "on my way",
    )
    assert inner["updated_at"] == "2026-11-24T08:01:00+00:00"
    inner = incident_body(incident, by="x" * 500, note="y" * 500)["incident"]
    assert inner["by"] == "x" * 200
    assert inner["note"] == "y" * 200
    parse_incident({"v": 1, "incident": inner})


def test_incident_body_never_sends_naive_times() -> None:
    naive = datetime(2026, 1, 1, 12, 0)
    incident = Incident(kind=IncidentKind.TEST, created_at=naive, test=True)
    inner = incident_body(incident)["incident"]
    assert inner["created_at"] == "2026-01-01T12:00:00+00:00"
    assert inner["escalated_at"] is None
    assert parse_incident({"v": 1, "incident": inner}).test is True


def test_fit_details_makes_anything_acceptable() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd"

    nested: list[Any] = [1]
    nested.append(nested)  # self-referencing
    details: dict[Any, Any] = {
        "message": "救命" * 2000,
        "nan": float("nan"),
        "when": T0,
        "odd": Odd(),
        "tuple": (1, 2.5, None, True),
        "nested": nested,
        "map": {1: {"a": {"b": {"c": 1}}}},
        "": "empty key dropped",
        "k" * 100: "long key cut",
    }
    details.update({f"extra{i}": i for i in range(40)})
    fitted = fit_details(details)
    assert len(fitted) == 32
    assert fitted["message"] == "救命" * 500
    assert fitted["nan"] is None
    assert fitted["when"] == str(T0)
    assert fitted["odd"] == "odd"
    assert fitted["tuple"] == [1, 2.5, None, True]
    assert fitted["map"] == {"1": {"a": {"b": "{'c': 1}"}}}
    assert "" not in fitted
    assert fitted["k" * 64] == "long key cut"
    parse_incident(valid_incident(details=fitted))
    # Duplicate keys after cutting keep the first.
    assert fit_details({"a" * 70: 1, "a" * 80: 2}) == {"a" * 64: 1}


def test_fit_details_drops_the_largest_entries_until_it_fits() -> None:
    details = {f"m{i}": "字" * 1000 for i in range(5)}  # 3000 bytes each
    details["source"] = "binary_sensor.help_button"
    fitted = fit_details(details)
    assert fitted["source"] == "binary_sensor.help_button"
    assert len(fitted) == 3
    assert len(json.dumps(fitted, ensure_ascii=False).encode()) <= 8192
    parse_incident(valid_incident(details=fitted))


def test_incident_optional_fields() -> None:
    body = valid_incident()
    for key in ("escalated_at", "details", "by", "note"):
        del body["incident"][key]
    message = parse_incident(body)
    assert (message.escalated_at, message.details, message.by, message.note) == (
        None,
        {},
        None,
        None,
    )
    assert parse_incident(valid_incident(details=None)).details == {}


def test_incident_forward_compatibility() -> None:
    """Unknown keys are ignored, up to 16 per object."""
    body = valid_incident(**{f"future{i}": i for i in range(16)})
    body.update({f"future{i}": i for i in range(16)})
    assert parse_incident(body).id == EXAMPLE_INCIDENT_ID
    rejection = rejected(
        lambda: parse_incident(valid_incident(**{f"f{i}": i for i in range(17)}))
    )
    assert (rejection.code, rejection.field) == ("invalid", "incident")
    body = valid_incident()
    body.update({f"future{i}": i for i in range(17)})
    assert rejected(lambda: parse_incident(body)).field == "body"


def test_incident_time_zones_are_kept() -> None:
    china = timezone(timedelta(hours=8))
    message = parse_incident(
        valid_incident(
            created_at="2026-11-24T16:00:00+08:00", updated_at="2026-11-24T08:00:00Z"
        )
    )
    assert message.created_at == T0
    assert message.created_at.tzinfo == china
    assert message.updated_at == T0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "body"),
        ("x", "body"),
        ({"incident": {}}, "v"),
        ({"v": "1", "incident": {}}, "v"),
        ({"v": True, "incident": {}}, "v"),
        ({"v": 1.0, "incident": {}}, "v"),
        ({"v": 1}, "incident"),
        ({"v": 1, "incident": []}, "incident"),
    ],
)
def test_incident_envelope(payload: Any, field: str) -> None:
    rejection = rejected(lambda: parse_incident(payload))
    assert (rejection.status, rejection.code, rejection.field) == (
        400,
        "invalid",
        field,
    )
    assert rejection.message.startswith(f"{field}: ")


@pytest.mark.parametrize("version", [0, 2, 99])
def test_unsupported_version(version: int) -> None:
    body = valid_incident()
    body["v"] = version
    rejection = rejected(lambda: parse_incident(body))
    assert (rejection.status, rejection.code, rejection.field) == (
        400,
        "unsupported_version",
        "v",
    )
    heartbeat = heartbeat_body(now=T0, open_incidents=0, version=None)
    heartbeat["v"] = version
    assert rejected(lambda: parse_heartbeat(heartbeat)).code == "unsupported_version"


BAD_INCIDENT_FIELDS: list[tuple[str, Any]] = [
    ("id", None),
    ("id", 12345678),
    ("id", "short"),
    ("id", "x" * 65),
    ("id", "has space 123"),
    ("id", "../../etc/passwd"),
    ("seq", None),
    ("seq", "1"),
    ("seq", True),
    ("seq", 1.0),
    ("seq", -1),
    ("seq", 1_000_001),
    ("kind", None),
    ("kind", "earthquake"),
    ("kind", "FIRE"),
    ("kind", 1),
    ("state", "closed"),
    ("state", None),
    ("test", None),
    ("test", 0),
    ("test", "false"),
    ("created_at", None),
    ("created_at", "yesterday"),
    ("created_at", "2026-11-24T08:00:00"),  # no time zone
    ("created_at", "2026-11-24"),
    ("created_at", 1795507200),
    ("created_at", "2026-11-24T08:00:00+00:00" + " " * 60),
    ("updated_at", "2026-13-01T00:00:00Z"),
    ("escalated_at", "soon"),
    ("escalated_at", 5),
    ("details", []),
    ("details", "text"),
    ("by", 5),
    ("by", "x" * 201),
    ("note", ["a"]),
    ("note", "x" * 201),
]


@pytest.mark.parametrize(("key", "value"), BAD_INCIDENT_FIELDS)
def test_incident_bad_field(key: str, value: Any) -> None:
    body = valid_incident()
    if value is None and key in ("id", "seq", "kind", "created_at", "test"):
        del body["incident"][key]  # missing
    else:
        body["incident"][key] = value
    rejection = rejected(lambda: parse_incident(body))
    assert (rejection.status, rejection.code, rejection.field) == (
        400,
        "invalid",
        f"incident.{key}",
    )
    assert rejection.body()["field"] == f"incident.{key}"


def test_incident_missing_required_fields_named_first_in_order() -> None:
    rejection = rejected(lambda: parse_incident({"v": 1, "incident": {}}))
    assert rejection.field == "incident.id"
    assert rejection.message == "incident.id: is required"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({f"k{i}": i for i in range(33)}, "incident.details"),
        ({"": 1}, "incident.details"),
        ({"k" * 65: 1}, "incident.details"),
        ({"a": float("nan")}, "incident.details.a"),
        ({"a": float("inf")}, "incident.details.a"),
        ({"a": {"b": [1, float("-inf")]}}, "incident.details.a.b[1]"),
        ({"a": [[[[1]]]]}, "incident.details.a[0][0][0]"),
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "incident.details.a.b.c.d"),
        ({"a": {1: 2}}, "incident.details.a"),
        ({"a": (1, 2)}, "incident.details.a"),
        ({"a": object()}, "incident.details.a"),
        ({"a": "x" * 8200}, "incident.details"),
    ],
)
def test_incident_bad_details(details: dict[Any, Any], field: str) -> None:
    rejection = rejected(lambda: parse_incident(valid_incident(details=details)))
    assert (rejection.code, rejection.field) == ("invalid", field)


def test_incident_details_at_the_limits_are_accepted() -> None:
    details: dict[str, Any] = {f"k{i}": i for i in range(31)}
    details["deep"] = {"a": [{"b": 1}, [1, 2.5, None, True, "s"]]}
    assert parse_incident(valid_incident(details=details)).details == details
    big = {"a": "x" * (8192 - len('{"a":""}'))}
    assert parse_incident(valid_incident(details=big)).details == big


# Three lists/objects nested below details (docs/protocol.md), and one more.
DETAILS_DEPTH_3 = [
    {"a": {"b": {"c": {"d": 1}}}},
    {"a": [[[1]]]},
    {"a": [{"b": [None, "s"]}]},
    {"a": {"b": {"c": {}}}},
]
DETAILS_DEPTH_4 = [
    ({"a": {"b": {"c": {"d": {}}}}}, "incident.details.a.b.c.d"),
    ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "incident.details.a.b.c.d"),
    ({"a": [[[[1]]]]}, "incident.details.a[0][0][0]"),
    ({"a": [{"b": [[]]}]}, "incident.details.a[0].b[0]"),
]


@pytest.mark.parametrize("details", DETAILS_DEPTH_3)
def test_incident_details_three_deep_are_accepted(details: dict[str, Any]) -> None:
    assert parse_incident(valid_incident(details=details)).details == details
    assert fit_details(details) == details  # the household sends them unchanged


@pytest.mark.parametrize(("details", "field"), DETAILS_DEPTH_4)
def test_incident_details_four_deep_are_refused(
    details: dict[str, Any], field: str
) -> None:
    rejection = rejected(lambda: parse_incident(valid_incident(details=details)))
    assert (rejection.code, rejection.field) == ("invalid", field)
    assert rejection.message == (
        f"{field}: nests more than 3 lists/objects deep below details"
    )
    # The household cuts the fourth level to its text, so it never sends one.
    parse_incident(valid_incident(details=fit_details(details)))


# ----------------------------------------------------------------- heartbeat
def test_heartbeat_round_trip() -> None:
    body = heartbeat_body(now=T0, open_incidents=2, version="0.1.0")
    assert body == {
        "v": 1,
        "heartbeat": {
            "sent_at": "2026-11-24T08:00:00+00:00",
            "open_incidents": 2,
            "version": "0.1.0",
        },
    }
    assert parse_heartbeat(json.loads(encode_body(body))) == Heartbeat(
        sent_at=T0, open_incidents=2, version="0.1.0"
    )
    clamped = heartbeat_body(now=T0, open_incidents=-3, version="v" * 100)["heartbeat"]
    assert (clamped["open_incidents"], clamped["version"]) == (0, "v" * 64)
    many = heartbeat_body(now=T0, open_incidents=10**9, version=None)
    assert parse_heartbeat(many).open_incidents == 10_000
    del many["heartbeat"]["version"]
    assert parse_heartbeat(many).version is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sent_at", "now"),
        ("open_incidents", -1),
        ("open_incidents", "2"),
        ("open_incidents", False),
        ("version", 1),
        ("version", "v" * 65),
    ],
)
def test_heartbeat_bad_field(key: str, value: Any) -> None:
    body = heartbeat_body(now=T0, open_incidents=0, version=None)
    body["heartbeat"][key] = value
    rejection = rejected(lambda: parse_heartbeat(body))
    assert (rejection.status, rejection.code, rejection.field) == (
        400,
        "invalid",
        f"heartbeat.{key}",
    )


def test_heartbeat_missing() -> None:
    assert rejected(lambda: parse_heartbeat({"v": 1})).field == "heartbeat"
    assert (
        rejected(lambda: parse_heartbeat({"v": 1, "heartbeat": {}})).field
        == "heartbeat.sent_at"
    )


# ------------------------------------------------------------------ progress
def example_progress() -> Progress:
    return Progress(
        id=EXAMPLE_INCIDENT_ID,
        state=IncidentState.ACKNOWLEDGED,
        colour="red",
        acknowledged_by="Wang Fang",
        acknowledged_at=T0 + timedelta(seconds=40),
        on_the_way_at=T0 + timedelta(seconds=90),
        resolved_at=None,
        resolution=None,
        updated_at=T0 + timedelta(seconds=90),
    )


def test_progress_round_trip() -> None:
    body = progress_body(example_progress())
    assert body == {
        "id": EXAMPLE_INCIDENT_ID,
        "state": "acknowledged",
        "colour": "red",
        "acknowledged_by": "Wang Fang",
        "acknowledged_at": "2026-11-24T08:00:40+00:00",
        "on_the_way_at": "2026-11-24T08:01:30+00:00",
        "resolved_at": None,
        "resolution": None,
        "updated_at": "2026-11-24T08:01:30+00:00",
        "survey": None,
    }
    assert parse_progress(json.loads(json.dumps(body))) == example_progress()
    long = progress_body(
        Progress(
            id=EXAMPLE_INCIDENT_ID,
            state=IncidentState.RESOLVED,
            colour="orange",
            acknowledged_by="n" * 300,
            acknowledged_at=None,
            on_the_way_at=None,
            resolved_at=T0,
            resolution="r" * 300,
            updated_at=T0,
        )
    )
    parsed = parse_progress(long)
    assert (parsed.acknowledged_by, parsed.resolution) == ("n" * 200, "r" * 200)
    minimal = {key: body[key] for key in ("id", "state", "colour", "updated_at")}
    minimal["something_new"] = 1
    assert parse_progress(minimal).acknowledged_by is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", "bad id"),
        ("state", "done"),
        ("colour", "green"),
        ("colour", None),
        ("acknowledged_by", 3),
        ("acknowledged_at", "later"),
        ("on_the_way_at", "2026-11-24T08:00:00"),
        ("resolved_at", 0),
        ("resolution", "r" * 201),
        ("updated_at", None),
    ],
)
def test_progress_garbage_names_the_field(key: str, value: Any) -> None:
    body = progress_body(example_progress())
    body[key] = value
    with pytest.raises(ValueError, match=rf"^progress\.{key}: ") as info:
        parse_progress(body)
    assert isinstance(info.value, InvalidField)
    assert info.value.field == f"progress.{key}"


def test_progress_not_an_object() -> None:
    with pytest.raises(ValueError, match="^progress: must be an object"):
        parse_progress(["x"])


# ------------------------------------------------------------------- pairing
def test_pairing_round_trip() -> None:
    pairing = Pairing("https://hub.example.org:8123", "hh_abc", new_secret())
    code = encode_pairing(pairing)
    assert code.startswith("SB1-")
    assert re.fullmatch(r"SB1-[A-Za-z0-9_-]+", code)
    assert decode_pairing(code) == pairing
    # Copy-paste damage that is harmless.
    wrapped = (
        "\n  " + "\n".join(code[i : i + 20] for i in range(0, len(code), 20)) + " \r\n"
    )
    assert decode_pairing(wrapped) == pairing
    assert decode_pairing("sb1-" + code[4:]) == pairing
    assert decode_pairing(code + "=" * (-len(code[4:]) % 4)) == pairing


def test_pairing_url_forms() -> None:
    for url, expected in (
        ("http://192.168.1.20:8123/", "http://192.168.1.20:8123"),
        ("https://hub.example.org/ha///", "https://hub.example.org/ha"),
        ("http://[fd00::1]:8124", "http://[fd00::1]:8124"),
    ):
        code = encode_pairing(Pairing(url, "hh_abc", "s" * 43))
        assert decode_pairing(code).url == expected


def test_pairing_repr_hides_the_secret() -> None:
    pairing = Pairing("https://hub", "hh_abc", "topsecretvalue-123")
    assert "topsecretvalue" not in repr(pairing)


def _raw_code(raw: bytes) -> str:
    return "SB1-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _code(data: Any) -> str:
    return _raw_code(json.dumps(data).encode())


GOOD = {"u": "https://hub.example.org", "h": "hh_abc", "s": "s" * 43}


@pytest.mark.parametrize(
    "code",
    [
        "",
        "   ",
        "SB1-",
        "SB2-" + _code(GOOD)[4:],
        _code(GOOD)[4:],  # prefix missing
        _code(GOOD)[:-10],  # truncated
        _code(GOOD) + "!",
        "SB1-" + "A" * 5000,
        "SB1-A",  # impossible base64 length
        "SB1-" + "_" * 8,  # not UTF-8 JSON
        _code([1, 2]),
        _code("text"),
        _code("[" * 3000),
        _raw_code(b"[" * 3000),  # too deep for the JSON decoder
        _code({**GOOD, "u": "ftp://hub.example.org"}),
        _code({**GOOD, "u": "https://"}),
        _code({**GOOD, "u": "hub.example.org"}),
        _code({**GOOD, "u": "https://user:pw@hub.example.org"}),
        _code({**GOOD, "u": "https://hub.example.org/?x=1"}),
        _code({**GOOD, "u": "https://hub.example.org/#top"}),
        _code({**GOOD, "u": "https://hub.example.org:99999"}),
        _code({**GOOD, "u": "https://hub.example.org:port"}),
        _code({**GOOD, "u": "https://hub example.org"}),
        _code({**GOOD, "u": "https://hub.example.org/" + "x" * 3000}),
        _code({**GOOD, "u": 5}),
        _code({**GOOD, "h": ""}),
        _code({**GOOD, "h": "bad id!"}),
        _code({**GOOD, "h": None}),
        _code({**GOOD, "s": "short"}),
        _code({**GOOD, "s": "has spaces in the secret"}),
        _code({**GOOD, "s": 123}),
        _code({"u": GOOD["u"], "h": GOOD["h"]}),
    ],
)
def test_pairing_garbage_is_a_wrong_code(code: str) -> None:
    with pytest.raises(ValueError, match="^wrong_code$"):
        decode_pairing(code)


def test_pairing_non_string() -> None:
    with pytest.raises(ValueError, match="^wrong_code$"):
        decode_pairing(None)  # type: ignore[arg-type]


def test_pairing_ignores_unknown_keys() -> None:
    assert decode_pairing(_code({**GOOD, "x": 1})) == Pairing(
        GOOD["u"], GOOD["h"], GOOD["s"]
    )
