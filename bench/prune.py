"""Pruning: how long a new event waits while the bot deletes 500,000 old events, against the same bot at rest.

The bot is `python -m bot` (dry-run) started on a copy of a database of 1,000,000 events (`bench.history`) of
which the oldest 500,000 were moved 400 days into the past; with `KGSM_HISTORY_DAYS=365` it prunes them as soon as
it has started, in small transactions, in the background. Meanwhile the harness posts one signed KGSM event to the
bot's webhook (`POST /kgsm/webhook`) every 20 ms, one at a time; the webhook answers only once the event is
stored, so the time from the request to its answer is how long a new event waited to be stored. It goes on until
the database holds only the recent events and those posted, then posts as many again with nothing left to prune:
the baseline, measured in the same run on the same bot. The longest wait of each phase is reported (the goal is
on the longest wait during the prune), with the median and how long the prune took.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import socket
import sqlite3
import time
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
CHECK_EVERY = 25  # posts between two counts of the events left (a count of a million rows is not free)
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
    with sqlite3.connect(path) as db:
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


async def one_run(aged: Path) -> tuple[list[float], list[float], float]:
    """(waits during the prune in ms, waits at rest in ms, seconds the prune took)."""
    with scratch() as directory:
        (directory / "data").mkdir()
        shutil.copy(aged, directory / "data" / DATABASE_NAME)
        port = _free_port()
        settings = bot_settings(directory, KGSM_HISTORY_DAYS="365", BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
        url = f"http://127.0.0.1:{port}/kgsm/webhook"
        pruning: list[float] = []
        resting: list[float] = []
        async with running(await spawn("bot", cwd=directory, settings=settings)), aiohttp.ClientSession() as session:
            began = time.monotonic()
            await wait_until(lambda: _listening(port), TIMEOUT, "the webhook")
            sequence = 0
            while sequence % CHECK_EVERY or stored(directory) > HISTORY - OLD + sequence:
                if time.monotonic() - began > TIMEOUT:
                    raise TimeoutError("the prune did not finish")
                sequence += 1
                pruning.append(await _post(session, url, sequence))
                await asyncio.sleep(INTERVAL)
            took = time.monotonic() - began
            for _ in range(len(pruning)):
                sequence += 1
                resting.append(await _post(session, url, sequence))
                await asyncio.sleep(INTERVAL)
    return pruning, resting, took


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def measure() -> list[Row]:
    history = await journal_history(HISTORY)
    runs: list[tuple[list[float], list[float], float]] = []
    with scratch() as directory:
        aged = _aged(history, directory)
        for _ in range(RUNS):
            runs.append(await one_run(aged))
    longest = [max(pruning) for pruning, _, _ in runs]
    at_rest = [max(resting) for _, resting, _ in runs]
    listed = "; ".join(
        f"longest {max(p):.1f} ms, median {median(p):.1f} ms over {len(p)} events while pruning for {took:.1f} s; "
        f"at rest longest {max(r):.1f} ms, median {median(r):.1f} ms"
        for p, r, took in runs
    )
    return [
        Row(
            benchmark=f"prune of {OLD:,} old events while events arrive, longest wait of a new event",
            bot=f"{median(longest):.1f} ms",
            baseline=f"{median(at_rest):.1f} ms (at rest)",
            ratio=f"{median(longest) / median(at_rest):.1f}×",
            goal=f"≤ {GOAL_MS:g} ms",
            met=median(longest) <= GOAL_MS,
            runs=listed,
        )
    ]
