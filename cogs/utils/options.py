"""Every option of every command is checked by the bot, whatever Discord enforces.

Discord checks ranges, lengths and types before it sends an interaction, but a modified client, or a change
on Discord's side, can send anything: `/logs lines:-5` must never reach kgsm.sh as `--tail -5`. Each option is
declared with one of the transformers below (`app_commands.Transform[int, Count(1, 25, "limit")]`): the same
object tells Discord the limits (min/max value or length, channel types) and checks the value when the command
runs, before the command's body (after its permission checks). A bad value raises `BadValue`, which the bot
answers privately with the reason; nothing else runs. `tests/test_options.py` checks that no command has an
option without one of them.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import AppCommandOptionType, app_commands

from bot.app.tree import BadValue
from bot.kgsm.syntax import BadName, check_backup_id, check_name, check_version
from bot.render.text import code, plain

SHOWN = 40  # characters of a refused value repeated in the answer
SEEN_NAME_LENGTH = 100  # an autocomplete value is at most 100 characters
EVENT_NAME_LENGTH = 100
KGSM_NAME_LENGTH = 64
BACKUP_ID_LENGTH = 200
_EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def shown(value: object) -> str:
    return code(plain(value, SHOWN))


def text_of(value: object) -> str:
    """The text sent, or "" for anything else (a number, null): refused as any bad text is."""
    return value if isinstance(value, str) else ""


class Checked(app_commands.Transformer):
    """The transformers of this module, and only they, are accepted as command options (see the tests)."""


class Count(Checked):
    """A whole number from `low` to `high`; `what` names it in the refusal."""

    def __init__(self, low: int, high: int, what: str) -> None:
        self.low = low
        self.high = high
        self.what = what

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        return self.low

    @property
    def max_value(self) -> int:
        return self.high

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> int:
        if type(value) is not int or not self.low <= value <= self.high:  # bool is an int: not here
            raise BadValue(f"`{self.what}` is a whole number from {self.low} to {self.high}; {shown(value)} is not.")
        return value


class Flag(Checked):
    """True or false."""

    def __init__(self, what: str = "public") -> None:
        self.what = what

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.boolean

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> bool:
        if not isinstance(value, bool):
            raise BadValue(f"`{self.what}` is true or false; {shown(value)} is neither.")
        return value


class KgsmName(Checked):
    """A name that may reach kgsm.sh or the stored rules: KGSM's strict pattern (`bot.kgsm_syntax.NAME`)."""

    def __init__(self, what: str = "instance") -> None:
        self.what = what

    @property
    def max_value(self) -> int:
        return KGSM_NAME_LENGTH

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        try:
            return check_name(text_of(value), self.what)
        except BadName as error:
            raise BadValue(str(error)) from None


class KgsmVersion(Checked):
    @property
    def max_value(self) -> int:
        return KGSM_NAME_LENGTH

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        try:
            return check_version(text_of(value))
        except BadName as error:
            raise BadValue(str(error)) from None


class KgsmBackupId(Checked):
    """A backup as KGSM names it (`bot.kgsm.syntax.BACKUP_ID`): checked before it may reach kgsm.sh."""

    @property
    def max_value(self) -> int:
        return BACKUP_ID_LENGTH

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        try:
            return check_backup_id(text_of(value))
        except BadName as error:
            raise BadValue(str(error)) from None


class SeenName(Checked):
    """A server the bot has seen events of, to look up (it never reaches a process): visible text, bounded."""

    @property
    def max_value(self) -> int:
        return SEEN_NAME_LENGTH

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        name = text_of(value).strip()
        if not 1 <= len(name) <= SEEN_NAME_LENGTH or not name.isprintable():
            raise BadValue(f"A server name is 1 to {SEEN_NAME_LENGTH} visible characters; {shown(value)} is not.")
        return name


class EventName(Checked):
    """An event type in any of KGSM's spellings, or a family: letters, digits, dots, dashes, underscores."""

    @property
    def max_value(self) -> int:
        return EVENT_NAME_LENGTH

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        name = text_of(value).strip()
        if len(name) > EVENT_NAME_LENGTH or not _EVENT_NAME.fullmatch(name):
            raise BadValue(
                f"An event is a type (`server.started`, `instance_started`) or a family (`lifecycle`, `players`, …) "
                f"of at most {EVENT_NAME_LENGTH} letters, digits, dots, dashes or underscores; {shown(value)} is not."
            )
        return name


class ServerChannel(Checked):
    """A text channel of the server the command was used in (never one of another server)."""

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> discord.TextChannel:
        channel_id = getattr(value, "id", None)
        guild = interaction.guild
        channel = guild.get_channel(channel_id) if guild is not None and isinstance(channel_id, int) else None
        if not isinstance(channel, discord.TextChannel) or channel.guild.id != interaction.guild_id:
            raise BadValue(f"{shown(channel_id)} is not a text channel of this server.")
        return channel


# What the commands declare. At run time each is the transformer itself; to type checkers, the plain type.
Public = app_commands.Transform[bool, Flag]
Instance = app_commands.Transform[str, KgsmName("instance")]
Blueprint = app_commands.Transform[str, KgsmName("blueprint")]
Version = app_commands.Transform[str, KgsmVersion]
BackupId = app_commands.Transform[str, KgsmBackupId]
SeenInstance = app_commands.Transform[str, SeenName]
EventOrFamily = app_commands.Transform[str, EventName]
Channel = app_commands.Transform[discord.TextChannel, ServerChannel]
