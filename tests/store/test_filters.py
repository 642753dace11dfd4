"""/events' filters on a real SQLite file: a family asked as its stored types gives exactly the events a scan of
the whole table gives, in the same order, page after page, however many types it has."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.events import Event, Family, kind_of, parse_event, types_of
from bot.store import filters
from bot.store.database import Store

# Known types of two families, unknown ones of a known namespace (`server.…`, lifecycle) and of none (other).
_TYPES = st.sampled_from(
    [
        "server.started",
        "server.stopped",
        "instance_crashed",
        "player.joined",
        "player.left",
        "server.weird_one",
        "server.weird_two",
        "madeup.thing",
        "madeup.other",
    ]
)
_EVENTS = st.lists(st.tuples(_TYPES, st.sampled_from(["alpha", "Alpha", "beta"])), max_size=40)
_FAMILIES = st.sampled_from(["lifecycle", "players", "other", "backup"])


def _event(n: int, event_type: str, instance: str) -> Event:
    moment = datetime(2026, 8, 14, 12, 0, tzinfo=UTC) + timedelta(seconds=n)
    return parse_event(
        {"EventType": event_type, "Data": {"InstanceName": instance, "N": n}, "Timestamp": moment.isoformat()}
    )


async def _pages_and_counts(
    events: list[tuple[str, str]], family: str, instance: str | None, limit: int
) -> tuple[list[list[int]], int, list[list[int]], int]:
    """Every page of the family's events (as their `N`) and their count: the store's, and a full scan's."""
    with tempfile.TemporaryDirectory() as directory:
        store = Store(Path(directory))
        await store.open()
        stored = [_event(n, event_type, name) for n, (event_type, name) in enumerate(events)]
        await store.insert_events(stored)
        types = types_of(Family(family), {event.type for event in stored})  # what the bot has seen
        pages: list[list[int]] = []
        before: int | None = None
        while True:
            rows = await store.events_page(types=types, instance=instance, before_seq=before, limit=limit)
            if not rows:
                break
            pages.append([row.event.data["N"] for row in rows])
            before = rows[-1].seq
        counted = await store.count_matching(types=types, instance=instance)
        await store.close()
    wanted = [
        n
        for n, (event_type, name) in enumerate(events)
        if kind_of(parse_event({"EventType": event_type}).type).family.value == family
        and (instance is None or name.lower() == instance.lower())
    ][::-1]
    expected = [wanted[start : start + limit] for start in range(0, len(wanted), limit)]
    return pages, counted, expected, len(wanted)


@pytest.mark.parametrize("most_merged", [1, 2, filters.MOST_MERGED])
@settings(max_examples=40, deadline=None)
@given(events=_EVENTS, family=_FAMILIES, instance=st.sampled_from([None, "ALPHA", "beta"]), limit=st.integers(1, 7))
def test_a_family_gives_what_a_scan_of_every_event_gives(
    most_merged: int, events: list[tuple[str, str]], family: str, instance: str | None, limit: int
) -> None:
    """Merged one query per type or read in one query (past `MOST_MERGED` types), with or without a server:
    the same events, newest first, on the same pages, and the same count."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(filters, "MOST_MERGED", most_merged)
        pages, counted, expected, total = asyncio.run(_pages_and_counts(events, family, instance, limit))
    assert pages == expected
    assert counted == total


async def test_a_family_no_stored_event_belongs_to_matches_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    await store.open()
    await store.insert_events([_event(0, "server.started", "alpha")])
    backups = types_of(Family.BACKUP, {"server.started"})
    assert backups == ()
    assert await store.events_page(types=backups) == []
    assert await store.count_matching(types=backups) == 0
    assert types_of(Family.LIFECYCLE, {"player.joined"}) == ()  # a type of another family is not asked
    (row,) = await store.events_page(types=types_of(Family.LIFECYCLE, {"server.started", "player.joined"}))
    assert row.event.type == "server.started"
    await store.close()


def test_a_family_has_no_index_of_its_own(tmp_path: Path) -> None:
    """The point of asking by types: each stored event writes one index fewer (migration 0008)."""
    asyncio.run(_opened_and_closed(tmp_path))
    with sqlite3.connect(tmp_path / "kgsm-bot.sqlite3") as db:
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "events_by_family" not in indexes
    assert "events_by_type" in indexes


async def _opened_and_closed(path: Path) -> None:
    store = Store(path)
    await store.open()
    await store.close()


async def test_a_type_named_twice_gives_its_events_once(tmp_path: Path) -> None:
    store = Store(tmp_path)
    await store.open()
    await store.insert_events([_event(0, "server.started", "alpha"), _event(1, "server.stopped", "alpha")])
    rows = await store.events_page(types=["server.started", "server.started", "server.stopped"])
    assert [row.event.data["N"] for row in rows] == [1, 0]
    assert await store.count_matching(types=["server.started", "server.started"]) == 1
    await store.close()


_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)  # Discord and SQLite carry no lone surrogate


@settings(max_examples=30, deadline=None)
@given(instance=st.none() | _TEXT, types=st.none() | st.lists(_TEXT, max_size=40))
def test_any_text_in_any_filter_is_only_data(instance: str | None, types: list[str] | None) -> None:
    """Quotes, brackets, percent signs, JSON or SQL in a filter, and more types than are merged: no error, and
    only events that really match (here none: the one stored event has names no generated text equals)."""

    async def asked() -> tuple[list[object], int]:
        with tempfile.TemporaryDirectory() as directory:
            store = Store(Path(directory))
            await store.open()
            await store.insert_events([_event(0, "server.started", "stored-server-🦊")])
            wanted = [name for name in types or [] if name] or None
            rows = await store.events_page(instance=instance, types=wanted, limit=5)
            counted = await store.count_matching(instance=instance, types=wanted)
            await store.close()
            return list(rows), counted

    rows, counted = asyncio.run(asked())
    matches = instance in (None, "stored-server-🦊") and (
        not [name for name in types or [] if name] or "server.started" in (types or [])
    )
    assert len(rows) == counted == (1 if matches else 0)
