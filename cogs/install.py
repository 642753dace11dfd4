"""Install events: the steps from creating an instance to `instance_installed`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_installed": "✅",
    "instance_download_failed": "❌",
    "instance_deploy_failed": "❌",
}
SENTENCES = {
    "instance_installation_started": "Installing {subject} from the {Blueprint} blueprint.",
    "instance_created": "{subject} was created from the {Blueprint} blueprint.",
    "instance_directories_created": "The directories of {subject} were created.",
    "instance_files_created": "The files of {subject} were created.",
    "instance_download_started": "Downloading the game files of {subject}.",
    "instance_download_finished": "The download of {subject} finished.",
    "instance_download_failed": "The download of {subject} failed; the installation stopped.",
    "instance_downloaded": "The game files of {subject} are downloaded.",
    "instance_deploy_started": "Deploying the game files of {subject}.",
    "instance_deploy_finished": "The deployment of {subject} finished.",
    "instance_deploy_failed": "The deployment of {subject} failed; the installation stopped.",
    "instance_deployed": "The game files of {subject} are deployed.",
    "instance_installation_finished": "The installation of {subject} finished.",
    "instance_installed": "{subject} is installed from the {Blueprint} blueprint.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="📦")


class InstallEvents(FamilyCog):
    """Renders the install family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(InstallEvents(bot, Family.INSTALL, render))
