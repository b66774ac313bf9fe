"""The hindsight frontier: what the best silence detector could do on a replayed log.

Pure logic. A *silence detector* alarms when the home has been silent for longer
than a threshold that depends only on the context of the silence: where the
person was last seen (**per room**), or that and the time of day the silence
began (**per room × time of day**, the bands of :data:`BANDS`). It gets the
product's inputs, taken from the replay (:mod:`.replay`): the same events, the
same automatic away (no alarm once away has begun; a collapse taken for an
outing is found by the product's check of the inferred outing or, failing
that, by the away cap; the check's own false alarms are not counted: they are
the product's away rule, not a silence threshold), the same check-in (an alarm escalates when no
activity comes before the check-in ends) and the same simulated collapses.

Its thresholds are chosen **with hindsight, on the scored days themselves**: for
each number of escalated false alarms, the thresholds with the shortest median
delay; for a median limit, the thresholds with the fewest escalated false alarms.
A detector of this kind that must choose its thresholds in advance, like the
product's learned routine, cannot do better on the same log, so the frontier is
the limit to read a detector's numbers against. The finer the contexts, the more
optimistic the frontier: many thresholds fitted on few silences (a context with
no collapse in it can take any threshold at no cost).

Counting is the replay's: an alarm counts when it fires after learning ends,
whenever its silence began; the median is the nearest-rank median of the
collapses' delays, "never" (not detected within the collapse horizon) last.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
import math

from .replay import COLLAPSE_HORIZON, Replay, score

#: The times of day of the finer detector: (name, start, end), local time.
BANDS: tuple[tuple[str, time, time], ...] = (
    ("night", time(22, 0), time(7, 0)),
    ("day", time(7, 0), time(17, 0)),
    ("evening", time(17, 0), time(22, 0)),
)
DEFAULT_MEDIAN_LIMIT = timedelta(hours=2)
DEFAULT_MAX_FALSE_ALARMS = 10
NO_ROOM = "(no room)"
_US = timedelta(microseconds=1)
_NEVER = 2**62  # microseconds: never detected, never reached


def band_of(moment: datetime) -> str:
    """The name of the band (of :data:`BANDS`) the local time of ``moment`` falls in."""
    clock = moment.time()
    for name, start, end in BANDS:
        inside = start <= clock < end if start < end else clock >= start or clock < end
        if inside:
            return name
    msg = f"BANDS do not cover {clock}"  # pragma: no cover - BANDS cover the day
    raise AssertionError(msg)  # pragma: no cover


@dataclass(frozen=True, kw_only=True, slots=True)
class FrontierPoint:
    """One point of a frontier: the thresholds and what they give.

    ``median`` is None when more than half of the collapses are never detected.
    """

    false_alarms: int
    per_30_days: float
    median: timedelta | None
    thresholds: Mapping[str, timedelta]


@dataclass(frozen=True, kw_only=True, slots=True)
class Frontier:
    """The hindsight frontier of one kind of silence detector on one replay.

    ``curve``: for 0, 1, 2 … escalated false alarms, the shortest median delay.
    ``at_median_limit``: the fewest escalated false alarms with a median delay
    within ``median_limit`` (None: no thresholds reach it).
    """

    name: str
    contexts: tuple[str, ...]
    days: float
    collapses: int
    median_limit: timedelta
    curve: tuple[FrontierPoint, ...]
    at_median_limit: FrontierPoint | None

    @property
    def at_zero(self) -> FrontierPoint:
        """The shortest median delay without any escalated false alarm."""
        return self.curve[0]


@dataclass(slots=True)
class _Context:
    """One context's choices: thresholds with their false alarms and delays (microseconds)."""

    name: str
    thresholds: list[int]  # ascending
    false_alarms: list[int]  # strictly descending
    delays: list[list[int]]  # per threshold: the context's collapse delays, sorted

    def covered(self, limit: int) -> list[int]:
        """Per threshold: how many of the context's collapses are detected within ``limit``."""
        return [bisect_right(delays, limit) for delays in self.delays]


def _us(value: timedelta) -> int:
    return value // _US


def _contexts(result: Replay, key: Callable[[str, datetime], str]) -> list[_Context]:
    """Each context's useful thresholds (fewer false alarms than any lower one)."""
    grace = _us(result.grace)
    horizon = _us(COLLAPSE_HORIZON)
    # Each silence is an escalated false alarm for the thresholds T with
    # lo <= T < up: it fires after learning, before away, and no activity comes
    # before the check-in ends (T <= length - grace).
    starts: dict[str, list[int]] = {}
    ups: dict[str, list[int]] = {}
    for silence in result.silences:
        name = key(silence.room, silence.start)
        starts.setdefault(name, [])
        ups.setdefault(name, [])
        lo = max(_us(result.learning_end - silence.start), 0)
        up = _us(silence.end - silence.start) - grace + 1
        if silence.away_from is not None:
            up = min(up, _us(silence.away_from - silence.start))
        if up > lo:
            starts[name].append(lo)
            ups[name].append(up)
    collapses: dict[str, list[tuple[int, int | None, int]]] = {}
    for collapse in result.collapses:
        name = key(collapse.room, collapse.since)
        starts.setdefault(name, [])
        ups.setdefault(name, [])
        away = (
            None
            if collapse.away_from is None
            else _us(collapse.away_from - collapse.since)
        )
        # Taken for an outing: found by the product's away handling (the check
        # of the inferred outing, else the away cap).
        found_by_away = collapse.checked or collapse.capped
        capped = _NEVER if found_by_away is None else _us(found_by_away - collapse.at)
        collapses.setdefault(name, []).append(
            (_us(collapse.at - collapse.since), away, capped)
        )
    contexts = []
    for name in sorted(starts):
        lows, highs = sorted(starts[name]), sorted(ups[name])
        thresholds: list[int] = []
        false_alarms: list[int] = []
        for threshold in sorted({0, *highs}):
            count = bisect_right(lows, threshold) - bisect_right(highs, threshold)
            if not false_alarms or count < false_alarms[-1]:
                thresholds.append(threshold)
                false_alarms.append(count)
        delays = []
        for threshold in thresholds:
            found = []
            for elapsed, away, capped in collapses.get(name, ()):
                if away is None or threshold < away:
                    delay = max(threshold - elapsed, 0)
                else:  # away began first: only the away cap finds it
                    delay = capped
                found.append(delay if delay < horizon else _NEVER)
            delays.append(sorted(found))
        contexts.append(_Context(name, thresholds, false_alarms, delays))
    return contexts


def _covering(
    contexts: Sequence[_Context], budget: int, limit: int
) -> tuple[list[int], list[list[tuple[int, int]]]]:
    """For each total of false alarms up to ``budget``, the most collapses found within ``limit``.

    Returns that table (-1: the total cannot be made) and the choices to
    backtrack the threshold chosen per context.
    """
    best = [0] + [-1] * budget  # best[f]: most covered with exactly f false alarms
    picks: list[list[tuple[int, int]]] = []
    for context in contexts:
        covered = context.covered(limit)
        new = [-1] * (budget + 1)
        pick = [(-1, -1)] * (budget + 1)
        for used in range(budget + 1):
            if best[used] < 0:
                continue
            for index, alarms in enumerate(context.false_alarms):
                total = used + alarms
                if total > budget:
                    continue
                if best[used] + covered[index] > new[total]:
                    new[total] = best[used] + covered[index]
                    pick[total] = (used, index)
        best = new
        picks.append(pick)
    return best, picks


def _backtrack(picks: Sequence[Sequence[tuple[int, int]]], state: int) -> list[int]:
    chosen: list[int] = []
    for pick in reversed(picks):
        state, index = pick[state]
        chosen.append(index)
    chosen.reverse()
    return chosen


def _fewest_alarms(
    contexts: Sequence[_Context], need: int, limit: int
) -> tuple[int, list[int]] | None:
    """The fewest false alarms with at least ``need`` collapses detected within ``limit``."""
    fewest = [0] + [_NEVER] * need  # fewest[c]: c covered (capped at need)
    picks: list[list[tuple[int, int]]] = []
    for context in contexts:
        covered = context.covered(limit)
        new = [_NEVER] * (need + 1)
        pick = [(-1, -1)] * (need + 1)
        for done in range(need + 1):
            if fewest[done] == _NEVER:
                continue
            for index, alarms in enumerate(context.false_alarms):
                total = min(done + covered[index], need)
                if fewest[done] + alarms < new[total]:
                    new[total] = fewest[done] + alarms
                    pick[total] = (done, index)
        fewest = new
        picks.append(pick)
    if fewest[need] == _NEVER:
        return None
    return fewest[need], _backtrack(picks, need)


def _point(
    contexts: Sequence[_Context],
    need: int,
    days: float,
    alarms: int,
    chosen: Sequence[int],
) -> FrontierPoint:
    """The frontier's point of the thresholds ``chosen`` (an index per context)."""
    delays = sorted(
        delay
        for context, index in zip(contexts, chosen, strict=True)
        for delay in context.delays[index]
    )
    median = delays[need - 1]
    return FrontierPoint(
        false_alarms=alarms,
        per_30_days=alarms * 30 / days if days else 0.0,
        median=None if median == _NEVER else median * _US,
        thresholds={
            context.name: context.thresholds[index] * _US
            for context, index in zip(contexts, chosen, strict=True)
        },
    )


def _smallest_limit(
    contexts: Sequence[_Context],
    budget: int,
    need: int,
    limits: Sequence[int],
    high: int,
) -> int:
    """The index of the smallest delay limit that finds ``need`` collapses.

    With at most ``budget`` false alarms; a binary search below ``high``.
    """
    low = 0
    while low < high:
        middle = (low + high) // 2
        if max(_covering(contexts, budget, limits[middle])[0]) >= need:
            high = middle
        else:
            low = middle + 1
    return high


def frontier(
    result: Replay,
    *,
    by_time_of_day: bool = False,
    max_false_alarms: int = DEFAULT_MAX_FALSE_ALARMS,
    median_limit: timedelta = DEFAULT_MEDIAN_LIMIT,
) -> Frontier:
    """The hindsight frontier of the per-room (or per room × time of day) detector.

    Scored over every day after learning (the report's "all days after
    learning"). Raises ValueError when the replay has no simulated collapse.
    """
    if not result.collapses:
        msg = "the frontier needs simulated collapses"
        raise ValueError(msg)
    zone = result.zone

    def key(room: str, start: datetime) -> str:
        name = room or NO_ROOM
        if by_time_of_day:
            return f"{name} × {band_of(start.astimezone(zone))}"
        return name

    contexts = _contexts(result, key)
    days = score(result).days
    collapses = len(result.collapses)
    need = math.ceil(collapses / 2)  # nearest-rank median: the need-th shortest delay
    limits = sorted(
        {delay for context in contexts for row in context.delays for delay in row}
        - {_NEVER}
    )

    def point(alarms: int, chosen: Sequence[int]) -> FrontierPoint:
        return _point(contexts, need, days, alarms, chosen)

    curve: list[FrontierPoint] = []
    high = len(limits)
    for budget in range(max_false_alarms + 1):
        # A larger budget never needs a larger limit: search below the last one.
        high = _smallest_limit(contexts, budget, need, limits, high)
        limit = limits[high] if high < len(limits) else _NEVER
        best, picks = _covering(contexts, budget, limit)
        # The fewest false alarms that do it (or, if nothing finds half the
        # collapses in time, the most found).
        used = next(
            (total for total, found in enumerate(best) if found >= need),
            best.index(max(best)),
        )
        curve.append(point(used, _backtrack(picks, used)))
    fewest = _fewest_alarms(contexts, need, _us(median_limit))
    at_limit = None if fewest is None else point(*fewest)
    return Frontier(
        name="per room × time of day" if by_time_of_day else "per room",
        contexts=tuple(context.name for context in contexts),
        days=days,
        collapses=collapses,
        median_limit=median_limit,
        curve=tuple(curve),
        at_median_limit=at_limit,
    )
