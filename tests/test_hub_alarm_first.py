"""New alarms first: a household's routine traffic never delays its next help call.

Regression of issue 18's one-second tail (scripts/bench_e2e, p99 1 026 ms): the
benchmark's household, sending an "open" and a "resolved" message per help call,
had used up its token bucket, so the hub answered the next help call ``429`` with
``Retry-After: 1`` (a wait of a fraction of a second, rounded up to whole
seconds) and the household sent it again one second later. Now a message that
opens an incident the hub does not have yet may take the bucket into debt (the
limiter's reserve), and every 429 carries the exact wait in its body.
"""

from __future__ import annotations

import json
import math
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.silver_bell.const import RATE_ALARM_RESERVE
from custom_components.silver_bell.core.bodies import heartbeat_body
from custom_components.silver_bell.core.protocol import (
    PATH_HEARTBEAT,
    PATH_INCIDENTS,
    RateLimiter,
    decode_pairing,
)

from .test_hub import Pager, _hub, _signed, _start_hub


def _message(incident_id: str, state: str = "open", seq: int = 1) -> bytes:
    now = dt_util.utcnow().isoformat()
    return json.dumps(
        {
            "v": 1,
            "incident": {
                "id": incident_id,
                "seq": seq,
                "kind": "help",
                "state": state,
                "test": False,
                "created_at": now,
                "updated_at": now,
                "escalated_at": now,
                "details": {},
                **({"by": "family"} if state != "open" else {}),
            },
        },
        separators=(",", ":"),
    ).encode()


async def test_new_help_call_passes_an_empty_bucket(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Updates and heartbeats wait for the bucket; a new help call does not."""
    pager = Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    pairing = decode_pairing(code)
    hub = _hub(hub_entry)
    assert hub.limiter.reserve == RATE_ALARM_RESERVE >= 1  # shipped default
    # Two tokens, practically no refill: the test does not depend on the clock.
    hub.limiter = RateLimiter(burst=2, per_minute=0.001, reserve=2)

    async def post(path: str, body: bytes) -> tuple[int, Any, Any]:
        response = await _signed(
            client, "POST", path, body, pairing.household_id, pairing.secret
        )
        return response.status, response.headers, await response.json()

    # The routine traffic of one help call uses the bucket up.
    assert (await post(PATH_INCIDENTS, _message("a000000000000001")))[0] == 200
    resolved = _message("a000000000000001", "resolved", seq=2)
    assert (await post(PATH_INCIDENTS, resolved))[0] == 200
    assert not hub.incidents.active
    beat = json.dumps(
        heartbeat_body(now=dt_util.utcnow(), open_incidents=0, version=None)
    ).encode()
    status, headers, answer = await post(PATH_HEARTBEAT, beat)
    assert (status, answer["error"]) == (429, "rate_limited")
    # The exact wait in the body, whole seconds (rounded up) in the header.
    assert headers["Retry-After"] == str(math.ceil(answer["retry_after"]))
    pages_before = len(pager.messages("mobile_app_wang"))

    # The next help call is taken and paged at once all the same.
    status, _, answer = await post(PATH_INCIDENTS, _message("b000000000000002"))
    assert (status, answer["progress"]["state"]) == (200, "open")
    [incident] = hub.incidents.active
    await hass.async_block_till_done()
    assert len(pager.messages("mobile_app_wang")) == pages_before + 1
    assert pager.messages("mobile_app_wang")[-1]["data"]["tag"].endswith(incident.id)

    # Its update is routine traffic: it waits until the debt is repaid.
    status, _, answer = await post(
        PATH_INCIDENTS, _message("b000000000000002", "acknowledged", seq=2)
    )
    assert (status, answer["error"]) == (429, "rate_limited")
    # A repeat of an incident the hub has is no new alarm either.
    assert (await post(PATH_INCIDENTS, _message("b000000000000002")))[0] == 429
    # Nor is a new incident that is closed already, or a body that is no incident.
    assert (
        await post(PATH_INCIDENTS, _message("e000000000000005", "resolved", seq=2))
    )[0] == 429
    assert (await post(PATH_INCIDENTS, b'{"v": 1}'))[0] == 429
    # The reserve is bounded: a flood of new incidents is still limited.
    assert (await post(PATH_INCIDENTS, _message("c000000000000003")))[0] == 200
    status, _, answer = await post(PATH_INCIDENTS, _message("d000000000000004"))
    assert (status, answer["error"]) == (429, "rate_limited")
    assert hub.incidents.by_source("d000000000000004") is None
    assert incident.state.value == "open"  # the refused update changed nothing
