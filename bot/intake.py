"""The common entrance for every source: decode, parse, count, log refusals once, hand events on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.events import Event, EventRefused, RefusalReason, decode_event
from bot.framing import Junk
from bot.stats import IntakeStats

log = logging.getLogger(__name__)

# The sink queues the event and returns a future that says, once it is stored, whether it was new.
EventSink = Callable[[Event], Awaitable["asyncio.Future[bool] | None"]]


class Intake:
    """Turns raw documents from any source into events for `sink`, refusing bad ones with a reason."""

    def __init__(self, sink: EventSink, stats: IntakeStats) -> None:
        self._sink = sink
        self.stats = stats

    async def take(self, item: bytes | Junk, *, source: str, peer: str) -> asyncio.Future[bool] | None:
        """Accept one document (or refuse junk). Returns the sink's stored-future, None when refused.

        Sources that must not lose an event before it is stored (the journal cursor, the webhook's 2xx)
        await that future; the socket does not need to.
        """
        if isinstance(item, Junk):
            self.refuse(item.reason, item.detail, source=source, peer=peer)
            return None
        try:
            event = decode_event(item, source=source)
        except EventRefused as refusal:
            self.refuse(refusal.reason, refusal.detail, source=source, peer=peer)
            return None
        self.stats.count_accepted(event.producer_version)
        log.debug("accepted %s for %s from %s", event.type, event.subject, peer)
        return await self._sink(event)

    def refuse(self, reason: RefusalReason, detail: str, *, source: str, peer: str) -> None:
        self.stats.count_refused(reason)
        log.warning("refused input from %s %s (%s): %s", source, peer, reason, detail)
