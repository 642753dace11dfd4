"""The bot's presence: "Watching N servers · M online", changed at most once a minute and only if different."""

from __future__ import annotations

import asyncio

import discord

from bot.state import StateBook
from bot.tasks import cancel_and_wait


class Presence:
    interval = 60.0

    def __init__(self, client: discord.Client, states: StateBook) -> None:
        self._client = client
        self._states = states
        self._shown: str | None = None
        self._task: asyncio.Task[None] | None = None

    def text(self) -> str:
        states = self._states.all()
        up = sum(state.is_up for state in states)
        return f"{len(states)} servers · {up} online"

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="presence")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        await self._client.wait_until_ready()
        while True:
            text = self.text()
            if text != self._shown:
                activity = discord.Activity(type=discord.ActivityType.watching, name=text)
                await self._client.change_presence(activity=activity)
                self._shown = text
            await asyncio.sleep(self.interval)
