"""Dispatch by family: each family cog registers its renderer here while it is loaded."""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.catalogue import Family
from bot.events import Event
from bot.operations import Run
from bot.state import InstanceState

log = logging.getLogger(__name__)

Renderer = Callable[[Event], discord.Embed]
RunRenderer = Callable[[Run], discord.Embed]
OverviewRenderer = Callable[[list[InstanceState]], discord.Embed]


class Renderers:
    """What the cogs render: events by family, operation runs, and the overview of every server."""

    def __init__(self) -> None:
        self._by_family: dict[Family, Renderer] = {}
        self.run: RunRenderer | None = None
        self.overview: OverviewRenderer | None = None

    def register(self, family: Family, renderer: Renderer) -> None:
        self._by_family[family] = renderer

    def unregister(self, family: Family) -> None:
        self._by_family.pop(family, None)

    @property
    def families(self) -> set[Family]:
        return set(self._by_family)

    def render(self, event: Event) -> discord.Embed:
        """The embed for `event` from its family's cog, else from the fallback cog for unknown types."""
        renderer = self._by_family.get(event.family) or self._by_family.get(Family.OTHER)
        if renderer is None:
            raise LookupError(f"no cog renders the {event.family} family and the fallback cog is not loaded")
        return renderer(event)

    def render_run(self, run: Run) -> discord.Embed:
        if self.run is None:
            raise LookupError("the operations cog is not loaded")
        return self.run(run)

    def render_overview(self, states: list[InstanceState]) -> discord.Embed:
        if self.overview is None:
            raise LookupError("the status cog is not loaded")
        return self.overview(states)
