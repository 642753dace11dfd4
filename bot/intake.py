"""The common entrance for every source: decode, parse, count, log refusals once, hand events on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from bot.events import Event, EventRefused, RefusalReason, decode_event, parse_event
from bot.events.framing import DocumentSplitter, Junk
from bot.events.parsing import could_nest_deeply, may_hold_surrogates
from bot.stats import IntakeStats

log = logging.getLogger(__name__)

# The sink queues the event and returns a future that says, once it is stored, whether it was new.
EventSink = Callable[[Event], Awaitable["asyncio.Future[bool] | None"]]


class Intake:
    """Turns raw documents from any source into events for `sink`, refusing bad ones with a reason."""

    def __init__(self, sink: EventSink, stats: IntakeStats) -> None:
        self._sink = sink
        self.stats = stats

    async def take(
        self, item: bytes | Junk, *, source: str, peer: object, producer: str | None = None
    ) -> asyncio.Future[bool] | None:
        """Accept one document (or refuse junk). Returns the sink's stored-future, None when refused.

        Sources that must not lose an event before it is stored (the journal cursor, the webhook's 2xx)
        await that future; the socket does not need to.
        """
        if isinstance(item, Junk):
            self.refuse(item.reason, item.detail, source=source, peer=peer)
            return None
        try:
            event = decode_event(item, source=source, producer=producer)
        except EventRefused as refusal:
            self.refuse(refusal.reason, refusal.detail, source=source, peer=peer)
            return None
        return await self.accept(event, peer)

    async def accept(self, event: Event, peer: object) -> asyncio.Future[bool] | None:
        """Hand on an event a source has decoded (and checked) itself; returns the sink's stored-future."""
        self.stats.count_accepted(event.producer_version)
        log.debug("accepted %s for %s from %s", event.type, event.subject, peer)
        return await self._sink(event)

    async def take_all(self, data: bytes, *, source: str, peer: object) -> None:
        """Every document in a finished stream (a connection read to its end).

        Almost always it holds exactly one document; decoding it whole is much cheaper than splitting it,
        and only when that fails (several documents, or bad input) does the splitter go through it.
        """
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            splitter = DocumentSplitter()
            for item in [*splitter.feed(data), *splitter.finish()]:
                await self.take(item, source=source, peer=peer)
            return
        try:
            event = parse_event(
                document, source=source, shallow=not could_nest_deeply(data), clean=may_hold_surrogates(data)
            )
        except EventRefused as refusal:
            self.refuse(refusal.reason, refusal.detail, source=source, peer=peer)
            return
        await self.accept(event, peer)

    def refuse(self, reason: RefusalReason, detail: str, *, source: str, peer: object) -> None:
        self.stats.count_refused(reason)
        log.warning("refused input from %s %s (%s): %s", source, peer, reason, detail)
