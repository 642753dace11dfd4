"""The HTTP server's limits over real sockets, written byte by byte with asyncio streams: a request that trickles
in or whose body never comes is cut off at the deadline, a body in two TCP pieces is read whole, and a crowd of
slow clients neither keeps a webhook out nor uses up file descriptors. And the webhook on a disk that is full."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sources import webhook
from bot.web import guard as http_guard
from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.faults import fill, tmpfs
from tests.helpers import database_held, free_port
from tests.sources.test_webhook import SECRET, event, kgsm_post

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


def request_head(body: bytes, *, length: int | None = None) -> bytes:
    """The headers KGSM's wget sends for `body`, signed in hex, declaring `length` (the body's own by default)."""
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return (
        "POST /kgsm/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"User-Agent: KGSM/3.1.0\r\nX-KGSM-Timestamp: {int(time.time())}\r\nX-KGSM-Retry-Count: 0\r\n"
        f"X-KGSM-Signature: sha256={signature}\r\nContent-Length: {len(body) if length is None else length}\r\n\r\n"
    ).encode()


async def connect(port: int) -> tuple[Reader, Writer]:
    return await asyncio.open_connection("127.0.0.1", port)


async def response_of(reader: Reader) -> tuple[int, dict[str, Any]]:
    """The bot's one response on a connection (it closes the connection after it)."""
    raw = await asyncio.wait_for(reader.read(), 10)
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


async def until_cut_off(reader: Reader, timeout: float = 20.0) -> bytes:
    """Wait until the bot closes the connection (an end of stream or a reset); returns what it sent first."""
    received = bytearray()

    async def read_to_the_end() -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(1024):
                received.extend(chunk)

    await asyncio.wait_for(read_to_the_end(), timeout)
    return bytes(received)


async def close(writer: Writer) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def healthz(port: int) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


async def start(start_bot: StartBot) -> tuple[LiveBot, int]:
    port = free_port()
    live = await start_bot(
        BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL)
    )
    return live, port


async def test_headers_trickling_in_are_cut_off_at_the_deadline_and_the_next_request_is_served(
    fake: FakeDiscord,
    start_bot: StartBot,
    short_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(http_guard, "DEADLINE", 2.0)
    live, port = await start(start_bot)
    reader, writer = await connect(port)

    async def one_byte_a_second() -> None:
        for byte in request_head(json.dumps(event()).encode()):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1)

    trickling = asyncio.create_task(one_byte_a_second())
    try:
        assert await until_cut_off(reader) == b""  # closed, not answered
    finally:
        trickling.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await trickling
        await close(writer)
    assert live.bot.stats.refused == {"timeout": 1}
    assert live.bot.web is not None
    await fake.wait_for(lambda: live.bot.web is not None and live.bot.web.guard.open_connections == 0)

    assert await healthz(port) == 200
    assert "200 OK" in await kgsm_post(port, json.dumps(event("valheim")).encode(), short_dir)
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "valheim" in message["embeds"][0]["title"]
    assert errors_logged(caplog) == []


async def test_a_declared_body_that_never_comes_is_cut_off_at_the_deadline(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(http_guard, "DEADLINE", 1.0)
    live, port = await start(start_bot)
    body = json.dumps(event()).encode()
    reader, writer = await connect(port)
    writer.write(request_head(body) + body[:10])  # the headers promise the whole body; a tenth of it comes
    await writer.drain()
    try:
        assert await until_cut_off(reader) == b""
    finally:
        await close(writer)
    assert live.bot.stats.refused == {"timeout": 1}
    assert live.bot.stats.accepted == 0
    assert await live.bot.store.count_events() == 0
    assert await healthz(port) == 200
    assert errors_logged(caplog) == []


async def test_a_signed_body_in_two_pieces_apart_is_read_whole_and_posted_once(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live, port = await start(start_bot)
    body = json.dumps(event("satisfactory")).encode()
    half = len(body) // 2
    reader, writer = await connect(port)
    try:
        writer.write(request_head(body) + body[:half])
        await writer.drain()
        await asyncio.sleep(0.3)  # the second TCP piece comes later, as over a slow link
        writer.write(body[half:])
        await writer.drain()
        assert await response_of(reader) == (200, {"status": "stored"})
    finally:
        await close(writer)
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "satisfactory" in message["embeds"][0]["title"]
    await asyncio.wait_for(live.bot.delivery.drain(), 5)
    assert len(fake.posts(DEFAULT_CHANNEL)) == 1
    assert live.bot.stats.refused == {}


async def test_a_body_over_the_limit_is_413_whatever_it_declares(fake: FakeDiscord, start_bot: StartBot) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_MAX_PAYLOAD_BYTES="1024")
    body = json.dumps({**event(), "Data": {"InstanceName": "x", "Blob": "y" * 3000}}).encode()
    reader, writer = await connect(port)
    try:  # chunked: no length to refuse it by, so the bot counts what comes and stops past the limit
        head = request_head(body).replace(f"Content-Length: {len(body)}".encode(), b"Transfer-Encoding: chunked")
        pieces = [body[start : start + 500] for start in range(0, len(body), 500)]
        writer.write(head + b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        status, answer = await response_of(reader)
    finally:
        await close(writer)
    assert (status, answer["error"]) == (413, "too_large")
    assert live.bot.stats.refused == {"too_large": 1}


def server_side_sockets(port: int) -> int:
    """How many of this process's descriptors are connections accepted on `port` (from /proc/net/tcp*)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
                if local_port == port and state != "0A":  # 0A: the listening socket itself
                    inodes.add(inode)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            count += target.startswith("socket:[") and target[len("socket:[") : -1] in inodes
    return count


SLOW_CLIENTS = 1000


async def test_a_thousand_slow_clients_neither_keep_a_webhook_out_nor_use_up_descriptors(
    fake: FakeDiscord,
    start_bot: StartBot,
    short_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(http_guard, "DEADLINE", 120.0)  # they stay for the whole test unless pushed out
    live, port = await start(start_bot)
    web = live.bot.web
    assert web is not None
    baseline = len(os.listdir("/proc/self/fd"))
    clients: list[Writer] = []
    try:
        for _ in range(SLOW_CLIENTS):
            _, writer = await connect(port)
            writer.write(b"POST /kgsm/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
            clients.append(writer)
        busy = SLOW_CLIENTS - http_guard.MAX_CONNECTIONS
        await fake.wait_for(lambda: live.bot.stats.refused["busy"] == busy, timeout=30)
        await fake.wait_for(lambda: server_side_sockets(port) <= http_guard.MAX_CONNECTIONS, timeout=10)
        assert web.guard.open_connections == http_guard.MAX_CONNECTIONS
        # This process holds the clients' ends too: without the cap it would hold twice as many.
        assert len(os.listdir("/proc/self/fd")) - baseline <= SLOW_CLIENTS + http_guard.MAX_CONNECTIONS + 16

        answer = await kgsm_post(port, json.dumps(event("factorio")).encode(), short_dir)
        assert "200 OK" in answer
        assert '"stored"' in answer
        (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
        assert "factorio" in message["embeds"][0]["title"]
        assert await healthz(port) == 200
        assert server_side_sockets(port) <= http_guard.MAX_CONNECTIONS
    finally:
        for writer in clients:
            writer.close()
    assert set(live.bot.stats.refused) == {"busy"}
    said = [record for record in caplog.records if "refused input from http" in record.getMessage()]
    assert len(said) == 1  # some 940 refusals, one line (the next would come after a minute)
    await fake.wait_for(lambda: web.guard.open_connections == 0, timeout=10)


async def test_when_every_place_is_being_answered_a_new_connection_gets_503_at_once(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_guard, "MAX_CONNECTIONS", 2)
    live, port = await start(start_bot)
    assert live.bot.web is not None
    guard = live.bot.web.guard
    held: list[tuple[Reader, Writer]] = []
    async with database_held(live.bot.store.path):  # /healthz's test write waits for it: answers are held back
        for _ in range(2):
            held.append(await connect(port))
            held[-1][1].write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await fake.wait_for(lambda: guard.open_connections == 2 and guard.arriving_connections == 0)
        reader, writer = await connect(port)
        refused = await until_cut_off(reader, timeout=5)
        await close(writer)
        assert refused.startswith(b"HTTP/1.1 503 Service Unavailable")
        assert b"too many connections" in refused
        assert live.bot.stats.refused == {"busy": 1}
    for reader, writer in held:
        assert (await until_cut_off(reader)).startswith(b"HTTP/1.1 ")  # answered in the end, and closed
        await close(writer)
    assert await healthz(port) == 200


async def test_while_the_disk_is_full_the_answer_is_503_and_the_retry_is_posted_once(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "STORE_DEADLINE", 1.0)
    data = short_dir / "data"
    with tmpfs(data, "4m") as mounted:
        if not mounted:
            pytest.skip("this machine does not allow mounting a tmpfs (needs root), so no disk can fill up here")
        live, port = await start(start_bot)
        body = json.dumps({"EventType": "instance_started", "Data": {"InstanceName": "no-room"}}).encode()
        filler = fill(data)
        assert "503 Service Unavailable" in await kgsm_post(port, body, short_dir)
        await fake.wait_for(lambda: live.bot.store.problem)
        assert "full" in str(live.bot.store.problem)
        assert fake.posts() == []  # nothing is posted that is not stored

        filler.unlink()

        async def kgsm_retries() -> str:
            while "200 OK" not in (answer := await kgsm_post(port, body, short_dir)):
                assert "503" in answer
                await asyncio.sleep(0.2)
            return answer

        assert '"duplicate"' in await asyncio.wait_for(kgsm_retries(), 30)  # stored from the first attempt
        await fake.wait_for_messages(DEFAULT_CHANNEL)
        await asyncio.wait_for(live.bot.delivery.drain(), 5)
        assert len(fake.posts(DEFAULT_CHANNEL)) == 1
        assert await live.bot.store.count_events() == 1
        await live.stop()
