"""A thread on each crash incident's message, for the discussion (`KGSM_INCIDENT_THREADS=true`).

Opened once, when the incident's message is first posted. A thread is a courtesy, never a condition of
delivery: a refusal (no Create Public Threads permission, a channel without threads, Discord down) is counted
and logged at most once an hour per channel, and the incident message is delivered all the same.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.delivery.poster import TRANSIENT, ChannelUnavailable, Poster, Rejected
from bot.runtime.ratelog import COUNT, RateLimitedLog

if TYPE_CHECKING:
    from bot.delivery.messages import DeliveryStats
    from bot.events.runs import Run

log = logging.getLogger(__name__)

REFUSALS_LOGGED_EVERY = 3600.0


def thread_name(run: Run) -> str:
    return f"💥 {run.instance} crash {run.started_at:%Y-%m-%d %H:%M} UTC"[:100]


class IncidentThreads:
    def __init__(self, poster: Poster, stats: DeliveryStats) -> None:
        self._poster = poster
        self._stats = stats
        self._refusals = RateLimitedLog(log, REFUSALS_LOGGED_EVERY)

    async def open(self, run: Run, channel_id: int, message_id: int) -> None:
        try:
            await self._poster.open_thread(channel_id, message_id, thread_name(run))
        except (ChannelUnavailable, Rejected, *TRANSIENT) as error:
            self._stats.threads_refused += 1
            self._refusals.log(
                channel_id,
                logging.WARNING,
                "could not open a thread on the crash incident of %s in channel %s (%s); give the bot Create Public "
                "Threads there, or set KGSM_INCIDENT_THREADS=false",
                run.instance,
                channel_id,
                error,
                summary=f"{COUNT} more incident threads could not be opened in channel {channel_id}",
            )
        else:
            self._stats.threads_opened += 1
