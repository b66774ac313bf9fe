"""Store the demo's HTTP settings where Home Assistant 2026.x keeps them.

Newer Home Assistant keeps the HTTP settings in ``.storage/http`` and shows a
repair while an ``http:`` block is in configuration.yaml, so ``scripts/demo
--latest`` (and demo/launcher.py for the newest release) leave the block out and
write what it held (127.0.0.1 and the port) as the confirmed ("stable") config,
filled in by Home Assistant's own schema. Run with the Python of the newest
release's demo venv::

    python demo/http_config.py CONFIG_DIR/.storage/http PORT
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
import os
import sys

from homeassistant.components.http import config as http_config


def main(path: str, port: int) -> None:
    """Write (or keep) the stored HTTP config at ``path`` for ``port``."""
    try:
        with open(path, encoding="utf-8") as file:
            stored = json.load(file)
    except FileNotFoundError:
        stored = {}
    data = stored.get("data") or {}
    stable = dict(data.get("stable") or {})
    want = {"server_host": ["127.0.0.1"], "server_port": port}
    if (
        data.get("yaml_migration_done")
        and data.get("pending") is None
        and all(stable.get(key) == value for key, value in want.items())
    ):
        return
    meta = http_config._META_KEYS  # noqa: SLF001
    kept = {key: value for key, value in stable.items() if key not in meta}
    stable = {
        **http_config.HTTP_STORAGE_SCHEMA({**kept, **want}),
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        json.dump(
            {
                "version": http_config.STORAGE_VERSION,
                "minor_version": http_config.STORAGE_MINOR_VERSION,
                "key": http_config.STORAGE_KEY,
                "data": {
                    "stable": stable,
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            file,
            indent=2,
        )
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
