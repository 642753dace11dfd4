"""/uptime's answer and the daily digest, as embeds (the picture is `bot.render.timeline`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import discord

from bot.render.limits import fit_to_limits
from bot.render.palette import BLURPLE
from bot.render.text import plain, safe
from bot.store.daily import DaySummary
from bot.store.uptime import Condition, Uptime

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def duration(seconds: float) -> str:
    """`40 s`, `3 min 5 s`, `2 h 5 min`, `1 d 3 h`: the two largest units."""
    left = max(round(seconds), 0)
    parts: list[str] = []
    for unit, size in _UNITS:
        if left >= size or (unit == "s" and not parts):
            count, left = divmod(left, size)
            parts.append(f"{count} {unit}")
        elif parts:
            break
        if len(parts) == 2:
            break
    return " ".join(parts)


def percent(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.2f} %".replace(".00 %", " %") if value < 100 else "100 %"


def _numbers(numbers: Uptime) -> str:
    crashes = f"{numbers.crashes} crash{'es' if numbers.crashes != 1 else ''}" if numbers.crashes else "no crash"
    parts = [crashes]
    if numbers.mean_recovery is not None:
        parts.append(f"recovered in {duration(numbers.mean_recovery)} on average")
    longest = numbers.longest
    if longest is not None:
        parts.append(f"longest outage {duration(longest.seconds)}{'' if longest.recovered else ' (still down)'}")
    return " · ".join(parts)


def uptime_lines(numbers: Uptime) -> list[str]:
    lines = [f"**{percent(numbers.percent)}** up · {_numbers(numbers)}"]
    gap = numbers.seconds_in(Condition.NO_DATA)
    if gap > 0 and numbers.percent is not None:
        lines.append(f"no data for {duration(gap)}: left out of the percentage")
    return lines


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%M")


def render_uptime(
    rows: Sequence[tuple[str, Uptime]], days: int, per: str, image: str, hidden: int = 0
) -> discord.Embed:
    """One field per server, in the order of the picture's rows; `per` is what one cell is (hour, day)."""
    start, end = (rows[0][1].start, rows[0][1].end) if rows else (None, None)
    span = f"{_when(start)} → {_when(end)} UTC" if start and end else ""
    embed = discord.Embed(
        title=f"Uptime — the last {days} day{'s' if days != 1 else ''}",
        description=(
            f"From the stored history, {span}. In the picture, one row per server in this order, one cell per "
            f"{per}: green up, grey down, red crashed, dark no data (before a server's first event, or while the "
            "bot was not running; left out of the percentages)."
        ),
        colour=BLURPLE,
    )
    for index, (title, numbers) in enumerate(rows, 1):
        embed.add_field(name=f"{index}. {safe(plain(title, 90))}", value="\n".join(uptime_lines(numbers)), inline=False)
    if hidden:
        embed.set_footer(text=f"{hidden} more servers not shown; ask for one with instance:")
    embed.set_image(url=f"attachment://{image}")
    return fit_to_limits(embed)


def _count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number} {word if number == 1 else plural or word + 's'}"


def digest_line(title: str, day: DaySummary) -> str:
    numbers = day.uptime
    parts = [f"{percent(numbers.percent)} up", _count(numbers.crashes, "crash", "crashes")]
    parts += [_count(day.updates, "update"), _count(day.backups, "backup")]
    parts.append(f"peak {_count(day.peak_players, 'player')}")
    line = f"**{safe(plain(title, 90))}** — " + " · ".join(parts)
    gap = numbers.seconds_in(Condition.NO_DATA)
    if gap > 0 and numbers.percent is not None:
        line += f" (no data for {duration(gap)})"
    return line


def render_digest(day: date, rows: Sequence[tuple[str, DaySummary]], late: bool = False) -> discord.Embed:
    """The digest of one UTC day; `late` when it is posted after the set time (the bot was not running)."""
    embed = discord.Embed(
        title=f"📊 Daily digest — {day.strftime('%A %d %B %Y')} (UTC)",
        description="\n".join(digest_line(title, summary) for title, summary in rows) or "No server reported.",
        colour=BLURPLE,
    )
    note = "Posted late: the bot was not running at the digest time. " if late else ""
    embed.set_footer(text=f"{note}Uptime leaves out the time the bot has no data for.")
    return fit_to_limits(embed)
