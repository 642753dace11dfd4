"""Backup events: backups, restores, deletions and pruning."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_backup_created": "✅",
    "instance_restore_started": "♻️",
    "instance_restore_finished": "♻️",
    "instance_backup_restored": "♻️",
    "instance_backup_deleted": "🗑️",
    "instance_backups_pruned": "🧹",
}
SENTENCES = {
    "instance_backup_started": "Backing up {subject}.",
    "instance_backup_finished": "The backup of {subject} finished.",
    "instance_backup_created": "A backup of {subject} was created.",
    "instance_restore_started": "Restoring a backup of {subject}.",
    "instance_restore_finished": "The restore of {subject} finished.",
    "instance_backup_restored": "{subject} was restored from a backup.",
    "instance_backup_deleted": "A backup of {subject} was deleted.",
    "instance_backups_pruned": "Old backups of {subject} were pruned: {Deleted} deleted, {Kept} kept.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="💾")


class BackupEvents(FamilyCog):
    """Renders the backup family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(BackupEvents(bot, Family.BACKUP, render))
