"""Player events: joins, leaves, kicks and bans. Session keys and addresses are never shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_player_joined": "👋",
    "instance_player_left": "🚪",
    "instance_player_kicked": "👢",
    "instance_player_banned": "🔨",
    "instance_player_unbanned": "🕊️",
}
SENTENCES = {
    "instance_player_joined": "**{PlayerName}** joined {subject}.",
    "instance_player_left": "**{PlayerName}** left {subject}.",
    "instance_player_kicked": "**{Target}** was kicked from {subject}.",
    "instance_player_banned": "**{Target}** was banned from {subject}.",
    "instance_player_unbanned": "**{Target}** was unbanned on {subject}.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="👤")


class PlayerEvents(FamilyCog):
    """Renders the players family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(PlayerEvents(bot, Family.PLAYERS, render))
