"""The one way out to Discord: per-channel lanes that post, batch and edit, paced, retried, never twice.

Each channel has a lane with its own worker, so a slow or broken channel delays no other. A lane sends,
in order: standalone embeds (several waiting ones go out together, up to 10 per message), the first
message of each operation run, and edits of live run messages, at most one per `edit_interval` per
message (the final state is always written). Every send is paced (see `bot.pacing`), carries a nonce
that Discord enforces, and is marked done in the outbox only after Discord accepted it, so a crash or an
outage of any length neither loses nor doubles a message. Network errors and 5xx are retried with backoff
without limit of time; a channel that is gone or forbidden fails its deliveries with the reason and is
reported once, in the log and in the default channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import aiohttp
import discord

from bot.operations import Run
from bot.outbox import Outbox
from bot.pacing import Pacer
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0
MAX_EMBEDS_PER_MESSAGE = 10
MAX_CHARS_PER_MESSAGE = 6000

EmbedJSON = dict[str, Any]


def embed_json(embed: discord.Embed) -> EmbedJSON:
    """An embed as the JSON Discord takes (and the outbox keeps)."""
    return cast("EmbedJSON", embed.to_dict())


class ChannelUnavailable(Exception):
    """The channel is gone or closed to the bot: retrying will not help until someone fixes it."""


class MessageGone(Exception):
    """The message to edit was deleted."""


class Rejected(Exception):
    """Discord refused the request itself (a 4xx other than the above): sending it again will not help."""


TRANSIENT = (discord.DiscordServerError, aiohttp.ClientError, OSError, TimeoutError)


class Poster(Protocol):
    async def post(self, channel_id: int, embeds: list[EmbedJSON], nonce: str) -> int: ...

    async def edit(self, channel_id: int, message_id: int, embeds: list[EmbedJSON]) -> None: ...


def embed_chars(embed: EmbedJSON) -> int:
    """What Discord counts against the 6000 characters of one message."""
    fields = embed.get("fields", [])
    return (
        len(embed.get("title", ""))
        + len(embed.get("description", ""))
        + len(embed.get("footer", {}).get("text", ""))
        + len(embed.get("author", {}).get("name", ""))
        + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
    )


class DiscordPoster:
    """Sends through discord.py without needing the channel in the cache; mentions always disabled."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, channel_id: int, embeds: list[EmbedJSON], nonce: str) -> int:
        channel = self._client.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                embeds=[discord.Embed.from_dict(embed) for embed in embeds],
                nonce=nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"{exc.status} {exc.text or exc}") from exc
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            raise Rejected(f"{exc.status} {exc.text or exc}") from exc
        return message.id

    async def edit(self, channel_id: int, message_id: int, embeds: list[EmbedJSON]) -> None:
        message = self._client.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                embeds=[discord.Embed.from_dict(embed) for embed in embeds],
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.NotFound as exc:
            if exc.code == 10008:
                raise MessageGone(str(exc)) from exc
            raise ChannelUnavailable(f"{exc.status} {exc.text or exc}") from exc
        except discord.Forbidden as exc:
            raise ChannelUnavailable(f"{exc.status} {exc.text or exc}") from exc
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            raise Rejected(f"{exc.status} {exc.text or exc}") from exc


@dataclass
class StandaloneItem:
    row_id: int
    embed: EmbedJSON
    batch_id: int | None = None


@dataclass
class RunMessage:
    """The live message of one run in one channel."""

    run: Run
    channel_id: int
    message_id: int | None = None
    written_version: int = 0
    last_write: float = -math.inf
    reposts: int = 0
    queued: bool = False
    queued_at: float = 0.0

    @property
    def behind(self) -> bool:
        return self.written_version < self.run.version

    @property
    def nonce(self) -> str:
        return f"kgsm-r{self.run.id}c{self.channel_id % 1_000_000}n{self.reposts}"


@dataclass
class DeliveryStats:
    messages_posted: int = 0
    messages_edited: int = 0
    embeds_posted: int = 0
    retries: int = 0
    failed: int = 0
    unavailable_channels: set[int] = field(default_factory=set)


@dataclass
class Lane:
    channel_id: int
    queue: deque[StandaloneItem | RunMessage] = field(default_factory=deque)
    live: dict[int, RunMessage] = field(default_factory=dict)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    last_post: float = -math.inf
    in_flight: bool = False
    worker: asyncio.Task[None] | None = None


class Deliverer:
    # Nagle-like batching: a quiet channel gets its first message at once; while it is busy (a message in
    # the last `busy_window` seconds), standalone embeds wait up to `linger` seconds to go out together.
    busy_window = 2.0
    linger = 1.0
    edit_interval = 2.0
    # The first message of an operation waits this long for more of its steps (KGSM sends a backup's three
    # within a second): one POST instead of a POST and an edit. Its final state never waits.
    run_linger = 1.0

    def __init__(
        self,
        poster: Poster,
        outbox: Outbox,
        render_run: Callable[[Run], EmbedJSON],
        wait_ready: Callable[[], Awaitable[object]],
        default_channel_id: int | None,
    ) -> None:
        self.poster = poster
        self.outbox = outbox
        self.pacer = Pacer()
        self._render_run = render_run
        self._wait_ready = wait_ready
        self._default_channel_id = default_channel_id
        self._lanes: dict[int, Lane] = {}
        self._progress = asyncio.Condition()
        self.stats = DeliveryStats()

    # ------------------------------------------------------------------------------------------ intake

    def _lane(self, channel_id: int) -> Lane:
        lane = self._lanes.get(channel_id)
        if lane is None:
            lane = self._lanes[channel_id] = Lane(channel_id)
            lane.worker = asyncio.create_task(self._work(lane), name=f"deliver-{channel_id}")
        return lane

    def queue_standalone(self, channel_id: int, item: StandaloneItem) -> None:
        lane = self._lane(channel_id)
        lane.queue.append(item)
        lane.wakeup.set()

    def touch_run(self, message: RunMessage) -> None:
        """A run changed: post its message if it has none yet, else edit it (coalesced)."""
        lane = self._lane(message.channel_id)
        if message.message_id is None:
            if not message.queued:
                message.queued = True
                message.queued_at = time.monotonic()
                lane.queue.append(message)
        else:
            lane.live[message.run.id] = message
        lane.wakeup.set()

    @property
    def pending(self) -> int:
        """Messages waiting to be posted or edited."""
        return sum(
            len(lane.queue) + lane.in_flight + sum(m.behind for m in lane.live.values())
            for lane in self._lanes.values()
        )

    async def drain(self) -> None:
        """Wait until nothing is waiting to be posted or edited."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.pending == 0)

    async def stop(self) -> None:
        await cancel_and_wait(*(lane.worker for lane in self._lanes.values()))

    # ------------------------------------------------------------------------------------------ worker

    async def _work(self, lane: Lane) -> None:
        await self._wait_ready()
        while True:
            action = await self._next_action(lane)
            lane.in_flight = True
            try:
                await self._perform(lane, action)
            finally:
                lane.in_flight = False
            async with self._progress:
                self._progress.notify_all()

    def _due_edit(self, lane: Lane) -> tuple[RunMessage | None, float | None]:
        now = time.monotonic()
        soonest: float | None = None
        for message in list(lane.live.values()):
            if not message.behind:
                if message.run.finished:
                    del lane.live[message.run.id]
                continue
            due = message.last_write + self.edit_interval
            if due <= now:
                return message, None
            soonest = due if soonest is None else min(soonest, due)
        return None, soonest

    async def _next_action(self, lane: Lane) -> RunMessage | list[StandaloneItem] | tuple[str, RunMessage]:
        while True:
            lane.wakeup.clear()
            due, soonest = self._due_edit(lane)
            if due is not None:
                return ("edit", due)
            if lane.queue:
                head = lane.queue[0]
                if isinstance(head, RunMessage):
                    ready_at = head.queued_at + self.run_linger
                    if head.run.finished or ready_at <= time.monotonic():
                        # Still `queued` until it is posted: steps arriving meanwhile become an edit, not a
                        # second post of the same message.
                        lane.queue.popleft()
                        return head
                else:
                    ready_at = self._batch_ready_at(lane)
                    if ready_at <= time.monotonic():
                        return self._take_batch(lane)
                soonest = ready_at if soonest is None else min(soonest, ready_at)
            timeout = None if soonest is None else max(soonest - time.monotonic(), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lane.wakeup.wait(), timeout)

    def _batch_ready_at(self, lane: Lane) -> float:
        """When the standalone embeds at the head should go: now if quiet or full, else after lingering."""
        now = time.monotonic()
        if now - lane.last_post >= self.busy_window:
            return now
        for waiting, item in enumerate(lane.queue, start=1):
            if not isinstance(item, StandaloneItem):
                return now
            if waiting >= MAX_EMBEDS_PER_MESSAGE or item.batch_id is not None:
                return now
        return lane.last_post + self.linger

    @staticmethod
    def _take_batch(lane: Lane) -> list[StandaloneItem]:
        first = lane.queue.popleft()
        assert isinstance(first, StandaloneItem)
        batch = [first]
        chars = embed_chars(first.embed)
        while lane.queue and len(batch) < MAX_EMBEDS_PER_MESSAGE:
            item = lane.queue[0]
            if not isinstance(item, StandaloneItem) or item.batch_id != first.batch_id:
                break
            if first.batch_id is None and chars + embed_chars(item.embed) > MAX_CHARS_PER_MESSAGE:
                break
            lane.queue.popleft()
            chars += embed_chars(item.embed)
            batch.append(item)
        return batch

    async def _perform(self, lane: Lane, action: RunMessage | list[StandaloneItem] | tuple[str, RunMessage]) -> None:
        try:
            await self._attempt(lane, action)
        finally:
            if isinstance(action, RunMessage) and action.message_id is not None:
                action.queued = False

    async def _attempt(self, lane: Lane, action: RunMessage | list[StandaloneItem] | tuple[str, RunMessage]) -> None:
        delay = FIRST_RETRY_DELAY
        outage_logged = False
        while True:
            await self.pacer.acquire(lane.channel_id)
            try:
                if isinstance(action, list):
                    await self._post_batch(lane, action)
                elif isinstance(action, RunMessage):
                    await self._post_run(lane, action)
                else:
                    await self._edit_run(lane, action[1])
            except ChannelUnavailable as exc:
                await self._channel_failed(lane, action, str(exc))
                return
            except Rejected as exc:
                log.error("Discord refused a message for channel %s: %s", lane.channel_id, exc)
                await self._fail(action, str(exc))
                return
            except MessageGone:
                message = action[1] if isinstance(action, tuple) else action
                assert isinstance(message, RunMessage)
                log.info(
                    "the live message of run %s in channel %s was deleted; posting it again",
                    message.run.id,
                    lane.channel_id,
                )
                lane.live.pop(message.run.id, None)
                message.message_id = None
                message.reposts += 1
                message.queued = True
                lane.queue.appendleft(message)
                return
            except TRANSIENT as exc:
                self.stats.retries += 1
                reason = f"{exc.__class__.__name__}: {exc}"[:200]
                if not outage_logged:
                    log.warning(
                        "posting to channel %s failed (%s); retrying with backoff until it works",
                        lane.channel_id,
                        reason,
                    )
                    outage_logged = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            if outage_logged:
                log.info("channel %s accepts messages again", lane.channel_id)
            if lane.channel_id in self.stats.unavailable_channels:
                self.stats.unavailable_channels.discard(lane.channel_id)
                log.info("channel %s accepts messages again", lane.channel_id)
            return

    async def _post_batch(self, lane: Lane, batch: list[StandaloneItem]) -> None:
        row_ids = [item.row_id for item in batch]
        if batch[0].batch_id is None:
            batch_id = await self.outbox.assign_batch(row_ids)
            for item in batch:
                item.batch_id = batch_id
        message_id = await self.poster.post(
            lane.channel_id, [item.embed for item in batch], f"kgsm-b{batch[0].batch_id}"
        )
        lane.last_post = time.monotonic()
        self.stats.messages_posted += 1
        self.stats.embeds_posted += len(batch)
        await self.outbox.mark_sent(row_ids, message_id)

    async def _post_run(self, lane: Lane, message: RunMessage) -> None:
        version = message.run.version
        message_id = await self.poster.post(lane.channel_id, [self._render_run(message.run)], message.nonce)
        lane.last_post = message.last_write = time.monotonic()
        self.stats.messages_posted += 1
        self.stats.embeds_posted += 1
        message.message_id = message_id
        message.written_version = version
        lane.live[message.run.id] = message
        await self.outbox.run_message_written(message.run.id, lane.channel_id, message_id, version)

    async def _edit_run(self, lane: Lane, message: RunMessage) -> None:
        assert message.message_id is not None
        version = message.run.version
        await self.poster.edit(lane.channel_id, message.message_id, [self._render_run(message.run)])
        message.last_write = time.monotonic()
        message.written_version = version
        self.stats.messages_edited += 1
        await self.outbox.run_message_written(message.run.id, lane.channel_id, message.message_id, version)

    async def _fail(self, action: RunMessage | list[StandaloneItem] | tuple[str, RunMessage], reason: str) -> None:
        self.stats.failed += 1
        if isinstance(action, list):
            await self.outbox.mark_failed([item.row_id for item in action], reason)
        else:
            message = action[1] if isinstance(action, tuple) else action
            await self.outbox.run_message_failed(message.run.id, message.channel_id, reason)

    async def _channel_failed(
        self, lane: Lane, action: RunMessage | list[StandaloneItem] | tuple[str, RunMessage], reason: str
    ) -> None:
        await self._fail(action, reason)
        if isinstance(action, tuple):
            lane.live.pop(action[1].run.id, None)
        if lane.channel_id in self.stats.unavailable_channels:
            return
        self.stats.unavailable_channels.add(lane.channel_id)
        log.error(
            "cannot post in channel %s (%s): check that it exists and that the bot may view it, send messages "
            "and embed links there; its events are marked failed until then (said once)",
            lane.channel_id,
            reason,
        )
        if self._default_channel_id != lane.channel_id:
            await self.notice(
                "⚠️ A notification channel is not usable",
                f"The bot cannot post in <#{lane.channel_id}> (`{reason[:200]}`). Check that the channel exists "
                "and that the bot may send messages and embed links there.",
            )

    async def notice(self, title: str, description: str) -> None:
        """A message from the bot itself to the default channel (recorded in the outbox like any other)."""
        channel_id = self._default_channel_id
        if channel_id is None:
            return
        embed: EmbedJSON = {"title": title, "description": description, "color": 0xE67E22}
        row_id = await self.outbox.add_standalone(None, channel_id, embed)
        await self.outbox.commit()
        if row_id is not None:
            self.queue_standalone(channel_id, StandaloneItem(row_id, embed))

    # ------------------------------------------------------------------------------------------ direct

    async def send_paced(
        self, channel_id: int, embeds: list[EmbedJSON], *, nonce: str | None = None, message_id: int | None = None
    ) -> int:
        """Post (or edit `message_id`) outside the outbox, for messages the bot keeps up to date itself
        (the status board): paced like everything else and retried through outages."""
        delay = FIRST_RETRY_DELAY
        while True:
            await self.pacer.acquire(channel_id)
            try:
                if message_id is None:
                    posted = await self.poster.post(channel_id, embeds, nonce or f"kgsm-x{time.time_ns() % 10**15}")
                    self.stats.messages_posted += 1
                    return posted
                await self.poster.edit(channel_id, message_id, embeds)
                self.stats.messages_edited += 1
                return message_id
            except TRANSIENT:
                self.stats.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
