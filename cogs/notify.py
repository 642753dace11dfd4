"""/notify: where each server's events go and which are muted, changed from Discord and kept in the store.

Rules set here apply over `KGSM_CHANNELS` and `KGSM_MUTED_EVENTS`. Changing them needs Manage Server,
checked by the bot on every call; `/notify show` is open to whoever can use the command. `/notify test` (Manage
Server too, once per `TEST_EVERY` seconds in a server) posts a test message in every channel the bot uses in
this server (see `bot.delivery.checkup`) and answers privately how each went.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.checkup import post_tests, report
from bot.delivery.routing import ChannelUse
from bot.render.text import safe, truncate
from cogs.utils.checks import NotAllowed, require_manage_guild
from cogs.utils.choices import event_choices, event_filter, instance_choices
from cogs.utils.options import Channel, EventOrFamily, Instance, Public

if TYPE_CHECKING:
    from bot.bot import KGSMBot

log = logging.getLogger(__name__)

TEST_EVERY = 30.0  # seconds between two /notify test in one server: test posts are not to be a way to spam


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Notify(commands.GroupCog, group_name="notify", group_description="Where KGSM events are posted"):
    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot
        self._tested: dict[int, float] = {}  # server id → when /notify test last ran there (monotonic)
        super().__init__()

    def _changed(self, interaction: discord.Interaction[Any], what: str) -> None:
        log.info("%s (%s) changed notifications: %s", interaction.user, interaction.user.id, what)

    @app_commands.command(name="bind", description="Post a server's events in a channel (as well)")
    @app_commands.describe(instance="The server", channel="The channel to post in")
    @require_manage_guild()
    async def bind(self, interaction: discord.Interaction[Any], instance: Instance, channel: Channel) -> None:
        name = instance
        rule = self.bot.router.bind(name, channel.id)
        await self.bot.store.set_channel_rules([(rule.instance, rule.channel_id, rule.enabled)])
        self._changed(interaction, f"bind {name} → {channel.id}")
        await interaction.response.send_message(
            f"Events of **{safe(name)}** now go to {channel.mention}.", ephemeral=True
        )

    @app_commands.command(name="unbind", description="Stop posting a server's events in a channel")
    @app_commands.describe(instance="The server", channel="Only this channel (leave empty for all of them)")
    @require_manage_guild()
    async def unbind(
        self, interaction: discord.Interaction[Any], instance: Instance, channel: Channel | None = None
    ) -> None:
        name = instance
        rules = self.bot.router.unbind(name, channel.id if channel else None)
        await self.bot.store.set_channel_rules([(r.instance, r.channel_id, r.enabled) for r in rules])
        self._changed(interaction, f"unbind {name} from {[r.channel_id for r in rules]}")
        where = channel.mention if channel else "any channel of its own"
        fallback = " Its events go to the default channel." if self.bot.router.default_channel_id else ""
        await interaction.response.send_message(
            f"Events of **{safe(name)}** no longer go to {where}.{fallback}", ephemeral=True
        )

    async def _set_mute(
        self, interaction: discord.Interaction[Any], event_or_family: str, instance: str | None, muted: bool
    ) -> None:
        family, event_type = event_filter(self.bot, event_or_family)
        target = event_type or family or ""
        name = instance
        rule = self.bot.router.set_mute(target, name, muted)
        await self.bot.store.set_mute_rule(rule.target, rule.scope, rule.muted)
        verb = "muted" if muted else "unmuted"
        self._changed(interaction, f"{verb} {target} for {name or 'every server'}")
        scope = f"for **{safe(name)}**" if name else "for every server"
        await interaction.response.send_message(f"`{target}` is now {verb} {scope}.", ephemeral=True)

    @app_commands.command(name="mute", description="Stop posting an event type or a whole family")
    @app_commands.describe(event_or_family="An event type or a family", instance="Only for this server")
    @require_manage_guild()
    async def mute(
        self, interaction: discord.Interaction[Any], event_or_family: EventOrFamily, instance: Instance | None = None
    ) -> None:
        await self._set_mute(interaction, event_or_family, instance, muted=True)

    @app_commands.command(name="unmute", description="Post an event type or family again")
    @app_commands.describe(event_or_family="An event type or a family", instance="Only for this server")
    @require_manage_guild()
    async def unmute(
        self, interaction: discord.Interaction[Any], event_or_family: EventOrFamily, instance: Instance | None = None
    ) -> None:
        await self._set_mute(interaction, event_or_family, instance, muted=False)

    @app_commands.command(name="show", description="Where each server's events go, and what is muted")
    @app_commands.describe(public="Show the answer to everyone")
    async def show(self, interaction: discord.Interaction[Any], public: Public = False) -> None:
        router = self.bot.router
        embed = discord.Embed(title="Notifications", colour=discord.Colour.blurple())
        bindings = [
            f"**{safe(name)}** → " + ", ".join(f"<#{channel}>" for channel in router.channels_of(name))
            for name in router.instances_with_channels
        ]
        embed.add_field(name="Servers", value=truncate("\n".join(bindings) or "none bound", 1024), inline=False)
        default = (
            f"<#{router.default_channel_id}>" if router.default_channel_id else "none (unbound servers are not posted)"
        )
        embed.add_field(name="Everything else", value=default, inline=False)
        embed.add_field(
            name="Muted", value=truncate("\n".join(router.muted_summary()) or "nothing", 1024), inline=False
        )
        await interaction.response.send_message(embed=embed, ephemeral=not public)

    @app_commands.command(name="test", description="Post a test message in every channel the bot uses")
    @require_manage_guild()
    async def test(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None  # guild_only, and only the community's servers get this far
        self._once_in_a_while(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        uses = self._uses_in(interaction.guild_id)
        outcomes = await post_tests(self.bot.delivery.poster, uses, interaction.user.display_name)
        failed = [outcome.use.channel_id for outcome in outcomes if outcome.problem is not None]
        log.info(
            "%s (%s) ran /notify test in server %s: %d channels, failed in %s",
            interaction.user,
            interaction.user.id,
            interaction.guild_id,
            len(uses),
            failed or "none",
        )
        for message in report(outcomes):
            await interaction.followup.send(message, ephemeral=True)

    def _once_in_a_while(self, guild_id: int) -> None:
        """Refuse a second /notify test in a server within TEST_EVERY seconds."""
        now = time.monotonic()
        last = self._tested.get(guild_id)
        if last is not None and now - last < TEST_EVERY:
            wait = math.ceil(TEST_EVERY - (now - last))
            raise NotAllowed(f"/notify test runs once every {TEST_EVERY:.0f} s in a server; try again in {wait} s.")
        self._tested[guild_id] = now

    def _uses_in(self, guild_id: int) -> list[ChannelUse]:
        """The channels the bot uses, but not those it knows to be in another of its servers (tested from there)."""
        uses = []
        for use in self.bot.router.uses():
            guild = getattr(self.bot.get_channel(use.channel_id), "guild", None)
            if guild is None or guild.id == guild_id:
                uses.append(use)
        return uses

    @bind.autocomplete("instance")
    @unbind.autocomplete("instance")
    @mute.autocomplete("instance")
    @unmute.autocomplete("instance")
    async def _instances(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return instance_choices(self.bot, current)

    @mute.autocomplete("event_or_family")
    @unmute.autocomplete("event_or_family")
    async def _events(self, _interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return event_choices(self.bot, current)


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Notify(bot))
