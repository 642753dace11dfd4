"""One KGSM connection (bot/sources/socket_connection.py): handed on at once when it can be, waiting when the
queue is full, and a bug costs that connection only. Real socket, written to by socat as KGSM does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from bot.config import SocketSettings
from bot.events import Event, parse_event
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.socket_server import SocketServerSource
from bot.sources.stats import IntakeStats
from tests.helpers import SOCAT, pretty, socat_send, started


class BoundedSink:
    """The recorder's contract with a queue of `room` events: `offer` only while there is room, `submit` waits."""

    def __init__(self, room: int, refuse: Callable[[Event], bool] = lambda _event: False) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(room)
        self._refuse = refuse

    async def submit(self, event: Event) -> asyncio.Future[bool]:
        await self.queue.put(event)
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        stored.set_result(True)
        return stored

    def offer(self, event: Event) -> bool:
        if self._refuse(event):
            raise RuntimeError(f"a bug met by {event.instance}")
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        return True


async def _serving(settings: SocketSettings, sink: BoundedSink) -> SocketServerSource:
    source = SocketServerSource(settings, Intake(sink, IntakeStats(), log_interval=60), Supervisor())
    await source.start()
    return source


@pytest.fixture
async def full(socket_settings: SocketSettings) -> AsyncIterator[tuple[SocketServerSource, BoundedSink]]:
    sink = BoundedSink(room=1)
    sink.queue.put_nowait(parse_event(started("already-queued")))
    source = await _serving(socket_settings, sink)
    yield source, sink
    await source.stop()


async def test_a_full_queue_holds_kgsm_until_there_is_room_then_the_event_is_handed_on(
    full: tuple[SocketServerSource, BoundedSink],
) -> None:
    source, sink = full
    socat = await asyncio.create_subprocess_exec(
        SOCAT, "-", f"UNIX-CONNECT:{source.path}", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL
    )
    assert socat.stdin is not None
    socat.stdin.write(pretty(started("waiting")))
    socat.stdin.close()
    # KGSM's socat is kept waiting (the connection open) while there is no room: backpressure, nothing dropped.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(socat.wait()), 0.5)
    assert (await sink.queue.get()).instance == "already-queued"
    assert await asyncio.wait_for(socat.wait(), 5) == 0
    assert (await asyncio.wait_for(sink.queue.get(), 5)).instance == "waiting"


async def test_a_bug_handing_on_one_connection_costs_that_connection_only(
    socket_settings: SocketSettings, caplog: pytest.LogCaptureFixture
) -> None:
    sink = BoundedSink(room=100, refuse=lambda event: event.instance == "poison")
    source = await _serving(socket_settings, sink)
    try:
        with caplog.at_level(logging.ERROR):
            for _ in range(3):
                assert await socat_send(source.path, pretty(started("poison")), timeout=5) == 0  # closed, not hung
            assert await socat_send(source.path, pretty(started("fine")), timeout=5) == 0
        assert (await asyncio.wait_for(sink.queue.get(), 5)).instance == "fine"
        failures = [record for record in caplog.records if "handing on a connection" in record.getMessage()]
        assert len(failures) == 1, "logged once, the repeats counted into the summary"
        assert failures[0].exc_info is not None
        assert source.healthy
    finally:
        await source.stop()
