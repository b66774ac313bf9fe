"""Shims for Home Assistant 2024.3 ↔ current releases, in one place.

Each shim names the release that made it unnecessary, so it can be dropped once
2024.3 is no longer supported. Differences a static import check cannot see
(signatures, behaviour) are listed here too, each with a test in tests/test_compat.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

try:  # 2024.4+
    from homeassistant.config_entries import ConfigFlowResult  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - 2024.3
    from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult

if TYPE_CHECKING:  # type-check against 2024.3, where notify entities do not exist
    from homeassistant.helpers.entity import Entity as NotifyEntity

    HAS_NOTIFY_ENTITY: bool
else:
    try:  # 2024.5+: notify entities
        from homeassistant.components.notify import NotifyEntity

        HAS_NOTIFY_ENTITY = True
    except (
        ImportError
    ):  # pragma: no cover - 2024.3: the notify platform is not forwarded
        from homeassistant.helpers.entity import Entity as NotifyEntity

        HAS_NOTIFY_ENTITY = False

__all__ = [
    "HAS_NOTIFY_ENTITY",
    "ConfigFlowResult",
    "NotifyEntity",
    "get_runtime_data",
    "set_runtime_data",
]

# Behavioural differences handled elsewhere (tested in tests/test_compat.py):
# - ConfigEntry.runtime_data exists from 2024.4; we set/read it through the two
#   helpers below so 2024.3 (a plain attribute) and typed newer releases both work.
# - OptionsFlow.config_entry became a read-only property in 2024.11: options
#   flows keep the entry as ``self._entry`` and never assign ``self.config_entry``.
# - The reconfigure source exists from 2024.4; our ``async_step_reconfigure`` reads
#   the entry from ``context["entry_id"]``, which every release sets.
# - async_update_reload_and_abort: always pass ``reason=`` (its default changed).


def set_runtime_data(entry: ConfigEntry, value: Any) -> None:
    """Attach the runtime object of a loaded entry."""
    setattr(entry, "runtime_data", value)  # noqa: B010


def get_runtime_data(entry: ConfigEntry) -> Any:
    """Runtime object of a loaded entry (None when not loaded)."""
    return getattr(entry, "runtime_data", None)
