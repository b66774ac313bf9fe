"""A short day in Grandma Li's home, played through Home Assistant's REST API.

1. A normal morning: she gets up (bedroom), makes breakfast (kitchen) and sits
   down in the living room; both rooms are at 22 °C.
2. Then she stops moving. With the demo thresholds (warning after 1 min, alarm
   after 2 min, 1 min check-in window) the inactivity alarm fires, and once the
   check-in window passes the household status turns to "alarm".
3. A pan catches fire in the kitchen: the temperature climbs fast and the smoke
   detector goes off -> fire incident.

The simulated sensors are helpers (input_boolean / input_number) behind template
sensors, so you can also play with them yourself in the dashboard.
Every change of a Silver Bell entity is printed with a timestamp.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
import signal
import sys
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client import ApiError, Client

DOMAIN = "silver_bell"
MOTION = {
    "bedroom": "input_boolean.sim_bedroom_motion",
    "kitchen": "input_boolean.sim_kitchen_motion",
    "living room": "input_boolean.sim_living_room_motion",
}
SMOKE = "input_boolean.sim_kitchen_smoke"
DOOR = "input_boolean.sim_front_door_open"
HELP = "input_boolean.sim_help_pressed"
TEMPERATURE = {
    "living room": "input_number.sim_living_room_temperature",
    "kitchen": "input_number.sim_kitchen_temperature",
}
# Attributes worth showing next to a state (the rest is noise here).
SHOWN_ATTRIBUTES = (
    "colour",
    "state",
    "check_in_until",
    "risks",
    "faulty_sensors",
    "sensor",
)

Predicate = Callable[[dict[str, dict[str, Any]]], bool]


class Scenario:
    """Drives the helpers and reports what Silver Bell makes of it."""

    def __init__(self, client: Client, poll: float) -> None:
        self.client = client
        self.poll = poll
        self.started = time.monotonic()
        self.entities: list[str] = []
        self.last: dict[str, str] = {}

    # -- output ---------------------------------------------------------------
    def say(self, message: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(
            f"[{time.strftime('%H:%M:%S')} +{elapsed // 60:02d}:{elapsed % 60:02d}] {message}",
            flush=True,
        )

    def chapter(self, title: str) -> None:
        print(flush=True)
        self.say(f"== {title} ==")

    # -- Home Assistant -------------------------------------------------------
    def service(self, domain: str, service: str, **data: Any) -> None:
        self.client.post(f"/api/services/{domain}/{service}", data)

    def motion(self, room: str, seconds: float = 3) -> None:
        self.say(f"  motion in the {room}")
        self.service("input_boolean", "turn_on", entity_id=MOTION[room])
        self.sleep_watching(seconds)
        self.service("input_boolean", "turn_off", entity_id=MOTION[room])

    def temperature(self, room: str, value: float) -> None:
        self.say(f"  {room} temperature {value:.1f} °C")
        self.service(
            "input_number", "set_value", entity_id=TEMPERATURE[room], value=value
        )

    def discover(self) -> list[str]:
        """Silver Bell's entities: integration_entities() through the template API."""
        try:
            text = self.client.post(
                "/api/template",
                {
                    "template": "{{ integration_entities('"
                    + DOMAIN
                    + "') | sort | join(',') }}"
                },
            )
            found = [eid for eid in str(text).split(",") if eid]
        except ApiError:
            found = []
        if not found:  # fall back to the entity ids
            found = sorted(
                s["entity_id"]
                for s in self.client.get("/api/states")
                if DOMAIN in s["entity_id"]
            )
        self.entities = found
        return found

    def snapshot(self) -> dict[str, dict[str, Any]]:
        wanted = set(self.entities)
        return {
            s["entity_id"]: s
            for s in self.client.get("/api/states")
            if s["entity_id"] in wanted
        }

    @staticmethod
    def render(state: dict[str, Any]) -> str:
        attrs = state.get("attributes", {})
        value = state["state"]
        unit = attrs.get("unit_of_measurement")
        text = (
            f"{value} {unit}"
            if unit and value not in ("unknown", "unavailable")
            else value
        )
        extra = [
            f"{key}={attrs[key]}"
            for key in SHOWN_ATTRIBUTES
            if attrs.get(key) not in (None, [], {}, "")
        ]
        return text + (f"  ({', '.join(extra)})" if extra else "")

    def report(self, full: bool = False) -> dict[str, dict[str, Any]]:
        """Print Silver Bell entities that changed since the last report (or all)."""
        states = self.snapshot()
        for entity_id in self.entities:
            state = states.get(entity_id)
            if state is None:
                continue
            rendered = self.render(state)
            name = state.get("attributes", {}).get("friendly_name", entity_id)
            if full:
                self.say(f"    {name:<45} {rendered}")
            elif self.last.get(entity_id) != rendered:
                before = self.last.get(entity_id, "?")
                self.say(f"    {name}: {before}  ->  {rendered}")
            self.last[entity_id] = rendered
        return states

    def sleep_watching(self, seconds: float) -> dict[str, dict[str, Any]]:
        end = time.monotonic() + seconds
        states = self.report()
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(self.poll, left))
            states = self.report()
        return states

    def wait_for(self, what: str, predicate: Predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            states = self.report()
            if predicate(states):
                self.say(f"  -> {what}")
                return True
            if time.monotonic() > end:
                self.say(f"  !! {what}: not seen within {timeout:.0f} s")
                return False
            time.sleep(self.poll)


def entity_is(suffix: str, *values: str) -> Predicate:
    """True when an entity whose id ends with `suffix` is in one of `values`."""

    def check(states: dict[str, dict[str, Any]]) -> bool:
        return any(
            eid.endswith(suffix) and s["state"] in values for eid, s in states.items()
        )

    return check


def run(client: Client, settings: dict[str, Any], poll: float) -> int:
    sc = Scenario(client, poll)
    alarm_min = max(
        float(settings.get("day_alarm", 2)), float(settings.get("night_alarm", 2))
    )
    grace_min = float(settings.get("check_in_grace", 1))
    household = client.extra.get("household", "the household")

    sc.chapter(f"Silver Bell entities of {household}")
    if not sc.discover():
        print(
            "ERROR: Home Assistant has no Silver Bell entities; is the entry loaded?",
            file=sys.stderr,
        )
        return 3
    sc.say("  resetting the simulated sensors: no motion, no smoke, door shut, 22 °C")
    for entity_id in (*MOTION.values(), SMOKE, DOOR, HELP):
        sc.service("input_boolean", "turn_off", entity_id=entity_id)
    for helper in TEMPERATURE.values():
        sc.service("input_number", "set_value", entity_id=helper, value=22)
    time.sleep(1)
    close_leftovers(sc, client)
    sc.report(full=True)

    sc.chapter("1. A normal morning")
    sc.say("  Grandma Li gets up, makes breakfast and sits down in the living room")
    for room in ("bedroom", "kitchen", "living room"):
        sc.motion(room)
        sc.sleep_watching(2)
    sc.temperature("living room", 22)
    sc.temperature("kitchen", 22.5)
    sc.sleep_watching(3)

    sc.chapter("2. She stops moving")
    sc.say(
        f"  demo thresholds: warning after {settings.get('day_warning', '?')} min, alarm after "
        f"{settings.get('day_alarm', '?')} min, check-in window {settings.get('check_in_grace', '?')} min"
    )
    sc.say("  (press the household's 'I'm OK' check-in button in the UI to answer it)")
    budget = (alarm_min + 1) * 60
    if sc.wait_for(
        "inactivity alarm raised", entity_is("_inactivity_alarm", "on"), budget
    ):
        sc.wait_for(
            "check-in window passed without activity: status alarm (forwarded)",
            entity_is("_status", "alarm"),
            (grace_min + 1) * 60,
        )

    sc.chapter("3. A pan catches fire in the kitchen")
    for value in (28.0, 36.0, 45.0, 52.0):
        sc.temperature("kitchen", value)
        sc.sleep_watching(5)
    sc.say("  the smoke detector goes off")
    sc.service("input_boolean", "turn_on", entity_id=SMOKE)
    sc.temperature("kitchen", 61.0)
    sc.wait_for("fire alarm raised", entity_is("_fire_alarm", "on"), 60)
    sc.sleep_watching(5)

    sc.chapter("Where things stand")
    sc.report(full=True)
    show_logbook(sc, client)
    return 0


def close_leftovers(sc: Scenario, client: Client) -> None:
    """Resolve incidents an earlier run left open, so the scenario starts from calm."""
    sensor = next((eid for eid in sc.entities if eid.endswith("_open_incident")), None)
    if sensor is None:
        return
    if client.get(f"/api/states/{sensor}")["state"] in (
        "none",
        "unknown",
        "unavailable",
    ):
        return
    # Some activity first, so an old "last activity" doesn't raise a new alarm at once.
    sc.service("input_boolean", "turn_on", entity_id=MOTION["bedroom"])
    sc.service("input_boolean", "turn_off", entity_id=MOTION["bedroom"])
    device_id = str(
        client.post("/api/template", {"template": "{{ device_id('" + sensor + "') }}"})
    ).strip()
    for _ in range(10):
        state = client.get(f"/api/states/{sensor}")["state"]
        if state in ("none", "unknown", "unavailable"):
            return
        sc.say(
            f"  resolving the '{state}' incident an earlier run left open (silver_bell.resolve)"
        )
        data: dict[str, Any] = {"resolution": "resident_ok"}
        if device_id and device_id != "None":
            data["device_id"] = device_id
        sc.service(DOMAIN, "resolve", **data)
        time.sleep(0.5)


def show_logbook(sc: Scenario, client: Client) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=30)).isoformat(timespec="seconds")
    try:
        entries = client.get(f"/api/logbook/{start.replace('+00:00', 'Z')}")
    except ApiError as err:
        sc.say(f"  (logbook not available: {err})")
        return
    ours = [
        e
        for e in entries
        if e.get("domain") == DOMAIN
        or e.get("entity_id") in sc.entities
        or DOMAIN in str(e.get("context_event_type", ""))
        or DOMAIN in str(e.get("name", "")).lower()
    ]
    sc.say(
        f"  logbook: {len(ours)} Silver Bell entries in the last 30 min (newest last):"
    )
    for entry in ours[-12:]:
        when = str(entry.get("when", ""))[11:19]
        sc.say(
            f"    {when}  {entry.get('name', '')} {entry.get('message', entry.get('state', ''))}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--state-file", required=True, type=Path, help="written by demo/provision.py"
    )
    parser.add_argument(
        "--poll", type=float, default=5.0, help="seconds between state polls"
    )
    args = parser.parse_args()

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    client = Client.load(args.state_file)
    try:
        return run(client, client.extra.get("settings", {}), args.poll)
    except KeyboardInterrupt:
        print("\nscenario stopped", flush=True)
        return 0
    except (ApiError, OSError) as err:
        print(f"\nERROR: scenario: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
