"""The test messages of /notify test, the reasons in plain words, the reply's lines; dry-run prints them."""

from __future__ import annotations

import io

import aiohttp
import pytest

from bot.delivery.checkup import (
    CHANNEL_WORDS,
    MESSAGE_LIMIT,
    NO_ANSWER,
    NO_EMBEDS,
    UNAVAILABLE,
    Outcome,
    in_words,
    labels,
    message_for,
    post_tests,
    report,
)
from bot.delivery.console import ConsolePoster
from bot.delivery.poster import ChannelUnavailable, EmbedsDropped, Rejected, RetryLater
from bot.delivery.routing import ChannelUse

A, B = 111111111111111111, 222222222222222222
ROLE = 999999999999999999


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ChannelUnavailable("404 Unknown Channel", 10003), "the channel is gone (deleted, or a wrong id)"),
        (ChannelUnavailable("403 Missing Access", 50001), "the bot cannot see the channel (it needs View Channel)"),
        (ChannelUnavailable("403 Missing Permissions", 50013), "the bot cannot post there (it needs Send Messages)"),
        (EmbedsDropped("posted without its embed"), NO_EMBEDS),
        (ChannelUnavailable("403 Cannot send messages to this user", 50007), "the bot may not post there"),
        (TimeoutError(), NO_ANSWER),
        (RetryLater("503 upstream connect error"), UNAVAILABLE),
        (aiohttp.ClientConnectionError("connection reset"), UNAVAILABLE),
        (Rejected("400 Invalid Form Body"), "Discord refused the message (400 Invalid Form Body)"),
        (KeyError("bug"), "something went wrong on the bot's side (the error is in its log)"),
    ],
)
def test_each_failure_in_plain_words(error: BaseException, words: str) -> None:
    assert in_words(error).startswith(words)


def test_words_for_every_channel_error_the_poster_knows() -> None:
    assert set(CHANNEL_WORDS) == {10003, 50001, 50013}


def test_the_test_message_says_it_is_a_test_who_asked_and_what_the_channel_is_for() -> None:
    use = ChannelUse(A, servers=("factorio",), default=True, status_board=True, digest=True, alert_roles=(ROLE,))
    text, embed = message_for(use, "Ada")
    assert text == "🧪 **Test message** from /notify test, asked for by Ada. Nothing has happened on the servers."
    assert embed["description"].splitlines() == [
        "• Events of every server without a channel of its own, and the bot's own notices.",
        "• Events of **factorio**.",
        "• The status board: one message, kept up to date.",
        "• The daily digest.",
        f"• Danger alerts, which mention <@&{ROLE}>.",
    ]
    assert "<@" not in text, "the text, where a mention could ping, names nobody"


def test_a_channel_of_many_servers_names_ten() -> None:
    use = ChannelUse(A, servers=tuple(f"s{n:02d}" for n in range(13)))
    (servers,) = labels(use)
    assert servers.endswith(", s09 and 3 more")


def test_the_reply_is_split_at_lines_within_discords_limit() -> None:
    many = tuple(f"a-server-with-a-long-name-{n:03d}" for n in range(40))
    outcomes = [Outcome(ChannelUse(A + n, servers=many), "the channel is gone") for n in range(30)]
    assert outcomes[0].line.endswith("…: the channel is gone"), "what it is for is shortened, the reason never"
    messages = report(outcomes)
    assert len(messages) > 1
    assert all(len(message) <= MESSAGE_LIMIT for message in messages)
    lines = [line for message in messages for line in message.splitlines()]
    assert lines[0] == "The test message arrived whole in 0 of 30 channels:"
    assert len(lines) == 31
    assert all(len(line) <= 400 for line in lines)
    assert all(line.startswith(f"❌ <#{A + n}> ({A + n}) — ") for n, line in enumerate(lines[1:]))


def test_no_channel_at_all_says_how_to_set_one() -> None:
    assert report([]) == [
        "The bot posts in no channel yet: set KGSM_DEFAULT_CHANNEL_ID or KGSM_CHANNELS, or use /notify bind."
    ]


async def test_dry_run_prints_each_test_message_with_its_channel() -> None:
    stream = io.StringIO()
    uses = [ChannelUse(A, default=True), ChannelUse(B, status_board=True)]
    outcomes = await post_tests(ConsolePoster(stream), uses, "Ada")
    assert report(outcomes) == [
        f"The test message arrived whole in 2 of 2 channels:\n✅ <#{A}> — default\n✅ <#{B}> — status board"
    ]
    printed = stream.getvalue()
    assert f"would post to channel {A}" in printed
    assert f"would post to channel {B}" in printed
    assert printed.count("🧪 **Test message** from /notify test, asked for by Ada.") == 2
    assert "• The status board: one message, kept up to date." in printed
