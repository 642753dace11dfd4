"""`python -m bot relay`: the process. Runs until SIGTERM or SIGINT, then stops cleanly with status 0.

A stop cancels the event being sent; its journal's cursor stays before it, so the next start sends it again
(the central bot recognises it by its `Id`). Nothing else is lost either way, not even on `kill -9`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.config import RelaySettings, StartupError
from bot.relay.central import Central
from bot.relay.cursors import CursorFile
from bot.relay.forwarder import Forwarder
from bot.relay.status import HealthServer, RelayStatus
from bot.runtime import loop as event_loop
from bot.runtime.supervisor import Supervisor
from bot.sources.journal import JournalFollower
from bot.sources.journals import Journals

log = logging.getLogger(__name__)

STATUS_INTERVAL = 60.0
STATUS_TASK = "relay-status"


async def run(settings: RelaySettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    cursors = await CursorFile.open(settings.data_dir)
    supervisor = Supervisor()
    try:
        async with Central(settings) as central:
            forwarder = Forwarder(central)

            def follower(directory: Path) -> JournalFollower:
                return JournalFollower(
                    directory, forwarder, cursors, start=settings.journal.start, report_gap=forwarder.gap
                )

            journals = Journals(settings.journal, follower, supervisor)
            status = RelayStatus(central, forwarder, lambda: journals.followers, supervisor)
            health = HealthServer(status, settings.http_port) if settings.http_port is not None else None
            if health is not None:
                await health.start()
            where = ", ".join(map(str, settings.journal.directories)) or f"{settings.journal.root}/kgsm*/events"
            log.info("relaying the journals in %s as host %s to %s", where, settings.host, settings.url)
            journals.start()
            supervisor.every(STATUS_TASK, status.log_line, seconds=STATUS_INTERVAL)
            await stop.wait()
            log.info("relay stopping; %s", status.line())
            await journals.stop()
            await supervisor.stop_all()
            if health is not None:
                await health.stop()
    finally:
        await supervisor.stop_all()
        await cursors.close()
    return 0


def main(settings: RelaySettings) -> int:
    """Run the relay; a setting that cannot be used ends it with one line and status 2."""
    try:
        return event_loop.run(run(settings))
    except StartupError as exc:
        print(f"kgsm-bot relay: {exc}", file=sys.stderr, flush=True)
        return 2
