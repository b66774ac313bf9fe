"""Shims for Home Assistant 2024.3 ↔ current releases, in one place.

Each shim names the release that made it unnecessary, so it can be dropped once
2024.3 is no longer supported. Differences a static import check cannot see
(signatures, behaviour) are listed here too, each with a test in tests/test_compat.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar, cast

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

try:  # 2024.4+
    from homeassistant.config_entries import ConfigFlowResult  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - 2024.3
    from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult

if TYPE_CHECKING:  # type-check against 2024.3, which lets the store migrate instead

    class StoreVersionTooNew(Exception):
        """Home Assistant's own refusal of a store written by a newer release."""

else:
    try:  # 2025.x+: Store refuses a major version above max_readable_version itself
        from homeassistant.exceptions import (
            UnsupportedStorageVersionError as StoreVersionTooNew,
        )
    except ImportError:  # pragma: no cover - 2024.3: storage.VersionedStore refuses it

        class StoreVersionTooNew(Exception):
            """Never raised on 2024.3 (storage.NewerStoreError is)."""


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

# 2026.8+: DeviceInfo links a device to its parent by registry id (``via_device_id``);
# ``via_device`` (the parent's identifier) is reported as deprecated and stops working
# in 2027.8. 2024.3 knows only ``via_device``.
HAS_VIA_DEVICE_ID = "via_device_id" in getattr(DeviceInfo, "__annotations__", {})

_LOGGER = logging.getLogger(__name__)
ZHA_DOMAIN = "zha"

__all__ = [
    "HAS_NOTIFY_ENTITY",
    "HAS_VIA_DEVICE_ID",
    "ConfigFlowResult",
    "NotifyEntity",
    "device_belongs_to",
    "link_to_parent_device",
    "loaded_runtime",
    "runtime_of",
    "async_register_static_path",
    "set_runtime_data",
    "zha_zigpy_device",
]

# Behavioural differences handled elsewhere (tested in tests/test_compat.py):
# - ConfigEntry.runtime_data exists from 2024.4 and ConfigEntry is generic
#   (ConfigEntry[Household]) from 2024.4 too; on 2024.3.3, which mypy checks
#   against, it is neither. Every read and write goes through the three typed
#   helpers below (getattr/setattr), never ``entry.runtime_data`` in the package.
# - OptionsFlow.config_entry became a read-only property in 2024.11: options
#   flows keep the entry as ``self._entry`` and never assign ``self.config_entry``.
# - The reconfigure source exists from 2024.4; our ``async_step_reconfigure`` reads
#   the entry from ``context["entry_id"]``, which every release sets.
# - async_update_reload_and_abort: not used; with an update listener 2026.x reports it as
#   deprecated, so flows call update_data_and_reload and abort (always with a reason).
# - DeviceInfo ``via_device`` → ``via_device_id`` (2026.8): link_to_parent_device below.
# - device_registry.async_get_device(identifiers=...) is refused from 2026.8 (identifiers
#   are unique per config entry only): look devices up by id or by config entry.
# - DeviceEntry.config_entries → config_entry_id (2026.8; the old name is reported as
#   deprecated and stops working in 2027.10): device_belongs_to below.
# - Static files (the duty desk's panel): ``hass.http.register_static_path`` up to
#   2024.x, ``await hass.http.async_register_static_paths([StaticPathConfig(...)])``
#   from 2024.7 (the old one was removed in 2025.7): async_register_static_path below.
# - frontend.async_register_built_in_panel gained a positional ``sidebar_default_visible``
#   before ``frontend_url_path``: always call it with keyword arguments.
# - ZHA's device objects moved out of Home Assistant into the ``zha`` library (2024.7):
#   zha_zigpy_device below reaches the zigpy device either way, or gives None.


_RuntimeT = TypeVar("_RuntimeT")


def set_runtime_data(entry: ConfigEntry, value: object | None) -> None:
    """Attach the runtime object of a loaded entry (None when it unloads).

    ConfigEntry is not generic on 2024.3.3 (no ``ConfigEntry[Household]``) and has
    no ``runtime_data`` attribute there, so it is set with setattr; the typed
    readers below give callers the concrete type on every release.
    """
    setattr(entry, "runtime_data", value)  # noqa: B010


def runtime_of(entry: ConfigEntry, kind: type[_RuntimeT]) -> _RuntimeT | None:
    """The entry's runtime object if it is loaded and a ``kind`` (else None).

    ``kind`` is the role's runtime class (household ``Household``, hub ``Hub``), so
    a hub entry never passes for a household.
    """
    value = getattr(entry, "runtime_data", None)
    return value if isinstance(value, kind) else None


def loaded_runtime(entry: ConfigEntry, kind: type[_RuntimeT]) -> _RuntimeT:
    """The runtime object of an entry that is being set up or is loaded.

    For platforms and flows that run only while the entry is loaded; raises
    ``RuntimeError`` otherwise (a programming error, not a user error).
    """
    if (value := runtime_of(entry, kind)) is None:
        raise RuntimeError(f"{entry.title} has no running {kind.__name__}")
    return value


def link_to_parent_device(
    hass: HomeAssistant,
    config_entry_id: str,
    device_info: DeviceInfo,
    parent: DeviceInfo,
) -> DeviceInfo:
    """Make ``device_info`` a child of ``parent`` (both of this config entry).

    Where Home Assistant takes ``via_device_id`` the parent is looked up, and
    registered from ``parent`` if it is not yet, so the link does not depend on the
    order in which entities are added. Older releases get ``via_device``.
    """
    (identifier,) = parent["identifiers"]
    if HAS_VIA_DEVICE_ID:
        parent_id = _parent_device_id(hass, config_entry_id, identifier, parent)
        cast(dict[str, Any], device_info)["via_device_id"] = parent_id
    else:
        device_info["via_device"] = identifier
    return device_info


def _parent_device_id(  # pragma: no cover - 2026.8+ (the second test stage)
    hass: HomeAssistant,
    config_entry_id: str,
    identifier: tuple[str, str],
    parent: DeviceInfo,
) -> str:
    registry: Any = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(identifier, config_entry_id)
    if device is None:
        device = registry.async_get_or_create(config_entry_id=config_entry_id, **parent)
    return str(device.id)


def device_belongs_to(device: dr.DeviceEntry, config_entry_id: str) -> bool:
    """Whether the device belongs to the config entry.

    2026.8+ gives a device one config entry (``config_entry_id``) and reports reading
    ``config_entries`` as deprecated; 2024.3 has only the set ``config_entries``.
    """
    if (owner := getattr(device, "config_entry_id", None)) is not None:
        return bool(owner == config_entry_id)
    return config_entry_id in device.config_entries


def zha_zigpy_device(hass: HomeAssistant, device_id: str) -> Any | None:
    """The zigpy device behind a ZHA device registry entry, or None.

    None for devices of other integrations, when ZHA is not loaded, and when its
    internals are shaped differently from the two layouts known here; callers
    then fall back to what the device's entities show.
    """
    device = dr.async_get(hass).async_get(device_id)
    if device is None or not any(
        identifier[0] == ZHA_DOMAIN for identifier in device.identifiers
    ):
        return None
    try:
        zigpy_device = _zha_zigpy_device(hass, device_id)
    except (ImportError, LookupError, AttributeError, ValueError, TypeError) as err:
        _LOGGER.debug("No zigpy device for %s: %r", device_id, err)
        return None
    if not hasattr(zigpy_device, "endpoints"):
        return None  # e.g. a Green Power device: no zigpy device behind it
    return zigpy_device


def _zha_zigpy_device(hass: HomeAssistant, device_id: str) -> Any:
    try:  # up to 2024.6: ZHA's gateway lives inside Home Assistant
        from homeassistant.components.zha.core.helpers import async_get_zha_device
    except ImportError:  # pragma: no cover - 2024.7+ (the second test stage)
        from homeassistant.components.zha.helpers import async_get_zha_device_proxy

        return getattr(
            async_get_zha_device_proxy(hass, device_id).device, "device", None
        )
    return async_get_zha_device(hass, device_id).device


async def async_register_static_path(
    hass: HomeAssistant, url_path: str, path: str, *, cache_headers: bool = False
) -> None:
    """Serve the files under ``path`` at ``url_path`` (without authentication)."""
    http: Any = hass.http
    try:  # 2024.7+ (register_static_path is gone in 2025.7)
        from homeassistant.components.http import StaticPathConfig  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # 2024.3: the synchronous registration
        http.register_static_path(url_path, path, cache_headers)
        return
    await http.async_register_static_paths(  # pragma: no cover - 2024.7+
        [StaticPathConfig(url_path, path, cache_headers)]
    )
