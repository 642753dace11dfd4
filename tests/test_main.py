"""SIGTERM: stop accepting, finish open connections, flush the store, remove the socket, exit 0 within 10 s.
And a start-up that fails exits too."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from pathlib import Path

from tests.helpers import bot_environment, free_port, pretty, start_bot_process, started


async def test_sigterm_finishes_open_connections_and_exits_cleanly(short_dir: Path) -> None:
    socket_path = short_dir / "kgsm.sock"
    port = free_port()
    env = bot_environment(short_dir, BOT_HTTP_PORT=str(port))
    bot = await start_bot_process(short_dir, env, stderr=asyncio.subprocess.PIPE)
    health = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "health", cwd=short_dir, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await health.wait() == 0

    payload = pretty(started("in-flight"))
    reader, writer = await asyncio.open_unix_connection(str(socket_path))
    writer.write(payload[:15])
    await writer.drain()
    sent_at = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    writer.write(payload[15:])
    writer.write_eof()
    _, err = await asyncio.wait_for(bot.communicate(), 15)
    elapsed = time.monotonic() - sent_at
    writer.close()
    del reader

    assert bot.returncode == 0, err.decode()[-2000:]
    assert elapsed < 10
    assert not socket_path.exists()
    with sqlite3.connect(short_dir / "data" / "kgsm-bot.sqlite3") as db:
        assert db.execute("SELECT instance FROM events").fetchall() == [("in-flight",)]


async def test_a_start_up_refused_after_the_database_opened_still_exits_2(short_dir: Path) -> None:
    """A path too long for a Unix socket fails at bind, after the store is open; its thread must not hang the exit."""
    socket_path = short_dir / ("d" * 100) / "kgsm.sock"
    env = bot_environment(short_dir, KGSM_SOCKET_PATH=str(socket_path))
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=short_dir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(bot.communicate(), 20)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert bot.returncode == 2, err.decode()[-2000:]
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("kgsm-bot: ")
    assert str(socket_path) in last
    assert "Traceback" not in err.decode()
