"""Junk: the wall and CPU time to refuse 1 MiB of junk lines sent through the bot's socket in one connection.

The harness connects to the socket of `python -m bot` (dry-run) as KGSM's socat would, writes 1 MiB of stray
two-byte lines (`x` and a newline: 524,288 lines, the most inputs a mebibyte of lines can hold) followed by one
valid KGSM event, shuts its writing side down and waits until the bot closes the connection, which it does once it
has handed on everything the connection held; the clock runs from just before the connect to that close. The CPU
time the bot process used meanwhile is read from /proc/PID/stat. Each run then checks that the valid event behind
the junk was stored, that the bot counted every line as refused (`/metrics`) and how many refusal lines its log
got (the rest of each interval's refusals are counted into one summary line a minute later). The
baseline is a bare asyncio Unix server that only reads the same bytes to their end and closes the connection
(`bench.bare_server --read-only`). A second variant sends 1 MiB of tiny JSON documents that are no KGSM event
(`{}` on each line, 349,525 of them): each is a document of its own that must be decoded and refused one by one,
the costliest junk per byte; it has no goal. Runs are interleaved, bot and baseline; the medians are reported.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.kgsm import document, pretty, send
from bench.load import stored
from bench.processes import accepts, bot_settings, cpu_seconds, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median
from tests.helpers import free_port

TITLE = "Junk"
MIB = 1 << 20
LINES = b"x\n" * (MIB // 2)
DOCUMENTS = b"{}\n" * (MIB // 3)
RUNS = 5
GOAL = 1.0
TIMEOUT = 120.0
_RECEIVED = re.compile(r"^kgsm_events_received_total (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Refusal:
    wall: float  # seconds from the connect to the server closing the connection
    cpu: float  # CPU seconds the server process used meanwhile
    log_lines: int = 0  # refusal lines the bot's log got meanwhile


async def _received(port: int) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        match = _RECEIVED.search(await response.text())
    return int(match.group(1)) if match else -1


def _refusal_lines(log: Path) -> int:
    return sum(b"refused" in line for line in log.read_bytes().splitlines()) if log.exists() else 0


async def _started(port: int) -> None:
    """Until the bot is started all through (its HTTP server, started after the socket, answers)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            await _received(port)
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
        else:
            return


async def bot_refusal(junk: bytes, inputs: int) -> Refusal:
    with scratch() as directory:
        port = free_port()
        settings = bot_settings(
            directory,
            BOT_HTTP_PORT=str(port),
            KGSM_MAX_PAYLOAD_BYTES=str(2 * MIB),
            KGSM_READ_TIMEOUT="60",
            KGSM_JOURNAL_ROOT=str(directory / "lib"),
        )
        async with running(await spawn("bot", cwd=directory, settings=settings)) as bot:
            socket = directory / "kgsm.sock"
            await wait_until(lambda: accepts(socket), TIMEOUT, "the bot accepting")
            await _started(port)
            log = directory / "bot.log"
            lines_before = _refusal_lines(log)
            cpu = cpu_seconds(bot.pid)
            began = time.monotonic()
            await send(socket, junk + pretty(document("instance_started", "after-junk", 0)))
            wall = time.monotonic() - began
            cpu = cpu_seconds(bot.pid) - cpu
            await wait_until(lambda: stored(directory) >= 1, TIMEOUT, "the event after the junk stored")
            received = await _received(port)
            if received != inputs + 1:
                raise RuntimeError(f"the bot counted {received} inputs, not {inputs + 1}")
            logged = _refusal_lines(log) - lines_before
    return Refusal(wall, cpu, logged)


async def baseline_refusal(junk: bytes) -> Refusal:
    with scratch() as directory:
        socket = directory / "bare.sock"
        server = await spawn("bench.bare_server", str(socket), "--read-only", cwd=directory)
        async with running(server):
            await wait_until(lambda: accepts(socket), TIMEOUT, "the bare server accepting")
            cpu = cpu_seconds(server.pid)
            began = time.monotonic()
            await send(socket, junk + pretty(document("instance_started", "after-junk", 0)))
            wall = time.monotonic() - began
            cpu = cpu_seconds(server.pid) - cpu
    return Refusal(wall, cpu)


def _listed(runs: list[Refusal]) -> str:
    return ", ".join(f"{run.wall:.3f}/{run.cpu:.2f}" for run in runs)


def _row(name: str, bot: list[Refusal], bare: list[Refusal], *, goal: bool) -> Row:
    wall, baseline = median([run.wall for run in bot]), median([run.wall for run in bare])
    cpu, baseline_cpu = median([run.cpu for run in bot]), median([run.cpu for run in bare])
    logged = ", ".join(str(run.log_lines) for run in bot)
    return Row(
        benchmark=name,
        bot=f"{wall:.3f} s",
        baseline=f"{baseline:.3f} s",
        ratio=f"{wall / baseline:.1f}×",
        goal=f"< {GOAL:g} s" if goal else "—",
        met=wall < GOAL if goal else None,
        runs=f"CPU {cpu:.2f} s (baseline {baseline_cpu:.2f} s); refusal lines in the bot's log per run: {logged}; "
        f"runs (wall s/CPU s): bot {_listed(bot)}; baseline {_listed(bare)}",
    )


async def measure() -> list[Row]:
    lines: list[Refusal] = []
    documents: list[Refusal] = []
    bare_lines: list[Refusal] = []
    bare_documents: list[Refusal] = []
    for _ in range(RUNS):  # interleaved, so that a slow moment of the machine hits every variant alike
        lines.append(await bot_refusal(LINES, LINES.count(b"\n")))
        bare_lines.append(await baseline_refusal(LINES))
        documents.append(await bot_refusal(DOCUMENTS, DOCUMENTS.count(b"\n")))
        bare_documents.append(await baseline_refusal(DOCUMENTS))
    return [
        _row("junk, 1 MiB of stray lines in one connection", lines, bare_lines, goal=True),
        _row("junk, 1 MiB of `{}` documents in one connection", documents, bare_documents, goal=False),
    ]
