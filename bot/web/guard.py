"""What aiohttp's server does not limit: how long a client may take to send its request, and how many
connections are open at once.

aiohttp waits for a request's headers as long as its keep-alive timeout (an hour by default) and for a
declared body as long as the handler waits for it, all before any authentication: a thousand clients that
send one byte a second hold a thousand file descriptors. So every accepted connection is wrapped: the
listening server's protocol factory makes a `GuardedConnection` around aiohttp's own protocol (its
`RequestHandler`) and passes every call on to it.

- **A deadline for the whole request.** `DEADLINE` seconds after the connection is accepted, its request,
  headers and body, must have arrived; if not, the connection is closed and counted as refused (`timeout`).
  The end of the body is seen by aiohttp's request payload (`on_eof`), where the middleware looks as soon as
  the headers are parsed, so the deadline does not depend on when, or whether, a handler reads the body.
  Once the request is in, the handler takes the time it needs (the webhook bounds its own wait for the store).
- **One request per connection.** Every response says `Connection: close`, so the deadline is a request's and
  an idle keep-alive connection never holds a place. KGSM's wget makes one connection per event anyway.
- **A cap.** At most `MAX_CONNECTIONS` are open. A new connection beyond it closes the one that has been
  sending its request longest (`busy`), so slow clients cannot keep a quick one out; when every open one is
  already being answered, the newcomer gets a 503 and is closed at once.

Refusals go through the intake (`Intake.refuse`, source `http`): counted, and logged once a minute per reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.events import RefusalReason
from bot.sources.intake import Intake

DEADLINE = 5.0  # seconds from accept until the request's headers and body have all arrived
MAX_CONNECTIONS = 64
SOURCE = "http"  # how the intake names refusals of connections
_BUSY_TEXT = b"too many connections; try again shortly\n"
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nRetry-After: 1\r\n"
    b"Content-Length: " + str(len(_BUSY_TEXT)).encode() + b"\r\n\r\n" + _BUSY_TEXT
)


class GuardedConnection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol inside, under the guard's deadline and cap."""

    def __init__(self, guard: ConnectionGuard, make_inner: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._make_inner = make_inner
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None  # None once closed
        self.accepted: asyncio.BaseTransport | None = None  # the transport it was accepted with, for look-ups
        self._timer: asyncio.TimerHandle | None = None
        self.peer = "unknown"
        self.answered = False  # a handler has answered: cutting it off now is no refusal of its own

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self.accepted = transport
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple) and peername:
            self.peer = str(peername[0])
        if not self._guard.admit(self):
            self._transport.write(BUSY_RESPONSE)
            self._transport.close()
            self._transport = None
            return
        self._timer = asyncio.get_running_loop().call_later(DEADLINE, self._expire)
        self._inner = self._make_inner()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self._guard.forget(self)
        self._transport = None
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.connection_lost(exc)

    def arrived(self) -> None:
        """The whole request is in: the deadline no longer applies."""
        self._stop_timer()
        self._guard.arrived(self)

    def cut(self, reason: RefusalReason, detail: str) -> None:
        """Close the connection now; a refusal unless a handler has already answered it."""
        transport, self._transport = self._transport, None
        if transport is None:
            return  # cut off already
        if not self.answered:
            self._guard.refused(reason, detail, self.peer)
        self._stop_timer()
        self._guard.forget(self)  # its place is free now; the socket closes on the next turn of the loop
        transport.abort()  # at once: nothing of this request is worth waiting to flush

    def _expire(self) -> None:
        self._timer = None
        self.cut(RefusalReason.TIMEOUT, f"the request did not arrive whole within {DEADLINE:g} s")

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class ConnectionGuard:
    """The connections of one HTTP server: admits them, cuts them off, and tells aiohttp's side about it."""

    def __init__(self, intake: Intake) -> None:
        self._intake = intake
        self._open: dict[asyncio.BaseTransport, GuardedConnection] = {}
        self._arriving: dict[GuardedConnection, None] = {}  # still sending their request, oldest first

    @property
    def open_connections(self) -> int:
        return len(self._open)

    @property
    def arriving_connections(self) -> int:
        """Open connections whose request has not arrived whole yet."""
        return len(self._arriving)

    def protocol_factory(self, make_inner: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """For `loop.create_server`: aiohttp's protocol factory, every connection guarded."""
        return lambda: GuardedConnection(self, make_inner)

    def admit(self, connection: GuardedConnection) -> bool:
        if len(self._open) >= MAX_CONNECTIONS:
            if not self._arriving:
                self.refused(RefusalReason.BUSY, f"{len(self._open)} connections are being answered", connection.peer)
                return False
            oldest = next(iter(self._arriving))
            oldest.cut(RefusalReason.BUSY, f"cut off to make room: {MAX_CONNECTIONS} connections open")
        assert connection.accepted is not None
        self._open[connection.accepted] = connection
        self._arriving[connection] = None
        return True

    def arrived(self, connection: GuardedConnection) -> None:
        self._arriving.pop(connection, None)

    def forget(self, connection: GuardedConnection) -> None:
        self._arriving.pop(connection, None)
        if connection.accepted is not None and self._open.get(connection.accepted) is connection:
            del self._open[connection.accepted]

    def refused(self, reason: RefusalReason, detail: str, peer: str) -> None:
        self._intake.refuse(reason, detail, source=SOURCE, peer=peer)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Ends the deadline once the request's body has arrived; one request per connection."""
        transport = request.transport
        connection = self._open.get(transport) if transport is not None else None
        if connection is not None:
            request.content.on_eof(connection.arrived)  # at once when there is no body, or it is all here
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.force_close()
            raise
        finally:
            if connection is not None:
                connection.answered = True
        response.force_close()
        return response
