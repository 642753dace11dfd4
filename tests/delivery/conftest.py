"""The real parts the delivery tests build on: a SQLite file, its outbox, and a discord.py client logged in
to the fake Discord (REST only: delivery needs no gateway)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bot.delivery import lanes
from bot.delivery.lanes import Deliverer
from bot.delivery.outbox import Outbox
from bot.delivery.poster import DiscordPoster, embed_json
from bot.events import OPERATIONS
from bot.events.runs import Run, RunStatus
from bot.render import render_run
from bot.runtime.supervisor import Supervisor
from bot.store.database import Store
from tests.conftest import DEFAULT_CHANNEL, TOKEN
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
async def store(short_dir: Path) -> AsyncIterator[Store]:
    opened = Store(short_dir / "data")
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def outbox(store: Store) -> Outbox:
    box = Outbox(store)
    await box.load()
    return box


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """discord.py's own client, logged in to the fake Discord: its HTTP layer, rate limiter and retries."""
    logged_in = discord.Client(intents=discord.Intents.none())
    await logged_in.login(TOKEN)
    yield logged_in
    await logged_in.close()


async def ready() -> None:
    """Discord is ready at once: the lanes need no gateway."""
    return


@dataclass
class Delivery:
    deliverer: Deliverer
    outbox: Outbox
    store: Store
    supervisor: Supervisor


@pytest.fixture
async def delivery(
    client: discord.Client, outbox: Outbox, store: Store, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Delivery]:
    """The lanes posting through discord.py to the fake Discord, with short retry delays."""
    monkeypatch.setattr(lanes, "FIRST_RETRY_DELAY", 0.05)
    monkeypatch.setattr(lanes, "MAX_RETRY_DELAY", 0.2)
    supervisor = Supervisor()
    deliverer = Deliverer(
        DiscordPoster(client),
        outbox,
        lambda run: (embed_json(render_run(run)), ()),
        ready,
        DEFAULT_CHANNEL,
        supervisor,
    )
    deliverer.edit_interval = 0.05
    deliverer.run_linger = 0.0
    yield Delivery(deliverer, outbox, store, supervisor)
    await deliverer.stop()
    await supervisor.stop_all()


def backup_run(run_id: int, *steps: str, status: RunStatus = RunStatus.RUNNING) -> Run:
    """A backup of `valheim` that has seen `steps` (one version per step)."""
    now = datetime.now(UTC)
    return Run(run_id, "valheim", OPERATIONS["backup"], status, list(steps), now, now, version=len(steps))
