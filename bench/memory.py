"""Memory: resident set of the bot idle, after 100,000 stored events and started on 1,000,000, against a bare
discord.py client.

Each variant is a process of its own and its memory is read from /proc/PID/status, the kernel's accounting of that
process alone: VmHWM (the peak resident set so far) and VmRSS (resident now). The bot is `python -m bot` logged in
to the fake Discord without any channel; it is idle once discord.py is ready (its first presence update reached the
fake) and one more second has passed. Then 8 writers (another process) send it 100,000 KGSM events of 32 servers,
one connection each; it is measured when half of them are stored, and again once all are stored and one more second
has passed: a bot whose memory grows with its history would grow between these two. No channel is configured, so the
events are stored and dispatched (state, operation runs) but cause no delivery: this measures history, not a backlog
of messages waiting for Discord's rate limit (which holds every undelivered embed until it is sent, about 10 embeds
per second and channel). The baseline is a bare discord.py client logged in to the same fake (`bench.bare_client`),
idle one second after it is ready. Last, the bot is started on a copy of a database of 1,000,000 events of 32
servers imported through its journal replay (`bench.history`) and measured the same way once idle, then after 6,000
more events: a bot that loaded its history into memory would show it here, against the same bot idle on an empty
database.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bench.history import journal_history
from bench.load import finished, go, prepared, stored
from bench.processes import Memory, bot_settings, discord_settings, memory, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median
from bot.store.database import DATABASE_NAME
from tests.fakes.discord_server import FakeDiscord

TITLE = "Memory"
RUNS = 3
HISTORY = 100_000
EARLY = 50_000
WRITERS = 8
SETTLE = 1.0
IDLE_GOAL = 1.3
GROWTH_GOAL_MIB = 20.0
TIMEOUT = 60.0
STORE_TIMEOUT = 300.0
LONG_HISTORY = 1_000_000
MORE = 6_000


async def bot_run(fake: FakeDiscord) -> tuple[Memory, Memory, Memory]:
    """(idle, after `EARLY` stored events, after `HISTORY` stored events)."""
    with scratch() as directory:
        presences = len(fake.presences)
        settings = {**discord_settings(fake), **bot_settings(directory)}
        async with running(await spawn("bot", cwd=directory, settings=settings)) as bot:
            await fake.wait_for(lambda: len(fake.presences) > presences, timeout=TIMEOUT)
            await asyncio.sleep(SETTLE)
            idle = memory(bot.pid)
            socket = directory / "kgsm.sock"
            async with running(await prepared(socket, HISTORY, WRITERS, directory)) as writers:
                await go(writers)
                await wait_until(lambda: stored(directory) >= EARLY, STORE_TIMEOUT, "storing", interval=0.1)
                early = memory(bot.pid)
                await wait_until(lambda: stored(directory) >= HISTORY, STORE_TIMEOUT, "storing", interval=0.5)
                await finished(writers)
            await asyncio.sleep(SETTLE)
            return idle, early, memory(bot.pid)


async def long_history_run(fake: FakeDiscord, history: Path) -> tuple[Memory, Memory]:
    """(idle on `LONG_HISTORY` events, after `MORE` events more)."""
    with scratch() as directory:
        (directory / "data").mkdir()
        shutil.copy(history, directory / "data" / DATABASE_NAME)
        presences = len(fake.presences)
        settings = {**discord_settings(fake), **bot_settings(directory, KGSM_HISTORY_DAYS="36500")}
        async with running(await spawn("bot", cwd=directory, settings=settings)) as bot:
            await fake.wait_for(lambda: len(fake.presences) > presences, timeout=TIMEOUT)
            await asyncio.sleep(SETTLE)
            idle = memory(bot.pid)
            socket = directory / "kgsm.sock"
            async with running(await prepared(socket, MORE, WRITERS, directory)) as writers:
                await go(writers)
                await wait_until(lambda: stored(directory) >= LONG_HISTORY + MORE, STORE_TIMEOUT, "storing", 0.5)
                await finished(writers)
            await asyncio.sleep(SETTLE)
            return idle, memory(bot.pid)


async def baseline_run(fake: FakeDiscord) -> Memory:
    with scratch() as directory:
        async with running(await spawn("bench.bare_client", cwd=directory, settings=discord_settings(fake))) as client:
            assert client.stdout is not None
            await asyncio.wait_for(client.stdout.readline(), TIMEOUT)
            await asyncio.sleep(SETTLE)
            return memory(client.pid)


def _mib(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


async def measure() -> list[Row]:
    idle: list[Memory] = []
    early: list[Memory] = []
    after: list[Memory] = []
    bare: list[Memory] = []
    long: list[tuple[Memory, Memory]] = []
    history = await journal_history(LONG_HISTORY)
    async with FakeDiscord() as fake:
        for _ in range(RUNS):
            measured = await bot_run(fake)
            idle.append(measured[0])
            early.append(measured[1])
            after.append(measured[2])
            bare.append(await baseline_run(fake))
            long.append(await long_history_run(fake, history))
    idle_peak = median([m.peak for m in idle])
    bare_peak = median([m.peak for m in bare])
    growth = median([a.peak - i.peak for i, a in zip(idle, after, strict=True)])
    late_growth = [a.rss - e.rss for e, a in zip(early, after, strict=True)]
    long_growth = median([m.peak for _, m in long]) - idle_peak
    return [
        Row(
            "memory, idle (peak RSS)",
            f"{idle_peak:.1f} MiB",
            f"{bare_peak:.1f} MiB",
            f"{idle_peak / bare_peak:.2f}×",
            f"≤ {IDLE_GOAL}× baseline",
            met=idle_peak / bare_peak <= IDLE_GOAL,
            runs=f"peak MiB: bot {_mib([m.peak for m in idle])}; baseline {_mib([m.peak for m in bare])}",
        ),
        Row(
            f"memory, after {HISTORY:,} stored events (peak RSS)",
            f"{median([m.peak for m in after]):.1f} MiB",
            f"{idle_peak:.1f} MiB (bot idle)",
            f"+{growth:.1f} MiB",
            f"< +{GROWTH_GOAL_MIB:g} MiB",
            met=growth < GROWTH_GOAL_MIB,
            runs=f"peak MiB {_mib([m.peak for m in after])}; resident MiB at {EARLY:,} stored "
            f"{_mib([m.rss for m in early])}, at {HISTORY:,} {_mib([m.rss for m in after])} "
            f"({', '.join(f'{g:+.1f}' for g in late_growth)} MiB from {EARLY:,} to {HISTORY:,})",
        ),
        Row(
            f"memory, started on {LONG_HISTORY:,} events of history, then {MORE:,} more (peak RSS)",
            f"{median([m.peak for _, m in long]):.1f} MiB",
            f"{idle_peak:.1f} MiB (bot idle, empty database)",
            f"+{long_growth:.1f} MiB",
            f"≤ +{GROWTH_GOAL_MIB:g} MiB",
            met=long_growth <= GROWTH_GOAL_MIB,
            runs=f"peak MiB idle {_mib([i.peak for i, _ in long])}, after {MORE:,} more "
            f"{_mib([m.peak for _, m in long])}",
        ),
    ]
