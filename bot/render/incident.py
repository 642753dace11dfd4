"""The live message of a crash incident: one per server and incident, edited as the supervisor retries.

"💥 valheim crashed — restarting (attempt 2)", then "✅ valheim recovered after 40 s" or, red, "🛑 valheim gave up
after 5 restarts" with a Restart button for operators (`restart_button`). KGSM does not say how many attempts
its supervisor makes (`crash_max_restarts`), so the running message gives the attempt without a maximum.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.events.runs import Run, RunStatus
from bot.kgsm.syntax import NAME
from bot.render.event import Names, no_names
from bot.render.limits import fit_to_limits
from bot.render.palette import GREEN, ORANGE, RED
from bot.render.text import plain, safe

RESTART_ID = "kgsm:restart:{run}:{instance}"  # the Restart button's custom_id (cogs/incident.py reads it)


def duration(seconds: float) -> str:
    """`40 s`, `3 min 5 s`, `2 h 10 min`: how long the server was down."""
    whole = max(round(seconds), 0)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _times(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def incident_title(run: Run, names: Names = no_names) -> str:
    subject = safe(names(run.instance, run.host) or run.instance)
    details = run.details
    if run.status is RunStatus.DONE:
        return f"✅ {subject} recovered after {duration((run.updated_at - run.started_at).total_seconds())}"
    if run.status is RunStatus.FAILED:
        after = details.get("gave_up_after")
        if after is None:
            return f"🛑 {subject} crashed and the supervisor gave up restarting it"
        if after == 0:  # a supervisor allowed no restart at all (crash_max_restarts=0)
            return f"🛑 {subject} crashed and the supervisor did not restart it"
        return f"🛑 {subject} gave up after {_times(after, 'restart')}"
    attempt = details.get("attempt")
    restarting = f"restarting (attempt {attempt})" if attempt else "the supervisor is restarting it"
    if run.status is RunStatus.QUIET:
        return f"⚠️ {subject} crashed — no news from KGSM"
    return f"💥 {subject} crashed — {restarting}"


def _lines(run: Run) -> list[str]:
    details = run.details
    crashes = details.get("crashes", 0)
    since = f"<t:{int(run.started_at.timestamp())}:T>"
    exit_code = details.get("ExitCode")
    last = f", last with exit code {safe(exit_code)}." if exit_code else "."
    lines = [f"Crashed {_times(crashes, 'time')} since {since}{last}" if crashes else f"Gave up at {since}."]
    if run.status is RunStatus.DONE:
        lines.append(f"Up again at <t:{int(run.updated_at.timestamp())}:T>.")
    elif run.status is RunStatus.FAILED:
        failures = details.get("failures")
        counted = f"The supervisor counted {failures} failures in a row; it" if failures else "It"
        lines.append(f"{counted} stays down until someone starts it.")
    elif run.status is RunStatus.QUIET:
        lines.append(f"KGSM has sent nothing about it since <t:{int(run.heard_at.timestamp())}:f>; it may be up again.")
    return lines + list(details.get("notes", []))  # the bot's own lines, made inert when written


def render_incident(run: Run, names: Names = no_names) -> discord.Embed:
    colour = {RunStatus.DONE: GREEN, RunStatus.FAILED: RED}.get(run.status, ORANGE)
    embed = discord.Embed(
        title=incident_title(run, names), description="\n".join(_lines(run)), colour=colour, timestamp=run.started_at
    )
    parts = (run.actor and f"by {run.actor}", run.host and f"on {run.host}")
    embed.set_footer(text=plain(" · ".join(part for part in parts if part) or f"crash of {run.instance}", 2048))
    return fit_to_limits(embed)


def incident_buttons(run: Run) -> list[dict[str, Any]]:
    """The Restart button of a gave-up incident (Discord's component JSON), until a restart from it worked."""
    if not (run.kind.incident and run.status is RunStatus.FAILED) or run.details.get("restarted"):
        return []
    if not NAME.match(run.instance):  # not a name KGSM's CLI takes (nor one that fits in a custom_id)
        return []
    custom_id = RESTART_ID.format(run=run.id, instance=run.instance)
    return [{"type": 2, "style": discord.ButtonStyle.danger.value, "label": "Restart", "custom_id": custom_id}]
