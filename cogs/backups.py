"""/backups: a server's backups, newest first. KGSM's own list (`kgsm.sh instances backups <name> --json` on
KGSM 3, `--instance <name> --backups` before) when `KGSM_PATH` names kgsm.sh, the same list /restore offers;
else what the stored backup events tell (`bot.store.backups`), saying what that list may miss.

Any member may ask: a list changes nothing. Through kgsm.sh the answer is KGSM's list of at most `LIST_TTL`
seconds ago, and a name KGSM does not list is refused without asking KGSM again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.tree import BadValue
from bot.kgsm.cli import KgsmError
from bot.kgsm.syntax import Backup, BadName, check_name
from bot.render.backups import render_backups
from bot.render.lines import relative
from bot.store.backups import BackupHistory, stored_history
from cogs.utils.choices import instance_choices, known_instance
from cogs.utils.options import Public, SeenInstance

if TYPE_CHECKING:
    from bot.bot import KGSMBot

FROM_KGSM = "KGSM's own list"
FROM_EVENTS = "From the backup events the bot has stored"


def history_notes(history: BackupHistory, days: int) -> list[str]:
    """What a list made from events may miss, in plain words."""
    notes = []
    for pruning in history.prunings[:3]:
        removed = f"{pruning.deleted} old backups" if pruning.deleted is not None else "old backups"
        notes.append(f"🧹 KGSM pruned {removed} {relative(pruning.at)} without saying which: some listed may be gone.")
    if not history.complete:
        notes.append("Only the newest backup events were read; older backups are not listed.")
    notes.append(
        f"Backups made more than {days} days ago (the history kept) or while the bot heard nothing from KGSM are "
        "missing, and events tell no size. With `KGSM_PATH` set the bot asks KGSM instead."
    )
    return notes


@runtime_checkable
class KgsmBackups(Protocol):
    """What /backups needs of the server commands' cog (`cogs.control.Control`), loaded with `KGSM_PATH`."""

    async def kgsm_backups(self, name: str, *, ask_again: bool = True) -> tuple[str, list[Backup]]: ...


class Backups(commands.Cog):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    @property
    def control(self) -> KgsmBackups | None:
        cog = self.bot.get_cog("Control")
        return cog if isinstance(cog, KgsmBackups) else None

    @app_commands.command(name="backups", description="A server's backups, newest first")
    @app_commands.describe(instance="The server", public="Show the answer to everyone")
    async def backups(
        self, interaction: discord.Interaction[Any], instance: SeenInstance, public: Public = False
    ) -> None:
        control = self.control
        if control is None:
            name = known_instance(self.bot, instance)
            history = await stored_history(self.bot.store, name)
            notes = history_notes(history, self.bot.settings.store.history_days)
            embed = render_backups(self.bot.states.title_of(name) or name, history.backups, FROM_EVENTS, notes)
            await interaction.response.send_message(embed=embed, ephemeral=not public)
            return
        await interaction.response.defer(ephemeral=not public, thinking=True)
        try:
            found, listed = await control.kgsm_backups(check_name(instance), ask_again=False)
        except (BadName, BadValue, KgsmError) as error:
            await interaction.edit_original_response(content=str(error))
            return
        except OSError as error:
            await interaction.edit_original_response(content=f"Could not run kgsm.sh: {error.strerror}")
            return
        embed = render_backups(self.bot.states.title_of(found) or found, listed, FROM_KGSM)
        await interaction.edit_original_response(embed=embed)

    @backups.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Backups(bot))
