"""Uninstall events: the steps from `instance_uninstall_started` to `instance_uninstalled`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_uninstalled": "✅",
    "instance_uninstall_failed": "❌",
}
SENTENCES = {
    "instance_uninstall_started": "Uninstalling {subject}.",
    "instance_files_removed": "The files of {subject} were removed.",
    "instance_directories_removed": "The directories of {subject} were removed.",
    "instance_removed": "{subject} was removed from KGSM.",
    "instance_uninstall_finished": "The uninstall of {subject} finished.",
    "instance_uninstall_failed": "The uninstall of {subject} failed.",
    "instance_uninstalled": "{subject} is uninstalled.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="🗑️")


class UninstallEvents(FamilyCog):
    """Renders the uninstall family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(UninstallEvents(bot, Family.UNINSTALL, render))
