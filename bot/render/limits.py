"""Discord's size limits of an embed: every embed the bot sends is shortened to fit, never rejected."""

from __future__ import annotations

import discord

from bot.render.text import truncate

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
_SHORTEST = 64  # what is left of a value shortened to make the whole embed fit


def _fits(name: str, value: str) -> bool:
    return 0 < len(name) <= FIELD_NAME_LIMIT and 0 < len(value) <= FIELD_VALUE_LIMIT


def _fit_fields(embed: discord.Embed, fields: list[tuple[str, str, bool]]) -> None:
    """The fields again, at most `FIELD_COUNT_LIMIT`, each shortened to Discord's limits (none empty)."""
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


def fit_to_limits(embed: discord.Embed) -> discord.Embed:
    """Shorten `embed` in place until Discord would accept it; never raises."""
    if embed.title:
        embed.title = truncate(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = truncate(embed.description, DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    fields = [(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields]
    if len(fields) > FIELD_COUNT_LIMIT or not all(_fits(name, value) for name, value, _ in fields):
        _fit_fields(embed, fields)
    # Over the total: shorten the longest field value, then the description, until it fits.
    while len(embed) > TOTAL_LIMIT:
        excess = len(embed) - TOTAL_LIMIT
        longest = max(range(len(embed.fields)), key=lambda i: len(embed.fields[i].value or ""), default=None)
        if longest is not None and len(embed.fields[longest].value or "") > _SHORTEST:
            field = embed.fields[longest]
            value = field.value or ""
            embed.set_field_at(
                longest,
                name=field.name or "—",
                value=truncate(value, max(len(value) - excess, _SHORTEST)),
                inline=bool(field.inline),
            )
        elif embed.description and len(embed.description) > _SHORTEST:
            embed.description = truncate(embed.description, max(len(embed.description) - excess, _SHORTEST))
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        else:
            embed.title = truncate(embed.title or "", _SHORTEST)
            break
    return embed
