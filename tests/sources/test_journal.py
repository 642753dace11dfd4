"""The journal source with real files: KGSM's `YYYY-MM-DD.ndjson` segments in a directory."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.sources import journal as journal_module
from bot.store.database import Store
from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import FIXTURES, pretty, socat_send

TODAY = "2026-08-14.ndjson"
TOMORROW = "2026-08-15.ndjson"


def line(instance: str, n: int, event_type: str = "instance_player_joined") -> bytes:
    document = {
        "V": 1,
        "EventType": event_type,
        "Data": {"InstanceName": instance, "PlayerName": f"p{n}"},
        "Timestamp": f"2026-08-14T12:{n // 60:02d}:{n % 60:02d}.000Z",
        "Hostname": "gamehost",
        "ProducerVersion": "3.1.0",
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as segment:
        segment.write(data)


def posted_players(fake: FakeDiscord) -> list[str]:
    """The players named in the posted "**p1** joined valheim." sentences, in order."""
    return [
        match.group(1)
        for message in fake.messages(DEFAULT_CHANNEL)
        for embed in message["embeds"]
        if (match := re.match(r"\*\*(.+?)\*\* joined", embed.get("description", "")))
    ]


@pytest.fixture
def journal_dir(short_dir: Path) -> Path:
    directory = short_dir / "events"
    directory.mkdir()
    return directory


async def start(start_bot: StartBot, journal_dir: Path, **env: str) -> LiveBot:
    return await start_bot(KGSM_JOURNAL_DIR=str(journal_dir), KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), **env)


async def test_lines_appended_to_todays_segment_arrive(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    append(journal_dir / TODAY, line("old", 0))  # before the bot: cold start at the end, not posted
    live = await start(start_bot, journal_dir)
    await asyncio.sleep(0.6)
    append(journal_dir / TODAY, line("valheim", 1) + line("valheim", 2))
    await fake.wait_for(lambda: len(posted_players(fake)) == 2, timeout=3)
    assert posted_players(fake) == ["p1", "p2"]
    assert live.bot.stats.accepted == 2


async def test_a_line_written_in_two_halves_arrives_once_whole(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    (journal_dir / TODAY).touch()
    await start(start_bot, journal_dir)
    whole = line("valheim", 7)
    append(journal_dir / TODAY, whole[:30])
    await asyncio.sleep(1.2)  # more than two polls see half a line
    assert fake.posts() == []
    append(journal_dir / TODAY, whole[30:])
    await fake.wait_for(lambda: posted_players(fake) == ["p7"], timeout=3)


async def test_a_restart_resumes_from_the_cursor_without_reposting(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    (journal_dir / TODAY).touch()
    live = await start(start_bot, journal_dir)
    append(journal_dir / TODAY, line("valheim", 1))
    await fake.wait_for(lambda: posted_players(fake) == ["p1"], timeout=3)
    await live.stop()
    append(journal_dir / TODAY, line("valheim", 2) + line("valheim", 3))  # written while the bot was down
    live = await start(start_bot, journal_dir)
    await fake.wait_for(lambda: len(posted_players(fake)) == 3, timeout=3)
    await asyncio.sleep(0.6)
    assert posted_players(fake) == ["p1", "p2", "p3"]


async def test_midnight_rollover_with_a_straggler_in_yesterdays_segment(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    (journal_dir / TODAY).touch()
    await start(start_bot, journal_dir)
    append(journal_dir / TODAY, line("valheim", 1))
    await fake.wait_for(lambda: posted_players(fake) == ["p1"], timeout=3)
    append(journal_dir / TOMORROW, line("valheim", 2))
    await fake.wait_for(lambda: len(posted_players(fake)) == 2, timeout=3)
    append(journal_dir / TODAY, line("valheim", 3))  # emitted just before midnight, written just after
    append(journal_dir / TOMORROW, line("valheim", 4))
    await fake.wait_for(lambda: len(posted_players(fake)) == 4, timeout=3)
    assert sorted(posted_players(fake)) == ["p1", "p2", "p3", "p4"]


async def test_stragglers_are_no_longer_read_after_two_minutes(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "STRAGGLER_WINDOW", 0.5)
    (journal_dir / TODAY).touch()
    await start(start_bot, journal_dir)
    append(journal_dir / TOMORROW, line("valheim", 1))
    await fake.wait_for(lambda: posted_players(fake) == ["p1"], timeout=3)
    await asyncio.sleep(1.2)
    append(journal_dir / TODAY, line("valheim", 2))
    await asyncio.sleep(1.2)
    assert posted_players(fake) == ["p1"]


async def test_a_pruned_segment_is_reported_as_a_gap_once(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    (journal_dir / TODAY).touch()
    live = await start(start_bot, journal_dir)
    append(journal_dir / TODAY, line("valheim", 1))
    await fake.wait_for(lambda: posted_players(fake) == ["p1"], timeout=3)
    await live.stop()
    (journal_dir / TODAY).unlink()  # KGSM pruned it while the bot was down
    append(journal_dir / TOMORROW, line("valheim", 2))
    await start(start_bot, journal_dir)
    await fake.wait_for(lambda: "p2" in posted_players(fake), timeout=3)
    await asyncio.sleep(1.0)
    notices = [
        embed
        for message in fake.messages(DEFAULT_CHANNEL)
        for embed in message["embeds"]
        if "Gap" in embed.get("title", "")
    ]
    assert len(notices) == 1
    assert TODAY.removesuffix(".ndjson") in notices[0]["description"]


async def test_replay_imports_history_without_posting_and_events_lists_it(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    shutil.copy(FIXTURES / "journal" / TODAY, journal_dir / TODAY)
    total = len((journal_dir / TODAY).read_text().splitlines())
    live = await start(start_bot, journal_dir, KGSM_JOURNAL_START="replay")
    await fake.wait_for(lambda: live.bot.stats.accepted == total, timeout=5)
    await live.bot.recorder.flush()
    assert await live.bot.store.count_events() == total
    interaction = await fake.invoke_slash("events", {"instance": "minecraft", "limit": 25})
    response = await fake.wait_interaction_response(interaction)
    assert len(response["data"]["embeds"][0]["description"].splitlines()) == 25
    assert fake.posts() == []
    append(journal_dir / TODAY, line("minecraft", 99))  # after the import, new lines are posted
    await fake.wait_for(lambda: posted_players(fake) == ["p99"], timeout=3)


async def test_the_same_event_through_socket_and_journal_is_stored_and_posted_once(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    (journal_dir / TODAY).touch()
    live = await start(start_bot, journal_dir)
    raw = line("valheim", 5)
    document: dict[str, Any] = json.loads(raw)
    assert await socat_send(live.socket_path, pretty(document)) == 0
    append(journal_dir / TODAY, raw)
    await fake.wait_for(lambda: live.bot.stats.accepted == 2, timeout=3)
    await live.bot.recorder.flush()
    await asyncio.wait_for(live.bot.delivery.drain(), 5)
    assert await live.bot.store.count_events() == 1
    assert posted_players(fake) == ["p5"]


async def test_junk_lines_in_a_segment_are_counted_each_and_logged_once(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    (journal_dir / TODAY).touch()
    live = await start(start_bot, journal_dir)
    append(journal_dir / TODAY, b"not an event\n" * 20_000 + line("valheim", 1))
    await fake.wait_for(lambda: posted_players(fake) == ["p1"], timeout=10)
    assert dict(live.bot.stats.refused) == {"not_json": 20_000}
    assert live.bot.stats.received == live.bot.stats.accepted + live.bot.stats.refused_total == 20_001
    refusals = [r.getMessage() for r in caplog.records if r.name.startswith("bot") and "refused" in r.getMessage()]
    assert len(refusals) == 1


# ------------------------------------------------------------------ segments named after a day that has not come

FUTURE = "2099-01-01.ndjson"


def day_segment(days_from_today: int) -> str:
    """The segment KGSM writes `days_from_today` days from today (UTC), by the real clock."""
    return f"{datetime.now(UTC).date() + timedelta(days=days_from_today)}.ndjson"


def ignored_warnings(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.sources.journal" and f"segment {name}" in r.getMessage()
    ]


async def test_a_segment_named_in_the_future_never_hides_todays(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    today = day_segment(0)
    append(journal_dir / today, line("old", 0))  # before the bot: a cold start begins at its end
    append(journal_dir / FUTURE, line("future", 1))
    await start(start_bot, journal_dir)
    await asyncio.sleep(0.6)
    append(journal_dir / today, line("valheim", 2))
    await fake.wait_for(lambda: posted_players(fake) == ["p2"], timeout=3)
    append(journal_dir / FUTURE, line("future", 3))
    await asyncio.sleep(1.6)  # several polls
    append(journal_dir / today, line("valheim", 4))
    await fake.wait_for(lambda: posted_players(fake) == ["p2", "p4"], timeout=3)
    (warning,) = ignored_warnings(caplog, FUTURE)  # said once, not at every poll
    assert "later than tomorrow" in warning


async def test_a_segment_named_in_the_future_appearing_later_is_not_moved_to(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    today = day_segment(0)
    (journal_dir / today).touch()
    await start(start_bot, journal_dir)
    append(journal_dir / today, line("valheim", 1))
    await fake.wait_for(lambda: posted_players(fake) == ["p1"], timeout=3)
    append(journal_dir / FUTURE, line("future", 2))
    append(journal_dir / "2026-02-30.ndjson", line("no-such-day", 3))
    await asyncio.sleep(1.6)
    append(journal_dir / today, line("valheim", 4))
    await fake.wait_for(lambda: posted_players(fake) == ["p1", "p4"], timeout=3)
    assert len(ignored_warnings(caplog, FUTURE)) == 1
    (no_day,) = ignored_warnings(caplog, "2026-02-30.ndjson")
    assert "no real day" in no_day


async def test_tomorrows_segment_is_followed_for_a_clock_a_little_ahead(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path
) -> None:
    (journal_dir / day_segment(0)).touch()
    live = await start(start_bot, journal_dir)
    append(journal_dir / day_segment(2), line("too-far", 1))
    append(journal_dir / day_segment(1), line("valheim", 2))
    await fake.wait_for(lambda: posted_players(fake) == ["p2"], timeout=3)
    await asyncio.sleep(1.6)  # several polls more
    assert live.bot.stats.accepted == 1


async def test_a_cursor_saved_on_a_future_segment_starts_over_at_today(
    fake: FakeDiscord, start_bot: StartBot, journal_dir: Path, short_dir: Path
) -> None:
    """An older bot took `2099-01-01.ndjson` for the newest segment and saved its cursor there."""
    today = day_segment(0)
    append(journal_dir / today, line("old", 0))
    append(journal_dir / FUTURE, line("future", 1))
    store = Store(short_dir / "data")
    await store.open()
    cursor = {"segment": FUTURE, "offset": (journal_dir / FUTURE).stat().st_size}
    await store.set_fact(f"journal_cursor:{journal_dir.resolve()}", json.dumps(cursor))
    await store.close()
    await start(start_bot, journal_dir)
    await asyncio.sleep(0.6)
    append(journal_dir / today, line("valheim", 2))
    await fake.wait_for(lambda: posted_players(fake) == ["p2"], timeout=3)


class SlowSink:
    """A sink that takes a while per line, as the relay does (one HTTP round trip each); refuses nothing."""

    def __init__(self) -> None:
        self.taken: list[bytes] = []

    async def take(
        self, item: bytes, *, source: str, peer: object, producer: str | None = None
    ) -> asyncio.Future[bool] | None:
        await asyncio.sleep(0.1)
        self.taken.append(item)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        done.set_result(True)
        return done

    def refuse(self, reason: object, detail: str, *, source: str, peer: object) -> None:
        raise AssertionError(f"refused {reason}: {detail}")


class Saves:
    def __init__(self) -> None:
        self.offsets: list[int] = []

    async def get_fact(self, key: str) -> str | None:
        return None

    async def set_fact(self, key: str, value: str) -> None:
        self.offsets.append(json.loads(value)["offset"])


async def _no_gap(_: str) -> None:
    return None


async def test_a_slow_sink_moves_the_cursor_within_a_chunk_past_lines_already_safe(
    journal_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "SAVE_INTERVAL", 0.25)
    lines = [line("valheim", n) for n in range(10)]
    (journal_dir / TODAY).touch()
    sink, saves = SlowSink(), Saves()
    follower = journal_module.JournalFollower(journal_dir, sink, saves, start="end", report_gap=_no_gap)
    task = asyncio.create_task(follower.run())
    try:
        while not saves.offsets:
            await asyncio.sleep(0.01)
        append(journal_dir / TODAY, b"".join(lines))  # one chunk of ten lines, 0.1 s each
        while len(sink.taken) < len(lines) or saves.offsets[-1] != sum(map(len, lines)):
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    boundaries = {sum(map(len, lines[:n])) for n in range(len(lines) + 1)}
    within = [offset for offset in saves.offsets[1:-1] if 0 < offset < sum(map(len, lines))]
    assert within, "the cursor moved only at the end of the chunk"
    assert set(within) <= boundaries  # always just after a whole line that was handed on
    assert sink.taken == [item.rstrip(b"\n") for item in lines]
