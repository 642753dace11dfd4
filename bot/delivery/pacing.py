"""Pacing of requests to Discord, so that 429s are the exception and not the mechanism.

Discord allows about 5 messages per 5 seconds in one channel and 50 requests per second in all. The
official bot let several producers post on their own and ran into both; every message the bot sends or
edits waits here for its channel's window and the global one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Window:
    """At most `limit` acquisitions in any `per_seconds` window."""

    def __init__(self, limit: int, per_seconds: float) -> None:
        self.limit = limit
        self.per_seconds = per_seconds
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._times and now - self._times[0] >= self.per_seconds:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                await asyncio.sleep(self._times[0] + self.per_seconds - now)


class Pacer:
    def __init__(self, per_channel: int = 5, per_seconds: float = 5.0, global_per_second: int = 40) -> None:
        self.per_channel = per_channel
        self.per_seconds = per_seconds
        self._channels: dict[int, Window] = {}
        self._global = Window(global_per_second, 1.0)

    async def acquire(self, channel_id: int) -> None:
        window = self._channels.get(channel_id)
        if window is None:
            window = self._channels[channel_id] = Window(self.per_channel, self.per_seconds)
        await window.acquire()
        await self._global.acquire()
