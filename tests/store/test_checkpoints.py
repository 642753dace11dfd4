"""Checkpoints beside the writes, on a real SQLite file: the WAL stays short while a prune and new events write,
starts again even when the writes never pause, and a checkpoint that fails is said and tried again."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.events import Event, parse_event
from bot.store import checkpoints
from bot.store import database as store_module
from bot.store.checkpoints import Checkpointer
from bot.store.database import Store

BACKLOG = 20_000


def event(number: int, *, days_ago: int = 0) -> Event:
    moment = datetime.now(UTC) - timedelta(days=days_ago, seconds=number)
    return parse_event(
        {
            "EventType": ("instance_started", "instance_stopped", "instance_player_joined")[number % 3],
            "Id": str(uuid.uuid4()),  # spread over the id index, as real ids are
            "Timestamp": moment.isoformat().replace("+00:00", "Z"),
            "Data": {"InstanceName": f"server-{number % 40}", "PlayerName": f"player-{number % 97}"},
        }
    )


def wal_bytes(store: Store) -> int:
    wal = Path(f"{store.path}-wal")
    return wal.stat().st_size if wal.exists() else 0


async def test_the_wal_stays_short_while_a_large_backlog_is_pruned_and_new_events_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PRUNE_BATCH", (200, 200, 200))
    store = Store(tmp_path)
    await store.open()
    for start in range(0, BACKLOG, 1000):
        await store.insert_events([event(n, days_ago=400) for n in range(start, start + 1000)])
    await store.close()  # the last connection to close empties the WAL: it starts from nothing below
    await store.open()
    async with store.session() as db, db.execute("PRAGMA page_size") as cursor:
        page = int(next(iter(await cursor.fetchall()))[0])

    pruning = asyncio.create_task(store.prune(datetime.now(UTC) - timedelta(days=365)))
    written, longest = 0, 0
    while not pruning.done():
        await store.insert_events([event(written)])
        written += 1
        longest = max(longest, wal_bytes(store))
        await asyncio.sleep(0)

    assert await pruning == BACKLOG
    assert await store.count_events() == written
    # Without the prune's checkpoints (autocheckpoint off) the WAL keeps every page the prune rewrote: about
    # 34,000 pages for this backlog, while events kept arriving; with them it stayed under 6,500.
    assert written > 10
    assert longest <= 3 * checkpoints.RESET_FRAMES * page
    await store.close()


async def test_the_wal_starts_again_even_when_the_writes_never_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "QUIET_TRIES", 0)  # never a quiet moment: the writers must be held off
    monkeypatch.setattr(checkpoints, "RESET_FRAMES", 1)
    store = Store(tmp_path)
    await store.open()
    stored = 0

    async def write_without_pause() -> None:
        nonlocal stored
        while True:
            await store.insert_events([event(stored)])
            stored += 1

    writer = asyncio.create_task(write_without_pause())
    while stored < 200:
        await asyncio.sleep(0.01)
    before = await store.checkpoint()
    seen = stored
    while stored < seen + 2:
        await asyncio.sleep(0.001)
    after = await store.checkpoint()
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)

    assert after < before, "the WAL went on growing: it never started again"
    await store.close()


async def test_a_checkpoint_that_fails_is_said_once_and_the_next_one_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "kgsm-bot.sqlite3"
    path.mkdir()  # not a database: SQLite cannot open it
    checkpointer = Checkpointer(path)
    writers = asyncio.Lock()
    with caplog.at_level(logging.WARNING, logger=checkpoints.__name__):
        assert await checkpointer.checkpoint(writers) == -1
        assert await checkpointer.checkpoint(writers) == -1
    assert ["checkpoint" in record.getMessage() for record in caplog.records] == [True]

    path.rmdir()
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    assert await checkpointer.checkpoint(writers) > 0
    writer.close()
    await checkpointer.close()
