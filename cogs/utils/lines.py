"""One-line summaries of stored events and instance states, for /events and /status."""

from __future__ import annotations

from datetime import datetime

from bot.catalogue import Severity
from bot.events import Event
from bot.state import InstanceState
from cogs.utils.text import safe

SEVERITY_ICONS = {
    Severity.SUCCESS: "✅",
    Severity.PROGRESS: "🔵",
    Severity.INFO: "⚪",
    Severity.WARNING: "⚠️",
    Severity.FAILURE: "❌",
}


def relative(moment: datetime) -> str:
    """Discord renders this as "3 minutes ago" in each reader's own language and time zone."""
    return f"<t:{int(moment.timestamp())}:R>"


def event_line(event: Event, *, show_host: bool = False) -> str:
    icon = SEVERITY_ICONS[event.severity]
    host = f" on {safe(event.host)}" if show_host and event.host else ""
    return f"{relative(event.timestamp)} {icon} **{safe(event.subject)}**{host} {event.kind.label}"


def state_line(state: InstanceState) -> str:
    parts = [f"{state.state.emoji} **{safe(state.name)}** — {state.state.value}"]
    if state.version:
        parts.append(f"v{safe(state.version)}")
    parts.append(f"since {relative(state.since or state.last_event_at)}")
    return " · ".join(parts)
