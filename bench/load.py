"""The harness's side of the client load: start the writers process, let it go, see every event stored."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.processes import spawn

TIMEOUT = 120.0


async def prepared(socket: Path, events: int, writers: int, directory: Path) -> asyncio.subprocess.Process:
    """The writers process, its payloads prepared, waiting for `go`."""
    process = await spawn("bench.writers", str(socket), str(events), "--writers", str(writers), cwd=directory)
    assert process.stdout is not None
    await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
    return process


async def go(process: asyncio.subprocess.Process) -> float:
    """Start sending; returns `time.monotonic()` just before the signal."""
    assert process.stdin is not None
    began = time.monotonic()
    process.stdin.write(b"go\n")
    await process.stdin.drain()
    return began


async def finished(process: asyncio.subprocess.Process, limit: float = TIMEOUT) -> None:
    """Wait for the writers' summary; every connection must have gone through."""
    assert process.stdout is not None
    summary = json.loads(await asyncio.wait_for(process.stdout.readline(), limit))
    if summary["failed"]:
        raise RuntimeError(f"{summary['failed']} of the writers' connections failed")


@contextlib.contextmanager
def counting(directory: Path) -> Iterator[Callable[[], int]]:
    """A count of the rows in the events table of the bot whose data directory is `directory / "data"`, read on
    one connection kept open (the database must exist). For polling while the bot is measured: opening a
    connection costs about 0.7 ms (SQLite reads the schema), so opening one every 10 ms took about 7% of a core
    from the two the bot shares with the writers; a count on an open connection costs about 16 µs."""
    database = directory / "data" / "kgsm-bot.sqlite3"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        yield lambda: int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def stored(directory: Path) -> int:
    """Rows in the events table of the bot whose data directory is `directory / "data"`, read once."""
    with counting(directory) as count:
        return count()
