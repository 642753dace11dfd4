"""Store before you act: events are written in batches, then each new one is dispatched, in arrival order.

Sources hand events over without waiting for the disk (they only wait when thousands are queued), so a
burst never stalls the event loop or the sockets; one writer task commits whatever has gathered in one
transaction and only then dispatches the events that were new. A source that must know the event is safely
stored (the webhook answers 2xx only then, the journal advances its cursor only then) awaits the future
that `submit` returns.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from bot.events import Event
from bot.store import Store
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_QUEUED = 1_000  # bounds memory in a burst; sources wait (backpressure) beyond it

Dispatch = Callable[[Event], Awaitable[None]]
AfterBatch = Callable[[], Awaitable[None]]


class Recorder:
    def __init__(self, store: Store, dispatch: Dispatch, after_batch: AfterBatch) -> None:
        self._store = store
        self._dispatch = dispatch
        self._after_batch = after_batch
        self._queue: asyncio.Queue[tuple[Event, asyncio.Future[bool]]] = asyncio.Queue(MAX_QUEUED)
        self._task: asyncio.Task[None] | None = None
        self.duplicates = 0
        self.store_failures = 0

    async def submit(self, event: Event) -> asyncio.Future[bool]:
        """Queue `event`; the future says, once it is stored, whether it was new (False for a duplicate)."""
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, stored))
        return stored

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recorder")

    async def flush(self) -> None:
        """Wait until everything submitted so far is stored and dispatched."""
        await self._queue.join()

    async def stop(self) -> None:
        if self._task is None:
            return
        await self.flush()
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._record(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _record(self, batch: list[tuple[Event, asyncio.Future[bool]]]) -> None:
        events = [event for event, _ in batch]
        try:
            fresh = await self._store.insert_events(events)
        except sqlite3.Error as exc:
            # Never lose a notification because the disk is unhappy: post it, and say so.
            self.store_failures += 1
            log.error("could not store %d events (%s); posting them anyway", len(events), exc)
            fresh = [True] * len(events)
        for (event, stored), is_new in zip(batch, fresh, strict=True):
            if is_new:
                try:
                    await self._dispatch(event)
                except Exception:
                    log.exception("dispatching %s for %s failed", event.type, event.subject)
            else:
                self.duplicates += 1
                log.debug("duplicate event %s (%s) ignored", event.id, event.type)
            if not stored.done():
                stored.set_result(is_new)
        try:
            await self._after_batch()
        except Exception:
            log.exception("finishing a batch of %d events failed", len(batch))
