"""The bot's own Unix socket, which KGSM connects to once per event (`socat - UNIX-CONNECT:<path>`).

KGSM only checks that the path exists; if nobody listens, the event is gone. KGSM's own
`events socket disable|test`, reinstalls and /run cleaners delete or replace the file, which left the
official bot deaf. This source binds atomically (bind under a temporary name, set mode and group, then link it
at the path, or rename it over a socket there), watches the path, and binds again within a second when the file
it owns is gone or another socket took its place (KGSM's own brief `events socket test` listener). Anything else
at the path (a regular file, a directory, a link) is somebody's and is never overwritten, at start-up (an error)
nor later: the source says so once, reports itself unhealthy with the reason (so /healthz answers 503), and
binds again as soon as the path is free. Linking, unlike renaming, fails rather than replace whatever appeared
at the path in between. The path belongs to one bot: the source holds an exclusive lock beside the socket
(`socket_lock.py`) for its whole life, taken before binding, so a second bot on the same path refuses to
start instead of fighting over it; KGSM's own brief test listener takes no lock and is replaced as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import grp
import logging
import os
import socket
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from bot.config import SocketSettings
from bot.events import RefusalReason
from bot.events.framing import DocumentSplitter
from bot.runtime.ratelog import COUNT
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.socket_lock import SocketInUseError, SocketLock, SocketPathError

__all__ = ["Peer", "SocketInUseError", "SocketPathError", "SocketServerSource"]

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.25
READ_CHUNK = 64 * 1024
# On shutdown, open connections get this long (at most) to finish: the whole stop must fit in 10 s.
SHUTDOWN_GRACE = 3.0
WATCH_TASK = "socket-watch"


@dataclass(frozen=True)
class _Identity:
    device: int
    inode: int


def _identity(path: Path) -> _Identity | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return _Identity(info.st_dev, info.st_ino)


def _what(mode: int) -> str:
    """What a file that is not a socket is, in words."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    return "a device or other special file"


class Peer:
    """`pid=… uid=…` of the connecting process (SO_PEERCRED), looked up only when a log line needs it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    @functools.cached_property
    def _text(self) -> str:
        sock = self._writer.get_extra_info("socket")
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


class SocketServerSource:
    """Owns the socket file: binds, serves many connections at once, re-binds when the file goes away."""

    name = "socket"

    def __init__(self, settings: SocketSettings, intake: Intake, supervisor: Supervisor) -> None:
        self._settings = settings
        self._intake = intake
        self._supervisor = supervisor
        self._path = settings.path
        self._server: asyncio.Server | None = None
        self._bound: _Identity | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._lock: SocketLock | None = None
        self._claim_lost = False
        self._in_the_way: str | None = None  # why the path is left alone: something that is not a socket is there
        self._bind_error: str | None = None

    @property
    def path(self) -> Path:
        return self._path

    @property
    def healthy(self) -> bool:
        """True while the path is the socket this source listens on (and this source still owns the path)."""
        return (
            not self._claim_lost
            and self._in_the_way is None
            and self._server is not None
            and self._bound is not None
            and _identity(self._path) == self._bound
        )

    @property
    def problem(self) -> str | None:
        """Why the source is not healthy, in plain words (None while it is)."""
        if self.healthy:
            return None
        if self._claim_lost:
            lock = self._lock.path if self._lock is not None else "its lock file"
            return f"another process holds {lock} and owns {self._path} now; this bot stopped listening"
        if self._in_the_way is not None:
            return self._in_the_way
        if self._bind_error is not None:
            return f"cannot bind {self._path} again: {self._bind_error}"
        return f"not listening for KGSM events on {self._path}"

    def check_path(self) -> None:
        """Start-up check: the parent directory can be made and the path is free or a socket."""
        try:
            info = os.lstat(self._path)
        except FileNotFoundError:
            pass
        else:
            if not stat.S_ISSOCK(info.st_mode):
                raise SocketPathError(
                    f"KGSM_SOCKET_PATH={self._path} exists and is not a socket; move it away or choose another path"
                )
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SocketPathError(f"KGSM_SOCKET_PATH: cannot create {self._path.parent}: {exc.strerror}") from exc
        if not os.access(self._path.parent, os.W_OK | os.X_OK):
            raise SocketPathError(f"KGSM_SOCKET_PATH: the directory {self._path.parent} is not writable by this user")

    def _group_id(self) -> int | None:
        group = self._settings.group
        if group is None:
            return None
        return int(group) if group.isdigit() else grp.getgrnam(group).gr_gid

    def claim(self) -> None:
        """Check the path and take its lock: `SocketInUseError` when another live bot serves it.

        The bot calls this before it opens its database, so a second bot touches nothing; `start` calls it too.
        """
        if self._lock is not None and self._lock.held:
            return
        self.check_path()
        self._lock = SocketLock(self._path, self._settings.mode, self._group_id())
        self._lock.acquire()

    async def start(self) -> None:
        """Claim the path (see `claim`), bind and start watching."""
        self.claim()
        assert self._lock is not None
        try:
            await self._bind(take_back=_identity(self._path) is not None)  # `claim` saw a free path or a socket
        except OSError as exc:
            self._lock.release()
            raise SocketPathError(f"KGSM_SOCKET_PATH={self._path}: cannot bind it: {exc.strerror or exc}") from exc
        except BaseException:
            self._lock.release()
            raise
        self._supervisor.run(WATCH_TASK, self._watch)
        log.info("listening for KGSM events on %s (mode %o)", self._path, self._settings.mode)

    async def stop(self) -> None:
        """Stop accepting, let open connections finish reading, remove the socket file."""
        await self._supervisor.stop(WATCH_TASK)
        self._close_listener()
        if self._connections:
            await asyncio.wait(self._connections, timeout=min(self._settings.read_timeout, SHUTDOWN_GRACE))
        if self._bound is not None and _identity(self._path) == self._bound:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()
        self._bound = None
        if self._lock is not None:
            self._lock.release()  # only after the socket is gone, and the lock file itself stays

    def _make_socket(self, take_back: bool) -> socket.socket:
        """Bind under a temporary name with the final mode and group, so the path never has wrong permissions.

        Then link it at the path, which fails (`FileExistsError`) if anything is there; only with `take_back`,
        when the path holds another socket, rename it over that one.
        """
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(temporary))
            os.chmod(temporary, self._settings.mode)
            gid = self._group_id()
            if gid is not None:
                os.chown(temporary, -1, gid)
            sock.listen(512)
            sock.setblocking(False)
            if take_back:
                os.replace(temporary, self._path)
            else:
                self._link(temporary)
        except BaseException:
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        return sock

    def _link(self, temporary: Path) -> None:
        """Put the bound socket at the free path without ever replacing what may have appeared there meanwhile."""
        try:
            os.link(temporary, self._path)
        except FileExistsError:
            raise
        except OSError:
            # A file system without hard links: rename, after looking once more that the path is free.
            if _identity(self._path) is not None:
                raise FileExistsError(self._path) from None
            os.replace(temporary, self._path)
            return
        temporary.unlink()

    async def _bind(self, *, take_back: bool) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        sock = self._make_socket(take_back)
        self._bound = _identity(self._path)
        self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=READ_CHUNK)

    def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _watch(self) -> None:
        failing = False  # say once that binding fails, not four times a second
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if not self._keep_claim():
                return
            try:
                info: os.stat_result | None = os.lstat(self._path)
            except FileNotFoundError:
                info = None
            if info is not None and _Identity(info.st_dev, info.st_ino) == self._bound:
                continue
            if info is not None and not stat.S_ISSOCK(info.st_mode):
                self._leave_alone(_what(info.st_mode))
                failing = False
                continue
            if self._in_the_way is not None:
                log.info("socket path %s is free again; binding it", self._path)
            elif not failing:
                what = "was deleted" if info is None else "was replaced by another socket"
                log.warning("socket %s %s; binding it again", self._path, what)
            self._close_listener()
            try:
                await self._bind(take_back=info is not None)
            except FileExistsError:
                continue  # something appeared at the path just now: the next round looks at what it is
            except OSError as exc:
                self._bound = None
                self._bind_error = str(exc.strerror or exc)
                if not failing:
                    log.error("cannot bind %s again (%s); retrying until it works", self._path, self._bind_error)
                failing = True
                continue
            if failing:
                log.info("socket %s is bound again", self._path)
            failing = False
            self._in_the_way = None
            self._bind_error = None
            self._intake.stats.rebinds += 1

    def _leave_alone(self, what: str) -> None:
        """Something that is not a socket is at the path: never overwrite it, stop listening, say so once."""
        problem = (
            f"{self._path} is {what}, not this bot's socket: the bot leaves it alone and is not listening for KGSM "
            "events; remove it and the bot binds its socket there again"
        )
        if problem != self._in_the_way:
            log.error(
                "socket path %s is now %s; it is left alone and no events are received until it is removed",
                self._path,
                what,
            )
            self._in_the_way = problem
        self._close_listener()

    def _keep_claim(self) -> bool:
        """Lock the lock file again if something deleted it; step aside if another bot got it first."""
        assert self._lock is not None
        if self._lock.refresh():
            return True
        log.error(
            "the lock file %s was replaced and another process now holds it: it owns %s now, this bot stops "
            "listening (and reports unhealthy)",
            self._lock.path,
            self._path,
        )
        self._claim_lost = True
        self._close_listener()
        self._lock.release()
        return False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._read_connection(reader, Peer(writer))
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _read_connection(self, reader: asyncio.StreamReader, peer: Peer) -> None:
        """Read to EOF (KGSM closes after each event), then hand on every document it held.

        A connection cut off for size or time still hands on the documents it completed before. The time limit
        covers reading only (documents are handed on after it), so a slow consumer downstream never cuts off a
        well-behaved client.
        """
        received = bytearray()
        limit = self._settings.max_payload_bytes
        try:
            async with asyncio.timeout(self._settings.read_timeout):
                while len(received) <= limit and (chunk := await reader.read(READ_CHUNK)):
                    received += chunk
        except TimeoutError:
            await self._hand_on_complete(received, peer)
            detail = f"connection still open after {self._settings.read_timeout:g} s; closed"
            self._intake.refuse(RefusalReason.TIMEOUT, detail, source=self.name, peer=peer)
            return
        except ConnectionError as exc:
            self._intake.refusals.log(
                "connection ended abruptly",
                logging.INFO,
                "connection from %s ended abruptly: %s",
                peer,
                exc,
                summary=f"{COUNT} more connections to {self._path} ended abruptly",
            )
        if len(received) > limit:
            await self._hand_on_complete(received[:limit], peer)
            detail = f"connection sent more than {limit} bytes; closed"
            self._intake.refuse(RefusalReason.TOO_LARGE, detail, source=self.name, peer=peer)
            return
        if received.strip():
            await self._intake.take_all(bytes(received), source=self.name, peer=peer)

    async def _hand_on_complete(self, received: bytearray, peer: Peer) -> None:
        """The documents a cut-off connection did complete (the unfinished rest is what is refused)."""
        await self._intake.take_split(bytes(received), DocumentSplitter(), source=self.name, peer=peer)
