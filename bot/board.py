"""The status board: one message listing every server, edited in place (never a renamed channel).

Renaming channels to show status hits Discord's limit of 2 renames per 10 minutes; one embed edited at
most every `interval` seconds does not. Its message id is kept in the store; if someone deletes the message,
the next update posts it again (once) and remembers the new id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord

from bot.delivery import ChannelUnavailable, Deliverer, MessageGone, Rejected, embed_json
from bot.state import InstanceState, StateBook
from bot.store import Store
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

MESSAGE_FACT = "status_board_message"
POSTS_FACT = "status_board_posts"


class StatusBoard:
    interval = 15.0

    def __init__(
        self,
        channel_id: int,
        deliverer: Deliverer,
        store: Store,
        states: StateBook,
        render: Callable[[list[InstanceState]], discord.Embed],
        wait_ready: Callable[[], Awaitable[object]],
    ) -> None:
        self.channel_id = channel_id
        self._deliverer = deliverer
        self._store = store
        self._states = states
        self._render = render
        self._wait_ready = wait_ready
        self._changed = asyncio.Event()
        self._changed.set()  # show the current state once at start-up
        self._task: asyncio.Task[None] | None = None
        self.writes = 0

    def changed(self) -> None:
        self._changed.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="status-board")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        await self._wait_ready()
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await self._write()
            except (ChannelUnavailable, Rejected) as exc:
                log.error("cannot update the status board in channel %s: %s", self.channel_id, exc)
            await asyncio.sleep(self.interval)

    async def _write(self) -> None:
        embed = self._render(self._states.all())
        embed.set_footer(text="Updated")
        embed.timestamp = discord.utils.utcnow()
        stored = await self._store.get_fact(MESSAGE_FACT)
        if stored is not None:
            try:
                await self._deliverer.send_paced(self.channel_id, [embed_json(embed)], message_id=int(stored))
                self.writes += 1
                return
            except MessageGone:
                log.info("the status board message was deleted; posting it again")
        posts = int(await self._store.get_fact(POSTS_FACT) or 0) + 1
        await self._store.set_fact(POSTS_FACT, str(posts))
        message_id = await self._deliverer.send_paced(
            self.channel_id, [embed_json(embed)], nonce=f"kgsm-board{self.channel_id % 10**6}n{posts}"
        )
        await self._store.set_fact(MESSAGE_FACT, str(message_id))
        self.writes += 1
