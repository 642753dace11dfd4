"""The one base class of every view (buttons, menus) the cogs send.

A click is an interaction like a command, and discord.py hands it to the view, not to the command tree: the
community check of `bot.app.tree.Tree` is repeated here, then the view's own rule (`may_use`). Subclasses never
override `interaction_check`; `tests/test_community.py` checks that every view in `cogs/` is a CommunityView.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast, final

import discord

from bot.app.tree import APOLOGY, answer_privately

if TYPE_CHECKING:
    from bot.bot import KGSMBot

log = logging.getLogger(__name__)


class CommunityView(discord.ui.View):
    """A view that only members of the communities the bot serves can use, then as `may_use` says."""

    @final
    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        bot = cast("KGSMBot", interaction.client)
        if not await bot.community.admit(interaction):
            return False
        return await self.may_use(interaction)

    async def may_use(self, interaction: discord.Interaction[Any]) -> bool:
        """The view's own rule (who may press its buttons); it answers the member itself when it refuses."""
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """A button that failed: the traceback to the log, an apology to the member (never an unanswered click)."""
        label = getattr(item, "label", None) or type(item).__name__
        log.error("the %r button of %s failed", label, type(self).__name__, exc_info=error)
        await answer_privately(interaction, APOLOGY)
