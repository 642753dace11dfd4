"""One way to try again: delays that double up to a ceiling, and `retrying()` around any operation.

Every retry in the bot uses these: the recorder and the lanes while the database cannot be written, the
lanes while Discord answers 429 or 5xx or cannot be reached, the socket client while its peer is away, the
supervisor before it starts a task again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Backoff:
    """Delays that double from `first` up to `ceiling`; `reset()` after a success."""

    first: float = 1.0
    ceiling: float = 60.0
    _next: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._next = self.first

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self._next = self.first

    async def wait(self, at_least: float = 0.0) -> None:
        await asyncio.sleep(max(self.next_delay(), at_least))


async def retrying(
    operation: Callable[[], Awaitable[T]],
    retry_on: tuple[type[BaseException], ...],
    *,
    backoff: Backoff | None = None,
    on_retry: Callable[[BaseException], float | None] | None = None,
) -> T:
    """`operation()` again and again, with backoff, until it ends without one of the `retry_on` errors.

    `on_retry` sees each error (to log or count it) and may ask to wait at least as long as it returns (a
    `retry_after`). Anything else `operation` raises is the caller's.
    """
    backoff = backoff or Backoff()
    while True:
        try:
            return await operation()
        except retry_on as error:
            at_least = on_retry(error) if on_retry is not None else None
            await backoff.wait(at_least or 0.0)
