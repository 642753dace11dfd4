"""/players: who is on each server now, from the players' join and leave events (`bot.store.roster`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.players import render_players, render_server_players
from cogs.utils.choices import instance_choices, known_instance
from cogs.utils.options import Public, SeenInstance

if TYPE_CHECKING:
    from bot.bot import KGSMBot


class Players(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    @app_commands.command(name="players", description="Who is on a server, or on every server, now")
    @app_commands.describe(instance="One server (leave empty for all)", public="Show the answer to everyone")
    async def players(
        self, interaction: discord.Interaction[Any], instance: SeenInstance | None = None, public: Public = False
    ) -> None:
        if instance:
            state = self.bot.states.get(known_instance(self.bot, instance))
            assert state is not None
            embed = render_server_players(state)
        else:
            embed = render_players(self.bot.states.all())
        await interaction.response.send_message(embed=embed, ephemeral=not public)

    @players.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Players(bot))
