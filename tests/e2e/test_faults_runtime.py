"""Fault injection while the bot runs (issue 13): poison input, Discord answering 429 and 503, a full disk,
failing tasks, a stop while a part fails, pruning under load, the status board across a crash.

Each test asserts what a person sees (every event posted exactly once, counted by server in the fake
Discord), that /healthz tells the truth at each step, and that no restart of the bot is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.delivery import lanes as delivery_module
from bot.delivery.board import MESSAGE_FACT, StatusBoard
from bot.events import parse_event
from bot.store import database as store_module
from bot.store.database import Store
from tests.conftest import CHANNEL_C, DEFAULT_CHANNEL, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.faults import fill, health, metric, posted_subjects, send, settled, started, tmpfs
from tests.helpers import free_port

SECRET = "a-long-shared-secret-for-tests"
# Valid JSON, invalid Unicode: a lone surrogate escape (90 bytes), as issue 13 found it.
POISON = b'{"EventType":"instance_started","Data":{"InstanceName":"poison","Note":"\\ud800 broken text"}}\n'


def line(instance: str, **extra: Any) -> bytes:
    document = {"V": 1, "EventType": "instance_started", "Data": {"InstanceName": instance}, **extra}
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


async def webhook(port: int, body: bytes) -> int:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-KGSM-Signature": signature, "X-KGSM-Timestamp": str(int(time.time()))}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/kgsm/webhook", data=body, headers=headers) as response,
    ):
        return response.status


async def test_a_lone_surrogate_deafens_nothing_through_socket_journal_or_webhook(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    journal = short_dir / "lib" / "kgsm" / "events"
    journal.mkdir(parents=True)
    segment = journal / "2026-12-01.ndjson"
    segment.touch()
    port = free_port()
    live = await start_bot(
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET
    )
    await send(live, POISON, started("after-socket"))
    with segment.open("ab") as out:
        out.write(POISON.replace(b"poison", b"poison-journal").rstrip() + b"\n" + line("after-journal"))
    assert await webhook(port, POISON.replace(b"poison", b"poison-webhook")) == 200
    assert await webhook(port, line("after-webhook")) == 200
    await settled(live, 6)

    posted = posted_subjects(fake)
    for name in ("poison", "poison-journal", "poison-webhook", "after-socket", "after-journal", "after-webhook"):
        assert posted[name] == 1, name
    texts = json.dumps([m["embeds"] for m in fake.messages(DEFAULT_CHANNEL)], ensure_ascii=False)
    assert "\ufffd broken text" in texts  # shown, with a replacement character where the surrogate was
    status, body = await health(port)
    assert (status, body["problems"]) == (200, {})
    assert live.bot.supervisor.restarts == {}


async def test_429_ten_times_in_a_row_is_waited_out_and_posted_once(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    fake.fail_posts(429, count=10)
    await send(live, started("patient"))
    await settled(live, 1)
    assert posted_subjects(fake) == {"patient": 1}
    statuses = [record.status for record in fake.posts(DEFAULT_CHANNEL)]
    assert statuses.count(429) == 10
    assert statuses[-1] == 200
    async with live.bot.store.db.execute("SELECT status FROM deliveries") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["done"]


async def test_503_for_a_long_while_loses_and_doubles_nothing(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_module, "MAX_RETRY_DELAY", 0.5)  # minutes of outage, in seconds
    port = free_port()
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), BOT_HTTP_PORT=str(port))
    fake.fail_posts(503)
    await send(live, *(started(f"s{n}") for n in range(12)))
    await fake.wait_for(lambda: len(fake.posts(DEFAULT_CHANNEL)) >= 8, timeout=20)
    status, body = await health(port)
    assert status == 200  # the bot itself is fine: Discord is not, and nothing a restart could fix
    assert body["outbox_depth"] == 12
    assert fake.messages(DEFAULT_CHANNEL) == []
    fake.recover()
    await settled(live, 12)
    assert posted_subjects(fake) == {f"s{n}": 1 for n in range(12)}


async def test_a_permanent_4xx_fails_only_that_delivery_with_its_reason_said_once(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    fake.fail_posts(400, count=2)
    with caplog.at_level(logging.ERROR, logger="bot.delivery.lanes"):
        for received, name in enumerate(("refused-1", "refused-2", "fine"), start=1):
            await send(live, started(name))
            await settled(live, received)
    assert posted_subjects(fake) == {"fine": 1}
    async with live.bot.store.db.execute("SELECT status, error FROM deliveries ORDER BY id") as cursor:
        rows = [tuple(row) for row in await cursor.fetchall()]
    assert [status for status, _ in rows] == ["failed", "failed", "done"]
    assert rows[0][1].startswith("400")
    assert sum("Discord refused a message" in r.getMessage() for r in caplog.records) == 1


async def test_a_full_disk_keeps_events_in_memory_says_why_and_resumes_by_itself(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    data = short_dir / "data"
    with tmpfs(data, "4m") as mounted:
        if not mounted:
            pytest.skip("this machine does not allow mounting a tmpfs (needs root), so no disk can fill up here")
        port = free_port()
        live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), BOT_HTTP_PORT=str(port))
        await send(live, started("before"))
        await settled(live, 1)

        # An emptied WAL first: else a checkpoint that ran just before lets the next commit reuse the WAL file's
        # blocks, and the first event is stored (rightly) although the disk is full (a race the test lost once).
        async with live.bot.store.session() as db, db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
            assert tuple(await cursor.fetchone() or ()) == (0, 0, 0)
        filler = fill(data)
        await send(live, *(started(f"while-full-{n}") for n in range(20)))
        status, body = await health(port)
        assert status == 503
        assert "full" in body["problems"]["store"]
        await asyncio.sleep(1)
        assert "while-full-0" not in posted_subjects(fake)  # nothing is posted that is not stored
        assert live.bot.recorder.pending == 20

        filler.unlink()
        await settled(live, 21)
        assert posted_subjects(fake) == {"before": 1, **{f"while-full-{n}": 1 for n in range(20)}}
        status, body = await health(port)
        assert (status, body["problems"]) == (200, {})
        await live.stop()


async def test_a_task_that_fails_is_restarted_counted_and_named_by_healthz(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StatusBoard, "interval", 0.05)
    port = free_port()
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C), BOT_HTTP_PORT=str(port))
    await fake.wait_for(lambda: fake.messages(CHANNEL_C), timeout=10)
    board = live.bot.board
    assert board is not None
    real_render = board._render
    failures = [RuntimeError("a renderer bug met a strange server")]

    def render_once_broken(states: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_render(states)

    board._render = render_once_broken
    await send(live, started("trigger"))
    seen = await fake.wait_for(lambda: "status-board" in str(live.bot.supervisor.problems()), timeout=10)
    assert seen
    status, body = await health(port)
    assert status == 503
    assert "a renderer bug" in body["problems"]["task status-board"]
    await fake.wait_for(lambda: "1 of 1 up" in str(fake.messages(CHANNEL_C)), timeout=10)
    status, body = await health(port)
    assert (status, body["problems"]) == (200, {})
    assert await metric(port, 'kgsm_task_restarts_total{task="status-board"}') == 1
    assert len(fake.messages(CHANNEL_C)) == 1


async def test_a_delivery_lane_that_fails_keeps_the_message_it_held(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    real = live.bot.delivery._render_run
    failures = [ValueError("broken once")]

    def render_once_broken(run: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(run)

    live.bot.delivery._render_run = render_once_broken
    steps = ("instance_backup_started", "instance_backup_created", "instance_backup_finished")
    await send(live, *(json.dumps({"EventType": t, "Data": {"InstanceName": "v"}}).encode() for t in steps))
    await settled(live, 3)
    (message,) = fake.messages(DEFAULT_CHANNEL)
    assert message["embeds"][0]["title"] == "✅ v backed up"
    assert live.bot.supervisor.restarts == {f"deliver-{DEFAULT_CHANNEL}": 1}


async def test_a_stop_stops_every_part_even_when_one_fails(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()

    async def broken_stop() -> None:
        raise OSError("the journal directory vanished mid-stop")

    live.bot.journals.stop = broken_stop  # type: ignore[method-assign]
    await asyncio.wait_for(live.stop(), 10)
    assert live.bot.is_closed()
    assert live.bot.store._db is None
    assert not live.socket_path.exists()
    assert live.bot.supervisor.tasks == {}


async def test_pruning_a_large_backlog_lets_new_events_in_between_its_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PRUNE_BATCH", (100, 100, 100))
    store = Store(tmp_path)
    await store.open()
    old = datetime.now(UTC) - timedelta(days=400)
    stamp = old.isoformat().replace("+00:00", "Z")
    backlog = [
        parse_event({"EventType": "instance_started", "Id": f"old-{n}", "Timestamp": stamp}) for n in range(5000)
    ]
    await store.insert_events(backlog)
    pruning = asyncio.create_task(store.prune(datetime.now(UTC) - timedelta(days=90)))
    await asyncio.sleep(0)
    await store.insert_events([parse_event({"EventType": "instance_started", "Id": "new", "Data": {}})])
    assert not pruning.done(), "the new event had to wait for the whole prune"
    assert await pruning == 5000
    assert await store.count_events() == 1
    await store.close()


async def test_the_status_board_is_posted_once_even_when_a_crash_lost_its_message_id(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C))
    await send(live, started("factorio"))
    await fake.wait_for(lambda: live.bot.board is not None and live.bot.board.writes >= 1, timeout=10)
    # A crash between the post and saving its id leaves the nonce saved and no id.
    await live.bot.store.transaction(lambda db: db.execute("DELETE FROM facts WHERE key = ?", (MESSAGE_FACT,)))
    await live.stop()
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C))
    await fake.wait_for(lambda: len(fake.posts(CHANNEL_C)) == 2, timeout=10)
    await fake.wait_for(lambda: live.bot.board is not None and live.bot.board.writes >= 1, timeout=10)
    (board,) = fake.messages(CHANNEL_C)
    assert await live.bot.store.get_fact(MESSAGE_FACT) == board["id"]
