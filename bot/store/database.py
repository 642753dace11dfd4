"""The bot's memory: SQLite (through aiosqlite, so queries never block the event loop) in `BOT_DATA_DIR`.

Every accepted event is written here before it is dispatched (see `bot.recorder`), keyed by its event id
so the same event from two sources, or twice from one, is stored once. /notify rules and small facts
(the command tree's hash, message ids) live here too, so they survive restarts.

Every write goes through `transaction()`: one transaction, rolled back when it fails; the write-ahead log is
copied into the file beside the writes, never inside one (`bot.store.checkpoints`). A failing write (a full
disk, a read-only mount, a database locked by another program) is said once, kept as `problem` for
/healthz, and cleared by the next write that works; the callers retry, nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.config import StartupError
from bot.events import Event
from bot.store import migrations
from bot.store.checkpoints import Checkpointer
from bot.store.filters import Filters, count_query, page_query
from bot.store.rows import EVENT_COLUMNS, StoredEvent, event_row, seconds_of, stored_event
from bot.store.state import STATE_COLUMNS, StateBook, Walk, state_of_row, state_row

log = logging.getLogger(__name__)
T = TypeVar("T")

DATABASE_NAME = "kgsm-bot.sqlite3"


class StoreError(StartupError):
    """The data directory or database cannot be used; the message says what to fix."""


BUSY_TIMEOUT_MS = 5000  # how long a write waits for another program's lock before it fails (and is retried)
# Pruning deletes in transactions of about PRUNE_HOLD seconds each (the batch grows or shrinks to fit what the
# disk does): events that arrive meanwhile wait for one of them at most, never for the whole backlog.
PRUNE_HOLD = 0.02
PRUNE_BATCH = (10, 200, 5000)  # fewest, first and most events per transaction
PRUNE_PAUSE = 0.005


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATABASE_NAME
        self._db: aiosqlite.Connection | None = None
        self._checkpoints: Checkpointer | None = None
        # One conversation with the database at a time: aiosqlite serialises single calls, but a cursor
        # still being read (or a RETURNING insert) must not meet another task's COMMIT.
        self._lock = asyncio.Lock()
        self.problem: str | None = None  # why writes fail right now (for /healthz)
        # Every server's state: the `server_states` rows, loaded at `open`, advanced as each event is stored.
        self.states = StateBook()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for reads that no other task may interleave with."""
        async with self._lock:
            yield self.db

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` as one transaction on the database's own thread, handed over once: every write.

        Each `await db.execute` is a round trip between the event loop and aiosqlite's thread, and the profile
        of intake showed those round trips, not SQLite, as the cost per event; a transaction is one here.
        `work` gets the plain `sqlite3` connection and must not touch the event loop; it is committed there,
        or rolled back when it raises.
        """
        async with self._lock:
            db = self.db
            connection: sqlite3.Connection = db._conn  # aiosqlite's own connection, used only on its thread

            def run() -> T:
                try:
                    result = work(connection)
                    connection.commit()
                except BaseException:
                    connection.rollback()
                    raise
                return result

            # On aiosqlite's thread, in order with every other call on the connection.
            on_its_thread: Callable[[Callable[[], T]], Awaitable[T]] = db._execute
            try:
                result = await on_its_thread(run)
            except sqlite3.Error as exc:
                self._write_failed(exc)
                raise
        self._write_worked()
        return result

    def _write_failed(self, exc: sqlite3.Error) -> None:
        if self.problem is None:
            log.error(
                "the database %s cannot be written (%s); events wait in memory and are stored, then posted, as "
                "soon as it can (said once)",
                self.path,
                exc,
            )
        self.problem = f"database {self.path} cannot be written: {exc}"

    def _write_worked(self) -> None:
        if self.problem is not None:
            log.info("the database %s can be written again", self.path)
            self.problem = None

    def _check_file(self) -> None:
        """Never start empty over a file that is not a database: the user's history would silently vanish."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0:
            raise StoreError(
                f"{self.path} is empty (0 bytes), not a kgsm-bot database. If it should hold your history, "
                f"restore it from a backup; otherwise delete it and start again (a new database is created)."
            )

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._check_file()
            await asyncio.to_thread(migrations.apply, self.path)
            self._db = await aiosqlite.connect(self.path)
            self._db.row_factory = sqlite3.Row
            await self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            # Not inside a commit on the thread every write takes: `checkpoint` does it beside (bot.store.checkpoints).
            await self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpoints = Checkpointer(self.path)
            async with self._db.execute(f"SELECT {STATE_COLUMNS} FROM server_states") as cursor:
                self.states.load(state_of_row(row) for row in await cursor.fetchall())
        except sqlite3.DatabaseError as exc:
            await self.close()
            raise StoreError(
                f"{self.path} cannot be read as a database ({exc}). Move it aside "
                f"(mv {self.path} {self.path}.broken) and start again: a new, empty database is created."
            ) from exc
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            raise StoreError(f"BOT_DATA_DIR: cannot open {self.path}: {exc}") from exc

    async def close(self) -> None:
        if self._checkpoints is not None:
            await self._checkpoints.close()
            self._checkpoints = None
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.close()
            self._db = None

    async def checkpoint(self) -> int:
        """Copy the write-ahead log into the database file beside the writes; how many frames the WAL holds."""
        if self._checkpoints is None:
            raise RuntimeError("the store is not open")
        return await self._checkpoints.checkpoint(self._lock)

    async def writable(self) -> bool:
        """Whether a write can be committed now (for /healthz): a full disk or a read-only mount says no."""
        try:
            await self.transaction(
                lambda db: db.execute(
                    "INSERT INTO facts (key, value) VALUES ('health_check', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(time.time()),),
                )
            )
        except (sqlite3.Error, RuntimeError, ValueError):
            return False
        return True

    async def schema_version(self) -> int:
        async with self.session() as db:
            async with db.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0

    # ---------------------------------------------------------------------------------------------- events

    async def insert_events(self, events: Sequence[Event]) -> list[bool]:
        """Store a batch in one transaction, not yet dispatched; returns, per event, whether it was new.

        The states of the servers the new events are about are written in the same transaction (one row per
        server), and `states` takes them once it is committed.
        """
        if not events:
            return []
        # What Python does is done here, on the event loop, for the common case of a batch of new events: the
        # database thread then only runs SQL, and the two threads do not take turns at the interpreter.
        unique = {event.id: event for event in reversed(events)}  # the first of each id, in arrival order
        ordered = [unique[key] for key in dict.fromkeys(event.id for event in events)]
        rows = {event.id: event_row(event) for event in ordered}
        hoped = self.states.walk(ordered)
        hoped_rows = [state_row(state) for state in hoped.changed.values()]

        def write(db: sqlite3.Connection) -> tuple[set[str], Walk]:
            known = self._known(db, list(rows))
            new = [event for event in ordered if event.id not in known]
            if new:
                marks = ",".join("?" * len(rows[new[0].id]))
                db.executemany(
                    f"INSERT INTO events ({EVENT_COLUMNS}, dispatched) VALUES ({marks}, 0)",
                    [rows[event.id] for event in new],
                )
            walked, states = (hoped, hoped_rows) if not known else self._states_after(new)
            if states:
                marks = ",".join("?" * len(states[0]))
                db.executemany(f"REPLACE INTO server_states (key, {STATE_COLUMNS}) VALUES ({marks})", states)
            return known, walked

        known, walked = await self.transaction(write)
        self.states.committed(walked, [event.id for event in ordered if event.id not in known])
        fresh: list[bool] = []
        for event in events:
            fresh.append(event.id not in known)
            known.add(event.id)
        return fresh

    @staticmethod
    def _known(db: sqlite3.Connection, ids: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(row[0] for row in db.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk))
        return known

    def _states_after(self, new: list[Event]) -> tuple[Walk, list[tuple[Any, ...]]]:
        """The states after `new` alone (some of the batch was stored before: a repeat)."""
        walked = self.states.walk(new)  # read only: the book changes after the commit
        return walked, [state_row(state) for state in walked.changed.values()]

    async def undispatched(self) -> list[StoredEvent]:
        """Events stored but not dispatched (a stop or crash came in between), oldest first."""
        query = f"SELECT seq, {EVENT_COLUMNS} FROM events WHERE dispatched = 0 ORDER BY seq"
        async with self.session() as db, db.execute(query) as cursor:
            return [stored_event(row) for row in await cursor.fetchall()]

    async def count_events(self) -> int:
        async with self.session() as db:
            async with db.execute("SELECT COUNT(*) FROM events") as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0

    async def events_page(
        self,
        *,
        instance: str | None = None,
        types: Collection[str] | None = None,
        before_seq: int | None = None,
        limit: int = 10,
    ) -> list[StoredEvent]:
        """The newest events of `instance` and `types` (None: any; empty: none), newest first, older than
        `before_seq` when given. A family is asked as its types (`bot.events.types_of`)."""
        filters = Filters.of(instance, types)
        if filters.matches_nothing:
            return []
        query, params = page_query(filters, before_seq, limit)
        async with self.session() as db, db.execute(query, params) as cursor:
            return [stored_event(row) for row in await cursor.fetchall()]

    async def count_matching(self, *, instance: str | None = None, types: Collection[str] | None = None) -> int:
        filters = Filters.of(instance, types)
        if filters.matches_nothing:
            return 0
        query, params = count_query(filters)
        async with self.session() as db, db.execute(query, params) as cursor:
            row = await cursor.fetchone()
            return int(row[0]) if row else 0

    async def distinct(self, column: str) -> list[str]:
        """Distinct non-null values of an indexed column, sorted.

        A skip-scan: each value is found by one seek in the column's index past the one before, so the cost
        is that of the few values, not of the million rows that hold them (a `SELECT DISTINCT` reads them all).
        """
        if column not in ("type", "producer_version"):
            raise ValueError(column)
        query = (
            f"WITH RECURSIVE seen(value) AS (SELECT MIN({column}) FROM events UNION ALL "
            f"SELECT (SELECT MIN({column}) FROM events WHERE {column} > seen.value) FROM seen "
            "WHERE seen.value IS NOT NULL) SELECT value FROM seen WHERE value IS NOT NULL"
        )
        async with self.session() as db, db.execute(query) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def prune(self, older_than: datetime) -> int:
        """Delete events whose own time is before `older_than`; returns how many.

        In small transactions, each taking the database only briefly, so that events arriving meanwhile are
        stored between two of them instead of waiting for the whole backlog. After each one the WAL is
        checkpointed beside the writes (`checkpoint`): deleting rewrites pages all over the file and its indexes
        (250,000 events deleted wrote 1.5 GB of it), and the WAL would otherwise keep all of that.
        """
        removed = 0
        fewest, size, most = PRUNE_BATCH
        before = seconds_of(older_than)
        while True:
            began = time.monotonic()
            batch = await self.transaction(functools.partial(self._delete_older, before=before, size=size))
            removed += batch
            if batch < size:
                return removed
            took = max(time.monotonic() - began, 0.001)
            size = max(fewest, min(most, int(size * PRUNE_HOLD / took)))
            await asyncio.sleep(PRUNE_PAUSE)  # let the recorder in
            await self.checkpoint()  # what a batch wrote is copied before the next: the WAL stays short

    @staticmethod
    def _delete_older(db: sqlite3.Connection, *, before: float, size: int) -> int:
        query = "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE timestamp < ? LIMIT ?)"
        return db.execute(query, (before, size)).rowcount

    # ---------------------------------------------------------------------------------------------- rules

    async def channel_rules(self) -> list[tuple[str, int, bool]]:
        query = "SELECT instance, channel_id, enabled FROM channel_rules"
        async with self.session() as db, db.execute(query) as cursor:
            return [(row[0], int(row[1]), bool(row[2])) for row in await cursor.fetchall()]

    async def set_channel_rules(self, rules: Iterable[tuple[str, int, bool]]) -> None:
        values = [(instance, channel, int(enabled)) for instance, channel, enabled in rules]
        await self.transaction(
            lambda db: db.executemany(
                "INSERT INTO channel_rules (instance, channel_id, enabled) VALUES (?, ?, ?) "
                "ON CONFLICT (instance, channel_id) DO UPDATE SET enabled = excluded.enabled",
                values,
            )
        )

    async def mute_rules(self) -> list[tuple[str, str, bool]]:
        async with self.session() as db, db.execute("SELECT target, scope, muted FROM mute_rules") as cursor:
            return [(row[0], row[1], bool(row[2])) for row in await cursor.fetchall()]

    async def set_mute_rule(self, target: str, scope: str, muted: bool) -> None:
        await self.transaction(
            lambda db: db.execute(
                "INSERT INTO mute_rules (target, scope, muted) VALUES (?, ?, ?) "
                "ON CONFLICT (target, scope) DO UPDATE SET muted = excluded.muted",
                (target, scope, int(muted)),
            )
        )

    # ---------------------------------------------------------------------------------------------- facts

    async def get_fact(self, key: str) -> str | None:
        async with self.session() as db:
            async with db.execute("SELECT value FROM facts WHERE key = ?", (key,)) as cursor:
                row = await cursor.fetchone()
            return str(row[0]) if row else None

    async def set_fact(self, key: str, value: str) -> None:
        await self.transaction(
            lambda db: db.execute(
                "INSERT INTO facts (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        )
