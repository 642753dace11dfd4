"""What waits in a delivery lane: standalone embeds and pings, live run messages, their edits, and the lane."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass, field

from bot.delivery.outbox import Ping
from bot.delivery.poster import EmbedJSON
from bot.events.runs import Run


@dataclass
class StandaloneItem:
    """A standalone embed, or an alert ping (`ping`, always a message of its own)."""

    row_id: int
    embed: EmbedJSON
    batch_id: int | None = None
    ping: Ping | None = None


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
    pings_posted: int = 0
    threads_opened: int = 0
    threads_refused: int = 0
    retries: int = 0
    failed: int = 0
    unavailable_channels: set[int] = field(default_factory=set)


@dataclass
class Edit:
    """Write a live message's newest state."""

    message: RunMessage


Action = list[StandaloneItem] | RunMessage | Edit


@dataclass
class Lane:
    channel_id: int
    queue: deque[StandaloneItem | RunMessage] = field(default_factory=deque)
    live: dict[int, RunMessage] = field(default_factory=dict)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    last_post: float = -math.inf
    in_flight: bool = False

    @property
    def task_name(self) -> str:
        return f"deliver-{self.channel_id}"

    def put_back(self, action: Action) -> None:
        """An action interrupted by an unexpected error goes first again when the worker restarts."""
        if isinstance(action, list):
            self.queue.extendleft(reversed(action))
        elif isinstance(action, RunMessage):
            self.queue.appendleft(action)
        # an Edit needs nothing: its message is still behind in `live`
