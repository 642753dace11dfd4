"""The bot's HTTP server (aiohttp, which discord.py brings): health, metrics and the KGSM webhook.

Off unless `BOT_HTTP_PORT` is set. What /healthz and /metrics say comes from `bot.web.health`. aiohttp's
application serves the routes; the listening socket is the bot's own, so that every connection is under
`bot.web.guard` (a deadline for the whole request, a cap on open connections, one request each).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.config import StartupError
from bot.sources.intake import Intake
from bot.web.guard import ConnectionGuard
from bot.web.health import HealthParts, health, metrics_text

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpServer:
    def __init__(self, parts: HealthParts, intake: Intake, host: str, port: int) -> None:
        self._parts = parts
        self._host = host
        self._port = port
        self.guard = ConnectionGuard(intake)
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

    async def healthz(self, _request: web.Request) -> web.Response:
        status, body = await health(self._parts)
        return web.json_response(body, status=status)

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=await metrics_text(self._parts), headers={"Content-Type": CONTENT_TYPE_LATEST})
