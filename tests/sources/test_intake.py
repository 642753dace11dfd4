"""A megabyte of junk through the real socket, written by socat: a handful of log lines, exact counters."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.conftest import SettingsWith, start_source
from tests.helpers import pretty, socat_send, started

MIB = 1 << 20
JUNK_LINE = b"this is not json\n"


def bot_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name.startswith("bot")]


async def test_a_mebibyte_of_junk_lines_in_one_connection(
    settings_with: SettingsWith, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    running = await start_source(settings_with(max_payload_bytes=MIB))
    try:
        lines = MIB // len(JUNK_LINE)
        assert await socat_send(running.path, JUNK_LINE * lines) == 0
        assert await socat_send(running.path, pretty(started("after"))) == 0
        (event,) = await running.collector.wait_count(1)
        assert event.instance == "after"

        async def all_refused() -> None:
            while running.stats.received < lines + 1:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(all_refused(), 30)
        assert dict(running.stats.refused) == {"not_json": lines}
        assert running.stats.accepted == 1
        assert running.stats.received == running.stats.accepted + running.stats.refused_total
        written = bot_lines(caplog)
        assert len(written) <= 5, [record.getMessage() for record in written]
        refusals = [record.getMessage() for record in written if "refused" in record.getMessage()]
        assert len(refusals) == 1
        assert "lines of stray text" in refusals[0]
        assert "this is not json" in refusals[0]
    finally:
        await running.source.stop()


async def test_junk_in_many_connections_is_logged_once_per_reason(
    settings_with: SettingsWith, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    running = await start_source(settings_with())
    try:
        sends = [socat_send(running.path, b"junk\n" if n % 2 else b'{"Data": {}}\n') for n in range(40)]
        assert await asyncio.gather(*sends) == [0] * 40

        async def all_refused() -> None:
            while running.stats.refused_total < 40:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(all_refused(), 10)
        assert dict(running.stats.refused) == {"not_json": 20, "no_event_type": 20}
        refusals = [record.getMessage() for record in bot_lines(caplog) if "refused" in record.getMessage()]
        assert len(refusals) == 2
        assert {"(not_json)" in line for line in refusals} == {True, False}
    finally:
        await running.source.stop()
