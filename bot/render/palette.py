"""The one palette: the colour of an event, of an operation run and of a server's state."""

from __future__ import annotations

import discord

from bot.events import Event, Outcome, Severity, State, Tone
from bot.store.uptime import Condition

GREEN = discord.Colour(0x2ECC71)
BLUE = discord.Colour(0x3498DB)
GREY = discord.Colour(0x95A5A6)
ORANGE = discord.Colour(0xE67E22)
RED = discord.Colour(0xE74C3C)
BLURPLE = discord.Colour.blurple()  # the bot's own answers (lists, status, help)
NO_DATA = discord.Colour(0x3A3C43)  # a period the bot knows nothing of (uptime pictures)
BACKGROUND = discord.Colour(0x1E1F22)  # behind the cells of an uptime picture (Discord's dark theme)

_TONES = {Tone.GOOD: GREEN, Tone.PROGRESS: BLUE, Tone.NEUTRAL: GREY}
_STATES = {State.READY: GREEN, State.ONLINE: GREEN, State.CRASHED: ORANGE, State.FAILED: RED}
_CONDITIONS = {Condition.UP: GREEN, Condition.DOWN: GREY, Condition.CRASHED: RED, Condition.NO_DATA: NO_DATA}


def event_colour(event: Event) -> discord.Colour:
    """Danger is red and warn orange (KGSM's `Severity`, or its grade for the type); an info event is green
    when it reports a success, orange when a failure, else its type's own calm colour (blue for the phases of
    an operation)."""
    if event.severity is Severity.DANGER:
        return RED
    if event.severity is Severity.WARN:
        return ORANGE
    if event.outcome is Outcome.SUCCESS:
        return GREEN
    if event.outcome is Outcome.FAILURE:
        return ORANGE
    if event.kind.phase and event.kind.tone is Tone.NEUTRAL:
        return BLUE
    return _TONES[event.kind.tone]


def state_colour(state: State) -> discord.Colour:
    return _STATES.get(state, GREY)


def condition_colour(condition: Condition) -> discord.Colour:
    """The colour of a server's condition in an uptime picture: up, down, crashed, or no data."""
    return _CONDITIONS[condition]


def grade_icon(event: Event) -> str:
    """One character for an event's grade in lists (/events, /status)."""
    if event.severity is Severity.DANGER:
        return "🔴"
    if event.severity is Severity.WARN or event.outcome is Outcome.FAILURE:
        return "⚠️"
    if event.outcome is Outcome.SUCCESS:
        return "✅"
    return "🔵" if event.kind.phase else "⚪"
