"""State vocabulary and small value helpers shared by the monitors.

Home Assistant hands states over as strings ("on", "off", "unavailable",
"unknown", numbers as text). The monitors receive them unchanged; this module
says which of them can be believed ("Sensors lie": ``unavailable``/``unknown``
never count as activity, never as a fire and never clear an alarm) and holds
the helpers used to persist timestamps. No Home Assistant import.
"""

from __future__ import annotations

from datetime import datetime
import math
from typing import Final

STATE_ON: Final = "on"
STATE_OFF: Final = "off"
STATE_UNAVAILABLE: Final = "unavailable"
STATE_UNKNOWN: Final = "unknown"

#: States that say nothing about the world: never activity, never fire, never a clear.
UNRELIABLE: Final = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN})


def is_reliable(state: str | None) -> bool:
    """Return True when ``state`` is a real reading (not None, unavailable or unknown)."""
    return state is not None and state not in UNRELIABLE


def finite_float(value: object) -> float | None:
    """Return ``value`` as a finite float, or None when it is not a usable number.

    Accepts ints, floats and numeric strings; rejects booleans, NaN and infinities.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def require_aware(at: datetime) -> datetime:
    """Return ``at`` unchanged; raise ValueError if it is naive (all monitor times are aware)."""
    if at.tzinfo is None or at.utcoffset() is None:
        msg = f"timezone-aware datetime required, got {at!r}"
        raise ValueError(msg)
    return at


def to_iso(at: datetime | None) -> str | None:
    """Serialise an aware datetime (or None) for JSON storage."""
    return None if at is None else at.isoformat()


def from_iso(value: object) -> datetime | None:
    """Parse a stored ISO timestamp; None for anything missing, malformed or naive."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed
