"""The embed of one event, from its vocabulary entry: emoji and words in the title, the entry's sentence (or
KGSM's own `Summary` for a type the bot does not know), every Data value worth showing, and who did it where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType

import discord

from bot.events import Event, Family, reported
from bot.render.fields import data_fields, player_data
from bot.render.limits import fit_to_limits
from bot.render.palette import event_colour
from bot.render.sentence import fill, placeholders
from bot.render.text import code, hide_addresses, plain, safe

# (instance, host) → how the server is called (its display name), for titles and sentences.
Names = Callable[[str | None, str | None], str | None]
_VERSIONS_NOT_SHOWN = frozenset({"test"})


def no_names(instance: str | None, _host: str | None) -> str | None:
    return instance


def subject_of(event: Event, names: Names) -> str:
    """What the event is about, as people call it: a server by its display name."""
    if event.instance is not None:
        return names(event.instance, event.host) or event.instance
    return event.subject


def footer_text(event: Event) -> str | None:
    """Who did it, where, with which KGSM: only what KGSM reported (footers show no markdown)."""
    parts = []
    if event.actor:
        parts.append(f"by {event.actor}")
    if event.host:
        parts.append(f"on {event.host}")
    version = event.producer_version
    if version and version.lower() not in _VERSIONS_NOT_SHOWN:
        producer = event.producer if event.producer not in (None, "kgsm") else "KGSM"
        parts.append(f"{producer} {version}")
    return plain(" · ".join(parts), 2048) or None


def sentence_of(event: Event, subject: str) -> tuple[str, set[str]]:
    """The entry's sentence with the event's values (and the Data keys it said); else KGSM's own summary."""
    template = event.kind.sentence
    if template is not None:
        data = event.data
        values = {
            key: safe(text)
            for key in placeholders(template)
            if (raw := data.get(key)) is not None and (text := reported(raw)) is not None
        }
        values["subject"] = f"**{safe(subject)}**"
        if event.host:
            values["host"] = safe(event.host)
        said = fill(template, values)
        if said is not None:
            return said
    if event.summary:
        return safe(event.summary), set()
    if not event.kind.known:
        return f"KGSM reported {code(event.type)} for **{safe(subject)}**, an event this bot does not know yet.", set()
    return f"**{safe(subject)}**: {safe(event.kind.label)}.", set()


def render_event(event: Event, names: Names = no_names) -> discord.Embed:
    """The standard embed of one event (pure: the same event and names give the same embed)."""
    if event.family is Family.PLAYERS:  # who and why only: never an address, whatever KGSM sends
        summary = hide_addresses(event.summary) if event.summary else None
        event = replace(event, data=MappingProxyType(player_data(event.data)), summary=summary)
    subject = subject_of(event, names)
    description, said = sentence_of(event, subject)
    if event.family is Family.TEST:  # KGSM's own test: one short line, nothing else
        embed = discord.Embed(title=f"{event.kind.emoji} {description}", colour=event_colour(event))
        embed.timestamp = event.timestamp
        return fit_to_limits(embed)
    embed = discord.Embed(
        title=f"{event.kind.emoji} {safe(subject)} — {safe(event.kind.label)}",
        description=description,
        colour=event_colour(event),
        timestamp=event.timestamp,
    )
    fields = data_fields({key: value for key, value in event.data.items() if key not in said}, event.kind.subject)
    if not event.kind.known:
        fields.insert(0, ("Event", code(event.type)))
    for name, value in fields:
        embed.add_field(name=name, value=value or "—", inline=len(value) <= 40)
    footer = footer_text(event)
    if footer:
        embed.set_footer(text=footer)
    return fit_to_limits(embed)
