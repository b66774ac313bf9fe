"""Bring a fresh demo Home Assistant to a usable state through its REST API.

1. onboarding (owner account, core config, analytics, integration step), or a
   normal login when that was done on an earlier run;
2. the Silver Bell household config entry, through the config-flow API;
3. short demo thresholds, through the options-flow API.

Everything is idempotent: a second run logs in and reuses the entry.
Writes the tokens for demo/scenario.py to STATE_FILE (mode 600).
Exit codes: 0 ok, 1 Home Assistant problem, 3 Silver Bell could not be set up.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
import sys
import time
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client import ApiError, Client, wait_until_up

DOMAIN = "silver_bell"
USERNAME = "demo"
PASSWORD = "silverbell-demo"
OWNER_NAME = "Demo caregiver"
HOUSEHOLD_NAME = "Grandma Li / 李奶奶"

# The simulated sensors from demo/configuration.yaml.
HOUSEHOLD = {
    "name": HOUSEHOLD_NAME,
    "activity_sensors": [
        "binary_sensor.bedroom_motion",
        "binary_sensor.kitchen_motion",
        "binary_sensor.living_room_motion",
    ],
    "fire_sensors": ["binary_sensor.kitchen_smoke"],
    "temperature_sensors": [
        "sensor.living_room_temperature",
        "sensor.kitchen_temperature",
    ],
    "help_buttons": ["binary_sensor.help_pendant"],
    "door_sensor": "binary_sensor.front_door",
}

# Short thresholds so the scenario shows an alarm within minutes.
# Day and night get the same numbers, so it works whatever time it is.
DEMO_SETTINGS = {
    "day_warning": 1,
    "day_alarm": 2,
    "night_warning": 1,
    "night_alarm": 2,
    "learned_baseline": False,
    "check_in_grace": 1,
    "temperature_duration": 2,
    "auto_away": False,
    "notify_targets": ["persistent_notification"],
}

# Config entries onboarding creates (weather, internet radio, Google TTS) that need
# the internet; the demo doesn't use them, so it removes them to stay offline-safe.
NETWORK_ENTRIES = ("met", "radio_browser", "google_translate")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Home Assistant's log, set from --log: quoted when Silver Bell fails.
CONTEXT: dict[str, Path] = {}


def fail(message: str, code: int) -> NoReturn:
    sys.stdout.flush()
    print(f"\nERROR: {message}", file=sys.stderr, flush=True)
    ha_log = CONTEXT.get("log")
    if code == 3 and ha_log is not None and ha_log.is_file():
        # The first line of the last few errors Home Assistant logged about Silver Bell.
        lines = [
            line.rstrip()
            for line in ha_log.read_text(
                encoding="utf-8", errors="replace"
            ).splitlines()
            if " ERROR " in line and DOMAIN in line
        ]
        if lines:
            print(f"Last Silver Bell errors in {ha_log}:", file=sys.stderr)
            for line in lines[-3:]:
                print(f"  {line[:400]}", file=sys.stderr)
    print(file=sys.stderr, flush=True)
    sys.exit(code)


# -- onboarding ----------------------------------------------------------------
def onboard_or_login(client: Client, steps: list[dict[str, Any]], language: str) -> str:
    """Finish onboarding (or log in); return a fresh auth code for the browser link."""
    done = {step["step"] for step in steps if step.get("done")}
    if steps and "user" not in done:
        say(f"Onboarding: creating the owner account '{USERNAME}'")
        answer = client.post(
            "/api/onboarding/users",
            {
                "client_id": client.client_id,
                "name": OWNER_NAME,
                "username": USERNAME,
                "password": PASSWORD,
                "language": language,
            },
            auth=False,
        )
        client.exchange_code(answer["auth_code"])
    else:
        say(f"Logging in as '{USERNAME}' (/auth/login_flow)")
        try:
            client.exchange_code(client.login_code(USERNAME, PASSWORD))
        except ApiError as err:
            fail(
                f"could not log in as {USERNAME!r}: {err}\n"
                "The demo config dir was made by something else; run scripts/demo --reset.",
                1,
            )

    if steps and "core_config" not in done:
        say(
            "Onboarding: core configuration (location, units, time zone come from configuration.yaml)"
        )
        client.post("/api/onboarding/core_config")
        for domain in NETWORK_ENTRIES:
            for entry in client.get(
                f"/api/config/config_entries/entry?domain={domain}"
            ):
                client.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")
                say(
                    f"  removed the '{entry['title']}' entry onboarding adds ({domain} needs the internet)"
                )
    if steps and "analytics" not in done:
        say("Onboarding: analytics (left off)")
        client.post("/api/onboarding/analytics")
    if steps and "integration" not in done:
        say("Onboarding: integration step")
        answer = client.post(
            "/api/onboarding/integration",
            {
                "client_id": client.client_id,
                "redirect_uri": client.client_id + "?auth_callback=1",
            },
        )
        return str(answer["auth_code"])
    code: str = client.login_code(USERNAME, PASSWORD)
    return code


def wait_running(client: Client, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    state = "?"
    while time.monotonic() < end:
        state = client.get("/api/config").get("state", "RUNNING")
        if state == "RUNNING":
            return
        time.sleep(0.5)
    fail(f"Home Assistant is still '{state}' after {deadline_s:.0f} s", 1)


# -- flows -----------------------------------------------------------------------
def describe_errors(result: dict[str, Any]) -> str:
    errors = result.get("errors") or {}
    return ", ".join(f"{field}: {code}" for field, code in errors.items())


def fill_form(result: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """Answer a form step: our values where the form has the field, its defaults elsewhere."""
    answer: dict[str, Any] = {}
    names = set()
    for field in result.get("data_schema") or []:
        name = field["name"]
        names.add(name)
        if name in wanted:
            answer[name] = wanted[name]
        elif "default" in field:
            answer[name] = field["default"]
        elif field.get("required"):
            fail(
                f"step '{result.get('step_id')}' has a required field {name!r} the demo "
                f"does not know how to fill (schema: {json.dumps(field, ensure_ascii=False)})",
                3,
            )
    unknown = sorted(set(wanted) - names)
    if unknown:
        say(
            f"  note: step '{result.get('step_id')}' has no field(s) {', '.join(unknown)}; not sent"
        )
    return answer


def expect(result: dict[str, Any], kind: str, step_id: str | None, what: str) -> None:
    if result.get("type") == kind and (
        step_id is None or result.get("step_id") == step_id
    ):
        return
    detail = (
        describe_errors(result)
        or result.get("reason")
        or json.dumps(result, ensure_ascii=False)
    )
    fail(
        f"{what}: expected {kind} '{step_id}', got {result.get('type')} '{result.get('step_id')}': {detail}",
        3,
    )


def run_menu_form(
    client: Client,
    base: str,
    *,
    start: dict[str, Any],
    menu_step: str,
    choice: str,
    values: dict[str, Any],
    what: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a flow whose first step is a menu, pick `choice`, fill and submit its form.

    Returns the flow's last answer and the form data that was sent.
    """
    try:
        result = client.post(base, start)
        expect(result, "menu", menu_step, what)
        if choice not in (result.get("menu_options") or []):
            fail(
                f"{what}: menu '{menu_step}' has no option {choice!r} (has {result.get('menu_options')})",
                3,
            )
        flow_id = result["flow_id"]
        result = client.post(f"{base}/{flow_id}", {"next_step_id": choice})
        expect(result, "form", choice, what)
        answer = fill_form(result, values)
        result = client.post(f"{base}/{flow_id}", answer)
        if result.get("type") == "form":
            client.delete(f"{base}/{flow_id}")
            fail(
                f"{what}: the form answered with errors: {describe_errors(result) or result}",
                3,
            )
    except ApiError as err:
        hint = ""
        if err.status == 404 and base.endswith("/config_entries/flow"):
            hint = "\nHome Assistant could not load Silver Bell's config flow: the integration failed to import."
        elif err.status == 500:
            hint = "\nThe integration raised an exception."
        fail(f"{what}: {err}{hint}", 3)
    return result, answer


def household_entry(client: Client) -> dict[str, Any]:
    entries = client.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
    for entry in entries:
        if entry.get("title") == HOUSEHOLD_NAME:
            say(
                f"Silver Bell household '{HOUSEHOLD_NAME}' exists already ({entry['state']})"
            )
            return dict(entry)

    states = {state["entity_id"] for state in client.get("/api/states")}
    needed = [
        eid
        for value in HOUSEHOLD.values()
        if isinstance(value, (str, list))
        for eid in ([value] if isinstance(value, str) else value)
        if "." in eid
    ]
    if missing := [eid for eid in needed if eid not in states]:
        fail(
            f"the simulated sensors are missing: {', '.join(missing)} (see configuration.yaml)",
            1,
        )

    say(
        f"Adding the Silver Bell household '{HOUSEHOLD_NAME}' (config flow: menu 'user' -> 'household')"
    )
    result, _ = run_menu_form(
        client,
        "/api/config/config_entries/flow",
        start={"handler": DOMAIN, "show_advanced_options": False},
        menu_step="user",
        choice="household",
        values=HOUSEHOLD,
        what="Silver Bell config flow",
    )
    expect(result, "create_entry", None, "Silver Bell config flow")
    return dict(result["result"])


def apply_settings(client: Client, entry_id: str) -> dict[str, Any]:
    say("Setting short demo thresholds (options flow: menu 'init' -> 'settings')")
    result, settings = run_menu_form(
        client,
        "/api/config/config_entries/options/flow",
        start={"handler": entry_id},
        menu_step="init",
        choice="settings",
        values=DEMO_SETTINGS,
        what="Silver Bell options flow",
    )
    expect(result, "create_entry", None, "Silver Bell options flow")
    # (the REST API leaves the options out of its answer: show what was sent)
    shown = {key: settings.get(key) for key in DEMO_SETTINGS}
    say("  " + ", ".join(f"{key}={value}" for key, value in shown.items()))
    return settings


def wait_loaded(client: Client, entry_id: str, deadline_s: float = 30) -> str:
    end = time.monotonic() + deadline_s
    state = "?"
    while time.monotonic() < end:
        for entry in client.get(f"/api/config/config_entries/entry?domain={DOMAIN}"):
            if entry["entry_id"] == entry_id:
                state = entry["state"]
                if state in (
                    "loaded",
                    "setup_error",
                    "migration_error",
                    "failed_unload",
                ):
                    return str(state)
        time.sleep(0.5)
    return state


# -- main ------------------------------------------------------------------------
def login_link(client: Client, code: str) -> str:
    state = base64.b64encode(
        json.dumps({"hassUrl": client.base_url, "clientId": client.client_id}).encode()
    ).decode()
    return (
        f"{client.client_id}?auth_callback=1&code={code}&state={state}&storeToken=true"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--state-file", required=True, type=Path)
    parser.add_argument("--language", default="en")
    parser.add_argument(
        "--wait", type=float, default=120, help="seconds to wait for Home Assistant"
    )
    parser.add_argument(
        "--log", type=Path, help="Home Assistant's log, quoted when Silver Bell fails"
    )
    args = parser.parse_args()
    if args.log:
        CONTEXT["log"] = args.log

    client = Client(args.url)
    try:
        steps = wait_until_up(client, args.wait)
    except TimeoutError as err:
        fail(str(err), 1)
    say(f"Home Assistant answers at {client.base_url}")

    try:
        code = onboard_or_login(client, steps, args.language)
        wait_running(client, args.wait)
    except ApiError as err:
        fail(f"onboarding/login failed: {err}", 1)
    client.save(args.state_file)
    if code:
        print(f"LOGIN_LINK={login_link(client, code)}", flush=True)

    try:
        entry = household_entry(client)
    except ApiError as err:
        fail(f"could not list or create Silver Bell entries: {err}", 3)
    entry_id = entry["entry_id"]
    client.save(args.state_file, entry_id=entry_id, household=HOUSEHOLD_NAME)

    state = wait_loaded(client, entry_id)
    if state != "loaded":
        fail(
            f"the Silver Bell entry is '{state}', not 'loaded'.",
            3,
        )
    settings = apply_settings(client, entry_id)
    client.save(args.state_file, settings=settings)
    state = wait_loaded(client, entry_id)
    if state != "loaded":
        fail(
            f"after the options change the Silver Bell entry is '{state}', not 'loaded'",
            3,
        )
    say(f"Silver Bell household entry {entry_id} is loaded")
    client.save(args.state_file)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
