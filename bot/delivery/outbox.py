"""The outbox tables: every delivery is recorded before it is sent and marked done (with the message id)
after, so nothing is lost to a crash or an outage and nothing is posted twice (see `bot.delivery`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.events import OPERATIONS
from bot.events.runs import Run, RunStatus
from bot.runtime import jsontext
from bot.store.database import Store


@dataclass(frozen=True)
class Ping:
    """An alert ping: its text and the one role it mentions."""

    content: str
    role_id: int


@dataclass(frozen=True)
class PendingStandalone:
    id: int
    channel_id: int
    embed: dict[str, Any]
    batch_id: int | None
    ping: Ping | None = None


@dataclass(frozen=True)
class PendingRunMessage:
    run_id: int
    channel_id: int
    message_id: int | None
    written_version: int


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


class Outbox:
    """SQL for deliveries and runs; each method is one transaction (see `Store.transaction`)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._last_run_id = 0

    async def load(self) -> None:
        """Run ids are handed out here, not by the database, so that a batch's runs are written with its
        deliveries in one transaction."""
        async with self._store.session() as db, db.execute("SELECT COALESCE(MAX(id), 0) FROM runs") as cursor:
            row = await cursor.fetchone()
        self._last_run_id = int(row[0]) if row else 0

    def new_run_id(self) -> int:
        self._last_run_id += 1
        return self._last_run_id

    # ------------------------------------------------------------------------------------------ standalone

    async def add_standalone(self, event_id: str | None, channel_id: int, embed: dict[str, Any]) -> int | None:
        """Record one embed for one channel; None when this event was already recorded for it."""
        values = (event_id, channel_id, jsontext.dumps(embed), time.time())
        row = await self._store.transaction(
            lambda db: db.execute(
                "INSERT INTO deliveries (event_id, channel_id, embed, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (event_id, channel_id) DO NOTHING RETURNING id",
                values,
            ).fetchone()
        )
        return int(row[0]) if row else None

    async def assign_batch(self, row_ids: Sequence[int]) -> int:
        """Fix which rows go out together before the POST, so a retry sends the same group (same nonce)."""
        batch_id = min(row_ids)
        marks = ",".join("?" * len(row_ids))
        await self._store.transaction(
            lambda db: db.execute(f"UPDATE deliveries SET batch_id = ? WHERE id IN ({marks})", (batch_id, *row_ids))
        )
        return batch_id

    async def mark_sent(self, row_ids: Sequence[int], message_id: int) -> None:
        marks = ",".join("?" * len(row_ids))
        await self._store.transaction(
            lambda db: db.execute(
                f"UPDATE deliveries SET status = 'done', message_id = ?, error = NULL WHERE id IN ({marks})",
                (message_id, *row_ids),
            )
        )

    async def mark_failed(self, row_ids: Sequence[int], reason: str) -> None:
        marks = ",".join("?" * len(row_ids))
        await self._store.transaction(
            lambda db: db.execute(
                f"UPDATE deliveries SET status = 'failed', error = ? WHERE id IN ({marks})", (reason, *row_ids)
            )
        )

    async def pending_standalone(self) -> list[PendingStandalone]:
        async with self._store.session() as db:
            async with db.execute(
                "SELECT id, channel_id, embed, batch_id, content, ping_role FROM deliveries "
                "WHERE status = 'pending' AND run_id IS NULL ORDER BY id"
            ) as cursor:
                rows = await cursor.fetchall()
            return [
                PendingStandalone(
                    row[0],
                    row[1],
                    jsontext.loads(row[2]) if row[2] is not None else {},
                    row[3],
                    Ping(row[4], row[5]) if row[5] is not None else None,
                )
                for row in rows
            ]

    async def depth(self) -> int:
        """Deliveries not yet done: the outbox depth."""
        async with self._store.session() as db:
            async with db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'") as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0

    # ------------------------------------------------------------------------------------------ runs

    @staticmethod
    def _run_values(run: Run) -> tuple[Any, ...]:
        return (
            run.instance,
            run.kind.name,
            run.status.value,
            jsontext.dumps(run.steps),
            run.failed_step,
            run.actor,
            run.host,
            jsontext.dumps(run.details),
            _seconds(run.started_at),
            _seconds(run.updated_at),
            run.version,
            _seconds(run.heard_at),
        )

    async def record(
        self,
        standalone: Sequence[tuple[str, int, dict[str, Any]]],
        steps: Sequence[tuple[str, int, int, int]],
        runs: Sequence[Run],
        dispatched: Sequence[str] = (),
        pings: Sequence[tuple[str, int, Ping]] = (),
    ) -> dict[tuple[str, int], int]:
        """Record a batch in one transaction: standalone embeds as (event id, channel, embed), operation steps
        as (event id, channel, run id, run version), the runs' new state, the events now `dispatched`, and
        alert pings as (what it is about, channel, ping). Returns the row id of each standalone delivery and
        ping recorded (a pair already recorded keeps its first row and is not returned)."""
        now = time.time()
        # Encoded here, on the event loop: the database thread only runs SQL.
        embeds = [(e, c, jsontext.dumps(embed), now) for e, c, embed in standalone]
        run_rows = [(*self._run_values(run), run.id) for run in runs]

        def write(db: sqlite3.Connection) -> dict[tuple[str, int], int]:
            before = db.execute("SELECT COALESCE(MAX(id), 0) FROM deliveries").fetchone()[0]
            if embeds:
                db.executemany(
                    "INSERT INTO deliveries (event_id, channel_id, embed, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (event_id, channel_id) DO NOTHING",
                    embeds,
                )
            if steps:
                # One row per run and channel, however many of the batch's steps it has.
                messages = dict.fromkeys((run_id, channel_id) for _, channel_id, run_id, _ in steps)
                db.executemany(
                    "INSERT INTO run_messages (run_id, channel_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, channel_id) DO NOTHING",
                    [(run_id, channel_id, now) for run_id, channel_id in messages],
                )
                db.executemany(
                    "INSERT INTO deliveries (event_id, channel_id, run_id, run_version, created_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id, channel_id) DO NOTHING",
                    [(*step, now) for step in steps],
                )
            if run_rows:
                db.executemany(
                    "INSERT INTO runs (instance, kind, status, steps, failed_step, actor, host, details, "
                    "started_at, updated_at, version, heard_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, steps = excluded.steps, "
                    "failed_step = excluded.failed_step, actor = excluded.actor, host = excluded.host, "
                    "details = excluded.details, updated_at = excluded.updated_at, version = excluded.version, "
                    "heard_at = excluded.heard_at",
                    run_rows,
                )
            if pings:
                db.executemany(
                    "INSERT INTO deliveries (event_id, channel_id, content, ping_role, created_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id, channel_id) DO NOTHING",
                    [(about, c, ping.content, ping.role_id, now) for about, c, ping in pings],
                )
            for start in range(0, len(dispatched), 500):
                chunk = dispatched[start : start + 500]
                marks = ",".join("?" * len(chunk))
                db.execute(f"UPDATE events SET dispatched = 1 WHERE id IN ({marks})", chunk)
            query = "SELECT id, event_id, channel_id FROM deliveries WHERE id > ? AND run_id IS NULL"
            return {(row[1], row[2]): row[0] for row in db.execute(query, (before,))}

        return await self._store.transaction(write)

    async def run_message_written(self, run_id: int, channel_id: int, message_id: int, version: int) -> None:
        """The live message shows `version`: every step up to it is delivered."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE run_messages SET message_id = ?, written_version = ? WHERE run_id = ? AND channel_id = ?",
                (message_id, version, run_id, channel_id),
            )
            db.execute(
                "UPDATE deliveries SET status = 'done', message_id = ? "
                "WHERE run_id = ? AND channel_id = ? AND run_version <= ? AND status = 'pending'",
                (message_id, run_id, channel_id, version),
            )

        await self._store.transaction(write)

    async def run_message_failed(self, run_id: int, channel_id: int, reason: str) -> None:

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE run_messages SET failed = ? WHERE run_id = ? AND channel_id = ?", (reason, run_id, channel_id)
            )
            db.execute(
                "UPDATE deliveries SET status = 'failed', error = ? WHERE run_id = ? AND channel_id = ? "
                "AND status = 'pending'",
                (reason, run_id, channel_id),
            )

        await self._store.transaction(write)

    async def unfinished_runs(self) -> list[tuple[Run, list[PendingRunMessage]]]:
        """Runs still open (or quiet), or whose live messages are behind: to resume after a restart."""
        async with self._store.session() as db:
            async with db.execute(
                "SELECT r.*, m.channel_id, m.message_id, m.written_version FROM runs r "
                "JOIN run_messages m ON m.run_id = r.id "
                "WHERE m.failed IS NULL AND (r.status IN ('running', 'quiet') OR m.written_version < r.version) "
                "ORDER BY r.id"
            ) as cursor:
                rows = await cursor.fetchall()
            found: dict[int, tuple[Run, list[PendingRunMessage]]] = {}
            for row in rows:
                if row["id"] not in found:
                    found[row["id"]] = (self._run(row), [])
                found[row["id"]][1].append(
                    PendingRunMessage(row["id"], row["channel_id"], row["message_id"], row["written_version"])
                )
            return list(found.values())

    async def load_run(self, run_id: int) -> Run | None:
        async with self._store.session() as db, db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)) as cursor:
            row = await cursor.fetchone()
        return self._run(row) if row is not None else None

    async def run_messages(self, run_id: int) -> list[PendingRunMessage]:
        """Where a run's message is, in each of its channels (those still deliverable)."""
        query = "SELECT channel_id, message_id, written_version FROM run_messages WHERE run_id = ? AND failed IS NULL"
        async with self._store.session() as db, db.execute(query, (run_id,)) as cursor:
            rows = await cursor.fetchall()
        return [PendingRunMessage(run_id, row[0], row[1], row[2]) for row in rows]

    @staticmethod
    def _run(row: Any) -> Run:
        return Run(
            id=row["id"],
            instance=row["instance"],
            kind=OPERATIONS[row["kind"]],
            status=RunStatus(row["status"]),
            steps=jsontext.loads(row["steps"]),
            started_at=datetime.fromtimestamp(row["started_at"], UTC),
            updated_at=datetime.fromtimestamp(row["updated_at"], UTC),
            version=row["version"],
            failed_step=row["failed_step"],
            actor=row["actor"],
            host=row["host"],
            details=jsontext.loads(row["details"]),
            heard_at=datetime.fromtimestamp(row["heard_at"], UTC),
        )
