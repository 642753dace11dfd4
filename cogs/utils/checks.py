"""Permission checks enforced by the bot itself, not only by Discord's default permissions.

Discord's `default_member_permissions` only hides a command; a server admin can grant it to anyone in the
integration settings. Changing the bot's behaviour therefore also needs Manage Server here, and running KGSM
needs Manage Server or one of the operator roles (`KGSM_OPERATOR_ROLE_IDS`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.bot import KGSMBot

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


def is_operator(interaction: discord.Interaction[Any]) -> bool:
    """Whether the member may run KGSM: Manage Server, or a role listed in `KGSM_OPERATOR_ROLE_IDS`."""
    if interaction.permissions.manage_guild:
        return True
    operator_roles = cast("KGSMBot", interaction.client).settings.control.operator_role_ids
    member = interaction.user
    return isinstance(member, discord.Member) and any(role.id in operator_roles for role in member.roles)


def ensure_operator(interaction: discord.Interaction[Any]) -> bool:
    """True for an operator; anyone else is refused with a private reason (and the refusal is logged)."""
    if is_operator(interaction):
        return True
    name = interaction.command.qualified_name if interaction.command else "?"
    log.warning("refused /%s for %s (%s): not a KGSM operator", name, interaction.user, interaction.user.id)
    raise NotAllowed(
        "Only members with the **Manage Server** permission or a KGSM operator role can run server commands."
    )


CommandCallback = Callable[..., Coroutine[Any, Any, None]]


def operator_command(
    *, name: str, description: str, **parameters: str
) -> Callable[[CommandCallback], app_commands.Command[Any, ..., None]]:
    """A server command: shown by default only to members with Manage Server, in servers, never in DMs.

    Showing it is Discord's part, which an admin may change; the cog's `interaction_check` (`ensure_operator`)
    is the bot's own check on every call. Parameters are described by keyword (`name_` for one named `name`).
    """

    def decorate(callback: CommandCallback) -> app_commands.Command[Any, ..., None]:
        if parameters:
            described = {key.removesuffix("_"): text for key, text in parameters.items()}
            callback = app_commands.describe(**described)(callback)
        callback = app_commands.guild_only()(app_commands.default_permissions(manage_guild=True)(callback))
        return app_commands.command(name=name, description=description)(callback)

    return decorate
