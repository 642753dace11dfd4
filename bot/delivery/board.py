"""The status board: one message listing every server, edited in place (never a renamed channel).

Renaming channels to show status hits Discord's limit of 2 renames per 10 minutes; one embed edited at
most every `interval` seconds does not. Its message is posted once, across any restart: the nonce of a post
is saved before the post and used again until the message id the post returned is saved, so a crash between
the two makes Discord hand back the same message instead of a second one. If someone deletes the message,
the next update posts it again (once) and remembers the new id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

import discord

from bot.delivery.lanes import Deliverer
from bot.delivery.poster import ChannelUnavailable, MessageGone, Rejected, embed_json
from bot.store.database import Store
from bot.store.state import InstanceState, StateBook

log = logging.getLogger(__name__)

MESSAGE_FACT = "status_board_message"
NONCE_FACT = "status_board_nonce"  # the post under way: kept until its message id is saved


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
        self.writes = 0

    def changed(self) -> None:
        self._changed.set()

    async def run(self) -> None:
        """The board's loop (run by the supervisor)."""
        await self._wait_ready()
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await self._write()
            except (ChannelUnavailable, Rejected) as exc:
                log.error("cannot update the status board in channel %s: %s", self.channel_id, exc)
            except BaseException:
                self._changed.set()  # whatever interrupted this write, the board is still to be written
                raise
            await asyncio.sleep(self.interval)

    async def _write(self) -> None:
        embed = self._render(self._states.all())
        embed.set_footer(text="Updated")
        embed.timestamp = discord.utils.utcnow()
        stored = await self._store.get_fact(MESSAGE_FACT)
        if stored is not None:
            try:
                await self._deliverer.send_paced(self.channel_id, [embed_json(embed)], nonce="", message_id=int(stored))
                self.writes += 1
                return
            except MessageGone:
                log.info("the status board message was deleted; posting it again")
                await self._store.set_fact(NONCE_FACT, self._new_nonce())
        nonce = await self._store.get_fact(NONCE_FACT)
        if nonce is None:
            nonce = self._new_nonce()
            await self._store.set_fact(NONCE_FACT, nonce)
        message_id = await self._deliverer.send_paced(self.channel_id, [embed_json(embed)], nonce=nonce)
        await self._store.set_fact(MESSAGE_FACT, str(message_id))
        self.writes += 1

    def _new_nonce(self) -> str:
        return f"kgsm-board{self.channel_id % 10**6}{secrets.token_hex(4)}"
