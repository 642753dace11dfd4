"""A server's backups as its stored events tell them, for `/backups` when the bot cannot ask KGSM (no `KGSM_PATH`).

The list is every `backup.created` whose backup no later `backup.deleted` names (by `Source`: an id since KGSM 3,
a file path before, of which the file name is KGSM's name for it). It can only be as complete as the events:
- `backup.pruned` says how many backups KGSM's retention removed, never which: those are still listed, and the
  answer says that some may be gone;
- backups made before the oldest stored event (history is kept `KGSM_HISTORY_DAYS`) or while no transport reached
  the bot are missing;
- events carry no size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.events import Event, reported
from bot.kgsm.syntax import Backup
from bot.store.database import Store

CREATED = "backup.created"
DELETED = "backup.deleted"
PRUNED = "backup.pruned"
TYPES = (CREATED, DELETED, PRUNED)
MOST_EVENTS = 5000  # backup events read per server, newest first


@dataclass(frozen=True)
class Pruning:
    at: datetime
    deleted: int | None  # how many KGSM says it removed, when it says


@dataclass(frozen=True)
class BackupHistory:
    backups: list[Backup]  # newest first
    prunings: list[Pruning]  # after the oldest backup listed, newest first: some listed may be gone
    complete: bool  # False when more than MOST_EVENTS backup events are stored (only the newest were read)


def backup_name(source: object) -> str | None:
    """KGSM's name of a backup from an event's `Source`: the id (KGSM 3), or the file name of a path (before)."""
    text = reported(source)
    if text is None:
        return None
    return text.rstrip("/").rpartition("/")[2] or None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def history_of(events: Iterable[Event], complete: bool = True) -> BackupHistory:
    """The backups `events` (one server's backup events, in any order) leave."""
    created: dict[str, tuple[datetime, Backup]] = {}
    deleted: dict[str, datetime] = {}
    prunings: list[Pruning] = []
    for event in events:
        if event.type == PRUNED:
            count = event.data.get("Deleted")
            number = count if isinstance(count, int) and not isinstance(count, bool) else None
            prunings.append(Pruning(event.timestamp, number))
            continue
        name = backup_name(event.data.get("Source"))
        if name is None:
            continue
        if event.type == CREATED and (name not in created or created[name][0] <= event.timestamp):
            version = reported(event.data.get("Version"))
            created[name] = (event.timestamp, Backup(name, created_at=iso(event.timestamp), version=version))
        elif event.type == DELETED:
            deleted[name] = max(event.timestamp, deleted.get(name, event.timestamp))
    alive = [(at, backup) for name, (at, backup) in created.items() if not (name in deleted and deleted[name] >= at)]
    alive.sort(key=lambda pair: pair[0], reverse=True)
    oldest = alive[-1][0] if alive else None
    relevant = [p for p in prunings if oldest is not None and p.at >= oldest and p.deleted != 0]
    relevant.sort(key=lambda p: p.at, reverse=True)
    return BackupHistory([backup for _, backup in alive], relevant, complete)


async def stored_history(store: Store, instance: str) -> BackupHistory:
    """The backups of `instance` (its stored name) from the store."""
    rows = await store.events_page(instance=instance, types=TYPES, limit=MOST_EVENTS + 1)
    return history_of((row.event for row in rows[:MOST_EVENTS]), complete=len(rows) <= MOST_EVENTS)
