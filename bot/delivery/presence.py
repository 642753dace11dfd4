"""The bot's presence: "Watching N servers · M online", changed at most once a minute and only if different."""

from __future__ import annotations

import discord

from bot.store.state import StateBook


class Presence:
    interval = 60.0

    def __init__(self, client: discord.Client, states: StateBook) -> None:
        self._client = client
        self._states = states
        self._shown: str | None = None

    def text(self) -> str:
        states = self._states.all()
        up = sum(state.is_up for state in states)
        return f"{len(states)} servers · {up} online"

    async def update(self) -> None:
        """One round (run every `interval` seconds by the supervisor)."""
        await self._client.wait_until_ready()
        text = self.text()
        if text != self._shown:
            activity = discord.Activity(type=discord.ActivityType.watching, name=text)
            await self._client.change_presence(activity=activity)
            self._shown = text
