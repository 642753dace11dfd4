"""Every KGSM journal the bot follows: the directories configured, or every producer's it finds.

KGSM's components each write their own journal (`/var/lib/kgsm/events`, `/var/lib/kgsm-watchdog/events`, …;
kgsm-events.md §7): crashes, readiness and players come from the watchdog's, host alerts from the monitor's.
Without `KGSM_JOURNAL_DIR` the bot follows all of them, each with its own cursor, and looks again every
`RESCAN_INTERVAL` seconds so a producer installed later is followed too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from bot.config import JournalSettings
from bot.sources.journal import JournalFollower, discover
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

RESCAN_INTERVAL = 30.0


class Journals:
    def __init__(self, settings: JournalSettings, make_follower: Callable[[Path], JournalFollower]) -> None:
        self._settings = settings
        self._make = make_follower
        self.followers: dict[Path, JournalFollower] = {}
        self._rescan: asyncio.Task[None] | None = None

    @property
    def discovering(self) -> bool:
        return not self._settings.directories

    @property
    def healthy(self) -> bool:
        return all(follower.healthy for follower in self.followers.values())

    def _wanted(self) -> list[Path]:
        return list(self._settings.directories) if not self.discovering else discover(self._settings.root)

    def _follow_new(self) -> None:
        for directory in self._wanted():
            if directory not in self.followers:
                follower = self.followers[directory] = self._make(directory)
                follower.start()
                log.info("following the journal of %s in %s", follower.producer, directory)

    def start(self) -> None:
        self._follow_new()
        if self.discovering:
            if not self.followers:
                log.info(
                    "no KGSM journal under %s/kgsm*/events yet; looking again every %g s",
                    self._settings.root,
                    RESCAN_INTERVAL,
                )
            self._rescan = asyncio.create_task(self._rescan_periodically(), name="journal-discovery")

    async def _rescan_periodically(self) -> None:
        while True:
            await asyncio.sleep(RESCAN_INTERVAL)
            self._follow_new()

    async def stop(self) -> None:
        await cancel_and_wait(self._rescan)
        for follower in self.followers.values():
            await follower.stop()
