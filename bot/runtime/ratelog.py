"""Logging that a flood of bad input cannot turn into a flood of log lines: one line per key and interval.

Whatever the bot logs once per input (a refusal, a connection that ended abruptly, an event that failed to
render) goes through a `RateLimitedLog`. The first line for a key (for refusals: the source and the reason) is
written in full; for the rest of the interval (60 s by default) further ones are only counted, and when the
interval ends one summary line says how many there were: "refused 524,287 more inputs as not_json from socket
in the last 60 s". The next one after that is written in full again and opens a new interval. A suppressed
call costs a dictionary look-up: its message is never formatted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass

DEFAULT_INTERVAL = 60.0
COUNT = "{count}"  # where the summary puts the number of suppressed lines


@dataclass
class _Window:
    opened: float
    level: int
    summary: str
    suppressed: int = 0
    timer: asyncio.TimerHandle | None = None


class RateLimitedLog:
    """At most one line per key per `interval` seconds on `logger`, then a summary of what was held back."""

    def __init__(self, logger: logging.Logger, interval: float = DEFAULT_INTERVAL) -> None:
        self.logger = logger
        self.interval = interval
        self._windows: dict[Hashable, _Window] = {}

    def log(
        self,
        key: Hashable,
        level: int,
        message: str,
        *args: object,
        summary: str,
        count: int = 1,
        exc_info: BaseException | None = None,
    ) -> bool:
        """Log `message % args` unless a line for `key` was written less than `interval` ago; else count it.

        `summary` describes the suppressed ones, with `{count}` where their number goes ("refused {count} more
        inputs as not_json from socket"); " in the last N s" is added. `count` says how many inputs this call
        stands for (a run of stray lines is one call). Returns whether the line was written.
        """
        now = time.monotonic()
        window = self._windows.get(key)
        if window is not None and now - window.opened >= self.interval:
            self._close(key)  # its timer has not run (no event loop, or a busy one): close it now
            window = None
        if window is not None:
            window.suppressed += count
            return False
        if not self.logger.isEnabledFor(level):
            return False
        self.logger.log(level, message, *args, exc_info=exc_info)
        window = self._windows[key] = _Window(now, level, summary)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            window.timer = loop.call_later(self.interval, self._close, key)
        return True

    def flush(self) -> None:
        """Write the summary of every open interval now (at shutdown, so no count is lost)."""
        for key in list(self._windows):
            self._close(key)

    def _close(self, key: Hashable) -> None:
        window = self._windows.pop(key, None)
        if window is None:
            return
        if window.timer is not None:
            window.timer.cancel()
        if window.suppressed:
            seconds = min(time.monotonic() - window.opened, self.interval)
            text = window.summary.replace(COUNT, f"{window.suppressed:,}")
            self.logger.log(window.level, "%s in the last %s s", text, f"{seconds:.3g}")
