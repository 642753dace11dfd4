"""When the bot was recording: the periods it ran, kept as a small fact, so that uptime can say "no data"
for the time it was not there to hear KGSM.

The running bot marks the fact every minute (`mark`): the current period grows. The first mark of a run
opens a new period when the last one ended more than `GRACE` before. A restart of a bot that follows KGSM's
journals leaves no gap: the journals' cursors replay what was written meanwhile. History from before the bot
first noted a period (stored by an older version, or replayed from a journal at the first start) counts as
recorded. Periods older than the history kept are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.store.database import Store
from bot.store.rows import moment_of, seconds_of
from bot.store.uptime import Window

FACT = "recording.periods"
INTERVAL = 60.0  # seconds between two marks
GRACE = timedelta(minutes=3)  # a longer silence was a stop, not a slow mark
BEFORE_ALL = datetime(1970, 1, 1, tzinfo=UTC)


class RecordingLog:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        history_days: int,
        replays_on_restart: Callable[[], bool],
    ) -> None:
        self._store = store
        self._clock = clock
        self._history = timedelta(days=history_days)
        self._replays_on_restart = replays_on_restart
        self._marked = False  # whether this run of the bot has marked yet

    async def periods(self) -> list[Window]:
        raw = await self._store.get_fact(FACT)
        return [(moment_of(a), moment_of(b)) for a, b in json.loads(raw)] if raw else []

    async def mark(self) -> None:
        now = self._clock()
        periods = await self.periods()
        if not periods:
            periods = [(now, now)]
        else:
            began, ended = periods[-1]
            # Within one run the bot was there all along (a mark the database refused included); only the
            # first mark of a run asks whether the time since the last one was a gap.
            if self._marked or now - ended <= GRACE or self._replays_on_restart():
                periods[-1] = (began, max(ended, now))
            else:
                periods.append((now, now))
        kept = [(a, b) for a, b in periods if b >= now - self._history]
        await self._store.set_fact(FACT, json.dumps([[seconds_of(a), seconds_of(b)] for a, b in kept]))
        self._marked = True

    async def recorded(self) -> list[Window]:
        """The periods the bot was recording: the first from the beginning of the history, the current one up
        to now (it is recording now)."""
        periods = await self.periods()
        if not periods:
            return [(BEFORE_ALL, self._clock())]
        periods[0] = (BEFORE_ALL, periods[0][1])
        if self._marked:
            began, ended = periods[-1]
            periods[-1] = (began, max(ended, self._clock()))
        return periods
