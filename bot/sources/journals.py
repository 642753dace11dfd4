"""Every KGSM journal the bot follows: the directories configured, or every producer's it finds.

KGSM's components each write their own journal (`/var/lib/kgsm/events`, `/var/lib/kgsm-watchdog/events`, …;
kgsm-events.md §7): crashes, readiness and players come from the watchdog's, host alerts from the monitor's.
Without `KGSM_JOURNAL_DIR` the bot follows all of them, each with its own cursor, and looks again every
`RESCAN_INTERVAL` seconds so a producer installed later is followed too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot.config import JournalSettings
from bot.runtime.supervisor import Supervisor
from bot.sources.journal import JournalFollower, discover

log = logging.getLogger(__name__)

RESCAN_INTERVAL = 30.0
DISCOVERY_TASK = "journal-discovery"


class Journals:
    def __init__(
        self,
        settings: JournalSettings,
        make_follower: Callable[[Path], JournalFollower],
        supervisor: Supervisor,
    ) -> None:
        self._settings = settings
        self._make = make_follower
        self._supervisor = supervisor
        self.followers: dict[Path, JournalFollower] = {}

    @property
    def discovering(self) -> bool:
        return not self._settings.directories

    def _wanted(self) -> list[Path]:
        return list(self._settings.directories) if not self.discovering else discover(self._settings.root)

    def _follow_new(self) -> None:
        for directory in self._wanted():
            if directory not in self.followers:
                follower = self.followers[directory] = self._make(directory)
                self._supervisor.run(follower.task_name, follower.run)
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
            self._supervisor.every(DISCOVERY_TASK, self._rescan, seconds=RESCAN_INTERVAL)

    async def _rescan(self) -> None:
        self._follow_new()

    async def stop(self) -> None:
        await self._supervisor.stop(DISCOVERY_TASK)
        for follower in self.followers.values():
            await self._supervisor.stop(follower.task_name)
