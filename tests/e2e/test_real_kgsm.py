"""KGSM's own payloads (tests/fixtures/real/), replayed exactly as KGSM wrote them, read as a person would.

`kgsm-1.7.3-socket.json` is every socket connection KGSM 1.7.3 made, in order (sent here with socat, one
connection each, byte for byte); `kgsm-3.16.0-rc5-journal.ndjson` is KGSM 3.16's journal (appended here to a
segment line by line, in order). They differ from our tidy catalogue: 1.7.3 emits `instance_created` before
`instance_installation_started`, 3.16 ends an install with `instance_installation_finished` after
`instance_installed` and an update with `instance_update_finished` and no `instance_updated`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.events.runs import QUIET_AFTER
from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import FIXTURES, socat_send

REAL = FIXTURES / "real"
SOCKET_1_7_3: list[str] = json.loads((REAL / "kgsm-1.7.3-socket.json").read_text())["connections"]
JOURNAL_3_16 = (REAL / "kgsm-3.16.0-rc5-journal.ndjson").read_text().splitlines(keepends=True)
GREEN, RED = 0x2ECC71, 0xE74C3C
PROGRESS = "▰"


def embeds(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [embed for message in fake.messages(DEFAULT_CHANNEL) for embed in message["embeds"]]


def is_run(embed: dict[str, Any]) -> bool:
    return PROGRESS in embed.get("description", "")


def text_of(embed: dict[str, Any]) -> str:
    parts = [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
    parts += [f"{field['name']}: {field['value']}" for field in embed.get("fields", [])]
    return "\n".join(parts)


def checklist(embed: dict[str, Any]) -> list[str]:
    return [line for line in embed["description"].splitlines() if line[:1] in ("✅", "⬜", "▫", "❌")]


def standalone_titles(fake: FakeDiscord) -> Counter[str]:
    return Counter(embed["title"] for embed in embeds(fake) if not is_run(embed))


def runs(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [embed for embed in embeds(fake) if is_run(embed)]


async def settled(fake: FakeDiscord, live: LiveBot, received: int) -> None:
    await fake.wait_for(lambda: live.bot.stats.received >= received, timeout=20)
    await live.bot.recorder.flush()
    await asyncio.wait_for(live.bot.delivery.drain(), 30)


def assert_nothing_unknown(fake: FakeDiscord) -> None:
    for embed in embeds(fake):
        assert "unknown" not in text_of(embed).lower(), text_of(embed)


async def test_kgsm_1_7_3_over_the_socket_as_a_person_sees_it(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    for connection in SOCKET_1_7_3:
        assert await socat_send(live.socket_path, connection.encode()) == 0
    await settled(fake, live, len(SOCKET_1_7_3))

    titles = sorted(embed["title"] for embed in runs(fake))
    assert titles == [
        "✅ fakegame-17 installed",
        "✅ fakegame-17 uninstalled",
        "✅ valheim installed",
        "✅ valheim uninstalled",
        "✅ valheim updated",
    ]
    # One message per install, `instance_created` (sent first) and every other step KGSM emitted ticked.
    (install,) = [embed for embed in runs(fake) if embed["title"] == "✅ valheim installed"]
    assert checklist(install)[:2] == ["✅ instance created", "✅ installation started"]
    assert all(line.startswith("✅") for line in checklist(install))
    assert len(checklist(install)) == 13  # 12 steps and the version KGSM 1.7.3 set during the install
    assert all(embed["color"] == GREEN for embed in runs(fake))
    # 1.7.3 sends starts, stops, backups and restores without brackets: each is announced on its own.
    assert standalone_titles(fake) == Counter(
        {
            "🟢 valheim — started": 1,
            "🔴 valheim — stopped": 1,
            "💾 valheim — backup created": 2,
            "♻️ valheim — backup restored": 1,
        }
    )
    assert_nothing_unknown(fake)


async def append_journal(segment: Path, lines: list[str]) -> None:
    """KGSM appends one whole line per event; a few lines land between two polls of the follower."""
    for start in range(0, len(lines), 7):
        with segment.open("a", encoding="utf-8") as journal:
            journal.writelines(lines[start : start + 7])
        await asyncio.sleep(0.05)


async def start_on_journal(start_bot: StartBot, directory: Path) -> LiveBot:
    return await start_bot(KGSM_JOURNAL_DIR=str(directory), KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))


async def test_kgsm_3_16_journal_as_a_person_sees_it(fake: FakeDiscord, start_bot: StartBot, short_dir: Path) -> None:
    directory = short_dir / "kgsm" / "events"
    directory.mkdir(parents=True)
    segment = directory / "2026-12-01.ndjson"
    live = await start_on_journal(start_bot, directory)
    await append_journal(segment, JOURNAL_3_16)
    await settled(fake, live, len(JOURNAL_3_16))

    assert sorted(embed["title"] for embed in runs(fake)) == sorted(
        [
            "❌ brokenserver: install failed at “download failed”",
            "✅ valheim installed",
            "✅ valheim stopped",
            "✅ valheim backed up",
            "✅ valheim restored",
            "✅ valheim backed up",
            "✅ valheim backed up",
            "✅ valheim updated",  # ended by `instance_update_finished`: no `instance_updated` in 3.16
            "✅ valheim updated",  # an update with nothing to do: started, finished
            "✅ valheim restarted",
            "✅ valheim uninstalled",
        ]
    )
    (install,) = [embed for embed in runs(fake) if embed["title"] == "✅ valheim installed"]
    emitted = [json.loads(line)["EventType"] for line in JOURNAL_3_16[6:18]]
    assert emitted[0] == "instance_created"
    assert emitted[-1] == "instance_installation_finished"
    assert len(checklist(install)) == len(emitted)
    assert all(line.startswith("✅") for line in checklist(install))
    # The update, its late failure test emits (their own messages) and the uninstall: still green.
    for title in ("✅ valheim updated", "✅ valheim uninstalled", "✅ valheim installed"):
        assert {embed["color"] for embed in runs(fake) if embed["title"] == title} == {GREEN}
    (failed,) = [embed for embed in runs(fake) if embed["color"] == RED]
    assert "brokenserver" in failed["title"]

    standalone = standalone_titles(fake)
    # The starts and the stop after the update and restart runs are announced on their own, not absorbed.
    assert standalone["🟢 valheim — started"] == 3
    assert standalone["🔴 valheim — stopped"] == 1
    for failure in ("update failed", "download failed", "uninstall failed"):
        assert standalone[f"❌ valheim — {failure}"] == 1
    # The crash and the give-up 145 ms later (Restarts "unknown"): one crash incident, no "unknown" in it.
    incident = "🛑 valheim crashed and the supervisor gave up restarting it"
    assert standalone[incident] == 1
    # Every event is shown exactly once: as a step of a live message, in the incident, or as its own embed.
    steps = sum(len(checklist(embed)) for embed in runs(fake) if not embed["title"].startswith("❌"))
    steps += sum(line.startswith(("✅", "❌")) for line in checklist(failed))
    assert steps + sum(standalone.values()) + 1 == len(JOURNAL_3_16)
    assert_nothing_unknown(fake)
    crash = next(embed for embed in embeds(fake) if embed["title"] == incident)
    assert crash["description"].startswith("Crashed 1 time since <t:")
    assert crash["description"].endswith(", last with exit code 137.\nIt stays down until someone starts it.")


async def test_after_a_3_16_update_and_a_restart_of_the_bot_starts_and_stops_are_their_own_messages(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    directory = short_dir / "kgsm" / "events"
    directory.mkdir(parents=True)
    segment = directory / "2026-12-01.ndjson"
    update_ends = next(
        n for n, line in enumerate(JOURNAL_3_16) if json.loads(line)["EventType"] == "instance_update_finished"
    )
    live = await start_on_journal(start_bot, directory)
    await append_journal(segment, JOURNAL_3_16[: update_ends + 1])
    await settled(fake, live, update_ends + 1)
    await live.stop()

    live = await start_on_journal(start_bot, directory)
    started = next(line for line in JOURNAL_3_16 if json.loads(line)["EventType"] == "instance_started")
    stopped = next(line for line in JOURNAL_3_16 if json.loads(line)["EventType"] == "instance_stopped")
    later = [
        started.replace("08:04:30.400Z", "08:06:00.000Z"),
        stopped.replace("08:04:41.237Z", "08:06:30.000Z"),
    ]
    before = len(embeds(fake))
    await append_journal(segment, later)
    await settled(fake, live, 2)
    new = embeds(fake)[before:]
    assert [embed["title"] for embed in new] == ["🟢 valheim — started", "🔴 valheim — stopped"]
    updated = [embed for embed in runs(fake) if embed["title"] == "✅ valheim updated"]
    assert updated
    assert all(embed["color"] == GREEN for embed in updated)


async def test_a_run_kgsm_goes_quiet_about_is_shown_as_such_and_comes_back(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    first = {"EventType": "instance_update_started", "Data": {"InstanceName": "valheim"}}
    assert await socat_send(live.socket_path, json.dumps(first).encode() + b"\n") == 0
    await settled(fake, live, 1)
    assert [embed["title"] for embed in runs(fake)] == ["⏳ Updating valheim"]

    later = datetime.now(UTC) + QUIET_AFTER + timedelta(seconds=1)
    assert await live.bot.notifier.close_quiet_runs(later) == 1
    await asyncio.wait_for(live.bot.delivery.drain(), 10)
    (quiet,) = runs(fake)
    assert quiet["title"] == "⚠️ Updating valheim — no news from KGSM"
    assert "KGSM has sent nothing about it since <t:" in quiet["description"]
    assert await live.bot.notifier.close_quiet_runs(later) == 0  # said once

    finished = {"EventType": "instance_update_finished", "Data": {"InstanceName": "valheim"}}
    assert await socat_send(live.socket_path, json.dumps(finished).encode() + b"\n") == 0
    await settled(fake, live, 2)
    (done,) = runs(fake)
    assert (done["title"], done["color"]) == ("✅ valheim updated", GREEN)
    assert len(fake.posts(DEFAULT_CHANNEL)) == 1
