"""One bot per socket path: an exclusive `flock` on `<socket path>.lock`, held for the life of the bot.

Two bots on one path used to take the socket from each other four times a second and split KGSM's events
between them. Now the owner of the path is whoever holds the lock, taken before the socket is bound:

- The lock file is never deleted by the bot. A lock on a file that is unlinked and created again stops
  excluding anyone (the next starter locks the new file while the old holder keeps the old one), so the
  file simply stays, empty or holding the pid of its last holder.
- The kernel drops a `flock` when its holder dies, even by `kill -9`: a lock file left by a crashed bot
  never blocks the next start.
- The file gets the socket's mode without any bits for others (0660 by default) and the socket's group, and
  is opened close-on-exec, so the `kgsm.sh` processes the bot runs never inherit the lock.
- If something else (a /run cleaner) deletes or replaces the file while the bot runs, `refresh` locks a
  new one at the path, so the next starter is still refused; if another process locked the new file first,
  the path is that process's and `refresh` says so.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import stat
from pathlib import Path

from bot.config import StartupError

log = logging.getLogger(__name__)

_ATTEMPTS = 5  # opening again when the file is swapped between the open and the lock; a swap is rare


class SocketPathError(StartupError):
    """The configured socket path cannot be used; the message says what to fix."""


class SocketInUseError(SocketPathError):
    """Another live process holds the socket path's lock."""


def lock_path_for(socket_path: Path) -> Path:
    return socket_path.with_name(socket_path.name + ".lock")


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.lstat(path)
    except OSError:  # gone, or its directory is
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


class SocketLock:
    """The exclusive claim on a socket path. `acquire` raises `SocketPathError` when it cannot be had."""

    def __init__(self, socket_path: Path, mode: int, gid: int | None = None) -> None:
        self.socket_path = socket_path
        self.path = lock_path_for(socket_path)
        self._mode = (mode & 0o660) | 0o600  # never anything for others; always readable and writable by us
        self._gid = gid
        self._fd: int | None = None
        self._refresh_failing = False

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self._fd = self._lock_the_file_at_the_path()

    def refresh(self) -> bool:
        """Make sure the file at the path is still the one locked; lock a new one if it was deleted or replaced.

        Returns False when that is impossible because another process locked the new file first.
        """
        if self._fd is None:
            return False
        if _same_file(self._fd, self.path):
            return True
        try:
            fresh = self._lock_the_file_at_the_path()
        except SocketInUseError:
            return False
        except SocketPathError as exc:
            if not self._refresh_failing:  # say it once, then retry quietly on every call
                log.warning("the lock file %s is gone and cannot be made again (%s); retrying", self.path, exc)
            self._refresh_failing = True
            return True
        os.close(self._fd)
        self._fd = fresh
        if self._refresh_failing:
            log.info("the lock file %s is locked again", self.path)
        self._refresh_failing = False
        return True

    def release(self) -> None:
        """Unlock and close; the file stays (deleting it would let two starters lock two different files)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None

    def _lock_the_file_at_the_path(self) -> int:
        for _ in range(_ATTEMPTS):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                os.close(fd)
                raise SocketInUseError(self._in_use_message(holder)) from None
            except OSError as exc:
                os.close(fd)
                raise SocketPathError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
            if not _same_file(fd, self.path):
                os.close(fd)  # deleted or replaced between our open and our lock: lock whatever is there now
                continue
            try:
                self._stamp(fd)
            except OSError as exc:
                os.close(fd)
                raise SocketPathError(f"cannot set up the lock file {self.path}: {exc.strerror or exc}") from exc
            return fd
        raise SocketPathError(f"{self.path} keeps being replaced; cannot lock it")

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, self._mode)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SocketPathError(f"{self.path} is a symbolic link; remove it (the bot makes its own)") from exc
            raise SocketPathError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SocketPathError(f"{self.path} exists and is not a regular file; move it away")
        return fd

    def _stamp(self, fd: int) -> None:
        """Tighten the file to our mode and group (when it is ours), then write our pid."""
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, self._mode)
            if self._gid is not None:
                os.fchown(fd, -1, self._gid)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    @staticmethod
    def _holder(fd: int) -> int | None:
        try:
            text = os.pread(fd, 32, 0).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def _in_use_message(self, holder: int | None) -> str:
        who = "another kgsm-bot" if holder is None else f"another kgsm-bot (pid {holder})"
        return (
            f"{who} already serves KGSM_SOCKET_PATH={self.socket_path} (it holds {self.path}); "
            "stop it first or give this one another KGSM_SOCKET_PATH"
        )
