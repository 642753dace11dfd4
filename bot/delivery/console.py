"""Dry-run output: the embeds the bot would post, printed readably with their target channel."""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

import discord

from bot.delivery.poster import Buttons

_ESCAPE = re.compile(r"\\(.)")


def _shown(markdown: str | None) -> str:
    """Text as Discord shows it: markdown escapes are invisible there, so they are left out here too."""
    return _ESCAPE.sub(r"\1", markdown or "")


def format_embed(embed: discord.Embed, target: str, text: str | None = None) -> str:
    """The embed as the console shows it, under the message's `text` if it has one."""
    lines = [f"── would post to {target} " + "─" * 20]
    if text:
        lines.append(_shown(text))
    if embed.title:
        lines.append(_shown(embed.title))
    if embed.description:
        lines.append(_shown(embed.description))
    for field in embed.fields:
        lines.append(f"  {_shown(field.name)}: {_shown(field.value)}")
    tail = [
        part for part in (embed.footer.text, embed.timestamp and f"{embed.timestamp:%Y-%m-%d %H:%M:%S} UTC") if part
    ]
    if tail:
        lines.append("  — " + " · ".join(tail))
    if embed.colour is not None:
        lines.append(f"  (colour {embed.colour})")
    return "\n".join(lines)


class ConsolePoster:
    """Stands in for Discord when there is no token: prints what would be posted or edited."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._next_id = 0

    @property
    def _out(self) -> TextIO:
        return self._stream or sys.stdout

    def show(self, target: str, embeds: list[discord.Embed], text: str | None = None, buttons: Buttons = ()) -> None:
        for embed in embeds:
            print(format_embed(embed, target, text), file=self._out, flush=True)
        if buttons:
            print("  buttons: " + ", ".join(f"[{button['label']}]" for button in buttons), file=self._out, flush=True)

    @staticmethod
    def _target(channel_id: int) -> str:
        return f"channel {channel_id}" if channel_id else "no channel (set KGSM_DEFAULT_CHANNEL_ID or KGSM_CHANNELS)"

    async def post(self, channel_id: int, embeds: list[dict[str, Any]], nonce: str, buttons: Buttons = ()) -> int:
        self.show(self._target(channel_id), [discord.Embed.from_dict(embed) for embed in embeds], buttons=buttons)
        self._next_id += 1
        return self._next_id

    async def edit(self, channel_id: int, message_id: int, embeds: list[dict[str, Any]], buttons: Buttons = ()) -> None:
        target = f"{self._target(channel_id)}, edit of message {message_id}"
        self.show(target, [discord.Embed.from_dict(embed) for embed in embeds], buttons=buttons)

    async def post_test(self, channel_id: int, text: str, embed: dict[str, Any]) -> int:
        self.show(self._target(channel_id), [discord.Embed.from_dict(embed)], text)
        self._next_id += 1
        return self._next_id

    async def ping(self, channel_id: int, content: str, role_id: int, nonce: str) -> int:
        print(f"[{self._target(channel_id)}] {content} (pings only the role {role_id})", file=self._out, flush=True)
        self._next_id += 1
        return self._next_id

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        print(f"[{self._target(channel_id)}] thread {name!r} on message {message_id}", file=self._out, flush=True)
