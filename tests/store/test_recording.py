"""The periods the bot was recording, in a real SQLite database, across restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.database import Store
from bot.store.recording import BEFORE_ALL, RecordingLog

T0 = datetime(2026, 8, 14, 9, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "data")
    await opened.open()
    yield opened
    await opened.close()


async def test_marks_grow_one_period_and_a_stop_opens_a_gap(store: Store) -> None:
    clock = Clock(T0)
    log = RecordingLog(store, clock, 90, lambda: False)
    await log.mark()
    clock.now += timedelta(minutes=1)
    await log.mark()
    clock.now += timedelta(minutes=10)  # the database refused a few marks: the bot was running all the same
    await log.mark()
    # the bot stops for two hours, then a new run marks
    clock.now += timedelta(hours=2)
    again = RecordingLog(store, clock, 90, lambda: False)
    await again.mark()
    assert await again.periods() == [(T0, T0 + timedelta(minutes=11)), (clock.now, clock.now)]
    clock.now += timedelta(seconds=30)
    recorded = await again.recorded()
    assert recorded[0] == (BEFORE_ALL, T0 + timedelta(minutes=11))  # history from before counts as recorded
    assert recorded[-1] == (T0 + timedelta(hours=2, minutes=11), clock.now)  # the current run: up to now


async def test_a_bot_that_follows_journals_closes_the_gap_of_a_restart(store: Store) -> None:
    clock = Clock(T0)
    await RecordingLog(store, clock, 90, lambda: True).mark()
    clock.now += timedelta(hours=5)
    again = RecordingLog(store, clock, 90, lambda: True)
    await again.mark()
    assert await again.periods() == [(T0, clock.now)]


async def test_periods_older_than_the_history_kept_are_dropped(store: Store) -> None:
    clock = Clock(T0)
    await RecordingLog(store, clock, 1, lambda: False).mark()
    clock.now += timedelta(days=3)
    again = RecordingLog(store, clock, 1, lambda: False)
    await again.mark()
    assert await again.periods() == [(clock.now, clock.now)]
