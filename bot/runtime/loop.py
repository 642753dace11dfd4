"""The event loop the bot and the relay run on: uvloop's (libuv), not asyncio's selector loop.

KGSM opens one connection per event, so accepting, reading and closing a connection is most of what intake
costs; uvloop does that in C at about a third of the CPU (measured in docs/BENCHMARKS.md, intake section).
Everything the bot uses (Unix and TCP servers, subprocesses for the KGSM CLI, signals, aiohttp, discord.py)
runs on it unchanged; the tests run on it too (`tests/conftest.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on a uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
