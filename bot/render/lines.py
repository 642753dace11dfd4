"""One-line summaries of stored events and server states, for /events, /status and the status board."""

from __future__ import annotations

from datetime import datetime

from bot.events import Event
from bot.render.event import Names, no_names, subject_of
from bot.render.palette import grade_icon
from bot.render.text import safe
from bot.store.state import InstanceState


def relative(moment: datetime) -> str:
    """Discord renders this as "3 minutes ago" in each reader's own language and time zone."""
    return f"<t:{int(moment.timestamp())}:R>"


def event_line(event: Event, *, names: Names = no_names, show_host: bool = False) -> str:
    host = f" on {safe(event.host)}" if show_host and event.host else ""
    subject = safe(subject_of(event, names))
    return f"{relative(event.timestamp)} {grade_icon(event)} **{subject}**{host} {safe(event.kind.label)}"


def state_line(state: InstanceState) -> str:
    parts = [f"{state.state.emoji} **{safe(state.title)}** — {state.state.value}"]
    if state.version:
        parts.append(f"v{safe(state.version)}")
    parts.append(f"since {relative(state.since or state.last_event_at)}")
    return " · ".join(parts)
