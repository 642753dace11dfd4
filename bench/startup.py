"""Start-up: from process start to the socket accepting events, and to a first new event stored, `python -m bot`
in dry-run, on an empty database and on 100,000 and 1,000,000 events of history.

The clock starts just before the process is spawned and stops when a connection to the socket succeeds (tried every
2 ms). Then one KGSM event is sent and the clock is read again when it is stored: events that arrive while the bot
is still starting wait in its queue, so this second time tells when the bot really processes events. `RUNS` runs
with an empty data directory (the database is created and migrated), then as many on a copy of a database holding
100,000 and 1,000,000 events of 32 servers, imported through the bot's own journal replay (`bench.history`; the bot
reads each server's kept state, not the history). Each start on a history is compared with the empty-database
start-up of the same run (the goal: within 2×, and under 1.5 s); the bare asyncio Unix server process
(`bench.bare_server`), what the interpreter alone costs, is listed with the empty-database rows.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bench.history import journal_history
from bench.kgsm import document, pretty, send
from bench.load import stored
from bench.processes import accepts, bot_settings, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median
from bot.store.database import DATABASE_NAME

TITLE = "Start-up"
RUNS = 5
HISTORIES = (100_000, 1_000_000)
GOAL = 1.5
RATIO_GOAL = 2.0
TIMEOUT = 60.0
POLL = 0.002


@dataclass(frozen=True)
class Start:
    accepting: float  # seconds from the spawn to the first accepted connection
    storing: float  # seconds from the spawn to the first event stored


async def bot_start(history: Path | None, known: int) -> Start:
    with scratch() as directory:
        if history is not None:
            (directory / "data").mkdir()
            shutil.copy(history, directory / "data" / DATABASE_NAME)
        settings = bot_settings(directory, KGSM_HISTORY_DAYS="36500")
        socket = directory / "kgsm.sock"
        began = time.monotonic()
        async with running(await spawn("bot", cwd=directory, settings=settings)):
            accepting = await wait_until(lambda: accepts(socket), TIMEOUT, "the bot accepting", interval=POLL)
            await send(socket, pretty(document("instance_started", "start-up", 10**9)))
            storing = await wait_until(lambda: stored(directory) > known, TIMEOUT, "the first event stored")
    return Start(accepting - began, storing - began)


async def baseline_start() -> float:
    with scratch() as directory:
        socket = directory / "bare.sock"
        began = time.monotonic()
        async with running(await spawn("bench.bare_server", str(socket), cwd=directory)):
            ready = await wait_until(lambda: accepts(socket), TIMEOUT, "the bare server accepting", interval=POLL)
        return ready - began


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def _empty_row(what: str, bot: list[float], bare: list[float]) -> Row:
    seconds, baseline = median(bot), median(bare)
    return Row(
        benchmark=f"start-up, empty database, {what}",
        bot=f"{seconds:.2f} s",
        baseline=f"{baseline:.2f} s (bare server)",
        ratio=f"{seconds / baseline:.1f}×",
        goal=f"< {GOAL:g} s",
        met=seconds < GOAL,
        runs=f"bot {_seconds(bot)}; bare server {_seconds(bare)}",
    )


def _history_row(what: str, count: int, bot: list[float], empty: list[float]) -> Row:
    seconds, baseline = median(bot), median(empty)
    return Row(
        benchmark=f"start-up, {count:,} events of history, {what}",
        bot=f"{seconds:.2f} s",
        baseline=f"{baseline:.2f} s (empty database)",
        ratio=f"{seconds / baseline:.2f}×",
        goal=f"< {GOAL:g} s and ≤ {RATIO_GOAL:g}× empty",
        met=seconds < GOAL and seconds <= RATIO_GOAL * baseline,
        runs=f"bot {_seconds(bot)}; empty database {_seconds(empty)}",
    )


async def measure() -> list[Row]:
    histories = {count: await journal_history(count) for count in HISTORIES}
    empty: list[Start] = []
    bare: list[float] = []
    full: dict[int, list[Start]] = {count: [] for count in HISTORIES}
    for _ in range(RUNS):  # interleaved, so that a slow moment of the machine hits every variant alike
        empty.append(await bot_start(None, 0))
        bare.append(await baseline_start())
        for count, path in histories.items():
            full[count].append(await bot_start(path, count))
    ready = [start.accepting for start in empty]
    first = [start.storing for start in empty]
    rows = [_empty_row("ready", ready, bare), _empty_row("first new event stored", first, bare)]
    for count, starts in full.items():
        rows.append(_history_row("ready", count, [start.accepting for start in starts], ready))
        rows.append(_history_row("first new event stored", count, [start.storing for start in starts], first))
    return rows
