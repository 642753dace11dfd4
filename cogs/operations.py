"""The live message of an operation run: a checklist of its steps with a progress bar, edited in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.catalogue import Severity, kind_of
from bot.operations import Run, RunStatus
from cogs.utils.embeds import COLOURS, fit_to_limits
from cogs.utils.text import safe, unmention

if TYPE_CHECKING:
    from bot.bot import KGSMBot

BAR_WIDTH = 12
DETAIL_LABELS = {"Blueprint": "Blueprint", "Version": "Version", "Source": "Backup"}


def progress_bar(done: int, total: int) -> str:
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    return "▰" * filled + "▱" * (BAR_WIDTH - filled) + f" {done}/{total}"


def checklist(run: Run) -> list[str]:
    """Expected steps in order (done ✅, waiting ⬜), then any other step seen; the failed step ❌."""
    seen = set(run.steps)
    expected = [step for step in run.kind.steps if step not in run.kind.failures]
    lines = []
    for step in expected:
        mark = "✅" if step in seen else ("▫️" if run.finished else "⬜")
        lines.append(f"{mark} {kind_of(step).label}")
    for step in run.steps:
        if step in expected:
            continue
        mark = "❌" if step == run.failed_step else "✅"
        lines.append(f"{mark} {kind_of(step).label}")
    return lines


def render(run: Run) -> discord.Embed:
    subject = safe(run.instance)
    expected = [step for step in run.kind.steps if step not in run.kind.failures]
    done = sum(step in run.steps for step in expected)
    if run.status is RunStatus.DONE:
        title, colour = f"✅ {subject} {run.kind.done}", COLOURS[Severity.SUCCESS]
        done = len(expected)
    elif run.status is RunStatus.FAILED:
        failed = kind_of(run.failed_step or "").label
        title, colour = f"❌ {subject}: {run.kind.name} failed at “{failed}”", discord.Colour(0xE74C3C)
    else:
        title, colour = f"⏳ {run.kind.running} {subject}", discord.Colour(0x3498DB)
    embed = discord.Embed(
        title=title,
        description="\n".join([progress_bar(done, len(expected)), "", *checklist(run)]),
        colour=colour,
        timestamp=run.started_at,
    )
    version = run.details.get("NewVersion") or run.details.get("Version")
    old = run.details.get("OldVersion")
    for key, label in DETAIL_LABELS.items():
        value = version if key == "Version" else run.details.get(key)
        if value:
            embed.add_field(name=label, value=safe(f"{old} → {value}" if key == "Version" and old else value))
    footer = " · ".join(part for part in (run.actor and f"by {run.actor}", run.host and f"on {run.host}") if part)
    embed.set_footer(text=unmention(footer or f"{run.kind.name} of {run.instance}"))
    return fit_to_limits(embed)


class Operations(commands.Cog):
    """Renders the live messages of operation runs."""

    def __init__(self, bot: KGSMBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.renderers.run = render

    async def cog_unload(self) -> None:
        self.bot.renderers.run = None


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(Operations(bot))
