"""The base of every event-family cog: while loaded, it renders its family's events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.catalogue import Family
from bot.dispatch import Renderer
from bot.events import Event
from cogs.utils.embeds import build_embed
from cogs.utils.text import safe

if TYPE_CHECKING:
    from bot.bot import KGSMBot


def sentence(template: str, event: Event) -> str:
    """Fill `{subject}` and `{DataKey}` placeholders with escaped values.

    Older KGSM sends fewer Data keys, so a template whose values are missing falls back to a plain
    "<subject>: <what happened>." rather than printing "unknown" in the middle of a sentence.
    """
    values: Mapping[str, Any] = event.data
    filled = {key: safe(value) for key, value in values.items() if value is not None}
    filled["subject"] = f"**{safe(event.subject)}**"
    try:
        return template.format_map(filled)
    except KeyError:
        return f"{filled['subject']}: {event.kind.label}."


class FamilyCog(commands.Cog):
    """Registers `render` for `family` with the bot's dispatcher on load and removes it on unload."""

    def __init__(self, bot: KGSMBot, family: Family, render: Renderer) -> None:
        self.bot = bot
        self.family = family
        self.render = render

    async def cog_load(self) -> None:
        self.bot.renderers.register(self.family, self.render)

    async def cog_unload(self) -> None:
        self.bot.renderers.unregister(self.family)


def renderer(emojis: Mapping[str, str], sentences: Mapping[str, str], default_emoji: str) -> Renderer:
    """A family's renderer from its emoji and sentence tables."""

    def render(event: Event) -> discord.Embed:
        template = sentences.get(event.type)
        return build_embed(
            event,
            emoji=emojis.get(event.type, default_emoji),
            description=sentence(template, event) if template else None,
        )

    return render
