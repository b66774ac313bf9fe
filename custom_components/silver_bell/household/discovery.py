"""Suggest an area's sensors; offer sensors added to the area later (repair).

The decision (which entity plays which role) is made by ``roles.py``; this module
reads Home Assistant's device and entity registries, asks zigpy about ZHA devices
(``compat.zha_zigpy_device``), and raises or deletes the "new sensor" repair issue.

Call :func:`async_discover` to get what the config flow would suggest for an area
(tests with Home Assistant's real ZHA integration can call it directly).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)

from ..compat import zha_zigpy_device
from ..const import (
    CONF_ACTIVITY_SENSORS,
    CONF_AREA,
    CONF_DOOR_SENSOR,
    CONF_FIRE_SENSORS,
    CONF_HELP_BUTTONS,
    CONF_KNOWN_DEVICES,
    CONF_NAME,
    CONF_ROLE,
    CONF_TEMPERATURE_SENSORS,
    DOMAIN,
    ROLE_HUB,
)
from ..core.monitor.zigbee import (
    KIND_ACTIVITY,
    KIND_DOOR,
    KIND_FIRE,
    KIND_HELP,
    KIND_TEMPERATURE,
    device_kinds,
)
from ..core.roles import DOMAINS, KINDS, AreaDevice, AreaEntity, Suggestion, suggest
from .zigbee import device_class_of

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

#: The entry-data key of each role.
KEY_BY_KIND: Mapping[str, str] = {
    KIND_ACTIVITY: CONF_ACTIVITY_SENSORS,
    KIND_FIRE: CONF_FIRE_SENSORS,
    KIND_TEMPERATURE: CONF_TEMPERATURE_SENSORS,
    KIND_HELP: CONF_HELP_BUTTONS,
    KIND_DOOR: CONF_DOOR_SENSOR,
}

ISSUE_NEW_SENSOR = "new_sensor"
ISSUE_DATA_ENTRY = "entry_id"
ISSUE_DATA_DEVICE = "device_id"
NOTHING = "—"


def watched_entities(data: Mapping[str, Any]) -> set[str]:
    """Every entity a household's entry data watches, in any role."""
    watched: set[str] = set()
    for key in KEY_BY_KIND.values():
        value = data.get(key)
        if isinstance(value, str):
            watched.add(value)
        elif isinstance(value, (list, tuple)):
            watched.update(str(item) for item in value)
    return watched


def _watched_by_others(hass: HomeAssistant, entry_id: str | None) -> set[str]:
    watched: set[str] = set()
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.entry_id != entry_id and entry.data.get(CONF_ROLE) != ROLE_HUB:
            watched |= watched_entities(entry.data)
    return watched


@dataclass(frozen=True)
class Discovery:
    """What an area holds: the suggestion, and every device seen there."""

    suggestion: Suggestion
    device_ids: frozenset[str]
    device_names: Mapping[str, str]

    def sensor_data(self) -> dict[str, Any]:
        """The suggestion as a household's sensor data (the config keys)."""
        data: dict[str, Any] = {
            KEY_BY_KIND[kind]: list(self.suggestion.sensors.get(kind, ()))
            for kind in KINDS
            if kind != KIND_DOOR
        }
        if door := self.suggestion.sensors.get(KIND_DOOR):
            data[CONF_DOOR_SENSOR] = door[0]
        return data

    def placeholders(self) -> dict[str, str]:
        """Per role, the names of what was found (for a form's description)."""
        suggestion = self.suggestion
        found = {
            kind: _names(suggestion, suggestion.sensors.get(kind, ())) for kind in KINDS
        }
        found["doors_left"] = _names(suggestion, suggestion.doors_left)
        return found


def _names(suggestion: Suggestion, entity_ids: Iterable[str]) -> str:
    return ", ".join(suggestion.label(e) for e in entity_ids) or NOTHING


def _is_ours(device: dr.DeviceEntry) -> bool:
    return any(identifier[0] == DOMAIN for identifier in device.identifiers)


def _device_class(hass: HomeAssistant, entity: er.RegistryEntry) -> str | None:
    if registered := device_class_of(entity):
        return str(registered)
    state = hass.states.get(entity.entity_id)
    value = state.attributes.get("device_class") if state is not None else None
    return str(value) if value else None


def _entity_name(
    hass: HomeAssistant, entity: er.RegistryEntry, device: dr.DeviceEntry | None
) -> str:
    """The entity's friendly name: from its state, else as Home Assistant builds it."""
    state = hass.states.get(entity.entity_id)
    if state is not None and (name := state.attributes.get("friendly_name")):
        return str(name)
    own = entity.name or entity.original_name
    if entity.has_entity_name and device is not None:
        return " ".join(str(part) for part in (_device_name(device), own) if part)
    return str(own or entity.entity_id)


def _usable(entity: er.RegistryEntry, skip: set[str]) -> bool:
    return (
        entity.disabled_by is None
        and entity.entity_category is None
        and entity.platform != DOMAIN
        and entity.domain in DOMAINS
        and entity.entity_id not in skip
    )


@callback
def _area_members(
    hass: HomeAssistant, area_id: str
) -> tuple[dict[str | None, list[er.RegistryEntry]], dict[str, dr.DeviceEntry]]:
    """The area's entities by device id (None: without a device), and its devices.

    A device's entities placed in another area are left out; an entity placed
    here whose device is elsewhere brings its device (not ours, not disabled).
    """
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    in_area: dict[str | None, list[er.RegistryEntry]] = {}
    area_devices: dict[str, dr.DeviceEntry] = {}
    for device in dr.async_entries_for_area(devices, area_id):
        if _is_ours(device) or device.disabled_by is not None:
            continue
        area_devices[device.id] = device
        for entity in er.async_entries_for_device(entities, device.id):
            if entity.area_id in (None, area_id):
                in_area.setdefault(device.id, []).append(entity)
    placed = set(area_devices)
    for entity in er.async_entries_for_area(entities, area_id):
        if entity.device_id is None:
            in_area.setdefault(None, []).append(entity)
        elif entity.device_id not in placed:  # placed here, its device elsewhere
            other = devices.async_get(entity.device_id)
            if other is None or _is_ours(other) or other.disabled_by is not None:
                continue
            area_devices[other.id] = other
            in_area.setdefault(other.id, []).append(entity)
    return in_area, area_devices


def async_discover(
    hass: HomeAssistant, area_id: str | None, *, entry_id: str | None = None
) -> Discovery:
    """Suggest the sensors of an area (empty without an area).

    Devices of the area, plus entities whose own area it is (an entity placed in
    another area than its device's is not in this one). Disabled, diagnostic and
    configuration entities, Silver Bell's own, and entities watched by another
    household than ``entry_id`` are left out. ZHA devices get their roles from
    zigpy, every other device from its entities' device classes (``roles.py``).
    """
    if not area_id:
        return Discovery(Suggestion(), frozenset(), {})
    skip = _watched_by_others(hass, entry_id)
    in_area, area_devices = _area_members(hass, area_id)
    candidates: list[AreaDevice] = []
    for device_id, members in in_area.items():
        owner = area_devices.get(device_id) if device_id is not None else None
        usable = tuple(
            AreaEntity(
                e.entity_id, _device_class(hass, e), _entity_name(hass, e, owner)
            )
            for e in sorted(members, key=lambda e: e.entity_id)
            if _usable(e, skip)
        )
        if not usable:
            continue
        candidates.append(
            AreaDevice(
                device_id=device_id,
                name=_device_name(owner) if owner is not None else "",
                entities=usable,
                zigbee_kinds=_zigbee_kinds(hass, device_id),
            )
        )
    candidates.sort(key=lambda d: (d.name.casefold(), d.device_id or ""))
    return Discovery(
        suggest(candidates),
        frozenset(area_devices),
        {device_id: _device_name(d) for device_id, d in area_devices.items()},
    )


def _device_name(device: dr.DeviceEntry) -> str:
    return str(device.name_by_user or device.name or device.id)


def _zigbee_kinds(hass: HomeAssistant, device_id: str | None) -> frozenset[str] | None:
    """The roles of a ZHA device's clusters, or None (not ZHA, or not reachable)."""
    if device_id is None:
        return None
    zigpy_device = zha_zigpy_device(hass, device_id)
    if zigpy_device is None:
        return None
    return device_kinds(zigpy_device)


# -- the "new sensor" repair ---------------------------------------------------


def new_sensor_issue_id(entry_id: str, device_id: str) -> str:
    """The repair issue offering a device to a household."""
    return f"{ISSUE_NEW_SENSOR}_{entry_id}_{device_id}"


@dataclass(frozen=True)
class Offer:
    """What a household could add from one device: role → entity ids."""

    roles: Mapping[str, tuple[str, ...]]
    suggestion: Suggestion

    def __bool__(self) -> bool:
        """True when there is something to add."""
        return bool(self.roles)

    def placeholders(self) -> dict[str, str]:
        """Per role, the names of the offered entities (the repair's placeholders)."""
        return {
            kind: _names(self.suggestion, self.roles.get(kind, ())) for kind in KINDS
        }


def new_sensor_offer(hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> Offer:
    """What the household could add from the device (empty: nothing).

    What the area's suggestion gives the device, without the entities the household
    already watches; the door only while the household has none.
    """
    discovery = async_discover(hass, entry.data.get(CONF_AREA), entry_id=entry.entry_id)
    return _offer(discovery, entry, device_id)


def _offer(discovery: Discovery, entry: ConfigEntry, device_id: str) -> Offer:
    watched = watched_entities(entry.data)
    roles: dict[str, tuple[str, ...]] = {}
    for kind, entity_ids in discovery.suggestion.devices.get(device_id, {}).items():
        if kind == KIND_DOOR and entry.data.get(CONF_DOOR_SENSOR):
            continue
        if fresh := tuple(e for e in entity_ids if e not in watched):
            roles[kind] = fresh
    return Offer(roles, discovery.suggestion)


def add_offer(
    data: Mapping[str, Any], offer: Mapping[str, Iterable[str]]
) -> dict[str, Any]:
    """Entry data with the offered entities added to their roles."""
    new = dict(data)
    for kind, entity_ids in offer.items():
        key = KEY_BY_KIND[kind]
        if kind == KIND_DOOR:
            if not new.get(key):
                new[key] = next(iter(entity_ids))
            continue
        new[key] = list(dict.fromkeys([*new.get(key, []), *entity_ids]))
    return new


def with_known(data: Mapping[str, Any], device_ids: Iterable[str]) -> dict[str, Any]:
    """Entry data with devices added to the known devices."""
    known = list(data.get(CONF_KNOWN_DEVICES, []))
    known.extend(d for d in sorted(set(device_ids)) if d not in known)
    return {**data, CONF_KNOWN_DEVICES: known}


@callback
def async_delete_new_sensor_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Delete every "new sensor" repair of a household (its entry is removed)."""
    prefix = f"{ISSUE_NEW_SENSOR}_{entry_id}_"
    for issue_id in _issue_ids(hass, prefix):
        ir.async_delete_issue(hass, DOMAIN, issue_id)


def _issue_ids(hass: HomeAssistant, prefix: str) -> list[str]:
    issues: Mapping[tuple[str, str], Any] = getattr(ir.async_get(hass), "issues", {})
    return [
        issue_id
        for domain, issue_id in list(issues)
        if domain == DOMAIN and issue_id.startswith(prefix)
    ]


@callback
def async_watch_area(hass: HomeAssistant, entry: ConfigEntry) -> CALLBACK_TYPE:
    """Offer devices that join the household's area later (repair issues).

    Returns the function that stops watching (for ``entry.async_on_unload``).
    """
    if not entry.data.get(CONF_AREA):
        return _nothing
    return _AreaWatcher(hass, entry).async_start()


def _nothing() -> None:
    """Nothing to stop."""


class _AreaWatcher:
    """Follows the registries; raises, updates and deletes "new sensor" repairs."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.prefix = f"{ISSUE_NEW_SENSOR}_{entry.entry_id}_"

    @property
    def area_id(self) -> str:
        return str(self.entry.data[CONF_AREA])

    @property
    def known(self) -> set[str]:
        return set(self.entry.data.get(CONF_KNOWN_DEVICES, []))

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        if CONF_KNOWN_DEVICES not in self.entry.data:
            # Set up before Silver Bell remembered the area's devices (every install
            # before this feature): what is there now counts as known, nothing is raised.
            discovery = async_discover(
                self.hass, self.area_id, entry_id=self.entry.entry_id
            )
            self._remember(discovery.device_ids)
        self.async_scan()
        bus = self.hass.bus
        unsubs = [
            bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, self._device_changed),
            bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._entity_changed),
            bus.async_listen(
                ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, self._issue_changed
            ),
        ]

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()

        return stop

    def _remember(self, device_ids: Iterable[str]) -> None:
        data = with_known(self.entry.data, device_ids)
        if data != self.entry.data:
            self.hass.config_entries.async_update_entry(self.entry, data=data)

    def _ours(self) -> list[str]:
        return _issue_ids(self.hass, self.prefix)

    @callback
    def _device_changed(self, event: Event) -> None:
        device_id = event.data.get("device_id")
        device = dr.async_get(self.hass).async_get(device_id) if device_id else None
        if (device is not None and device.area_id == self.area_id) or (
            device_id and self.prefix + device_id in self._ours()
        ):
            self.async_scan()

    @callback
    def _entity_changed(self, event: Event) -> None:
        entity = er.async_get(self.hass).async_get(event.data.get("entity_id", ""))
        if entity is None:  # removed: a device may have lost its last sensor
            if self._ours():
                self.async_scan()
            return
        device = (
            dr.async_get(self.hass).async_get(entity.device_id)
            if entity.device_id
            else None
        )
        changes = event.data.get("changes") or {}
        if (
            entity.area_id == self.area_id
            or (device is not None and device.area_id == self.area_id)
            or ("area_id" in changes and self._ours())
        ):
            self.async_scan()

    @callback
    def _issue_changed(self, event: Event) -> None:
        """The user ignored an offer: remember the device, never offer it again."""
        issue_id = str(event.data.get("issue_id", ""))
        if event.data.get("domain") != DOMAIN or not issue_id.startswith(self.prefix):
            return
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id)
        if issue is not None and issue.dismissed_version is not None:
            self._remember([issue_id.removeprefix(self.prefix)])

    @callback
    def async_scan(self) -> None:
        """Raise an offer for each unknown device with something new; delete the rest."""
        discovery = async_discover(
            self.hass, self.area_id, entry_id=self.entry.entry_id
        )
        known = self.known
        registry = ir.async_get(self.hass)
        offered: set[str] = set()
        ignored: list[str] = []
        for device_id in discovery.suggestion.devices:
            if device_id is None or device_id in known:
                continue
            if not (offer := _offer(discovery, self.entry, device_id)):
                continue
            issue_id = self.prefix + device_id
            issue = registry.async_get_issue(DOMAIN, issue_id)
            if issue is not None and issue.dismissed_version is not None:
                ignored.append(device_id)
                continue
            offered.add(device_id)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                data={
                    ISSUE_DATA_ENTRY: self.entry.entry_id,
                    ISSUE_DATA_DEVICE: device_id,
                },
                is_fixable=True,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_NEW_SENSOR,
                translation_placeholders={
                    "name": str(self.entry.data.get(CONF_NAME, self.entry.title)),
                    "device": discovery.device_names.get(device_id, device_id),
                    "area": _area_name(self.hass, self.area_id),
                    **offer.placeholders(),
                },
            )
        if ignored:
            self._remember(ignored)
        for issue_id in self._ours():
            device_id = issue_id.removeprefix(self.prefix)
            issue = registry.async_get_issue(DOMAIN, issue_id)
            keep_ignored = (
                issue is not None
                and issue.dismissed_version is not None
                and device_id in discovery.device_ids
            )
            if device_id not in offered and not keep_ignored:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)


def _area_name(hass: HomeAssistant, area_id: str) -> str:
    area = ar.async_get(hass).async_get_area(area_id)
    return area.name if area is not None else area_id
