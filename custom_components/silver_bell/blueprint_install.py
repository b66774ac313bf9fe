"""Install Silver Bell's automation blueprints into the user's config dir.

A HACS install brings only ``custom_components/silver_bell/``, so the blueprints
ship inside the package (``blueprints/*.yaml``, identical to the repository's
``blueprints/automation/silver_bell/`` that the README's import buttons point at).
At start-up each one is copied to ``<config>/blueprints/automation/silver_bell/``,
as core integrations install theirs, and Settings -> Blueprints lists them.

A file the user changed is never touched. To tell an unchanged older copy (which
is updated) from a changed one, the SHA-256 of every file written is kept in the
store ``silver_bell.blueprints``:

- absent, never installed here: installed;
- absent, installed before: the user deleted it; it stays deleted;
- equal to the shipped file: nothing to do (its hash is recorded);
- equal to what was installed before: an unchanged older copy, updated;
- anything else (edited, or imported from elsewhere): left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
import logging
import os
from pathlib import Path
import tempfile
from typing import Any

from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .storage import VersionedStore

_LOGGER = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).parent / "blueprints"
TARGET = f"blueprints/automation/{DOMAIN}"
STORE_KEY = f"{DOMAIN}.blueprints"
STORE_VERSION = 1


@dataclass
class InstallResult:
    """What one run did, file name by file name."""

    installed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # changed by the user
    deleted: list[str] = field(default_factory=list)  # removed by the user
    current: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install_blueprints(
    shipped_dir: Path, target_dir: Path, recorded: dict[str, str]
) -> InstallResult:
    """Copy the shipped blueprints into ``target_dir`` (blocking; run in the executor).

    ``recorded`` maps file names to the hash of what was installed before.
    """
    result = InstallResult(hashes=dict(recorded))
    for source in sorted(shipped_dir.glob("*.yaml")):
        name = source.name
        shipped = source.read_bytes()
        shipped_hash = _sha256(shipped)
        target = target_dir / name
        try:
            present_hash: str | None = _sha256(target.read_bytes())
        except FileNotFoundError:
            present_hash = None
        if present_hash is None and name in recorded:
            result.deleted.append(name)
            continue
        if present_hash == shipped_hash:
            result.current.append(name)
        elif present_hash is None or present_hash == recorded.get(name):
            target_dir.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, shipped)
            (result.installed if present_hash is None else result.updated).append(name)
        else:
            result.kept.append(name)
            continue
        result.hashes[name] = shipped_hash
    return result


async def async_install_blueprints(hass: HomeAssistant) -> None:
    """Install or update the blueprints; never fails the integration's set-up."""
    store: VersionedStore = VersionedStore(hass, STORE_VERSION, STORE_KEY)
    data: dict[str, Any] = await store.async_load() or {}
    recorded: dict[str, str] = dict(data.get("installed", {}))
    target_dir = Path(hass.config.path(TARGET))
    try:
        result = await hass.async_add_executor_job(
            install_blueprints, SHIPPED_DIR, target_dir, recorded
        )
    except OSError as err:
        _LOGGER.warning(
            "Could not install the Silver Bell blueprints into %s: %s", target_dir, err
        )
        return
    if result.installed or result.updated:
        _LOGGER.info(
            "Silver Bell blueprints in %s: installed %s, updated %s",
            target_dir,
            ", ".join(result.installed) or "none",
            ", ".join(result.updated) or "none",
        )
    if result.kept:
        _LOGGER.info(
            "Silver Bell blueprints changed in %s and left as they are: %s",
            target_dir,
            ", ".join(result.kept),
        )
    if result.hashes != recorded:
        await store.async_save({"installed": result.hashes})
