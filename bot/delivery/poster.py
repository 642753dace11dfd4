"""Posting and editing through discord.py, and what each answer of Discord means for a delivery.

discord.py already waits out rate limits (it reads Discord's bucket headers and the global limit, and retries
a 429 up to five times) and retries some 5xx answers. What it gives up on is sorted here: a 429 it did not
wait out, any 5xx and network errors are `RetryLater` (the delivery is tried again, without end); only a
permanent answer fails it: the channel gone or closed to the bot (`ChannelUnavailable`), the message to edit
deleted (`MessageGone`), or the request itself refused (`Rejected`, e.g. an invalid body). `post_test` posts
the one kind of message that is not an event (/notify test, see `bot.delivery.checkup`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

import aiohttp
import discord

EmbedJSON = dict[str, Any]
ButtonJSON = dict[str, Any]  # one button as Discord's component JSON (type 2), as `bot.render` makes it
Buttons = Sequence[ButtonJSON]

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
CHANNEL_ERRORS = frozenset({UNKNOWN_CHANNEL, MISSING_ACCESS, MISSING_PERMISSIONS})


class ChannelUnavailable(Exception):
    """The channel is gone or closed to the bot: retrying will not help until someone fixes it."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class EmbedsDropped(ChannelUnavailable):
    """Discord posted the text of a message but not its embeds: the bot may not embed links in the channel.

    (A message of embeds only is refused there instead, with 50013 like a channel the bot may not post in.)
    """


class MessageGone(Exception):
    """The message to edit was deleted."""


class Rejected(Exception):
    """Discord refused the request itself: sending it again will not help."""


class RetryLater(Exception):
    """Discord is overloaded, rate limiting or unreachable: the same request will work later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


TRANSIENT = (RetryLater, aiohttp.ClientError, OSError, TimeoutError)


def embed_json(embed: discord.Embed) -> EmbedJSON:
    """An embed as the JSON Discord takes (and the outbox keeps)."""
    return cast("EmbedJSON", embed.to_dict())


def embed_chars(embed: EmbedJSON) -> int:
    """What Discord counts against the 6000 characters of one message."""
    fields = embed.get("fields", [])
    return (
        len(embed.get("title", ""))
        + len(embed.get("description", ""))
        + len(embed.get("footer", {}).get("text", ""))
        + len(embed.get("author", {}).get("name", ""))
        + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
    )


def _retry_after(exc: discord.HTTPException) -> float | None:
    raw = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def classify(exc: discord.DiscordException, *, editing: bool = False) -> Exception:
    """What a failed request means for its delivery (see the module docstring)."""
    if isinstance(exc, discord.RateLimited):
        return RetryLater(f"rate limited for {exc.retry_after:.1f} s", exc.retry_after)
    if not isinstance(exc, discord.HTTPException):
        return RetryLater(str(exc))
    reason = f"{exc.status} {exc.text or exc}"[:300]
    if exc.status == 429:
        return RetryLater(reason, _retry_after(exc))
    if exc.status >= 500:
        return RetryLater(reason)
    if editing and exc.code == UNKNOWN_MESSAGE:
        return MessageGone(reason)
    if exc.status in (403, 404) or exc.code in CHANNEL_ERRORS:
        return ChannelUnavailable(reason, exc.code)
    return Rejected(reason)


class Poster(Protocol):
    async def post(self, channel_id: int, embeds: list[EmbedJSON], nonce: str, buttons: Buttons = ()) -> int: ...

    async def edit(self, channel_id: int, message_id: int, embeds: list[EmbedJSON], buttons: Buttons = ()) -> None: ...

    async def ping(self, channel_id: int, content: str, role_id: int, nonce: str) -> int: ...

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None: ...

    async def post_test(self, channel_id: int, text: str, embed: EmbedJSON) -> int: ...


def carrying(buttons: Buttons) -> discord.ui.View:
    """A view that only carries `buttons` to Discord. It is stopped at once: clicks are handled by the dynamic
    items the cogs register (the custom_id says what to do), so they work after a restart too."""
    view = discord.ui.View(timeout=None)
    for button in buttons:
        style = discord.ButtonStyle(button["style"])
        view.add_item(discord.ui.Button(style=style, label=button["label"], custom_id=button["custom_id"]))
    view.stop()
    return view


class DiscordPoster:
    """Sends through discord.py without needing the channel in the cache; mentions always disabled."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, channel_id: int, embeds: list[EmbedJSON], nonce: str, buttons: Buttons = ()) -> int:
        channel = self._client.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                embeds=[discord.Embed.from_dict(embed) for embed in embeds],
                nonce=nonce,
                allowed_mentions=discord.AllowedMentions.none(),
                view=carrying(buttons),
            )
        except discord.DiscordException as exc:
            raise classify(exc) from exc
        return message.id

    async def edit(self, channel_id: int, message_id: int, embeds: list[EmbedJSON], buttons: Buttons = ()) -> None:
        message = self._client.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                embeds=[discord.Embed.from_dict(embed) for embed in embeds],
                allowed_mentions=discord.AllowedMentions.none(),
                view=carrying(buttons),
            )
        except discord.DiscordException as exc:
            raise classify(exc, editing=True) from exc

    async def post_test(self, channel_id: int, text: str, embed: EmbedJSON) -> int:
        """Post `text` with `embed` once (a test is not retried, so discord.py's random nonce will do): a channel
        where the bot may not embed links gets the text alone, which raises `EmbedsDropped`."""
        channel = self._client.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                text, embed=discord.Embed.from_dict(embed), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.DiscordException as exc:
            raise classify(exc) from exc
        if not message.embeds:
            raise EmbedsDropped(f"message {message.id} was posted without its embed")
        return message.id

    async def ping(self, channel_id: int, content: str, role_id: int, nonce: str) -> int:
        """The alert ping: the one message that may mention anything, and then only the role `role_id`."""
        channel = self._client.get_partial_messageable(channel_id)
        only_the_role = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role_id)])
        try:
            message = await channel.send(content, nonce=nonce, allowed_mentions=only_the_role)
        except discord.DiscordException as exc:
            raise classify(exc) from exc
        return message.id

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        channel = self._client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise Rejected(f"channel {channel_id} is not a text channel the bot sees: no thread there")
        try:
            await channel.get_partial_message(message_id).create_thread(name=name[:100])
        except discord.DiscordException as exc:
            raise classify(exc) from exc
