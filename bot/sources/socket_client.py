"""Client role (`KGSM_SOCKET_ROLE=client`): read a stream of events from a socket someone else owns.

For relays that already own the KGSM socket and fan events out. The connection is kept open and read as a
continuous stream; when it drops or cannot be made, the source retries with backoff (1 s doubling to 30 s)
and logs the outage once, not once per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from bot.config import SocketSettings
from bot.events import RefusalReason
from bot.events.framing import DocumentSplitter
from bot.runtime.retry import Backoff, retrying
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
READ_CHUNK = 64 * 1024


class SocketClientSource:
    name = "socket-client"

    def __init__(self, settings: SocketSettings, intake: Intake, supervisor: Supervisor) -> None:
        self._settings = settings
        self._intake = intake
        self._supervisor = supervisor
        self.connected = False

    @property
    def path(self) -> Path:
        return self._settings.path

    @property
    def healthy(self) -> bool:
        return self.connected

    @property
    def problem(self) -> str | None:
        """Why the source is not healthy, in plain words (None while it is)."""
        return None if self.connected else f"not connected to the socket {self.path}; retrying with backoff"

    def claim(self) -> None:
        """The client role owns no path (another program serves the socket), so there is nothing to lock."""

    async def start(self) -> None:
        self._supervisor.run(self.name, self._run)
        log.info("reading KGSM events from the existing socket %s (client role)", self.path)

    async def stop(self) -> None:
        await self._supervisor.stop(self.name)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        outage_logged = False

        def on_retry(error: BaseException) -> None:
            nonlocal outage_logged
            if not outage_logged:
                reason = error.strerror if isinstance(error, OSError) and error.strerror else error
                log.warning("cannot connect to %s (%s); retrying with backoff", self.path, reason)
                outage_logged = True

        return await retrying(
            lambda: asyncio.open_unix_connection(str(self.path), limit=READ_CHUNK),
            (OSError,),
            backoff=Backoff(FIRST_BACKOFF, MAX_BACKOFF),
            on_retry=on_retry,
        )

    async def _run(self) -> None:
        while True:
            reader, writer = await self._connect()
            log.info("connected to %s", self.path)
            self.connected = True
            try:
                await self._read_stream(reader)
            finally:
                self.connected = False
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            log.warning("connection to %s closed; reconnecting", self.path)
            await asyncio.sleep(FIRST_BACKOFF)

    async def _read_stream(self, reader: asyncio.StreamReader) -> None:
        splitter = DocumentSplitter()
        peer = str(self.path)
        limit = self._settings.max_payload_bytes
        while True:
            try:
                chunk = await reader.read(READ_CHUNK)
            except ConnectionError:
                chunk = b""
            if not chunk:
                break
            await self._intake.take_split(chunk, splitter, source=self.name, peer=peer)
            if splitter.pending > limit:
                detail = f"a document grew past {limit} bytes; dropping the connection"
                self._intake.refuse(RefusalReason.TOO_LARGE, detail, source=self.name, peer=peer)
                return
        await self._intake.take_split(b"", splitter, source=self.name, peer=peer, finish=True)
