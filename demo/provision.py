"""Bring the demo's two fresh Home Assistants to a paired, usable state through their APIs.

The community hub (its own Home Assistant):
1. onboarding (owner account, core config, analytics, integration step), or a
   normal login when that was done on an earlier run;
2. the Silver Bell hub config entry, through the config-flow API;
3. two volunteers and a duty-desk staff member (silver_bell.add_volunteer), whose
   notify services are the pretend phones of demo/hub.yaml;
3b. a non-admin Home Assistant user for the duty desk (DESK_USERNAME), named in
   the hub's options as duty staff (options flow "hub_settings"); prints the
   desk's address (DESK_LINK=...);
4. Grandma Li's household (silver_bell.register_household), which answers with
   the household id and the pairing code.

The household (Grandma Li's Home Assistant):
1. onboarding or login, as above;
2. the Silver Bell household config entry, through the config-flow API;
3. short demo thresholds, through the options flow ("settings");
4. pairing with the hub, through the options flow ("hub", the pairing code):
   Silver Bell tests the connection with a signed heartbeat before saving.

Everything is idempotent: a second run logs in and reuses the entries, the
volunteers and the registered household (its pairing code is kept in the hub's
state file). Writes the tokens for demo/scenario.py to the state files (mode 600).
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

from client import ApiError, Client, WsError, wait_until_up

DOMAIN = "silver_bell"
USERNAME = "demo"
PASSWORD = "silverbell-demo"
HOUSEHOLD_OWNER = "Demo caregiver"
HUB_OWNER = "Demo social worker"
HOUSEHOLD_NAME = "Grandma Li / 李奶奶"
HUB_NAME = "Jinhua community hub / 金华社区服务中心"
# The duty desk's login on the hub: a plain user (not an administrator), named as
# duty staff in the hub's options, so the sidebar panel is all it is meant for.
DESK_USERNAME = "duty"
DESK_PASSWORD = "silverbell-duty"
DESK_USER_NAME = "Duty desk 值班"
# const.DESK_PANEL_URL and const.CONF_DUTY_STAFF (the demo imports no HA code)
DESK_PANEL_PATH = "silver-bell-desk"
CONF_DUTY_STAFF = "duty_staff"

# The simulated sensors from demo/household.yaml.
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

# The hub's people. Their notify services are the pretend phones in demo/hub.yaml.
VOLUNTEERS = [
    {
        "volunteer_id": "v-wang",
        "name": "Wang Fang 王芳",
        "phone": "+86 138 0000 0001",
        "notify": ["volunteer_wang"],
        "role": "volunteer",
        "language": "zh-Hans",
    },
    {
        "volunteer_id": "v-zhao",
        "name": "Zhao Lei 赵磊",
        "phone": "+86 138 0000 0002",
        "notify": ["volunteer_zhao"],
        "role": "volunteer",
        "language": "zh-Hans",
    },
    {
        "volunteer_id": "s-liu",
        "name": "Liu Min 刘敏",
        "phone": "+86 579 8000 0120",
        "notify": ["duty_desk_liu"],
        "role": "staff",
        "language": "en",
    },
]

# Grandma Li in the hub's ledger: Wang Fang is her volunteer, Zhao Lei the backup.
ELDER = {
    "elder_name": "李奶奶 Grandma Li",
    "address": "3-201 Jinhua Road",
    "phone": "+86 10 1234 5678",
    "volunteers": ["v-wang"],
    "backup_volunteers": ["v-zhao"],
    "language": "zh-Hans",
}

# The core configuration (Settings -> System -> General). It lives in Home Assistant's
# storage, not in configuration.yaml: a core key in the YAML greys the whole page out
# (language included). The demo fills it in once per config dir (CORE_CONFIG_REV in
# the state file); afterwards what you change there stays. Only the URL the pairing
# codes carry follows --port on every run, and the language follows --language.
CORE_CONFIG_REV = 1
CORE_CONFIG: dict[str, Any] = {
    "unit_system": "metric",
    "currency": "CNY",
    "country": "CN",
    "latitude": 31.2304,
    "longitude": 121.4737,
    "elevation": 4,
}
HOUSEHOLD_LOCATION = "Grandma Li's home / 李奶奶的家"
HUB_LOCATION = HUB_NAME
DEFAULT_LANGUAGE = "en"
# The demo user's UI settings (profile) the frontend keeps under this key; the
# other fields are the frontend's own defaults ("as the language says").
FRONTEND_LOCALE_KEY = "language"
FRONTEND_LOCALE_DEFAULTS = {
    "number_format": "language",
    "time_format": "language",
    "date_format": "language",
    "time_zone": "local",
    "first_weekday": "language",
}

# Config entries onboarding creates (weather, internet radio, Google TTS) that need
# the internet; the demo doesn't use them, so it removes them to stay offline-safe.
NETWORK_ENTRIES = ("met", "radio_browser", "google_translate")

# Repairs that only say how the demo runs Home Assistant (2025.12+: a Python venv is
# the "Core" installation, unsupported since then). The demo ignores them, as a user
# can in Settings -> Repairs (Ignore); a real installation uses Home Assistant OS or
# Container.
INSTALLATION_REPAIRS = (("homeassistant", "deprecated_method"),)

# The pairing errors of Silver Bell's options flow, explained.
PAIRING_ERRORS = {
    "wrong_code": "the pairing code is not a valid Silver Bell code",
    "cannot_connect": "the household could not reach the hub's API",
    "rejected": "the hub rejected the household's signed heartbeat (unknown household or wrong secret)",
    "clock_skew": "the two clocks disagree by more than 5 minutes",
}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Home Assistant's logs, set from --household-log / --hub-log: quoted when Silver Bell fails.
LOGS: dict[str, Path] = {}


def fail(message: str, code: int) -> NoReturn:
    sys.stdout.flush()
    print(f"\nERROR: {message}", file=sys.stderr, flush=True)
    for role, ha_log in LOGS.items():
        if code != 3 or not ha_log.is_file():
            continue
        # The first line of the last few errors Home Assistant logged about Silver Bell.
        lines = [
            line.rstrip()
            for line in ha_log.read_text(
                encoding="utf-8", errors="replace"
            ).splitlines()
            if " ERROR " in line and DOMAIN in line
        ]
        if lines:
            print(f"Last Silver Bell errors of the {role} ({ha_log}):", file=sys.stderr)
            for line in lines[-3:]:
                print(f"  {line[:400]}", file=sys.stderr)
    print(file=sys.stderr, flush=True)
    sys.exit(code)


# -- onboarding ----------------------------------------------------------------
ONBOARDED: set[str] = set()  # base URLs whose core config step this run did


def onboard_or_login(
    client: Client,
    steps: list[dict[str, Any]],
    language: str | None,
    owner: str,
    who: str,
) -> str:
    """Finish onboarding (or log in); return a fresh auth code for the browser link."""
    done = {step["step"] for step in steps if step.get("done")}
    if steps and "user" not in done:
        say(f"{who}: onboarding: creating the owner account '{USERNAME}'")
        answer = client.post(
            "/api/onboarding/users",
            {
                "client_id": client.client_id,
                "name": owner,
                "username": USERNAME,
                "password": PASSWORD,
                "language": language or DEFAULT_LANGUAGE,
            },
            auth=False,
        )
        client.exchange_code(answer["auth_code"])
    else:
        say(f"{who}: logging in as '{USERNAME}' (/auth/login_flow)")
        try:
            client.exchange_code(client.login_code(USERNAME, PASSWORD))
        except ApiError as err:
            fail(
                f"{who}: could not log in as {USERNAME!r}: {err}\n"
                "The demo config dir was made by something else; run scripts/demo --reset.",
                1,
            )

    if steps and "core_config" not in done:
        say(f"{who}: onboarding: core configuration")
        client.post("/api/onboarding/core_config")
        ONBOARDED.add(client.base_url)
        remove_network_entries(client, who)
    if steps and "analytics" not in done:
        say(f"{who}: onboarding: analytics (left off)")
        client.post("/api/onboarding/analytics")
    if steps and "integration" not in done:
        say(f"{who}: onboarding: integration step")
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


def remove_network_entries(client: Client, who: str) -> int:
    """Remove the entries onboarding adds that need the internet; return how many."""
    removed = 0
    for domain in NETWORK_ENTRIES:
        for entry in client.get(f"/api/config/config_entries/entry?domain={domain}"):
            client.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")
            removed += 1
            say(
                f"{who}:   removed the '{entry['title']}' entry onboarding adds ({domain} needs the internet)"
            )
    return removed


def settle_network_entries(client: Client, who: str, seconds: float = 20) -> None:
    """After onboarding: remove the internet entries as their set-up tasks add them.

    Newer releases start onboarding's integrations as background tasks, so they
    appear a moment after the core config step. Waits until no flow of theirs is
    in progress and none is left (at most ``seconds``).
    """
    end = time.monotonic() + seconds
    while True:
        removed = remove_network_entries(client, who)
        try:
            flows = client.ws({"type": "config_entries/flow/progress"}) or []
        except WsError:
            flows = []
        busy = any(flow.get("handler") in NETWORK_ENTRIES for flow in flows)
        if (not busy and not removed) or time.monotonic() > end:
            return
        time.sleep(1)


def ignore_installation_repairs(client: Client, who: str) -> None:
    """Ignore the repairs in INSTALLATION_REPAIRS (where this release raises them)."""
    try:
        issues = (client.ws({"type": "repairs/list_issues"}) or {}).get("issues", [])
    except WsError:
        return  # no repairs integration loaded
    for issue in issues:
        key = (issue.get("domain"), issue.get("issue_id"))
        if key in INSTALLATION_REPAIRS and not issue.get("ignored"):
            client.ws(
                {
                    "type": "repairs/ignore_issue",
                    "domain": key[0],
                    "issue_id": key[1],
                    "ignore": True,
                }
            )
            say(
                f"{who}: ignored the repair '{key[1]}' (the demo runs Home Assistant from a "
                "Python venv, the 'Core' installation; see demo/README.md)"
            )


def set_core_config(
    client: Client,
    who: str,
    *,
    location_name: str,
    time_zone: str | None,
    language: str | None,
    first_time: bool,
) -> bool:
    """Write the core configuration into Home Assistant's storage.

    ``first_time``: all of CORE_CONFIG, the location name, the time zone and the
    language (English unless given); otherwise only the internal URL and, when
    given, the language. A given language is also the demo user's UI language
    (profile); without one the UI follows the browser. Returns whether the
    server language changed.
    """
    current = client.get("/api/config")
    ui_language = language  # the profile only when asked: else the browser's
    update: dict[str, Any] = {}
    if first_time:
        update.update(CORE_CONFIG, location_name=location_name)
        if time_zone:
            update["time_zone"] = time_zone
        language = language or DEFAULT_LANGUAGE
    if current.get("internal_url") != client.base_url:
        update["internal_url"] = client.base_url
    if language and current.get("language") != language:
        update["language"] = language
    if update:
        client.ws({"type": "config/core/update", **update})
        say(f"{who}: core configuration: {', '.join(sorted(update))}")
    if ui_language:
        set_ui_language(client, ui_language)
    return "language" in update


def set_ui_language(client: Client, language: str) -> None:
    """The demo user's UI language (profile), so the browser's language does not win."""
    locale = client.ws({"type": "frontend/get_user_data", "key": FRONTEND_LOCALE_KEY})
    value = dict(FRONTEND_LOCALE_DEFAULTS)
    if isinstance(locale, dict) and isinstance(locale.get("value"), dict):
        value.update(locale["value"])
    if value.get("language") == language:
        return
    value["language"] = language
    client.ws(
        {"type": "frontend/set_user_data", "key": FRONTEND_LOCALE_KEY, "value": value}
    )


def wait_running(client: Client, deadline_s: float, who: str) -> None:
    end = time.monotonic() + deadline_s
    state = "?"
    while time.monotonic() < end:
        state = client.get("/api/config").get("state", "RUNNING")
        if state == "RUNNING":
            return
        time.sleep(0.5)
    fail(f"{who}: Home Assistant is still '{state}' after {deadline_s:.0f} s", 1)


# -- flows -----------------------------------------------------------------------
def describe_errors(result: dict[str, Any]) -> str:
    errors = result.get("errors") or {}
    return ", ".join(f"{field}: {code}" for field, code in errors.items())


def form_fields(result: dict[str, Any]) -> set[str]:
    """The field names of a form step."""
    return {field["name"] for field in result.get("data_schema") or []}


def fill_form(
    result: dict[str, Any], wanted: dict[str, Any], *, note_unknown: bool = True
) -> dict[str, Any]:
    """Answer a form step: our values where the form has the field, its defaults
    (or suggested, i.e. current, values) elsewhere."""
    answer: dict[str, Any] = {}
    names = form_fields(result)
    for field in result.get("data_schema") or []:
        name = field["name"]
        if name in wanted:
            answer[name] = wanted[name]
        elif "default" in field:
            answer[name] = field["default"]
        elif (field.get("description") or {}).get("suggested_value") not in (None, ""):
            # An options form shows a current value this way (the hub's
            # public_url): sent back, so saving the form keeps it.
            answer[name] = field["description"]["suggested_value"]
        elif field.get("required"):
            fail(
                f"step '{result.get('step_id')}' has a required field {name!r} the demo "
                f"does not know how to fill (schema: {json.dumps(field, ensure_ascii=False)})",
                3,
            )
    unknown = sorted(set(wanted) - names)
    if unknown and note_unknown:
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


def start_flow(
    client: Client, base: str, start: dict[str, Any], deadline_s: float = 60
) -> dict[str, Any]:
    """Start a flow; while the entry is reloading (abort ``not_loaded``), try again.

    An options change reloads the entry through its update listener, as a task
    that may not have begun when the flow that saved the change answers: the
    entry still reads 'loaded', and an options flow started a moment later
    finds it unloading or setting up again and aborts with ``not_loaded``.
    """
    end = time.monotonic() + deadline_s
    while True:
        result: dict[str, Any] = client.post(base, start)
        if (
            result.get("type") != "abort"
            or result.get("reason") != "not_loaded"
            or time.monotonic() >= end
        ):
            return result
        time.sleep(0.5)


def run_menu_form(
    client: Client,
    base: str,
    *,
    start: dict[str, Any],
    menu_step: str,
    choice: str,
    values: dict[str, Any],
    what: str,
    form_errors: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a flow whose first step is a menu, pick `choice`, fill and submit its form.

    A form followed by a further form step (the household: name and area, then
    the sensors) is answered from the same ``values``, step by step. Returns the
    flow's last answer and the form data that was sent (all steps). A form that
    answers with errors fails the demo; ``form_errors`` explains error codes.
    """
    try:
        result = start_flow(client, base, start)
        expect(result, "menu", menu_step, what)
        if choice not in (result.get("menu_options") or []):
            fail(
                f"{what}: menu '{menu_step}' has no option {choice!r} (has {result.get('menu_options')})",
                3,
            )
        flow_id = result["flow_id"]
        result = client.post(f"{base}/{flow_id}", {"next_step_id": choice})
        expect(result, "form", choice, what)
        answer: dict[str, Any] = {}
        fields: set[str] = set()
        steps: set[str] = set()
        while (
            result.get("type") == "form"
            and not result.get("errors")
            and result.get("step_id") not in steps
        ):
            steps.add(str(result.get("step_id")))
            fields |= form_fields(result)
            step_answer = fill_form(result, values, note_unknown=False)
            answer.update(step_answer)
            result = client.post(f"{base}/{flow_id}", step_answer)
        if unknown := sorted(set(values) - fields):
            say(
                f"  note: step(s) {', '.join(sorted(steps))} have no field(s) "
                f"{', '.join(unknown)}; not sent"
            )
        if result.get("type") == "form":
            client.delete(f"{base}/{flow_id}")
            explained = [
                f"{field}: {code}"
                + (
                    f" ({form_errors[code]})"
                    if form_errors and code in form_errors
                    else ""
                )
                for field, code in (result.get("errors") or {}).items()
            ]
            fail(
                f"{what}: the form answered with errors: {', '.join(explained) or result}",
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


def find_entry(client: Client, title: str) -> dict[str, Any] | None:
    for entry in client.get(f"/api/config/config_entries/entry?domain={DOMAIN}"):
        if entry.get("title") == title:
            return dict(entry)
    return None


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


def require_loaded(client: Client, entry_id: str, what: str) -> None:
    state = wait_loaded(client, entry_id)
    if state != "loaded":
        fail(f"{what}: the Silver Bell entry is '{state}', not 'loaded'", 3)


def reload_entry(client: Client, entry_id: str, what: str) -> None:
    """Reload the entry and wait for it: the options/data it starts with are the latest.

    An options change reloads the entry through its update listener, but a change
    saved while an earlier reload is still under way can miss the listener; this
    explicit reload queues behind any reload in progress (Home Assistant's
    per-entry reload lock), so afterwards every saved change is in effect.
    """
    client.post(f"/api/config/config_entries/entry/{entry_id}/reload")
    require_loaded(client, entry_id, what)


def silver_bell_entities(client: Client) -> list[str]:
    text = client.post(
        "/api/template",
        {"template": "{{ integration_entities('" + DOMAIN + "') | join(',') }}"},
    )
    return [eid for eid in str(text).split(",") if eid]


# -- the hub -----------------------------------------------------------------------
def hub_entry(client: Client) -> dict[str, Any]:
    if (entry := find_entry(client, HUB_NAME)) is not None:
        say(f"hub: Silver Bell hub '{HUB_NAME}' exists already ({entry['state']})")
        return entry
    say(
        f"hub: adding the Silver Bell hub '{HUB_NAME}' (config flow: menu 'user' -> 'hub')"
    )
    result, _ = run_menu_form(
        client,
        "/api/config/config_entries/flow",
        start={"handler": DOMAIN, "show_advanced_options": False},
        menu_step="user",
        choice="hub",
        values={"hub_name": HUB_NAME},
        what="Silver Bell config flow (hub)",
    )
    expect(result, "create_entry", None, "Silver Bell config flow (hub)")
    return dict(result["result"])


def add_people(client: Client, channels: dict[str, list[str]] | None = None) -> None:
    """Add VOLUNTEERS; ``channels`` adds further channels to a volunteer's list (by id)."""
    services = {
        name
        for domain in client.get("/api/services")
        if domain["domain"] == "notify"
        for name in domain["services"]
    }
    for person in VOLUNTEERS:
        if missing := [name for name in person["notify"] if name not in services]:
            fail(
                f"hub: the notify service(s) {', '.join(missing)} of {person['name']} do not exist: "
                "the demo phones of demo/hub.yaml did not load (see the hub's home-assistant.log)",
                3,
            )
        extra = (channels or {}).get(str(person["volunteer_id"])) or []
        person = {**person, "notify": [*person["notify"], *extra]}
        try:
            client.call_service(DOMAIN, "add_volunteer", person, response=True)
        except WsError as err:
            if err.translation_key == "ledger_duplicate_id":
                say(f"hub: {person['role']} {person['name']} is in the ledger already")
                continue
            fail(f"hub: silver_bell.add_volunteer ({person['volunteer_id']}): {err}", 3)
        say(
            f"hub: added {person['role']} {person['name']} ({person['volunteer_id']}, "
            f"{', '.join(person['notify'])}, {person['language']})"
        )


# The pretend WeCom robot (demo/providers.py): the hub's channel wecom:demo, and
# the volunteer whose pages go there when the app push fails or nobody accepts.
WECOM_CHANNEL_ID = "demo"
WECOM_CHANNEL = f"wecom:{WECOM_CHANNEL_ID}"
WECOM_VOLUNTEER = "v-wang"
WECOM_PIN = "2468"  # the volunteer's PIN for the group message's accept link
WECOM_NEIGHBOURHOOD = "Jinhua community / 金华社区"


def add_wecom_channel(
    client: Client, entry_id: str, wecom_url: str, hub_url: str
) -> bool:
    """The channel wecom:demo at the pretend robot, and public_url = the hub's URL.

    Options flow: 'init' -> 'add_channel' -> 'add_channel_wecom' (which sends a test
    message to the robot before saving), then 'hub_settings' for the public URL, so
    accept links point at this hub. Returns whether the channel was new.
    """
    base = "/api/config/config_entries/options/flow"
    what = "Silver Bell options flow (add channel: WeCom robot)"
    changed = False
    try:
        result = start_flow(client, base, {"handler": entry_id})
        expect(result, "menu", "init", what)
        flow_id = result["flow_id"]
        result = client.post(f"{base}/{flow_id}", {"next_step_id": "add_channel"})
        expect(result, "menu", "add_channel", what)
        result = client.post(f"{base}/{flow_id}", {"next_step_id": "add_channel_wecom"})
        expect(result, "form", "add_channel_wecom", what)
        values = {
            "channel_id": WECOM_CHANNEL_ID,
            "key": "demo-robot-key",
            "neighbourhood": WECOM_NEIGHBOURHOOD,
            "language": "zh-Hans",
            "base_url": wecom_url,
        }
        result = client.post(f"{base}/{flow_id}", fill_form(result, values))
        if (result.get("errors") or {}).get("channel_id") == "duplicate_channel":
            client.delete(f"{base}/{flow_id}")
            say(f"hub: the channel {WECOM_CHANNEL} exists already")
        else:
            expect(result, "create_entry", None, what)
            say(
                f"hub: channel {WECOM_CHANNEL} added: the pretend WeCom robot at {wecom_url}"
            )
            changed = True
    except ApiError as err:
        fail(f"{what}: {err}", 3)
    wait_loaded(client, entry_id)
    result, _ = run_menu_form(
        client,
        base,
        start={"handler": entry_id},
        menu_step="init",
        choice="hub_settings",
        values={"public_url": hub_url},
        what="Silver Bell options flow (hub settings: public URL)",
    )
    expect(result, "create_entry", None, "Silver Bell options flow (hub settings)")
    say(f"hub: accept links point at {hub_url} (hub option public_url)")
    return changed


def set_wecom_pin(client: Client) -> None:
    """The PIN the group message's accept page asks the volunteer for."""
    try:
        client.call_service(
            DOMAIN,
            "set_volunteer_pin",
            {"volunteer_id": WECOM_VOLUNTEER, "pin": WECOM_PIN},
            response=False,
        )
    except WsError as err:
        fail(f"hub: silver_bell.set_volunteer_pin ({WECOM_VOLUNTEER}): {err}", 3)
    say(
        f"hub: {WECOM_VOLUNTEER} answers WeCom accept links with volunteer number "
        f"{WECOM_VOLUNTEER} and PIN {WECOM_PIN}"
    )


def desk_user(client: Client) -> str:
    """The duty desk's Home Assistant user (created on the first run); its user id."""
    users = client.ws({"type": "config/auth/list"}) or []
    for user in users:
        if user.get("username") == DESK_USERNAME or (
            user.get("name") == DESK_USER_NAME and not user.get("system_generated")
        ):
            say(f"hub: the duty desk's user '{DESK_USERNAME}' exists already")
            return str(user["id"])
    say(
        f"hub: adding the duty desk's user '{DESK_USERNAME}' ({DESK_USER_NAME}, not an "
        "administrator: config/auth/create, then a login for it)"
    )
    answer = client.ws(
        {
            "type": "config/auth/create",
            "name": DESK_USER_NAME,
            "group_ids": ["system-users"],
            "local_only": False,
        }
    )
    user_id = str(answer["user"]["id"])
    client.ws(
        {
            "type": "config/auth_provider/homeassistant/create",
            "user_id": user_id,
            "username": DESK_USERNAME,
            "password": DESK_PASSWORD,
        }
    )
    return user_id


def current_duty_staff(form: dict[str, Any]) -> list[str]:
    """The duty staff (user ids) the hub_settings form shows as its suggestion."""
    for field in form.get("data_schema") or []:
        if field.get("name") == CONF_DUTY_STAFF:
            current = (field.get("description") or {}).get("suggested_value") or []
            return [str(item) for item in current]
    fail(
        f"hub: the options step 'hub_settings' has no field {CONF_DUTY_STAFF!r} "
        "(the duty desk's staff)",
        3,
    )


def add_duty_staff(client: Client, entry_id: str, user_id: str) -> bool:
    """Name the desk's user as duty staff (options flow: 'init' -> 'hub_settings').

    Returns whether the options changed (a user named on an earlier run: the
    flow is left without saving, so the hub is not reloaded).
    """
    base = "/api/config/config_entries/options/flow"
    what = "Silver Bell options flow (hub settings: duty staff)"
    try:
        result = start_flow(client, base, {"handler": entry_id})
        expect(result, "menu", "init", what)
        flow_id = result["flow_id"]
        result = client.post(f"{base}/{flow_id}", {"next_step_id": "hub_settings"})
        expect(result, "form", "hub_settings", what)
        current = current_duty_staff(result)
        if user_id in current:
            client.delete(f"{base}/{flow_id}")
            say(f"hub: '{DESK_USERNAME}' is duty staff already")
            return False
        answer = fill_form(result, {CONF_DUTY_STAFF: [*current, user_id]})
        result = client.post(f"{base}/{flow_id}", answer)
    except ApiError as err:
        fail(f"{what}: {err}", 3)
    expect(result, "create_entry", None, what)
    say(f"hub: '{DESK_USERNAME}' may now open the duty desk (hub option duty_staff)")
    return True


def desk_link(hub_url: str) -> str:
    """The duty desk's sidebar panel on the hub."""
    return f"{hub_url.rstrip('/')}/{DESK_PANEL_PATH}"


def setup_desk(client: Client, entry_id: str, hub_url: str) -> str:
    """The desk's user, named as duty staff; prints and returns the desk's address."""
    user_id = desk_user(client)
    if add_duty_staff(client, entry_id, user_id):
        reload_entry(client, entry_id, "hub, after naming the duty staff")
    link = desk_link(hub_url)
    say(
        f"hub: duty desk at {link}: log in as '{DESK_USERNAME}' / '{DESK_PASSWORD}' "
        "(a duty-staff user, not an administrator)"
    )
    print(f"DESK_LINK={link}", flush=True)
    return user_id


def register_household(
    client: Client, previous: dict[str, Any], hub_url: str
) -> tuple[str, str]:
    """Grandma Li's household id and pairing code: the one registered before, or a new one."""
    household_id = previous.get("household_id")
    code = previous.get("pairing_code")
    if household_id and code:
        try:
            client.call_service(
                DOMAIN, "export_person", {"household_id": household_id}, response=True
            )
        except WsError:
            say(
                f"hub: household {household_id} is gone from the ledger; registering anew"
            )
        else:
            if previous.get("pairing_url") == hub_url:
                say(f"hub: household {household_id} is registered already")
                return str(household_id), str(code)
            # The code holds the hub's URL, which changed with --port: a new code.
            say(
                f"hub: household {household_id} is registered already; the hub's URL changed, "
                "so it gets a new pairing code (silver_bell.rotate_secret)"
            )
            try:
                answer = client.call_service(
                    DOMAIN,
                    "rotate_secret",
                    {"household_id": household_id},
                    response=True,
                )
            except WsError as err:
                fail(f"hub: silver_bell.rotate_secret: {err}", 3)
            return str(household_id), str(answer["pairing_code"])
    say(
        f"hub: registering the household of {ELDER['elder_name']} (silver_bell.register_household;"
        f" volunteer {ELDER['volunteers'][0]}, backup {ELDER['backup_volunteers'][0]})"
    )
    try:
        answer = client.call_service(DOMAIN, "register_household", ELDER, response=True)
    except WsError as err:
        hint = ""
        if err.translation_key == "no_hub_url":
            hint = " (the hub has no URL for the households: set homeassistant: internal_url)"
        fail(f"hub: silver_bell.register_household: {err}{hint}", 3)
    if not isinstance(answer, dict) or not answer.get("pairing_code"):
        fail(f"hub: silver_bell.register_household answered {answer!r}", 3)
    say(f"hub:   household id {answer['household_id']}, pairing code issued")
    return str(answer["household_id"]), str(answer["pairing_code"])


# -- the household -------------------------------------------------------------------
def household_entry(client: Client) -> dict[str, Any]:
    if (entry := find_entry(client, HOUSEHOLD_NAME)) is not None:
        say(
            f"household: Silver Bell household '{HOUSEHOLD_NAME}' exists already ({entry['state']})"
        )
        return entry

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
            f"the simulated sensors are missing: {', '.join(missing)} (see demo/household.yaml)",
            1,
        )

    say(
        f"household: adding the Silver Bell household '{HOUSEHOLD_NAME}' (config flow: menu 'user' -> 'household')"
    )
    result, _ = run_menu_form(
        client,
        "/api/config/config_entries/flow",
        start={"handler": DOMAIN, "show_advanced_options": False},
        menu_step="user",
        choice="household",
        values=HOUSEHOLD,
        what="Silver Bell config flow (household)",
    )
    expect(result, "create_entry", None, "Silver Bell config flow (household)")
    return dict(result["result"])


def apply_settings(
    client: Client, entry_id: str, wanted: dict[str, Any] | None = None
) -> dict[str, Any]:
    wanted = DEMO_SETTINGS if wanted is None else wanted
    say(
        "household: setting short demo thresholds (options flow: menu 'init' -> 'settings')"
    )
    result, settings = run_menu_form(
        client,
        "/api/config/config_entries/options/flow",
        start={"handler": entry_id},
        menu_step="init",
        choice="settings",
        values=wanted,
        what="Silver Bell options flow (settings)",
    )
    expect(result, "create_entry", None, "Silver Bell options flow (settings)")
    # (the REST API leaves the options out of its answer: show what was sent)
    shown = {key: settings.get(key) for key in wanted}
    say("household:   " + ", ".join(f"{key}={value}" for key, value in shown.items()))
    return settings


def pair(client: Client, entry_id: str, code: str, hub_url: str) -> None:
    say(
        f"household: pairing with the hub at {hub_url} (options flow: menu 'init' -> 'hub', "
        "pairing code; Silver Bell tests the connection first)"
    )
    result, _ = run_menu_form(
        client,
        "/api/config/config_entries/options/flow",
        start={"handler": entry_id},
        menu_step="init",
        choice="hub",
        values={"pairing_code": code},
        what="Silver Bell options flow (hub pairing)",
        form_errors=PAIRING_ERRORS,
    )
    expect(result, "create_entry", None, "Silver Bell options flow (hub pairing)")
    reload_entry(client, entry_id, "after pairing")
    # Paired, the household adds the help-progress sensor.
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if any(eid.endswith("_help_progress") for eid in silver_bell_entities(client)):
            say(
                "household:   paired: the household now forwards its incidents to the hub"
            )
            return
        time.sleep(0.5)
    fail(
        "after pairing and a reload, the household has no help-progress sensor (it did not start as paired)",
        3,
    )


# -- main ------------------------------------------------------------------------
def login_link(client: Client, code: str) -> str:
    state = base64.b64encode(
        json.dumps({"hassUrl": client.base_url, "clientId": client.client_id}).encode()
    ).decode()
    return (
        f"{client.client_id}?auth_callback=1&code={code}&state={state}&storeToken=true"
    )


def read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def start(client: Client, who: str, owner: str, args: argparse.Namespace) -> str:
    """Onboard or log in; return a login code for the browser link."""
    try:
        steps = wait_until_up(client, args.wait)
    except TimeoutError as err:
        fail(f"{who}: {err}", 1)
    say(f"{who}: Home Assistant answers at {client.base_url}")
    try:
        code = onboard_or_login(client, steps, args.language, owner, who)
        wait_running(client, args.wait, who)
    except ApiError as err:
        fail(f"{who}: onboarding/login failed: {err}", 1)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--household-url", required=True)
    parser.add_argument("--hub-url", required=True)
    parser.add_argument("--household-state", required=True, type=Path)
    parser.add_argument("--hub-state", required=True, type=Path)
    parser.add_argument(
        "--language",
        help="server and UI language, e.g. en or zh-Hans (default: English on a "
        "fresh demo, later whatever was chosen in Settings)",
    )
    parser.add_argument("--time-zone", help="time zone of a fresh demo (default: UTC)")
    parser.add_argument(
        "--wait", type=float, default=120, help="seconds to wait for Home Assistant"
    )
    parser.add_argument("--household-log", type=Path)
    parser.add_argument("--hub-log", type=Path)
    parser.add_argument(
        "--wecom-url",
        help="the pretend WeCom robot (demo/providers.py): adds the hub channel "
        f"{WECOM_CHANNEL} and puts it second in {WECOM_VOLUNTEER}'s channels",
    )
    args = parser.parse_args()
    return provision(
        household_url=args.household_url,
        hub_url=args.hub_url,
        household_state=args.household_state,
        hub_state=args.hub_state,
        language=args.language,
        time_zone=args.time_zone,
        wait=args.wait,
        household_log=args.household_log,
        hub_log=args.hub_log,
        wecom_url=args.wecom_url,
    )


def provision(
    *,
    household_url: str,
    hub_url: str,
    household_state: Path,
    hub_state: Path,
    language: str | None = None,
    time_zone: str | None = None,
    wait: float = 120,
    household_log: Path | None = None,
    hub_log: Path | None = None,
    settings: dict[str, Any] | None = None,
    wecom_url: str | None = None,
) -> int:
    """Onboard, set up and pair both Home Assistants (what main() does, callable).

    ``settings`` replaces some of DEMO_SETTINGS (e.g. longer inactivity thresholds
    for tests). ``wecom_url``: the pretend WeCom robot's address (demo/providers.py):
    the hub gets the channel wecom:demo there, accept links at ``hub_url``, and
    WECOM_VOLUNTEER the channels [app, wecom:demo]. Returns 0; a failure exits through ``fail`` (SystemExit with the
    exit code described in the module's docstring).
    """
    args = argparse.Namespace(wait=wait, language=language)
    LOGS.update(
        (role, path)
        for role, path in (("household", household_log), ("hub", hub_log))
        if path
    )

    # Both Home Assistants start at the same time; onboard each as it comes up.
    hub = Client(hub_url)
    home = Client(household_url)
    previous_hub = read_state(hub_state)
    previous_home = read_state(household_state)
    hub_code = start(hub, "hub", HUB_OWNER, args)
    hub.save(hub_state)
    home_code = start(home, "household", HOUSEHOLD_OWNER, args)
    home.save(household_state)
    try:
        hub_language_changed = set_core_config(
            hub,
            "hub",
            location_name=HUB_LOCATION,
            time_zone=time_zone,
            language=language,
            first_time=previous_hub.get("core_config") != CORE_CONFIG_REV,
        )
        hub.save(hub_state, core_config=CORE_CONFIG_REV)
        set_core_config(
            home,
            "household",
            location_name=HOUSEHOLD_LOCATION,
            time_zone=time_zone,
            language=language,
            first_time=previous_home.get("core_config") != CORE_CONFIG_REV,
        )
        home.save(household_state, core_config=CORE_CONFIG_REV)
    except (ApiError, WsError, OSError) as err:
        fail(f"could not set the core configuration: {err}", 1)
    print(f"LOGIN_LINK_HUB={login_link(hub, hub_code)}", flush=True)
    print(f"LOGIN_LINK_HOUSEHOLD={login_link(home, home_code)}", flush=True)

    try:
        entry = hub_entry(hub)
        hub_entry_id = entry["entry_id"]
        if hub_language_changed:  # entity names in the new language
            reload_entry(hub, hub_entry_id, "hub, in the new language")
        require_loaded(hub, hub_entry_id, "hub")
        if wecom_url:
            add_wecom_channel(hub, hub_entry_id, wecom_url, hub_url)
            reload_entry(hub, hub_entry_id, "hub, after adding the WeCom channel")
            require_loaded(hub, hub_entry_id, "hub")
        add_people(hub, {WECOM_VOLUNTEER: [WECOM_CHANNEL]} if wecom_url else None)
        if wecom_url:
            set_wecom_pin(hub)
        desk_user_id = setup_desk(hub, hub_entry_id, hub_url)
        household_id, pairing_code = register_household(hub, previous_hub, hub_url)
        hub.save(
            hub_state,
            entry_id=hub_entry_id,
            hub=HUB_NAME,
            household_id=household_id,
            pairing_code=pairing_code,
            pairing_url=hub_url,
            volunteers={p["volunteer_id"]: p for p in VOLUNTEERS},
            desk_user_id=desk_user_id,
            desk_link=desk_link(hub_url),
        )
        say(f"hub: Silver Bell hub entry {hub_entry_id} is loaded")

        entry = household_entry(home)
        entry_id = entry["entry_id"]
        home.save(household_state, entry_id=entry_id, household=HOUSEHOLD_NAME)
        require_loaded(home, entry_id, "household")
        applied = apply_settings(home, entry_id, {**DEMO_SETTINGS, **(settings or {})})
        home.save(household_state, settings=applied)
        reload_entry(home, entry_id, "household, after the options change")
        pair(home, entry_id, pairing_code, hub_url)
        home.save(household_state, hub_household_id=household_id)
        say(f"household: Silver Bell household entry {entry_id} is loaded and paired")
        # Onboarding may add them a moment after its core config step (2026.x).
        for client, who in ((hub, "hub"), (home, "household")):
            if client.base_url in ONBOARDED:
                settle_network_entries(client, who)
            else:
                remove_network_entries(client, who)
            ignore_installation_repairs(client, who)
    except ApiError as err:
        fail(f"could not list or create Silver Bell entries: {err}", 3)
    except (WsError, OSError) as err:
        fail(f"websocket command failed: {err}", 3)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
