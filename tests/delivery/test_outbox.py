"""The outbox on a real SQLite file: a batch is recorded in one transaction or not at all, each delivery once,
and whatever was not delivered (standalone rows, live messages behind their run) is found again after a
reopening, as a restart finds it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.outbox import Outbox, PendingRunMessage, PendingStandalone
from bot.events import parse_event
from bot.events.runs import RunStatus
from bot.store.database import Store
from tests.conftest import CHANNEL_A, CHANNEL_B
from tests.delivery.conftest import backup_run

EMBED = {"title": "🟢 factorio — started", "description": "**factorio** has started. ✓ ünïcode"}


async def stored_events(store: Store, *ids: str) -> None:
    await store.insert_events([parse_event({"EventType": "instance_started", "Id": i, "Data": {}}) for i in ids])


async def rows(store: Store, query: str) -> list[tuple[Any, ...]]:
    async with store.session() as db, db.execute(query) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def reopened(store: Store) -> Outbox:
    await store.close()
    await store.open()
    box = Outbox(store)
    await box.load()
    return box


async def test_a_batch_is_recorded_with_its_runs_and_the_mark_that_its_events_are_dispatched(
    store: Store, outbox: Outbox
) -> None:
    await stored_events(store, "e1", "e2", "e3")
    run = backup_run(outbox.new_run_id(), "backup.started")
    recorded = await outbox.record(
        [("e1", CHANNEL_A, EMBED), ("e1", CHANNEL_B, EMBED)],
        [("e2", CHANNEL_A, run.id, run.version)],
        [run],
        dispatched=["e1", "e2", "e3"],
    )
    assert set(recorded) == {("e1", CHANNEL_A), ("e1", CHANNEL_B)}
    assert await outbox.depth() == 3
    assert await rows(store, "SELECT id, dispatched FROM events ORDER BY seq") == [("e1", 1), ("e2", 1), ("e3", 1)]
    assert await rows(store, "SELECT run_id, channel_id, message_id FROM run_messages") == [(run.id, CHANNEL_A, None)]
    (pending,) = [row for row in await outbox.pending_standalone() if row.channel_id == CHANNEL_A]
    assert pending == PendingStandalone(recorded[("e1", CHANNEL_A)], CHANNEL_A, EMBED, None)


async def test_the_same_event_for_the_same_channel_is_recorded_once(store: Store, outbox: Outbox) -> None:
    first = await outbox.record([("e1", CHANNEL_A, EMBED)], [], [])
    again = await outbox.record([("e1", CHANNEL_A, EMBED), ("e2", CHANNEL_A, EMBED)], [], [])
    assert list(again) == [("e2", CHANNEL_A)], "a pair already recorded is not handed to the lanes again"
    assert await outbox.add_standalone("e1", CHANNEL_A, EMBED) is None
    assert await outbox.depth() == 2
    assert first[("e1", CHANNEL_A)] != again[("e2", CHANNEL_A)]


async def test_a_batch_the_database_refuses_leaves_nothing_half_written(store: Store, outbox: Outbox) -> None:
    await stored_events(store, "e1")
    run = backup_run(outbox.new_run_id(), "backup.started")
    batch: tuple[Any, ...] = ([("e1", CHANNEL_A, EMBED)], [("e1", CHANNEL_B, run.id, 1)], [run], ["e1"])
    await store.db.execute("PRAGMA query_only = ON")  # the database cannot be written, as on a read-only mount
    with pytest.raises(sqlite3.OperationalError):
        await outbox.record(*batch)
    assert store.problem is not None
    await store.db.execute("PRAGMA query_only = OFF")
    assert await outbox.depth() == 0
    assert await rows(store, "SELECT COUNT(*) FROM runs") == [(0,)]
    assert await rows(store, "SELECT dispatched FROM events") == [(0,)]
    await outbox.record(*batch)  # tried again, as the recorder does: all of it, once
    assert await outbox.depth() == 2
    assert await rows(store, "SELECT dispatched FROM events") == [(1,)]
    assert store.problem is None


async def test_a_batch_that_fails_part_way_is_rolled_back_whole(store: Store, outbox: Outbox) -> None:
    """The last statement of the batch fails (a real SQLite error, raised by a trigger on this connection):
    the deliveries and runs written before it in the same transaction are gone too."""
    await stored_events(store, "e1")
    run = backup_run(outbox.new_run_id(), "backup.started")
    batch: tuple[Any, ...] = ([("e1", CHANNEL_A, EMBED)], [("e1", CHANNEL_B, run.id, 1)], [run], ["e1"])
    refuse = "SELECT RAISE(ABORT, 'database or disk is full')"
    await store.db.execute(f"CREATE TEMP TRIGGER refuse BEFORE UPDATE ON main.events BEGIN {refuse}; END")
    with pytest.raises(sqlite3.IntegrityError, match="disk is full"):
        await outbox.record(*batch)
    await store.db.execute("DROP TRIGGER temp.refuse")
    assert await outbox.depth() == 0
    assert await rows(store, "SELECT COUNT(*) FROM runs") == [(0,)]
    assert await rows(store, "SELECT COUNT(*) FROM run_messages") == [(0,)]
    await outbox.record(*batch)
    assert await outbox.depth() == 2


async def test_sent_and_failed_rows_leave_the_outbox_and_a_batch_keeps_its_id(store: Store, outbox: Outbox) -> None:
    recorded = await outbox.record([(f"e{n}", CHANNEL_A, EMBED) for n in range(4)], [], [])
    ids = sorted(recorded.values())
    batch_id = await outbox.assign_batch(ids[:2])
    assert batch_id == ids[0]
    await outbox.mark_failed(ids[2:3], "400 Invalid Form Body")
    outbox = await reopened(store)  # a restart between fixing the batch and posting it
    pending = await outbox.pending_standalone()
    assert [(row.id, row.batch_id) for row in pending] == [(ids[0], batch_id), (ids[1], batch_id), (ids[3], None)]
    await outbox.mark_sent(ids[:2], 123)
    assert [row.id for row in await outbox.pending_standalone()] == [ids[3]]
    assert await rows(store, "SELECT status, message_id, error FROM deliveries ORDER BY id") == [
        ("done", 123, None),
        ("done", 123, None),
        ("failed", None, "400 Invalid Form Body"),
        ("pending", None, None),
    ]


async def test_a_live_message_marks_done_the_steps_it_shows_and_no_later_one(store: Store, outbox: Outbox) -> None:
    run = backup_run(outbox.new_run_id(), "backup.started", "backup.created")
    await outbox.record([], [("e1", CHANNEL_A, run.id, 1), ("e2", CHANNEL_A, run.id, 2)], [run])
    await outbox.run_message_written(run.id, CHANNEL_A, 777, 1)
    assert await rows(store, "SELECT event_id, status, message_id FROM deliveries ORDER BY id") == [
        ("e1", "done", 777),
        ("e2", "pending", None),
    ]
    await outbox.run_message_failed(run.id, CHANNEL_A, "403 Missing Access")
    assert await rows(store, "SELECT event_id, status, error FROM deliveries ORDER BY id") == [
        ("e1", "done", None),
        ("e2", "failed", "403 Missing Access"),
    ]
    assert await outbox.unfinished_runs() == [], "a failed live message is not resumed"


async def test_unfinished_runs_and_messages_behind_are_found_after_a_restart(store: Store, outbox: Outbox) -> None:
    running = backup_run(outbox.new_run_id(), "backup.started", "backup.created")
    running.actor, running.host, running.details = "discord:ada", "gamehost", {"Source": "v-1"}
    behind = backup_run(outbox.new_run_id(), *("backup.started", "backup.finished"), status=RunStatus.DONE)
    written = backup_run(outbox.new_run_id(), *("backup.started", "backup.finished"), status=RunStatus.DONE)
    steps = [("a", CHANNEL_A, running.id, 2), ("b", CHANNEL_B, running.id, 2)]
    steps += [("c", CHANNEL_A, behind.id, 2), ("d", CHANNEL_A, written.id, 2)]
    await outbox.record([], steps, [running, behind, written])
    await outbox.run_message_written(running.id, CHANNEL_A, 11, 1)
    await outbox.run_message_written(behind.id, CHANNEL_A, 12, 1)
    await outbox.run_message_written(written.id, CHANNEL_A, 13, 2)

    outbox = await reopened(store)
    found = await outbox.unfinished_runs()
    assert [run.id for run, _ in found] == [running.id, behind.id]
    (resumed, messages), (done, behind_messages) = found
    assert (resumed.instance, resumed.kind.name, resumed.status) == ("valheim", "backup", RunStatus.RUNNING)
    assert (resumed.steps, resumed.version) == (["backup.started", "backup.created"], 2)
    assert (resumed.actor, resumed.host, resumed.details) == ("discord:ada", "gamehost", {"Source": "v-1"})
    assert resumed.started_at == running.started_at
    assert sorted(messages, key=lambda m: m.channel_id) == [
        PendingRunMessage(running.id, CHANNEL_A, 11, 1),
        PendingRunMessage(running.id, CHANNEL_B, None, 0),
    ]
    assert done.status is RunStatus.DONE
    assert behind_messages == [PendingRunMessage(behind.id, CHANNEL_A, 12, 1)]
    assert outbox.new_run_id() == written.id + 1, "run ids go on after a restart, never reused"


async def test_a_database_that_does_not_exist_yet_starts_run_ids_at_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    await store.open()
    box = Outbox(store)
    await box.load()
    assert box.new_run_id() == 1
    await store.close()
