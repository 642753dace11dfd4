"""Getting embeds into channels: one queue and worker per channel, so one bad channel never delays another.

Every message goes out with mentions disabled. A channel that does not exist or that the bot may not post in
is reported once (and again only after it worked in between); transient failures (network, Discord 5xx)
are retried with backoff, in order, so nothing is lost while Discord is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
import discord

log = logging.getLogger(__name__)

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0


class ChannelUnavailable(Exception):
    """The channel is gone or closed to the bot: retrying will not help until someone fixes it."""


class Poster(Protocol):
    async def post(self, channel_id: int, embeds: list[discord.Embed]) -> None: ...


@dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    retries: int = 0
    unavailable_channels: set[int] = field(default_factory=set)


class DiscordPoster:
    """Posts through discord.py without needing the channel in the cache (no guild intents required)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, channel_id: int, embeds: list[discord.Embed]) -> None:
        channel = self._client.get_partial_messageable(channel_id)
        try:
            await channel.send(embeds=embeds, allowed_mentions=discord.AllowedMentions.none())
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"{exc.status} {exc.text or exc}") from exc


class Delivery:
    """Queues embeds per channel and sends them in order, each channel independently."""

    def __init__(self, poster: Poster, wait_ready: Callable[[], Awaitable[object]]) -> None:
        self._poster = poster
        self._wait_ready = wait_ready
        self._queues: dict[int, asyncio.Queue[discord.Embed]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self.stats = DeliveryStats()

    def submit(self, channel_id: int, embed: discord.Embed) -> None:
        queue = self._queues.get(channel_id)
        if queue is None:
            queue = self._queues[channel_id] = asyncio.Queue()
            self._workers[channel_id] = asyncio.create_task(self._work(channel_id, queue), name=f"deliver-{channel_id}")
        queue.put_nowait(embed)

    @property
    def pending(self) -> int:
        return sum(queue.qsize() for queue in self._queues.values())

    async def drain(self) -> None:
        """Wait until every queued embed was handled (sent or given up)."""
        await asyncio.gather(*(queue.join() for queue in self._queues.values()))

    async def stop(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        for worker in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _work(self, channel_id: int, queue: asyncio.Queue[discord.Embed]) -> None:
        await self._wait_ready()
        while True:
            embed = await queue.get()
            try:
                await self._send_with_retries(channel_id, embed)
            finally:
                queue.task_done()

    async def _send_with_retries(self, channel_id: int, embed: discord.Embed) -> None:
        delay = FIRST_RETRY_DELAY
        while True:
            try:
                await self._poster.post(channel_id, [embed])
            except ChannelUnavailable as exc:
                self.stats.failed += 1
                if channel_id not in self.stats.unavailable_channels:
                    self.stats.unavailable_channels.add(channel_id)
                    log.error(
                        "cannot post in channel %s (%s): check that it exists and that the bot may send messages "
                        "and embeds there; its events are dropped until then (said once)",
                        channel_id,
                        exc,
                    )
                return
            except discord.HTTPException as exc:
                if exc.status < 500:
                    self.stats.failed += 1
                    log.error("Discord refused a message for channel %s: %s %s", channel_id, exc.status, exc.text)
                    return
                reason = f"Discord answered {exc.status}"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                reason = f"network error: {exc.__class__.__name__}"
            else:
                self.stats.sent += 1
                if channel_id in self.stats.unavailable_channels:
                    self.stats.unavailable_channels.discard(channel_id)
                    log.info("channel %s accepts messages again", channel_id)
                return
            self.stats.retries += 1
            log.warning("posting to channel %s failed (%s); retrying in %.0f s", channel_id, reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)
