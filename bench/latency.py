"""Latency: from the write into the socket to the fake Discord receiving the POST, one event at a time.

The clock starts just before the client connects to the socket and stops at the arrival time the fake Discord
records for the POST (both run in the harness process, on one monotonic clock). Each event is an `instance_started`
of one of 50 instances, each routed to a channel of its own (`KGSM_CHANNELS`), taken in turn; before each event the
harness waits until its channel's last POST is more than `Deliverer.busy_window` (+0.3 s) old. So every event is a
standalone event for a quiet channel, which the bot posts at once: the busy-window batching (which may hold an event
up to `Deliverer.linger` = 1 s while a channel is busy, to send several together) never applies here, by design of
the benchmark. 50 warm-up events go first. The baseline is a bare discord.py client on the same fake
(`bench.bare_client`) that, for each connection to its socket, reads the channel id sent and posts a prepared embed
there: the same path without the bot's work. p50 and p99 are computed per run and the median over the runs is
reported.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from bench.kgsm import document, pretty, send
from bench.processes import bot_settings, discord_settings, running, scratch, spawn, wait_until
from bench.report import Row
from bench.stats import median, percentile
from bot.delivery.lanes import Deliverer
from tests.fakes.discord_server import FakeDiscord

TITLE = "Latency"
CHANNELS = [730_000_000_000_000_000 + n for n in range(50)]
SAMPLES = 200
RUNS = 3
QUIET = Deliverer.busy_window + 0.3
GAP = 0.02  # after each POST, so that the bot finishes its bookkeeping before the next event
GOAL_MS = 10.0
TIMEOUT = 30.0

Payload = Callable[[int, int], bytes]  # (sample number, channel index) -> what to write


def _instance(index: int) -> str:
    return f"lat-{index:02d}"


def _event(sample: int, index: int) -> bytes:
    return pretty(document("instance_started", _instance(index), sample))


def _channel_id(sample: int, index: int) -> bytes:
    return str(CHANNELS[index]).encode()


async def _quiet(fake: FakeDiscord, channel: int) -> None:
    posts = fake.posts(channel)
    if posts:
        await asyncio.sleep(max(0.0, posts[-1].timestamp + QUIET - time.monotonic()))


async def _one(fake: FakeDiscord, socket: Path, channel: int, payload: bytes) -> float:
    """Milliseconds from connecting to the socket to the POST's arrival at the fake."""
    before = len(fake.posts(channel))
    began = time.monotonic()
    await send(socket, payload)
    arrived = await fake.wait_for(lambda: fake.posts(channel)[before:], timeout=TIMEOUT)
    return (arrived[0].timestamp - began) * 1000


async def _samples(fake: FakeDiscord, socket: Path, payload: Payload) -> list[float]:
    for index, channel in enumerate(CHANNELS):  # warm-up: every lane exists, every channel has posted once
        await _one(fake, socket, channel, payload(-1 - index, index))
    latencies = []
    for sample in range(SAMPLES):
        index = sample % len(CHANNELS)
        await _quiet(fake, CHANNELS[index])
        latencies.append(await _one(fake, socket, CHANNELS[index], payload(sample, index)))
        await asyncio.sleep(GAP)
    return latencies


async def bot_run(fake: FakeDiscord) -> list[float]:
    with scratch() as directory:
        routes = ",".join(f"{_instance(n)}={channel}" for n, channel in enumerate(CHANNELS))
        settings = {**discord_settings(fake), **bot_settings(directory, KGSM_CHANNELS=routes)}
        async with running(await spawn("bot", cwd=directory, settings=settings)):
            socket = directory / "kgsm.sock"
            await wait_until(socket.exists, TIMEOUT, "the bot's socket")
            return await _samples(fake, socket, _event)


async def baseline_run(fake: FakeDiscord) -> list[float]:
    with scratch() as directory:
        socket = directory / "bare.sock"
        client = await spawn(
            "bench.bare_client", "--socket", str(socket), cwd=directory, settings=discord_settings(fake)
        )
        async with running(client):
            assert client.stdout is not None
            await asyncio.wait_for(client.stdout.readline(), TIMEOUT)
            return await _samples(fake, socket, _channel_id)


def _runs(runs: list[list[float]]) -> str:
    return ", ".join(f"{median(r):.1f}/{percentile(r, 99):.1f}" for r in runs)


async def measure() -> list[Row]:
    bot: list[list[float]] = []
    bare: list[list[float]] = []
    async with FakeDiscord(channels=CHANNELS) as fake:
        for _ in range(RUNS):
            bot.append(await bot_run(fake))
            bare.append(await baseline_run(fake))
    p50 = median([median(r) for r in bot]), median([median(r) for r in bare])
    p99 = median([percentile(r, 99) for r in bot]), median([percentile(r, 99) for r in bare])
    added = p99[0] - p99[1]
    runs = f"p50/p99 ms per run: bot {_runs(bot)}; baseline {_runs(bare)}"
    return [
        Row(
            "latency p50, quiet channel",
            f"{p50[0]:.1f} ms",
            f"{p50[1]:.1f} ms",
            f"{p50[0] / p50[1]:.2f}× ({p50[0] - p50[1]:+.1f} ms)",
            "—",
            met=None,
            runs=runs,
        ),
        Row(
            "latency p99, quiet channel",
            f"{p99[0]:.1f} ms",
            f"{p99[1]:.1f} ms",
            f"{p99[0] / p99[1]:.2f}× ({added:+.1f} ms)",
            f"added < {GOAL_MS:g} ms",
            met=added < GOAL_MS,
        ),
    ]
