"""Pruning: how long a new event waits while the bot deletes 500,000 old events, against the same bot with
nothing to prune.

The bot is `python -m bot` (dry-run) started on a copy of a database of 1,000,000 events (`bench.history`) of
which the oldest 500,000 were moved 400 days into the past; with `KGSM_HISTORY_DAYS=365` it prunes them as soon as
it has started, in transactions of about 20 ms each, in the background, the write-ahead log checkpointed after
each beside the writes (`bot.store.checkpoints`). Meanwhile the harness posts one signed KGSM event to the bot's
webhook (`POST /kgsm/webhook`) every 20 ms, one at a time, for 30 s; the webhook answers only once the event is
stored, so the time from the request to its answer is how long a new event waited to be stored. The baseline is
the same bot started on the 1,000,000 events as imported (nothing is old enough to prune), posted to in the same
way for 10 s, in the same run. The longest wait of each is reported, over every event posted from the start, with
the median and how many old events the bot removed in the 30 s (the prune goes on after them at that pace until
all are gone).

Each bot starts on a copy written to disk first (fsync), as a user's database is: a copy the kernel has not yet
written makes the bot's first fsync of it wait for all 450 MB. The harness's own garbage collector is kept out of
the timed window (`_harness_collector_paused`): its pauses are the harness's, not the bot's. One of them, 0.3 to
0.5 s while the harness finalized an SQLite connection it had left open, was what this benchmark used to report
as the longest wait; the benchmarks now close every connection they open.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.history import journal_history
from bench.kgsm import document
from bench.load import stored
from bench.processes import bot_settings, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median
from bot.store.database import DATABASE_NAME

TITLE = "Pruning"
HISTORY = 1_000_000
OLD = 500_000
RUNS = 3
INTERVAL = 0.02
WINDOW = 30.0  # seconds of posting while the bot prunes (the whole prune takes longer: it goes on after)
REST_WINDOW = 10.0
GOAL_MS = 100.0
SECRET = "bench-webhook-secret-0123456789"
TIMEOUT = 300.0
OLD_DAYS = 400


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _aged(history: Path, directory: Path) -> Path:
    """A copy of `history` whose oldest `OLD` events are `OLD_DAYS` days old."""
    path = directory / "aged.sqlite3"
    shutil.copy(history, path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE events SET timestamp = timestamp - ? WHERE seq <= ?", (OLD_DAYS * 86400, OLD))
    return path


def _signed(sequence: int) -> tuple[bytes, dict[str, str]]:
    payload = document("instance_player_joined", "prune-bench", sequence, Sequence=str(sequence))
    payload["Timestamp"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = json.dumps(payload).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-KGSM-Timestamp": str(int(time.time())), "X-KGSM-Signature": f"sha256={signature}"}


async def _post(session: aiohttp.ClientSession, url: str, sequence: int) -> float:
    body, headers = _signed(sequence)
    began = time.monotonic()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"the webhook answered {response.status}")
    return (time.monotonic() - began) * 1000


async def waits(database: Path, *, window: float) -> tuple[list[float], int]:
    """(waits in ms of the events posted during `window` seconds, events left at the end) of a bot started on a
    copy of `database`."""
    with scratch() as directory:
        (directory / "data").mkdir()
        _settled_copy(database, directory / "data" / DATABASE_NAME)
        port = _free_port()
        settings = bot_settings(directory, KGSM_HISTORY_DAYS="365", BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
        url = f"http://127.0.0.1:{port}/kgsm/webhook"
        found: list[float] = []
        bot = await spawn("bot", cwd=directory, settings=settings)
        async with running(bot), aiohttp.ClientSession() as session:
            # What the dry-run prints of each event is read and dropped: a full pipe would stop the bot.
            printed = asyncio.create_task(_discard(bot.stdout))
            await wait_until(lambda: _listening(port), TIMEOUT, "the webhook")
            with _harness_collector_paused():
                began = time.monotonic()
                while time.monotonic() - began < window:
                    found.append(await _post(session, url, len(found)))
                    await asyncio.sleep(INTERVAL)
            printed.cancel()
            return found, stored(directory) - len(found)


@contextlib.contextmanager
def _harness_collector_paused() -> Iterator[None]:
    """No collection of the harness's own garbage while it times the bot: a full one takes ~40 ms here, and a
    request it interrupts would count it as the bot's wait."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _discard(stream: asyncio.StreamReader | None) -> None:
    while stream is not None and await stream.read(65536):
        pass


def _settled_copy(source: Path, target: Path) -> None:
    """A copy of `source` at `target`, written to disk before the bot starts, as a user's database is: else the
    bot's first fsync of it (its first checkpoint) waits for the kernel to write all 450 MB of it, and every
    write on the disk with it."""
    shutil.copy(source, target)
    with target.open("rb") as copy:
        os.fsync(copy.fileno())


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def measure() -> list[Row]:
    history = await journal_history(HISTORY)
    pruning: list[tuple[list[float], int]] = []
    resting: list[list[float]] = []
    with scratch() as directory:
        aged = _aged(history, directory)
        for _ in range(RUNS):  # interleaved, so that a slow moment of the machine hits both alike
            pruning.append(await waits(aged, window=WINDOW))
            resting.append((await waits(history, window=REST_WINDOW))[0])
    longest = [max(found) for found, _ in pruning]
    at_rest = [max(found) for found in resting]
    listed = "; ".join(
        f"pruning: longest {max(found):.1f} ms, "
        f"median {median(found):.1f} ms over {len(found)} events, {HISTORY - left:,} old events removed in "
        f"{WINDOW:g} s; at rest: longest {max(rest):.1f} ms, "
        f"median {median(rest):.1f} ms"
        for (found, left), rest in zip(pruning, resting, strict=True)
    )
    return [
        Row(
            benchmark=f"prune of {OLD:,} old events while events arrive, longest wait of a new event",
            bot=f"{median(longest):.1f} ms",
            baseline=f"{median(at_rest):.1f} ms (nothing to prune)",
            ratio=f"{median(longest) / median(at_rest):.1f}×",
            goal=f"≤ {GOAL_MS:g} ms",
            met=median(longest) <= GOAL_MS,
            runs=listed,
        )
    ]
