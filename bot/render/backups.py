"""A server's backups (`/backups`): newest first, each with when, version and size when known."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.kgsm.syntax import Backup
from bot.render.fields import format_size
from bot.render.limits import fit_to_limits
from bot.render.palette import BLURPLE
from bot.render.text import code, plain, safe

SHOWN = 25  # backups listed; the rest are counted


def when(created_at: str | None) -> str | None:
    """KGSM 3's UTC time as Discord's own date (each reader's time zone); an older KGSM's host-local time as
    written, saying so."""
    if not created_at:
        return None
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return safe(created_at)
    if moment.tzinfo is None:
        return f"{safe(created_at.replace('T', ' '))} (the host's time)"
    return f"<t:{int(moment.timestamp())}:f>"


def backup_line(backup: Backup) -> str:
    parts = [code(backup.id)]
    made = when(backup.created_at)
    if made:
        parts.append(made)
    if backup.version:
        parts.append(f"v{safe(backup.version)}")
    size = format_size(backup.size_bytes)
    if size:
        parts.append(size)
    return " · ".join(parts)


def backup_choice(backup: Backup) -> str:
    """How a backup is offered in an autocomplete (plain text, at most 100 characters)."""
    parts = (f"v{backup.version}" if backup.version else None, format_size(backup.size_bytes))
    extra = " · ".join(part for part in parts if part)
    return plain(f"{backup.id} ({extra})" if extra else backup.id, 100)


def render_backups(title: str, backups: Sequence[Backup], source: str, notes: Sequence[str] = ()) -> discord.Embed:
    """`title` is the server's name (raw); `source` says where the list comes from, `notes` what it may miss."""
    count = f"{len(backups)} backup{'s' if len(backups) != 1 else ''}"
    embed = discord.Embed(title=f"💾 Backups of {safe(title)} — {count}", colour=BLURPLE)
    lines = [backup_line(backup) for backup in backups[:SHOWN]]
    if len(backups) > SHOWN:
        lines.append(f"… and {len(backups) - SHOWN} older")
    body = "\n".join(lines) if lines else "No backups."
    embed.description = "\n\n".join([body, *notes])
    embed.set_footer(text=source)
    return fit_to_limits(embed)
