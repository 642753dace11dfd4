"""Store before you act: events are written in batches, then each new one is dispatched, in arrival order.

Sources hand events over without waiting for the disk (they only wait when `MAX_QUEUED` are waiting), so a
burst never stalls the event loop or the sockets. One writer stores whatever has gathered in one
transaction, marked not yet dispatched; a source that must know its event is safe (the webhook answers 2xx
only then, the journal moves its cursor only then) awaits the future `submit` returns, which is resolved
here, after that commit. Then the new events are dispatched (state, routing, planned deliveries) and their
deliveries committed with the mark that they are dispatched. A crash between the two leaves the events
undispatched, and the next start dispatches them (`redispatch`): a stored event is never left unposted.

When the database cannot be written (a full disk, a read-only mount, a lock held by another program), the
batch is kept and written again with backoff until it works; events keep queueing in memory meanwhile, the
store says once what is wrong, and nothing needs a restart.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from bot.events import Event
from bot.runtime.ratelog import COUNT, RateLimitedLog
from bot.runtime.retry import Backoff, retrying
from bot.runtime.turns import pause_every
from bot.store.database import Store

log = logging.getLogger(__name__)

MAX_BATCH = 500
# While events come in bursts (the last batch held more than one), the writer waits this long for the rest of
# the burst before it writes: a transaction has a fixed cost of about six events' worth (its commit writes a
# page of the table and of every index), so a few large batches cost much less CPU per event than many small
# ones (measured: about 110 µs per event in batches of 24, 65 µs in batches of 64). A lone event (a quiet host)
# is written at once; in a burst, 10 ms more before it is stored is far below what a person or Discord notices.
GATHER = 0.01
# The event loop gets a turn after every DISPATCH_TURN events dispatched, so that a large batch does not hold up
# the sockets (KGSM waits for its connection to be closed) while it is dispatched.
DISPATCH_TURN = 8
MAX_QUEUED = 10_000  # bounds memory in a burst or while the disk is full; sources wait (backpressure) beyond it

Dispatch = Callable[[Event], Awaitable[None]]
AfterBatch = Callable[[], Awaitable[None]]
Submitted = tuple[Event, "asyncio.Future[bool] | None"]  # no future: nobody waits for it to be stored


class Recorder:
    def __init__(self, store: Store, dispatch: Dispatch, after_batch: AfterBatch) -> None:
        self._store = store
        self._dispatch = dispatch
        self._after_batch = after_batch
        self._queue: asyncio.Queue[Submitted] = asyncio.Queue(MAX_QUEUED)
        self._batch: list[Submitted] = []  # taken from the queue, not yet done: survives a restart of `run`
        self._stored = False  # whether `_batch` is stored (only its dispatch is left)
        self._bursting = False  # whether the last batch held more than one event
        self.duplicates = 0
        self._failures = RateLimitedLog(log)  # an input that breaks dispatching must not flood the log

    async def submit(self, event: Event) -> asyncio.Future[bool]:
        """Queue `event`; the future says, once it is stored, whether it was new (False for a duplicate)."""
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, stored))
        return stored

    def offer(self, event: Event) -> bool:
        """Queue `event` now if there is room (for a source that waits for nothing); False when the queue is full."""
        try:
            self._queue.put_nowait((event, None))
        except asyncio.QueueFull:
            return False
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize() + len(self._batch)

    async def flush(self) -> None:
        """Wait until everything submitted so far is stored and dispatched."""
        await self._queue.join()

    async def run(self) -> None:
        """The writer (run by the supervisor; a batch interrupted by an error is finished first on restart)."""
        while True:
            if not self._batch:
                self._batch = [await self._queue.get()]
                if self._bursting:
                    await asyncio.sleep(GATHER)
                while len(self._batch) < MAX_BATCH and not self._queue.empty():
                    self._batch.append(self._queue.get_nowait())
                self._bursting = len(self._batch) > 1
                self._stored = False
            await self._record(self._batch)
            for _ in self._batch:
                self._queue.task_done()
            self._batch = []

    @staticmethod
    async def _until_written(write: Callable[[], Awaitable[object]]) -> None:
        """The store has said what is wrong; try again until it works."""
        await retrying(write, (sqlite3.Error,), backoff=Backoff(first=0.5, ceiling=10.0))

    async def _record(self, batch: list[Submitted]) -> None:
        events = [event for event, _ in batch]
        fresh: list[bool] = []

        async def store() -> None:
            fresh[:] = await self._store.insert_events(events)

        if not self._stored:
            await self._until_written(store)
            self._stored = True
            for (_, future), is_new in zip(batch, fresh, strict=True):
                if future is not None and not future.done():
                    future.set_result(is_new)
            for count, (event, is_new) in enumerate(zip(events, fresh, strict=True), start=1):
                await pause_every(count, DISPATCH_TURN)
                if is_new:
                    self._store.states.reach(event.id)  # its server as it was right after it, while it is posted
                    await self._dispatch_one(event)
                else:
                    self.duplicates += 1
                    log.debug("duplicate event %s (%s) ignored", event.id, event.type)
        await self._until_written(self._after_batch)

    async def _dispatch_one(self, event: Event) -> None:
        try:
            await self._dispatch(event)
        except Exception as error:
            self._failures.log(
                ("dispatch", event.type),
                logging.ERROR,
                "dispatching %s for %s failed",
                event.type,
                event.subject,
                exc_info=error,
                summary=f"dispatching {COUNT} more {event.type} events failed",
            )

    async def redispatch(self, events: list[Event]) -> None:
        """Dispatch events stored before a stop or crash that were not dispatched then (start-up)."""
        if not events:
            return
        log.info("dispatching %d events stored before the last stop but not yet posted", len(events))
        for event in events:
            await self._dispatch_one(event)
        await self._until_written(self._after_batch)
