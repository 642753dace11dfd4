"""Reads of one server's history over a range of time, for uptime and the daily digest.

Each query names the server and a range of event time (`instance`, `timestamp`), never the whole table: at a
million events an /uptime answers from the few rows of its window.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime

from bot.store.database import Store
from bot.store.rows import StateFacts, moment_of, seconds_of
from bot.store.uptime import STATE_TYPES, Uptime, Window, uptime

# State events read from before a window to know the state at its start: transitions that depend on the
# state before them (`only_from`) need a few, never the whole past.
PRIOR_STATE_EVENTS = 50
_SERVER = "instance = ? COLLATE NOCASE AND (host = ? COLLATE NOCASE OR (host IS NULL AND ? IS NULL))"


async def server_history(
    store: Store,
    instance: str,
    host: str | None,
    start: datetime,
    end: datetime,
    types: Collection[str] | None = None,
    *,
    data: bool = True,
) -> list[StateFacts]:
    """The server's last state events before `start`, then its events in [start, end) (only `types` when
    given), oldest first; without their Data unless `data` (uptime needs none)."""
    server = (instance, host, host)
    state_marks = ",".join("?" * len(STATE_TYPES))
    columns = "instance, host, type, timestamp, " + ("data" if data else "'{}'")
    before = (
        f"SELECT {columns} FROM events WHERE {_SERVER} AND type IN ({state_marks}) "
        "AND timestamp < ? ORDER BY timestamp DESC, seq DESC LIMIT ?"
    )
    within = f"SELECT {columns} FROM events WHERE {_SERVER} AND timestamp >= ? AND timestamp < ?"
    params: list[object] = [*server, seconds_of(start), seconds_of(end)]
    if types is not None:
        within += f" AND type IN ({','.join('?' * len(types))})"
        params.extend(sorted(types))
    async with store.session() as db:
        async with db.execute(before, [*server, *sorted(STATE_TYPES), seconds_of(start), PRIOR_STATE_EVENTS]) as cursor:
            earlier = list(await cursor.fetchall())[::-1]
        async with db.execute(f"{within} ORDER BY timestamp, seq", params) as cursor:
            later = await cursor.fetchall()
    return [StateFacts(row[0], row[1], row[2], moment_of(row[3]), json.loads(row[4])) for row in [*earlier, *later]]


async def servers_active(store: Store, start: datetime, end: datetime) -> list[tuple[str, str | None]]:
    """The servers (instance, host) with an event in [start, end)."""
    query = "SELECT DISTINCT instance, host FROM events WHERE timestamp >= ? AND timestamp < ? AND instance IS NOT NULL"
    async with store.session() as db, db.execute(query, (seconds_of(start), seconds_of(end))) as cursor:
        return [(row[0], row[1]) for row in await cursor.fetchall()]


async def any_event(store: Store, start: datetime, end: datetime) -> bool:
    query = "SELECT 1 FROM events WHERE timestamp >= ? AND timestamp < ? LIMIT 1"
    async with store.session() as db, db.execute(query, (seconds_of(start), seconds_of(end))) as cursor:
        return await cursor.fetchone() is not None


async def uptime_of(
    store: Store, recorded: Sequence[Window], instance: str, host: str | None, start: datetime, end: datetime
) -> Uptime:
    """One server's uptime over [start, end), from its state events only."""
    facts = await server_history(store, instance, host, start, end, STATE_TYPES, data=False)
    return uptime(facts, recorded, start, end)
