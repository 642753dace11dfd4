"""What the relay says about itself: a status line in the log, and the same as JSON on its own /healthz.

`behind` is how many bytes of the journals are not yet acknowledged by the central bot (0 when it has caught
up). /healthz (only on 127.0.0.1, only with `KGSM_RELAY_HTTP_PORT`) answers 503 while the relay has not been
able to deliver for `UNHEALTHY_AFTER` seconds, or a follower is being restarted, else 200.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import StartupError
from bot.relay.central import Central
from bot.relay.forwarder import Forwarder
from bot.runtime.supervisor import Supervisor
from bot.sources.journal import SEGMENT, JournalFollower

log = logging.getLogger(__name__)

UNHEALTHY_AFTER = 60.0


def behind(follower: JournalFollower) -> int:
    """Bytes of `follower`'s journal after its cursor (what the central bot has not acknowledged yet)."""
    cursor = follower.cursor
    if cursor is None:
        return 0
    total = 0
    try:
        for entry in follower.directory.iterdir():
            if SEGMENT.match(entry.name) and entry.name >= cursor.segment:
                size = entry.stat().st_size
                total += max(size - cursor.offset, 0) if entry.name == cursor.segment else size
    except OSError:
        return total
    return total


class RelayStatus:
    def __init__(
        self,
        central: Central,
        forwarder: Forwarder,
        followers: Callable[[], Mapping[Path, JournalFollower]],
        supervisor: Supervisor,
    ) -> None:
        self._central = central
        self._forwarder = forwarder
        self._followers = followers
        self._supervisor = supervisor
        self._last_logged: tuple[object, ...] | None = None

    def report(self) -> dict[str, Any]:
        central = self._central
        problem_for = time.monotonic() - central.problem_since if central.problem_since is not None else 0.0
        counts = self._forwarder.counts
        return {
            "journals": {str(directory): behind(f) for directory, f in self._followers().items()},
            "behind_bytes": sum(behind(f) for f in self._followers().values()),
            "forwarded": counts.forwarded,
            "duplicates": counts.duplicates,
            "skipped": counts.skipped,
            "refused": counts.refused,
            "gaps": counts.gaps,
            "last_ack": central.last_ack,
            "problem": central.problem,
            "problem_seconds": round(problem_for, 1),
            "tasks": self._supervisor.problems(),
        }

    def healthy(self, report: Mapping[str, Any]) -> bool:
        return not report["tasks"] and (report["problem"] is None or report["problem_seconds"] < UNHEALTHY_AFTER)

    def line(self) -> str:
        report = self.report()
        state = (
            "delivering"
            if report["problem"] is None
            else f"NOT delivering for {report['problem_seconds']:.0f} s: {report['problem']}"
        )
        return (
            f"relay: {len(report['journals'])} journals, {report['behind_bytes']} bytes behind, "
            f"{report['forwarded']} forwarded ({report['duplicates']} already there), {report['skipped']} skipped, "
            f"{report['refused']} refused; {state}"
        )

    async def log_line(self) -> None:
        """The status line, when something changed since the last one or the relay cannot deliver."""
        report = self.report()
        seen = (report["forwarded"], report["skipped"], report["refused"], report["behind_bytes"], report["problem"])
        if seen != self._last_logged or report["problem"] is not None:
            self._last_logged = seen
            log.info("%s", self.line())


class HealthServer:
    """/healthz on 127.0.0.1: the status as JSON (for `python -m bot relay --health` and Docker)."""

    def __init__(self, status: RelayStatus, port: int) -> None:
        self._status = status
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        except OSError as exc:
            raise StartupError(
                f"KGSM_RELAY_HTTP_PORT={self._port}: cannot listen on 127.0.0.1 ({exc.strerror or exc})"
            ) from exc
        log.info("relay health on http://127.0.0.1:%d/healthz", self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        report = self._status.report()
        return web.json_response(report, status=200 if self._status.healthy(report) else 503)
