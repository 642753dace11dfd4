"""The rate-limited log: one line per key and interval, then a summary with the count of what was held back."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.runtime.ratelog import COUNT, RateLimitedLog

LOGGER = logging.getLogger("tests.ratelog")


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER.name]


def flood(limited: RateLimitedLog, key: str, times: int) -> None:
    for n in range(times):
        limited.log(key, logging.WARNING, "bad input %d from %s", n, "peer", summary=f"{COUNT} more bad inputs")


async def wait_for_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[str]:
    while len(lines(caplog)) < count:
        await asyncio.sleep(0.02)
    return lines(caplog)


async def test_a_flood_is_one_line_then_a_summary_with_its_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    limited = RateLimitedLog(LOGGER, interval=0.2)
    flood(limited, "key", 10_000)
    assert lines(caplog) == ["bad input 0 from peer"]
    _first, summary = await asyncio.wait_for(wait_for_lines(caplog, 2), 5)
    assert summary == "9,999 more bad inputs in the last 0.2 s"
    assert caplog.records[-1].levelno == logging.WARNING
    flood(limited, "key", 1)  # a new interval: written in full again
    assert lines(caplog)[-1] == "bad input 0 from peer"


async def test_each_key_has_its_own_interval(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    limited = RateLimitedLog(LOGGER, interval=60)
    flood(limited, "a", 3)
    flood(limited, "b", 3)
    assert len(lines(caplog)) == 2


async def test_counts_given_per_call_add_up_and_flush_writes_the_summary_now(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    limited = RateLimitedLog(LOGGER, interval=60)
    for _ in range(3):
        limited.log("k", logging.INFO, "a run of junk", summary=f"{COUNT} more lines", count=1000)
    limited.flush()
    assert lines(caplog)[0] == "a run of junk"
    assert lines(caplog)[1].startswith("2,000 more lines in the last ")
    limited.flush()
    assert len(lines(caplog)) == 2


async def test_an_interval_without_anything_held_back_ends_without_a_summary(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    limited = RateLimitedLog(LOGGER, interval=0.05)
    flood(limited, "key", 1)
    await asyncio.sleep(0.2)
    flood(limited, "key", 1)
    assert lines(caplog) == ["bad input 0 from peer", "bad input 0 from peer"]


def test_without_an_event_loop_the_interval_is_closed_by_the_next_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    limited = RateLimitedLog(LOGGER, interval=0.0)
    flood(limited, "key", 2)
    assert lines(caplog) == ["bad input 0 from peer", "bad input 1 from peer"]


def test_a_level_that_is_off_writes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    limited = RateLimitedLog(LOGGER, interval=60)
    assert not limited.log("k", logging.DEBUG, "quiet", summary=f"{COUNT} more")
    limited.flush()
    assert lines(caplog) == []
