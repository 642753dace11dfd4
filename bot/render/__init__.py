"""Rendering: events, operation runs and server states as Discord embeds and lines.

Owns: the palette, escaping (`text`), Discord's size limits, sentences and fields of events, who is online
(`players`), a server's backups (`backups`), /uptime's answer and the digest (`uptime`), and the uptime
picture (`timeline`, drawn with Pillow).
Pure: a renderer is a function of an event (or run, or states) and the names of servers, with no I/O, so
every type is tested without a network and dry-run prints the very embed Discord would get.
May import: `bot.events`, `bot.store` (its pure parts: state, uptime, daily), `bot.kgsm` (which instance names
KGSM takes), `bot.config`.
"""

from bot.render.alert import alert_text
from bot.render.event import Names, no_names, render_event
from bot.render.incident import incident_buttons
from bot.render.overview import render_overview
from bot.render.run import render_run

__all__ = ["Names", "alert_text", "incident_buttons", "no_names", "render_event", "render_overview", "render_run"]
