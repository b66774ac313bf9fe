"""Work out the Python packages the demo's Home Assistant needs, from the wheel itself.

Home Assistant installs an integration's requirements the first time it loads it.
The demo runs ``hass --skip-pip`` (fast and offline-safe), so we install them up
front instead: the integrations named in the demo configurations (household and
hub share one venv), the ones Home Assistant always loads, the ones onboarding
creates, the custom integrations (Silver Bell, the demo phone) and all their
dependencies.  Versions are constrained by the
``homeassistant/package_constraints.txt`` that ships inside the wheel.

Usage (standard library only, runs before Home Assistant is installed):

    python demo/requirements.py WHEEL OUT_REQS OUT_CONSTRAINTS \
        --config household.yaml --config hub.yaml \
        --manifest custom_components/silver_bell/manifest.json --manifest ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import re
import sys
from typing import Any
import zipfile

# Set up by Home Assistant 2024.3 whatever the configuration says
# (homeassistant/bootstrap.py: CORE_INTEGRATIONS, LOGGING_INTEGRATIONS minus
# sentry, DEFAULT_INTEGRATIONS).
ALWAYS_LOADED = {
    "homeassistant",
    "persistent_notification",
    "logger",
    "system_log",
    "application_credentials",
    "backup",
    "frontend",
    "hardware",
    "network",
    "system_health",
    "automation",
    "person",
    "scene",
    "script",
    "tag",
    "zone",
    "counter",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "schedule",
    "timer",
}

# The core_config onboarding step starts config flows for these
# (homeassistant/components/onboarding/views.py); without their requirements the
# step answers 500.
ONBOARDING_FLOWS = {"google_translate", "met", "radio_browser", "shopping_list"}

# Entity platforms the demo's template/helper entities and the hub's entities use.
ENTITY_DOMAINS = {"binary_sensor", "sensor", "button", "switch", "notify", "event"}

# Imported without being a requirement of anything the demo loads: the frontend's
# first `get_services` call validates entity selectors with `supported_features`
# (todo's services.yaml has them; todo comes with onboarding's shopping list), and
# homeassistant/helpers/selector.py then imports every entity-feature enum, camera's
# among them -> stream -> numpy. Without numpy that call fails and the UI says
# "Unable to connect to Home Assistant". (Version pinned by the constraints.)
EXTRA_REQUIREMENTS = ["numpy"]

# Extra pins on top of Home Assistant's constraints.
EXTRA_CONSTRAINTS = [
    # josepy 2.x removed what acme (pulled in by hass-nabucasa) imports; HA's
    # HTTP middleware imports hass_nabucasa on every request, so every request
    # would answer 500. Only for hass-nabucasa 0.x (Home Assistant 2024.3.3's):
    # hass-nabucasa 1.x+ (current releases) needs josepy 2.
    "josepy<2",
]
NABUCASA_PIN = re.compile(r"^hass-nabucasa==(\d+)\.", re.MULTILINE)


def extra_constraints(constraints: str) -> list[str]:
    """EXTRA_CONSTRAINTS that apply to this Home Assistant's constraints."""
    pin = NABUCASA_PIN.search(constraints)
    if pin is not None and int(pin.group(1)) >= 1:
        return [line for line in EXTRA_CONSTRAINTS if not line.startswith("josepy")]
    return list(EXTRA_CONSTRAINTS)


TOP_LEVEL_KEY = re.compile(r"^([a-z0-9_]+)(?:\s+[a-z0-9_]+)?:", re.MULTILINE)


def config_domains(configuration_yaml: Path) -> set[str]:
    """Top-level keys of the demo configuration (a file we write, so a regex is enough)."""
    text = configuration_yaml.read_text(encoding="utf-8")
    return {m.group(1) for m in TOP_LEVEL_KEY.finditer(text)} - {"homeassistant"}


def entity_platforms(source: str, class_name: str = "Platform") -> set[str]:
    """The names in homeassistant.const.Platform (read as text: HA isn't installed yet)."""
    body = source.split(f"class {class_name}(", 1)[1].split("\n\n\n", 1)[0]
    return set(re.findall(r'^\s+[A-Z_]+ = "([a-z_]+)"$', body, re.MULTILINE))


def wheel_platforms(zf: zipfile.ZipFile) -> set[str]:
    """Platform is a class in const.py up to 2025; newer releases generate it elsewhere."""
    const_py = zf.read("homeassistant/const.py").decode()
    if "class Platform(" in const_py:
        return entity_platforms(const_py)
    generated = zf.read("homeassistant/generated/entity_platforms.py").decode()
    return entity_platforms(generated, "EntityPlatforms")


def default_integrations(bootstrap_py: str, platforms: set[str]) -> set[str]:
    """DEFAULT_INTEGRATIONS of the wheel's bootstrap.py (read as text).

    Newer releases than 2024.3 load more by default (analytics, labs, brands …) and
    every entity platform but a few (``*(BASE_PLATFORMS - {...})``), whose
    requirements --skip-pip would otherwise leave out.
    """
    start = bootstrap_py.find("\nDEFAULT_INTEGRATIONS = {")
    if start < 0:
        return set()
    body = bootstrap_py[start:].split("\n}\n", 1)[0]
    names = set(re.findall(r'^\s+"([a-z0-9_]+)",', body, re.MULTILINE))
    if (spread := re.search(r"\*\(BASE_PLATFORMS - \{([^}]*)\}\)", body)) is not None:
        names |= platforms - set(re.findall(r'"([a-z0-9_]+)"', spread.group(1)))
    if "analytics" in names:  # it imports hassio's client (an after-dependency)
        names.add("hassio")
    return names


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wheel", type=Path)
    parser.add_argument("out_reqs", type=Path)
    parser.add_argument("out_constraints", type=Path)
    parser.add_argument(
        "--config", type=Path, action="append", default=[], help="a configuration.yaml"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        action="append",
        default=[],
        help="a custom integration's manifest.json",
    )
    args = parser.parse_args(argv[1:])
    wheel, out_reqs, out_constraints = args.wheel, args.out_reqs, args.out_constraints

    core: dict[str, dict[str, Any]] = {}
    modules: dict[str, set[str]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if len(parts) != 4 or parts[:2] != ["homeassistant", "components"]:
                continue
            if parts[3] == "manifest.json":
                core[parts[2]] = json.loads(zf.read(name))
            elif parts[3].endswith(".py"):
                modules.setdefault(parts[2], set()).add(parts[3][:-3])
        constraints = zf.read("homeassistant/package_constraints.txt").decode()
        platforms = wheel_platforms(zf)
        defaults = default_integrations(
            zf.read("homeassistant/bootstrap.py").decode(), platforms
        )

    custom: dict[str, dict[str, Any]] = {}
    for manifest_path in args.manifest:
        if not manifest_path.is_file():
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        custom[manifest["domain"]] = manifest
        modules[manifest["domain"]] = {
            p.stem for p in manifest_path.parent.glob("*.py")
        }

    entry_domains = ONBOARDING_FLOWS | set(custom)
    wanted = (
        ALWAYS_LOADED
        | defaults
        | ONBOARDING_FLOWS
        | ENTITY_DOMAINS
        | set().union(*(config_domains(path) for path in args.config))
    )
    wanted |= set(custom)

    requirements: dict[str, str] = {}
    seen: set[str] = set()
    missing: list[str] = []
    todo = sorted(wanted)
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = custom.get(domain) or core.get(domain)
        if manifest is None:
            missing.append(domain)
            continue
        for req in manifest.get("requirements", []):
            requirements.setdefault(req.lower(), req)
        todo.extend(d for d in manifest.get("dependencies", []) if d not in seen)
        # A config entry loads the entity integrations of its platform modules
        # (sensor.py, tts.py, weather.py …) when it is set up.
        if domain in entry_domains:
            todo.extend(
                m for m in modules.get(domain, ()) if m in platforms and m not in seen
            )

    if missing:
        print(
            f"demo: unknown integrations (ignored): {', '.join(sorted(missing))}",
            file=sys.stderr,
        )

    for req in EXTRA_REQUIREMENTS:
        requirements.setdefault(req.lower(), req)
    out_reqs.write_text(
        "\n".join(sorted(requirements.values())) + "\n", encoding="utf-8"
    )
    out_constraints.write_text(
        constraints
        + "\n# Added by demo/requirements.py\n"
        + "\n".join(extra_constraints(constraints))
        + "\n",
        encoding="utf-8",
    )
    print(
        f"demo: {len(seen) - len(missing)} integrations, {len(requirements)} integration requirements",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
