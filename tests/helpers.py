"""Shared test helpers: sending like KGSM does (socat), and collecting what the bot hands on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bot.events import Event

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
ERAS = ("doc-2024", "socket-2024", "socket-2026")
SOCAT = shutil.which("socat") or "socat"


async def socat_send(path: Path, payload: bytes, *, timeout: float = 10.0) -> int:
    """`echo "$payload" | socat - UNIX-CONNECT:<path>`, exactly KGSM's way; returns socat's exit code.

    The payload is socat's standard input as a file, as `echo`'s output is, so a socat that gives up at once
    (nobody listening) never meets a pipe the test is still writing to.
    """
    with tempfile.TemporaryFile() as given:
        given.write(payload)
        given.seek(0)
        process = await asyncio.create_subprocess_exec(
            SOCAT,
            "-",
            f"UNIX-CONNECT:{path}",
            stdin=given,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            return await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise


def pretty(document: dict[str, Any]) -> bytes:
    """A payload as KGSM's `jq -n` makes it: pretty-printed, with the newline `echo` adds."""
    return json.dumps(document, indent=2).encode() + b"\n"


def started(instance: str, **data: Any) -> dict[str, Any]:
    return {"EventType": "instance_started", "Data": {"InstanceName": instance, **data}}


class Collector:
    """An event sink that records events and lets a test wait for them without sleeping blindly."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def submit(self, event: Event) -> asyncio.Future[bool]:
        await self._record(event)
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        stored.set_result(True)
        return stored

    def offer(self, event: Event) -> bool:
        """As the recorder does, with room for everything: kept now, waiters woken on the next turn."""
        self.events.append(event)
        asyncio.get_running_loop().create_task(self._record(None))
        return True

    async def _record(self, event: Event | None) -> None:
        async with self._changed:
            if event is not None:
                self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 5.0) -> list[Event]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.events)), timeout)
        return self.events

    async def wait_count(self, count: int, timeout: float = 5.0) -> list[Event]:
        return await self.wait_for(lambda events: len(events) >= count, timeout)

    def instances(self) -> list[str | None]:
        return [event.instance for event in self.events]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_environment(short_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a `python -m bot` process in a test: this machine's without any bot setting, the
    socket and the database in `short_dir`, and `settings` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "KGSM_", "BOT_"))}
    env.update(PYTHONPATH=str(ROOT), KGSM_SOCKET_PATH=str(short_dir / "kgsm.sock"))
    env.update(BOT_DATA_DIR=str(short_dir / "data"), KGSM_JOURNAL_ROOT=str(short_dir / "lib"), **settings)
    return env


async def bot_process(
    short_dir: Path,
    env: dict[str, str],
    *,
    stdout: int = asyncio.subprocess.DEVNULL,
    stderr: int = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """`python -m bot` as a user runs it, in `short_dir` with `env`; returns at once."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=short_dir, env=env, stdout=stdout, stderr=stderr
    )


async def start_bot_process(
    short_dir: Path,
    env: dict[str, str],
    *,
    stdout: int = asyncio.subprocess.DEVNULL,
    stderr: int = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """`python -m bot` as a user runs it; returns once its socket exists."""
    process = await bot_process(short_dir, env, stdout=stdout, stderr=stderr)
    socket_path = Path(env["KGSM_SOCKET_PATH"])
    for _ in range(400):
        if socket_path.exists():
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot did not create {socket_path}")


async def kill_hard(process: asyncio.subprocess.Process) -> None:
    """SIGKILL `process` if it is still running, and reap it."""
    if process.returncode is None:
        process.kill()
        await process.wait()


async def run_to_exit(short_dir: Path, env: dict[str, str], timeout: float) -> tuple[asyncio.subprocess.Process, str]:
    """`python -m bot` expected to stop on its own (a start-up it refuses): the exited process and its stderr.
    Still running after `timeout`, it is killed, and the caller's check of its exit status fails."""
    process = await bot_process(short_dir, env, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        await kill_hard(process)
    return process, err.decode()


@contextlib.asynccontextmanager
async def database_held(path: Path) -> AsyncIterator[None]:
    """Another program holds the database (`BEGIN EXCLUSIVE`): every write of the bot fails after its busy
    timeout until the block ends. Taken in a thread, so a transaction of the bot's under way can finish."""
    other = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        yield
    finally:
        await asyncio.to_thread(other.execute, "ROLLBACK")
        other.close()
