"""The hub's figures from its incidents: response times, month view, CSV export.

Pure logic (no Home Assistant import). Test incidents are excluded; response
times count red and orange incidents only (yellow is IT work); the response is a
volunteer (or the desk) accepting.
"""

from __future__ import annotations

from collections.abc import Iterable
import csv
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import io
import statistics as stats_lib
from typing import TYPE_CHECKING, Any

from ..surveys import months_back, survey_figures
from .records import (
    ACK_TARGET,
    OFFLINE_REASON,
    RESPONSE_COLOURS,
    STATS_MONTHS,
    HubIncident,
)

if TYPE_CHECKING:
    from .incidents import HubIncidentBook


@dataclass(frozen=True, slots=True)
class Stats:
    """Hub-wide figures for the sensors (test incidents excluded)."""

    open: int
    today: int
    median_ack_seconds: float | None  # None: no response in the window
    ack_within_target_pct: float | None  # 0–100; None: nothing to judge yet
    window_total: int  # red/orange incidents created in the window
    responded: int  # of those, acknowledged or resolved


def response_time(
    incident: HubIncident, now: datetime, target: timedelta = ACK_TARGET
) -> tuple[bool, float | None]:
    """Whether the incident's response is judged, and its seconds to accept.

    The response is a volunteer (or the desk) accepting. Incidents closed at the
    household (or by themselves) before anyone accepted are not judged; open
    ones nobody accepted in time are misses (judged, no seconds).
    """
    response = incident.acknowledged_at if incident.accepted_by else None
    if response is None:
        return incident.active and now - incident.created_at >= target, None
    return True, max(0.0, (response - incident.created_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Responses:
    """The response times of some incidents (see :func:`response_time`)."""

    seconds: list[float]  # of those accepted
    judged: int
    within: int  # accepted within the target

    @classmethod
    def of(
        cls, incidents: Iterable[HubIncident], now: datetime, target: timedelta
    ) -> Responses:
        """The responses to ``incidents`` at ``now``."""
        seconds: list[float] = []
        judged = within = 0
        for incident in incidents:
            is_judged, elapsed = response_time(incident, now, target)
            judged += is_judged
            if elapsed is not None:
                seconds.append(elapsed)
                within += elapsed <= target.total_seconds()
        return cls(seconds, judged, within)

    @property
    def median_seconds(self) -> float | None:
        """The median time to accept (None: nobody accepted)."""
        return stats_lib.median(self.seconds) if self.seconds else None

    @property
    def within_target_pct(self) -> float | None:
        """0-100; None: nothing to judge yet."""
        return 100.0 * self.within / self.judged if self.judged else None


def _month_keys(start: datetime, months: int) -> list[str]:
    """``YYYY-MM`` of ``months`` months from ``start``'s (at least one)."""
    index = start.year * 12 + start.month - 1
    return [
        f"{(index + step) // 12:04d}-{(index + step) % 12 + 1:02d}"
        for step in range(max(months, 1))
    ]


def month_figures(
    incidents: Iterable[HubIncident],
    now: datetime,
    *,
    months: int = STATS_MONTHS,
    tz: tzinfo | None = None,
    target: timedelta = ACK_TARGET,
) -> list[dict[str, Any]]:
    """Red/orange incidents per calendar month of their creation (in ``tz``).

    One row for each of the last ``months`` months (this one included), oldest
    first, also for a month without incidents: ``month`` ("YYYY-MM"),
    ``incidents`` (red and orange, tests excluded), ``responded`` (accepted),
    ``median_ack_seconds`` and ``ack_within_target_pct`` (0-100, judged as in
    the 30-day statistics; None: nothing to judge), ``surveys_answered`` and
    ``survey_average`` (the average rating of those incidents' answered
    satisfaction surveys; None: no answer). Numbers only: no names, no comments.
    """
    local_now = now if tz is None else now.astimezone(tz)
    start = months_back(local_now, months)
    chosen: dict[str, list[HubIncident]] = {
        key: [] for key in _month_keys(start, months)
    }
    for incident in incidents:
        if incident.test or incident.colour not in RESPONSE_COLOURS:
            continue
        moment = (
            incident.created_at if tz is None else incident.created_at.astimezone(tz)
        )
        key = f"{moment.year:04d}-{moment.month:02d}"
        if key in chosen:
            chosen[key].append(incident)
    rows = []
    for key, items in chosen.items():
        responses = Responses.of(items, now, target)
        surveys = survey_figures(item.survey for item in items if item.survey)
        rows.append(
            {
                "month": key,
                "incidents": len(items),
                "responded": len(responses.seconds),
                "median_ack_seconds": responses.median_seconds,
                "ack_within_target_pct": responses.within_target_pct,
                "surveys_answered": surveys.answered,
                "survey_average": (
                    None
                    if surveys.average_rating is None
                    else round(surveys.average_rating, 2)
                ),
            }
        )
    return rows


INCIDENT_COLUMNS: tuple[str, ...] = (
    "id",
    "household_id",
    "kind",
    "reason",
    "colour",
    "state",
    "test",
    "raised_at",
    "created_at",
    "acknowledged_at",
    "acknowledged_by",
    "seconds_to_acknowledge",
    "on_the_way_at",
    "resolved_at",
    "resolution",
    "escalation_step",
    "sources",
    "survey",
    "survey_rating",
)


def incidents_csv(book: HubIncidentBook, *, tz: tzinfo | None = None) -> str:
    """The incident ledger as CSV text, oldest first (write it with ``utf-8-sig``).

    No personal data: household ids, volunteer ids, times and codes only (details,
    logs and survey comments, which may hold free text, are left out). Times are ISO 8601 with
    their offset; with ``tz`` they are converted to that zone (e.g. local time).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INCIDENT_COLUMNS)

    def moment(value: datetime | None) -> str:
        if value is None:
            return ""
        return (value if tz is None else value.astimezone(tz)).isoformat(
            timespec="seconds"
        )

    for item in book.incidents:
        ack = (
            ""
            if item.acknowledged_at is None
            else f"{(item.acknowledged_at - item.created_at).total_seconds():.0f}"
        )
        writer.writerow(
            [
                item.id,
                item.household_id,
                item.kind.value,
                OFFLINE_REASON if item.offline else "",
                item.colour.value,
                item.state.value,
                "yes" if item.test else "no",
                moment(item.raised_at),
                moment(item.created_at),
                moment(item.acknowledged_at),
                item.acknowledged_by or "",
                ack,
                moment(item.on_the_way_at),
                moment(item.resolved_at),
                item.resolution or "",
                item.escalation_step,
                len(item.source_ids),
                "" if item.survey is None else item.survey.state.value,
                ""
                if item.survey is None or item.survey.rating is None
                else item.survey.rating,
            ]
        )
    return buffer.getvalue()
