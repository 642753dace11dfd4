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
Each connection is read and handed on by `socket_connection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from bot.config import SocketSettings
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.socket_connection import Connections
from bot.sources.socket_lock import SocketInUseError, SocketLock, SocketPathError

__all__ = ["SocketInUseError", "SocketPathError", "SocketServerSource"]

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.25
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
        self._connections = Connections(intake, settings.max_payload_bytes, settings.read_timeout, str(settings.path))
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
        await self._connections.finish(min(self._settings.read_timeout, SHUTDOWN_GRACE))
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
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(self._connections.protocol, sock=sock)

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
