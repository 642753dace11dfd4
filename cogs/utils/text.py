"""Making event text safe and readable in Discord."""

from __future__ import annotations

import re

import discord

_MENTION = re.compile(r"@(?=[\w!&#])")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def unmention(text: str) -> str:
    """Break every `@` that could start a mention with an invisible space.

    Messages are also sent with mentions disabled; this keeps `@everyone` from even looking like one.
    """
    return _MENTION.sub("@\u200b", text)


def safe(value: object) -> str:
    """Escape markdown and mentions so that text from events can neither format nor ping."""
    return unmention(discord.utils.escape_markdown(str(value), ignore_links=False))


def code(value: object) -> str:
    """Inline code for commands and keys; backticks inside are replaced so the span cannot break."""
    text = str(value).replace("`", "ˋ").replace("\n", " ")
    return f"`{text}`" if text else "`(empty)`"


def words(key: str) -> str:
    """`ExitCode` → `Exit code`: a readable label for a Data key nobody taught us."""
    spaced = _CAMEL.sub(" ", key).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced else key


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
