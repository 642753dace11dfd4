"""What the journal followers hand their lines to in the relay: each event forwarded, in order, before the next.

A follower takes the lines of its journal one after another and moves its cursor only once `take` has said
every one of them is safe, so `take` returns only when the central bot acknowledged the event (or refused it
for good). Lines that are no KGSM event are refused here, as the bot's own intake would refuse them, and never
sent. Each follower is its own task: one journal waiting for the central bot does not reorder another's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.events import EventRefused, RefusalReason, decode_event
from bot.relay.central import Central
from bot.runtime.ratelog import COUNT, RateLimitedLog
from bot.sources.journal import REPLAY_SOURCE
from bot.sources.relayed import is_name

log = logging.getLogger(__name__)


@dataclass
class Counts:
    forwarded: int = 0  # acknowledged by the central bot
    duplicates: int = 0  # … of which it had already (an earlier attempt had got through)
    skipped: int = 0  # lines that are no KGSM event, never sent
    refused: int = 0  # events the central bot refused for good
    gaps: int = 0  # journals whose cursor's segment was pruned or truncated


class Forwarder:
    """The followers' `LineSink` in the relay."""

    def __init__(self, central: Central) -> None:
        self._central = central
        self.counts = Counts()
        self._log = RateLimitedLog(log)

    async def take(
        self, item: bytes, *, source: str, peer: object, producer: str | None = None
    ) -> asyncio.Future[bool] | None:
        try:
            decode_event(item, source=source, producer=producer)
        except EventRefused as refusal:
            self.refuse(refusal.reason, refusal.detail, source=source, peer=peer)
            return None
        name = producer if is_name(producer) else None
        delivery = await self._central.deliver(item, producer=name, replay=source == REPLAY_SOURCE)
        if delivery.acknowledged:
            self.counts.forwarded += 1
            self.counts.duplicates += delivery.duplicate
        else:
            self.counts.refused += 1
            self._log.log(
                ("refused", peer),
                logging.WARNING,
                "relay: the central bot refused an event of %s for good (%s); skipped, the journal goes on",
                peer,
                delivery.detail,
                summary=f"relay: the central bot refused {COUNT} more events of {peer} for good",
            )
        done = asyncio.get_running_loop().create_future()
        done.set_result(delivery.acknowledged)
        return done

    def refuse(self, reason: RefusalReason, detail: str, *, source: str, peer: object) -> None:
        self.counts.skipped += 1
        self._log.log(
            ("skipped", reason),
            logging.WARNING,
            "relay: skipped a line of %s that is no KGSM event (%s: %s)",
            peer,
            reason,
            detail,
            summary=f"relay: skipped {COUNT} more lines as {reason}",
        )

    async def gap(self, message: str) -> None:
        """A journal's cursor named a pruned or truncated segment (the follower has logged it)."""
        self.counts.gaps += 1
