"""Which role the sensors of an area would play in a household (suggestions).

The config flow offers the sensors of the household's area with their roles
pre-selected, and a repair offers a device added to the area later. This module
makes the decision; ``household/discovery.py`` collects the facts from Home
Assistant's registries (and, for ZHA devices, from zigpy). No Home Assistant import.

Rules:

- A device whose Zigbee clusters are known (ZHA: ``zigbee_kinds`` from
  :func:`monitor.zigbee.device_kinds`) gets exactly those roles, each mapped to the
  device's entities of the matching domain and device class.
- Every other device (Zigbee2MQTT, deCONZ, anything) and entities without a device
  get roles from their entities' device classes: binary sensors motion, occupancy,
  presence → activity; smoke, heat, gas, carbon monoxide → fire; sensors of class
  temperature → temperature; door, opening, garage door → door candidate. Help
  buttons only come from Zigbee clusters (the IAS Personal Emergency Device), never
  from names or device classes.
- A door candidate becomes the front-door sensor only when it is the only one in
  the area: choosing a door switches automatic away mode on, so Silver Bell does not
  guess between several.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .monitor.zigbee import (
    KIND_ACTIVITY,
    KIND_DOOR,
    KIND_FIRE,
    KIND_HELP,
    KIND_TEMPERATURE,
)

#: The roles, in the order the forms list them.
KINDS: tuple[str, ...] = (
    KIND_ACTIVITY,
    KIND_FIRE,
    KIND_TEMPERATURE,
    KIND_HELP,
    KIND_DOOR,
)

BINARY_SENSOR = "binary_sensor"
SENSOR = "sensor"
#: Entity domains that can play a role.
DOMAINS = frozenset({BINARY_SENSOR, SENSOR})

_FIRE_CLASSES = frozenset({"smoke", "heat", "gas", "carbon_monoxide"})
_DOOR_CLASSES = frozenset({"door", "opening", "garage_door"})

#: Roles from device classes, for devices whose Zigbee clusters are not known.
KIND_BY_CLASS: Mapping[tuple[str, str], str] = {
    **{(BINARY_SENSOR, c): KIND_ACTIVITY for c in ("motion", "occupancy", "presence")},
    **{(BINARY_SENSOR, c): KIND_FIRE for c in _FIRE_CLASSES},
    **{(BINARY_SENSOR, c): KIND_DOOR for c in _DOOR_CLASSES},
    (SENSOR, "temperature"): KIND_TEMPERATURE,
}

#: The entities that carry a role a device's Zigbee clusters suggest: (domain,
#: device classes). ZHA shows a vibration zone as class vibration and an emergency
#: device's zone without a class.
ENTITIES_FOR_ZIGBEE_KIND: Mapping[str, tuple[str, frozenset[str | None]]] = {
    KIND_ACTIVITY: (
        BINARY_SENSOR,
        frozenset({"motion", "occupancy", "presence", "vibration"}),
    ),
    KIND_FIRE: (BINARY_SENSOR, frozenset(_FIRE_CLASSES)),
    KIND_TEMPERATURE: (SENSOR, frozenset({"temperature"})),
    KIND_HELP: (BINARY_SENSOR, frozenset({None, "safety"})),
    KIND_DOOR: (BINARY_SENSOR, frozenset(_DOOR_CLASSES)),
}


@dataclass(frozen=True)
class AreaEntity:
    """An entity of the area that could be suggested.

    The caller leaves out what is never suggested: disabled entities, diagnostic and
    configuration entities, entities watched by another household.
    """

    entity_id: str
    device_class: str | None = None
    name: str | None = None

    @property
    def domain(self) -> str:
        """The entity's domain (``binary_sensor`` ...)."""
        return self.entity_id.partition(".")[0]

    @property
    def label(self) -> str:
        """How the suggestion shows the entity."""
        return self.name or self.entity_id


@dataclass(frozen=True)
class AreaDevice:
    """A device of the area with its entities in the area.

    ``device_id`` is None for entities without a device. ``zigbee_kinds`` holds the
    roles the device's Zigbee clusters suggest (ZHA), or None when they are unknown.
    """

    device_id: str | None
    name: str
    entities: tuple[AreaEntity, ...] = ()
    zigbee_kinds: frozenset[str] | None = None


@dataclass(frozen=True)
class Suggestion:
    """What Silver Bell suggests for an area.

    ``sensors``: role → entity ids (door: at most one). ``devices``: device id (None
    for entities without a device) → role → entity ids, limited to what ``sensors``
    holds. ``doors_left``: door candidates not chosen because there are several.
    ``labels``: entity id → display name.
    """

    sensors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    devices: Mapping[str | None, Mapping[str, tuple[str, ...]]] = field(
        default_factory=dict
    )
    doors_left: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when nothing was found."""
        return not any(self.sensors.values()) and not self.doors_left

    def label(self, entity_id: str) -> str:
        """Display name of a suggested entity."""
        return self.labels.get(entity_id, entity_id)


def device_roles(device: AreaDevice) -> dict[str, list[str]]:
    """Role → entity ids of one device, door candidates included.

    Zigbee roles when the device's clusters are known, device classes otherwise.
    """
    roles: dict[str, list[str]] = {}
    for entity in device.entities:
        if entity.domain not in DOMAINS:
            continue
        if device.zigbee_kinds is None:
            kind = KIND_BY_CLASS.get((entity.domain, entity.device_class or ""))
            kinds = [kind] if kind is not None else []
        else:
            kinds = [
                kind
                for kind in KINDS
                if kind in device.zigbee_kinds
                and entity.domain == ENTITIES_FOR_ZIGBEE_KIND[kind][0]
                and entity.device_class in ENTITIES_FOR_ZIGBEE_KIND[kind][1]
            ]
        for kind in kinds:
            roles.setdefault(kind, []).append(entity.entity_id)
    return roles


def suggest(devices: Iterable[AreaDevice]) -> Suggestion:
    """Suggest the sensors of an area's devices (see the module's rules)."""
    per_device: dict[str | None, dict[str, list[str]]] = {}
    labels: dict[str, str] = {}
    doors: list[str] = []
    for device in devices:
        roles = device_roles(device)
        if not roles:
            continue
        mine = per_device.setdefault(device.device_id, {})
        for kind, entity_ids in roles.items():
            target = mine.setdefault(kind, [])
            target.extend(e for e in entity_ids if e not in target)
        labels.update((e.entity_id, e.label) for e in device.entities)
        doors.extend(roles.get(KIND_DOOR, []))
    doors = list(dict.fromkeys(doors))
    single_door = doors[0] if len(doors) == 1 else None
    sensors: dict[str, tuple[str, ...]] = {}
    result: dict[str | None, dict[str, tuple[str, ...]]] = {}
    for device_id, roles in per_device.items():
        kept = {
            kind: tuple(e for e in entity_ids if kind != KIND_DOOR or e == single_door)
            for kind, entity_ids in roles.items()
        }
        kept = {kind: ids for kind, ids in kept.items() if ids}
        if kept:
            result[device_id] = kept
        for kind, ids in kept.items():
            sensors[kind] = tuple(dict.fromkeys((*sensors.get(kind, ()), *ids)))
    return Suggestion(
        sensors={kind: sensors[kind] for kind in KINDS if kind in sensors},
        devices=result,
        doors_left=() if single_door else tuple(doors),
        labels={e: labels[e] for e in sorted(labels)},
    )
