"""One server's day in numbers, for the daily digest: uptime and crashes (`bot.store.uptime`), updates,
backups and the peak of players online. Pure, like `bot.store.uptime`: a function of the server's events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.events import TABLE, Family, Outcome, reported
from bot.store.rows import StateFacts
from bot.store.uptime import STATE_TYPES, Uptime, Window, uptime

# A successful update is told by one of these (eras differ: some send two of them for one update).
UPDATE_TYPES = frozenset(
    name for name, kind in TABLE.items() if kind.family is Family.UPDATE and kind.outcome is Outcome.SUCCESS
)
BACKUP_TYPE = "backup.created"
JOINED = "player.joined"
GONE = frozenset({"player.left", "player.kicked", "player.banned"})
# The types a digest reads besides the state ones.
DIGEST_TYPES = STATE_TYPES | UPDATE_TYPES | {BACKUP_TYPE, JOINED} | GONE


@dataclass(frozen=True)
class DaySummary:
    uptime: Uptime
    updates: int
    backups: int
    peak_players: int


def _player(fact: StateFacts) -> str | None:
    return reported(fact.data.get("PlayerName")) or reported(fact.data.get("Target"))


def peak_players(facts: Sequence[StateFacts], start: datetime, end: datetime) -> int:
    """The most players online at once in [start, end), from joins and leaves; a stop or crash empties the
    server. Players online before `start` are not known (the count starts at zero)."""
    online: set[str] = set()
    unnamed = peak = 0
    for fact in facts:
        if not start <= fact.timestamp < end:
            continue
        kind = TABLE.get(fact.type)
        name = _player(fact)
        if fact.type == JOINED:
            if name is None:
                unnamed += 1
            else:
                online.add(name)
        elif fact.type in GONE:
            if name is not None and name in online:
                online.discard(name)
            elif unnamed:
                unnamed -= 1
        elif kind is not None and kind.transition is not None and not kind.transition.to.is_up:
            online.clear()
            unnamed = 0
        peak = max(peak, len(online) + unnamed)
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
