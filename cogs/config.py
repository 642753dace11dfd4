"""Config events: changed settings and commands sent to the server console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_config_changed": "⚙️",
    "instance_input_sent": "⌨️",
}
SENTENCES = {
    "instance_config_changed": "A setting of {subject} was changed.",
    "instance_input_sent": "A command was sent to the console of {subject}.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="⚙️")


class ConfigEvents(FamilyCog):
    """Renders the config family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(ConfigEvents(bot, Family.CONFIG, render))
