"""Intake throughput: events per second from 8 concurrent KGSM-like writers until every event is stored.

The writers run in a process of their own (`bench.writers`): 8 asyncio clients, each sending its share of 6,000
pretty-printed events one at a time with one connection per event, as 8 KGSM processes running socat would (connect,
write the document and a newline, shut down writing, wait for the server to close). They are Python clients rather
than socat processes so that the server is measured, not process spawning. The clock runs from the moment the
writers are told to go until `SELECT COUNT(*) FROM events` in the bot's database (polled every 10 ms, on one
connection kept open: `bench.load.counting`) reaches 6,000.

The bot is `python -m bot` logged in to the fake Discord, once with a default channel (each event is also routed and
its delivery recorded in the outbox, as in production) and once without any channel (stored and dispatched, nothing
to deliver). With a channel, the fake answers with Discord's limit for posting in one channel, 5 messages per 5 s,
in its `X-RateLimit-*` headers (discord.py waits for them), as Discord does. Without that limit the bot posted some
180 messages into the one channel within a run, which Discord never lets a bot do, and their HTTP work counted
against intake; that case is listed for reference, without a goal.

The baseline is a bare asyncio Unix server that only reads each connection to its end and decodes its JSON
(`bench.bare_server`) on asyncio's own event loop, as it was first measured, fed by the same writers; it reports
when it has decoded all 6,000. The bot runs on uvloop (`bot/runtime/loop.py`); the same bare server on uvloop is
listed for reference, without a goal. The CPU time each server process used per event (all its threads, from
/proc/PID/stat) is listed too: it is what the throughput ratio comes from when two cores are shared by the server
and the writers. The events are those of 32 servers (4 per writer) living through a busy day over and over:
installed, started, joined, backed up, updated, stopped (33 events, 26 of them steps of operations that the bot
shows as one live message each).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from bench.load import counting, finished, go, prepared
from bench.processes import bot_settings, cpu_seconds, discord_settings, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median
from tests.fakes.discord_server import FakeDiscord

TITLE = "Intake throughput"
CHANNEL = 710_000_000_000_000_001
EVENTS = 6_000
WRITERS = 8
RUNS = 5
GOAL = 0.7
CPU_GOAL = 1.5  # the bot's CPU per event against the bare reader's
# What Discord allows a bot in one channel (discord/discord-api-docs#20: message creation and edits, 5 per 5 s).
DISCORD_POSTS, DISCORD_WINDOW = 5, 5.0
TIMEOUT = 120.0


@dataclass(frozen=True)
class Throughput:
    rate: float  # events per second
    cpu: float  # CPU microseconds the server process spent per event


async def bot_rate(fake: FakeDiscord, *, with_channel: bool, discord_limits: bool = True) -> Throughput:
    fake.rate_limit(DISCORD_POSTS if discord_limits else None, DISCORD_WINDOW)
    with scratch() as directory:
        channel = {"KGSM_DEFAULT_CHANNEL_ID": str(CHANNEL)} if with_channel else {}
        settings = {**discord_settings(fake), **bot_settings(directory, **channel)}
        async with running(await spawn("bot", cwd=directory, settings=settings)) as bot:
            socket = directory / "kgsm.sock"
            await wait_until(socket.exists, TIMEOUT, "the bot's socket")
            async with running(await prepared(socket, EVENTS, WRITERS, directory)) as writers:
                with counting(directory) as stored:
                    cpu = cpu_seconds(bot.pid)
                    began = await go(writers)
                    ended = await wait_until(lambda: stored() >= EVENTS, TIMEOUT, "storing", interval=0.01)
                    cpu = cpu_seconds(bot.pid) - cpu
                await finished(writers)
    return Throughput(EVENTS / (ended - began), cpu / EVENTS * 1e6)


async def baseline_rate(*, uvloop: bool = False) -> Throughput:
    with scratch() as directory:
        socket = directory / "bare.sock"
        loop = ["--uvloop"] if uvloop else []
        server = await spawn("bench.bare_server", str(socket), "--expect", str(EVENTS), *loop, cwd=directory)
        async with running(server):
            await wait_until(socket.exists, TIMEOUT, "the bare server's socket")
            async with running(await prepared(socket, EVENTS, WRITERS, directory)) as writers:
                cpu = cpu_seconds(server.pid)
                began = await go(writers)
                assert server.stdout is not None
                done = await asyncio.wait_for(server.stdout.readline(), TIMEOUT)
                cpu = cpu_seconds(server.pid) - cpu
                await finished(writers)
    return Throughput(EVENTS / (float(done.split()[1]) - began), cpu / EVENTS * 1e6)


def _listed(runs: list[Throughput]) -> str:
    return ", ".join(f"{run.rate:,.0f}/s ({run.cpu:.0f} µs)" for run in runs)


def _rows(name: str, bot: list[Throughput], bare: list[Throughput]) -> list[Row]:
    """Events per second against the bare reader's, and the CPU each spent per event."""
    rate, baseline = median([run.rate for run in bot]), median([run.rate for run in bare])
    cpu, baseline_cpu = median([run.cpu for run in bot]), median([run.cpu for run in bare])
    listed = f"runs (rate, CPU per event): bot {_listed(bot)}; baseline {_listed(bare)}"
    return [
        Row(
            benchmark=name,
            bot=f"{rate:,.0f} events/s",
            baseline=f"{baseline:,.0f} events/s",
            ratio=f"{rate / baseline:.2f}×",
            goal=f"≥ {GOAL}× baseline",
            met=rate / baseline >= GOAL,
            runs=listed,
        ),
        Row(
            benchmark=f"{name}, CPU per event",
            bot=f"{cpu:.0f} µs",
            baseline=f"{baseline_cpu:.0f} µs",
            ratio=f"{cpu / baseline_cpu:.2f}×",
            goal=f"≤ {CPU_GOAL}× baseline",
            met=cpu / baseline_cpu <= CPU_GOAL,
            runs="the same runs: every thread of the server process, from /proc/PID/stat",
        ),
    ]


async def measure() -> list[Row]:
    routed: list[Throughput] = []
    routed_unlimited: list[Throughput] = []
    stored_only: list[Throughput] = []
    bare: list[Throughput] = []
    bare_on_uvloop: list[Throughput] = []
    async with FakeDiscord(channels=[CHANNEL]) as fake:
        for _ in range(RUNS):  # interleaved, so that a slow moment of the machine hits every variant alike
            routed.append(await bot_rate(fake, with_channel=True))
            routed_unlimited.append(await bot_rate(fake, with_channel=True, discord_limits=False))
            stored_only.append(await bot_rate(fake, with_channel=False))
            bare.append(await baseline_rate())
            bare_on_uvloop.append(await baseline_rate(uvloop=True))
    reference = [
        replace(row, goal="—", met=None)
        for name, runs in (
            ("intake, default channel, fake Discord without rate limits (for reference)", routed_unlimited),
            ("intake, bare reader on uvloop (for reference)", bare_on_uvloop),
        )
        for row in _rows(name, runs, bare)
    ]
    return [
        *_rows("intake, 8 writers, default channel", routed, bare),
        *_rows("intake, 8 writers, no channel", stored_only, bare),
        *reference,
    ]
