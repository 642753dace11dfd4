"""Delivery end to end: live operation messages, batching, outages, crashes, rate limits and the status board."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.board import StatusBoard
from bot.delivery.presence import Presence
from bot.events import OPERATIONS
from tests.conftest import CHANNEL_A, CHANNEL_B, CHANNEL_C, DEFAULT_CHANNEL, TOKEN, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord, fast_discord_retries
from tests.helpers import bot_environment, pretty, socat_send, start_bot_process, started

INSTALL = list(OPERATIONS["install"].checklist)


def step(event_type: str, instance: str, **data: Any) -> dict[str, Any]:
    return {"EventType": event_type, "Data": {"InstanceName": instance, **data}, "Actor": "discord:ada"}


def embeds_in(fake: FakeDiscord, channel: int) -> list[dict[str, Any]]:
    return [embed for message in fake.messages(channel) for embed in message["embeds"]]


async def send(live: LiveBot, *documents: dict[str, Any], spacing: float = 0.0) -> None:
    for document in documents:
        assert await socat_send(live.socket_path, pretty(document)) == 0
        if spacing:
            await asyncio.sleep(spacing)


async def settled(fake: FakeDiscord, live: LiveBot, received: int) -> None:
    await fake.wait_for(lambda: live.bot.stats.received >= received, timeout=10)
    await live.bot.recorder.flush()
    await asyncio.wait_for(live.bot.delivery.drain(), 20)


async def test_an_install_is_one_message_edited_in_place(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    events = [step(t, "minecraft", Blueprint="minecraft") for t in INSTALL]
    events.insert(-1, step("instance_version_updated", "minecraft", OldVersion="", NewVersion="1.21"))
    assert len(events) == 13
    await send(live, *events, spacing=0.14)  # 13 events within 2 seconds
    await settled(fake, live, 13)

    assert len(fake.posts(DEFAULT_CHANNEL)) == 1
    assert len(fake.patches(DEFAULT_CHANNEL)) <= 4
    (message,) = fake.messages(DEFAULT_CHANNEL)
    (embed,) = message["embeds"]
    assert embed["title"] == "✅ minecraft installed"
    assert embed["color"] == 0x2ECC71
    checklist = embed["description"].splitlines()[2:]
    assert len(checklist) == 13
    assert all(line.startswith("✅") for line in checklist)
    assert "12/12" in embed["description"]
    assert embed["footer"]["text"] == "by discord:ada"


async def test_a_failed_download_turns_the_message_red_naming_the_step(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    events = [step(t, "minecraft") for t in INSTALL[:5]] + [step("instance_download_failed", "minecraft")]
    await send(live, *events)
    await settled(fake, live, len(events))
    (message,) = fake.messages(DEFAULT_CHANNEL)
    (embed,) = message["embeds"]
    assert embed["title"] == "❌ minecraft: install failed at “download failed”"
    assert embed["color"] == 0xE74C3C
    assert "❌ download failed" in embed["description"]
    assert "▫️ files deployed" in embed["description"]


async def test_two_installs_at_once_are_two_messages(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    interleaved = [step(t, name) for t in INSTALL for name in ("alpha", "beta")]
    await send(live, *interleaved)
    await settled(fake, live, len(interleaved))
    titles = sorted(message["embeds"][0]["title"] for message in fake.messages(DEFAULT_CHANNEL))
    assert titles == ["✅ alpha installed", "✅ beta installed"]
    assert len(fake.posts(DEFAULT_CHANNEL)) == 2


async def test_a_new_operation_after_the_last_one_finished_is_a_new_message(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    backup = ["instance_backup_started", "instance_backup_created", "instance_backup_finished"]
    await send(live, *(step(t, "valheim", Source="v-1") for t in backup))
    await send(live, *(step(t, "valheim", Source="v-2") for t in backup))
    await settled(fake, live, 6)
    assert [m["embeds"][0]["title"] for m in fake.messages(DEFAULT_CHANNEL)] == ["✅ valheim backed up"] * 2
    assert [m["embeds"][0]["color"] for m in fake.messages(DEFAULT_CHANNEL)] == [0x2ECC71] * 2  # done is green


async def test_standalone_events_waiting_together_share_a_message(fake: FakeDiscord, start_bot: StartBot) -> None:
    """A host reboot that starts 30 servers: a few messages of up to 10 embeds, not 30."""
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    await send(live, *(started(f"server-{n:02d}") for n in range(30)))
    await settled(fake, live, 30)
    assert len(embeds_in(fake, DEFAULT_CHANNEL)) == 30
    assert len(fake.posts(DEFAULT_CHANNEL)) <= 4
    assert all(len(message["embeds"]) <= 10 for message in fake.messages(DEFAULT_CHANNEL))
    names = [embed["title"].split()[1] for embed in embeds_in(fake, DEFAULT_CHANNEL)]
    assert names == [f"server-{n:02d}" for n in range(30)]


async def test_three_500s_then_success_delivers_once(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    fake.fail_posts(500, count=3)
    with fast_discord_retries():
        await send(live, started("factorio"))
        await settled(fake, live, 1)
    assert len(fake.messages(DEFAULT_CHANNEL)) == 1
    assert len(fake.posts(DEFAULT_CHANNEL)) == 4


@pytest.mark.parametrize("status", [500, 503])
async def test_an_outage_loses_nothing_and_delivers_in_order_after_recovery(
    fake: FakeDiscord, start_bot: StartBot, status: int
) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    live.bot.delivery.busy_window = 0  # one message per event, to check the order of many messages
    fake.fail_posts(status)
    with fast_discord_retries():
        await send(live, *(started(f"s{n}") for n in range(5)))
        await fake.wait_for(lambda: live.bot.delivery.stats.retries >= 2, timeout=10)
        assert fake.messages(DEFAULT_CHANNEL) == []
        fake.recover()
        await settled(fake, live, 5)
    names = [embed["title"].split()[1] for embed in embeds_in(fake, DEFAULT_CHANNEL)]
    assert names == [f"s{n}" for n in range(5)]


async def test_a_lost_response_is_not_posted_twice(fake: FakeDiscord, start_bot: StartBot) -> None:
    """Discord created the message but the answer was lost: the retry carries the same nonce."""
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    fake.lose_post_responses(503, count=2)
    await send(live, started("factorio"))
    await settled(fake, live, 1)
    assert len(fake.messages(DEFAULT_CHANNEL)) == 1
    assert len(fake.posts(DEFAULT_CHANNEL)) == 3


async def _bot_process(fake: FakeDiscord, short_dir: Path) -> asyncio.subprocess.Process:
    env = bot_environment(
        short_dir,
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        DISCORD_GUILD_ID=str(fake.guild_id),
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL),
    )
    process = await start_bot_process(short_dir, env)
    await fake.wait_for(lambda: fake.connected, timeout=20)
    return process


@pytest.mark.parametrize("failure", ["outage", "lost-responses"])
async def test_kill_9_with_undelivered_events_then_restart_delivers_each_exactly_once(
    fake: FakeDiscord, short_dir: Path, failure: str
) -> None:
    bot = await _bot_process(fake, short_dir)
    if failure == "outage":
        fake.fail_posts(503)
    else:
        fake.lose_post_responses(503)
    for n in range(5):
        assert await socat_send(short_dir / "kgsm.sock", pretty(started(f"s{n}"))) == 0
    await fake.wait_for(lambda: len(fake.posts(DEFAULT_CHANNEL)) >= 2, timeout=20)
    bot.send_signal(signal.SIGKILL)
    await bot.wait()
    fake.recover()

    bot = await _bot_process(fake, short_dir)
    try:
        await fake.wait_for(lambda: len(embeds_in(fake, DEFAULT_CHANNEL)) >= 5, timeout=20)
        await asyncio.sleep(1.5)  # anything doubled would arrive now
        names = [embed["title"].split()[1] for embed in embeds_in(fake, DEFAULT_CHANNEL)]
        assert sorted(names) == [f"s{n}" for n in range(5)]
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 20)


async def test_300_lifecycle_events_of_30_servers_are_delivered_batched_without_429(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.rate_limit(per_channel=5, per_seconds=1.0)
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    # No pacing of the bot's own: discord.py reads the fake's bucket headers and waits before it would be refused.
    # (Crashes are not among them: a crash loop is one live message per incident, see test_incidents.py.)
    kinds = ["instance_started", "instance_ready", "instance_stopped", "instance_player_left", "instance_player_joined"]
    events = [step(kinds[n % 5], f"server-{n % 30:02d}", ExitCode="1", PlayerName="Ada") for n in range(300)]
    await send(live, *events)
    await settled(fake, live, 300)
    assert len(embeds_in(fake, DEFAULT_CHANNEL)) == 300
    assert len(fake.posts(DEFAULT_CHANNEL)) <= 40
    assert fake.rate_limited_count == 0


async def test_the_status_board_is_one_message_edited_and_comes_back_once_when_deleted(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StatusBoard, "interval", 0.1)
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C))
    for n in range(100):
        await socat_send(live.socket_path, pretty(started(f"server-{n % 10}")))
    await settled(fake, live, 100)
    await fake.wait_for(lambda: "10 of 10 up" in str(fake.messages(CHANNEL_C)), timeout=5)
    assert len(fake.posts(CHANNEL_C)) == 1
    assert len(fake.patches(CHANNEL_C)) >= 1
    (board,) = fake.messages(CHANNEL_C)

    await fake.delete_message(CHANNEL_C, int(board["id"]))
    await send(live, {"EventType": "instance_crashed", "Data": {"InstanceName": "server-3"}})
    await fake.wait_for(lambda: len(fake.messages(CHANNEL_C)) == 1, timeout=5)
    await asyncio.sleep(0.5)
    assert len(fake.posts(CHANNEL_C)) == 2
    (board,) = fake.messages(CHANNEL_C)
    assert "9 of 10 up" in board["embeds"][0]["title"]
    assert await live.bot.store.get_fact("status_board_message") == board["id"]


async def test_the_status_board_message_id_survives_a_restart(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C))
    await send(live, started("factorio"))
    await fake.wait_for(lambda: len(fake.messages(CHANNEL_C)) == 1, timeout=5)
    board = live.bot.board
    assert board is not None
    await fake.wait_for(lambda: board.writes >= 1, timeout=5)  # its message id is saved, not only posted
    await live.stop()
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C))
    await fake.wait_for(lambda: len(fake.patches(CHANNEL_C)) >= 1, timeout=5)
    assert len(fake.posts(CHANNEL_C)) == 1


async def test_presence_counts_servers_and_online(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Presence, "interval", 0.1)
    live = await start_bot()
    await send(live, started("a"), started("b"), {"EventType": "instance_stopped", "Data": {"InstanceName": "b"}})
    await fake.wait_for(lambda: any("2 servers · 1 online" in str(p) for p in fake.presences), timeout=5)


async def test_undelivered_messages_are_sent_at_start_up(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_CHANNELS=f"factorio={CHANNEL_A},valheim={CHANNEL_B}")
    fake.fail_posts(503)
    await send(live, started("factorio"), started("valheim"))
    await fake.wait_for(lambda: live.bot.delivery.stats.retries >= 2, timeout=10)
    await live.stop()
    fake.recover()
    await start_bot(KGSM_CHANNELS=f"factorio={CHANNEL_A},valheim={CHANNEL_B}")
    await fake.wait_for_messages(CHANNEL_A)
    await fake.wait_for_messages(CHANNEL_B)
