"""The recorder on a real SQLite file: each event stored before it is dispatched, once, in arrival order; a
database that cannot be written loses nothing and needs no restart; a batch interrupted by an error is
finished, not dispatched twice."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.events import Event, parse_event
from bot.runtime.supervisor import Supervisor
from bot.store import recorder as recorder_module
from bot.store.database import Store
from bot.store.recorder import Recorder


def event(instance: str, event_id: str | None = None) -> Event:
    document = {"EventType": "instance_started", "Data": {"InstanceName": instance}}
    return parse_event({**document, "Id": event_id} if event_id else document)


@dataclass
class Downstream:
    """What the recorder hands on: each dispatched event, whether it was stored by then, and each batch end."""

    store: Store
    dispatched: list[str] = field(default_factory=list)
    stored_when_dispatched: list[bool] = field(default_factory=list)
    batches: int = 0
    broken: set[str] = field(default_factory=set)  # instances whose dispatch raises
    after_batch_failures: list[BaseException] = field(default_factory=list)

    async def dispatch(self, event: Event) -> None:
        async with self.store.session() as db, db.execute("SELECT 1 FROM events WHERE id = ?", (event.id,)) as cur:
            self.stored_when_dispatched.append(await cur.fetchone() is not None)
        if event.instance in self.broken:
            raise ValueError(f"a dispatch bug met {event.instance}")
        self.dispatched.append(str(event.instance))

    async def after_batch(self) -> None:
        if self.after_batch_failures:
            raise self.after_batch_failures.pop()
        self.batches += 1


@dataclass
class Running:
    recorder: Recorder
    downstream: Downstream
    store: Store
    supervisor: Supervisor

    async def submit(self, *events: Event) -> list[asyncio.Future[bool]]:
        return [await self.recorder.submit(one) for one in events]

    async def flushed(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self.recorder.flush(), timeout)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    store = Store(tmp_path / "data")
    await store.open()
    downstream = Downstream(store)
    recorder = Recorder(store, downstream.dispatch, downstream.after_batch)
    supervisor = Supervisor()
    supervisor.run("recorder", recorder.run)
    yield Running(recorder, downstream, store, supervisor)
    await supervisor.stop_all()
    await store.close()


async def test_each_event_is_stored_before_it_is_dispatched_in_arrival_order(running: Running) -> None:
    futures = await running.submit(*(event(f"s{n}") for n in range(20)))
    await running.flushed()
    assert [await future for future in futures] == [True] * 20
    assert running.downstream.dispatched == [f"s{n}" for n in range(20)]
    assert running.downstream.stored_when_dispatched == [True] * 20
    assert running.downstream.batches >= 1
    assert await running.store.undispatched() != [], "dispatched is marked by the deliveries' commit, not here"
    assert await running.store.count_events() == 20


async def test_the_same_event_twice_is_stored_and_dispatched_once(running: Running) -> None:
    first = event("factorio", "0190f1e2-7c3a-7b7e-9a41-5d2f6c1b8e01")
    futures = await running.submit(first, first)
    await running.flushed()
    (again,) = await running.submit(first)  # later, from another source
    await running.flushed()
    assert [await f for f in [*futures, again]] == [True, False, False]
    assert running.downstream.dispatched == ["factorio"]
    assert running.recorder.duplicates == 2


async def test_a_database_that_cannot_be_written_loses_nothing_and_resumes_by_itself(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    await running.store.db.execute("PRAGMA query_only = ON")  # writes fail as on a read-only mount
    with caplog.at_level(logging.ERROR, logger="bot.store.database"):
        futures = await running.submit(*(event(f"w{n}") for n in range(5)))
        await asyncio.sleep(1.2)  # a few tries with backoff
    assert not any(future.done() for future in futures), "no source is told its event is safe"
    assert running.downstream.dispatched == [], "nothing is dispatched that is not stored"
    assert running.recorder.pending == 5
    assert running.store.problem is not None
    assert "readonly" in running.store.problem
    assert sum("cannot be written" in r.getMessage() for r in caplog.records) == 1, "said once"
    assert running.supervisor.restarts == {}, "retried, not crashed"

    await running.store.db.execute("PRAGMA query_only = OFF")
    await running.flushed(30)
    assert [await future for future in futures] == [True] * 5
    assert running.downstream.dispatched == [f"w{n}" for n in range(5)]
    assert running.store.problem is None
    assert running.recorder.pending == 0


async def test_a_commit_of_the_deliveries_that_fails_is_tried_again_without_dispatching_twice(
    running: Running,
) -> None:
    running.downstream.after_batch_failures.append(sqlite3.OperationalError("database or disk is full"))
    futures = await running.submit(event("a"), event("b"))
    await running.flushed()
    assert [await future for future in futures] == [True, True], "stored is stored, whatever comes after"
    assert running.downstream.dispatched == ["a", "b"]
    assert running.downstream.batches == 1


async def test_a_batch_interrupted_by_an_unexpected_error_is_finished_after_the_restart(running: Running) -> None:
    running.downstream.after_batch_failures.append(RuntimeError("a bug after dispatching"))
    await running.submit(event("a"), event("b"))
    await running.flushed()
    assert running.supervisor.restarts == {"recorder": 1}
    assert running.downstream.dispatched == ["a", "b"], "dispatched once, before and after the restart"
    assert running.downstream.batches == 1
    assert running.recorder.duplicates == 0, "not stored a second time either"


async def test_an_event_whose_dispatch_fails_is_logged_and_the_others_go_on(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    running.downstream.broken.add("poison")
    with caplog.at_level(logging.ERROR, logger="bot.store.recorder"):
        await running.submit(event("before"), event("poison"), event("after"))
        await running.flushed()
    assert running.downstream.dispatched == ["before", "after"]
    assert any("dispatching server.started for poison failed" in r.getMessage() for r in caplog.records)
    assert running.supervisor.restarts == {}


async def test_events_stored_but_not_dispatched_before_a_stop_are_dispatched_at_start_up(running: Running) -> None:
    left = [event("left-1"), event("left-2")]
    await running.store.insert_events(left)
    await running.recorder.redispatch([stored.event for stored in await running.store.undispatched()])
    assert running.downstream.dispatched == ["left-1", "left-2"]
    assert running.downstream.batches == 1


async def test_sources_wait_when_too_many_events_wait_to_be_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "MAX_QUEUED", 3)
    store = Store(tmp_path / "data")
    await store.open()
    downstream = Downstream(store)
    recorder = Recorder(store, downstream.dispatch, downstream.after_batch)  # its writer not started yet
    for n in range(3):
        await recorder.submit(event(f"q{n}"))
    blocked = asyncio.create_task(recorder.submit(event("q3")))
    await asyncio.sleep(0.1)
    assert not blocked.done(), "backpressure: the fourth waits"
    writer = asyncio.create_task(recorder.run())
    await asyncio.wait_for(blocked, 5)
    await asyncio.wait_for(recorder.flush(), 5)
    assert downstream.dispatched == ["q0", "q1", "q2", "q3"]
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)
    await store.close()


async def test_in_a_burst_events_that_keep_coming_are_written_together(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "GATHER", 1.0)
    await running.submit(event("a"), event("b"))  # a batch of two: the writer now takes events as a burst
    await running.flushed()
    before = running.downstream.batches
    for n in range(10):  # one at a time, a loop turn apart, as KGSM's connections come
        await running.submit(event(f"burst{n}"))
        await asyncio.sleep(0.01)
    await running.flushed()
    assert running.downstream.batches == before + 1, "the whole burst in one transaction"
    assert running.downstream.dispatched[-10:] == [f"burst{n}" for n in range(10)]


async def test_a_lone_event_is_written_at_once_and_only_a_burst_waits_for_more(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    await running.submit(event("a"), event("b"))
    await running.flushed()
    monkeypatch.setattr(recorder_module, "GATHER", 0.05)
    await running.submit(event("late"))  # still taken as part of a burst: gathered for 50 ms, then written alone
    await running.flushed()
    monkeypatch.setattr(recorder_module, "GATHER", 3600.0)  # a quiet host: a writer that waited would hang here
    (stored,) = await running.submit(event("quiet"))
    assert await asyncio.wait_for(stored, 10) is True
