"""The dotted era's fixtures (tests/fixtures/dotted-2026) and what their events must look like once posted.

Shared by the test_dotted_era* modules: the payloads and their catalogue, how each Data value must read in
an embed (written from KGSM's field meanings, not from the renderer), and a check that each event reached
Discord exactly once, standalone or as a step of an operation's live message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.bot import KGSMBot
from bot.events import Event, kind_of
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import FIXTURES

DOTTED = FIXTURES / "dotted-2026"
CATALOGUE: dict[str, dict[str, Any]] = json.loads((DOTTED / "catalogue-2026b.json").read_text())
FILES: dict[str, Path] = {path.stem: path for path in sorted(DOTTED.glob("*.json")) if path.stem in CATALOGUE}
PAYLOADS: dict[str, dict[str, Any]] = {name: json.loads(path.read_text()) for name, path in FILES.items()}
JOURNAL = DOTTED / "journal"
PRODUCERS = ("kgsm", "kgsm-watchdog", "kgsm-monitor")
SEGMENT = "2026-09-12.ndjson"
PRIVATE = frozenset({"SessionKey", "PlayerAddr", "Sid", "UserAgent", "PeerNode"})
RED = 0xE74C3C
ORANGE = 0xE67E22
_UNITS = ("bytes", "KiB", "MiB", "GiB")
_ESCAPED = re.compile(r"\\(.)")


def as_sent(name: str) -> bytes:
    """A fixture as KGSM's `echo "$payload" | socat …` writes it: the pretty-printed document and a newline."""
    return FILES[name].read_bytes().rstrip(b"\n") + b"\n"


def legacy_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The same event as KGSM wrote it before the dotted names: legacy type, V1 envelope, no grades."""
    legacy = CATALOGUE[payload["EventType"]]["legacy"]
    document = {key: value for key, value in payload.items() if key not in ("Id", "Severity", "Outcome", "Summary")}
    return {**document, "V": 1, "EventType": legacy}


def compact(document: dict[str, Any]) -> bytes:
    """One journal line, as KGSM appends it."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def readable(text: str) -> str:
    """What a reader sees of embed text: Discord's markdown escapes and the bot's mention breakers removed."""
    return _ESCAPED.sub(r"\1", text).replace("\u200b", "")


def embed_text(embed: dict[str, Any]) -> str:
    """Title, description, fields and footer of an embed as Discord JSON, as read."""
    parts = [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
    parts += [f"{field['name']}: {field['value']}" for field in embed.get("fields", [])]
    return readable("\n".join(parts))


def _size(value: int) -> str:
    size = float(value)
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            return f"{value} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def value_fragments(key: str, value: Any) -> list[str]:
    """How one Data value must read in an embed; nothing for values that are not shown (null, private)."""
    if value is None or key in PRIVATE:
        return []
    if key == "Ports":
        return [
            f"{p['start']}/{p['protocol']}" if p["start"] == p["end"] else f"{p['start']}-{p['end']}/{p['protocol']}"
            for p in value
        ]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if key == "SizeBytes":
        return [_size(value)]
    if key in ("OpenedTs", "ClosedTs"):  # unix milliseconds, shown as a Discord timestamp
        return [f"<t:{value // 1000}:"]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def fragments_that_matter(data: dict[str, Any]) -> list[str]:
    return [fragment for key, value in data.items() for fragment in value_fragments(key, value)]


def expected_subject(payload: dict[str, Any]) -> str:
    """What the event is about, by the catalogue's subject key (kgsm-events.md §7)."""
    key = CATALOGUE[payload["EventType"]]["subject_key"]
    data = payload["Data"]
    if key == "UserId":
        return str(data["Username"])  # the name people know the account by (the id may be null)
    if key:
        return str(data[key])
    if "BlueprintName" in data:
        return str(data["BlueprintName"])
    if payload["EventType"].startswith("leaf."):
        return "kgsm-" + str(payload["Actor"]).removeprefix("system:")  # the component whose journal it is
    return str(payload["Hostname"])


def embeds_of(fake: FakeDiscord, channels: Iterable[int]) -> list[dict[str, Any]]:
    return [embed for channel in channels for message in fake.messages(channel) for embed in message["embeds"]]


async def _rows(bot: KGSMBot, query: str) -> list[tuple[Any, ...]]:
    async with bot.store.db.execute(query) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def check_posted_once(
    fake: FakeDiscord, bot: KGSMBot, events: list[Event], channel_of: Callable[[Event], int]
) -> None:
    """Each non-quiet event reached its channel exactly once, as a standalone embed or as a step of one live
    operation message; quiet events not at all; and nothing else was posted."""
    deliveries: dict[str, list[tuple[Any, ...]]] = {}
    for event_id, *row in await _rows(
        bot, "SELECT event_id, channel_id, run_id, status, message_id FROM deliveries WHERE event_id IS NOT NULL"
    ):
        deliveries.setdefault(event_id, []).append(tuple(row))
    run_messages = {row[0] for row in await _rows(bot, "SELECT message_id FROM run_messages")}
    incidents = {row[0] for row in await _rows(bot, "SELECT id FROM runs WHERE kind = 'incident'")}
    standalone = 0
    for event in events:
        if kind_of(event.type).quiet:
            assert event.id not in deliveries, f"quiet {event.type} was posted"
            continue
        assert event.id in deliveries, f"{event.type} of {event.subject} was not posted"
        ((channel, run_id, status, message_id),) = deliveries[event.id]
        assert (channel, status) == (channel_of(event), "done"), f"{event.type}: {channel} {status}"
        message = fake.message(message_id)
        assert message is not None
        assert int(message["channel_id"]) == channel
        label = event.kind.label
        if run_id is None:
            standalone += 1
            same = [
                embed
                for embed in message["embeds"]
                if datetime.fromisoformat(embed["timestamp"]) == event.timestamp and label in readable(embed["title"])
            ]
            assert len(same) == 1, f"{event.type}: {len(same)} embeds"
        elif run_id in incidents:  # a crash incident's message names its server, not each step
            (embed,) = message["embeds"]
            assert str(event.instance) in readable(embed["title"]), f"{event.type} not in its incident"
        else:
            (embed,) = message["embeds"]
            steps = readable(embed["description"])
            assert f"✅ {label}" in steps or f"❌ {label}" in steps, f"{event.type} not in its run's checklist"
    channels = {channel_of(event) for event in events}
    posted = [
        embed
        for channel in channels
        for message in fake.messages(channel)
        if int(message["id"]) not in run_messages
        for embed in message["embeds"]
    ]
    assert len(posted) == standalone, "more standalone embeds than events"
