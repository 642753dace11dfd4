"""Commands at 1,000,000 events: how long the bot takes to answer each slash command and autocomplete.

The bot is `python -m bot` logged in to the fake Discord, started on a copy of a database holding 1,000,000 events
of 32 servers, imported through its own journal replay (`bench.history`). The fake sends each interaction over the
gateway as Discord does; the time is from the fake sending it to the bot's answer (its interaction callback)
arriving at the fake, both on the fake's monotonic clock. Every command is run `RUNS` times after two warm-up runs,
round-robin; the median is reported. The baseline is `/ping`, answered by the same bot without reading anything: what
the gateway, discord.py and the callback cost alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from typing import Any

from bench.history import SERVERS, journal_history
from bench.processes import bot_settings, discord_settings, running, scratch, spawn
from bench.report import Row
from bench.stats import median
from bot.store.database import DATABASE_NAME
from tests.fakes.discord_server import FakeDiscord

TITLE = "Commands"
HISTORY = 1_000_000
RUNS = 15
WARM_UP = 2
GOAL_MS = 50.0
TIMEOUT = 60.0
SERVER = f"history-{SERVERS // 2}"
CHANNEL = 730_000_000_000_000_001  # where the commands are run

Invoke = Callable[[FakeDiscord], Awaitable[int]]


def _slash(name: str, **options: Any) -> Invoke:
    return lambda fake: fake.invoke_slash(name, options)


def _complete(name: str, option: str, typed: str) -> Invoke:
    return lambda fake: fake.invoke_autocomplete(name, {option: typed}, focused=option)


CASES: dict[str, Invoke] = {
    "/ping": _slash("ping"),
    "/about": _slash("about"),
    "/status (every server)": _slash("status"),
    f"/status instance:{SERVER}": _slash("status", instance=SERVER),
    "/events": _slash("events"),
    f"/events instance:{SERVER}": _slash("events", instance=SERVER),
    "/events event:server.started": _slash("events", event="server.started"),
    "/events event:players (a family)": _slash("events", event="players"),
    f"/events instance:{SERVER} event:backup.created": _slash("events", instance=SERVER, event="backup.created"),
    "/events autocomplete instance": _complete("events", "instance", "hist"),
    "/events autocomplete event": _complete("events", "event", "serv"),
}


async def _answered(fake: FakeDiscord, invoke: Invoke) -> float:
    """Milliseconds from the interaction sent to the bot's callback received."""
    interaction = await invoke(fake)
    await fake.wait_interaction_response(interaction, timeout=TIMEOUT)
    record = fake.interaction(interaction)
    assert record.callback_at is not None
    return (record.callback_at - record.created_at) * 1000


async def measure() -> list[Row]:
    history = await journal_history(HISTORY)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    async with FakeDiscord(channels=[CHANNEL]) as fake:
        with scratch() as directory:
            (directory / "data").mkdir()
            shutil.copy(history, directory / "data" / DATABASE_NAME)
            settings = {**discord_settings(fake), **bot_settings(directory, KGSM_HISTORY_DAYS="36500")}
            async with running(await spawn("bot", cwd=directory, settings=settings)):
                # Ready: its commands synced and its gateway session open.
                await fake.wait_for(lambda: fake.commands(fake.guild_id) and fake.connected, timeout=TIMEOUT)
                for run in range(WARM_UP + RUNS):
                    for name, invoke in CASES.items():
                        took = await _answered(fake, invoke)
                        if run >= WARM_UP:
                            times[name].append(took)
    baseline = median(times["/ping"])
    return [
        Row(
            benchmark=f"command at {HISTORY:,} events: {name}",
            bot=f"{median(values):.1f} ms",
            baseline=f"{baseline:.1f} ms (/ping)",
            ratio=f"{median(values) / baseline:.1f}×",
            goal=f"< {GOAL_MS:g} ms",
            met=median(values) < GOAL_MS,
            runs="ms per run: " + ", ".join(f"{value:.1f}" for value in values),
        )
        for name, values in times.items()
        if name != "/ping"
    ]
