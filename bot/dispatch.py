"""Dispatch by family: each family cog registers its renderer here while it is loaded."""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.catalogue import Family
from bot.events import Event

log = logging.getLogger(__name__)

Renderer = Callable[[Event], discord.Embed]


class Renderers:
    def __init__(self) -> None:
        self._by_family: dict[Family, Renderer] = {}

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
