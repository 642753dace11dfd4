"""/status: what each server is doing now, derived from its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import render_overview
from bot.render.lines import event_line, relative
from bot.render.palette import state_colour
from bot.render.text import safe
from cogs.utils.choices import instance_choices, known_instance
from cogs.utils.options import Public, SeenInstance

if TYPE_CHECKING:
    from bot.bot import KGSMBot

RECENT = 5


class Status(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    async def one(self, name: str) -> discord.Embed:
        state = self.bot.states.get(name)
        assert state is not None
        embed = discord.Embed(
            title=f"{state.state.emoji} {safe(state.title)} — {state.state.value}",
            colour=state_colour(state.state),
        )
        if state.title != state.name:
            embed.add_field(name="Id", value=safe(state.name))
        embed.add_field(name="Since", value=relative(state.since or state.last_event_at))
        if state.version:
            embed.add_field(name="Version", value=safe(state.version))
        if state.blueprint:
            embed.add_field(name="Blueprint", value=safe(state.blueprint))
        if state.host:
            embed.add_field(name="Host", value=safe(state.host))
        recent = await self.bot.store.events_page(instance=state.name, limit=RECENT)
        embed.add_field(
            name="Latest events",
            value="\n".join(event_line(row.event, names=self.bot.states.title_of) for row in recent) or "—",
            inline=False,
        )
        return embed

    @app_commands.command(name="status", description="What a server, or every server, is doing now")
    @app_commands.describe(instance="One server (leave empty for all)", public="Show the answer to everyone")
    async def status(
        self, interaction: discord.Interaction[Any], instance: SeenInstance | None = None, public: Public = False
    ) -> None:
        embed = (
            await self.one(known_instance(self.bot, instance)) if instance else render_overview(self.bot.states.all())
        )
        await interaction.response.send_message(embed=embed, ephemeral=not public)

    @status.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Status(bot))
