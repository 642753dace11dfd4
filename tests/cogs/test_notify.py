"""/notify test against the fake Discord: a test message in every channel the bot uses, each answered with ✅ or
with ❌ and the reason in plain words; once per 30 s per server; Manage Server in a served server only."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from bot.app.community import REFUSAL
from bot.render.text import safe
from tests.cogs.test_commands import EPHEMERAL, MANAGER
from tests.conftest import (
    CHANNEL_A,
    CHANNEL_B,
    CHANNEL_C,
    DEFAULT_CHANNEL,
    FORBIDDEN_CHANNEL,
    GONE_CHANNEL,
    LiveBot,
    StartBot,
)
from tests.fakes.discord_server import DEFAULT_MEMBER_PERMISSIONS, FakeDiscord

MUTE_CHANNEL = 777777777777777777  # the bot may see it, not post in it
NO_EMBED_CHANNEL = 888888888888888888  # the bot may post, not embed links
STRANGER = 1_190_000_000_000_000_100  # someone else's server, where the bot was added
SECOND = 1_190_000_000_000_000_300  # a second community the bot serves
SECOND_CHANNEL = 1_190_000_000_000_000_301
GENERAL_ROLE = 999999999999999999
FACTORIO_ROLE = 999999999999999998
HOSTILE_MEMBER = "@here **a** \u202e[x](https://e.co)"
HOSTILE = "**boss** @everyone <@&999999999999999999> `x` \u202e [link](https://evil.example) ||spoiler||"
SETTINGS = {
    "KGSM_DEFAULT_CHANNEL_ID": str(DEFAULT_CHANNEL),
    "KGSM_CHANNELS": f"factorio={CHANNEL_A},rust={MUTE_CHANNEL},terraria={NO_EMBED_CHANNEL},valheim={GONE_CHANNEL}",
    "KGSM_STATUS_CHANNEL_ID": str(CHANNEL_B),
    "KGSM_DIGEST_CHANNEL_ID": str(FORBIDDEN_CHANNEL),
    "KGSM_ALERT_ROLE_ID": f"{GENERAL_ROLE},factorio={FACTORIO_ROLE}",
}
EXPECTED = [
    "The test message arrived whole in 3 of 7 channels:",
    f"✅ <#{DEFAULT_CHANNEL}> — default · alerts for <@&{GENERAL_ROLE}>",
    f"✅ <#{CHANNEL_A}> — factorio · alerts for <@&{FACTORIO_ROLE}>",
    f"❌ <#{MUTE_CHANNEL}> ({MUTE_CHANNEL}) — rust · alerts for <@&{GENERAL_ROLE}>: "
    "the bot cannot post there (it needs Send Messages)",
    f"❌ <#{NO_EMBED_CHANNEL}> ({NO_EMBED_CHANNEL}) — terraria · alerts for <@&{GENERAL_ROLE}>: "
    "the bot cannot embed links there (it needs Embed Links: without it, its posts are refused)",
    f"❌ <#{GONE_CHANNEL}> ({GONE_CHANNEL}) — valheim · alerts for <@&{GENERAL_ROLE}>: "
    "the channel is gone (deleted, or a wrong id)",
    f"✅ <#{CHANNEL_B}> — status board",
    f"❌ <#{FORBIDDEN_CHANNEL}> ({FORBIDDEN_CHANNEL}) — daily digest: "
    "the bot cannot see the channel (it needs View Channel)",
]
TESTED = [DEFAULT_CHANNEL, CHANNEL_A, MUTE_CHANNEL, NO_EMBED_CHANNEL, GONE_CHANNEL, CHANNEL_B, FORBIDDEN_CHANNEL]


@pytest.fixture
def channels(fake: FakeDiscord) -> FakeDiscord:
    """The fake Discord with a channel closed to the bot's posts and one where it may not embed links."""
    fake.add_channel(MUTE_CHANNEL, name="read-only")
    fake.add_channel(NO_EMBED_CHANNEL, name="no-embeds")
    fake.mute_channels.add(MUTE_CHANNEL)
    fake.no_embed_channels.add(NO_EMBED_CHANNEL)
    return fake


async def run_test(fake: FakeDiscord, **kwargs: Any) -> list[str]:
    """/notify test; every line of the private answer (the deferral's follow-ups, or the refusal)."""
    kwargs.setdefault("member_permissions", MANAGER)
    interaction = await fake.invoke_slash("notify", {}, subcommand="test", **kwargs)
    bodies = await fake.wait_interaction_messages(interaction, timeout=20)
    callback = fake.interaction(interaction).callback
    assert callback is not None
    assert callback["data"]["flags"] & EPHEMERAL, "the answer is private"
    assert all(body.get("flags", EPHEMERAL) & EPHEMERAL for body in bodies)
    return [line for body in bodies for line in str(body.get("content") or "").splitlines()]


def posted_tests(fake: FakeDiscord) -> dict[int, list[dict[str, Any]]]:
    """The test posts the fake received, by channel: every post with a text (the lanes post embeds only)."""
    posts: dict[int, list[dict[str, Any]]] = {}
    for record in fake.posts():
        if record.json.get("content"):
            posts.setdefault(int(record.params["channel_id"]), []).append(record.json)
    return posts


def deliveries(live: LiveBot) -> int:
    with sqlite3.connect(live.bot.store.path) as db:
        return int(db.execute("SELECT count(*) FROM deliveries").fetchone()[0])


async def test_every_channel_is_answered_with_its_reason_and_nothing_is_retried_stored_or_pinged(
    channels: FakeDiscord, start_bot: StartBot
) -> None:
    fake = channels
    fake.add_user(fake.DEFAULT_USER_ID, name="Ada")
    live = await start_bot(**SETTINGS)

    assert await run_test(fake) == EXPECTED

    posts = posted_tests(fake)
    assert sorted(posts) == sorted(TESTED)
    assert all(len(bodies) == 1 for bodies in posts.values()), "a test post is tried once"
    for bodies in posts.values():
        (body,) = bodies
        assert body["allowed_mentions"] == {"parse": []}
        assert body["content"] == (
            "🧪 **Test message** from /notify test, asked for by Ada. Nothing has happened on the servers."
        )
    (default,) = fake.messages(DEFAULT_CHANNEL)
    assert default["embeds"][0]["description"] == (
        "• Events of every server without a channel of its own, and the bot's own notices.\n"
        f"• Danger alerts, which mention <@&{GENERAL_ROLE}>."
    )
    (factorio,) = fake.messages(CHANNEL_A)
    assert "Events of **factorio**." in factorio["embeds"][0]["description"]
    (terraria,) = fake.messages(NO_EMBED_CHANNEL)
    assert terraria["embeds"] == []
    assert "Test message" in terraria["content"], "the text says what it is even without the embed"
    assert fake.messages(MUTE_CHANNEL) == []
    assert deliveries(live) == 0, "test posts are not events: nothing in the outbox"


async def test_once_per_30_s_in_a_server_and_a_refused_member_does_not_count(
    channels: FakeDiscord, start_bot: StartBot
) -> None:
    fake = channels
    await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))

    refused = await run_test(fake, member_permissions=DEFAULT_MEMBER_PERMISSIONS, enforce_permissions=False)
    assert refused == ["Only members with the **Manage Server** permission can change the bot's notifications."]
    assert fake.posts() == []

    assert await run_test(fake) == [
        "The test message arrived whole in 1 of 1 channels:",
        f"✅ <#{DEFAULT_CHANNEL}> — default",
    ]
    (again,) = await run_test(fake)
    assert re.fullmatch(r"/notify test runs once every 30 s in a server; try again in \d+ s\.", again)
    assert len(posted_tests(fake)[DEFAULT_CHANNEL]) == 1


async def test_a_strangers_server_gets_the_refusal_and_no_post(channels: FakeDiscord, start_bot: StartBot) -> None:
    fake = channels
    fake.add_channel(STRANGER + 1, STRANGER, name="their-general")
    await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), KGSM_CHANNELS=f"factorio={CHANNEL_A}")

    for _ in range(2):  # the owner of that server has Manage Server there, and no cooldown was started
        assert await run_test(fake, guild_id=STRANGER, command_guild_id=fake.guild_id) == [REFUSAL]
    assert fake.posts() == []


async def test_hostile_names_of_members_servers_and_channels_are_inert(
    channels: FakeDiscord, start_bot: StartBot
) -> None:
    fake = channels
    fake.add_user(fake.DEFAULT_USER_ID, name=HOSTILE_MEMBER)
    fake.add_channel(CHANNEL_C + 1, name=HOSTILE)
    live = await start_bot(KGSM_CHANNELS=f"factorio={CHANNEL_C + 1}")
    live.bot.router.bind(HOSTILE, CHANNEL_C + 1)

    reply = await run_test(fake)

    assert reply[1] == f"✅ <#{CHANNEL_C + 1}> — {safe(HOSTILE.lower())}, factorio"
    (posted,) = fake.messages(CHANNEL_C + 1)
    text = posted["content"]
    assert f"asked for by {safe(HOSTILE_MEMBER)}." in text
    assert f"**{safe(HOSTILE.lower())}**" in posted["embeds"][0]["description"]
    for shown in [*reply, text, posted["embeds"][0]["description"]]:
        assert "@everyone" not in shown
        assert "@here" not in shown
        assert "<@&" not in shown
        assert "\u202e" not in shown
        assert "](" not in shown
        assert HOSTILE not in shown
        assert HOSTILE_MEMBER not in shown


async def test_discord_unavailable_in_one_channel_and_another_servers_channels_left_to_it(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.add_channel(SECOND_CHANNEL, SECOND, name="second-general")
    fake.fail_posts(503, channel_id=CHANNEL_A)
    await start_bot(
        DISCORD_GUILD_ID=f"{fake.guild_id},{SECOND}",
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL),
        KGSM_CHANNELS=f"factorio={CHANNEL_A},alpha={SECOND_CHANNEL}",
    )

    assert await run_test(fake) == [
        "The test message arrived whole in 1 of 2 channels:",
        f"✅ <#{DEFAULT_CHANNEL}> — default",
        f"❌ <#{CHANNEL_A}> ({CHANNEL_A}) — factorio: Discord is unavailable right now; try again later",
    ]
    assert fake.posts(SECOND_CHANNEL) == [], "the other server's channels are tested from there"
    assert await run_test(fake, guild_id=SECOND, channel_id=SECOND_CHANNEL) == [
        "The test message arrived whole in 1 of 1 channels:",
        f"✅ <#{SECOND_CHANNEL}> — alpha",
    ]
