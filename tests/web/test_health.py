"""/healthz and /metrics over real HTTP, on a bot connected to the fake Discord."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import aiohttp
import pytest

from tests.conftest import DEFAULT_CHANNEL, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import free_port, pretty, socat_send, started


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


async def get_json(port: int, path: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.json()


async def test_healthz_is_200_with_gateway_outbox_and_last_event(fake: FakeDiscord, start_bot: StartBot) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port))
    status, body = await get_json(port, "/healthz")
    assert status == 200
    assert body["status"] == "ok"
    assert body["gateway"] == "connected"
    assert body["outbox_depth"] == 0
    assert body["last_event_age_seconds"] is None
    assert body["source"]["listening"] is True
    await socat_send(live.socket_path, pretty(started("factorio")))
    await fake.wait_for(lambda: live.bot.stats.accepted == 1)
    _, body = await get_json(port, "/healthz")
    assert 0 <= body["last_event_age_seconds"] < 5


@pytest.mark.parametrize("kind", ["file", "directory"])
async def test_healthz_is_503_naming_what_is_in_the_way_while_the_socket_path_is_not_a_socket(
    fake: FakeDiscord, start_bot: StartBot, kind: str
) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port))
    path = live.socket_path
    path.unlink()
    content = b"somebody's file\n\x00\xff" * 100
    if kind == "file":
        path.write_bytes(content)
    else:
        path.mkdir()
        (path / "keep").write_bytes(content)

    async def health() -> int:
        return (await get(port, "/healthz"))[0]

    async def becomes(expected: int) -> None:
        while await health() != expected:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(becomes(503), 5)
    await asyncio.sleep(1.0)  # several rounds of the watcher: none may touch it
    status, body = await get_json(port, "/healthz")
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["source"]["listening"] is False
    reason = body["problems"]["source"]
    assert reason == body["source"]["problem"]
    assert str(path) in reason
    assert ("a regular file" if kind == "file" else "a directory") in reason
    assert "remove it" in reason
    assert (path if kind == "file" else path / "keep").read_bytes() == content
    if kind == "file":
        path.unlink()
    else:
        shutil.rmtree(path)
    await asyncio.wait_for(becomes(200), 5)
    assert await socat_send(path, pretty(started("after"))) == 0
    await fake.wait_for(lambda: live.bot.stats.accepted == 1)
    _, body = await get_json(port, "/healthz")
    assert body["source"] == {"listening": True, "path": str(path), "problem": None, "rebinds": 1}


async def test_metrics_count_received_and_refused_events(fake: FakeDiscord, start_bot: StartBot) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port))
    await socat_send(live.socket_path, pretty(started("a")) + b"not json\n" + pretty({"Data": {}}))
    await socat_send(live.socket_path, pretty(started("b")))
    await fake.wait_for(lambda: live.bot.stats.received == 4)
    status, text = await get(port, "/metrics")
    assert status == 200
    lines = set(text.splitlines())
    assert "kgsm_events_received_total 4.0" in lines
    assert 'kgsm_events_refused_total{reason="not_json"} 1.0' in lines
    assert 'kgsm_events_refused_total{reason="no_event_type"} 1.0' in lines
    assert "kgsm_source_rebinds_total 0.0" in lines
    assert "kgsm_outbox_depth 0.0" in lines
    assert any(line.startswith('kgsm_discord_messages_total{kind="posted"}') for line in lines)


async def test_metrics_count_rebinds(fake: FakeDiscord, start_bot: StartBot) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port))
    live.socket_path.unlink()
    await fake.wait_for(lambda: live.bot.stats.rebinds == 1)
    _, text = await get(port, "/metrics")
    assert "kgsm_source_rebinds_total 1.0" in text.splitlines()


async def test_healthz_is_503_while_the_database_is_read_only_and_200_when_it_resumes(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    """The full disk is in tests/e2e/test_faults_runtime.py; here the database refuses every write (as on a
    read-only mount): events wait, /healthz says why, and everything is posted once it can be stored."""
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    await live.bot.store.db.execute("PRAGMA query_only = ON")
    for name in ("r0", "r1", "r2"):
        assert await socat_send(live.socket_path, pretty(started(name))) == 0
    await fake.wait_for(lambda: live.bot.stats.accepted == 3)
    status, body = await get_json(port, "/healthz")
    assert status == 503
    assert "cannot be written" in body["problems"]["store"]
    assert "readonly" in body["problems"]["store"]
    assert body["store"] == {"writable": False}
    assert body["waiting_to_be_stored"] == 3
    await asyncio.sleep(0.5)
    assert fake.posts(DEFAULT_CHANNEL) == [], "nothing is posted that is not stored"

    await live.bot.store.db.execute("PRAGMA query_only = OFF")
    await asyncio.wait_for(live.bot.recorder.flush(), 30)
    await asyncio.wait_for(live.bot.delivery.drain(), 10)
    titles = [embed["title"] for message in fake.messages(DEFAULT_CHANNEL) for embed in message["embeds"]]
    assert sorted(title.split()[1] for title in titles) == ["r0", "r1", "r2"]
    status, body = await get_json(port, "/healthz")
    assert (status, body["problems"], body["outbox_depth"]) == (200, {}, 0)
    assert live.bot.supervisor.restarts == {}
