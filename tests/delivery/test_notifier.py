"""The notifier on its own: real outbox and lanes on a real SQLite file, posting through a small in-memory
Poster (what Discord says is not the point here; tests/delivery/test_lanes.py has the fake Discord)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.delivery.lanes import Deliverer
from bot.delivery.notifier import Notifier
from bot.delivery.outbox import Outbox
from bot.delivery.poster import Buttons, EmbedJSON, embed_json
from bot.events import Event, parse_event
from bot.render import no_names, render_event, render_run
from bot.runtime.supervisor import Supervisor
from bot.store.database import Store
from tests.conftest import CHANNEL_A, CHANNEL_B

BACKUP = ("instance_backup_started", "instance_backup_created", "instance_backup_finished")


@dataclass
class Shelf:
    """A Poster that keeps every message in memory, like a channel that never fails."""

    messages: dict[int, tuple[int, list[EmbedJSON]]] = field(default_factory=dict)  # id → channel, embeds
    posts: list[tuple[int, str]] = field(default_factory=list)  # channel, nonce
    edits: list[int] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def post(self, channel_id: int, embeds: list[EmbedJSON], nonce: str, buttons: Buttons = ()) -> int:
        message_id = next(self._ids)
        self.messages[message_id] = (channel_id, embeds)
        self.posts.append((channel_id, nonce))
        return message_id

    async def edit(self, channel_id: int, message_id: int, embeds: list[EmbedJSON], buttons: Buttons = ()) -> None:
        assert self.messages[message_id][0] == channel_id
        self.messages[message_id] = (channel_id, embeds)
        self.edits.append(message_id)

    async def ping(self, channel_id: int, content: str, role_id: int, nonce: str) -> int:
        return await self.post(channel_id, [], nonce)

    async def open_thread(self, channel_id: int, message_id: int, name: str) -> None:
        return None

    async def post_test(self, channel_id: int, text: str, embed: EmbedJSON) -> int:
        return await self.post(channel_id, [embed], "")

    def titles(self, channel_id: int) -> list[str]:
        return [e["title"] for channel, embeds in self.messages.values() if channel == channel_id for e in embeds]


async def _ready() -> None:
    return None


@dataclass
class Parts:
    store: Store
    shelf: Shelf
    outbox: Outbox
    deliverer: Deliverer
    notifier: Notifier
    supervisor: Supervisor

    async def handle(self, *events: Event, channels: list[int]) -> None:
        """As the recorder does: store the batch, plan each event's deliveries, then commit them."""
        await self.store.insert_events(events)
        for event in events:
            await self.notifier.notify(event, channels)
        await self.notifier.commit()

    async def delivered(self) -> None:
        await asyncio.wait_for(self.deliverer.drain(), 10)

    async def stop(self) -> None:
        await self.deliverer.stop()
        await self.supervisor.stop_all()
        await self.store.close()


async def start(data: Path, shelf: Shelf, render: Any = None) -> Parts:
    """The parts a start-up builds, over the database in `data`, restoring what was left undelivered."""
    store = Store(data)
    await store.open()
    outbox = Outbox(store)
    await outbox.load()
    supervisor = Supervisor()
    deliverer = Deliverer(shelf, outbox, lambda run: (embed_json(render_run(run)), ()), _ready, None, supervisor)
    deliverer.run_linger = deliverer.edit_interval = 0.0
    notifier = Notifier(outbox, deliverer, render or (lambda event: render_event(event, no_names)))
    await notifier.restore()
    return Parts(store, shelf, outbox, deliverer, notifier, supervisor)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    started = await start(tmp_path / "data", Shelf())
    yield started
    await started.stop()


def event(event_type: str, instance: str = "valheim", **data: Any) -> Event:
    return parse_event({"EventType": event_type, "Data": {"InstanceName": instance, **data}, "Actor": "discord:ada"})


async def deliveries(store: Store) -> list[tuple[Any, ...]]:
    async with store.session() as db, db.execute("SELECT event_id, channel_id, status FROM deliveries") as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def test_an_event_is_posted_once_in_each_of_its_channels_and_marked_dispatched(parts: Parts) -> None:
    started = event("instance_started", "factorio")
    await parts.handle(started, channels=[CHANNEL_A, CHANNEL_B])
    await parts.delivered()
    assert parts.shelf.titles(CHANNEL_A) == parts.shelf.titles(CHANNEL_B) == ["🟢 factorio — started"]
    assert sorted(await deliveries(parts.store)) == [(started.id, CHANNEL_A, "done"), (started.id, CHANNEL_B, "done")]
    assert await parts.store.undispatched() == []


async def test_nothing_reaches_the_lanes_before_it_is_recorded(parts: Parts) -> None:
    started = event("instance_started", "factorio")
    await parts.notifier.notify(started, [CHANNEL_A])
    await asyncio.sleep(0.05)
    assert parts.deliverer.pending == 0
    assert parts.shelf.posts == []
    await parts.notifier.commit()
    await parts.delivered()
    assert parts.shelf.titles(CHANNEL_A) == ["🟢 factorio — started"]


async def test_the_steps_of_an_operation_are_one_message_edited_to_its_end(parts: Parts) -> None:
    for step in BACKUP:
        await parts.handle(event(step, Source="v-1"), channels=[CHANNEL_A])
    await parts.delivered()
    (message_id,) = parts.shelf.messages
    assert parts.shelf.titles(CHANNEL_A) == ["✅ valheim backed up"]
    assert len(parts.shelf.posts) == 1
    assert [status for _, _, status in await deliveries(parts.store)] == ["done"] * 3
    async with parts.store.session() as db, db.execute("SELECT status, version FROM runs") as cursor:
        assert [tuple(row) for row in await cursor.fetchall()] == [("done", 3)]
    assert parts.shelf.edits == [message_id] * len(parts.shelf.edits)


async def test_a_commit_the_database_refuses_keeps_everything_planned_and_goes_through_later(parts: Parts) -> None:
    first, second = event("instance_started", "a"), event("instance_backup_started", "b")
    await parts.store.insert_events([first, second])
    await parts.notifier.notify(first, [CHANNEL_A])
    await parts.notifier.notify(second, [CHANNEL_A])
    await parts.store.db.execute("PRAGMA query_only = ON")  # a read-only database
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await parts.notifier.commit()
    await asyncio.sleep(0.05)
    assert parts.shelf.posts == [], "nothing is posted that the outbox does not know about"
    await parts.store.db.execute("PRAGMA query_only = OFF")
    await parts.notifier.commit()  # the recorder tries again: the same batch, whole
    await parts.delivered()
    assert sorted(parts.shelf.titles(CHANNEL_A)) == ["⏳ Backing up b", "🟢 a — started"]
    assert len(await deliveries(parts.store)) == 2
    assert await parts.store.undispatched() == []


async def test_a_restart_posts_what_was_left_and_the_run_goes_on_in_its_message(tmp_path: Path) -> None:
    shelf = Shelf()  # Discord outlives the bot: the same messages after the restart
    parts = await start(tmp_path / "data", shelf)
    await parts.handle(event(BACKUP[0]), channels=[CHANNEL_A])
    await parts.delivered()
    (run_message,) = shelf.messages
    await parts.deliverer.stop()  # stopped before the next ones were posted
    await parts.handle(event("instance_started", "factorio"), event(BACKUP[1]), channels=[CHANNEL_A])
    await parts.stop()
    assert len(shelf.posts) == 1

    parts = await start(tmp_path / "data", shelf)
    try:
        await parts.delivered()
        assert sorted(shelf.titles(CHANNEL_A)) == ["⏳ Backing up valheim", "🟢 factorio — started"]
        assert len(shelf.posts) == 2, "the live message is edited, not posted again"
        assert shelf.edits == [run_message], "brought up to the step it missed"
        assert "✅ backup created" in shelf.messages[run_message][1][0]["description"]
        await parts.handle(event(BACKUP[2]), channels=[CHANNEL_A])  # a step after the restart: the same run
        await parts.delivered()
        assert shelf.messages[run_message][1][0]["title"] == "✅ valheim backed up"
        assert len(shelf.posts) == 2
        assert {status for _, _, status in await deliveries(parts.store)} == {"done"}
    finally:
        await parts.stop()


async def test_an_event_that_breaks_rendering_is_posted_plainly_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_event: Event) -> discord.Embed:
        raise ValueError("a renderer bug met a strange server")

    parts = await start(tmp_path / "data", Shelf(), render=broken)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.delivery.notifier"):
            await parts.handle(event("instance_started", "odd"), channels=[CHANNEL_A])
            await parts.delivered()
        (embed,) = (embeds[0] for _, embeds in parts.shelf.messages.values())
        assert embed["title"] == "🟢 odd — started"
        assert "could not show its details" in embed["description"]
        assert any("rendering server.started for odd failed" in r.getMessage() for r in caplog.records)
    finally:
        await parts.stop()


async def test_an_event_without_delivery_is_dispatched_all_the_same(parts: Parts) -> None:
    muted = event("instance_player_joined", PlayerName="Ada")
    await parts.store.insert_events([muted])
    parts.notifier.dispatched(muted)
    await parts.notifier.commit()
    assert await parts.store.undispatched() == []
    assert await deliveries(parts.store) == []


async def test_a_run_that_hears_nothing_for_long_says_so_in_its_message(parts: Parts) -> None:
    await parts.handle(event(BACKUP[0]), channels=[CHANNEL_A])
    await parts.delivered()
    assert await parts.notifier.close_quiet_runs(datetime.now(UTC) + timedelta(minutes=5)) == 0
    assert await parts.notifier.close_quiet_runs(datetime.now(UTC) + timedelta(hours=1)) == 1
    await parts.delivered()
    ((_, embeds),) = parts.shelf.messages.values()
    assert "no news" in str(embeds).lower()
    async with parts.store.session() as db, db.execute("SELECT status FROM runs") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["quiet"]
