"""Migration 0003 on a real database of the bot before issue 12: its history, runs and mutes spoke KGSM's
legacy names; after the bot starts on it, everything speaks the dotted ones and works as if it always had."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.events import Event, State, parse_event
from bot.store import migrations
from bot.store.database import DATABASE_NAME, Store
from bot.store.rows import EVENT_COLUMNS, event_row
from bot.store.state import StateBook
from tests.conftest import DEFAULT_CHANNEL, StartBot
from tests.dotted import PAYLOADS, embeds_of, readable
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import ROOT, pretty, socat_send

MIGRATIONS = ROOT / "bot" / "store" / "migrations"
# (id, type, family, instance, data): what the bot of migration 0002 stored, spelled as KGSM then spelled it.
HISTORY = [
    ("sha256:old-1", "instance_started", "lifecycle", "valheim", {"InstanceName": "valheim"}),
    ("sha256:old-2", "instance_crashed", "lifecycle", "valheim", {"InstanceName": "valheim", "ExitCode": "137"}),
    ("sha256:old-3", "instance_player_joined", "players", "valheim", {"InstanceName": "valheim", "PlayerName": "Ada"}),
    ("sha256:old-4", "instance_crashed", "lifecycle", "factorio", {"InstanceName": "factorio", "ExitCode": "139"}),
    ("sha256:old-5", "socket_test", "other", "test-instance", {"InstanceName": "test-instance", "Message": "hi"}),
    ("sha256:old-6", "blueprint_created", "blueprint", None, {"BlueprintName": "valheim", "Tier": "user"}),
]
CANONICAL = {
    "server.started": "lifecycle",
    "server.crashed": "lifecycle",
    "player.joined": "players",
    "kgsm.test": "test",
    "blueprint.created": "blueprint",
}


def database_of_migration_0002(path: Path) -> None:
    """A database made by the bot at migration 0002, holding legacy types in events, a run and a mute."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    for script in ("0001_history.sql", "0002_outbox.sql"):
        db.executescript((MIGRATIONS / script).read_text())
    db.execute("PRAGMA user_version = 2")
    base = datetime.fromisoformat("2026-08-14T12:00:00+00:00").timestamp()
    for n, (event_id, event_type, family, instance, data) in enumerate(HISTORY):
        db.execute(
            "INSERT INTO events (id, type, family, instance, blueprint, host, source, timestamp, received_at, data) "
            "VALUES (?, ?, ?, ?, ?, 'gamehost', 'socket', ?, ?, ?)",
            (event_id, event_type, family, instance, data.get("BlueprintName"), base + n, base + n, json.dumps(data)),
        )
    now = time.time()
    db.execute(
        "INSERT INTO runs (id, instance, kind, status, steps, actor, host, details, started_at, updated_at, version) "
        "VALUES (1, 'satisfactory', 'install', 'running', ?, 'discord:ada', 'gamehost', '{}', ?, ?, 2)",
        (json.dumps(["instance_created", "instance_installation_started"]), now - 5, now),
    )
    db.execute(
        "INSERT INTO run_messages (run_id, channel_id, written_version, created_at) VALUES (1, ?, 0, ?)",
        (
            DEFAULT_CHANNEL,
            now,
        ),
    )
    db.execute("INSERT INTO mute_rules (target, scope, muted) VALUES ('instance_player_joined', '', 1)")
    db.commit()
    db.close()


async def slash(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    interaction = await fake.invoke_slash(name, options or {})
    return await fake.wait_interaction_response(interaction)


def run_message(fake: FakeDiscord) -> str:
    found = [embed for embed in embeds_of(fake, [DEFAULT_CHANNEL]) if "satisfactory" in embed.get("title", "")]
    return readable(found[0]["description"]) if len(found) == 1 else ""


async def test_a_database_of_the_legacy_names_speaks_the_dotted_ones_after_the_upgrade(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    database = short_dir / "data" / DATABASE_NAME
    database_of_migration_0002(database)
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    assert await live.bot.store.schema_version() == max(number for number, _, _ in migrations.migrations())

    async with live.bot.store.db.execute("SELECT DISTINCT type, family FROM events") as cursor:
        assert dict(tuple(row) for row in await cursor.fetchall()) == CANONICAL
    async with live.bot.store.db.execute("SELECT steps FROM runs WHERE id = 1") as cursor:
        (steps,) = await cursor.fetchone()  # type: ignore[misc]
    assert json.loads(steps) == ["server.install.created", "server.install.started"]
    assert await live.bot.store.mute_rules() == [("player.joined", "", True)]

    listed = (await slash(fake, "events", {"event": "instance_crashed"}))["data"]["embeds"][0]
    lines = listed["description"].splitlines()
    assert len(lines) == 2
    assert "**factorio** crashed" in lines[0]
    assert "**valheim** crashed" in lines[1]
    overview = (await slash(fake, "status"))["data"]["embeds"][0]
    # valheim and factorio crashed; KGSM's test made none; Ada joined valheim after its crash (at her join's time)
    assert overview["title"] == "Servers — 0 of 2 up · 1 player online"
    assert "test-instance" not in overview["description"]

    # The unfinished install resumes its live message, legacy steps and a dotted one together.
    await fake.wait_for(lambda: "✅ installation started" in run_message(fake), timeout=10)
    assert "✅ instance created" in run_message(fake)
    step = {**PAYLOADS["server.install.directories_created"], "Data": {"InstanceName": "satisfactory"}}
    # The legacy mute holds for the dotted type; server.started after it shows the mute was decided.
    joined = {**PAYLOADS["player.joined"], "Id": "01a09900-0000-7000-8000-000000000001"}
    for document in (step, joined, PAYLOADS["server.started"]):
        assert await socat_send(live.socket_path, pretty(document)) == 0
    await fake.wait_for(lambda: live.bot.stats.received >= 3, timeout=10)
    await live.bot.recorder.flush()
    await asyncio.wait_for(live.bot.delivery.drain(), 30)
    assert "✅ directories created" in run_message(fake)
    titles = [embed["title"] for embed in embeds_of(fake, [DEFAULT_CHANNEL])]
    assert "🟢 valheim — started" in titles
    assert not any("joined" in title for title in titles)


def database_of_migration_0004(path: Path, documents: list[dict[str, Any]]) -> list[Event]:
    """A database made by the bot at migration 0004 (no kept server states), holding `documents` as events."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    for number, _name, migration in migrations.migrations():
        if number <= 4:
            migration(db)
    db.execute("PRAGMA user_version = 4")
    events = [parse_event(document) for document in documents]
    for event in events:
        db.execute(
            f"INSERT INTO events ({EVENT_COLUMNS}, dispatched) VALUES ({','.join('?' * 18)}, 1)", event_row(event)
        )
    db.commit()
    db.close()
    return events


async def test_migration_0007_keeps_the_state_of_every_server_the_history_tells(tmp_path: Path) -> None:
    def event(event_type: str, instance: str, minute: int, host: str = "gamehost", **data: str) -> dict[str, Any]:
        return {
            "EventType": event_type,
            "Data": {"InstanceName": instance, **data},
            "Hostname": host,
            "Timestamp": f"2026-08-14T12:{minute:02d}:00Z",
        }

    documents = [
        event("instance_installed", "valheim", 0, Blueprint="valheim"),
        event("instance_started", "valheim", 1),
        event("instance_version_updated", "valheim", 2, NewVersion="0.219"),
        event("server.renamed", "valheim", 3, NewDisplayName="Vikings"),
        event("instance_started", "factorio", 4),
        event("instance_crashed", "factorio", 5),
        event("instance_started", "factorio", 6, host="otherhost"),
        event("socket_test", "test-instance", 7),
    ]
    database = tmp_path / "data" / DATABASE_NAME
    history = database_of_migration_0004(database, documents)
    replayed = StateBook()
    for stored in history:
        replayed.apply(stored)

    store = Store(tmp_path / "data")
    await store.open()
    try:
        assert await store.schema_version() == max(number for number, _, _ in migrations.migrations())
        assert store.states.all() == replayed.all()
        assert len(store.states) == 3  # valheim, factorio on two hosts; KGSM's test made none
        vikings = store.states.get("Vikings")
        assert vikings is not None
        assert (vikings.state, vikings.version, vikings.blueprint) == (State.ONLINE, "0.219", "valheim")
        assert store.states.title_of("factorio", "gamehost") == "factorio"
        async with store.db.execute("SELECT COUNT(*) FROM server_states") as cursor:
            assert tuple(await cursor.fetchone() or ()) == (3,)
    finally:
        await store.close()
