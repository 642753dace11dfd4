"""The bot's command tree: who may use it (`Community`) and how a command's failure is answered.

Every application command and autocomplete passes `interaction_check` first (only the configured servers;
buttons pass `cogs.utils.views.CommunityView`). A failure is answered privately in plain words: a refused
check or a bad option (`BadValue`) with its reason, anything else with an apology while the traceback goes to
the log. As in RoboDanny, the original error is unwrapped from discord.py's `CommandInvokeError`, and an
interaction that can no longer be answered (it expired, or was answered already) is logged, not raised.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.app.community import Community

log = logging.getLogger(__name__)

EXPIRED = frozenset({10062, 40060})  # unknown interaction (expired), interaction already acknowledged
APOLOGY = "Something went wrong on the bot's side; the error is in its log."


class BadValue(app_commands.CheckFailure):
    """A submitted option that is not one of the allowed values; the message says which are."""


class Tree(app_commands.CommandTree[discord.Client]):
    """The command tree of a bot with a `community`: commands and autocomplete from elsewhere are refused."""

    async def interaction_check(self, interaction: discord.Interaction[discord.Client], /) -> bool:
        community: Community | None = getattr(self.client, "community", None)
        return community is not None and await community.admit(interaction)

    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError, /
    ) -> None:
        original: BaseException = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        command = f"/{interaction.command.qualified_name}" if interaction.command else "a command"
        if isinstance(original, discord.NotFound | discord.HTTPException) and original.code in EXPIRED:
            log.info("%s by %s could not be answered any more (%s)", command, interaction.user, original.text)
            return
        if isinstance(original, app_commands.CheckFailure | app_commands.TransformerError):
            message = str(original)
            if not isinstance(original, app_commands.CheckFailure) or isinstance(original, BadValue):
                log.warning("refused %s for %s (%s): %s", command, interaction.user, interaction.user.id, message[:300])
        else:
            log.error("%s failed", command, exc_info=original)
            message = APOLOGY
        await answer_privately(interaction, message)


async def answer_privately(interaction: discord.Interaction[Any], message: str) -> None:
    """Tell the member, as a reply or a follow-up; an interaction past answering is only logged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException as error:
        log.info("could not tell %s: %s (%s)", interaction.user, message[:100], error)
