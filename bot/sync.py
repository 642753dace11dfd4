"""Slash-command sync that spends Discord's limits only when the command tree changed.

Discord limits command updates (200 per day per guild). Syncing on every start-up, as many bots do, wastes
them on restarts; the tree's hash is kept in the store and the sync is skipped when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import logging

import discord
from discord import app_commands

from bot.store import Store

log = logging.getLogger(__name__)

HASH_FACT = "command_tree_hash"


def tree_digest(tree: app_commands.CommandTree[discord.Client], guild: discord.Object | None, app_id: int) -> str:
    commands = sorted(
        (command.to_dict(tree) for command in tree.get_commands(guild=guild)), key=lambda c: str(c.get("name"))
    )
    target = {"application": app_id, "guild": guild.id if guild else None, "commands": commands}
    return hashlib.sha256(json.dumps(target, sort_keys=True, default=str).encode()).hexdigest()


async def sync_commands(
    tree: app_commands.CommandTree[discord.Client], store: Store, guild_id: int | None, app_id: int
) -> bool:
    """Sync to `guild_id` (instant) or globally; returns whether a sync was needed."""
    guild = discord.Object(guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    digest = tree_digest(tree, guild, app_id)
    if await store.get_fact(HASH_FACT) == digest:
        log.info("slash commands unchanged since the last sync; not syncing")
        return False
    synced = await tree.sync(guild=guild)
    await store.set_fact(HASH_FACT, digest)
    where = f"server {guild_id}" if guild_id else "every server (global commands may take up to an hour to appear)"
    log.info("synced %d slash commands to %s", len(synced), where)
    return True
