"""Fixtures shared by the whole suite."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
import uvloop

from bot.bot import KGSMBot, point_discord_py_at
from bot.config import Settings, SocketSettings, load_settings
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.socket_server import SocketServerSource
from bot.sources.stats import IntakeStats
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import Collector


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The tests run on uvloop's event loop, as the bot and the relay do (bot/runtime/loop.py)."""
    return {"uvloop": uvloop.new_event_loop}


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short temporary directory: Unix socket paths must stay under 108 bytes, pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="kgsm-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def socket_settings(short_dir: Path) -> SocketSettings:
    return SocketSettings(path=short_dir / "run" / "kgsm.sock", read_timeout=2.0, max_payload_bytes=64 * 1024)


@dataclass
class RunningSource:
    source: SocketServerSource
    collector: Collector
    stats: IntakeStats

    @property
    def path(self) -> Path:
        return self.source.path


async def start_source(settings: SocketSettings) -> RunningSource:
    collector = Collector()
    stats = IntakeStats()
    source = SocketServerSource(settings, Intake(collector, stats), Supervisor())
    await source.start()
    return RunningSource(source, collector, stats)


@pytest.fixture
async def running(socket_settings: SocketSettings) -> AsyncIterator[RunningSource]:
    started = await start_source(socket_settings)
    yield started
    await started.source.stop()


SettingsWith = Callable[..., SocketSettings]


@pytest.fixture
def settings_with(socket_settings: SocketSettings) -> SettingsWith:
    """Variant socket settings for a test: `settings_with(read_timeout=0.5)`."""
    return lambda **changes: replace(socket_settings, **changes)


# ------------------------------------------------------------------------------ the bot against a fake Discord

TOKEN = "fake-token-" + "x" * 60
CHANNEL_A = 111111111111111111
CHANNEL_B = 222222222222222222
CHANNEL_C = 333333333333333333
DEFAULT_CHANNEL = 444444444444444444
GONE_CHANNEL = 555555555555555555
FORBIDDEN_CHANNEL = 666666666666666666


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(
        channels=[CHANNEL_A, CHANNEL_B, CHANNEL_C, DEFAULT_CHANNEL, GONE_CHANNEL, FORBIDDEN_CHANNEL]
    ) as server:
        server.not_found_channels.add(GONE_CHANNEL)
        server.forbidden_channels.add(FORBIDDEN_CHANNEL)
        server.point_discord_py_here()
        yield server
        assert server.unhandled == [], "the bot made requests the fake Discord does not know"


@dataclass
class LiveBot:
    bot: KGSMBot
    task: asyncio.Task[None]

    @property
    def socket_path(self) -> Path:
        return self.bot.source.path

    async def stop(self) -> None:
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 10)


StartBot = Callable[..., Awaitable[LiveBot]]


def bot_settings(fake: FakeDiscord, short_dir: Path, **env: str) -> Settings:
    """Settings of a bot logged in to `fake`, with its socket and database in `short_dir`."""
    return load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DISCORD_GUILD_ID": str(fake.guild_id),
            "KGSM_SOCKET_PATH": str(short_dir / "kgsm.sock"),
            "BOT_DATA_DIR": str(short_dir / "data"),
            "KGSM_HISTORY_DAYS": "36500",  # the fixtures are from 2024 to 2026: keep them
            "KGSM_READ_TIMEOUT": "2",
            "KGSM_JOURNAL_ROOT": str(short_dir / "lib"),  # no producer journals unless a test makes them
            **env,
        },
        env_file=None,
    )


@pytest.fixture
async def start_bot(fake: FakeDiscord, short_dir: Path) -> AsyncIterator[StartBot]:
    """Start the real bot, logged in to the fake Discord, with extra settings as keyword arguments (and the
    time it reads as `clock`)."""
    running: list[LiveBot] = []

    async def start(clock: Callable[[], datetime] | None = None, **env: str) -> LiveBot:
        settings = bot_settings(fake, short_dir, **env)
        point_discord_py_at(settings.discord)
        bot = KGSMBot(settings, clock=clock, guild_ready_timeout=0.05)
        await bot.login(TOKEN)
        task = asyncio.create_task(bot.connect())
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        live = LiveBot(bot, task)
        running.append(live)
        return live

    yield start
    for live in running:
        if not live.bot.is_closed():
            await live.stop()
