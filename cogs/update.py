"""Update events: update runs, version changes and available updates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_updated": "✅",
    "instance_version_updated": "🆕",
    "instance_update_failed": "❌",
    "instance_update_available": "🔔",
}
SENTENCES = {
    "instance_update_started": "Updating {subject}.",
    "instance_update_finished": "The update of {subject} finished.",
    "instance_update_failed": "The update of {subject} failed.",
    "instance_updated": "{subject} is up to date.",
    "instance_version_updated": "{subject} went from version {OldVersion} to {NewVersion}.",
    "instance_update_available": "Version {LatestVersion} is available for {subject} (running {CurrentVersion}).",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="⬆️")


class UpdateEvents(FamilyCog):
    """Renders the update family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(UpdateEvents(bot, Family.UPDATE, render))
