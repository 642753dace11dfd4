"""Client role: the bot reads a stream from a socket another program owns, and reconnects when it restarts."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bot.config import SocketSettings
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.socket_client import SocketClientSource
from bot.sources.stats import IntakeStats
from tests.helpers import Collector, pretty, started


class Relay:
    """A peer that owns the socket and streams documents to whoever connects, like a relay would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self.connected.clear()
        self.server = await asyncio.start_unix_server(self._accept, path=str(self.path))

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        self.connected.set()

    async def send(self, payload: bytes) -> None:
        for writer in self.writers:
            writer.write(payload)
            await writer.drain()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()
        self.path.unlink(missing_ok=True)


async def test_client_role_reads_a_stream_and_reconnects_after_its_peer_restarts(short_dir: Path) -> None:
    path = short_dir / "relay.sock"
    relay = Relay(path)
    await relay.start()
    collector = Collector()
    source = SocketClientSource(
        SocketSettings(path=path, role="client"), Intake(collector, IntakeStats()), Supervisor()
    )
    await source.start()
    try:
        await asyncio.wait_for(relay.connected.wait(), 5)
        await relay.send(pretty(started("one")) + json.dumps(started("two")).encode() + b"\n")
        await collector.wait_count(2)

        await relay.stop()
        await asyncio.sleep(0.3)
        restarted_at = time.monotonic()
        await relay.start()
        await asyncio.wait_for(relay.connected.wait(), 10)
        assert time.monotonic() - restarted_at < 5  # backoff starts at 1 s, not at 30
        await relay.send(pretty(started("three")))
        await collector.wait_count(3)
        assert collector.instances() == ["one", "two", "three"]
    finally:
        await source.stop()
        await relay.stop()


async def test_client_role_waits_for_a_socket_that_does_not_exist_yet(short_dir: Path) -> None:
    path = short_dir / "late.sock"
    collector = Collector()
    source = SocketClientSource(
        SocketSettings(path=path, role="client"), Intake(collector, IntakeStats()), Supervisor()
    )
    await source.start()
    relay = Relay(path)
    try:
        await asyncio.sleep(0.2)
        assert not source.healthy
        assert source.problem is not None
        assert str(path) in source.problem
        await relay.start()
        await asyncio.wait_for(relay.connected.wait(), 5)
        await relay.send(pretty(started("late")))
        await collector.wait_count(1)
        assert source.healthy
        assert source.problem is None
    finally:
        await source.stop()
        await relay.stop()
