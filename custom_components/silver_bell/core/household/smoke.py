"""Smoke detectors as the household engine reads them: fire, test, or nothing.

Pure (no Home Assistant import). Remembers, per detector, its last real state
(a detector that drops out and comes back alarming is judged against it) and
its last ZoneStatus (a report of Alarm without Test right after a test is
smoke, whatever the entity shows).
"""

from __future__ import annotations

from ..monitor.fire import SmokeVerdict, classify_smoke, classify_zone_change
from ..monitor.states import UNRELIABLE
from .events import SensorChange


class SmokeJudge:
    """What a smoke detector's changes and Zigbee reports mean."""

    __slots__ = ("_reliable", "_zone_seen")

    def __init__(self) -> None:
        """Start knowing nothing of any detector."""
        self._reliable: dict[str, str] = {}  # last real state per detector
        self._zone_seen: dict[str, int] = {}  # last ZoneStatus per detector

    def seed(self, entity_id: str, status: int) -> None:
        """The ZoneStatus a detector shows at start-up (to compare reports with)."""
        self._zone_seen[entity_id] = status

    def state(self, change: SensorChange) -> SmokeVerdict:
        """What a detector's state change means (``change.new`` is not None)."""
        entity_id, old, new = change.entity_id, change.old, change.new
        assert new is not None
        # A detector that drops out and comes back alarming is judged against
        # its last real state: off before the dropout, on after it is a fire
        # (a fire may take the detector off the network for a moment).
        if old in UNRELIABLE and entity_id in self._reliable:
            old = self._reliable[entity_id]
        if new not in UNRELIABLE:
            self._reliable[entity_id] = new
        return classify_smoke(
            old, new, test_active=change.test_active, zone_status=change.zone_status
        )

    def report(self, entity_id: str, status: int) -> SmokeVerdict:
        """What a ZoneStatus report from the stack means.

        Alarm without Test after a test is smoke, whatever the entity shows; a
        plain off → alarm report is the entity's own off → on (NONE here).
        """
        previous = self._zone_seen.get(entity_id)
        self._zone_seen[entity_id] = status
        verdict = classify_zone_change(previous, status)
        if verdict is SmokeVerdict.FIRE and previous is None:
            return SmokeVerdict.NONE
        return verdict
