"""Slash commands exist only in the servers the bot serves, and are synced only when they changed.

The cogs register their commands globally in the tree; `sync_commands` copies them to each server of
`DISCORD_GUILD_ID` and leaves the global list empty, so no other server is ever offered a command. The empty
global list is synced too: it removes the global commands an older version of the bot registered, once.

Discord limits command updates (200 per day per guild). Syncing on every start-up, as many bots do, wastes
them on restarts; each target's hash (the global list, each server) is kept in the store and its sync is
skipped when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable

import aiohttp
import discord
from discord import app_commands

from bot.store.database import Store

log = logging.getLogger(__name__)

HASH_FACT = "command_tree_hash"
GLOBAL = "global"


def hash_fact(guild_id: int | None) -> str:
    return f"{HASH_FACT}:{guild_id if guild_id is not None else GLOBAL}"


def tree_digest(tree: app_commands.CommandTree[discord.Client], guild: discord.Object | None, app_id: int) -> str:
    commands = sorted(
        (command.to_dict(tree) for command in tree.get_commands(guild=guild)), key=lambda c: str(c.get("name"))
    )
    target = {"application": app_id, "guild": guild.id if guild else None, "commands": commands}
    return hashlib.sha256(json.dumps(target, sort_keys=True, default=str).encode()).hexdigest()


def confine_to(tree: app_commands.CommandTree[discord.Client], guild_ids: Iterable[int]) -> None:
    """Every command of the tree in each of `guild_ids` and none left global."""
    for guild_id in guild_ids:
        tree.copy_global_to(guild=discord.Object(guild_id))
    tree.clear_commands(guild=None)


async def sync_target(
    tree: app_commands.CommandTree[discord.Client], store: Store, guild_id: int | None, app_id: int
) -> bool:
    """Sync one server's commands (or the global list when `guild_id` is None) if they changed; returns whether
    Discord has them now. A refusal (the bot is not in that server, or lacks `applications.commands`) or a
    network failure is logged and not remembered, so the next start, or the bot joining that server, tries
    again."""
    guild = discord.Object(guild_id) if guild_id is not None else None
    where = f"server {guild_id}" if guild_id is not None else "the global list"
    digest = tree_digest(tree, guild, app_id)
    if await store.get_fact(hash_fact(guild_id)) == digest:
        log.info("slash commands of %s unchanged since the last sync; not syncing", where)
        return True
    try:
        synced = await tree.sync(guild=guild)
    except discord.HTTPException as error:
        log.error(
            "could not sync the slash commands to %s (%s %s): check that DISCORD_GUILD_ID names a server the bot "
            "was invited to with the applications.commands scope",
            where,
            error.status,
            error.text or error,
        )
        return False
    except (aiohttp.ClientError, OSError, TimeoutError) as error:  # a network failure must not stop the start-up
        log.error(
            "could not sync the slash commands to %s: Discord could not be reached (%s: %s); tried again at the "
            "next start",
            where,
            type(error).__name__,
            error,
        )
        return False
    await store.set_fact(hash_fact(guild_id), digest)
    if guild_id is None:
        log.info("emptied the global slash-command list (commands exist only in the configured servers)")
    else:
        log.info("synced %d slash commands to %s", len(synced), where)
    return True


async def sync_commands(
    tree: app_commands.CommandTree[discord.Client], store: Store, guild_ids: Iterable[int], app_id: int
) -> int:
    """Confine the commands to `guild_ids`, empty the global list once, sync each server; returns how many of
    the servers have their commands."""
    ids = list(guild_ids)
    confine_to(tree, ids)
    await sync_target(tree, store, None, app_id)
    return sum([await sync_target(tree, store, guild_id, app_id) for guild_id in ids])
