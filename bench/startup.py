"""Start-up: from process start to the socket accepting events, `python -m bot` in dry-run.

The clock starts just before the process is spawned and stops when a connection to the socket succeeds (tried every
2 ms). Then one KGSM event is sent and the clock is read again when it is stored: events that arrive while the bot
is still starting wait in its queue, so this second time tells when the bot really processes events. Five runs with
an empty data directory (the database is created and migrated), then five on a copy of a database that already holds
100,000 events (a busy host's 90 days, from which the bot rebuilds every server's state at start-up). The baseline is
the start-up of a bare asyncio Unix server process (`bench.bare_server`): what the interpreter alone costs.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bench.kgsm import busy_days, document, pretty, send
from bench.load import stored
from bench.processes import accepts, bot_settings, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median
from bot.events import decode_event
from bot.store.database import DATABASE_NAME, Store

TITLE = "Start-up"
RUNS = 5
HISTORY = 100_000
GOAL = 1.5
TIMEOUT = 60.0
POLL = 0.002


@dataclass(frozen=True)
class Start:
    accepting: float  # seconds from the spawn to the first accepted connection
    storing: float  # seconds from the spawn to the first event stored


async def _until_accepting(module: str, *args: str, cwd: Path, settings: dict[str, str], socket: Path) -> float:
    began = time.monotonic()
    async with running(await spawn(module, *args, cwd=cwd, settings=settings)):
        ready = await wait_until(lambda: accepts(socket), TIMEOUT, f"{module} accepting", interval=POLL)
    return ready - began


async def bot_start(history: Path | None) -> Start:
    with scratch() as directory:
        known = 0
        if history is not None:
            (directory / "data").mkdir()
            shutil.copy(history, directory / "data" / DATABASE_NAME)
            known = HISTORY
        settings = bot_settings(directory, KGSM_HISTORY_DAYS="36500")
        socket = directory / "kgsm.sock"
        began = time.monotonic()
        async with running(await spawn("bot", cwd=directory, settings=settings)):
            accepting = await wait_until(lambda: accepts(socket), TIMEOUT, "the bot accepting", interval=POLL)
            await send(socket, pretty(document("instance_started", "start-up", HISTORY)))
            storing = await wait_until(lambda: stored(directory) > known, TIMEOUT, "the first event stored")
    return Start(accepting - began, storing - began)


async def baseline_start() -> float:
    with scratch() as directory:
        socket = directory / "bare.sock"
        return await _until_accepting("bench.bare_server", str(socket), cwd=directory, settings={}, socket=socket)


async def _history(directory: Path) -> Path:
    """A database holding `HISTORY` events, written through the bot's own store."""
    store = Store(directory)
    await store.open()
    try:
        batch = []
        for payload in busy_days("history", HISTORY, 0):
            batch.append(decode_event(payload))
            if len(batch) == 500:
                await store.insert_events(batch)
                batch.clear()
        await store.insert_events(batch)
    finally:
        await store.close()
    return store.path


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def _row(name: str, bot: list[float], bare: list[float], *, goal: bool, details: str = "") -> Row:
    seconds, baseline = median(bot), median(bare)
    return Row(
        benchmark=name,
        bot=f"{seconds:.2f} s",
        baseline=f"{baseline:.2f} s",
        ratio=f"{seconds / baseline:.1f}×",
        goal=f"< {GOAL:g} s" if goal else "—",
        met=seconds < GOAL if goal else None,
        runs=f"bot {_seconds(bot)}; baseline {_seconds(bare)}{details}",
    )


async def measure() -> list[Row]:
    empty: list[Start] = []
    bare: list[float] = []
    for _ in range(RUNS):
        empty.append(await bot_start(None))
        bare.append(await baseline_start())
    with scratch() as directory:
        history = await _history(directory)
        full = [await bot_start(history) for _ in range(RUNS)]
    first_stored = f"; first event stored after {_seconds([start.storing for start in empty])}"
    return [
        _row("start-up, empty database", [start.accepting for start in empty], bare, goal=True, details=first_stored),
        _row(f"start-up, {HISTORY:,} events of history", [start.accepting for start in full], bare, goal=True),
        _row(
            f"start-up, {HISTORY:,} events of history, until a first event is stored",
            [start.storing for start in full],
            bare,
            goal=False,
        ),
    ]
