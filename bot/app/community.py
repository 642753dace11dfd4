"""Only its own community: the bot answers in the servers of `DISCORD_GUILD_ID` and nowhere else.

A Discord bot is public by default: anyone may add it to a server of their own, where they have Manage
Server and would pass every permission check. So, whatever Discord offers:

- every interaction (slash command, autocomplete, button) from another server or a direct message is refused
  with one private line before anything runs: `bot.app.tree.Tree.interaction_check` for commands and
  autocomplete, `cogs.utils.views.CommunityView` for every view's buttons; refusals are logged at most once a
  minute per origin, then how many more there were (`bot.runtime.ratelog`);
- a server that adds the bot while it runs is left at once;
- a server the bot was already in when it started is never left (a typo in `DISCORD_GUILD_ID` must not make
  the bot leave the real server): it is logged once, with what to do, and answered nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import discord
from discord import app_commands

from bot.runtime.ratelog import COUNT, RateLimitedLog

log = logging.getLogger(__name__)

REFUSAL = "This bot serves only its own community."
LOG_EVERY = 60.0  # seconds between two log lines about refusals from the same origin


def origin_of(guild_id: int | None) -> str:
    return f"server {guild_id}" if guild_id is not None else "a direct message"


def attempted(interaction: discord.Interaction[Any]) -> str:
    """What the interaction asked for, for the log: `/stop`, `autocomplete of /stop`, `button events:older`."""
    data: dict[str, Any] = dict(interaction.data or {})
    if interaction.type is discord.InteractionType.application_command:
        return f"/{str(data.get('name', '?'))[:32]}"
    if interaction.type is discord.InteractionType.autocomplete:
        return f"autocomplete of /{str(data.get('name', '?'))[:32]}"
    return f"{interaction.type.name} {str(data.get('custom_id', '?'))[:100]}"


class Community:
    """The servers the bot serves, and what it does about every other one."""

    def __init__(self, guild_ids: Iterable[int], started_at: datetime) -> None:
        self.guild_ids = frozenset(guild_ids)
        self.started_at = started_at
        self.refusals = RateLimitedLog(log, LOG_EVERY)
        self.ready = False  # set at the first on_ready: a guild_join before it is not a new join
        self._reported: set[int] = set()

    def serves(self, guild_id: int | None) -> bool:
        return guild_id is not None and guild_id in self.guild_ids

    # ------------------------------------------------------------------ interactions

    async def admit(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether the interaction comes from a server the bot serves; if not, it is refused and answered."""
        if self.serves(interaction.guild_id):
            return True
        origin = origin_of(interaction.guild_id)
        self.refusals.log(
            origin,
            logging.WARNING,
            "refused %s by %s (%s) from %s, which DISCORD_GUILD_ID does not list",
            attempted(interaction),
            interaction.user,
            interaction.user.id,
            origin,
            summary=f"refused {COUNT} more interactions from {origin}",
        )
        await self._answer(interaction)
        return False

    async def _answer(self, interaction: discord.Interaction[Any]) -> None:
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(REFUSAL, ephemeral=True)
            elif interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([app_commands.Choice(name=REFUSAL, value=REFUSAL)])
            else:
                await interaction.response.send_message(REFUSAL, ephemeral=True)

    # ------------------------------------------------------------------ servers

    def report_stranger(self, guild: discord.Guild) -> None:
        """A server the bot was in before it started and does not serve: logged once, never left."""
        if self.serves(guild.id) or guild.id in self._reported:
            return
        self._reported.add(guild.id)
        log.warning(
            "the bot is in the server %r (%s), which DISCORD_GUILD_ID does not list: it answers nothing there. "
            "If it is yours, add %s to DISCORD_GUILD_ID; if not, remove the bot from it (Server Settings → "
            "Integrations) and turn Public Bot off in the developer portal",
            guild.name,
            guild.id,
            guild.id,
        )

    def report_missing(self, guilds: Iterable[discord.Guild]) -> None:
        """Configured servers the bot is not in (a typo, or not invited yet), once per start."""
        present = {guild.id for guild in guilds}
        for guild_id in sorted(self.guild_ids - present):
            log.warning(
                "DISCORD_GUILD_ID lists %s, but the bot is not in that server: check the id, or invite the bot there",
                guild_id,
            )

    def joined_while_running(self, guild: discord.Guild) -> bool:
        """Whether `guild` added the bot after it started (only such a server is left). A guild_join before
        the first on_ready, or of a server the bot joined earlier, is a server it was already in."""
        if not self.ready:
            return False
        joined_at = guild.me.joined_at if guild.me is not None else None
        return joined_at is None or joined_at > self.started_at

    async def stranger_joined(self, guild: discord.Guild) -> bool:
        """A server the bot does not serve added it: leave it at once (or, if it was there before, report it).
        Returns whether the bot left."""
        if self.serves(guild.id):
            return False
        if not self.joined_while_running(guild):
            self.report_stranger(guild)
            return False
        owner = f"owner {guild.owner_id}" if guild.owner_id else "owner unknown"
        log.warning(
            "left the server %r (%s, %s) that added the bot: DISCORD_GUILD_ID does not list it",
            guild.name,
            guild.id,
            owner,
        )
        try:
            await guild.leave()
        except discord.HTTPException as error:
            log.error("could not leave the server %s: %s; it is answered nothing all the same", guild.id, error)
            return False
        return True
