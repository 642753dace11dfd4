"""Discord requests per operation: how many POSTs and PATCHes the bot spends, against one message per event.

The bot runs in the harness process, logged in to the fake Discord exactly as the end-to-end tests start it, and the
four scenarios run at once, each in a channel of its own: a complete install (the 12 steps of the install operation
plus `instance_version_updated`, 13 events), an update (10 events: started, download, deploy, version changed,
finished, updated), a backup (3 events), each sent 0.1 s apart (an operation that KGSM completes within seconds),
and a 30-server reboot (30 `instance_started`, sent back to back). Once the bot has stored everything and its
delivery lanes are idle (every coalesced edit written), the POST and PATCH requests the fake received for each
channel are counted. The baseline posts one message per event. Three runs, each with a fresh bot, database and fake
Discord; the median is reported.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path

from bench.kgsm import BACKUP, INSTALL, UPDATE, document, pretty, send
from bench.processes import TOKEN, scratch
from bench.report import Row
from bench.stats import median
from bot.bot import KGSMBot, point_discord_py_at
from bot.config import load_settings
from bot.delivery.lanes import MAX_EMBEDS_PER_MESSAGE
from tests.fakes.discord_server import FakeDiscord

TITLE = "Discord requests per operation"
RUNS = 3
STEP_SPACING = 0.1
GOAL = 5.0
TIMEOUT = 60.0


@dataclass(frozen=True)
class Scenario:
    name: str
    channel: int
    events: tuple[tuple[str, str], ...]  # (event type, instance)
    spacing: float
    fewest: int = 1  # the fewest requests that can show it: one message per operation, 10 embeds per message


SCENARIOS = (
    Scenario("complete install", 740_000_000_000_000_001, tuple((t, "req-install") for t in INSTALL), STEP_SPACING),
    Scenario("update", 740_000_000_000_000_002, tuple((t, "req-update") for t in UPDATE), STEP_SPACING),
    Scenario("backup", 740_000_000_000_000_003, tuple((t, "req-backup") for t in BACKUP), STEP_SPACING),
    Scenario(
        "30-server reboot",
        740_000_000_000_000_004,
        tuple(("instance_started", f"req-server-{n:02d}") for n in range(30)),
        0.0,
        fewest=math.ceil(30 / MAX_EMBEDS_PER_MESSAGE),
    ),
)


def _routes() -> str:
    return ",".join(f"{instance}={s.channel}" for s in SCENARIOS for instance in {i for _, i in s.events})


async def _play(socket: Path, scenario: Scenario, first_sequence: int) -> None:
    for n, (event_type, instance) in enumerate(scenario.events):
        await send(socket, pretty(document(event_type, instance, first_sequence + n)))
        await asyncio.sleep(scenario.spacing)


async def _run() -> dict[str, tuple[int, int]]:
    """(POSTs, PATCHes) per scenario, with a fresh bot and fake Discord."""
    async with FakeDiscord(channels=[s.channel for s in SCENARIOS]) as fake:
        with scratch() as directory:
            settings = load_settings(
                {
                    "DISCORD_TOKEN": TOKEN,
                    "DISCORD_API_BASE": fake.api_base,
                    "DISCORD_GATEWAY_URL": fake.gateway_url,
                    "DISCORD_GUILD_ID": str(fake.guild_id),
                    "KGSM_SOCKET_PATH": str(directory / "kgsm.sock"),
                    "BOT_DATA_DIR": str(directory / "data"),
                    "KGSM_CHANNELS": _routes(),
                },
                env_file=None,
            )
            point_discord_py_at(settings.discord)
            bot = KGSMBot(settings, guild_ready_timeout=0.05)
            await bot.login(TOKEN)
            connection = asyncio.create_task(bot.connect())
            try:
                await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
                await asyncio.gather(*(_play(bot.source.path, s, 1000 * n) for n, s in enumerate(SCENARIOS)))
                total = sum(len(s.events) for s in SCENARIOS)
                await fake.wait_for(lambda: bot.stats.received >= total, timeout=TIMEOUT)
                await bot.recorder.flush()
                await asyncio.wait_for(bot.delivery.drain(), TIMEOUT)
            finally:
                await bot.close()
                await asyncio.wait_for(connection, TIMEOUT)
        return {s.name: (len(fake.posts(s.channel)), len(fake.patches(s.channel))) for s in SCENARIOS}


def _row(name: str, baseline: int, fewest: int, counts: list[tuple[int, int]]) -> Row:
    posts = median([p for p, _ in counts])
    patches = median([p for _, p in counts])
    requests = posts + patches
    fewer = baseline / requests
    return Row(
        benchmark=f"requests, {name}",
        bot=f"{requests:g} ({posts:g} POST + {patches:g} PATCH)",
        baseline=f"{baseline} POST",
        ratio=f"{fewer:.1f}× fewer",
        goal=f"≥ {GOAL:g}× fewer",
        met=fewer >= GOAL,
        runs=f"POST+PATCH per run {', '.join(f'{p}+{e}' for p, e in counts)}; "
        f"the best possible is {fewest} ({baseline / fewest:.1f}× fewer)",
    )


async def measure() -> list[Row]:
    runs = [await _run() for _ in range(RUNS)]
    rows = [_row(s.name, len(s.events), s.fewest, [run[s.name] for run in runs]) for s in SCENARIOS]
    totals = [(sum(p for p, _ in run.values()), sum(e for _, e in run.values())) for run in runs]
    everything = sum(len(s.events) for s in SCENARIOS)
    rows.append(_row("all four together", everything, sum(s.fewest for s in SCENARIOS), totals))
    return rows
