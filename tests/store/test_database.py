"""The store on a real SQLite file: migrations, de-duplication, paging, pruning, rules across reopening."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.events import Event, Family, parse_event, types_of
from bot.store.database import Store

MIGRATIONS = Path(__file__).resolve().parents[2] / "bot" / "store" / "migrations"


def make(instance: str, event_type: str = "instance_started", *, second: int = 0, **data: object) -> Event:
    moment = datetime(2026, 8, 14, 12, 0, tzinfo=UTC) + timedelta(seconds=second)
    return parse_event(
        {
            "EventType": event_type,
            "Data": {"InstanceName": instance, **data},
            "Timestamp": moment.isoformat().replace("+00:00", "Z"),
        }
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "data")
    await opened.open()
    yield opened
    await opened.close()


async def test_migrations_are_applied_once_and_recorded(tmp_path: Path) -> None:
    newest = max(int(path.name[:4]) for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.*"))
    store = Store(tmp_path / "fresh")
    await store.open()
    assert await store.schema_version() == newest
    await store.close()
    await store.open()  # a second start applies nothing again
    assert await store.schema_version() == newest
    await store.close()
    with sqlite3.connect(store.path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"events", "channel_rules", "mute_rules", "facts", "deliveries", "runs", "run_messages"} <= tables


async def test_the_same_event_id_is_stored_once(store: Store) -> None:
    first = make("factorio")
    assert await store.insert_events([first, first]) == [True, False]
    assert await store.insert_events([first, make("valheim")]) == [False, True]
    assert await store.count_events() == 2


async def test_events_round_trip_with_their_data(store: Store) -> None:
    original = parse_event(
        {
            "V": 2,
            "Id": "0190f1e2-7c3a-7b7e-9a41-5d2f6c1b8e01",
            "EventType": "instance_ports_opened",
            "Data": {"InstanceName": "v", "Ports": [{"start": 1, "end": 2, "protocol": "udp"}], "Flag": True},
            "Timestamp": "2026-08-14T12:00:00.123Z",
            "Hostname": "gamehost",
            "ProducerVersion": "3.1.0",
            "Summary": "hello",
        }
    )
    await store.insert_events([original])
    (stored,) = await store.events_page()
    assert stored.event == original
    assert stored.event.data["Ports"][0]["protocol"] == "udp"


async def test_pages_are_newest_first_and_filtered(store: Store) -> None:
    events = [make("factorio" if n % 2 else "valheim", second=n, N=str(n)) for n in range(30)]
    events.append(make("factorio", "instance_crashed", second=40))
    await store.insert_events(events)
    first = await store.events_page(instance="Factorio", limit=10)
    assert [row.event.data.get("N") for row in first] == [None, "29", "27", "25", "23", "21", "19", "17", "15", "13"]
    second = await store.events_page(instance="factorio", limit=10, before_seq=first[-1].seq)
    assert [row.event.data["N"] for row in second] == ["11", "9", "7", "5", "3", "1"]
    crashed = await store.events_page(types=["server.crashed"])
    assert [row.event.type for row in crashed] == ["server.crashed"]
    lifecycle_types = types_of(Family.LIFECYCLE, {"server.started", "server.crashed"})
    lifecycle = await store.count_matching(types=lifecycle_types, instance="valheim")
    assert lifecycle == 15


async def test_prune_removes_only_events_older_than_the_cutoff(store: Store) -> None:
    await store.insert_events([make("old", second=0), make("new", second=100)])
    removed = await store.prune(datetime(2026, 8, 14, 12, 0, 50, tzinfo=UTC))
    assert removed == 1
    assert [row.event.instance for row in await store.events_page()] == ["new"]


async def test_rules_and_facts_survive_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    await store.open()
    await store.set_channel_rules([("factorio", 123456789012345678, True)])
    await store.set_channel_rules([("factorio", 123456789012345678, False), ("valheim", 1, True)])
    await store.set_mute_rule("players", "", True)
    await store.set_fact("command_tree_hash", "abc")
    await store.close()
    await store.open()
    assert sorted(await store.channel_rules()) == [("factorio", 123456789012345678, False), ("valheim", 1, True)]
    assert await store.mute_rules() == [("players", "", True)]
    assert await store.get_fact("command_tree_hash") == "abc"
    await store.close()
