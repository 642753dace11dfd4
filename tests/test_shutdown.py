"""SIGTERM: stop accepting, finish open connections, flush the store, remove the socket, exit 0 within 10 s."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

from tests.helpers import free_port, pretty, started

ROOT = Path(__file__).resolve().parents[1]


async def test_sigterm_finishes_open_connections_and_exits_cleanly(short_dir: Path) -> None:
    socket_path = short_dir / "kgsm.sock"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "KGSM_", "BOT_"))},
        "PYTHONPATH": str(ROOT),
        "KGSM_SOCKET_PATH": str(socket_path),
        "BOT_DATA_DIR": str(short_dir / "data"),
        "BOT_HTTP_PORT": str(port),
    }
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=short_dir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(200):
        if socket_path.exists():
            break
        await asyncio.sleep(0.05)
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
