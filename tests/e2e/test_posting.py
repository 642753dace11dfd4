"""End to end: KGSM payloads written with socat reach the fake Discord as embeds in the right channels."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.bot import KGSMBot
from bot.events import OPERATIONS, Severity, Subject, canonical_type, kind_of, parse_event
from bot.render.palette import BLUE, ORANGE, RED, event_colour
from tests.conftest import (
    CHANNEL_A,
    CHANNEL_B,
    CHANNEL_C,
    DEFAULT_CHANNEL,
    FORBIDDEN_CHANNEL,
    GONE_CHANNEL,
    TOKEN,
    StartBot,
    bot_settings,
)
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import FIXTURES, pretty, socat_send, started

JOURNAL = [json.loads(line) for line in (FIXTURES / "journal" / "2026-08-14.ndjson").read_text().splitlines()]
# One KGSM payload per catalogued legacy type (the journal holds every type KGSM emitted until 2026-08).
PAYLOADS = {document["EventType"]: document for document in JOURNAL if document.get("V") == 1}
CATALOGUE = json.loads((FIXTURES / "catalogue.json").read_text())
RUN_OPENERS = {opener for operation in OPERATIONS.values() for opener in operation.opens}
INCIDENT_OPENERS = next(operation.opens for operation in OPERATIONS.values() if operation.incident)


def fragments_that_matter(data: dict[str, Any]) -> list[str]:
    """How each Data value must read in the embed, written from KGSM's field meanings."""
    shown = []
    for key, value in data.items():
        if key in ("InstanceName", "BlueprintName", "SessionKey", "PlayerAddr") or value is None:
            continue
        if key == "Ports":
            shown += [
                f"{p['start']}/{p['protocol']}"
                if p["start"] == p["end"]
                else f"{p['start']}-{p['end']}/{p['protocol']}"
                for p in value
            ]
        elif isinstance(value, bool):
            shown.append("yes" if value else "no")
        else:
            shown.append(str(value))
    return shown


def embed_text(embed: dict[str, Any]) -> str:
    parts = [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
    parts += [f"{field['name']}: {field['value']}" for field in embed.get("fields", [])]
    return "\n".join(parts)


def test_the_journal_fixture_covers_the_whole_legacy_catalogue() -> None:
    assert set(PAYLOADS) == set(CATALOGUE)
    assert all(kind_of(canonical_type(legacy)).known for legacy in CATALOGUE)


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
async def test_every_event_type_arrives_as_an_embed_in_its_channel(
    fake: FakeDiscord, start_bot: StartBot, event_type: str
) -> None:
    live = await start_bot(KGSM_CHANNELS=f"minecraft={CHANNEL_A}", KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    payload = PAYLOADS[event_type]
    assert await socat_send(live.socket_path, pretty(payload)) == 0

    kind = kind_of(canonical_type(event_type))
    channel = DEFAULT_CHANNEL if kind.subject is Subject.BLUEPRINT else CHANNEL_A
    (message,) = await fake.wait_for_messages(channel)
    (embed,) = message["embeds"]
    subject = payload["Data"].get("InstanceName") or payload["Data"]["BlueprintName"]
    assert subject in embed["title"]
    if kind.type in INCIDENT_OPENERS:
        # A crash, or the supervisor giving up, opens the live message of a crash incident (test_incidents.py).
        assert embed["color"] == (RED if kind.severity is Severity.DANGER else ORANGE).value
    elif kind.type in RUN_OPENERS:
        # The first step of an operation opens its live message: a checklist with this step done.
        assert f"✅ {kind.label}" in embed["description"]
        assert embed["color"] == BLUE.value
    else:
        assert kind.label in embed["title"]
        assert embed["color"] == event_colour(parse_event(payload)).value
    assert embed["timestamp"].startswith(payload["Timestamp"][:19])
    text = embed_text(embed)
    for fragment in fragments_that_matter(payload["Data"]):
        assert fragment in text, f"{fragment!r} missing from the {event_type} embed"
    assert "discord:ada" in embed["footer"]["text"]
    assert "gamehost" in embed["footer"]["text"]
    if payload["Data"].get("SessionKey"):
        assert payload["Data"]["SessionKey"] not in text
    post = fake.posts(channel)[0]
    assert post.json["allowed_mentions"] == {"parse": []}


async def test_a_mapped_instance_posts_to_each_of_its_channels(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(
        KGSM_CHANNELS=f"factorio={CHANNEL_A},valheim={CHANNEL_B},factorio={CHANNEL_C}",
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL),
    )
    await socat_send(live.socket_path, pretty(started("factorio")))
    await fake.wait_for_messages(CHANNEL_A)
    await fake.wait_for_messages(CHANNEL_C)
    await socat_send(live.socket_path, pretty(started("valheim")))
    await socat_send(live.socket_path, pretty(started("minecraft")))
    (valheim,) = await fake.wait_for_messages(CHANNEL_B)
    (minecraft,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "valheim" in valheim["embeds"][0]["title"]
    assert "minecraft" in minecraft["embeds"][0]["title"]
    assert len(fake.messages(CHANNEL_A)) == len(fake.messages(CHANNEL_C)) == 1


async def test_muted_events_are_counted_but_not_posted(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), KGSM_MUTED_EVENTS="players,instance_started")
    joined = {"EventType": "instance_player_joined", "Data": {"InstanceName": "v", "PlayerName": "Ada"}}
    await socat_send(live.socket_path, pretty(joined))
    await socat_send(live.socket_path, pretty(started("v")))
    await socat_send(live.socket_path, pretty({"EventType": "instance_stopped", "Data": {"InstanceName": "v"}}))
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "stopped" in message["embeds"][0]["title"]
    assert live.bot.stats.accepted == 3
    assert len(fake.posts()) == 1


async def test_unmapped_without_default_is_logged_once_and_not_posted(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    live = await start_bot(KGSM_CHANNELS=f"valheim={CHANNEL_B}")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            await socat_send(live.socket_path, pretty(started("factorio")))
        await socat_send(live.socket_path, pretty(started("valheim")))
        await fake.wait_for_messages(CHANNEL_B)
    assert fake.posts(CHANNEL_A) == []
    assert len(fake.posts()) == 1
    assert sum("no channel for factorio" in r.getMessage() for r in caplog.records) == 1


def embeds_in(fake: FakeDiscord, channel: int) -> list[dict[str, Any]]:
    return [embed for message in fake.messages(channel) for embed in message["embeds"]]


@pytest.mark.parametrize("broken", [GONE_CHANNEL, FORBIDDEN_CHANNEL])
async def test_a_missing_channel_is_reported_once_and_blocks_no_other(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture, broken: int
) -> None:
    live = await start_bot(
        KGSM_CHANNELS=f"factorio={broken},valheim={CHANNEL_B}", KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL)
    )
    with caplog.at_level(logging.WARNING):
        for n in range(3):
            await socat_send(live.socket_path, pretty(started("factorio", Round=str(n))))
        for n in range(3):
            await socat_send(live.socket_path, pretty(started("valheim", Round=str(n))))
        await fake.wait_for(lambda: len(embeds_in(fake, CHANNEL_B)) == 3)
        await asyncio.wait_for(live.bot.delivery.drain(), 10)
    reports = [r.getMessage() for r in caplog.records if f"cannot post in channel {broken}" in r.getMessage()]
    assert len(reports) == 1
    (notice,) = embeds_in(fake, DEFAULT_CHANNEL)
    assert f"<#{broken}>" in notice["description"]
    async with live.bot.store.db.execute(
        "SELECT status, error FROM deliveries WHERE channel_id = ?", (broken,)
    ) as cursor:
        rows = await cursor.fetchall()
    assert [row[0] for row in rows] == ["failed"] * 3
    assert all(row[1] for row in rows)


@pytest.mark.parametrize("name", ["@everyone", "<@123>", "@here"])
async def test_an_instance_named_like_a_mention_pings_nobody(fake: FakeDiscord, start_bot: StartBot, name: str) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    await socat_send(live.socket_path, pretty(started(name)))
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    post = fake.posts(DEFAULT_CHANNEL)[0].json
    assert post["allowed_mentions"] == {"parse": []}
    assert not message.get("content")
    assert message["mention_everyone"] is False
    assert message["mentions"] == []
    text = embed_text(message["embeds"][0])
    assert "@everyone" not in text
    assert "@here" not in text
    assert "<@123>" not in text


async def test_a_10000_character_value_is_posted_within_the_limits(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    await socat_send(live.socket_path, pretty(started("factorio", Log="y" * 10_000)))
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert fake.posts(DEFAULT_CHANNEL)[0].status == 200
    (log_field,) = [f for f in message["embeds"][0]["fields"] if f["name"] == "Log"]
    assert len(log_field["value"]) <= 1024
    assert log_field["value"].endswith("…")


async def test_events_received_before_ready_are_posted_after(fake: FakeDiscord, short_dir: Path) -> None:
    """The socket is open from setup_hook on; posting waits for readiness instead of failing."""
    settings = bot_settings(fake, short_dir, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    bot = KGSMBot(settings, guild_ready_timeout=0.05)
    await bot.login(TOKEN)  # runs setup_hook: the socket listens, the gateway is not connected yet
    try:
        await socat_send(bot.source.path, pretty(started("early")))
        await asyncio.sleep(0.2)
        assert fake.posts() == []
        connection = asyncio.create_task(bot.connect())
        (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
        assert "early" in message["embeds"][0]["title"]
    finally:
        await bot.close()
        await connection


async def test_the_bot_uses_no_privileged_intent(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot()
    intents = fake.identifies[0]["intents"]
    privileged = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
    assert intents & privileged == 0
