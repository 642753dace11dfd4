"""/uptime: each server's uptime, crashes, time to recovery and longest outage, with a picture of it."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.tree import BadValue
from bot.render.timeline import FILENAME, timeline_png
from bot.render.uptime import render_uptime
from bot.store.history import uptime_of
from bot.store.uptime import cell_layout, cells
from cogs.utils.choices import instance_choices, known_instance
from cogs.utils.options import Count, Public, SeenInstance

if TYPE_CHECKING:
    from bot.bot import KGSMBot
    from bot.store.state import InstanceState

MAX_DAYS = 3650  # what Discord is told; the history kept (KGSM_HISTORY_DAYS) is checked when it runs
MAX_ROWS = 24  # servers in one answer (an embed has at most 25 fields)


class Uptime(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    def servers(self, instance: str | None) -> list[InstanceState]:
        if instance is None:
            return self.bot.states.all()
        state = self.bot.states.get(known_instance(self.bot, instance))
        return [state] if state is not None else []

    @app_commands.command(name="uptime", description="Uptime, crashes and outages of each server, with a picture")
    @app_commands.describe(
        instance="One server (leave empty for all)",
        days="How many days back (default 7, at most the history kept)",
        public="Show the answer to everyone",
    )
    async def uptime(
        self,
        interaction: discord.Interaction[Any],
        instance: SeenInstance | None = None,
        days: app_commands.Transform[int, Count(1, MAX_DAYS, "days")] = 7,
        public: Public = False,
    ) -> None:
        kept = self.bot.settings.store.history_days
        if days > kept:
            raise BadValue(f"The bot keeps {kept} days of history (`KGSM_HISTORY_DAYS`): ask for at most {kept}.")
        servers = self.servers(instance)
        if not servers:
            await interaction.response.send_message("No server has reported an event yet.", ephemeral=not public)
            return
        await interaction.response.defer(ephemeral=not public, thinking=True)
        end = self.bot.clock()
        start = end - timedelta(days=days)
        recorded = await self.bot.recording.recorded()
        shown = servers[:MAX_ROWS]
        rows = [
            (state.title, await uptime_of(self.bot.store, recorded, state.name, state.host, start, end))
            for state in shown
        ]
        count, cell = cell_layout(days)
        picture = timeline_png([cells(numbers.spans, start, end, count) for _, numbers in rows])
        per = "hour" if cell == timedelta(hours=1) else "day"
        embed = render_uptime(rows, days, per, FILENAME, hidden=len(servers) - len(shown))
        await interaction.followup.send(
            embed=embed, file=discord.File(io.BytesIO(picture), FILENAME), ephemeral=not public
        )

    @uptime.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Uptime(bot))
