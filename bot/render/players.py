"""Who is on the servers now (`/players`), and the count per server on the status board.

Only a player's name is ever shown, made inert (`safe`) and with any network address in it hidden
(`hide_addresses`); the roster holds no id, session key or address to show (`bot.store.roster`).
"""

from __future__ import annotations

import discord

from bot.render.limits import FIELD_VALUE_LIMIT, fit_to_limits
from bot.render.lines import relative
from bot.render.palette import BLURPLE
from bot.render.text import hide_addresses, safe, truncate
from bot.store.roster import NAME_LIMIT, Player
from bot.store.state import InstanceState

NAMELESS = "a player without a name"
SHOWN_NAME = 64  # characters of a name shown


def head_count(state: InstanceState) -> str:
    """ "3", or "500+" when more were on than the bot keeps."""
    return f"{len(state.players)}{'+' if state.roster.incomplete else ''}"


def player_count(state: InstanceState) -> str | None:
    """ "👥 2" for a server that is up or has players on it; None for one that is down and empty."""
    return f"👥 {head_count(state)}" if state.players or state.is_up else None


def players_total(states: list[InstanceState]) -> str | None:
    """ "3 players online", or None when nobody is on any server."""
    total = sum(len(state.players) for state in states)
    if not total:
        return None
    more = "+" if any(state.roster.incomplete for state in states) else ""
    return f"{total}{more} player{'s' if total != 1 else ''} online"


def player_name(player: Player) -> str:
    if not player.name:
        return NAMELESS
    return f"**{truncate(safe(hide_addresses(player.name[:NAME_LIMIT])), SHOWN_NAME)}**"


def player_line(player: Player) -> str:
    return f"{player_name(player)} · since {relative(player.since)}"


def listing(players: tuple[Player, ...], room: int = FIELD_VALUE_LIMIT) -> str:
    """One line per player, the longest-online first, within `room` characters; the rest are counted."""
    lines: list[str] = []
    used = 0
    for number, player in enumerate(players):
        line = player_line(player)
        rest = len(players) - number - 1
        reserve = len(f"\n… and {len(players)} more") if rest else 0
        if used + len(line) + 1 + reserve > room:
            lines.append(f"… and {len(players) - number} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _heading(state: InstanceState, show_host: bool) -> str:
    host = f" on {safe(state.host)}" if show_host and state.host else ""
    return f"{state.state.emoji} {safe(state.title)}{host} — {head_count(state)} online"


def render_players(states: list[InstanceState]) -> discord.Embed:
    """Every server someone is on, with who and since when; the servers nobody is on are only counted."""
    occupied = [state for state in states if state.players]
    total = players_total(states)
    embed = discord.Embed(title=f"Players — {total or 'nobody online'}", colour=BLURPLE)
    show_host = len({state.host for state in states if state.host}) > 1
    for state in occupied:
        embed.add_field(name=_heading(state, show_host), value=listing(state.players), inline=False)
    empty = len(states) - len(occupied)
    if not states:
        embed.description = "No server has reported an event yet."
    elif not occupied:
        servers = "the one server" if len(states) == 1 else f"any of the {len(states)} servers"
        embed.description = f"Nobody is on {servers} now."
    elif empty:
        embed.description = f"Nobody is on the other {empty} server{'s' if empty != 1 else ''}."
    return fit_to_limits(embed)


def render_server_players(state: InstanceState) -> discord.Embed:
    """Who is on one server now."""
    embed = discord.Embed(title=_heading(state, show_host=False), colour=BLURPLE)
    if state.players:
        embed.description = listing(state.players, room=4096)
    else:
        embed.description = f"Nobody is on **{safe(state.title)}** now (it is {state.state.value})."
    return fit_to_limits(embed)
