"""Silver Bell installs its automation blueprints into the config dir at set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.silver_bell import blueprint_install
from custom_components.silver_bell.blueprint_install import (
    SHIPPED_DIR,
    STORE_KEY,
    install_blueprints,
)
from custom_components.silver_bell.const import DOMAIN

REPO_BLUEPRINTS = (
    Path(__file__).parents[1] / "blueprints" / "automation" / "silver_bell"
)
NAMES = ["fire_alert.yaml", "inactivity_alert.yaml", "volunteer_escalation.yaml"]
EDITED = b"# my own version\n"


@pytest.fixture(autouse=True)
def no_blueprint_install() -> None:
    """Override conftest's guard: these tests install, into a temp config dir."""


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    hass.config.config_dir = str(tmp_path)
    return tmp_path


def target(config_dir: Path) -> Path:
    return config_dir / "blueprints" / "automation" / "silver_bell"


def shipped(name: str) -> bytes:
    return (SHIPPED_DIR / name).read_bytes()


def test_shipped_blueprints_equal_the_repository_ones() -> None:
    """The package's copies (HACS) and the import buttons' files are the same."""
    assert sorted(p.name for p in SHIPPED_DIR.glob("*.yaml")) == NAMES
    assert sorted(p.name for p in REPO_BLUEPRINTS.glob("*.yaml")) == NAMES
    for name in NAMES:
        assert shipped(name) == (REPO_BLUEPRINTS / name).read_bytes(), (
            f"custom_components/silver_bell/blueprints/{name} differs from "
            f"blueprints/automation/silver_bell/{name}: copy the changed one over"
        )


def test_installs_when_absent(tmp_path: Path) -> None:
    result = install_blueprints(SHIPPED_DIR, tmp_path / "bp", {})
    assert result.installed == NAMES
    for name in NAMES:
        assert (tmp_path / "bp" / name).read_bytes() == shipped(name)
    assert set(result.hashes) == set(NAMES)
    assert not list((tmp_path / "bp").glob(".*")), "no temporary file left behind"


def test_idempotent(tmp_path: Path) -> None:
    first = install_blueprints(SHIPPED_DIR, tmp_path, {})
    mtimes = {name: (tmp_path / name).stat().st_mtime_ns for name in NAMES}
    second = install_blueprints(SHIPPED_DIR, tmp_path, first.hashes)
    assert second.installed == second.updated == second.kept == []
    assert second.current == NAMES
    assert second.hashes == first.hashes
    assert {name: (tmp_path / name).stat().st_mtime_ns for name in NAMES} == mtimes


def test_user_modified_file_is_left_alone(tmp_path: Path) -> None:
    first = install_blueprints(SHIPPED_DIR, tmp_path, {})
    (tmp_path / "fire_alert.yaml").write_bytes(EDITED)
    second = install_blueprints(SHIPPED_DIR, tmp_path, first.hashes)
    assert second.kept == ["fire_alert.yaml"]
    assert (tmp_path / "fire_alert.yaml").read_bytes() == EDITED
    # A newer release does not overwrite it either.
    third = install_blueprints(SHIPPED_DIR, tmp_path, {"fire_alert.yaml": "0" * 64})
    assert third.kept == ["fire_alert.yaml"]
    assert (tmp_path / "fire_alert.yaml").read_bytes() == EDITED


def test_file_of_unknown_origin_is_left_alone(tmp_path: Path) -> None:
    """E.g. imported through the README's button from an older release."""
    (tmp_path / "inactivity_alert.yaml").write_bytes(EDITED)
    result = install_blueprints(SHIPPED_DIR, tmp_path, {})
    assert result.kept == ["inactivity_alert.yaml"]
    assert result.installed == ["fire_alert.yaml", "volunteer_escalation.yaml"]
    assert "inactivity_alert.yaml" not in result.hashes
    assert (tmp_path / "inactivity_alert.yaml").read_bytes() == EDITED


def test_unchanged_older_copy_is_updated(tmp_path: Path) -> None:
    older = b"# as an older release installed it\n"
    (tmp_path / "fire_alert.yaml").write_bytes(older)
    recorded = {"fire_alert.yaml": blueprint_install._sha256(older)}
    result = install_blueprints(SHIPPED_DIR, tmp_path, recorded)
    assert result.updated == ["fire_alert.yaml"]
    assert (tmp_path / "fire_alert.yaml").read_bytes() == shipped("fire_alert.yaml")
    assert result.hashes["fire_alert.yaml"] == blueprint_install._sha256(
        shipped("fire_alert.yaml")
    )


def test_deleted_file_stays_deleted(tmp_path: Path) -> None:
    first = install_blueprints(SHIPPED_DIR, tmp_path, {})
    (tmp_path / "volunteer_escalation.yaml").unlink()
    second = install_blueprints(SHIPPED_DIR, tmp_path, first.hashes)
    assert second.deleted == ["volunteer_escalation.yaml"]
    assert not (tmp_path / "volunteer_escalation.yaml").exists()
    assert second.hashes == first.hashes


async def test_setup_installs_and_blueprints_are_listed(
    hass: HomeAssistant,
    config_dir: Path,
    hass_storage: dict[str, Any],
    hass_ws_client: Any,
) -> None:
    """After set-up, Settings -> Blueprints (blueprint/list) shows all three."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    for name in NAMES:
        assert (target(config_dir) / name).read_bytes() == shipped(name)
    assert set(hass_storage[STORE_KEY]["data"]["installed"]) == set(NAMES)

    assert await async_setup_component(hass, "automation", {})
    client = await hass_ws_client(hass)
    await client.send_json({"id": 1, "type": "blueprint/list", "domain": "automation"})
    msg = await client.receive_json()
    assert msg["success"]
    assert sorted(msg["result"]) == [f"silver_bell/{name}" for name in NAMES]
    for path, blueprint in msg["result"].items():
        assert "error" not in blueprint, path


async def test_restart_keeps_user_change(
    hass: HomeAssistant, config_dir: Path, hass_storage: dict[str, Any]
) -> None:
    await blueprint_install.async_install_blueprints(hass)
    saved = dict(hass_storage[STORE_KEY]["data"]["installed"])
    (target(config_dir) / "inactivity_alert.yaml").write_bytes(EDITED)
    await blueprint_install.async_install_blueprints(hass)  # the next start
    assert (target(config_dir) / "inactivity_alert.yaml").read_bytes() == EDITED
    assert hass_storage[STORE_KEY]["data"]["installed"] == saved


async def test_unwritable_config_dir_does_not_fail_setup(
    hass: HomeAssistant, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (config_dir / "blueprints").write_text("a file where the folder should be")
    assert await async_setup_component(hass, DOMAIN, {})
    assert "Could not install the Silver Bell blueprints" in caplog.text
