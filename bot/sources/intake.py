"""The common entrance for every source: decode, parse, count, log refusals (rate-limited), hand events on.

Bad input must never hold up good input: refusals are logged through one `RateLimitedLog` (one line per source
and reason a minute, then a summary with the count), and a stream is split a slice at a time, with the event loop
given a turn after every slice and every `YIELD_EVERY` items, so a megabyte of junk in one connection does not
stop the other connections, the journals or Discord for as long as it takes to refuse it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from bot.events import Event, EventRefused, RefusalReason, decode_event, parse_event
from bot.events.framing import DocumentSplitter, Junk
from bot.events.parsing import could_nest_deeply, may_hold_surrogates
from bot.runtime import jsontext
from bot.runtime.ratelog import COUNT, DEFAULT_INTERVAL, RateLimitedLog
from bot.runtime.turns import pause_every
from bot.sources.stats import IntakeStats

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """Where accepted events go (the recorder)."""

    async def submit(self, event: Event) -> asyncio.Future[bool]:
        """Queue the event, waiting while the queue is full; the future says, once it is stored, whether it was
        new."""

    def offer(self, event: Event) -> bool:
        """Queue the event now if there is room, without a future (for the socket, which waits for nothing);
        False when the queue is full."""


class _NotOneDocument:
    """A finished stream that is not one JSON document: the splitter must go through it."""


NOT_ONE_DOCUMENT = _NotOneDocument()

FEED_SLICE = 16 * 1024  # bytes split between two turns of the event loop
YIELD_EVERY = 256  # items handed on between two turns of the event loop


class Intake:
    """Turns raw documents from any source into events for `sink`, refusing bad ones with a reason."""

    def __init__(self, sink: EventSink, stats: IntakeStats, *, log_interval: float = DEFAULT_INTERVAL) -> None:
        self._sink = sink
        self.stats = stats
        self.refusals = RateLimitedLog(log, log_interval)

    async def take(
        self, item: bytes | Junk, *, source: str, peer: object, producer: str | None = None
    ) -> asyncio.Future[bool] | None:
        """Accept one document (or refuse junk). Returns the sink's stored-future, None when refused.

        Sources that must not lose an event before it is stored (the journal cursor, the webhook's 2xx)
        await that future; the socket does not need to.
        """
        if isinstance(item, Junk):
            self.refuse(item.reason, item.detail, source=source, peer=peer, count=item.count)
            return None
        try:
            event = decode_event(item, source=source, producer=producer)
        except EventRefused as refusal:
            self.refuse(refusal.reason, refusal.detail, source=source, peer=peer)
            return None
        return await self.accept(event, peer)

    async def accept(self, event: Event, peer: object) -> asyncio.Future[bool] | None:
        """Hand on an event a source has decoded (and checked) itself; returns the sink's stored-future."""
        self._accepted(event, peer)
        return await self._sink.submit(event)

    def _accepted(self, event: Event, peer: object) -> None:
        self.stats.count_accepted(event.producer_version)
        if log.isEnabledFor(logging.DEBUG):  # `subject` is worked out only for the debug line
            log.debug("accepted %s for %s from %s", event.type, event.subject, peer)

    async def take_all(self, data: bytes, *, source: str, peer: object) -> None:
        """Every document in a finished stream (a connection read to its end)."""
        event = self._whole(data, source=source, peer=peer)
        if event is NOT_ONE_DOCUMENT:
            await self.take_split(data, DocumentSplitter(), source=source, peer=peer, finish=True)
        elif isinstance(event, Event):
            await self.accept(event, peer)

    def take_at_once(self, data: bytes, *, source: str, peer: object) -> bool:
        """`take_all` without waiting, in the common case: a stream of one document, and room in the queue.

        False when that is not the case (several documents or bad input need the splitter, which takes turns;
        the queue is full and the source must wait): the caller then uses `take_all`.
        """
        event = self._whole(data, source=source, peer=peer)
        if event is NOT_ONE_DOCUMENT:
            return False
        if isinstance(event, Event):
            if not self._sink.offer(event):
                return False
            self._accepted(event, peer)
        return True

    def _whole(self, data: bytes, *, source: str, peer: object) -> Event | _NotOneDocument | None:
        """The stream as one event (None: refused, with its reason), or `NOT_ONE_DOCUMENT`.

        Almost always it holds exactly one document; decoding it whole is much cheaper than splitting it,
        and only when that fails (several documents, or bad input) does the splitter go through it.
        """
        try:
            document = jsontext.loads(data)
        except (ValueError, RecursionError):
            return NOT_ONE_DOCUMENT
        try:
            return parse_event(
                document, source=source, shallow=not could_nest_deeply(data), clean=may_hold_surrogates(data)
            )
        except EventRefused as refusal:
            self.refuse(refusal.reason, refusal.detail, source=source, peer=peer)
            return None

    async def take_split(
        self, data: bytes, splitter: DocumentSplitter, *, source: str, peer: object, finish: bool = False
    ) -> None:
        """Feed `data` to `splitter` and take every item it completes (and, with `finish`, what is left at EOF).

        Split `FEED_SLICE` bytes at a time, with a turn for the rest of the bot after each slice.
        """
        for start in range(0, len(data), FEED_SLICE):
            await self._take_items(splitter.feed(data[start : start + FEED_SLICE]), source=source, peer=peer)
            await asyncio.sleep(0)
        if finish:
            await self._take_items(splitter.finish(), source=source, peer=peer)

    async def _take_items(self, items: Iterable[bytes | Junk], *, source: str, peer: object) -> None:
        for count, item in enumerate(items, start=1):
            await self.take(item, source=source, peer=peer)
            await pause_every(count, YIELD_EVERY)

    def refuse(self, reason: RefusalReason, detail: str, *, source: str, peer: object, count: int = 1) -> None:
        """Count `count` refused inputs; log the first of each source and reason per interval, summarise the rest."""
        self.stats.count_refused(reason, count)
        self.refusals.log(
            ("refused", source, reason),
            logging.WARNING,
            "refused input from %s %s (%s): %s",
            source,
            peer,
            reason,
            detail,
            summary=f"refused {COUNT} more inputs as {reason} from {source}",
            count=count,
        )
