"""Lifecycle events: start, stop, restart, ready, crashed, failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_started": "🟢",
    "instance_ready": "✅",
    "instance_stop_started": "🟠",
    "instance_stop_finished": "🟠",
    "instance_stopped": "🔴",
    "instance_restart_started": "🔄",
    "instance_restart_stopped": "🔄",
    "instance_restart_finished": "🔄",
    "instance_restarted": "🔄",
    "instance_crashed": "💥",
    "instance_failed": "❌",
}
SENTENCES = {
    "instance_started": "{subject} has started.",
    "instance_ready": "{subject} is up and ready for players.",
    "instance_stop_started": "{subject} is stopping.",
    "instance_stop_finished": "{subject} finished stopping.",
    "instance_stopped": "{subject} has stopped.",
    "instance_restart_started": "{subject} is restarting.",
    "instance_restart_stopped": "{subject} stopped and will start again.",
    "instance_restart_finished": "{subject} finished restarting.",
    "instance_restarted": "{subject} has restarted.",
    "instance_crashed": "{subject} crashed with exit code {ExitCode} (restart {Restarts}).",
    "instance_failed": "{subject} failed with exit code {ExitCode} after {Restarts} restarts and stays down.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="⚙️")


class LifecycleEvents(FamilyCog):
    """Renders the lifecycle family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(LifecycleEvents(bot, Family.LIFECYCLE, render))
