"""The bot's HTTP server (aiohttp, which discord.py brings): health, metrics and the KGSM webhook.

Off unless `BOT_HTTP_PORT` is set. `/healthz` answers 200 only when the event source listens and the store
accepts writes, so a container orchestrator restarts a bot that went deaf or lost its disk. aiohttp's
application serves the routes; the listening socket is the bot's own, so that every connection is under
`bot.http_guard` (a deadline for the whole request, a cap on open connections, one request each).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.config import StartupError
from bot.web import metrics
from bot.web.guard import ConnectionGuard

if TYPE_CHECKING:
    from bot.bot import KGSMBot

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpServer:
    def __init__(self, bot: KGSMBot, host: str, port: int) -> None:
        self._bot = bot
        self._host = host
        self._port = port
        self.guard = ConnectionGuard(bot.intake)
        self.app = web.Application(middlewares=[self.guard.middleware])
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/metrics", self.metrics)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)

    async def start(self) -> None:
        # Requests still open at a stop get 2 s: the whole stop must fit in 10 s.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        try:
            self._listener = await loop.create_server(self.guard.protocol_factory(server), self._host, self._port)
        except OSError as exc:
            raise StartupError(
                f"BOT_HTTP_PORT={self._port}: cannot listen on {self._host}:{self._port} ({exc.strerror or exc}); "
                "choose another port or stop what uses it"
            ) from exc
        log.info("HTTP server on http://%s:%d (/healthz, /metrics)", self._host, self._port)

    async def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections; the runner closes the open ones
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if listener is not None:
            await listener.wait_closed()

    def _gateway_state(self) -> str:
        bot = self._bot
        if bot.dry_run:
            return "dry-run"
        if bot.is_closed():
            return "closed"
        return "connected" if bot.is_ready() and bot.ws is not None and bot.ws.open else "disconnected"

    def _last_event_age(self) -> float | None:
        last = self._bot.stats.last_event_monotonic
        return None if last is None else round(time.monotonic() - last, 3)

    async def healthz(self, _request: web.Request) -> web.Response:
        """200 only when every part works; else 503 naming each problem in plain words."""
        bot = self._bot
        store_ok = await bot.store.writable()
        problems: dict[str, str] = {}
        source_problem = bot.source.problem
        if source_problem is not None:
            problems["source"] = source_problem
        if not store_ok:
            problems["store"] = bot.store.problem or f"the database {bot.store.path} cannot be written"
        for name, why in bot.supervisor.problems().items():
            problems[f"task {name}"] = why
        body: dict[str, Any] = {
            "status": "unhealthy" if problems else "ok",
            "problems": problems,
            "source": {
                "listening": source_problem is None,
                "path": str(bot.source.path),
                "problem": source_problem,
                "rebinds": bot.stats.rebinds,
            },
            "journals": sorted(str(path) for path in bot.journals.followers),
            "waiting_to_be_stored": bot.recorder.pending,
            "components": {
                f"{c.host}:{c.name}" if c.host else c.name: {"status": c.status, "detail": c.detail}
                for c in bot.components.all()
            },
            "store": {"writable": store_ok},
            "gateway": self._gateway_state(),
            "outbox_depth": await bot.outbox.depth() if store_ok else None,
            "last_event_age_seconds": self._last_event_age(),
        }
        return web.json_response(body, status=503 if problems else 200)

    async def metrics(self, _request: web.Request) -> web.Response:
        bot = self._bot
        delivery = bot.delivery.stats
        snapshot = metrics.Snapshot(
            received=bot.stats.received,
            accepted=bot.stats.accepted,
            refused=dict(bot.stats.refused),
            rebinds=bot.stats.rebinds,
            messages={
                "posted": delivery.messages_posted,
                "edited": delivery.messages_edited,
                "failed": delivery.failed,
            },
            outbox_depth=await bot.outbox.depth(),
            duplicates=bot.recorder.duplicates,
            delivery_retries=delivery.retries,
            source_healthy=bot.source.healthy,
            last_event_age=self._last_event_age(),
            states=dict(Counter(state.state.value for state in bot.states.all())),
            task_restarts=dict(bot.supervisor.restarts),
        )
        return web.Response(body=metrics.render(snapshot), headers={"Content-Type": CONTENT_TYPE_LATEST})
