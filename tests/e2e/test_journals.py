"""Many producers (kgsm-events.md §7): every `<root>/kgsm*/events` journal followed at once, each with its own
cursor, with real files appended line by line as the producers append them; the same event from two
producers or two transports is posted once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.events import Event, parse_event
from bot.sources import journals as journals_module
from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.dotted import JOURNAL, PAYLOADS, PRODUCERS, SEGMENT, check_posted_once, compact, embed_text, embeds_of
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import pretty, socat_send

SPLIT = "2026-09-12T14:00:00"  # lines before it are written while the bot runs, the rest while it is down


def fixture_lines() -> list[tuple[str, dict[str, Any]]]:
    """(producer, document) of the day's three journals, merged in the order they were written."""
    lines = [
        (producer, json.loads(line))
        for producer in PRODUCERS
        for line in (JOURNAL / producer / "events" / SEGMENT).read_text().splitlines()
    ]
    return sorted(lines, key=lambda item: (item[1]["Timestamp"], item[1]["Id"]))


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as segment:
        segment.write(data)


def journal_root(short_dir: Path, producers: tuple[str, ...] = PRODUCERS) -> Path:
    """A state root laid out like /var/lib, with an empty segment of today in each producer's journal."""
    root = short_dir / "lib"
    for producer in producers:
        (root / producer / "events").mkdir(parents=True)
        (root / producer / "events" / SEGMENT).touch()
    return root


async def start(fake: FakeDiscord, start_bot: StartBot, root: Path, count: int) -> LiveBot:
    """The bot following every journal under `root` (no KGSM_JOURNAL_DIR), once it follows `count` of them."""
    live = await start_bot(KGSM_JOURNAL_ROOT=str(root), KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    await following(fake, live, count)
    return live


async def following(fake: FakeDiscord, live: LiveBot, count: int) -> None:
    followers = live.bot.journals.followers
    await fake.wait_for(lambda: len(followers) == count and all(f.cursor for f in followers.values()), timeout=10)


async def settle(fake: FakeDiscord, live: LiveBot, received: int) -> None:
    await fake.wait_for(lambda: live.bot.stats.received >= received, timeout=20)
    await live.bot.recorder.flush()
    await asyncio.wait_for(live.bot.delivery.drain(), 30)


def write(root: Path, lines: list[tuple[str, dict[str, Any]]]) -> list[Event]:
    for producer, document in lines:
        append(root / producer / "events" / SEGMENT, compact(document))
    return [parse_event(document) for _, document in lines]


async def test_every_producers_journal_is_followed_with_its_own_cursor(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    root = journal_root(short_dir)
    lines = fixture_lines()
    before = [line for line in lines if line[1]["Timestamp"] < SPLIT]
    after = lines[len(before) :]
    assert {producer for producer, _ in before} == {producer for producer, _ in after} == set(PRODUCERS)

    live = await start(fake, start_bot, root, len(PRODUCERS))
    events = write(root, before)
    await settle(fake, live, len(before))
    await check_posted_once(fake, live.bot, events, lambda _: DEFAULT_CHANNEL)
    text = "\n".join(embed_text(embed) for embed in embeds_of(fake, [DEFAULT_CHANNEL]))
    assert "valheim recovered after 1 min 37 s" in text  # 3 crashes, 09:31:53.911 to ready at 09:33:31.206
    assert "**Bob** left **valheim**" in text
    await live.stop()

    events += write(root, after)  # while the bot is down
    live = await start(fake, start_bot, root, len(PRODUCERS))
    await settle(fake, live, len(after))
    assert live.bot.stats.accepted == len(after)
    assert live.bot.recorder.duplicates == 0  # each cursor went on where it stopped: nothing read twice
    await check_posted_once(fake, live.bot, events, lambda _: DEFAULT_CHANNEL)
    text = "\n".join(embed_text(embed) for embed in embeds_of(fake, [DEFAULT_CHANNEL]))
    assert "factorio gave up after 5 restarts" in text
    assert "gamehost — threshold crossed" in text
    assert "by system:monitor · on gamehost · kgsm-monitor 2.9.0" in text

    async with live.bot.store.db.execute("SELECT key, value FROM facts WHERE key LIKE 'journal_cursor:%'") as cursor:
        cursors = {row[0]: json.loads(row[1]) for row in await cursor.fetchall()}
    assert set(cursors) == {f"journal_cursor:{(root / p / 'events').resolve()}" for p in PRODUCERS}
    for producer in PRODUCERS:
        saved = cursors[f"journal_cursor:{(root / producer / 'events').resolve()}"]
        assert (saved["segment"], saved["offset"]) == (SEGMENT, (root / producer / "events" / SEGMENT).stat().st_size)


async def test_a_producer_installed_after_the_bot_started_is_followed(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journals_module, "RESCAN_INTERVAL", 0.1)
    root = journal_root(short_dir, ("kgsm",))
    live = await start(fake, start_bot, root, 1)
    (root / "kgsm-api" / "events").mkdir(parents=True)  # kgsm-api installed: its journal has no segment yet
    await following(fake, live, 2)
    write(root, [("kgsm-api", PAYLOADS["file.written"]), ("kgsm", PAYLOADS["server.started"])])
    await settle(fake, live, 2)
    posted = {embed["title"]: embed for embed in embeds_of(fake, [DEFAULT_CHANNEL])}
    assert set(posted) == {"📝 valheim — file written", "🟢 valheim — started"}
    assert posted["📝 valheim — file written"]["footer"]["text"].endswith("kgsm-api 0.41.0")


async def test_the_same_event_from_two_producers_and_two_transports_is_posted_once(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    root = journal_root(short_dir, ("kgsm", "kgsm-watchdog"))
    live = await start(fake, start_bot, root, 2)
    crashed = PAYLOADS["server.crashed"]
    assert await socat_send(live.socket_path, pretty(crashed)) == 0
    await settle(fake, live, 1)
    write(root, [("kgsm-watchdog", crashed), ("kgsm", crashed)])
    # Without an Id (bash without EPOCHREALTIME) the same payload is known by its content.
    started = {**PAYLOADS["server.started"], "Id": None}
    write(root, [("kgsm", started)])
    await settle(fake, live, 4)
    assert await socat_send(live.socket_path, pretty(started)) == 0
    await settle(fake, live, 5)
    assert await live.bot.store.count_events() == 2
    assert live.bot.recorder.duplicates == 3
    assert sorted(embed["title"] for embed in embeds_of(fake, [DEFAULT_CHANNEL])) == [
        "💥 valheim crashed — restarting (attempt 1)",  # a crash incident, then its server started
        "🟢 valheim — started",
    ]
