"""Uptime numbers on known sequences of state events, with and without gaps in the recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.store.rows import StateFacts
from bot.store.uptime import CRASH_TYPES, Condition, cell_layout, cells, uptime

T0 = datetime(2026, 8, 10, tzinfo=UTC)
DAY = timedelta(days=1)


def at(seconds: float, event_type: str) -> StateFacts:
    return StateFacts("valheim", "gamehost", event_type, T0 + timedelta(seconds=seconds), {})


def test_the_crash_types_come_from_the_vocabulary() -> None:
    assert {"server.crashed", "server.crash.exhausted", "server.memory.oom_killed"} <= CRASH_TYPES
    assert "server.stopped" not in CRASH_TYPES


def test_a_crash_recovered_after_40_s_a_stop_and_a_start() -> None:
    facts = [
        at(-3600, "server.ready"),  # before the window: up at its start
        at(1000, "server.crashed"),
        at(1040, "server.restarted"),  # up again 40 s later
        at(5000, "server.stopped"),
        at(5000 + 600, "server.started"),
    ]
    numbers = uptime(facts, [(T0 - DAY, T0 + DAY)], T0, T0 + timedelta(hours=2))
    assert numbers.crashes == 1
    assert numbers.seconds_in(Condition.CRASHED) == 40
    assert numbers.seconds_in(Condition.DOWN) == 600
    assert numbers.percent == pytest.approx(100 * (7200 - 640) / 7200)
    assert numbers.mean_recovery == 40
    assert numbers.longest is not None
    assert numbers.longest.seconds == 40
    assert numbers.longest.recovered


def test_time_before_the_first_event_and_a_recording_gap_are_no_data_and_left_out() -> None:
    facts = [at(3600, "server.ready"), at(7200, "server.crashed"), at(7200 + 120, "server.ready")]
    # the bot was not recording from 2 h 30 to 3 h 30
    recorded = [(T0, T0 + timedelta(hours=2.5)), (T0 + timedelta(hours=3.5), T0 + DAY)]
    numbers = uptime(facts, recorded, T0, T0 + timedelta(hours=6))
    assert numbers.seconds_in(Condition.NO_DATA) == 3600 + 3600  # before the first event, and the gap
    assert numbers.known_seconds == 4 * 3600
    assert numbers.percent == pytest.approx(100 * (4 * 3600 - 120) / (4 * 3600))
    assert [span.condition for span in numbers.spans] == [
        Condition.NO_DATA,
        Condition.UP,
        Condition.CRASHED,
        Condition.UP,
        Condition.NO_DATA,
        Condition.UP,
    ]
    assert numbers.mean_recovery == 120


def test_an_outage_through_a_gap_has_no_known_length() -> None:
    facts = [at(0, "server.ready"), at(600, "server.crashed"), at(4000, "server.ready")]
    recorded = [(T0, T0 + timedelta(seconds=1000)), (T0 + timedelta(seconds=3000), T0 + DAY)]
    numbers = uptime(facts, recorded, T0, T0 + timedelta(hours=2))
    assert numbers.crashes == 1
    assert numbers.mean_recovery is None
    assert numbers.longest is None
    assert numbers.seconds_in(Condition.CRASHED) == 400 + 1000  # only the recorded parts


def test_an_ongoing_outage_counts_up_to_now_and_says_so() -> None:
    facts = [at(0, "server.ready"), at(600, "server.crash.exhausted")]
    numbers = uptime(facts, [(T0, T0 + DAY)], T0, T0 + timedelta(seconds=1800))
    longest = numbers.longest
    assert longest is not None
    assert longest.seconds == 1200
    assert not longest.recovered
    assert numbers.mean_recovery is None


def test_a_window_with_nothing_known_has_no_percentage() -> None:
    numbers = uptime([], [(T0, T0 + DAY)], T0, T0 + DAY)
    assert numbers.percent is None
    assert numbers.spans[0].condition is Condition.NO_DATA


def test_cells_show_even_a_short_crash_and_otherwise_the_most_of_each_cell() -> None:
    facts = [at(2400, "server.ready"), at(3 * 3600 + 10, "server.crashed"), at(3 * 3600 + 50, "server.restarted")]
    end = T0 + timedelta(hours=4)
    numbers = uptime(facts, [(T0, T0 + DAY)], T0, end)
    # hour 1: 40 min no data, 20 min up; hour 4: 40 s crashed
    assert cells(numbers.spans, T0, end, 4) == [Condition.NO_DATA, Condition.UP, Condition.UP, Condition.CRASHED]


def test_cell_layout_is_hourly_up_to_two_days_then_daily() -> None:
    assert cell_layout(1) == (24, timedelta(hours=1))
    assert cell_layout(2) == (48, timedelta(hours=1))
    assert cell_layout(7) == (7, timedelta(days=1))
