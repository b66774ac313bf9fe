"""scripts/validate: passes on the repository, fails on what hassfest/HACS refuse.

Each failing case is a temporary copy of the repository's integration with one
problem put back, first of all the three hassfest (2026.11) reported in issue 19:
the ``zha`` import without ``after_dependencies``, the ``zh-Hans`` option key under
``selector.language`` and the ``data_description`` of the role menu step.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib.machinery
import importlib.util
import json
from pathlib import Path
import shutil
import struct
import subprocess
import sys
from types import ModuleType
from typing import Any
import zlib

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "validate"
PACKAGE = Path("custom_components") / "silver_bell"


def _load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("silver_bell_validate", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


validate_script = _load()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of what the checks read: the integration, hacs.json, README.md."""
    root = tmp_path / "repo"
    shutil.copytree(
        REPO / PACKAGE,
        root / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for name in ("hacs.json", "README.md"):
        shutil.copy(REPO / name, root / name)
    return root


def _errors(root: Path) -> list[str]:
    errors: list[str] = validate_script.validate(root).errors
    return errors


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _edit_translations(root: Path, change: Callable[[Any], None]) -> None:
    """The same change in strings.json and every translations file."""
    package = root / PACKAGE
    for path in [
        package / "strings.json",
        *sorted(package.glob("translations/*.json")),
    ]:
        _edit_json(path, change)


# --------------------------------------------------------------- the repository


def test_passes_on_the_repository() -> None:
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("validate: OK")


def test_the_copy_passes(repo: Path) -> None:
    assert _errors(repo) == []


# ------------------------------------------------- issue 19: the three errors


def _zha_not_listed(root: Path) -> None:
    _edit_json(
        root / PACKAGE / "manifest.json",
        lambda manifest: manifest["after_dependencies"].remove("zha"),
    )


def _language_options_in_strings(root: Path) -> None:
    def change(strings: Any) -> None:
        strings["selector"]["language"] = {
            "options": {"zh-Hans": "简体中文", "en": "English"}
        }

    _edit_translations(root, change)


def _description_on_the_menu(root: Path) -> None:
    def change(strings: Any) -> None:
        strings["config"]["step"]["user"]["data_description"] = {
            "door_sensor": "Optional, but recommended."
        }

    _edit_translations(root, change)


ISSUE_19 = {
    "zha": (
        _zha_not_listed,
        (
            "[DEPENDENCIES] Using component zha but it's not in 'dependencies' or "
            "'after_dependencies' (compat.py:"
        ),
    ),
    "zh-Hans option key": (
        _language_options_in_strings,
        "Invalid translation key 'zh-Hans', need to be [a-z0-9-_]+",
    ),
    "menu data_description": (
        _description_on_the_menu,
        "data_description key door_sensor is not in data",
    ),
}


@pytest.mark.parametrize("case", list(ISSUE_19))
def test_fails_on_each_error_of_issue_19(repo: Path, case: str) -> None:
    put_back, expected = ISSUE_19[case]
    put_back(repo)
    errors = _errors(repo)
    assert errors, f"{case} was not found"
    assert any(expected in error for error in errors), errors
    if case != "zha":  # hassfest reports strings.json and translations/en.json
        for name in ("strings.json", "translations/en.json"):
            assert any(f"Invalid {name}: " in e and expected in e for e in errors), (
                errors
            )


def test_command_fails_on_all_three_like_hassfest(repo: Path) -> None:
    for put_back, _ in ISSUE_19.values():
        put_back(repo)
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(SCRIPT), "--root", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("validate: ")
    assert lines[0].startswith("* [ERROR] [DEPENDENCIES] Using component zha")
    assert any(
        "[TRANSLATIONS] Invalid strings.json" in line
        and "at 'selector.language.options'" in line
        for line in lines
    )
    assert any(
        "[TRANSLATIONS] Invalid translations/en.json" in line
        and "at 'config.step.user'" in line
        for line in lines
    )


# ------------------------------------------------------------ the other rules


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _import_inside_a_function(root: Path) -> None:
    _write(
        root / PACKAGE / "household" / "late.py",
        '"""Late import."""\n\n\ndef find() -> object:\n'
        '    """Import lazily."""\n'
        "    from homeassistant.components.mqtt import async_publish\n\n"
        "    return async_publish\n",
    )


def _manifest_unsorted(root: Path) -> None:
    def change(manifest: Any) -> None:
        version = manifest.pop("version")
        manifest["after_dependencies"] = manifest.pop("after_dependencies")
        manifest["version"] = version
        items = list(manifest.items())
        items.insert(2, items.pop())  # version right after name
        manifest.clear()
        manifest.update(items)

    _edit_json(root / PACKAGE / "manifest.json", change)


def _manifest_without_version(root: Path) -> None:
    _edit_json(root / PACKAGE / "manifest.json", lambda m: m.pop("version"))


def _english_differs(root: Path) -> None:
    _edit_json(
        root / PACKAGE / "translations" / "en.json",
        lambda s: s["config"]["step"]["user"].update(title="Silver Bell!"),
    )


def _chinese_lacks_a_key(root: Path) -> None:
    _edit_json(
        root / PACKAGE / "translations" / "zh-Hans.json",
        lambda s: s["config"]["step"]["user"].pop("title"),
    )


def _placeholder_renamed(root: Path) -> None:
    def change(strings: Any) -> None:
        exceptions = strings["exceptions"]
        exceptions["not_paired"]["message"] = exceptions["not_paired"][
            "message"
        ].replace("{name}", "{household}")

    _edit_json(root / PACKAGE / "translations" / "zh-Hans.json", change)


def _url_in_a_string(root: Path) -> None:
    _edit_translations(
        root,
        lambda s: s["config"]["step"]["user"].update(
            description="See https://example.com/help for help"
        ),
    )


def _service_not_described(root: Path) -> None:
    path = root / PACKAGE / "services.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("retry_dead_letters:")
    end = text.index("\n", text.index("integration: silver_bell", start))
    path.write_text(text[:start] + text[end + 1 :], encoding="utf-8")


def _service_not_translated(root: Path) -> None:
    _edit_translations(root, lambda s: s["services"].pop("retry_dead_letters"))


def _unreadable_service_name(root: Path) -> None:
    _write(
        root / PACKAGE / "extra_services.py",
        '"""Extra."""\n\nfrom .const import DOMAIN\n\n\n'
        "def setup(hass, name):\n"
        '    """Register."""\n'
        "    hass.services.async_register(DOMAIN, name.lower(), print)\n",
    )


def _icon_for_unknown_service(root: Path) -> None:
    _edit_json(
        root / PACKAGE / "icons.json",
        lambda icons: icons["services"].update(ring="mdi:bell"),
    )


def _icon_without_mdi(root: Path) -> None:
    _edit_json(
        root / PACKAGE / "icons.json",
        lambda icons: icons["entity"]["button"]["check_in"].update(default="hand"),
    )


def _hacs_unknown_key(root: Path) -> None:
    _edit_json(root / "hacs.json", lambda hacs: hacs.update(domains=["sensor"]))


def _png(width: int, height: int, opaque: Callable[[int, int], bool]) -> bytes:
    rows = b"".join(
        b"\x00"
        + b"".join(
            b"\x80\x80\x80\xff" if opaque(x, y) else b"\x00\x00\x00\x00"
            for x in range(width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _icon_wrong_size(root: Path) -> None:
    (root / PACKAGE / "brand" / "icon.png").write_bytes(
        _png(200, 200, lambda x, y: True)
    )


def _logo_not_trimmed(root: Path) -> None:
    (root / PACKAGE / "brand" / "logo.png").write_bytes(
        _png(300, 128, lambda x, y: 10 <= x < 290)
    )


def _brand_missing(root: Path) -> None:
    (root / PACKAGE / "brand" / "icon@2x.png").unlink()


def _quality_rule_missing(root: Path) -> None:
    path = root / PACKAGE / "quality_scale.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  docs-triggers:")
    end = text.index("  docs-removal-instructions:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def _exempt_without_reason(root: Path) -> None:
    path = root / PACKAGE / "quality_scale.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  docs-conditions:")
    end = text.index("  docs-triggers:")
    path.write_text(
        text[:start] + "  docs-conditions:\n    status: exempt\n" + text[end:],
        encoding="utf-8",
    )


def _no_parallel_updates(root: Path) -> None:
    path = root / PACKAGE / "switch.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("PARALLEL_UPDATES = 1", "PARALLEL = 1"), encoding="utf-8"
    )


def _field_not_described(root: Path) -> None:
    def change(strings: Any) -> None:
        del strings["options"]["step"]["hub_settings"]["data_description"]["rate_burst"]

    _edit_translations(root, change)


OTHER_RULES = {
    "every field described": (
        _field_not_described,
        "data key rate_burst has no data_description",
    ),
    "import inside a function": (
        _import_inside_a_function,
        (
            "Using component mqtt but it's not in 'dependencies' or "
            "'after_dependencies' (household/late.py:"
        ),
    ),
    "manifest order": (_manifest_unsorted, "Manifest keys are not sorted correctly"),
    "manifest version": (
        _manifest_without_version,
        "Required key 'version' is missing",
    ),
    "en.json copy": (
        _english_differs,
        "translations/en.json differs from strings.json",
    ),
    "same keys": (_chinese_lacks_a_key, "translations/zh-Hans.json lacks keys"),
    "same placeholders": (_placeholder_renamed, "'exceptions.not_paired.message' has"),
    "no URLs": (_url_in_a_string, "the string should not contain URLs"),
    "services.yaml": (
        _service_not_described,
        "Service retry_dead_letters is registered but not in services.yaml",
    ),
    "service translations": (
        _service_not_translated,
        "Service retry_dead_letters has no name in strings.json services",
    ),
    "readable service names": (
        _unreadable_service_name,
        "extra_services.py:8: cannot read the service name",
    ),
    "service icons": (_icon_for_unknown_service, "services.ring is not a registered"),
    "mdi icons": (_icon_without_mdi, "must be a Material Design Icon"),
    "hacs.json": (_hacs_unknown_key, "hacs.json: unknown key 'domains'"),
    "icon size": (_icon_wrong_size, "brand/icon.png must be 256×256 (is 200×200)"),
    "trimmed": (_logo_not_trimmed, "brand/logo.png is not trimmed (empty left, right"),
    "brand files": (_brand_missing, "brand/icon@2x.png is missing"),
    "quality rules": (_quality_rule_missing, "Rule docs-triggers is missing"),
    "exemption reasons": (
        _exempt_without_reason,
        "Rule docs-conditions is exempt without a comment",
    ),
    "parallel updates": (
        _no_parallel_updates,
        "parallel-updates is done but switch.py sets no PARALLEL_UPDATES",
    ),
}


@pytest.mark.parametrize("case", list(OTHER_RULES))
def test_fails_on_other_rules(repo: Path, case: str) -> None:
    put_back, expected = OTHER_RULES[case]
    put_back(repo)
    errors = _errors(repo)
    assert any(expected in error for error in errors), errors


def test_type_checking_imports_are_not_dependencies(repo: Path) -> None:
    _write(
        repo / PACKAGE / "typing_only.py",
        '"""Types."""\n\nfrom typing import TYPE_CHECKING\n\n'
        "if TYPE_CHECKING:\n"
        "    from homeassistant.components.mqtt import MqttData\n",
    )
    assert _errors(repo) == []


def test_service_icons_may_use_the_newer_form(repo: Path) -> None:
    _edit_json(
        repo / PACKAGE / "icons.json",
        lambda icons: icons["services"].update(resolve={"service": "mdi:check-all"}),
    )
    assert _errors(repo) == []


def test_png_reader_reads_the_shipped_icon() -> None:
    png = validate_script.read_png(REPO / PACKAGE / "brand" / "icon.png")
    assert (png.width, png.height, png.transparency) == (256, 256, True)
    alpha = validate_script.alpha_rows(png)
    assert alpha is not None
    assert len(alpha) == 256
    assert alpha[0][0] == 0  # a transparent corner of the rounded square
    assert alpha[128][128] == 255
