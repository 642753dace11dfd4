"""What each answer of Discord means for a delivery: discord.py's client against the fake Discord, every
refusal sorted into retry later, channel unavailable, message gone, or refused for good."""

from __future__ import annotations

import discord
import pytest

from bot.delivery.poster import (
    TRANSIENT,
    ChannelUnavailable,
    DiscordPoster,
    MessageGone,
    Rejected,
    RetryLater,
    embed_chars,
)
from tests.conftest import CHANNEL_A, FORBIDDEN_CHANNEL, GONE_CHANNEL
from tests.fakes.discord_server import INJECTED_RETRY_AFTER, FakeDiscord, fast_discord_retries

EMBED = {"title": "🟢 factorio — started", "description": "@everyone **factorio** has started."}


@pytest.fixture
def poster(client: discord.Client) -> DiscordPoster:
    return DiscordPoster(client)


async def test_a_post_carries_its_nonce_and_pings_nobody(fake: FakeDiscord, poster: DiscordPoster) -> None:
    message_id = await poster.post(CHANNEL_A, [EMBED], "kgsm-b1")
    (message,) = fake.messages(CHANNEL_A)
    assert int(message["id"]) == message_id
    (post,) = fake.posts(CHANNEL_A)
    assert (post.json["nonce"], post.json["enforce_nonce"]) == ("kgsm-b1", True)
    assert post.json["allowed_mentions"] == {"parse": []}
    assert message["mention_everyone"] is False
    await poster.edit(CHANNEL_A, message_id, [{**EMBED, "title": "edited"}])
    assert fake.messages(CHANNEL_A)[0]["embeds"][0]["title"] == "edited"
    assert fake.patches(CHANNEL_A)[0].json["allowed_mentions"] == {"parse": []}


async def test_the_same_nonce_twice_is_one_message(fake: FakeDiscord, poster: DiscordPoster) -> None:
    first = await poster.post(CHANNEL_A, [EMBED], "kgsm-b7")
    assert await poster.post(CHANNEL_A, [EMBED], "kgsm-b7") == first
    assert len(fake.messages(CHANNEL_A)) == 1


async def test_an_invalid_body_is_refused_for_good(poster: DiscordPoster) -> None:
    with pytest.raises(Rejected, match=r"^400 .*Invalid Form Body"):
        await poster.post(CHANNEL_A, [{"title": "x" * 257}], "kgsm-b2")


@pytest.mark.parametrize("channel", [GONE_CHANNEL, FORBIDDEN_CHANNEL], ids=["gone", "forbidden"])
async def test_a_channel_gone_or_closed_to_the_bot_is_unavailable(poster: DiscordPoster, channel: int) -> None:
    with pytest.raises(ChannelUnavailable):
        await poster.post(channel, [EMBED], "kgsm-b3")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_discord_py_gave_up_on_is_retried_later(
    fake: FakeDiscord, poster: DiscordPoster, status: int
) -> None:
    fake.fail_posts(status)
    with fast_discord_retries(), pytest.raises(RetryLater, match=f"^{status} "):
        await poster.post(CHANNEL_A, [EMBED], "kgsm-b4")
    assert issubclass(RetryLater, TRANSIENT)


async def test_a_rate_limit_discord_py_did_not_wait_out_is_retried_after_its_retry_after(
    fake: FakeDiscord, poster: DiscordPoster
) -> None:
    fake.fail_posts(429)
    with pytest.raises(RetryLater) as refused:
        await poster.post(CHANNEL_A, [EMBED], "kgsm-b5")
    assert refused.value.retry_after == pytest.approx(INJECTED_RETRY_AFTER)


async def test_editing_a_deleted_message_says_it_is_gone_and_a_gone_channel_says_so_too(
    fake: FakeDiscord, poster: DiscordPoster
) -> None:
    message_id = await poster.post(CHANNEL_A, [EMBED], "kgsm-b6")
    await fake.delete_message(CHANNEL_A, message_id)
    with pytest.raises(MessageGone):
        await poster.edit(CHANNEL_A, message_id, [EMBED])
    with pytest.raises(ChannelUnavailable):
        await poster.edit(GONE_CHANNEL, message_id, [EMBED])


def test_embed_chars_counts_what_discord_counts_against_6000() -> None:
    embed = {
        "title": "abc",
        "description": "de",
        "footer": {"text": "f"},
        "author": {"name": "gh"},
        "fields": [{"name": "i", "value": "jk"}],
        "color": 123456,
        "url": "https://not-counted.example",
    }
    assert embed_chars(embed) == 11
