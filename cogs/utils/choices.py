"""Autocomplete and validation of server names and event types, from what the bot has seen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from discord import app_commands

from bot.app.tree import BadValue
from bot.events import FAMILIES, TABLE, resolve_target
from bot.render.text import plain

if TYPE_CHECKING:
    from bot.bot import KGSMBot

MAX_CHOICES = 25


def best_choices(candidates: Iterable[str | tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    """Choices that start with what was typed, then those that contain it; no repeats, at most 25.

    A candidate is a value, or (what is shown, value) when it is shown with more words than its value; a value
    offered twice is shown as it was first (a server's display name beats its bare id from KGSM_CHANNELS).
    """
    unique: dict[str, tuple[str, str]] = {}
    for candidate in candidates:
        shown, value = (candidate, candidate) if isinstance(candidate, str) else candidate
        unique.setdefault(value, (shown, value))
    pairs = list(unique.values())
    typed = current.strip().lower()
    starts = [pair for pair in pairs if pair[0].lower().startswith(typed)]
    contains = [pair for pair in pairs if typed in pair[0].lower() and pair not in starts]
    return [
        app_commands.Choice(name=plain(shown, 100) or "?", value=value[:100])
        for shown, value in (starts + contains)[:MAX_CHOICES]
    ]


def instance_choices(bot: KGSMBot, current: str) -> list[app_commands.Choice[str]]:
    """Servers the bot knows, shown by display name (with their id when it differs)."""
    candidates: list[str | tuple[str, str]] = []
    for state in bot.states.all():
        shown = state.name if state.title == state.name else f"{state.title} ({state.name})"
        candidates.append((shown, state.name))
    candidates += sorted(bot.router.instances_with_channels)
    return best_choices(candidates, current)


def event_choices(bot: KGSMBot, current: str) -> list[app_commands.Choice[str]]:
    """Families, then every known type; a type KGSM also spelled otherwise shows that spelling, so that typing
    `instance_crashed` finds `server.crashed`."""
    candidates: list[str | tuple[str, str]] = sorted(FAMILIES)
    for name in sorted(set(TABLE) | bot.seen_types):
        legacy = TABLE[name].legacy if name in TABLE else ()
        candidates.append((f"{name} ({', '.join(legacy)})" if legacy else name, name))
    return best_choices(candidates, current)


def known_instance(bot: KGSMBot, raw: str) -> str:
    """The stored spelling of a known server, or BadValue (the submitted text is never trusted)."""
    state = bot.states.get(raw.strip())
    if state is None:
        raise BadValue(f"No server called `{plain(raw.strip(), 64)}` has reported an event yet.")
    return state.name


def event_filter(bot: KGSMBot, raw: str) -> tuple[str | None, str | None]:
    """`raw` as (family, canonical type): exactly one is set; BadValue if it is neither.

    Any spelling KGSM has used is accepted (`instance_started`, `instance-started`, `server.started`)."""
    family, event_type = resolve_target(raw)
    if family is not None:
        return family.value, None
    if event_type is not None and (event_type in TABLE or event_type in bot.seen_types):
        return None, event_type
    raise BadValue(
        f"`{plain(raw.strip(), 64)}` is neither an event type nor a family (install, lifecycle, players, …)."
    )
