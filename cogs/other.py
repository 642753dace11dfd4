"""The fallback for event types this bot does not know yet: KGSM keeps adding them, so show, never drop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.catalogue import Family
from bot.events import Event
from cogs.utils.embeds import build_embed
from cogs.utils.family import FamilyCog
from cogs.utils.text import code, safe

if TYPE_CHECKING:
    from bot.bot import KGSMBot


def render(event: Event) -> discord.Embed:
    description = f"KGSM reported an event this bot does not know yet for **{safe(event.subject)}**."
    if event.summary:
        description = safe(event.summary)
    return build_embed(event, emoji="❔", description=description, extra_fields=[("Event", code(event.type))])


class OtherEvents(FamilyCog):
    """Renders the other family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(OtherEvents(bot, Family.OTHER, render))
