"""/notify test: a test message in every channel the bot posts in, and what came of each, in plain words.

A test post is not an event: it goes straight to the poster (`post_test`), once, each channel at the same
time and within `POST_TIMEOUT`: no outbox, no retry, no nonce of its own, mentions disabled. It carries a
text besides its embed, so that a channel where the bot may not embed links (the text arrives alone:
`EmbedsDropped`) is told apart from one where it may not post at all (50013). Alert roles are named only
inside the embed, where Discord never pings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.delivery.poster import (
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    TRANSIENT,
    UNKNOWN_CHANNEL,
    ChannelUnavailable,
    EmbedJSON,
    EmbedsDropped,
    Poster,
    Rejected,
)
from bot.delivery.routing import ChannelUse
from bot.render.palette import BLURPLE
from bot.render.text import plain, safe, truncate

log = logging.getLogger(__name__)

POST_TIMEOUT = 10.0  # seconds for one test post; discord.py's own retries of a 5xx happen within it
SERVERS_NAMED = 10  # in one line, then "and N more"
WHAT_LIMIT = 200  # characters of what a channel is for, in a line of the reply (its reason is never cut)
MESSAGE_LIMIT = 2000  # characters of a message's content

# What an answer to a post *with text* means: 50013 is then Send Messages (Embed Links is `EmbedsDropped`).
CHANNEL_WORDS = {
    UNKNOWN_CHANNEL: "the channel is gone (deleted, or a wrong id)",
    MISSING_ACCESS: "the bot cannot see the channel (it needs View Channel)",
    MISSING_PERMISSIONS: "the bot cannot post there (it needs Send Messages)",
}
NO_EMBEDS = "the bot cannot embed links there (it needs Embed Links: without it, its posts are refused)"
UNAVAILABLE = "Discord is unavailable right now; try again later"
NO_ANSWER = f"Discord did not answer within {POST_TIMEOUT:.0f} s (is it unavailable?); try again later"


@dataclass(frozen=True)
class Outcome:
    """How the test message of one channel went: `problem` in plain words, None when it arrived whole."""

    use: ChannelUse
    problem: str | None = None

    @property
    def line(self) -> str:
        """`✅ <#id> — what it is for`, or `❌ <#id> (id) — what it is for: why it failed`."""
        what = truncate(" · ".join(labels(self.use)), WHAT_LIMIT)
        if self.problem is None:
            return f"✅ <#{self.use.channel_id}> — {what}"
        return f"❌ <#{self.use.channel_id}> ({self.use.channel_id}) — {what}: {self.problem}"


def _servers(names: tuple[str, ...], bold: bool) -> str:
    mark = "**" if bold else ""  # none in the reply's lines, which are shortened
    shown = ", ".join(f"{mark}{safe(name)}{mark}" for name in names[:SERVERS_NAMED])
    more = len(names) - SERVERS_NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def _roles(roles: tuple[int, ...]) -> str:
    return ", ".join(f"<@&{role}>" for role in roles)


def labels(use: ChannelUse) -> list[str]:
    """What the channel is for, briefly (a line of the reply)."""
    parts = ["default"] if use.default else []
    if use.servers:
        parts.append(_servers(use.servers, bold=False))
    if use.status_board:
        parts.append("status board")
    if use.digest:
        parts.append("daily digest")
    if use.alert_roles:
        parts.append(f"alerts for {_roles(use.alert_roles)}")
    return parts


def purposes(use: ChannelUse) -> list[str]:
    """What the channel is for, in sentences (the test message's embed)."""
    parts = ["Events of every server without a channel of its own, and the bot's own notices."] if use.default else []
    if use.servers:
        parts.append(f"Events of {_servers(use.servers, bold=True)}.")
    if use.status_board:
        parts.append("The status board: one message, kept up to date.")
    if use.digest:
        parts.append("The daily digest.")
    if use.alert_roles:
        parts.append(f"Danger alerts, which mention {_roles(use.alert_roles)}.")
    return parts


def message_for(use: ChannelUse, asked_by: str) -> tuple[str, EmbedJSON]:
    """The text and the embed of one channel's test message; `asked_by` is a member's display name."""
    text = (
        f"🧪 **Test message** from /notify test, asked for by {safe(truncate(asked_by, 64))}. "
        "Nothing has happened on the servers."
    )
    embed: EmbedJSON = {
        "title": "What the bot posts in this channel",
        "description": "\n".join(f"• {part}" for part in purposes(use)),
        "color": BLURPLE.value,
        "footer": {"text": "This box shows that the bot may embed links here."},
    }
    return text, embed


def in_words(error: BaseException) -> str:
    """Why a test post failed, for the person who asked."""
    if isinstance(error, EmbedsDropped):
        return NO_EMBEDS
    if isinstance(error, ChannelUnavailable):
        known = CHANNEL_WORDS.get(error.code) if error.code is not None else None
        return known or f"the bot may not post there (Discord answered {plain(error)})"
    if isinstance(error, TimeoutError):
        return NO_ANSWER
    if isinstance(error, TRANSIENT):
        return UNAVAILABLE
    if isinstance(error, Rejected):
        return f"Discord refused the message ({plain(error)})"
    return "something went wrong on the bot's side (the error is in its log)"


async def _post(poster: Poster, use: ChannelUse, asked_by: str) -> Outcome:
    text, embed = message_for(use, asked_by)
    try:
        await asyncio.wait_for(poster.post_test(use.channel_id, text, embed), POST_TIMEOUT)
    except Exception as error:  # every failure is one channel's ❌, never the whole command's
        if isinstance(error, (ChannelUnavailable, Rejected, *TRANSIENT)):
            log.info("the test post to channel %s failed: %r", use.channel_id, error)
        else:
            log.exception("the test post to channel %s failed", use.channel_id)
        return Outcome(use, in_words(error))
    return Outcome(use)


async def post_tests(poster: Poster, uses: Iterable[ChannelUse], asked_by: str) -> list[Outcome]:
    """Post a test message in each channel at the same time; the outcomes in the order of `uses`."""
    return list(await asyncio.gather(*(_post(poster, use, asked_by) for use in uses)))


def report(outcomes: list[Outcome]) -> list[str]:
    """The private answer: a summary, then one line per channel, in as many messages as Discord needs."""
    if not outcomes:
        return ["The bot posts in no channel yet: set KGSM_DEFAULT_CHANNEL_ID or KGSM_CHANNELS, or use /notify bind."]
    whole = sum(outcome.problem is None for outcome in outcomes)
    lines = [f"The test message arrived whole in {whole} of {len(outcomes)} channels:", *(o.line for o in outcomes)]
    messages = [lines[0]]
    for line in lines[1:]:
        if len(messages[-1]) + 1 + len(line) > MESSAGE_LIMIT:
            messages.append(line)
        else:
            messages[-1] += "\n" + line
    return messages
