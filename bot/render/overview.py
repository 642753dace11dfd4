"""Every server at a glance: the status board's message and `/status` without a server."""

from __future__ import annotations

import discord

from bot.render.lines import state_line
from bot.render.palette import BLURPLE
from bot.render.players import player_count, players_total
from bot.render.text import safe, truncate
from bot.store.state import InstanceState


def render_overview(states: list[InstanceState]) -> discord.Embed:
    """Every server with its state emoji, version, last change and players; grouped by host when there are
    several."""
    up = sum(state.is_up for state in states)
    players = players_total(states)
    title = f"Servers — {up} of {len(states)} up" + (f" · {players}" if players else "")
    embed = discord.Embed(title=title, colour=BLURPLE)
    hosts = sorted({state.host or "" for state in states})
    if len(hosts) > 1:
        for host in hosts[:25]:
            lines = [_line(state) for state in states if (state.host or "") == host]
            embed.add_field(name=safe(host or "unknown host"), value=truncate("\n".join(lines), 1024), inline=False)
    else:
        embed.description = truncate("\n".join(_line(state) for state in states), 4096)
    if not states:
        embed.description = "No server has reported an event yet."
    return embed


def _line(state: InstanceState) -> str:
    count = player_count(state)
    return state_line(state) + (f" · {count}" if count else "")
