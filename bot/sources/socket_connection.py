"""One connection to the bot's socket, as KGSM makes it: the document, EOF, then it waits for the bot to close.

A protocol, not a stream reader: KGSM connects once per event, so what one connection costs the event loop is
most of what intake costs (the profile in docs/BENCHMARKS.md). Bytes are gathered as they arrive. At EOF, one
whole document is handed on at once when the queue has room (almost every connection) and the connection is
closed, which is what KGSM's socat waits for; anything else (several documents, junk, a full queue, a
connection cut off for size or time) is handed on by a task of its own, which takes turns and waits, and then
closes it. The time limit covers reading only, so a slow consumer
downstream never cuts off a well-behaved client, and a connection cut off still hands on the documents it
completed before.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import struct
from dataclasses import dataclass, field
from typing import cast

from bot.events import RefusalReason
from bot.events.framing import DocumentSplitter
from bot.runtime.ratelog import COUNT
from bot.sources.intake import Intake

log = logging.getLogger(__name__)

SOURCE = "socket"


class Peer:
    """`pid=… uid=…` of the connecting process (SO_PEERCRED), looked up only when a log line needs it."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    @functools.cached_property
    def _text(self) -> str:
        sock = self._transport.get_extra_info("socket")
        if sock is None:
            return "unknown peer"
        try:
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        except OSError:
            return "unknown peer"
        pid, uid, _gid = struct.unpack("3i", creds)
        return f"pid={pid} uid={uid}"

    def __str__(self) -> str:
        return self._text


@dataclass
class Connections:
    """What every connection of one listener shares: where documents go, the limits, and who is still open."""

    intake: Intake
    max_bytes: int
    read_timeout: float
    path: str
    reading: set[KgsmConnection] = field(default_factory=set)
    handing_on: set[asyncio.Task[None]] = field(default_factory=set)

    def protocol(self) -> KgsmConnection:
        """For `loop.create_unix_server`."""
        return KgsmConnection(self)

    async def finish(self, grace: float) -> None:
        """Let open connections finish reading and hand on, for at most `grace` seconds; then close the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while (self.reading or self.handing_on) and loop.time() < deadline:
            if self.handing_on:
                await asyncio.wait(set(self.handing_on), timeout=max(deadline - loop.time(), 0))
            else:
                await asyncio.sleep(0.01)
        for connection in list(self.reading):
            connection.abort()


class KgsmConnection(asyncio.Protocol):
    def __init__(self, shared: Connections) -> None:
        self._shared = shared
        self._received = bytearray()
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's own class, not a subclass of it
        self._shared.reading.add(self)
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._shared.read_timeout, self._end, RefusalReason.TIMEOUT)

    def data_received(self, data: bytes) -> None:
        self._received += data
        if len(self._received) > self._shared.max_bytes:
            self._end(RefusalReason.TOO_LARGE)

    def eof_received(self) -> bool:
        self._end(None)
        return True  # keep our side open: KGSM waits for the bot to close once everything is handed on

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self._done:
            self._shared.intake.refusals.log(
                "connection ended abruptly",
                logging.INFO,
                "connection from %s ended abruptly: %s",
                self._peer(),
                exc,
                summary=f"{COUNT} more connections to {self._shared.path} ended abruptly",
            )
        self._end(None)

    def abort(self) -> None:
        """Close at once (shutdown): what was not received in time is not received."""
        if self._transport is not None:
            self._transport.abort()

    def _peer(self) -> Peer | str:
        return Peer(self._transport) if self._transport is not None else "unknown peer"

    def _end(self, cut: RefusalReason | None) -> None:
        """Reading is over (EOF, the end of the connection, or `cut` off): hand on what arrived, then close."""
        if self._done:
            return
        self._done = True
        self._shared.reading.discard(self)
        if self._deadline is not None:
            self._deadline.cancel()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()
        received, self._received = bytes(self._received), bytearray()
        if cut is None and self._taken_at_once(received):
            self._close()
            return
        task = asyncio.get_running_loop().create_task(self._hand_on(received, cut))
        self._shared.handing_on.add(task)
        task.add_done_callback(self._shared.handing_on.discard)

    def _taken_at_once(self, received: bytes) -> bool:
        """Whether the whole connection was handed on here and now (nothing, or one document with room in the
        queue: almost every connection), so it is closed without waiting for another turn of the loop."""
        if not received.strip():
            return True
        try:
            return self._shared.intake.take_at_once(received, source=SOURCE, peer=self._peer())
        except Exception as error:
            self._failed(error)
            return True

    async def _hand_on(self, received: bytes, cut: RefusalReason | None) -> None:
        intake, peer = self._shared.intake, self._peer()
        try:
            if cut is None:
                await intake.take_all(received, source=SOURCE, peer=peer)
                return
            limit = self._shared.max_bytes
            await intake.take_split(received[:limit], DocumentSplitter(), source=SOURCE, peer=peer)
            if cut is RefusalReason.TOO_LARGE:
                detail = f"connection sent more than {limit} bytes; closed"
            else:
                detail = f"connection still open after {self._shared.read_timeout:g} s; closed"
            intake.refuse(cut, detail, source=SOURCE, peer=peer)
        except Exception as error:
            self._failed(error)
        finally:
            self._close()

    def _failed(self, error: Exception) -> None:
        """A bug met while handing on must cost this connection only, never the listener: logged, rate-limited."""
        self._shared.intake.refusals.log(
            ("connection failed",),
            logging.ERROR,
            "handing on a connection from %s failed",
            self._peer(),
            exc_info=error,
            summary=f"handing on {COUNT} more connections failed",
        )

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
