"""The hub's incident ledger: records, merging, volunteer answers, retention, statistics.

Pure logic (no Home Assistant import). The glue persists :meth:`HubIncidentBook.as_dict`,
keeps time, sends pushes and logs each send on the incident with :meth:`HubIncident.add_log`.

Decisions taken here:

* **The hub owns an incident once it has it** (ARCHITECTURE.md). The household's
  updates are logged; the family's acknowledgement sets
  ``acknowledged_at``/``acknowledged_by = "family"`` if no volunteer accepted; the
  household's resolution (or cancellation) resolves the hub incident with
  resolution ``household`` (or the household's note if it is one of the codes a
  person picks) — for a merged incident, only as described under "closes only
  when every source has" below.
* **Merging**: a message with a new source id for a household that has an active
  incident of the same kind (and the same test flag) is merged into it: its id is
  added to ``source_ids`` and the incident is not paged again.
* **A merged incident closes only when every source has** (ARCHITECTURE.md, amended
  after issue 15): each source's last state is kept in ``source_states``; one
  source's resolution is recorded on that source only, and the hub incident is
  resolved by the households only when all its sources are resolved (or cancelled),
  whatever order their messages arrive in after an outage. A person resolving it at
  the hub closes it outright. Likewise the family's acknowledgement marks the hub
  incident acknowledged only while every unresolved source is acknowledged: a new
  help call merged into it opens it again (escalation never stopped for the family).
* **Idempotency**: a message whose ``seq`` is not higher than the last one applied
  for its source id changes nothing.
* **Offline households** are ``sensor_fault`` incidents with
  ``details["reason"] == OFFLINE_REASON`` (models.py has no ``offline`` kind). They
  are never merge targets for the household's own messages, and are resolved with
  ``back_online`` when the household is heard from again.
* **A volunteer's accept beats the family's acknowledgement**: after "family"
  acknowledged, the first volunteer to accept still becomes the owner
  (``acknowledged_at`` keeps the first acknowledgement, for the statistics).
* **Hub time**: ``created_at`` is when the hub received the incident (what the duty
  desk's response time is measured from); ``raised_at`` is the household's own time.
* **Statistics** exclude test incidents; response times count red and orange
  incidents only (yellow is IT work); the first response is the acknowledgement, or
  the resolution if nobody acknowledged.
* **Satisfaction surveys** (issue 22, rules in ``surveys.py``): an incident is
  surveyed when it is closed, however it was closed, if it is red or orange (the
  alarms whose response times are reported), not a test and not a "household
  offline" incident. The survey lives on the incident (stored, exported, erased
  with it); its figures use the same 30-day window as the response times.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any
import uuid

from ..models import TRIAGE, URGENCY, IncidentKind, IncidentState, Triage
from ..surveys import (
    SurveyError,
    SurveyFigures,
    SurveyState,
    SurveyVia,
    months_back,
    survey_figures,
    survey_months,
)
from .figures import Responses, Stats, month_figures
from .records import (
    ACK_TARGET,
    ACTOR_FAMILY,
    ACTOR_HOUSEHOLD,
    ACTOR_HUB,
    OFFLINE_REASON,
    RESOLUTION_CODES,
    RESPONSE_COLOURS,
    STATS_MONTHS,
    STATS_STOP_AFTER,
    STATS_WINDOW,
    HubIncident,
    HubIncidentError,
    LogEvent,
    Resolution,
)

# A household incident in one of these states needs nothing more from the hub.
_SETTLED = frozenset({IncidentState.RESOLVED.value, IncidentState.CANCELLED.value})


class HubIncidentBook:
    """All incidents the hub holds."""

    def __init__(
        self,
        incidents: Iterable[HubIncident] = (),
        triage: Mapping[IncidentKind, Triage] = TRIAGE,
    ) -> None:
        """Start empty or from stored incidents; ``triage`` colours new incidents."""
        self._triage = triage
        self._incidents: dict[str, HubIncident] = {}
        self._sources: dict[str, str] = {}
        # Every active incident (and perhaps some closed since): the queries that
        # need active ones read this, not the whole ledger, which grows for years.
        self._open: dict[str, HubIncident] = {}
        # Every incident with a pending survey (and perhaps some settled since),
        # so closing the unanswered ones does not read the whole ledger.
        self._surveys: dict[str, HubIncident] = {}
        # Ids changed (or dropped) since the glue last wrote them: the hub
        # persists just these. The glue touches what it changes itself (logs of
        # sends, escalation steps) with :meth:`touch`.
        self.changed: set[str] = set()
        for incident in incidents:
            self._add(incident)
        self.changed.clear()  # as stored

    def touch(self, incident: HubIncident | str) -> None:
        """Mark an incident changed (to be written)."""
        self.changed.add(incident if isinstance(incident, str) else incident.id)

    def take_changes(self) -> set[str]:
        """The changed incident ids (absent from the book: dropped), forgetting them."""
        changed, self.changed = self.changed, set()
        return changed

    def _add(self, incident: HubIncident) -> None:
        self._incidents[incident.id] = incident
        self.changed.add(incident.id)
        if incident.active:
            self._open[incident.id] = incident
        self._track_survey(incident)
        for source_id in incident.source_ids:
            self._sources[source_id] = incident.id

    def _track_survey(self, incident: HubIncident) -> None:
        if incident.survey is not None and incident.survey.state is SurveyState.PENDING:
            self._surveys[incident.id] = incident

    def _open_now(self) -> list[HubIncident]:
        """The active incidents (forgetting the closed ones in the index)."""
        for closed in [key for key, item in self._open.items() if not item.active]:
            self._track_survey(self._open.pop(closed))
        return list(self._open.values())

    # --------------------------------------------------------------- queries
    @property
    def incidents(self) -> list[HubIncident]:
        """Every incident held, oldest first."""
        return list(self._incidents.values())

    def open_incidents(self) -> list[HubIncident]:
        """The active incidents in no particular order (no sort: cheaper than ``active``)."""
        return self._open_now()

    @property
    def active(self) -> list[HubIncident]:
        """Active incidents, most urgent first (then oldest first)."""
        return sorted(
            self._open_now(),
            key=lambda item: (URGENCY.index(item.kind), item.created_at),
        )

    def get(self, incident_id: str) -> HubIncident:
        """One incident; HubIncidentError ``unknown_incident``."""
        incident = self._incidents.get(incident_id)
        if incident is None:
            raise HubIncidentError("unknown_incident", incident=incident_id)
        return incident

    def get_or_none(self, incident_id: str) -> HubIncident | None:
        """One incident or None."""
        return self._incidents.get(incident_id)

    def by_source(self, source_id: str) -> HubIncident | None:
        """The incident a household's incident id was applied to."""
        incident_id = self._sources.get(source_id)
        return None if incident_id is None else self._incidents.get(incident_id)

    def open_for_household(
        self, household_id: str, kind: IncidentKind
    ) -> HubIncident | None:
        """The active incident of this household and kind (offline ones excluded)."""
        return next(
            (
                item
                for item in self._open_now()
                if item.household_id == household_id
                and item.kind == kind
                and not item.offline
            ),
            None,
        )

    def open_offline(self, household_id: str) -> HubIncident | None:
        """The household's active "offline" incident, if any."""
        return next(
            (
                item
                for item in self._open_now()
                if item.household_id == household_id and item.offline
            ),
            None,
        )

    # --------------------------------------------------------------- intake
    def apply(
        self,
        household_id: str,
        *,
        source_id: str,
        seq: int,
        kind: IncidentKind | str,
        state: IncidentState | str,
        test: bool = False,
        created_at: datetime | None = None,
        details: Mapping[str, Any] | None = None,
        by: str | None = None,
        note: str | None = None,
        now: datetime,
    ) -> tuple[HubIncident, bool]:
        """Apply a household's incident message; returns (incident, changed).

        Raises HubIncidentError ``other_household`` if ``source_id`` belongs to
        another household's incident.
        """
        kind = IncidentKind(kind)
        state = IncidentState(state)
        existing = self.by_source(source_id)
        if existing is not None:
            if existing.household_id != household_id:
                raise HubIncidentError("other_household", incident=source_id)
            if seq <= existing.source_ids[source_id]:
                return existing, False
            existing.source_ids[source_id] = seq
            self.changed.add(existing.id)
            existing.details.update(details or {})
            if state is IncidentState.OPEN:
                existing.add_log(now, LogEvent.UPDATED, ACTOR_HOUSEHOLD, source_id)
            self._household_state(existing, source_id, state, by, note, now)
            return existing, True
        target = self.open_for_household(household_id, kind)
        if target is not None and target.test == test:
            target.source_ids[source_id] = seq
            self._sources[source_id] = target.id
            self.changed.add(target.id)
            for key, value in (details or {}).items():
                target.details.setdefault(key, value)
            target.add_log(now, LogEvent.MERGED, ACTOR_HOUSEHOLD, source_id)
            self._household_state(target, source_id, state, by, note, now)
            return target, True
        incident = HubIncident(
            id=uuid.uuid4().hex,
            household_id=household_id,
            kind=kind,
            colour=self._triage[kind],
            test=test,
            source_ids={source_id: seq},
            created_at=now,
            raised_at=created_at or now,
            details=dict(details or {}),
        )
        incident.add_log(now, LogEvent.RECEIVED, ACTOR_HOUSEHOLD, source_id)
        self._add(incident)
        self._household_state(incident, source_id, state, by, note, now)
        return incident, True

    @staticmethod
    def _household_state(
        incident: HubIncident,
        source_id: str,
        state: IncidentState,
        by: str | None,
        note: str | None,
        now: datetime,
    ) -> None:
        """One household incident's acknowledge/resolve, as the hub (the owner) takes it.

        Several household incidents may be merged into one hub incident: the state
        is recorded per source, and the hub incident follows only what all of its
        sources say (see the module docstring). Each fact (event and detail) is
        logged once: after an outage, the replayed "resolved" of every merged
        source is logged once, while a later resolution with another code is
        logged too.
        """
        incident.source_states[source_id] = state.value
        detail = "; ".join(part for part in (by, note) if part) or None
        if state is IncidentState.ACKNOWLEDGED:
            if not incident.has_log(LogEvent.FAMILY_ACKNOWLEDGED, detail):
                incident.add_log(
                    now, LogEvent.FAMILY_ACKNOWLEDGED, ACTOR_FAMILY, detail
                )
        elif state in (IncidentState.RESOLVED, IncidentState.CANCELLED):
            if not incident.has_log(LogEvent.HOUSEHOLD_RESOLVED, detail):
                incident.add_log(now, LogEvent.HOUSEHOLD_RESOLVED, ACTOR_FAMILY, detail)
        if not incident.active:
            return
        unresolved = [
            incident.source_states.get(source, IncidentState.OPEN.value)
            for source in incident.source_ids
            if incident.source_states.get(source) not in _SETTLED
        ]
        if not unresolved:
            incident.close(
                now, note if note in RESOLUTION_CODES else Resolution.HOUSEHOLD
            )
        elif incident.accepted_by is not None:
            return  # a volunteer owns it; the family's answers are logged only
        elif all(value == IncidentState.ACKNOWLEDGED.value for value in unresolved):
            if incident.acknowledged_at is None:
                incident.acknowledged_at = now
            incident.acknowledged_by = ACTOR_FAMILY
            incident.state = IncidentState.ACKNOWLEDGED
        elif incident.state is IncidentState.ACKNOWLEDGED:
            # A source nobody at home has answered (a second help call merged in).
            incident.acknowledged_by = None
            incident.state = IncidentState.OPEN

    # ------------------------------------------------------------ volunteers
    def accept(self, incident_id: str, volunteer_id: str, now: datetime) -> bool:
        """Take the incident: True if ``volunteer_id`` owns it now (also when already so).

        False if the incident is closed or another volunteer accepted first.
        """
        incident = self.get(incident_id)
        if not incident.active:
            return False
        owner = incident.accepted_by
        if owner is not None:
            return owner == volunteer_id
        # A volunteer's acceptance is the response time, even after the family's ack.
        incident.acknowledged_by = volunteer_id
        incident.acknowledged_at = now
        incident.state = IncidentState.ACKNOWLEDGED
        incident.next_escalation_at = None
        incident.add_log(now, LogEvent.ACCEPTED, volunteer_id)
        self.changed.add(incident_id)
        return True

    def on_the_way(self, incident_id: str, volunteer_id: str, now: datetime) -> bool:
        """The owner is on the way (accepting first if nobody did). False: not recorded."""
        if not self.accept(incident_id, volunteer_id, now):
            return False
        incident = self.get(incident_id)
        if incident.on_the_way_at is None:
            incident.on_the_way_at = now
        incident.add_log(now, LogEvent.ON_THE_WAY, volunteer_id)
        self.changed.add(incident_id)
        return True

    def resolve(
        self, incident_id: str, actor: str, resolution: str, now: datetime
    ) -> bool:
        """Close the incident; False if it was already closed.

        ``resolution`` is one of :class:`Resolution` (HubIncidentError
        ``invalid_resolution`` otherwise). Resolving does not acknowledge.
        """
        code = Resolution.parse(resolution)
        incident = self.get(incident_id)
        if not incident.active:
            return False
        incident.close(now, code)
        incident.add_log(now, LogEvent.RESOLVED, actor, code)
        self.changed.add(incident_id)
        return True

    def set_resolution(
        self, incident_id: str, actor: str, resolution: str, now: datetime
    ) -> None:
        """Give or correct the code of a resolved incident (e.g. after ``unspecified``)."""
        code = Resolution.parse(resolution)
        incident = self.get(incident_id)
        if incident.active:
            raise HubIncidentError("incident_open", incident=incident_id)
        incident.resolution = code
        incident.add_log(now, LogEvent.RESOLUTION_CHANGED, actor, code)
        self.changed.add(incident_id)

    # --------------------------------------------------------------- offline
    def household_offline(
        self, household_id: str, now: datetime, since: datetime | None = None
    ) -> tuple[HubIncident, bool]:
        """The household's yellow "offline" incident; (incident, newly opened)."""
        existing = self.open_offline(household_id)
        if existing is not None:
            return existing, False
        incident = HubIncident(
            id=uuid.uuid4().hex,
            household_id=household_id,
            kind=IncidentKind.SENSOR_FAULT,
            colour=self._triage[IncidentKind.SENSOR_FAULT],
            created_at=now,
            raised_at=since or now,
            details={"reason": OFFLINE_REASON},
        )
        incident.add_log(now, LogEvent.OFFLINE, ACTOR_HUB)
        self._add(incident)
        return incident, True

    def household_online(self, household_id: str, now: datetime) -> HubIncident | None:
        """Resolve the household's offline incident (``back_online``); None if none."""
        incident = self.open_offline(household_id)
        if incident is None:
            return None
        incident.close(now, Resolution.BACK_ONLINE)
        incident.add_log(now, LogEvent.BACK_ONLINE, ACTOR_HUB)
        self.changed.add(incident.id)
        return incident

    # --------------------------------------------------------------- surveys
    def answer_survey(
        self,
        incident_id: str,
        *,
        rating: Any,
        comment: Any = None,
        by: str | None = None,
        via: SurveyVia | str,
        now: datetime,
    ) -> tuple[HubIncident, bool]:
        """Record the answer to an incident's survey; (incident, stored now).

        The first answer wins: a repeat is (incident, False). HubIncidentError
        ``unknown_incident``; ``no_survey`` (still open, or never surveyed);
        ``invalid_rating`` / ``comment_too_long`` (bad input: nothing changes);
        ``survey_closed`` (no answer within SURVEY_DAYS).
        """
        incident = self.get(incident_id)
        if incident.survey is None:
            raise HubIncidentError("no_survey", incident=incident_id)
        was_pending = incident.survey.state is SurveyState.PENDING
        self.changed.add(incident.id)  # an answer, or a survey closing now
        try:
            stored = incident.survey.answer(
                rating=rating, comment=comment, by=by, via=via, now=now
            )
        except SurveyError as err:
            if was_pending and incident.survey.state is SurveyState.NO_ANSWER:
                incident.add_log(now, LogEvent.SURVEY_NO_ANSWER, ACTOR_HUB)
            raise HubIncidentError(err.code, **err.placeholders) from None
        if stored:
            actor = ACTOR_FAMILY if via == SurveyVia.HOUSEHOLD else (by or ACTOR_HUB)
            incident.add_log(
                now, LogEvent.SURVEY_ANSWERED, actor, str(incident.survey.rating)
            )
        return incident, stored

    def close_surveys(self, now: datetime) -> list[HubIncident]:
        """Close the surveys nobody answered within SURVEY_DAYS ("no answer")."""
        self._open_now()  # incidents closed since: their surveys join the index
        closed: list[HubIncident] = []
        for key, incident in list(self._surveys.items()):
            survey = incident.survey
            if survey is None or survey.state is not SurveyState.PENDING:
                del self._surveys[key]
            elif survey.close_if_due(now):
                incident.add_log(now, LogEvent.SURVEY_NO_ANSWER, ACTOR_HUB)
                self.changed.add(incident.id)
                del self._surveys[key]
                closed.append(incident)
        return closed

    def _recent(self, since: datetime) -> Iterator[HubIncident]:
        """Incidents created since ``since``, newest first (the scan of statistics)."""
        older_in_a_row = 0
        for item in reversed(self._incidents.values()):
            if item.created_at < since:
                older_in_a_row += 1
                if older_in_a_row >= STATS_STOP_AFTER:
                    return
                continue
            older_in_a_row = 0
            yield item

    def survey_statistics(
        self, now: datetime, *, window: timedelta = STATS_WINDOW
    ) -> SurveyFigures:
        """Survey figures of the incidents received in the window (numbers only)."""
        return survey_figures(
            item.survey for item in self._recent(now - window) if item.survey
        )

    def survey_report(
        self, since: datetime, *, tz: tzinfo | None = None
    ) -> list[dict[str, Any]]:
        """Survey figures per month of asking (in ``tz``), for surveys asked since ``since``."""
        return survey_months(
            (
                item.survey
                for item in self._incidents.values()
                if item.survey is not None and item.survey.asked_at >= since
            ),
            tz=tz,
        )

    # -------------------------------------------------------------- personal
    def export_household(self, household_id: str) -> list[dict[str, Any]]:
        """The household's incidents (for the per-person export)."""
        return [
            item.as_dict()
            for item in self._incidents.values()
            if item.household_id == household_id
        ]

    def erase_household(self, household_id: str) -> int:
        """Drop free text about the elder from their incidents; keep times and kinds."""
        count = 0
        for incident in self._incidents.values():
            if incident.household_id != household_id:
                continue
            count += 1
            self.changed.add(incident.id)
            incident.erase_free_text()
        return count

    # ------------------------------------------------------------- retention
    def purge(self, now: datetime, retention: timedelta) -> int:
        """Drop closed incidents closed more than ``retention`` ago; returns how many."""
        cutoff = now - retention
        old = [
            item
            for item in self._incidents.values()
            if not item.active and (item.resolved_at or item.created_at) < cutoff
        ]
        for incident in old:
            del self._incidents[incident.id]
            self.changed.add(incident.id)
            self._open.pop(incident.id, None)
            self._surveys.pop(incident.id, None)
            for source_id in incident.source_ids:
                self._sources.pop(source_id, None)
        return len(old)

    def statistics(
        self,
        now: datetime,
        *,
        today_start: datetime,
        window: timedelta = STATS_WINDOW,
        target: timedelta = ACK_TARGET,
    ) -> Stats:
        """Open count, incidents since ``today_start`` (local midnight), response times.

        Only the recent end of the ledger is read: incidents are held in the
        order they arrived, so the scan (newest first) stops after a run of
        incidents older than both periods (slack for a clock that stepped back).
        """
        since = now - window
        counted = [
            item for item in self._recent(min(since, today_start)) if not item.test
        ]
        in_window = [
            item
            for item in counted
            if item.colour in RESPONSE_COLOURS and item.created_at >= since
        ]
        responses = Responses.of(in_window, now, target)
        return Stats(
            open=sum(not item.test for item in self._open_now()),
            today=sum(item.created_at >= today_start for item in counted),
            median_ack_seconds=responses.median_seconds,
            ack_within_target_pct=responses.within_target_pct,
            window_total=len(in_window),
            responded=len(responses.seconds),
        )

    def month_statistics(
        self,
        now: datetime,
        *,
        months: int = STATS_MONTHS,
        tz: tzinfo | None = None,
        target: timedelta = ACK_TARGET,
    ) -> list[dict[str, Any]]:
        """The figures per calendar month (in ``tz``), see ``month_figures``."""
        local_now = now if tz is None else now.astimezone(tz)
        since = months_back(local_now, months)
        return month_figures(
            self._recent(since), now, months=months, tz=tz, target=target
        )

    # --------------------------------------------------------------- storage
    def as_dict(self) -> dict[str, Any]:
        """Serialise for the Store."""
        return {"incidents": [item.as_dict() for item in self._incidents.values()]}

    @classmethod
    def from_dict(
        cls, data: Any, triage: Mapping[IncidentKind, Triage] = TRIAGE
    ) -> HubIncidentBook:
        """Rebuild from the Store (``None`` or anything not a mapping: empty)."""
        if not isinstance(data, Mapping):
            return cls(triage=triage)
        return cls(
            (HubIncident.from_dict(item) for item in data.get("incidents", [])),
            triage=triage,
        )
