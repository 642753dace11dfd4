"""The daily digest, the whole bot against the fake Discord, with a clock the test turns: posted once at the
set time, not again after a restart that day, late (once) after an outage over the time, never for a day
without events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cogs.test_commands import send_all
from tests.conftest import CHANNEL_C, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord

DIGEST = {"KGSM_DIGEST_CHANNEL_ID": str(CHANNEL_C), "KGSM_DIGEST_TIME": "09:00"}
HOSTILE = "@everyone\u202e**boom**\ud800"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(event_type: str, when: str, instance: str = "valheim", **data: Any) -> dict[str, Any]:
    return {"EventType": event_type, "Data": {"InstanceName": instance, **data}, "Timestamp": when}


DAY = [  # 2026-08-14
    at("instance_ready", "2026-08-13T23:00:00Z"),
    at("instance_player_joined", "2026-08-14T08:00:00Z", PlayerName="Ada"),
    at("instance_player_joined", "2026-08-14T08:05:00Z", PlayerName="Bob"),
    at("instance_player_left", "2026-08-14T09:00:00Z", PlayerName="Ada"),
    at("instance_backup_created", "2026-08-14T10:00:00Z"),
    at("instance_crashed", "2026-08-14T12:00:00Z", ExitCode="137"),
    at("instance_restarted", "2026-08-14T12:00:40Z"),
    at("instance_update_started", "2026-08-14T18:00:00Z"),
    at("instance_version_updated", "2026-08-14T18:01:00Z", NewVersion="2.0"),
    at("instance_update_finished", "2026-08-14T18:02:00Z"),
    at("instance_started", "2026-08-14T18:03:00Z"),
    at("instance_started", "2026-08-14T20:00:00Z", instance=HOSTILE),
]


async def digests(fake: FakeDiscord) -> list[dict[str, Any]]:
    await asyncio.sleep(0.3)  # anything wrongly posted would be there by now
    return fake.messages(CHANNEL_C)


async def posted(fake: FakeDiscord, live: LiveBot) -> list[dict[str, Any]]:
    await fake.wait_for(lambda: live.bot.delivery.pending == 0 or None, timeout=5)
    return await digests(fake)


async def test_posted_once_at_the_time_with_the_days_numbers_and_not_again_after_a_restart(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    clock = Clock(datetime(2026, 8, 15, 8, 59, tzinfo=UTC))
    live = await start_bot(clock=clock, **DIGEST)
    await send_all(fake, live, *DAY)
    assert live.bot.digest is not None
    await live.bot.digest.tick()
    assert await digests(fake) == []  # 08:59: not yet

    clock.now = datetime(2026, 8, 15, 9, 0, 5, tzinfo=UTC)
    await asyncio.gather(live.bot.digest.tick(), live.bot.digest.tick())  # even twice at once: one message
    (message,) = await fake.wait_for_messages(CHANNEL_C, 1)
    embed = message["embeds"][0]
    assert embed["title"] == "📊 Daily digest — Friday 14 August 2026 (UTC)"
    lines = embed["description"].splitlines()
    valheim = next(line for line in lines if line.startswith("**valheim**"))
    assert valheim == (
        f"**valheim** — {100 * (86400 - 40 - 180) / 86400:.2f} % up · 1 crash · 1 update · 1 backup · peak 2 players"
    )
    hostile = next(line for line in lines if "everyone" in line)
    assert "@everyone" not in hostile
    assert "\u202e" not in hostile
    assert "Posted late" not in embed["footer"]["text"]
    (post,) = [
        r for r in fake.requests_to("POST /channels/{channel_id}/messages") if r.params["channel_id"] == str(CHANNEL_C)
    ]
    assert post.json["allowed_mentions"] == {"parse": []}  # nobody is ever pinged by a digest

    clock.now += timedelta(minutes=30)
    await live.bot.digest.tick()
    await live.stop()
    again = await start_bot(clock=clock, **DIGEST)  # the same day, the same database
    assert again.bot.digest is not None
    await again.bot.digest.tick()
    assert len(await posted(fake, again)) == 1
    async with again.bot.store.session() as db, db.execute("SELECT event_id FROM deliveries") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["digest:2026-08-14"]


async def test_after_an_outage_over_the_time_the_missed_day_is_posted_once_late(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    clock = Clock(datetime(2026, 8, 15, 8, 0, tzinfo=UTC))
    live = await start_bot(clock=clock, **DIGEST)
    await send_all(fake, live, *DAY)
    await live.stop()

    clock.now = datetime(2026, 8, 15, 12, 0, tzinfo=UTC)  # back three hours after the digest time
    back = await start_bot(clock=clock, **DIGEST)
    assert back.bot.digest is not None
    await back.bot.digest.tick()
    assert await digests(fake) == []  # a late digest first lets the journals catch up
    clock.now += timedelta(minutes=3)
    await back.bot.digest.tick()
    await back.bot.digest.tick()
    (message,) = await fake.wait_for_messages(CHANNEL_C, 1)
    embed = message["embeds"][0]
    assert "14 August 2026" in embed["title"]
    assert embed["footer"]["text"].startswith("Posted late: the bot was not running at the digest time.")
    valheim = next(line for line in embed["description"].splitlines() if line.startswith("**valheim**"))
    assert "(no data for" not in valheim  # the outage was on the 15th, not on the day of the digest
    assert len(await posted(fake, back)) == 1


async def test_a_day_without_events_has_no_digest_and_only_the_latest_missed_day_is_posted(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    clock = Clock(datetime(2026, 8, 14, 23, 0, tzinfo=UTC))
    live = await start_bot(clock=clock, **DIGEST)
    await send_all(fake, live, *DAY)
    await live.stop()

    clock.now = datetime(2026, 8, 16, 9, 1, tzinfo=UTC)  # the 14th's digest was missed; the 15th had no event
    back = await start_bot(clock=clock, **DIGEST)
    assert back.bot.digest is not None
    clock.now += timedelta(minutes=3)
    await back.bot.digest.tick()
    assert await digests(fake) == []
    assert await back.bot.store.get_fact("digest.last_day") == "2026-08-15"
    clock.now += timedelta(days=1)  # the 16th had no event either
    await back.bot.digest.tick()
    assert await digests(fake) == []


async def test_no_digest_without_its_channel(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(clock=Clock(datetime(2026, 8, 15, 10, 0, tzinfo=UTC)))
    assert live.bot.digest is None
    assert "digest" not in live.bot.supervisor.tasks
