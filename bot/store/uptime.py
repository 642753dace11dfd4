"""Uptime from stored history: what a server was doing over a window of time, and the numbers of it.

Pure: functions of one server's state events (`StateFacts`, oldest first) and of the periods the bot was
recording (`bot.store.recording`); no I/O. A server's state follows its vocabulary transitions
(`bot.store.state.advance`); its condition is up (online or ready), crashed (put down by a crash type: a
crash, a give-up, an out-of-memory kill, until its state changes otherwise) or down (anything else: stopped,
starting, updating, …). Where the bot cannot know, it says "no data" and leaves that time out of the
percentage: before the server's first state event, and while the bot was not recording.

An outage is the time from a crash until the server is up again. Its length is known only when the bot was
recording all along: an outage that runs through a gap counts in no average.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.events import TABLE, Family, State
from bot.store.rows import StateFacts
from bot.store.state import InstanceState, advance

# The types that put a server down by crashing, from the vocabulary (crashed, gave up, killed: out of memory).
CRASH_TYPES = frozenset(
    name
    for name, kind in TABLE.items()
    if kind.family is Family.LIFECYCLE
    and kind.transition is not None
    and kind.transition.to in (State.CRASHED, State.FAILED)
)
# Types that change a server's state: the only ones an uptime query needs.
STATE_TYPES = frozenset(name for name, kind in TABLE.items() if kind.transition is not None)

Window = tuple[datetime, datetime]


class Condition(StrEnum):
    UP = "up"
    DOWN = "down"
    CRASHED = "crashed"
    NO_DATA = "no data"


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime
    condition: Condition

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Outage:
    start: datetime
    end: datetime  # when it was up again, or the window's end while it is not
    recovered: bool
    known: bool  # the bot was recording through all of it

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Uptime:
    """One server over one window."""

    start: datetime
    end: datetime
    spans: tuple[Span, ...]  # the window, cut where the condition changes; no data where unknown
    crashes: int
    outages: tuple[Outage, ...]  # those overlapping the window

    def seconds_in(self, condition: Condition) -> float:
        return sum(span.seconds for span in self.spans if span.condition is condition)

    @property
    def known_seconds(self) -> float:
        return (self.end - self.start).total_seconds() - self.seconds_in(Condition.NO_DATA)

    @property
    def percent(self) -> float | None:
        """Up time as a share of the time the bot knows about; None when it knows nothing of the window."""
        known = self.known_seconds
        return 100.0 * self.seconds_in(Condition.UP) / known if known > 0 else None

    @property
    def mean_recovery(self) -> float | None:
        """Mean time to recovery, in seconds, of the outages that ended in the window and were seen whole."""
        ended = [o.seconds for o in self.outages if o.recovered and o.known and self.start <= o.end <= self.end]
        return sum(ended) / len(ended) if ended else None

    @property
    def longest(self) -> Outage | None:
        """The longest outage seen whole (an ongoing one counts up to the window's end)."""
        return max((o for o in self.outages if o.known), key=lambda o: o.seconds, default=None)


def _condition(before: InstanceState | None, after: InstanceState, event_type: str, current: Condition) -> Condition:
    if before is not None and after.state is before.state and current is not Condition.NO_DATA:
        return current  # a transition that did not apply (`only_from`), or a repeat: nothing changed
    if after.state.is_up:
        return Condition.UP
    if event_type in CRASH_TYPES:
        return Condition.CRASHED
    return Condition.DOWN


def walk(facts: Iterable[StateFacts], end: datetime) -> list[Span]:
    """The conditions one server's events (oldest first) lead to, from its first state event to `end`."""
    state: InstanceState | None = None
    condition = Condition.NO_DATA
    spans: list[Span] = []
    since: datetime | None = None
    for fact in facts:
        if fact.type not in STATE_TYPES or fact.timestamp >= end:
            continue
        updated = advance(state, fact)
        if updated is None:
            continue
        new = _condition(state, updated, fact.type, condition)
        state = updated
        if new is condition:
            continue
        if since is None:
            since = fact.timestamp
        elif fact.timestamp > since:
            spans.append(Span(since, fact.timestamp, condition))
            since = fact.timestamp
        condition = new  # at the same instant as the change before it, the earlier condition lasted 0 s
    if since is not None and end > since:
        spans.append(Span(since, end, condition))
    return spans


def clip(spans: Sequence[Span], start: datetime, end: datetime) -> list[Span]:
    """`spans` cut to the window, with no data wherever they say nothing."""
    result: list[Span] = []
    cursor = start
    for span in spans:
        begin, finish = max(span.start, start), min(span.end, end)
        if finish <= begin:
            continue
        if begin > cursor:
            result.append(Span(cursor, begin, Condition.NO_DATA))
        result.append(Span(begin, finish, span.condition))
        cursor = finish
    if cursor < end:
        result.append(Span(cursor, end, Condition.NO_DATA))
    return _merged(result)


def mask(spans: Sequence[Span], recorded: Sequence[Window]) -> list[Span]:
    """`spans` with no data wherever the bot was not recording: each span clipped to the recorded windows."""
    result: list[Span] = []
    for span in spans:
        result.extend(clip([Span(began, ended, span.condition) for began, ended in recorded], span.start, span.end))
    return _merged(result)


def _merged(spans: Iterable[Span]) -> list[Span]:
    result: list[Span] = []
    for span in spans:
        if span.seconds <= 0:
            continue
        if result and result[-1].condition is span.condition and result[-1].end == span.start:
            result[-1] = Span(result[-1].start, span.end, span.condition)
        else:
            result.append(span)
    return result


def _outages(spans: Sequence[Span], recorded: Sequence[Window], end: datetime) -> list[Outage]:
    outages: list[Outage] = []
    began: datetime | None = None
    for span in spans:
        if span.condition is Condition.CRASHED and began is None:
            began = span.start
        elif span.condition is Condition.UP and began is not None:
            outages.append(Outage(began, span.start, True, _recorded_through(recorded, began, span.start)))
            began = None
    if began is not None:
        outages.append(Outage(began, end, False, _recorded_through(recorded, began, end)))
    return outages


def _recorded_through(recorded: Sequence[Window], start: datetime, end: datetime) -> bool:
    return any(began <= start and end <= ended for began, ended in recorded)


def uptime(facts: Sequence[StateFacts], recorded: Sequence[Window], start: datetime, end: datetime) -> Uptime:
    """One server's uptime over [start, end): `facts` are its state events up to `end`, oldest first (those
    before `start` tell its state at the start), `recorded` the periods the bot was recording, in order."""
    raw = walk(facts, end)
    spans = mask(clip(raw, start, end), recorded)
    crashes = sum(1 for fact in facts if fact.type in CRASH_TYPES and start <= fact.timestamp < end)
    outages = [o for o in _outages(raw, recorded, end) if o.end > start]
    return Uptime(start, end, tuple(spans), crashes, tuple(outages))


def cells(spans: Sequence[Span], start: datetime, end: datetime, count: int) -> list[Condition]:
    """The window in `count` equal cells: crashed if the server crashed in it at all (a 40 s crash must show),
    else the condition of most of the cell."""
    step = (end - start) / count
    result: list[Condition] = []
    for index in range(count):
        begin, finish = start + step * index, start + step * (index + 1)
        seconds = dict.fromkeys(Condition, 0.0)
        for span in spans:
            overlap = (min(span.end, finish) - max(span.start, begin)).total_seconds()
            if overlap > 0:
                seconds[span.condition] += overlap
        if seconds[Condition.CRASHED] > 0:
            result.append(Condition.CRASHED)
        else:
            result.append(max((Condition.UP, Condition.DOWN, Condition.NO_DATA), key=lambda c: seconds[c]))
    return result


def cell_layout(days: int) -> tuple[int, timedelta]:
    """How a window of `days` is cut: one cell per hour up to two days, else one per day."""
    if days <= 2:
        return days * 24, timedelta(hours=1)
    return days, timedelta(days=1)
