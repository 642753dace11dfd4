"""Permission checks enforced by the bot itself, not only by Discord's default permissions.

Discord's `default_member_permissions` only hides a command; a server admin can grant it to anyone in the
integration settings. Changing the bot's behaviour therefore also needs Manage Server here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

log = logging.getLogger(__name__)

T = TypeVar("T")


class NotAllowed(app_commands.CheckFailure):
    """Refused for lack of a permission; the message is shown to the member."""


def require_manage_guild() -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.permissions.manage_guild:
            return True
        name = interaction.command.qualified_name if interaction.command else "?"
        log.warning("refused /%s for %s (%s): Manage Server is required", name, interaction.user, interaction.user.id)
        raise NotAllowed("Only members with the **Manage Server** permission can change the bot's notifications.")

    return app_commands.check(predicate)
