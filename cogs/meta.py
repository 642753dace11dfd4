"""/ping and /about: is the bot alive and listening, and what has it seen."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.render.lines import relative
from bot.render.text import safe, truncate
from cogs.utils.options import Public

if TYPE_CHECKING:
    from bot.bot import KGSMBot


class Meta(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    @app_commands.command(name="ping", description="Gateway latency and the health of the event source")
    @app_commands.describe(public="Show the answer to everyone")
    async def ping(self, interaction: discord.Interaction[Any], public: Public = False) -> None:
        latency = self.bot.latency
        shown = f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "unknown"
        source = self.bot.source
        health = "✅ listening" if source.healthy else "❌ not listening (see the bot's log)"
        embed = discord.Embed(title="Pong", colour=discord.Colour.green() if source.healthy else discord.Colour.red())
        embed.add_field(name="Gateway latency", value=shown)
        embed.add_field(name="Event source", value=f"{health}\n`{safe(source.path)}`")
        embed.add_field(name="Socket re-binds", value=str(self.bot.stats.rebinds))
        embed.add_field(name="Waiting to be stored", value=str(self.bot.recorder.pending))
        embed.add_field(name="Waiting to be posted", value=str(self.bot.delivery.pending))
        await interaction.response.send_message(embed=embed, ephemeral=not public)

    @app_commands.command(name="about", description="Version, uptime and what the bot has received")
    @app_commands.describe(public="Show the answer to everyone")
    async def about(self, interaction: discord.Interaction[Any], public: Public = False) -> None:
        stats = self.bot.stats
        uptime = datetime.now(UTC) - self.bot.started_at
        hours, rest = divmod(int(uptime.total_seconds()), 3600)
        embed = discord.Embed(title=f"kgsm-bot {__version__}", colour=discord.Colour.blurple())
        embed.add_field(name="Up since", value=f"{relative(self.bot.started_at)} ({hours} h {rest // 60} min)")
        embed.add_field(name="Events since start", value=f"{stats.received} received, {stats.accepted} accepted")
        refused = ", ".join(f"{reason} {count}" for reason, count in stats.refused.most_common()) or "none"
        embed.add_field(name="Refused", value=refused)
        versions = sorted(stats.producer_versions | set(await self.bot.store.distinct("producer_version")))
        embed.add_field(name="KGSM versions seen", value=", ".join(map(safe, versions)) or "none reported")
        embed.add_field(name="Servers known", value=str(len(self.bot.states)))
        components = [
            f"{'✅' if c.healthy else '⚠️'} **{safe(c.name)}**"
            + (f" on {safe(c.host)}" if c.host else "")
            + f" — {c.status}"
            + (f": {safe(c.detail)}" if c.detail and not c.healthy else "")
            + f" ({relative(c.at)})"
            for c in self.bot.components.all()
        ]
        if components:
            embed.add_field(name="KGSM components", value=truncate("\n".join(components), 1024), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=not public)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Meta(bot))
