"""The one way out to Discord: per-channel lanes that post, batch and edit, paced, retried, never twice.

Each channel has a lane with its own worker (supervised: an unexpected error restarts it with the work it
held), so a slow or broken channel delays no other. A lane sends, in order: standalone embeds (several
waiting ones go out together, up to 10 per message; an alert ping always alone), the first message of each
operation run or crash incident (its buttons too), and edits of live run messages, at most one per
`edit_interval` per message (the final state is always written). Every send carries a nonce that Discord
enforces and is marked done in the outbox only after Discord accepted it, so a crash or an outage of any
length neither loses nor doubles a message. Rate limits are discord.py's: it
reads Discord's bucket headers and waits before a request would be refused; the lanes add what it lacks,
batching and a channel that cannot hold up another.
Whatever Discord says that will work later (429, 5xx, no network: `bot.poster`) is retried with backoff
without limit of time, and so is a database that cannot be written; a channel that is gone or forbidden
fails its deliveries with the reason and is reported once, in the log and in the default channel. A message
Discord refuses (an invalid body) fails alone, said once per reason: its batch goes again embed by embed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.delivery.messages import Action, DeliveryStats, Edit, Lane, RunMessage, StandaloneItem
from bot.delivery.outbox import Outbox
from bot.delivery.poster import (
    TRANSIENT,
    Buttons,
    ChannelUnavailable,
    EmbedJSON,
    MessageGone,
    Poster,
    Rejected,
    RetryLater,
    embed_chars,
)
from bot.delivery.threads import IncidentThreads
from bot.events.runs import Run
from bot.render.palette import ORANGE
from bot.runtime.retry import Backoff, retrying
from bot.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0
MAX_EMBEDS_PER_MESSAGE = 10
MAX_CHARS_PER_MESSAGE = 6000
T = TypeVar("T")


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
        render_run: Callable[[Run], tuple[EmbedJSON, Buttons]],
        wait_ready: Callable[[], Awaitable[object]],
        default_channel_id: int | None,
        supervisor: Supervisor,
        incident_threads: bool = False,
    ) -> None:
        self.poster = poster
        self.outbox = outbox
        self._render_run = render_run
        self._wait_ready = wait_ready
        self._default_channel_id = default_channel_id
        self._lanes: dict[int, Lane] = {}
        self._progress = asyncio.Condition()
        self._supervisor = supervisor
        self.stats = DeliveryStats()
        self._rejections_reported: set[tuple[int, str]] = set()
        self._threads = IncidentThreads(poster, self.stats) if incident_threads else None

    # ------------------------------------------------------------------------------------------ intake

    def _lane(self, channel_id: int) -> Lane:
        lane = self._lanes.get(channel_id)
        if lane is None:
            lane = self._lanes[channel_id] = Lane(channel_id)
            self._supervisor.run(lane.task_name, functools.partial(self._work, lane))
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
        for lane in self._lanes.values():
            await self._supervisor.stop(lane.task_name)

    # ------------------------------------------------------------------------------------------ worker

    async def _work(self, lane: Lane) -> None:
        await self._wait_ready()
        while True:
            action = await self._next_action(lane)
            lane.in_flight = True
            try:
                await self._perform(lane, action)
            except Exception:
                lane.put_back(action)
                raise
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

    async def _next_action(self, lane: Lane) -> Action:
        while True:
            lane.wakeup.clear()
            due, soonest = self._due_edit(lane)
            if due is not None:
                return Edit(due)
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
            if waiting >= MAX_EMBEDS_PER_MESSAGE or item.batch_id is not None or item.ping is not None:
                return now
        return lane.last_post + self.linger

    @staticmethod
    def _take_batch(lane: Lane) -> list[StandaloneItem]:
        first = lane.queue.popleft()
        assert isinstance(first, StandaloneItem)
        batch = [first]
        chars = embed_chars(first.embed)
        while first.ping is None and lane.queue and len(batch) < MAX_EMBEDS_PER_MESSAGE:  # a ping goes alone
            item = lane.queue[0]
            if not isinstance(item, StandaloneItem) or item.batch_id != first.batch_id or item.ping is not None:
                break
            if first.batch_id is None and chars + embed_chars(item.embed) > MAX_CHARS_PER_MESSAGE:
                break
            lane.queue.popleft()
            chars += embed_chars(item.embed)
            batch.append(item)
        return batch

    async def _perform(self, lane: Lane, action: Action) -> None:
        try:
            if isinstance(action, list):
                await self._post_batch(lane, action)
            elif isinstance(action, RunMessage):
                await self._post_run(lane, action)
            else:
                await self._edit_run(lane, action.message)
        except ChannelUnavailable as exc:
            await self._channel_failed(lane, action, str(exc))
        except Rejected as exc:
            if isinstance(action, list) and len(action) > 1:
                await self._split(lane, action)
            else:
                self._report_rejection(lane.channel_id, str(exc))
                await self._fail(action, str(exc))
        except MessageGone:
            message = action.message if isinstance(action, Edit) else action
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
        else:
            if lane.channel_id in self.stats.unavailable_channels:
                self.stats.unavailable_channels.discard(lane.channel_id)
                log.info("channel %s accepts messages again", lane.channel_id)
        finally:
            if isinstance(action, RunMessage) and action.message_id is not None:
                action.queued = False

    async def _discord(self, channel_id: int, request: Callable[[], Awaitable[T]]) -> T:
        """One request to Discord, tried again until Discord takes it or refuses it for good."""
        outage: list[str] = []

        def on_retry(error: BaseException) -> float | None:
            self.stats.retries += 1
            if not outage:
                outage.append(f"{type(error).__name__}: {error}"[:200])
                log.warning(
                    "posting to channel %s failed (%s); retrying with backoff until it works", channel_id, outage[0]
                )
            return error.retry_after if isinstance(error, RetryLater) else None

        result = await retrying(
            request, TRANSIENT, backoff=Backoff(FIRST_RETRY_DELAY, MAX_RETRY_DELAY), on_retry=on_retry
        )
        if outage:
            log.info("channel %s accepts messages again", channel_id)
        return result

    async def _stored(self, write: Callable[[], Awaitable[T]]) -> T:
        """One outbox write, tried again while the database cannot be written (the store says why, once)."""
        return await retrying(write, (sqlite3.Error,), backoff=Backoff(0.5, 10.0))

    def _report_rejection(self, channel_id: int, reason: str) -> None:
        key = (channel_id, reason.split(" ", 2)[:2][-1] if reason else "")
        if key not in self._rejections_reported:
            self._rejections_reported.add(key)
            log.error("Discord refused a message for channel %s: %s (said once per reason)", channel_id, reason)

    async def _post_batch(self, lane: Lane, batch: list[StandaloneItem]) -> None:
        row_ids = [item.row_id for item in batch]
        if batch[0].batch_id is None:
            batch_id = await self._stored(lambda: self.outbox.assign_batch(row_ids))
            for item in batch:
                item.batch_id = batch_id
        embeds, nonce, ping = [item.embed for item in batch], f"kgsm-b{batch[0].batch_id}", batch[0].ping
        if ping is not None:
            message_id = await self._discord(
                lane.channel_id, lambda: self.poster.ping(lane.channel_id, ping.content, ping.role_id, nonce)
            )
            self.stats.pings_posted += 1
        else:
            message_id = await self._discord(lane.channel_id, lambda: self.poster.post(lane.channel_id, embeds, nonce))
            self.stats.embeds_posted += len(batch)
        lane.last_post = time.monotonic()
        self.stats.messages_posted += 1
        await self._stored(lambda: self.outbox.mark_sent(row_ids, message_id))

    async def _split(self, lane: Lane, batch: list[StandaloneItem]) -> None:
        """Discord refused a message of several embeds: each goes again alone (its own batch, also after a
        restart), so only the embed Discord refuses fails, not the ones that shared its message."""
        for item in batch:
            item.batch_id = await self._stored(functools.partial(self.outbox.assign_batch, [item.row_id]))
        lane.queue.extendleft(reversed(batch))

    async def _post_run(self, lane: Lane, message: RunMessage) -> None:
        version = message.run.version
        embed, buttons = self._render_run(message.run)
        message_id = await self._discord(
            lane.channel_id, lambda: self.poster.post(lane.channel_id, [embed], message.nonce, buttons)
        )
        lane.last_post = message.last_write = time.monotonic()
        self.stats.messages_posted += 1
        self.stats.embeds_posted += 1
        message.message_id = message_id
        message.written_version = version
        lane.live[message.run.id] = message
        await self._stored(
            lambda: self.outbox.run_message_written(message.run.id, lane.channel_id, message_id, version)
        )
        if self._threads is not None and message.run.kind.incident and not message.reposts:
            await self._threads.open(message.run, lane.channel_id, message_id)

    async def _edit_run(self, lane: Lane, message: RunMessage) -> None:
        message_id = message.message_id
        assert message_id is not None
        version = message.run.version
        embed, buttons = self._render_run(message.run)
        await self._discord(lane.channel_id, lambda: self.poster.edit(lane.channel_id, message_id, [embed], buttons))
        message.last_write = time.monotonic()
        message.written_version = version
        self.stats.messages_edited += 1
        await self._stored(
            lambda: self.outbox.run_message_written(message.run.id, lane.channel_id, message_id, version)
        )

    async def _fail(self, action: Action, reason: str) -> None:
        self.stats.failed += 1
        if isinstance(action, list):
            row_ids = [item.row_id for item in action]
            await self._stored(lambda: self.outbox.mark_failed(row_ids, reason))
        else:
            message = action.message if isinstance(action, Edit) else action
            await self._stored(lambda: self.outbox.run_message_failed(message.run.id, message.channel_id, reason))

    async def _channel_failed(self, lane: Lane, action: Action, reason: str) -> None:
        await self._fail(action, reason)
        if isinstance(action, Edit):
            lane.live.pop(action.message.run.id, None)
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
        if self._default_channel_id is not None:
            embed: EmbedJSON = {"title": title, "description": description, "color": ORANGE.value}
            await self.post_once(None, self._default_channel_id, embed)

    async def post_once(self, key: str | None, channel_id: int, embed: EmbedJSON) -> bool:
        """Record and post `embed`; with a `key` (the daily digest's `digest:YYYY-MM-DD`) only if no message of
        that key was recorded for the channel before: once, across restarts. Whether it was new."""
        row_id = await self._stored(lambda: self.outbox.add_standalone(key, channel_id, embed))
        if row_id is None:
            return False
        self.queue_standalone(channel_id, StandaloneItem(row_id, embed))
        return True

    # ------------------------------------------------------------------------------------------ direct

    async def send_paced(
        self, channel_id: int, embeds: list[EmbedJSON], *, nonce: str, message_id: int | None = None
    ) -> int:
        """Post (or edit `message_id`) outside the outbox, for messages the bot keeps up to date itself
        (the status board): paced like everything else and retried through outages."""
        if message_id is None:
            posted = await self._discord(channel_id, lambda: self.poster.post(channel_id, embeds, nonce))
            self.stats.messages_posted += 1
            return posted
        await self._discord(channel_id, lambda: self.poster.edit(channel_id, message_id, embeds))
        self.stats.messages_edited += 1
        return message_id
