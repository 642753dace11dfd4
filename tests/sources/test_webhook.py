"""The webhook over real HTTP, signed the way KGSM signs it: wget and openssl dgst -hmac, hex (KGSM after
2025-12-07) or base64 (KGSM 2.2.0 to 2025-12-07)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sources import webhook
from tests.conftest import CHANNEL_A, CHANNEL_B, DEFAULT_CHANNEL, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import database_held, free_port

SECRET = "correct-horse-battery-staple-42"
KGSM_POST = r"""
set -eu
sig=${SIG:-$(openssl dgst -sha256 -hmac "$SECRET" < "$BODY" | awk '{print $NF}')}
wget -q -O - --server-response --post-file="$BODY" \
  --header="Content-Type: application/json" \
  --header="User-Agent: KGSM/3.1.0" \
  --header="X-KGSM-Timestamp: $STAMP" \
  --header="X-KGSM-Retry-Count: 0" \
  --header="X-KGSM-Signature: sha256=$sig" \
  "$URL" 2>&1
"""
# KGSM 2.2.0's commands/events.webhook.sh: the payload on the command line, the signature in base64.
KGSM_2_2_POST = r"""
set -eu
payload=$(cat "$BODY")
sig=${SIG:-$(echo -n "$payload" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64)}
wget -q -O - --server-response --timeout 10 \
  --header "Content-Type: application/json" \
  --header "User-Agent: KGSM/2.2.0" \
  --post-data "$payload" \
  --header "X-KGSM-Signature: sha256=$sig" \
  --header "X-KGSM-Timestamp: $STAMP" \
  --header "X-KGSM-Retry-Count: 0" \
  "$URL" 2>&1
"""


def kgsm_time(moment: datetime) -> str:
    """A timestamp as KGSM writes it: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(instance: str = "factorio", host: str = "gamehost", n: int = 1) -> dict[str, Any]:
    """A KGSM 3 event emitted just now (`n` seconds ago: events of different `n` differ)."""
    return {
        "V": 1,
        "EventType": "instance_started",
        "Data": {"InstanceName": instance},
        "Timestamp": kgsm_time(datetime.now(UTC) - timedelta(seconds=n)),
        "Hostname": host,
        "ProducerVersion": "3.1.0",
    }


async def kgsm_post(
    port: int,
    body: bytes,
    short_dir: Path,
    *,
    secret: str = SECRET,
    stamp: float | str | None = None,
    script: str = KGSM_POST,
    signature: str | None = None,
) -> str:
    """POST exactly as KGSM does; returns wget's output (server response headers and body).

    `script` is the KGSM version's way of posting; `signature` replaces what follows `sha256=`; a `stamp` given
    as text is sent as it is."""
    body_file = short_dir / f"body-{time.monotonic_ns()}.json"
    body_file.write_bytes(body)
    env = {
        "SECRET": secret,
        "BODY": str(body_file),
        "STAMP": stamp if isinstance(stamp, str) else str(int(stamp if stamp is not None else time.time())),
        "URL": f"http://127.0.0.1:{port}/kgsm/webhook",
        "PATH": "/usr/bin:/bin",
    }
    if signature is not None:
        env["SIG"] = signature
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return out.decode()


async def test_a_signed_post_arrives_and_a_retry_posts_once(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(
        BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL)
    )
    body = json.dumps(event()).encode()
    first = await kgsm_post(port, body, short_dir)
    assert "200 OK" in first
    assert '"stored"' in first
    retried = await kgsm_post(port, body, short_dir)
    assert '"duplicate"' in retried
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "factorio" in message["embeds"][0]["title"]
    assert "on gamehost" in message["embeds"][0]["footer"]["text"]
    await asyncio.wait_for(live.bot.delivery.drain(), 5)
    assert len(fake.posts(DEFAULT_CHANNEL)) == 1


async def test_wrong_signature_stale_timestamp_and_oversized_body_are_refused(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(
        BOT_HTTP_PORT=str(port),
        KGSM_WEBHOOK_SECRET=SECRET,
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL),
        KGSM_MAX_PAYLOAD_BYTES="4096",
    )
    body = json.dumps(event()).encode()
    assert "401" in await kgsm_post(port, body, short_dir, secret="not-the-secret-at-all")
    assert "400" in await kgsm_post(port, body, short_dir, stamp=time.time() - 600)
    huge = json.dumps({**event(), "Data": {"InstanceName": "x", "Blob": "y" * 10_000}}).encode()
    assert "413" in await kgsm_post(port, huge, short_dir)
    assert live.bot.stats.refused == {"bad_signature": 1, "stale": 1, "too_large": 1}
    assert await live.bot.store.count_events() == 0
    assert fake.posts() == []


async def test_a_signed_body_that_is_not_an_event_is_a_400_with_a_reason(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
    assert "400" in await kgsm_post(port, b'{"Data": {}}', short_dir)
    assert live.bot.stats.refused == {"no_event_type": 1}


async def test_without_a_secret_the_endpoint_is_off(fake: FakeDiscord, start_bot: StartBot) -> None:
    port = free_port()
    await start_bot(BOT_HTTP_PORT=str(port))
    url = f"http://127.0.0.1:{port}/kgsm/webhook"
    async with aiohttp.ClientSession() as session, session.post(url, data=b"{}") as response:
        assert response.status in (404, 405)


async def test_several_hosts_route_by_host_and_show_it(fake: FakeDiscord, start_bot: StartBot, short_dir: Path) -> None:
    port = free_port()
    await start_bot(
        BOT_HTTP_PORT=str(port),
        KGSM_WEBHOOK_SECRET=SECRET,
        KGSM_CHANNELS=f"alpha:minecraft={CHANNEL_A},minecraft={CHANNEL_B}",
    )
    await kgsm_post(port, json.dumps(event("minecraft", "alpha", 1)).encode(), short_dir)
    await kgsm_post(port, json.dumps(event("minecraft", "beta", 2)).encode(), short_dir)
    (on_alpha,) = await fake.wait_for_messages(CHANNEL_A)
    (on_beta,) = await fake.wait_for_messages(CHANNEL_B)
    assert "on alpha" in on_alpha["embeds"][0]["footer"]["text"]
    assert "on beta" in on_beta["embeds"][0]["footer"]["text"]

    interaction = await fake.invoke_slash("status")
    overview = (await fake.wait_interaction_response(interaction))["data"]["embeds"][0]
    assert [field["name"] for field in overview["fields"]] == ["alpha", "beta"]
    interaction = await fake.invoke_slash("events")
    lines = (await fake.wait_interaction_response(interaction))["data"]["embeds"][0]["description"].splitlines()
    assert "on beta" in lines[0]
    assert "on alpha" in lines[1]


def digest(body: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


async def test_a_base64_signature_of_kgsm_2_2_is_accepted_and_posted(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    answer = await kgsm_post(port, json.dumps(event("valheim")).encode(), short_dir, script=KGSM_2_2_POST)
    assert "200 OK" in answer
    assert '"stored"' in answer
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "valheim" in message["embeds"][0]["title"]


async def test_base64_with_or_without_padding_and_uppercase_hex_are_accepted(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
    bodies = [json.dumps(event(n=n)).encode() for n in range(4)]
    padded = base64.b64encode(digest(bodies[0])).decode()
    assert padded.endswith("=")
    assert '"stored"' in await kgsm_post(port, bodies[0], short_dir, script=KGSM_2_2_POST, signature=padded)
    unpadded = base64.b64encode(digest(bodies[1])).decode().rstrip("=")
    assert '"stored"' in await kgsm_post(port, bodies[1], short_dir, script=KGSM_2_2_POST, signature=unpadded)
    upper = digest(bodies[2]).hex().upper()
    assert '"stored"' in await kgsm_post(port, bodies[2], short_dir, signature=upper)
    assert '"stored"' in await kgsm_post(port, bodies[3], short_dir)  # lowercase hex, as KGSM 3 signs
    assert await live.bot.store.count_events() == 4
    assert live.bot.stats.refused == {}


async def test_a_wrong_base64_signature_is_refused(fake: FakeDiscord, start_bot: StartBot, short_dir: Path) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
    body = json.dumps(event()).encode()
    answer = await kgsm_post(port, body, short_dir, script=KGSM_2_2_POST, secret="not-the-secret-at-all")
    assert "401 Unauthorized" in answer
    assert live.bot.stats.refused == {"bad_signature": 1}
    assert await live.bot.store.count_events() == 0
    assert fake.posts() == []


WRONG_SHAPES: dict[str, Callable[[bytes], str]] = {
    # The right digest plus one byte, and its first 24 bytes: valid base64, wrong length.
    "33 bytes": lambda right: base64.b64encode(right + b"\0").decode(),
    "24 bytes": lambda right: base64.b64encode(right[:24]).decode(),
    "hex of 31 bytes": lambda right: right[:31].hex(),
    "urlsafe alphabet": lambda right: base64.urlsafe_b64encode(right).decode(),
    "double padding": lambda right: base64.b64encode(right).decode() + "=",
    "not base64": lambda right: "!" * 44,
}


async def test_a_signature_that_is_not_32_bytes_of_hex_or_base64_is_refused(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
    # A body whose digest's base64 has a + or a /, so that the URL-safe spelling differs from the standard one.
    body = next(
        body
        for body in (json.dumps(event(n=n)).encode() for n in range(60))
        if set("+/") & set(base64.b64encode(digest(body)).decode())
    )
    for name, shape in WRONG_SHAPES.items():
        answer = await kgsm_post(port, body, short_dir, script=KGSM_2_2_POST, signature=shape(digest(body)))
        assert "401 Unauthorized" in answer, name
    assert live.bot.stats.refused == {"bad_signature": len(WRONG_SHAPES)}
    assert await live.bot.store.count_events() == 0
    assert fake.posts() == []


# ------------------------------------------------------------------------ timestamps, replays, the store's 503


async def aiohttp_post(port: int, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST `body`, signed and stamped now, with aiohttp; returns the status and the JSON answer."""
    headers = {"X-KGSM-Signature": f"sha256={digest(body).hex()}", "X-KGSM-Timestamp": str(int(time.time()))}
    url = f"http://127.0.0.1:{port}/kgsm/webhook"
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_a_timestamp_header_that_is_not_recent_whole_seconds_is_a_400(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
    body = json.dumps(event()).encode()
    now = int(time.time())
    for stamp in ("nan", "1e9", "-5", "", f"{now}.5", "inf", str(now - 3600), str(now + 3600)):
        answer = await kgsm_post(port, body, short_dir, stamp=stamp)
        assert "400 Bad Request" in answer, stamp
    assert live.bot.stats.refused == {"bad_timestamp": 6, "stale": 2}
    assert '"stored"' in await kgsm_post(port, body, short_dir, stamp=str(now))
    assert live.bot.stats.refused_total == 8


async def test_a_body_whose_own_timestamp_is_a_year_old_is_stale_under_a_fresh_header(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET)
    old = {**event(), "Timestamp": kgsm_time(datetime.now(UTC) - timedelta(days=365))}
    answer = await kgsm_post(port, json.dumps(old).encode(), short_dir)
    assert "400 Bad Request" in answer
    ahead = {**event(), "Timestamp": kgsm_time(datetime.now(UTC) + timedelta(hours=1))}
    assert "400 Bad Request" in await kgsm_post(port, json.dumps(ahead).encode(), short_dir)
    seed_style = {"EventType": "instance_started", "Data": {"Instance": "x", "Timestamp": "2024-11-02T10:00:00Z"}}
    assert "400 Bad Request" in await kgsm_post(port, json.dumps(seed_style).encode(), short_dir)  # time in Data
    assert live.bot.stats.refused == {"stale": 3}
    assert await live.bot.store.count_events() == 0
    assert fake.posts() == []


async def test_a_body_without_id_or_timestamp_replayed_three_times_is_posted_once(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(
        BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL)
    )
    body = json.dumps({"EventType": "instance_started", "Data": {"InstanceName": "terraria"}}).encode()
    answers = [await kgsm_post(port, body, short_dir) for _ in range(4)]
    assert all("200 OK" in answer for answer in answers)
    assert ['"stored"' in answer for answer in answers] == [True, False, False, False]
    assert all('"duplicate"' in answer for answer in answers[1:])
    await fake.wait_for_messages(DEFAULT_CHANNEL)
    await asyncio.wait_for(live.bot.recorder.flush(), 5)
    await asyncio.wait_for(live.bot.delivery.drain(), 5)
    assert len(fake.posts(DEFAULT_CHANNEL)) == 1
    assert await live.bot.store.count_events() == 1
    # Another event of the same server, a real second start: a different body, posted.
    again = json.dumps({"EventType": "instance_started", "Data": {"InstanceName": "terraria", "Note": "2"}}).encode()
    assert '"stored"' in await kgsm_post(port, again, short_dir)
    await fake.wait_for_messages(DEFAULT_CHANNEL, 2)


async def test_while_the_database_is_locked_the_answer_is_503_and_the_retry_is_posted_once(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "STORE_DEADLINE", 1.0)
    port = free_port()
    live = await start_bot(
        BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL)
    )
    bodies = [
        json.dumps({"EventType": "instance_stopped", "Data": {"InstanceName": "rust"}}).encode(),  # no Id, no time
        json.dumps({**event("ark"), "V": 2, "Id": "01a094e5-2c01-7d79-9cf4-a94adb089847"}).encode(),
    ]
    async with database_held(live.bot.store.path):  # every write of the bot fails meanwhile
        for body in bodies:
            answer = await kgsm_post(port, body, short_dir)
            assert "503 Service Unavailable" in answer
        assert "503 Service Unavailable" in await kgsm_post(port, bodies[0], short_dir)  # KGSM's first retry
        await fake.wait_for(lambda: live.bot.store.problem, timeout=15)  # the store has tried and failed
        status, refusal = await aiohttp_post(port, bodies[1])
        assert (status, refusal["error"]) == (503, "not_stored")
        assert "database is locked" in refusal["detail"]

    async def kgsm_retries(body: bytes) -> str:
        while "200 OK" not in (answer := await kgsm_post(port, body, short_dir)):
            assert "503" in answer
            await asyncio.sleep(0.2)
        return answer

    for body in bodies:
        assert '"duplicate"' in await asyncio.wait_for(kgsm_retries(body), 30)
    await fake.wait_for_messages(DEFAULT_CHANNEL, 2, timeout=10)
    await asyncio.wait_for(live.bot.recorder.flush(), 5)
    await asyncio.wait_for(live.bot.delivery.drain(), 5)
    assert len(fake.posts(DEFAULT_CHANNEL)) == 2
    assert await live.bot.store.count_events() == 2
    assert live.bot.stats.refused == {}


async def test_the_replay_memory_forgets_after_the_window_and_beyond_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook, "MAX_CLOCK_SKEW", 0.2)
    monkeypatch.setattr(webhook, "MAX_REMEMBERED", 3)
    memory = webhook.ReplayMemory()
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(5)]
    for n, future in enumerate(futures):
        memory.remember(bytes([n]), future)
    assert len(memory) == 5  # none is stored yet: all are kept, however long the database takes
    for future in futures:
        future.set_result(True)
    await asyncio.sleep(0)  # the done-callbacks run
    assert len(memory) == 3
    assert memory.get(bytes([0])) is None
    assert memory.get(bytes([4])) is futures[4]
    await asyncio.sleep(0.3)
    assert memory.get(bytes([4])) is None
    assert len(memory) == 0
    cancelled = loop.create_future()
    memory.remember(b"x", cancelled)
    cancelled.cancel()
    assert memory.get(b"x") is None  # a body that was never queued may be sent again
