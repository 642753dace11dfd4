"""The live message of an operation run: a checklist of its steps with a progress bar, edited in place."""

from __future__ import annotations

import discord

from bot.events import kind_of
from bot.events.runs import Run, RunStatus
from bot.render.event import Names, no_names
from bot.render.incident import render_incident
from bot.render.limits import fit_to_limits
from bot.render.palette import BLUE, GREEN, ORANGE, RED
from bot.render.text import plain, safe

BAR_WIDTH = 12
DETAIL_LABELS = {"Blueprint": "Blueprint", "Version": "Version", "Source": "Backup", "Library": "Library"}


def progress_bar(done: int, total: int) -> str:
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    return "▰" * filled + "▱" * (BAR_WIDTH - filled) + f" {done}/{total}"


def _label(step: str) -> str:
    return safe(kind_of(step).label)


def checklist(run: Run) -> list[str]:
    """The steps, in the operation's order, then any other step seen.

    While it runs: expected steps done ✅ or waiting ⬜. Once complete: the steps KGSM sent (an older KGSM sends
    fewer; none is shown as missing). Once failed: what was done, the failed step ❌, what was not reached ▫️.
    """
    seen = set(run.steps)
    expected = list(run.kind.checklist)
    lines = []
    for step in expected:
        if step in seen:
            lines.append(f"✅ {_label(step)}")
        elif run.status is RunStatus.FAILED:
            lines.append(f"▫️ {_label(step)}")
        elif run.status is not RunStatus.DONE:
            lines.append(f"⬜ {_label(step)}")
    for step in run.steps:
        if step not in expected:
            lines.append(f"{'❌' if step == run.failed_step else '✅'} {_label(step)}")
    return lines


def render_run(run: Run, names: Names = no_names) -> discord.Embed:
    if run.kind.incident:
        return render_incident(run, names)
    subject = safe(names(run.instance, run.host) or run.instance)
    expected = run.kind.checklist
    done = sum(step in run.steps for step in expected)
    total = len(expected)
    head: list[str] = []
    if run.status is RunStatus.DONE:
        title, colour = f"✅ {subject} {run.kind.done}", GREEN
        total = done
    elif run.status is RunStatus.FAILED:
        title, colour = f"❌ {subject}: {run.kind.name} failed at “{_label(run.failed_step or '')}”", RED
    elif run.status is RunStatus.QUIET:
        title, colour = f"⚠️ {run.kind.running} {subject} — no news from KGSM", ORANGE
        head = [f"KGSM has sent nothing about it since <t:{int(run.heard_at.timestamp())}:f>.", ""]
    else:
        title, colour = f"⏳ {run.kind.running} {subject}", BLUE
    embed = discord.Embed(
        title=title,
        description="\n".join([*head, progress_bar(done, total), "", *checklist(run)]),
        colour=colour,
        timestamp=run.started_at,
    )
    version = run.details.get("NewVersion") or run.details.get("Version")
    old = run.details.get("OldVersion")
    for key, label in DETAIL_LABELS.items():
        value = version if key == "Version" else run.details.get(key)
        if value:
            shown = f"{safe(old)} → {safe(value)}" if key == "Version" and old else safe(value)
            embed.add_field(name=label, value=shown)
    parts = (run.actor and f"by {run.actor}", run.host and f"on {run.host}")
    footer = " · ".join(part for part in parts if part)
    embed.set_footer(text=plain(footer or f"{run.kind.name} of {run.instance}", 2048))
    return fit_to_limits(embed)
