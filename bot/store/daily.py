"""One server's day in numbers, for the daily digest: uptime and crashes (`bot.store.uptime`), updates,
backups and the peak of players online. Pure, like `bot.store.uptime`: a function of the server's events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.events import TABLE, Family, Outcome
from bot.store.roster import JOINED, LEFT
from bot.store.rows import StateFacts
from bot.store.state import InstanceState, advance
from bot.store.uptime import STATE_TYPES, Uptime, Window, uptime

# A successful update is told by one of these (eras differ: some send two of them for one update).
UPDATE_TYPES = frozenset(
    name for name, kind in TABLE.items() if kind.family is Family.UPDATE and kind.outcome is Outcome.SUCCESS
)
BACKUP_TYPE = "backup.created"
# The types a digest reads besides the state ones.
DIGEST_TYPES = STATE_TYPES | UPDATE_TYPES | {BACKUP_TYPE, JOINED, LEFT}


@dataclass(frozen=True)
class DaySummary:
    uptime: Uptime
    updates: int
    backups: int
    peak_players: int


def peak_players(facts: Sequence[StateFacts], start: datetime, end: datetime) -> int:
    """The most players on at once in [start, end): the server's roster (`bot.store.roster`, applied by
    `advance` as for /players) after each of its events. Players already on at `start` are not known: the
    count starts at zero."""
    state: InstanceState | None = None
    peak = 0
    for fact in facts:
        if fact.timestamp >= end:
            break
        state = advance(state, fact) or state
        if state is not None and fact.timestamp >= start:
            peak = max(peak, len(state.roster))
    return peak


def day_summary(facts: Sequence[StateFacts], recorded: Sequence[Window], start: datetime, end: datetime) -> DaySummary:
    """`facts`: the server's state events before `start` and its events of the day, oldest first."""
    today = [fact for fact in facts if start <= fact.timestamp < end]
    updates = Counter(fact.type for fact in today if fact.type in UPDATE_TYPES)
    return DaySummary(
        uptime=uptime(facts, recorded, start, end),
        updates=max(updates.values(), default=0),
        backups=sum(1 for fact in today if fact.type == BACKUP_TYPE),
        peak_players=peak_players(facts, start, end),
    )
