"""Blueprint events: blueprints created, changed or removed (they name a blueprint, not an instance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "blueprint_created": "📘",
    "blueprint_updated": "📝",
    "blueprint_removed": "📕",
}
SENTENCES = {
    "blueprint_created": "The blueprint {subject} was created ({Tier} tier).",
    "blueprint_updated": "The blueprint {subject} was changed ({Tier} tier).",
    "blueprint_removed": "The blueprint {subject} was removed ({Tier} tier).",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="📘")


class BlueprintEvents(FamilyCog):
    """Renders the blueprint family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(BlueprintEvents(bot, Family.BLUEPRINT, render))
