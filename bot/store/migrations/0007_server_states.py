"""Server states kept, not recomputed (issue 16): one row per server, written in the transaction that stores
each event, so a start-up reads these rows instead of replaying the whole history. This migration builds them
once from the history already stored, through the same `advance` the store applies to every new event.

It also indexes what the commands read: the server filter of /events (compared case-insensitively), and the KGSM
versions /about lists (read with a skip-scan over the index, see `Store.distinct`).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from bot.store.rows import StateFacts
from bot.store.state import DATA_KEYS_READ, STATE_COLUMNS, StateBook, state_row

SCHEMA = """
CREATE TABLE server_states (
    key             TEXT PRIMARY KEY,   -- host:name, lower case (`key_of`)
    name            TEXT NOT NULL,
    state           TEXT NOT NULL,
    last_event_type TEXT NOT NULL,
    last_event_at   REAL NOT NULL,
    version         TEXT,
    blueprint       TEXT,
    host            TEXT,
    since           REAL,
    details         TEXT NOT NULL DEFAULT '{}'  -- JSON: whatever else a server's state holds
);
DROP INDEX events_by_instance;
CREATE INDEX events_by_server ON events (instance COLLATE NOCASE, seq);
CREATE INDEX events_by_version ON events (producer_version);
"""
CHUNK = 20_000


def migrate(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    book = StateBook()
    query = "SELECT instance, host, type, timestamp, data FROM events WHERE instance IS NOT NULL ORDER BY seq"
    cursor = db.execute(query)
    while rows := cursor.fetchmany(CHUNK):
        # The Data JSON is decoded only when it holds one of the few keys that state reads.
        book.update(
            book.advanced(
                StateFacts(
                    instance,
                    host,
                    event_type,
                    datetime.fromtimestamp(seconds, UTC),
                    json.loads(data) if any(key in data for key in DATA_KEYS_READ) else {},
                )
                for instance, host, event_type, seconds, data in rows
            )
        )
    rows = [state_row(state) for state in book.all()]
    if rows:
        marks = ",".join("?" * len(rows[0]))
        db.executemany(f"INSERT INTO server_states (key, {STATE_COLUMNS}) VALUES ({marks})", rows)
