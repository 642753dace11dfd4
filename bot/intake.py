"""The common entrance for every source: decode, parse, count, log refusals once, hand events on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.events import Event, EventRefused, RefusalReason, decode_event
from bot.framing import Junk
from bot.stats import IntakeStats

log = logging.getLogger(__name__)

EventSink = Callable[[Event], Awaitable[None]]


class Intake:
    """Turns raw documents from any source into events for `sink`, refusing bad ones with a reason."""

    def __init__(self, sink: EventSink, stats: IntakeStats) -> None:
        self._sink = sink
        self.stats = stats

    async def take(self, item: bytes | Junk, *, source: str, peer: str) -> Event | None:
        """Accept one document (or refuse junk). Returns the event handed on, if any."""
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
        await self._sink(event)
        return event

    def refuse(self, reason: RefusalReason, detail: str, *, source: str, peer: str) -> None:
        self.stats.count_refused(reason)
        log.warning("refused input from %s %s (%s): %s", source, peer, reason, detail)
