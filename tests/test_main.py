"""SIGTERM: stop accepting, finish open connections, flush the store, remove the socket, exit 0 within 10 s,
also while connected to Discord with messages not yet delivered (they wait in the outbox, and are posted once
after the restart). And a start-up that fails exits too."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_CHANNEL, TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import bot_environment, free_port, pretty, run_to_exit, socat_send, start_bot_process, started


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
    bot, text = await run_to_exit(short_dir, env, 20)
    assert bot.returncode == 2, text[-2000:]
    last = text.strip().splitlines()[-1]
    assert last.startswith("kgsm-bot: ")
    assert str(socket_path) in last
    assert "Traceback" not in text


def _connected_env(fake: FakeDiscord, short_dir: Path) -> dict[str, str]:
    return bot_environment(
        short_dir,
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        DISCORD_GUILD_ID=str(fake.guild_id),
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL),
    )


async def _terminate(bot: asyncio.subprocess.Process) -> tuple[int | None, float, str]:
    """SIGTERM; the exit status, how long it took and what it said."""
    sent_at = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), 20)
    return bot.returncode, time.monotonic() - sent_at, err.decode()


def _delivered(short_dir: Path) -> int:
    """Deliveries the bot has marked done (read as another program would, while it runs)."""
    with contextlib.closing(sqlite3.connect(f"file:{short_dir / 'data' / 'kgsm-bot.sqlite3'}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'done'").fetchone()[0])


def _subjects(fake: FakeDiscord) -> list[str]:
    return [embed["title"].split()[1] for message in fake.messages(DEFAULT_CHANNEL) for embed in message["embeds"]]


@pytest.mark.parametrize("failure", ["outage", "lost-responses"])
async def test_sigterm_while_connected_to_discord_keeps_the_outbox_and_posts_nothing_twice(
    fake: FakeDiscord, short_dir: Path, failure: str
) -> None:
    env = _connected_env(fake, short_dir)
    bot = await start_bot_process(short_dir, env, stderr=asyncio.subprocess.PIPE)
    await fake.wait_for(lambda: fake.connected, timeout=20)
    if failure == "outage":
        fake.fail_posts(503)
    else:
        fake.lose_post_responses(503)  # Discord creates the messages, the bot never hears so
    for n in range(5):
        assert await socat_send(short_dir / "kgsm.sock", pretty(started(f"s{n}"))) == 0
    await fake.wait_for(lambda: len(fake.posts(DEFAULT_CHANNEL)) >= 2, timeout=20)  # a delivery is under way

    status, elapsed, err = await _terminate(bot)
    assert status == 0, err[-2000:]
    assert elapsed < 10, "a stop keeps to its budget"
    assert "Traceback" not in err
    assert not (short_dir / "kgsm.sock").exists()
    gateway = fake.gateway_connections[-1]
    await fake.wait_for(lambda: gateway.closed_at is not None, timeout=5)
    assert not gateway.closed_by_server, "the bot closed its gateway connection itself"
    with sqlite3.connect(short_dir / "data" / "kgsm-bot.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM events WHERE dispatched = 1").fetchone() == (5,)
        assert db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall() == [("pending", 5)]

    fake.recover()
    bot = await start_bot_process(short_dir, env, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_for(lambda: _delivered(short_dir) == 5, timeout=20)
        await asyncio.sleep(1.5)  # anything doubled would arrive now
    finally:
        status, _, err = await _terminate(bot)
    assert sorted(_subjects(fake)) == [f"s{n}" for n in range(5)]
    assert status == 0, err[-2000:]
    with sqlite3.connect(short_dir / "data" / "kgsm-bot.sqlite3") as db:
        assert db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall() == [("done", 5)]
