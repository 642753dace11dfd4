"""Long work on the event loop gives the rest of the bot a turn now and then: one way to do it."""

from __future__ import annotations

import asyncio


async def pause_every(count: int, every: int) -> None:
    """Give the event loop a turn after every `every`-th unit of work (`count` counts them)."""
    if count % every == 0:
        await asyncio.sleep(0)
