"""/events: the latest events, newest first, with buttons for older pages."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.events import Family, types_of
from bot.render.lines import event_line
from bot.render.text import safe
from cogs.utils.choices import event_choices, event_filter, instance_choices, known_instance
from cogs.utils.options import Count, EventOrFamily, Public, SeenInstance
from cogs.utils.views import CommunityView

if TYPE_CHECKING:
    from bot.bot import KGSMBot
    from bot.store.rows import StoredEvent

log = logging.getLogger(__name__)

PAGE_TIMEOUT = 600.0


@dataclass
class EventQuery:
    instance: str | None
    family: str | None
    event_type: str | None
    limit: int
    # seq cursors of the pages shown so far: page n starts below cursors[n] (None = the newest)
    cursors: list[int | None] = field(default_factory=lambda: [None])

    def describe(self) -> str:
        parts = [f"`{self.event_type or self.family}`"] if (self.event_type or self.family) else []
        if self.instance:
            parts.append(f"for **{safe(self.instance)}**")
        return " ".join(parts)


def _types(bot: KGSMBot, query: EventQuery) -> tuple[str, ...] | None:
    """The event types asked for: the one named, or every type of the family the bot has seen; None: any."""
    if query.family is not None:
        return types_of(Family(query.family), bot.seen_types)
    return (query.event_type,) if query.event_type else None


async def _page(bot: KGSMBot, query: EventQuery, page: int) -> tuple[discord.Embed, bool]:
    """The embed of one page, and whether an older page exists."""
    types = _types(bot, query)
    rows: list[StoredEvent] = await bot.store.events_page(
        instance=query.instance, types=types, before_seq=query.cursors[page], limit=query.limit + 1
    )
    shown, more = rows[: query.limit], len(rows) > query.limit
    if len(query.cursors) == page + 1 and more:
        query.cursors.append(shown[-1].seq)
    title = "Latest events" + (f" — {query.describe()}" if query.describe() else "")
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    several_hosts = len(bot.states.hosts) > 1
    lines = [event_line(row.event, names=bot.states.title_of, show_host=several_hosts) for row in shown]
    embed.description = "\n".join(lines) or "No events match."
    total = await bot.store.count_matching(instance=query.instance, types=types)
    embed.set_footer(text=f"Page {page + 1} · {total} events stored · newest first")
    return embed, more


class EventPages(CommunityView):
    """Newer/older buttons; only the member who asked may turn the pages."""

    def __init__(self, bot: KGSMBot, query: EventQuery, prompt: discord.Interaction[Any]) -> None:
        super().__init__(timeout=PAGE_TIMEOUT)
        self.bot = bot
        self.query = query
        self.prompt = prompt
        self.owner_id = prompt.user.id
        self.page = 0

    async def on_timeout(self) -> None:
        """After `PAGE_TIMEOUT` the buttons are greyed out: the page stays, but turns no more."""
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        with contextlib.suppress(discord.HTTPException):
            await self.prompt.edit_original_response(view=self)

    def refresh_buttons(self, has_older: bool) -> None:
        self.newer.disabled = self.page == 0
        self.older.disabled = not has_older

    async def may_use(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("Run /events yourself to browse the history.", ephemeral=True)
        return False

    async def _show(self, interaction: discord.Interaction[Any], page: int) -> None:
        self.page = page
        embed, has_older = await _page(self.bot, self.query, page)
        self.refresh_buttons(has_older)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="◀ Newer", style=discord.ButtonStyle.secondary)
    async def newer(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[EventPages]) -> None:
        await self._show(interaction, max(self.page - 1, 0))

    @discord.ui.button(label="Older ▶", style=discord.ButtonStyle.secondary)
    async def older(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[EventPages]) -> None:
        await self._show(interaction, self.page + 1)


class History(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    @app_commands.command(name="events", description="The latest KGSM events, newest first")
    @app_commands.describe(
        instance="Only this server",
        event="An event type (server.started, or KGSM's older instance_started) or a family (install, players, …)",
        limit="How many per page (1 to 25, default 10)",
        public="Show the answer to everyone in the channel",
    )
    async def events(
        self,
        interaction: discord.Interaction[Any],
        instance: SeenInstance | None = None,
        event: EventOrFamily | None = None,
        limit: app_commands.Transform[int, Count(1, 25, "limit")] = 10,
        public: Public = False,
    ) -> None:
        family, event_type = event_filter(self.bot, event) if event else (None, None)
        name = known_instance(self.bot, instance) if instance else None
        query = EventQuery(name, family, event_type, limit)
        view = EventPages(self.bot, query, interaction)
        embed, has_older = await _page(self.bot, query, 0)
        view.refresh_buttons(has_older)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=not public)

    @events.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)

    @events.autocomplete("event")
    async def _events(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return event_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(History(bot))
