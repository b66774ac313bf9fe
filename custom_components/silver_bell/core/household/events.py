"""What goes into the household engine and what comes out of it.

Pure data (no Home Assistant import). The household glue turns Home Assistant's
state changes, button presses and service calls into these frozen events and
hands them to :meth:`~.engine.HouseholdEngine.handle`; it applies the one
:class:`Result` that comes back in one place (store, outbox, family, incident
event, entities, the next wake-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Protocol

from ..bodies import Progress
from ..models import Incident, IncidentKind, IncidentState
from ..monitor.engine import EngineConfig
from ..monitor.fire import FireConfig
from ..monitor.health import HealthConfig
from ..monitor.temperature import TemperatureConfig
from .incidents import Action, Change


class Names(Protocol):
    """Where the engine asks for names it cannot know (the glue's registries)."""

    def context_of(self, entity_id: str | None) -> str | None:
        """The routine's context of a sensor: its room, else the sensor itself."""

    def room_name(self, entity_id: str) -> str | None:
        """Where a sensor is, in words (its area, device or own name)."""

    def device_name(self, entity_id: str) -> str | None:
        """The name of the sensor's device, as the family named it."""

    def last_seen(self, entity_id: str) -> str | None:
        """When the Zigbee stack last heard from the sensor's device (ISO), if it says."""


class NoNames:
    """Names for an engine without registries (tests, replays): none known."""

    def context_of(self, entity_id: str | None) -> str | None:
        """Return the sensor itself."""
        return entity_id

    def room_name(self, entity_id: str) -> str | None:
        """Return the sensor itself."""
        return entity_id

    def device_name(self, entity_id: str) -> str | None:
        """Return no device name."""
        return None

    def last_seen(self, entity_id: str) -> str | None:
        """Return no last-seen time."""
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Sensors:
    """Which entity plays which part in the household (from the config entry)."""

    activity: tuple[str, ...] = ()
    fire: tuple[str, ...] = ()
    temperature: tuple[str, ...] = ()
    help_buttons: tuple[str, ...] = ()
    door: str | None = None

    @property
    def watched(self) -> list[str]:
        """Every entity the household reads, each once, in this order."""
        entities = [*self.activity, *self.fire, *self.temperature, *self.help_buttons]
        if self.door:
            entities.append(self.door)
        return list(dict.fromkeys(entities))


@dataclass(frozen=True, kw_only=True, slots=True)
class EngineSettings:
    """Everything the household engine is configured with."""

    sensors: Sensors = field(default_factory=Sensors)
    inactivity: EngineConfig = field(default_factory=EngineConfig)
    fire: FireConfig = field(default_factory=FireConfig)
    temperature: TemperatureConfig = field(default_factory=TemperatureConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    grace: timedelta = timedelta(minutes=10)
    forwarding: bool = False


# ------------------------------------------------------------------ events in
@dataclass(frozen=True, kw_only=True, slots=True)
class SensorChange:
    """A watched entity's new state, normalised by the glue.

    ``new`` None: the entity was removed. ``old`` None: first seen (start-up).
    ``since``: when the state began (start-up replays an outage from its start).
    ``celsius``: a temperature sensor's reading in °C (None: not a number).
    ``test_active``/``has_test_entity``: a smoke detector's sibling test entity.
    """

    entity_id: str
    old: str | None
    new: str | None
    since: datetime
    zone_status: int | None = None
    device_dropout: bool = True
    door_class: bool = False
    celsius: float | None = None
    test_active: bool = False
    has_test_entity: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ZoneBits:
    """A device's health bits (IAS ZoneStatus, sibling tamper/battery sensors)."""

    entity_id: str
    status: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ZoneReport:
    """A ZoneStatus the Zigbee stack received for a watched sensor."""

    entity_id: str
    status: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Battery:
    """A watched sensor's battery level in percent (None: not a number)."""

    entity_id: str
    percent: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Heard:
    """When the stack last heard from a watched sensor's device."""

    entity_id: str
    at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SmokeConfirmed:
    """A detector's smoke alarm once its whole message is written: test or fire."""

    entity_id: str
    at: datetime
    test_active: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckIn:
    """'I'm OK': a sign of life from a person, not a sensor."""

    by: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SetAway:
    """The manual away switch."""

    on: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Presence:
    """The presence entity's state (None: removed or no information)."""

    state: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RaiseIncident:
    """An incident raised by hand (help button, service, notify, test alarm)."""

    kind: IncidentKind
    by: str
    message: str | None = None
    test: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class MoveIncident:
    """A person acknowledges or resolves an incident (None: the most urgent)."""

    incident_id: str | None
    target: IncidentState
    by: str
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class HubProgress:
    """What the hub says about one of the household's incidents."""

    progress: Progress


@dataclass(frozen=True, kw_only=True, slots=True)
class NotifyFailed:
    """A family notify target could not be reached about an incident."""

    incident_id: str
    target: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Tick:
    """Time passed: evaluate again."""


Event = (
    SensorChange
    | ZoneBits
    | ZoneReport
    | Battery
    | Heard
    | SmokeConfirmed
    | CheckIn
    | SetAway
    | Presence
    | RaiseIncident
    | MoveIncident
    | HubProgress
    | NotifyFailed
    | Tick
)


# ---------------------------------------------------------------- result out
@dataclass(frozen=True, slots=True)
class Sighting:
    """One entry for the activity history: when, in which room, which door edge."""

    at: datetime
    room: str | None
    role: str = ""


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One incident change as the incident event reports it (data as at the change)."""

    action: Action
    incident: dict[str, Any]


class Save(IntEnum):
    """How urgently the household's state must reach the disk."""

    NO = 0
    SOON = 1  # learned state: within the store's delay
    NOW = 2  # incidents changed: at once


@dataclass(frozen=True, kw_only=True, slots=True)
class Result:
    """What one call of the engine changed, to be applied in one place.

    Attributes:
        changes: the incident transitions, in order (one incident event each).
        forward: incident versions to put in the outbox for the hub.
        notify: the changes the family is told about.
        confirm_smoke: detectors whose alarm is decided once the stack's whole
            message is written (send :class:`SmokeConfirmed` after yielding).
        refresh: whether entities show something new.
        evaluated: whether the monitors were evaluated (``wake_at`` is new).
        wake_at: the next moment worth evaluating (None: nothing pending).
        save: how urgently the state must be written.
        incident: the incident a :class:`RaiseIncident`/:class:`MoveIncident` meant.
        events: the incident event of each change (its data as at the change).
        sightings: what to add to the activity history (rooms, door edges).

    """

    changes: tuple[Change, ...] = ()
    forward: tuple[Incident, ...] = ()
    notify: tuple[Change, ...] = ()
    confirm_smoke: tuple[tuple[str, datetime], ...] = ()
    refresh: bool = False
    evaluated: bool = False
    wake_at: datetime | None = None
    save: Save = Save.NO
    incident: Incident | None = None
    events: tuple[IncidentEvent, ...] = ()
    sightings: tuple[Sighting, ...] = ()


#: The result of a call that left nothing to apply (most of a busy home's changes).
NOTHING = Result()
