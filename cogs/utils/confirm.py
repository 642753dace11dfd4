"""The confirmation before a server command that cannot be undone (/uninstall, /restore): a danger button and
Cancel that only the member who asked can press, for `expiry` seconds; then the prompt says it expired and
loses its buttons."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord

from bot.render.text import safe
from cogs.utils.views import CommunityView

log = logging.getLogger(__name__)

Confirmed = Callable[[discord.Interaction[Any]], Awaitable[None]]


class Confirmation(CommunityView):
    """`label` runs `confirmed` with the press; `action` ("uninstall") of `instance` is named in the refusal and
    the log, `undone` ("**valheim** was not uninstalled.") is said on Cancel and expiry."""

    expiry: ClassVar[float] = 60.0

    def __init__(
        self,
        prompt: discord.Interaction[Any],
        *,
        label: str,
        action: str,
        instance: str,
        undone: str,
        confirmed: Confirmed,
    ) -> None:
        super().__init__(timeout=self.expiry)
        self.prompt = prompt
        self.action = action
        self.instance = instance
        self.undone = undone
        self.confirmed = confirmed
        self.confirm.label = label

    async def may_use(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.prompt.user.id:
            return True
        log.warning(
            "refused %s (%s) pressing the %s confirmation of %s for %s",
            interaction.user,
            interaction.user.id,
            self.action,
            self.instance,
            self.prompt.user,
        )
        await interaction.response.send_message(
            f"Only {safe(self.prompt.user.name)}, who asked, can confirm this {self.action}.", ephemeral=True
        )
        return False

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Confirmation]) -> None:
        self.stop()
        await self.confirmed(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Confirmation]) -> None:
        self.stop()
        await interaction.response.edit_message(content=self.undone, view=None)

    async def on_timeout(self) -> None:
        with contextlib.suppress(discord.HTTPException):
            await self.prompt.edit_original_response(content=f"⌛ The confirmation expired; {self.undone}", view=None)
