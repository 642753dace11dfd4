"""Building event embeds: the parts every family shares, and Discord's size limits.

A family cog decides the emoji and the sentence; this module turns the event's Data into readable fields,
keeps private values out, puts actor and host in the footer, and makes sure the result is always within
Discord's limits, truncating with an ellipsis instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import discord

from bot.catalogue import Severity
from bot.events import Event
from cogs.utils.text import code, safe, truncate, unmention, words

COLOURS: dict[Severity, discord.Colour] = {
    Severity.SUCCESS: discord.Colour(0x2ECC71),
    Severity.PROGRESS: discord.Colour(0x3498DB),
    Severity.INFO: discord.Colour(0x95A5A6),
    Severity.WARNING: discord.Colour(0xE67E22),
    Severity.FAILURE: discord.Colour(0xE74C3C),
}

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000

# Keys that name the subject (already in the title) or repeat the envelope.
SUBJECT_KEYS = frozenset({"InstanceName", "InstanceId", "Instance", "BlueprintName", "Timestamp"})
# Values that identify a player's connection: never shown in a channel.
PRIVATE_KEYS = frozenset({"SessionKey", "PlayerAddr"})

LABELS: dict[str, str] = {
    "Blueprint": "Blueprint",
    "ExitCode": "Exit code",
    "Restarts": "Restarts",
    "Ports": "Ports",
    "PlayerName": "Player",
    "PlayerId": "Player id",
    "Target": "Target",
    "Command": "Command",
    "Key": "Setting",
    "Source": "Backup",
    "Version": "Version",
    "Deleted": "Deleted",
    "Kept": "Kept",
    "Tier": "Tier",
    "Runtime": "Runtime",
    "OverridesSystem": "Overrides a system blueprint",
    "RevertedToSystem": "Reverted to the system blueprint",
    "LifecycleManager": "Lifecycle manager",
    "Reason": "Reason",
}
CODE_KEYS = frozenset({"Command", "Key", "Source"})
VERSION_PAIRS = (("OldVersion", "NewVersion", "Version"), ("CurrentVersion", "LatestVersion", "Available update"))


def format_ports(ports: Any) -> str:
    """`[{start: 27015, end: 27020, protocol: tcp}]` → `27015-27020/tcp`."""
    if not isinstance(ports, list | tuple):
        return safe(ports)
    shown = []
    for port in ports:
        if isinstance(port, Mapping):
            start, end, protocol = port.get("start"), port.get("end"), port.get("protocol") or "?"
            span = f"{start}" if end in (None, start) else f"{start}-{end}"
            shown.append(f"{span}/{protocol}")
        else:
            shown.append(str(port))
    return safe(", ".join(shown)) if shown else "none"


def format_value(key: str, value: Any) -> str:
    if key == "Ports":
        return format_ports(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping | list | tuple):
        return code(json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False))
    if key in CODE_KEYS:
        return code(value)
    return safe(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def data_fields(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every Data value worth showing, as (label, value), except the subject, private keys and nulls."""
    fields: list[tuple[str, str]] = []
    paired: set[str] = set()
    for old_key, new_key, label in VERSION_PAIRS:
        if data.get(old_key) is not None or data.get(new_key) is not None:
            old = safe(data.get(old_key) or "?")
            new = safe(data.get(new_key) or "?")
            fields.append((label, f"{old} → {new}"))
            paired.update((old_key, new_key))
    for key, value in data.items():
        if key in SUBJECT_KEYS or key in PRIVATE_KEYS or key in paired or value is None:
            continue
        fields.append((LABELS.get(key) or words(key), format_value(key, value)))
    return fields


def footer_text(event: Event) -> str | None:
    """Footers show no markdown, so only mentions are broken there."""
    parts = []
    if event.actor:
        parts.append(f"by {event.actor}")
    if event.host:
        parts.append(f"on {event.host}")
    if event.producer_version:
        parts.append(f"KGSM {event.producer_version}")
    return unmention(" · ".join(parts)) or None


def build_embed(
    event: Event,
    *,
    emoji: str,
    description: str | None = None,
    extra_fields: Iterable[tuple[str, str]] = (),
) -> discord.Embed:
    """The standard embed of one event: title, colour by outcome, Data fields, footer and timestamp."""
    embed = discord.Embed(
        title=f"{emoji} {safe(event.subject)} — {event.kind.label}",
        description=description or (safe(event.summary) if event.summary else None),
        colour=COLOURS[event.severity],
        timestamp=event.timestamp,
    )
    for name, value in [*extra_fields, *data_fields(event.data)]:
        embed.add_field(name=name, value=value or "—", inline=len(value) <= 40)
    footer = footer_text(event)
    if footer:
        embed.set_footer(text=footer)
    return fit_to_limits(embed)


def fit_to_limits(embed: discord.Embed) -> discord.Embed:
    """Shorten `embed` in place until Discord would accept it; never raises."""
    if embed.title:
        embed.title = truncate(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = truncate(embed.description, DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, FOOTER_LIMIT))
    fields = [(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields]
    if len(fields) > FIELD_COUNT_LIMIT:
        hidden = len(fields) - (FIELD_COUNT_LIMIT - 1)
        fields = [*fields[: FIELD_COUNT_LIMIT - 1], ("More", f"{hidden} more values not shown", False)]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(
            name=truncate(name, FIELD_NAME_LIMIT) or "—",
            value=truncate(value, FIELD_VALUE_LIMIT) or "—",
            inline=inline,
        )
    # Over the total: shorten the longest field value, then the description, until it fits.
    while len(embed) > TOTAL_LIMIT:
        excess = len(embed) - TOTAL_LIMIT
        longest = max(range(len(embed.fields)), key=lambda i: len(embed.fields[i].value or ""), default=None)
        if longest is not None and len(embed.fields[longest].value or "") > 64:
            field = embed.fields[longest]
            value = field.value or ""
            embed.set_field_at(
                longest,
                name=field.name or "—",
                value=truncate(value, max(len(value) - excess, 64)),
                inline=bool(field.inline),
            )
        elif embed.description and len(embed.description) > 64:
            embed.description = truncate(embed.description, max(len(embed.description) - excess, 64))
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        else:
            embed.title = truncate(embed.title or "", 64)
            break
    return embed
