"""Server commands: /start, /stop, /restart, /backup, /restore, /logs, /install, /uninstall and /blueprints run
kgsm.sh.

Loaded only when `KGSM_PATH` names kgsm.sh; `bot/kgsm_syntax.py` knows KGSM's real arguments in each era
(/backup is `instances create-backup <name>` on KGSM 3, `--instance <name> --create-backup` before; /restore
`instances restore-backup <name> <id>`, `--instance <name> --restore-backup <file>`), and
`bot/kgsm/cli.py` runs them. Every command:

- needs an operator (Manage Server or a role in `KGSM_OPERATOR_ROLE_IDS`), checked by the bot on every call;
- checks each option (names against a strict pattern, `lines` within its range: `cogs/utils/options.py`)
  before anything runs, then each name against what KGSM lists;
- holds its instance, so a second command for it is refused while the first runs (/logs only reads and is
  let through);
- answers privately, after deferring so that long operations outlive Discord's 3 s limit. The public record
  is the live operation message made from KGSM's events, whose footer names the member, because the call
  carries `KGSM_EVENT_ACTOR=discord:<name>`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.tree import BadValue
from bot.kgsm.cli import Busy, KgsmCli, KgsmError, Outcome, Reservation, Reservations
from bot.kgsm.syntax import (
    LOGS_FOLLOW_WINDOW,
    NAME,
    Backup,
    install_args,
    instance_args,
    logs_args,
    logs_follow,
    logs_line_cap,
    restore_backup_args,
)
from bot.render.backups import backup_choice, backup_line
from bot.render.text import code, safe
from cogs.utils.checks import ensure_operator, is_operator, operator_command
from cogs.utils.choices import best_choices
from cogs.utils.confirm import Confirmation
from cogs.utils.options import BackupId, Blueprint, Count, Instance, Version
from cogs.utils.reports import MESSAGE_LIMIT, block, report

if TYPE_CHECKING:
    from bot.bot import KGSMBot

log = logging.getLogger(__name__)

LOGS_TIME_LIMIT = 60.0
ACTIONS = {"start": "Started", "stop": "Stopped", "restart": "Restarted", "backup": "Backed up"}


class InstanceBusy(app_commands.CheckFailure):
    """Another command for the instance is running; the message names it."""


def busy_text(busy: Busy) -> str:
    return f"**{safe(busy.name)}** is busy: {safe(busy.holder)} is still running. Try again when it has finished."


def matching(names: Iterable[str], name: str) -> str | None:
    """KGSM's spelling of `name`: the exact name, else the only one that differs in case."""
    names = list(names)
    if name in names:
        return name
    folded = [n for n in names if n.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def actor(interaction: discord.Interaction[Any]) -> str:
    return f"discord:{interaction.user.name}"


class ConfirmUninstall(Confirmation):
    """The buttons of the /uninstall prompt."""


class ConfirmRestore(Confirmation):
    """The buttons of the /restore prompt."""


class Control(commands.Cog):
    """The server commands; every one of them only for operators (checked here, on every call)."""

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return ensure_operator(interaction)

    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot
        settings = bot.settings.control
        assert settings.kgsm_path is not None
        self.cli = KgsmCli(settings.kgsm_path, settings.cli, settings.command_timeout)
        self.reservations = Reservations()

    # ------------------------------------------------------------------ helpers

    def _reserve(self, interaction: discord.Interaction[Any], name: str, command: str) -> Reservation:
        try:
            return self.reservations.reserve(name, f"/{command} by {interaction.user.name}")
        except Busy as busy:
            log.info("refused /%s %s for %s: %s is running", command, name, interaction.user, busy.holder)
            raise InstanceBusy(busy_text(busy)) from None

    @contextlib.asynccontextmanager
    async def _answering(self, interaction: discord.Interaction[Any]) -> AsyncIterator[None]:
        """After the deferral, what went wrong replaces the "thinking…" message."""
        try:
            yield
        except (BadValue, KgsmError) as error:
            await self._tell(interaction, content=str(error))
        except OSError as error:
            log.error("could not run %s: %s", self.cli.path, error)
            await self._tell(interaction, content=f"Could not run {self.cli.path.name}: {error.strerror}")

    async def _tell(self, interaction: discord.Interaction[Any], **message: Any) -> None:
        """Replace the "thinking…" (or the prompt) with the answer. Past Discord's 15 minutes the interaction
        can no longer be answered; the live operation message still shows how it ended."""
        try:
            await interaction.edit_original_response(**message)
        except discord.HTTPException as error:
            log.warning("could not answer %s about /%s: %s", interaction.user, interaction.command, error)

    async def _instance(self, name: str, *, ask_again: bool = True) -> str:
        """KGSM's spelling of an instance it lists; the list is asked again before a name is refused (unless
        `ask_again` is False: what members may ask must not make the bot run kgsm.sh at every unknown name)."""
        for refresh in (False, True) if ask_again else (False,):
            found = matching(await self.cli.instances(refresh=refresh), name)
            if found is not None:
                return found
        raise BadValue(f"KGSM has no instance called **{safe(name)}**.")

    async def _blueprint(self, name: str) -> str:
        for refresh in (False, True):
            found = matching(await self.cli.blueprints(refresh=refresh), name)
            if found is not None:
                return found
        raise BadValue(f"KGSM has no blueprint called **{safe(name)}**; /blueprints lists them.")

    async def _run(self, interaction: discord.Interaction[Any], args: list[str], time_limit: float) -> Outcome:
        outcome = await self.cli.run(args, time_limit=time_limit, actor=actor(interaction))
        end = "timed out" if outcome.timed_out else f"exit code {outcome.returncode}"
        log.info("%s (%s) ran kgsm.sh %s: %s", interaction.user, interaction.user.id, " ".join(args), end)
        return outcome

    async def instance_action(self, interaction: discord.Interaction[Any], action: str, name: str) -> Outcome | None:
        """Run `action` on the instance and answer privately; the outcome, or None when KGSM was not run (the
        member was told why). Also the Restart button of a gave-up crash incident (`cogs.incident`)."""
        # The answer comes once the instance is free again, so a member who reads it may go on at once.
        async with self._answering(interaction):
            with self._reserve(interaction, name, action):
                await interaction.response.defer(ephemeral=True, thinking=True)
                instance = await self._instance(name)
                args = instance_args(await self.cli.syntax(), action, instance)
                outcome = await self._run(interaction, args, self.cli.timeout)
            await self._tell(interaction, content=report(outcome, f"{ACTIONS[action]} **{safe(instance)}**"))
            return outcome
        return None

    # ------------------------------------------------------------------ commands

    @operator_command(name="start", description="Start a game server", instance="The server")
    async def start(self, interaction: discord.Interaction[Any], instance: Instance) -> None:
        await self.instance_action(interaction, "start", instance)

    @operator_command(name="stop", description="Stop a game server", instance="The server")
    async def stop(self, interaction: discord.Interaction[Any], instance: Instance) -> None:
        await self.instance_action(interaction, "stop", instance)

    @operator_command(name="restart", description="Restart a game server", instance="The server")
    async def restart(self, interaction: discord.Interaction[Any], instance: Instance) -> None:
        await self.instance_action(interaction, "restart", instance)

    @operator_command(name="backup", description="Back up a game server", instance="The server")
    async def backup(self, interaction: discord.Interaction[Any], instance: Instance) -> None:
        await self.instance_action(interaction, "backup", instance)

    @operator_command(
        name="logs",
        description="The latest lines of a game server's log (only you see them)",
        instance="The server",
        lines="How many lines (1 to 1000, default 50)",
    )
    async def logs(
        self,
        interaction: discord.Interaction[Any],
        instance: Instance,
        lines: app_commands.Transform[int, Count(1, 1000, "lines")] = 50,
    ) -> None:
        name = instance
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._answering(interaction):
            found = await self._instance(name)
            syntax = await self.cli.syntax()
            follows = logs_follow(syntax)  # KGSM 1.x's logs never end: read them for a moment, then stop them
            time_limit = LOGS_FOLLOW_WINDOW if follows else min(self.cli.timeout, LOGS_TIME_LIMIT)
            outcome = await self._run(interaction, logs_args(syntax, found, lines), time_limit)
            if not (outcome.ok or (follows and outcome.timed_out)):
                await self._tell(interaction, content=report(outcome, f"Read **{safe(found)}**'s log"))
                return
            text = "\n".join(outcome.stdout.rstrip().splitlines()[-lines:])
            if not text:
                await self._tell(interaction, content=f"**{safe(found)}**'s log is empty.")
                return
            cap = logs_line_cap(syntax)
            notes = [f"({syntax.era} prints only the last {cap} lines of a log)"] if cap and lines > cap else []
            notes += [outcome.cut_note()] if outcome.truncated else []
            head = f"The last {len(text.splitlines())} lines of **{safe(found)}**'s log"
            said = "".join(f" {note}" for note in notes)
            inline = f"{head}{said}:{block(text, MESSAGE_LIMIT)}"
            if len(inline) <= MESSAGE_LIMIT and "```" not in text:  # a code block cannot show ``` faithfully
                await self._tell(interaction, content=inline)
            else:
                log_file = discord.File(io.BytesIO(text.encode()), filename=f"{found}.log")
                await self._tell(interaction, content=f"{head} are attached.{said}", attachments=[log_file])

    @operator_command(
        name="install",
        description="Install a game server from a KGSM blueprint",
        blueprint="The blueprint (/blueprints lists them)",
        name_="The new server's name (KGSM picks one when empty)",
        version="A specific version (the latest when empty)",
    )
    async def install(
        self,
        interaction: discord.Interaction[Any],
        blueprint: Blueprint,
        name: Instance | None = None,
        version: Version | None = None,
    ) -> None:
        wanted, new_name, new_version = blueprint, name, version
        async with self._answering(interaction):
            with self._reserve(interaction, new_name or wanted, "install"):
                await interaction.response.defer(ephemeral=True, thinking=True)
                found = await self._blueprint(wanted)
                args = install_args(await self.cli.syntax(), found, name=new_name, version=new_version)
                outcome = await self._run(interaction, args, self.cli.timeout)
                self.cli.forget_instances()
            done = f"Installed the **{safe(found)}** blueprint" + (f" as **{safe(new_name)}**" if new_name else "")
            await self._tell(interaction, content=report(outcome, done))

    @operator_command(
        name="uninstall", description="Uninstall a game server (asks you to confirm)", instance="The server"
    )
    async def uninstall(self, interaction: discord.Interaction[Any], instance: Instance) -> None:
        name = instance
        holder = self.reservations.holder(name)
        if holder is not None:
            raise InstanceBusy(busy_text(Busy(name, holder)))
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._answering(interaction):
            found = await self._instance(name)
            view = ConfirmUninstall(
                interaction,
                label="Uninstall",
                action="uninstall",
                instance=found,
                undone=f"**{safe(found)}** was not uninstalled.",
                confirmed=functools.partial(self.uninstall_confirmed, instance=found),
            )
            seconds = f"{view.expiry:g}"
            await interaction.edit_original_response(
                content=f"⚠️ Uninstall **{safe(found)}**? Its files are removed. Confirm within {seconds} s.",
                view=view,
            )

    async def uninstall_confirmed(self, interaction: discord.Interaction[Any], instance: str) -> None:
        """The confirmation was pressed: uninstall, reporting in the prompt's place."""
        args = instance_args(await self.cli.syntax(), "uninstall", instance)
        await self._confirmed(
            interaction, instance, "uninstall", args, "Uninstalling", f"Uninstalled **{safe(instance)}**"
        )
        self.cli.forget_instances()

    async def _confirmed(
        self, interaction: discord.Interaction[Any], instance: str, command: str, args: list[str], doing: str, done: str
    ) -> None:
        """Run what a confirmation was pressed for, once the instance is free, reporting in the prompt's place."""
        try:
            reservation = self.reservations.reserve(instance, f"/{command} by {interaction.user.name}")
        except Busy as busy:
            await interaction.response.edit_message(content=busy_text(busy), view=None)
            return
        async with self._answering(interaction):
            with reservation:
                await interaction.response.edit_message(content=f"⏳ {doing} **{safe(instance)}**…", view=None)
                outcome = await self._run(interaction, args, self.cli.timeout)
            await self._tell(interaction, content=report(outcome, done))

    async def kgsm_backups(self, name: str, *, ask_again: bool = True) -> tuple[str, list[Backup]]:
        """KGSM's spelling of an instance and the backups KGSM lists for it, newest first: what /backups shows
        and /restore offers."""
        instance = await self._instance(name, ask_again=ask_again)
        return instance, await self.cli.backups(instance)

    @operator_command(
        name="restore",
        description="Restore a game server from one of its backups (asks you to confirm)",
        instance="The server",
        backup="The backup (/backups lists them)",
    )
    async def restore(self, interaction: discord.Interaction[Any], instance: Instance, backup: BackupId) -> None:
        holder = self.reservations.holder(instance)
        if holder is not None:
            raise InstanceBusy(busy_text(Busy(instance, holder)))
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._answering(interaction):
            found = await self._instance(instance)
            chosen = next((b for b in await self.cli.backups(found, refresh=True) if b.id == backup), None)
            if chosen is None:
                raise BadValue(f"KGSM lists no backup {code(backup)} of **{safe(found)}**; /backups lists them.")
            args = restore_backup_args(await self.cli.syntax(), found, chosen.id)
            view = ConfirmRestore(
                interaction,
                label="Restore",
                action="restore",
                instance=found,
                undone=f"**{safe(found)}** was not restored.",
                confirmed=functools.partial(self.restore_confirmed, instance=found, args=args, backup=chosen),
            )
            await interaction.edit_original_response(
                content=f"⚠️ Restore **{safe(found)}** from {backup_line(chosen)}? Its current files are replaced "
                f"by the backup's. Confirm within {view.expiry:g} s.",
                view=view,
            )

    async def restore_confirmed(
        self, interaction: discord.Interaction[Any], instance: str, args: list[str], backup: Backup
    ) -> None:
        done = f"Restored **{safe(instance)}** from {code(backup.id)}"
        await self._confirmed(interaction, instance, "restore", args, "Restoring", done)
        self.cli.forget_backups(instance)

    @operator_command(name="blueprints", description="The blueprints KGSM can install")
    async def blueprints(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._answering(interaction):
            names = await self.cli.blueprints(refresh=True)
            content = f"**{len(names)} blueprints**, for /install:\n" + (", ".join(f"`{n}`" for n in names) or "none")
            if len(content) > MESSAGE_LIMIT:
                content = content[: content.rfind("`, `", 0, MESSAGE_LIMIT - 30) + 1] + ", … and more"
            await self._tell(interaction, content=content)

    # ------------------------------------------------------------------ autocomplete

    @start.autocomplete("instance")
    @stop.autocomplete("instance")
    @restart.autocomplete("instance")
    @backup.autocomplete("instance")
    @logs.autocomplete("instance")
    @uninstall.autocomplete("instance")
    @restore.autocomplete("instance")
    async def _instances(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """KGSM's instances, then those the bot has seen events of; nothing for members who may not use them."""
        if not is_operator(interaction):
            return []
        try:
            listed = await self.cli.instances()
        except (KgsmError, OSError) as error:
            log.warning("autocomplete without KGSM's instances: %s", error)
            listed = []
        return best_choices([*listed, *(state.name for state in self.bot.states.all())], current)

    @restore.autocomplete("backup")
    async def _backups(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """The backups /backups lists of the instance chosen so far, newest first."""
        chosen = getattr(interaction.namespace, "instance", None)
        if not is_operator(interaction) or not isinstance(chosen, str) or not NAME.match(chosen.strip()):
            return []
        try:
            _found, backups = await self.kgsm_backups(chosen.strip(), ask_again=False)
        except (BadValue, KgsmError, OSError) as error:
            log.warning("no backups to suggest for %s: %s", chosen, error)
            return []
        return best_choices([(backup_choice(backup), backup.id) for backup in backups], current)

    @install.autocomplete("blueprint")
    async def _blueprints(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        if not is_operator(interaction):
            return []
        try:
            return best_choices(await self.cli.blueprints(), current)
        except (KgsmError, OSError) as error:
            log.warning("no blueprints to suggest: %s", error)
            return []


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Control(bot))
