"""Dry-run's stand-in for Discord: each embed printed readably with where it would go, as Discord shows it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import discord

from bot.delivery.console import ConsolePoster, format_embed
from bot.delivery.poster import embed_json


def test_an_embed_is_shown_as_discord_shows_it_without_its_markdown_escapes() -> None:
    embed = discord.Embed(
        title="🟢 my\\_server — started",
        description="**my\\_server** has started.",
        colour=0x2ECC71,
        timestamp=datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC),
    )
    embed.add_field(name="Exit code", value="\\*1\\*")
    embed.set_footer(text="by discord:ada")
    lines = format_embed(embed, "channel 42").splitlines()
    assert lines[0].startswith("── would post to channel 42 ")
    assert lines[1:] == [
        "🟢 my_server — started",
        "**my_server** has started.",
        "  Exit code: *1*",
        "  — by discord:ada · 2026-12-01 12:00:05 UTC",
        "  (colour #2ecc71)",
    ]


async def test_posts_get_increasing_ids_and_edits_name_their_message() -> None:
    out = io.StringIO()
    console = ConsolePoster(out)
    embed = embed_json(discord.Embed(title="first"))
    first = await console.post(123, [embed], "kgsm-b1")
    second = await console.post(0, [embed, embed_json(discord.Embed(title="second"))], "kgsm-b2")
    await console.edit(123, first, [embed_json(discord.Embed(title="edited"))])
    assert second > first
    text = out.getvalue()
    assert text.count("would post to channel 123") == 2
    assert "channel 123, edit of message 1" in text
    assert text.count("would post to no channel (set KGSM_DEFAULT_CHANNEL_ID or KGSM_CHANNELS)") == 2
    assert [line for line in text.splitlines() if not line.startswith(("──", "  "))] == [
        "first",
        "first",
        "second",
        "edited",
    ]
