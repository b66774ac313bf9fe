"""The hub's ledger database in Home Assistant: restarts, backups and a restore."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
import json
from pathlib import Path
import tarfile
import time
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.silver_bell import backup
from custom_components.silver_bell.core.hub.pushes import ACTION_ACCEPT
from custom_components.silver_bell.core.protocol import (
    PATH_INCIDENTS,
    decode_pairing,
    signed_headers,
)
from custom_components.silver_bell.hub import (
    runtime as hub_runtime,
    saving as hub_saving,
)

from .conftest import REAL_DATABASE_PATH, async_stored_hub
from .test_hub import Pager, _call, _hub, _start_hub
from .test_hub_runtime import _incident


async def _post(client: TestClient, code: str, incident_id: str) -> Any:
    pairing = decode_pairing(code)
    body = _incident(incident_id)
    headers = signed_headers(
        pairing.household_id,
        pairing.secret,
        "POST",
        PATH_INCIDENTS,
        body,
        now=time.time(),
    )
    return await client.post(PATH_INCIDENTS, data=body, headers=headers)


def _ids(items: Iterable[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


async def test_a_restart_keeps_every_ledger(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Households, volunteers, incidents with their logs and heartbeats survive a restart."""
    Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    assert (await _post(client, code, "a1b2c3d4e5f6a7b8")).status == 200
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    [incident] = hub.incidents.active
    await hub.async_handle_action(ACTION_ACCEPT, incident.id, "v-wang")
    household_id = decode_pairing(code).household_id
    await _call(hass, "rotate_secret", {"household_id": household_id})
    before = await async_stored_hub(hub)
    memory = json.loads(json.dumps(hub.incidents.as_dict()))
    secret = hub.secret_for(household_id)

    assert await hass.config_entries.async_reload(hub_entry.entry_id)
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    assert _ids(hub.ledger.as_dict()["households"]) == _ids(
        before["ledger"]["households"]
    )
    assert set(hub.ledger.volunteers) == _ids(before["ledger"]["volunteers"])
    assert hub.secret_for(household_id) == secret
    assert json.loads(json.dumps(hub.incidents.as_dict())) == memory
    assert hub.incidents.get(incident.id).accepted_by == "v-wang"
    assert household_id in hub.heartbeats


async def test_backup_holds_the_writer_and_a_restore_starts(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pre-backup: WAL folded in, intake 503 + Retry-After; the copy restores into a new folder."""
    first = tmp_path / "config"
    hass.config.config_dir = str(first)
    monkeypatch.setattr(hub_runtime, "database_path", REAL_DATABASE_PATH)
    Pager(hass)
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    assert (await _post(client, code, "a1b2c3d4e5f6a7b8")).status == 200
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    path = hub_runtime.database_path(hass, hub_entry.entry_id)
    assert path.parent == first / ".storage"

    await backup.async_pre_backup(hass)
    assert hub.writes_held
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpoint TRUNCATE
    response = await _post(client, code, "b1b2c3d4e5f6a7b8")
    assert response.status == 503
    assert response.headers["Retry-After"] == str(hub_saving.BACKUP_RETRY_AFTER_S)
    assert (await response.json())["error"] == "backup_in_progress"
    # Home Assistant's backup: the configuration folder (without *.db-shm).
    archive = tmp_path / "backup.tar"

    def pack() -> None:
        with tarfile.open(archive, "w") as tar:
            tar.add(
                first,
                arcname="data",
                filter=lambda info: None if info.name.endswith("-shm") else info,
            )

    await hass.async_add_executor_job(pack)
    await backup.async_post_backup(hass)
    assert not hub.writes_held
    # The household's retry after the backup is taken.
    assert (await _post(client, code, "b1b2c3d4e5f6a7b8")).status == 200
    await hass.async_block_till_done()
    [fire] = hub.incidents.active  # the second fire merged into the first
    assert set(fire.source_ids) == {"a1b2c3d4e5f6a7b8", "b1b2c3d4e5f6a7b8"}
    households = set(hub.ledger.households)

    # Restore: unpack into a fresh configuration folder and start the hub there.
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    restored = tmp_path / "restored"

    def unpack() -> None:
        with tarfile.open(archive) as tar:
            tar.extractall(restored, filter="data")

    await hass.async_add_executor_job(unpack)
    hass.config.config_dir = str(restored / "data")
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    assert set(hub.ledger.households) == households
    # As of the backup: what was received after it is not in the copy.
    [restored_fire] = hub.incidents.incidents
    assert restored_fire.id == fire.id
    assert set(restored_fire.source_ids) == {"a1b2c3d4e5f6a7b8"}


async def test_a_backup_that_never_ends_lets_go(
    hass: HomeAssistant, hub_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    """Without post-backup the writer is held at most BACKUP_HOLD_MAX."""
    await _start_hub(hass, hub_entry, hass_client_no_auth)
    hub = _hub(hub_entry)
    await backup.async_pre_backup(hass)
    assert hub.writes_held
    pending = hass.async_create_task(hub.async_save())
    await asyncio.sleep(0.01)
    assert not pending.done()
    async_fire_time_changed(
        hass, dt_util.utcnow() + hub_saving.BACKUP_HOLD_MAX + timedelta(seconds=1)
    )
    await pending
    assert not hub.writes_held


async def test_home_assistant_backup_calls_the_hooks_and_restores(
    hass: HomeAssistant,
    hub_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home Assistant's own backup (the backup.create service) holds the writer, and restores."""
    config = tmp_path / "config"
    config.mkdir()
    hass.config.config_dir = str(config)
    monkeypatch.setattr(hub_runtime, "database_path", REAL_DATABASE_PATH)
    Pager(hass)
    assert await async_setup_component(hass, "backup", {})
    client, code = await _start_hub(hass, hub_entry, hass_client_no_auth)
    assert (await _post(client, code, "a1b2c3d4e5f6a7b8")).status == 200
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    households = set(hub.ledger.households)
    [fire] = hub.incidents.active
    held_while_copied: list[bool] = []
    release = hub.async_release_writes

    def note_and_release() -> None:
        held_while_copied.append(hub.writes_held)
        release()

    monkeypatch.setattr(hub, "async_release_writes", note_and_release)

    await hass.services.async_call("backup", "create", {}, blocking=True)
    await hass.async_block_till_done()
    assert held_while_copied == [True]
    assert not hub.writes_held
    [archive] = (config / "backups").glob("*.tar")

    # Restore by hand (2024.3.3 has no restore API): the configuration folder
    # inside the backup, unpacked into a fresh one, where the hub starts.
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    restored = tmp_path / "restored"

    def unpack() -> None:
        with tarfile.open(archive) as outer:
            [name] = [
                name
                for name in outer.getnames()
                if name.endswith("homeassistant.tar.gz")
            ]
            member = outer.extractfile(name)
            assert member is not None
            with tarfile.open(fileobj=member, mode="r:gz") as inner:
                inner.extractall(restored, filter="data")

    await hass.async_add_executor_job(unpack)
    hass.config.config_dir = str(restored / "data")
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    hub = _hub(hub_entry)
    assert set(hub.ledger.households) == households
    assert [incident.id for incident in hub.incidents.incidents] == [fire.id]
