"""Instance state derived from events (no network)."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.events import TABLE, Event, State, parse_event
from bot.store.database import Store
from bot.store.state import InstanceState, StateBook, key_of


def feed(*types: str, **data: str) -> StateBook:
    book = StateBook()
    for event_type in types:
        book.apply(parse_event({"EventType": event_type, "Data": {"InstanceName": "factorio", **data}}))
    return book


def state_after(*types: str) -> State:
    found = feed(*types).get("factorio")
    assert found is not None
    return found.state


def test_lifecycle_states() -> None:
    assert state_after("instance_started") is State.ONLINE
    assert state_after("instance_started", "instance_ready") is State.READY
    assert state_after("instance_started", "instance_crashed") is State.CRASHED
    assert state_after("instance_crashed", "instance_failed") is State.FAILED
    assert state_after("instance_ready", "instance_stop_started") is State.STOPPING
    assert state_after("instance_ready", "instance_stopped") is State.INSTALLED
    assert state_after("instance_ready", "instance_restart_started") is State.RESTARTING
    assert state_after("instance_restart_started", "instance_restart_finished") is State.STARTING
    assert state_after("instance_restart_finished", "instance_restarted") is State.ONLINE


def test_install_update_and_uninstall_states() -> None:
    assert state_after("instance_installation_started", "instance_download_started") is State.INSTALLING
    assert state_after("instance_download_started", "instance_download_failed") is State.FAILED
    assert state_after("instance_deployed", "instance_installed") is State.INSTALLED
    assert state_after("instance_installed", "instance_update_started") is State.UPDATING
    assert state_after("instance_update_started", "instance_updated") is State.INSTALLED
    assert state_after("instance_ready", "instance_version_updated") is State.READY
    assert state_after("instance_ready", "instance_uninstall_started") is State.UNINSTALLING
    assert state_after("instance_uninstall_finished", "instance_uninstalled") is State.UNINSTALLED


def test_events_that_change_nothing_keep_the_state() -> None:
    assert state_after("instance_ready", "instance_player_joined", "instance_backup_created") is State.READY


def test_version_blueprint_and_since_are_tracked() -> None:
    book = StateBook()
    book.apply(
        parse_event(
            {
                "EventType": "instance_installed",
                "Data": {"InstanceName": "f", "Blueprint": "factorio"},
                "Timestamp": "2026-01-01T00:00:00Z",
            }
        )
    )
    book.apply(
        parse_event(
            {
                "EventType": "instance_version_updated",
                "Data": {"InstanceName": "f", "OldVersion": "1", "NewVersion": "2"},
                "Timestamp": "2026-01-02T00:00:00Z",
            }
        )
    )
    state = book.get("F")
    assert state is not None
    assert (state.blueprint, state.version, state.state) == ("factorio", "2", State.INSTALLED)
    assert state.since is not None
    assert state.since.day == 1  # the version change did not change the state


def test_blueprint_events_have_no_instance_state() -> None:
    book = StateBook()
    assert book.apply(parse_event({"EventType": "blueprint_created", "Data": {"BlueprintName": "x"}})) is None
    assert len(book) == 0


# ---------------------------------------------------------------------- the kept states (`server_states`)

_TYPES = [*sorted(TABLE)[::3], "instance_started", "instance_crashed", "server.renamed", "kgsm.some_future_event"]
_TEXT = st.text(max_size=6)
_DATA = st.fixed_dictionaries(
    {"InstanceName": st.sampled_from(["valheim", "Valheim", "factorio", "ü-ß"])},
    optional={"Version": _TEXT, "NewVersion": _TEXT, "Blueprint": _TEXT, "NewDisplayName": _TEXT},
)
_EVENTS = st.builds(
    lambda event_type, data, host, second: parse_event(
        {
            "EventType": event_type,
            "Data": data,
            "Hostname": host,
            "Timestamp": f"2026-08-14T12:{second // 60:02d}:{second % 60:02d}.{second % 1000:03d}Z",
        }
    ),
    st.sampled_from(_TYPES),
    _DATA,
    st.sampled_from([None, "gamehost", "GameHost", "other"]),
    st.integers(0, 3599),
)


def _snapshot(book: StateBook) -> list[InstanceState]:
    return book.all()


def _as_before_server_states(path: Path) -> None:
    """The database as a bot before migration 0007 left it: the same events, no kept states."""
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE server_states; DROP INDEX events_by_server; DROP INDEX events_by_version; "
            "CREATE INDEX events_by_instance ON events (instance, seq); "
            "CREATE INDEX IF NOT EXISTS events_by_family ON events (family, seq); PRAGMA user_version = 6;"
        )


async def _kept_and_replayed(batches: list[list[Event]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = Store(Path(directory))
        await store.open()
        replayed = StateBook()
        for batch in batches:
            for event, is_new in zip(batch, await store.insert_events(batch), strict=True):
                if is_new:
                    replayed.apply(event)
        expected = _snapshot(replayed)
        assert _snapshot(store.states) == expected
        await store.close()

        reopened = Store(Path(directory))  # a restart reads the rows
        await reopened.open()
        assert _snapshot(reopened.states) == expected
        await reopened.close()

        _as_before_server_states(reopened.path)  # and the migration builds the same rows from the history
        migrated = Store(Path(directory))
        await migrated.open()
        assert _snapshot(migrated.states) == expected
        await migrated.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(_EVENTS, max_size=6), max_size=6), st.data())
def test_kept_states_equal_a_replay_of_the_history(batches: list[list[Event]], data: st.DataObject) -> None:
    """Whatever the events, their batches and their repeats: the rows written with each batch, the rows read at
    the next start and the rows migration 0007 builds from the history all equal a replay of the new events."""
    flat = [event for batch in batches for event in batch]
    if flat:  # the same event again, in a later batch or in the same one, is stored once and applied once
        batches.append(data.draw(st.lists(st.sampled_from(flat), max_size=4)))
    asyncio.run(_kept_and_replayed(batches))


@settings(max_examples=300, deadline=None)
@given(st.lists(_EVENTS, min_size=1, max_size=8), st.integers(0, 8))
def test_while_a_batch_is_dispatched_each_event_shows_its_server_at_its_own_moment(
    events: list[Event], dispatched: int
) -> None:
    """However far the dispatch of a stored batch got (a stop may end it early), each event reached showed its
    server as a replay does right after it, and the next batch starts from the stored states."""
    book, replay = StateBook(), StateBook()
    book.committed(book.walk(events), [f"event-{n}" for n in range(len(events))])
    for n, event in enumerate(events[:dispatched]):
        expected = replay.apply(event)
        book.reach(f"event-{n}")
        if expected is not None:
            assert book.get(key_of(expected.host, expected.name)) == expected
    for event in events[dispatched:]:
        replay.apply(event)
    assert book.walk([]).changed == {}
    assert _snapshot(book) == _snapshot(replay)
