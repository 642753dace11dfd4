"""Checkpoints (copying the write-ahead log into the database file) kept off the way of the bot's writes.

SQLite's own checkpoint runs inside the commit that takes the WAL past 1000 pages, on the one thread every write
of the bot takes, and ends with an fsync of the database file: a new event waited behind it. While 500,000 old
events were pruned that was every few batches (up to 0.5 s a wait), and the first one after a start flushed
whatever the page cache still held unwritten of the file (0.8 s after the file had just been copied). The store
turns it off (`PRAGMA wal_autocheckpoint=0`) and checkpoints here instead: on a second, plain connection, on a
worker thread, in PASSIVE mode, which copies pages while the writers go on appending to the WAL.

A WAL starts again from its beginning only when a write begins while every frame in it has been copied, and
a pass copies, and counts, only the frames there were when it began: under steady writes one seldom ends at such
a moment, and left alone the WAL of a long prune grew past the database itself (1.5 GB). So passes follow one
another (each copies what came during the one before) until one finds nothing new: then all is copied and the
next write starts the WAL anew, without ever holding a writer up. When `QUIET_TRIES` passes find no such
moment and the WAL holds `RESET_FRAMES` or more, one last pass runs with the store's writers held off (it copies
only what came during the pass before, but it fsyncs: up to 80 ms on a busy disk, which is why it is the last
resort). The WAL is so bounded by what is written between two checkpoints (the store runs one every `INTERVAL`
seconds, and the prune one after each of its batches).

A checkpoint that fails (a full disk, a read-only mount) is said once a minute and tried again at the next; the
writes themselves say what is wrong with the disk (`Store.problem`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.runtime.ratelog import COUNT, RateLimitedLog

log = logging.getLogger(__name__)

INTERVAL = 1.0
QUIET_TRIES = 10  # passes in a row looking for a moment with nothing new to copy
RESET_FRAMES = 4000  # about 16 MiB
BUSY_TIMEOUT_MS = 5000


class Checkpointer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None  # used only on `_thread`
        # Its own thread: a pass still running when its task is cancelled is finished before the connection closes.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._turn = asyncio.Lock()  # one checkpoint at a time (the periodic one and the prune's)
        self._failures = RateLimitedLog(log)

    async def checkpoint(self, writers: asyncio.Lock) -> int:
        """Copy the WAL into the database file, holding `writers` off only when it must (see above).

        Returns how many frames the WAL held at the last pass (copied unless a writer came in), -1 when it failed.
        """
        loop = asyncio.get_running_loop()
        async with self._turn:
            try:
                frames, _ = await loop.run_in_executor(self._thread, self._pass)
                for _ in range(QUIET_TRIES):
                    again, copied = await loop.run_in_executor(self._thread, self._pass)
                    if again == frames == copied:  # nothing was written since the pass before began: all copied
                        return frames
                    frames = again
                if frames >= RESET_FRAMES:
                    async with writers:
                        frames, _ = await loop.run_in_executor(self._thread, self._pass)
            except sqlite3.Error as error:
                self._failed(error)
                await loop.run_in_executor(self._thread, self._disconnect)  # the next one starts anew
                return -1
            return frames

    def _pass(self) -> tuple[int, int]:
        """One PASSIVE checkpoint, on `_thread`: (frames in the WAL when it began, how many of them are copied)."""
        if self._db is None:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return max(int(frames), 0), max(int(copied), 0)  # -1, -1: not in WAL mode

    def _failed(self, error: sqlite3.Error) -> None:
        self._failures.log(
            "checkpoint",
            logging.WARNING,
            "copying the write-ahead log of %s into the database failed (%s); tried again in %g s",
            self.path,
            error,
            INTERVAL,
            summary=f"{COUNT} more checkpoints of {self.path} failed",
        )

    def _disconnect(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def close(self) -> None:
        """Close the connection once any pass still running has ended."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._disconnect)
        self._thread.shutdown()
