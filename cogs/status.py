"""/status: what each server is doing now, derived from its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.state import InstanceState, State
from cogs.utils.choices import instance_choices, known_instance
from cogs.utils.lines import event_line, relative, state_line
from cogs.utils.text import safe, truncate

if TYPE_CHECKING:
    from bot.bot import KGSMBot

RECENT = 5
STATE_COLOURS = {
    State.READY: discord.Colour(0x2ECC71),
    State.ONLINE: discord.Colour(0x2ECC71),
    State.CRASHED: discord.Colour(0xE67E22),
    State.FAILED: discord.Colour(0xE74C3C),
}


def overview(states: list[InstanceState]) -> discord.Embed:
    """Every server with its state emoji, version and last change; grouped by host when there are several."""
    up = sum(state.is_up for state in states)
    embed = discord.Embed(title=f"Servers — {up} of {len(states)} up", colour=discord.Colour.blurple())
    hosts = sorted({state.host or "" for state in states})
    if len(hosts) > 1:
        for host in hosts[:25]:
            lines = [state_line(state) for state in states if (state.host or "") == host]
            embed.add_field(name=safe(host or "unknown host"), value=truncate("\n".join(lines), 1024), inline=False)
    else:
        embed.description = truncate("\n".join(state_line(state) for state in states), 4096)
    if not states:
        embed.description = "No server has reported an event yet."
    return embed


class Status(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.renderers.overview = overview

    async def cog_unload(self) -> None:
        self.bot.renderers.overview = None

    async def one(self, name: str) -> discord.Embed:
        state = self.bot.states.get(name)
        assert state is not None
        embed = discord.Embed(
            title=f"{state.state.emoji} {safe(state.name)} — {state.state.value}",
            colour=STATE_COLOURS.get(state.state, discord.Colour(0x95A5A6)),
        )
        embed.add_field(name="Since", value=relative(state.since or state.last_event_at))
        if state.version:
            embed.add_field(name="Version", value=safe(state.version))
        if state.blueprint:
            embed.add_field(name="Blueprint", value=safe(state.blueprint))
        if state.host:
            embed.add_field(name="Host", value=safe(state.host))
        recent = await self.bot.store.events_page(instance=state.name, limit=RECENT)
        embed.add_field(
            name="Latest events", value="\n".join(event_line(row.event) for row in recent) or "—", inline=False
        )
        return embed

    @app_commands.command(name="status", description="What a server, or every server, is doing now")
    @app_commands.describe(instance="One server (leave empty for all)", public="Show the answer to everyone")
    async def status(
        self, interaction: discord.Interaction[Any], instance: str | None = None, public: bool = False
    ) -> None:
        embed = await self.one(known_instance(self.bot, instance)) if instance else overview(self.bot.states.all())
        await interaction.response.send_message(embed=embed, ephemeral=not public)

    @status.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Status(bot))
