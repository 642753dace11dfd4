"""The alert ping's text: the alert role, then the headline of what went wrong (its message's title)."""

from __future__ import annotations

from bot.events import Event
from bot.events.runs import Run
from bot.render.event import Names, no_names, render_event
from bot.render.run import render_run


def alert_text(role_id: int, about: Run | Event, names: Names = no_names) -> str:
    """`<@&role> 🛑 valheim gave up after 5 restarts`: short, the details are in the message it is about."""
    embed = render_run(about, names) if isinstance(about, Run) else render_event(about, names)
    return f"<@&{role_id}> {embed.title}"
