"""The Restart button of a gave-up crash incident: `/restart` from the incident message itself.

The button's custom_id names the incident and its server (`bot.render.incident.RESTART_ID`), so it is
handled by a dynamic item registered at start-up, on messages posted before a restart of the bot too. A
press passes the same gates as `/restart`: the community, then an operator (Manage Server or a role in
`KGSM_OPERATOR_ROLE_IDS`); then `Control.instance_action` runs kgsm.sh restart with the member as
`KGSM_EVENT_ACTOR`, answers privately, and the incident message gets a line saying who restarted it and how
it went (the button goes once a restart worked). Loaded with `cogs.control` (only when `KGSM_PATH` is set).
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.app.tree import APOLOGY, answer_privately
from bot.kgsm.syntax import NAME
from bot.render.incident import RESTART_ID
from cogs.control import Control, InstanceBusy
from cogs.utils.checks import is_operator
from cogs.utils.reports import command_line

if TYPE_CHECKING:
    from bot.bot import KGSMBot

log = logging.getLogger(__name__)

TEMPLATE = re.compile(
    re.escape(RESTART_ID)
    .replace(r"\{run\}", r"(?P<run>[0-9]{1,18})")
    # KGSM's instance names, as the commands accept them
    .replace(r"\{instance\}", f"(?P<instance>{NAME.pattern.strip('^$')})")
    + "$"
)
REFUSAL = "Only members with the **Manage Server** permission or a KGSM operator role can restart servers."


class IncidentRestart(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """The Restart button (only its custom_id matters: the message was rendered by `bot.render.incident`)."""

    def __init__(self, run_id: int, instance: str) -> None:
        custom_id = RESTART_ID.format(run=run_id, instance=instance)
        super().__init__(discord.ui.Button(label="Restart", style=discord.ButtonStyle.danger, custom_id=custom_id))
        self.run_id = run_id
        self.instance = instance

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> IncidentRestart:
        return cls(int(match["run"]), match["instance"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self._press(interaction)
        except Exception as error:  # never an unanswered click: the traceback to the log, an apology to the member
            log.error("the Restart button of incident %s failed", self.run_id, exc_info=error)
            await answer_privately(interaction, APOLOGY)

    async def _press(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast("KGSMBot", interaction.client)
        if not await bot.community.admit(interaction):
            return
        if not is_operator(interaction):
            log.warning(
                "refused the Restart button of %s for %s (%s): not a KGSM operator",
                self.instance,
                interaction.user,
                interaction.user.id,
            )
            await answer_privately(interaction, REFUSAL)
            return
        control = bot.get_cog("Control")
        assert isinstance(control, Control)
        try:
            outcome = await control.instance_action(interaction, "restart", self.instance)
        except InstanceBusy as busy:
            await answer_privately(interaction, str(busy))
            return
        if outcome is None:
            return
        who, when = f"<@{interaction.user.id}>", f"<t:{int(time.time())}:t>"
        if outcome.ok:
            line = f"🔄 Restarted by {who} at {when}."
        else:
            end = "timed out" if outcome.timed_out else f"failed with exit code {outcome.returncode}"
            line = f"❌ {who} pressed Restart at {when}: `{command_line(outcome)}` {end}."
        if not await bot.notifier.note(self.run_id, line, restarted=outcome.ok):
            log.warning("the crash incident %s has no message to note the restart in", self.run_id)


async def setup(bot: KGSMBot) -> None:
    bot.add_dynamic_items(IncidentRestart)


async def teardown(bot: KGSMBot) -> None:
    bot.remove_dynamic_items(IncidentRestart)
