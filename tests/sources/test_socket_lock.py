"""One bot per socket path (issue 12): real `python -m bot` processes, socat as KGSM, and the lock beside the socket.

Two bots on one path used to take the socket from each other several times a second and split the events.
"""

from __future__ import annotations

import asyncio
import fcntl
import grp
import os
import signal
import socket
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import SocketSettings
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.socket_lock import lock_path_for
from bot.sources.socket_server import SocketInUseError, SocketPathError, SocketServerSource
from bot.sources.stats import IntakeStats
from tests.conftest import RunningSource, start_source
from tests.helpers import (
    Collector,
    bot_environment,
    free_port,
    kill_hard,
    pretty,
    run_to_exit,
    socat_send,
    start_bot_process,
    started,
)

DEADLINE = 20.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str, deadline: float = DEADLINE) -> None:
    """Wait until `check()` is true, failing with `what` after the deadline (no durations are asserted)."""
    end = time.monotonic() + deadline
    while not await check():
        if time.monotonic() > end:
            raise AssertionError(f"still not true after {deadline:g} s: {what}")
        await asyncio.sleep(0.05)


async def healthz(port: int) -> dict[str, Any] | None:
    """The bot's /healthz body, or None while nothing answers on the port."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=5)) as response,
        ):
            body: dict[str, Any] = await response.json()
            return body
    except (aiohttp.ClientError, TimeoutError):
        return None


async def accepted(port: int) -> int:
    """`kgsm_events_accepted_total` from the bot's /metrics."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    (line,) = (line for line in text.splitlines() if line.startswith("kgsm_events_accepted_total "))
    return int(float(line.split()[1]))


async def wait_listening(port: int, *, rebinds: int = 0) -> None:
    async def listening() -> bool:
        body = await healthz(port)
        return body is not None and body["source"]["listening"] and body["source"]["rebinds"] == rebinds

    await eventually(listening, f"the bot on port {port} listens on its socket ({rebinds} rebinds)")


async def wait_accepted(port: int, count: int) -> None:
    async def arrived() -> bool:
        return await accepted(port) == count

    await eventually(arrived, f"the bot on port {port} accepted {count} events")


async def run_refused_bot(short_dir: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """Start a bot that is expected to refuse to start; returns it (exited) and its stderr."""
    return await run_to_exit(short_dir, {**env, "BOT_HTTP_PORT": str(free_port())}, DEADLINE)


def assert_refused(process: asyncio.subprocess.Process, err: str, socket_path: Path, holder: int) -> None:
    assert process.returncode == 2, err
    (line,) = err.strip().splitlines()  # one clear line, no traceback, no log
    assert line.startswith("kgsm-bot: ")
    assert str(socket_path) in line
    assert f"pid {holder}" in line


async def test_a_second_bot_on_the_path_refuses_and_the_first_gets_every_event_until_it_is_killed(
    short_dir: Path,
) -> None:
    port = free_port()
    env = bot_environment(short_dir, BOT_HTTP_PORT=str(port))
    socket_path = Path(env["KGSM_SOCKET_PATH"])
    first = await start_bot_process(short_dir, env)
    try:
        await wait_listening(port)
        socket_inode = os.lstat(socket_path).st_ino

        # Events keep coming while the second bot tries to start, and after it gave up.
        second = asyncio.create_task(run_refused_bot(short_dir, env))
        sent = 0
        while not second.done() or sent < 10:
            assert await socat_send(socket_path, pretty(started(f"server-{sent}"))) == 0
            sent += 1
        process, err = await second
        assert_refused(process, err, socket_path, first.pid)
        for _ in range(10):
            assert await socat_send(socket_path, pretty(started(f"server-{sent}"))) == 0
            sent += 1

        await wait_accepted(port, sent)
        body = await healthz(port)
        assert body is not None
        assert body["source"] == {"listening": True, "path": str(socket_path), "problem": None, "rebinds": 0}
        assert os.lstat(socket_path).st_ino == socket_inode  # nobody touched the first bot's socket
        assert first.returncode is None
    finally:
        await kill_hard(first)

    # kill -9 leaves the socket file and the lock file (with the dead pid) behind: neither blocks a new bot.
    lock_path = lock_path_for(socket_path)
    assert stat.S_ISSOCK(os.lstat(socket_path).st_mode)
    assert lock_path.read_text().strip() == str(first.pid)
    port = free_port()
    env = bot_environment(short_dir, BOT_HTTP_PORT=str(port))
    third = await start_bot_process(short_dir, env)
    try:
        await wait_listening(port)
        assert lock_path.read_text().strip() == str(third.pid)
        assert await socat_send(socket_path, pretty(started("after-the-crash"))) == 0
        await wait_accepted(port, 1)
        process, err = await run_refused_bot(short_dir, env)
        assert_refused(process, err, socket_path, third.pid)

        third.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(third.wait(), DEADLINE) == 0
    finally:
        await kill_hard(third)
    assert not socket_path.exists()
    assert lock_path.exists()  # never deleted: a second starter must lock the same file as the first


async def test_the_running_bot_takes_its_path_back_from_a_foreign_listener(short_dir: Path) -> None:
    """KGSM's `events socket test` deletes the path and binds a listener of its own there, without any lock."""
    port = free_port()
    env = bot_environment(short_dir, BOT_HTTP_PORT=str(port))
    socket_path = Path(env["KGSM_SOCKET_PATH"])
    bot = await start_bot_process(short_dir, env)
    intruder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await wait_listening(port)
        socket_path.unlink()
        intruder.bind(str(socket_path))
        intruder.listen(1)
        intruder_inode = os.lstat(socket_path).st_ino

        await wait_listening(port, rebinds=1)
        assert os.lstat(socket_path).st_ino != intruder_inode
        assert await socat_send(socket_path, pretty(started("after-the-test"))) == 0
        await wait_accepted(port, 1)
        process, err = await run_refused_bot(short_dir, env)  # the path is still the running bot's
        assert_refused(process, err, socket_path, bot.pid)
    finally:
        intruder.close()
        await kill_hard(bot)


async def test_the_client_role_takes_no_lock(running: RunningSource, short_dir: Path) -> None:
    """A relay-reading bot does not own the path: it starts next to the socket's owner and locks nothing."""
    port = free_port()
    env = bot_environment(short_dir, BOT_HTTP_PORT=str(port), KGSM_SOCKET_ROLE="client")
    env["KGSM_SOCKET_PATH"] = str(running.path)
    client = await start_bot_process(short_dir, env)
    try:

        async def answering() -> bool:
            return await healthz(port) is not None

        await eventually(answering, "the client-role bot answers /healthz")
        assert client.returncode is None
    finally:
        await kill_hard(client)


# ------------------------------------------------------------------------------ the lock file itself, in-process


async def test_a_second_source_in_the_same_process_is_refused_without_touching_the_socket(
    running: RunningSource, socket_settings: SocketSettings
) -> None:
    inode = os.lstat(running.path).st_ino
    second = SocketServerSource(socket_settings, Intake(Collector(), IntakeStats()), Supervisor())
    with pytest.raises(SocketInUseError, match=f"pid {os.getpid()}") as refused:
        await second.start()
    assert isinstance(refused.value, SocketPathError)
    assert str(running.path) in str(refused.value)
    assert os.lstat(running.path).st_ino == inode
    assert await socat_send(running.path, pretty(started("still-here"))) == 0
    await running.collector.wait_count(1)


@pytest.mark.parametrize(("mode", "expected"), [(0o660, 0o660), (0o600, 0o600), (0o664, 0o660)])
async def test_the_lock_file_has_the_socket_mode_without_bits_for_others(
    settings_with: Callable[..., SocketSettings], mode: int, expected: int
) -> None:
    old_umask = os.umask(0)
    try:
        running = await start_source(settings_with(mode=mode))
    finally:
        os.umask(old_umask)
    try:
        info = os.lstat(lock_path_for(running.path))
        assert stat.S_ISREG(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == expected
        assert info.st_gid == os.lstat(running.path).st_gid
    finally:
        await running.source.stop()


async def test_the_lock_file_gets_the_socket_group(settings_with: Callable[..., SocketSettings]) -> None:
    # Root may give the files any group; another user only one of its own.
    candidates = [g.gr_gid for g in grp.getgrall()] if os.geteuid() == 0 else os.getgroups()
    gid = next((g for g in candidates if g != os.getgid()), os.getgid())
    running = await start_source(settings_with(group=str(gid)))
    try:
        assert os.lstat(lock_path_for(running.path)).st_gid == gid
        assert os.lstat(running.path).st_gid == gid
    finally:
        await running.source.stop()


async def test_a_leftover_lock_file_open_to_everyone_is_tightened(socket_settings: SocketSettings) -> None:
    lock_path = lock_path_for(socket_settings.path)
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text("99999999\n")
    lock_path.chmod(0o666)
    running = await start_source(socket_settings)
    try:
        assert stat.S_IMODE(os.lstat(lock_path).st_mode) == 0o660
        assert lock_path.read_text() == f"{os.getpid()}\n"
    finally:
        await running.source.stop()


async def test_a_symlink_at_the_lock_path_is_refused_and_its_target_kept(socket_settings: SocketSettings) -> None:
    socket_settings.path.parent.mkdir(parents=True)
    target = socket_settings.path.parent / "precious"
    target.write_text("precious")
    lock_path_for(socket_settings.path).symlink_to(target)
    source = SocketServerSource(socket_settings, Intake(Collector(), IntakeStats()), Supervisor())
    with pytest.raises(SocketPathError, match="symbolic link"):
        await source.start()
    assert target.read_text() == "precious"
    assert not socket_settings.path.exists()


async def test_stopping_keeps_the_lock_file_and_frees_the_path(socket_settings: SocketSettings) -> None:
    first = await start_source(socket_settings)
    lock_path = lock_path_for(first.path)
    inode = os.lstat(lock_path).st_ino
    await first.source.stop()
    assert lock_path.exists()
    assert lock_path.read_text() == ""
    second = await start_source(socket_settings)
    try:
        assert os.lstat(lock_path).st_ino == inode
        assert await socat_send(second.path, pretty(started("next"))) == 0
        await second.collector.wait_count(1)
    finally:
        await second.source.stop()


async def test_a_deleted_lock_file_is_locked_again_so_the_path_stays_claimed(
    running: RunningSource, socket_settings: SocketSettings
) -> None:
    """A cleaner of /run may delete the lock file; the running bot makes and locks a new one."""
    lock_path = lock_path_for(running.path)
    lock_path.unlink()

    async def relocked() -> bool:
        return lock_path.exists() and lock_path.read_text() == f"{os.getpid()}\n"

    await eventually(relocked, "the running source locks a new lock file")
    second = SocketServerSource(socket_settings, Intake(Collector(), IntakeStats()), Supervisor())
    with pytest.raises(SocketInUseError):
        await second.start()
    assert running.source.healthy
    assert await socat_send(running.path, pretty(started("still-mine"))) == 0
    await running.collector.wait_count(1)


async def test_a_bot_whose_lock_file_was_taken_over_steps_aside(running: RunningSource) -> None:
    """If another process holds the file now at the lock path, the path is that process's: stop listening."""
    lock_path = lock_path_for(running.path)
    taker = lock_path.with_name("taker")
    fd = os.open(taker, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242\n")
        os.replace(taker, lock_path)  # atomically: the watcher never sees the path without a held lock

        async def stepped_aside() -> bool:
            return not running.source.healthy

        await eventually(stepped_aside, "the source reports unhealthy")
        assert await socat_send(running.path, pretty(started("nobody-listens"))) != 0
        assert running.collector.events == []
    finally:
        os.close(fd)
