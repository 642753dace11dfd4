"""Reads of one server's window of history, on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.events import parse_event
from bot.store.database import Store
from bot.store.history import PRIOR_STATE_EVENTS, any_event, server_history, servers_active, uptime_of
from bot.store.recording import BEFORE_ALL

T0 = datetime(2026, 8, 14, 12, 0, tzinfo=UTC)


def make(instance: str, event_type: str, second: float, host: str | None = "gamehost", **data: Any) -> Any:
    moment = T0 + timedelta(seconds=second)
    document: dict[str, Any] = {
        "EventType": event_type,
        "Data": {"InstanceName": instance, **data},
        "Timestamp": moment.isoformat().replace("+00:00", "Z"),
    }
    if host is not None:
        document["Hostname"] = host
    return parse_event(document)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "data")
    await opened.open()
    yield opened
    await opened.close()


async def test_a_window_reads_a_few_state_events_before_it_and_only_its_server(store: Store) -> None:
    before = [make("valheim", "instance_started" if n % 2 else "instance_stopped", -10_000 + n) for n in range(120)]
    await store.insert_events(
        [
            *before,
            make("valheim", "instance_player_joined", -5, PlayerName="Ada"),  # not a state event: not read before
            make("Valheim", "instance_crashed", 10),  # the same server, in other letters
            make("valheim", "instance_crashed", 11, host="otherhost"),  # another host's valheim
            make("factorio", "instance_crashed", 12),
            make("valheim", "instance_ready", 7200),  # after the window
        ]
    )
    facts = await server_history(store, "valheim", "gamehost", T0, T0 + timedelta(hours=1))
    assert len(facts) == PRIOR_STATE_EVENTS + 1
    assert [fact.timestamp for fact in facts] == sorted(fact.timestamp for fact in facts)
    assert facts[-1].type == "server.crashed"
    assert facts[-1].timestamp == T0 + timedelta(seconds=10)
    assert facts[-2].timestamp == T0 + timedelta(seconds=-10_000 + 119)

    numbers = await uptime_of(
        store, [(BEFORE_ALL, T0 + timedelta(days=1))], "valheim", "gamehost", T0, T0 + timedelta(hours=1)
    )
    assert numbers.crashes == 1


async def test_which_servers_and_whether_anything_happened_in_a_day(store: Store) -> None:
    await store.insert_events([make("valheim", "instance_started", 0), make("factorio", "instance_started", 90_000)])
    day = (T0, T0 + timedelta(days=1))
    assert await servers_active(store, *day) == [("valheim", "gamehost")]
    assert await any_event(store, *day)
    assert not await any_event(store, T0 + timedelta(days=2), T0 + timedelta(days=3))
