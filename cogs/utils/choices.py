"""Autocomplete and validation of instance names and event types, from what the bot has seen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from discord import app_commands

from bot.catalogue import CATALOGUE, FAMILIES
from bot.kgsm_syntax import NAME
from bot.routing import normalise_target

if TYPE_CHECKING:
    from bot.bot import KGSMBot

MAX_CHOICES = 25


def best_choices(candidates: Iterable[str], current: str) -> list[app_commands.Choice[str]]:
    """Names that start with what was typed, then names that contain it; no repeats, at most 25."""
    candidates = list(dict.fromkeys(candidates))
    typed = current.strip().lower()
    starts = [c for c in candidates if c.lower().startswith(typed)]
    contains = [c for c in candidates if typed in c.lower() and c not in starts]
    return [app_commands.Choice(name=c[:100], value=c[:100]) for c in (starts + contains)[:MAX_CHOICES]]


def instance_choices(bot: KGSMBot, current: str) -> list[app_commands.Choice[str]]:
    names = sorted({state.name for state in bot.states.all()} | set(bot.router.instances_with_channels))
    return best_choices(names, current)


def event_choices(bot: KGSMBot, current: str) -> list[app_commands.Choice[str]]:
    return best_choices(sorted(FAMILIES) + sorted(set(CATALOGUE) | bot.seen_types), current)


class BadValue(app_commands.CheckFailure):
    """A submitted option that is not one of the allowed values; the message says which are."""


def known_instance(bot: KGSMBot, raw: str) -> str:
    """The stored spelling of a known instance, or BadValue (the submitted text is never trusted)."""
    state = bot.states.get(raw.strip())
    if state is None:
        raise BadValue(f"No server called `{raw.strip()[:64]}` has reported an event yet.")
    return state.name


def valid_instance_name(raw: str) -> str:
    name = raw.strip()
    if not NAME.match(name):
        raise BadValue("An instance name is 1 to 64 letters, digits, dots, dashes or underscores.")
    return name


def event_filter(bot: KGSMBot, raw: str) -> tuple[str | None, str | None]:
    """`raw` as (family, type): exactly one is set; BadValue if it is neither."""
    target = normalise_target(raw)
    if target in FAMILIES:
        return target, None
    if target in CATALOGUE or target in bot.seen_types:
        return None, target
    raise BadValue(f"`{raw.strip()[:64]}` is neither an event type nor a family (install, lifecycle, players, …).")
