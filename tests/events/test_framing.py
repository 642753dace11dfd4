"""The splitter and the intake with bad input: runs of junk are one item of many inputs, every input is counted.

The splitter finds stray text and skips brackets with regular expressions over the whole buffer; it must still split
exactly as following the bytes one by one does. `reference_split` is that byte-by-byte reading, written out here.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.events import RefusalReason
from bot.events.framing import DocumentSplitter, Junk
from bot.sources.intake import Intake
from bot.sources.stats import IntakeStats
from tests.helpers import Collector, pretty, started

MAX_DEPTH = 32


def reference_split(data: bytes) -> list[bytes | RefusalReason]:
    """Byte by byte: skip whitespace; a line not opening `{`/`[` is one stray input; else follow brackets and
    strings to the end of the document (refused when it nests deeper than the limit); a rest at EOF is junk."""
    items: list[bytes | RefusalReason] = []
    pos = 0
    while True:
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if pos == len(data):
            return items
        if data[pos] not in b"{[":
            end = data.find(b"\n", pos)
            if end < 0:
                return [*items, RefusalReason.NOT_JSON]
            items.append(RefusalReason.NOT_JSON)
            pos = end + 1
            continue
        start, depth, deepest, in_string, escaped = pos, 0, 0, False, False
        while pos < len(data):
            char = data[pos : pos + 1]
            pos += 1
            if in_string:
                if escaped:
                    escaped = False
                elif char == b"\\":
                    escaped = True
                elif char == b'"':
                    in_string = False
            elif char == b'"':
                in_string = True
            elif char in (b"{", b"["):
                depth += 1
                deepest = max(deepest, depth)
            elif char in (b"}", b"]"):
                depth -= 1
                if depth == 0:
                    items.append(RefusalReason.TOO_DEEP if deepest > MAX_DEPTH else data[start:pos])
                    break
        else:
            return [*items, RefusalReason.NOT_JSON]


def split_in_chunks(data: bytes, cuts: list[int]) -> list[bytes | RefusalReason]:
    """The splitter fed `data` cut at `cuts`; every Junk item stands for `count` refused inputs."""
    splitter = DocumentSplitter()
    items: list[bytes | Junk] = []
    previous = 0
    for cut in [*sorted(cut % (len(data) + 1) for cut in cuts), len(data)]:
        items.extend(splitter.feed(data[previous:cut]))
        previous = max(previous, cut)
    items.extend(splitter.finish())
    expanded: list[bytes | RefusalReason] = []
    for item in items:
        expanded.extend([item.reason] * item.count if isinstance(item, Junk) else [item])
    return expanded


pieces = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b'"',
        b"\\",
        b"\n",
        b" ",
        b"\r",
        b"x",
        b"{}",
        b'{"a":"}"}\n',
        b"[" * 9,
        b"]" * 9,
        b"[" * 40,
        b"]" * 40,
    ]
)
streams = st.lists(pieces, max_size=60).map(b"".join) | st.binary(max_size=600)


@settings(max_examples=400, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=10_000), max_size=6))
def test_the_splitter_splits_as_reading_byte_by_byte_does(data: bytes, cuts: list[int]) -> None:
    assert split_in_chunks(data, cuts) == reference_split(data)


def test_deep_nesting_in_bulk_is_still_one_refusal_and_what_follows_arrives() -> None:
    event = pretty(started("after")).rstrip()
    data = b"[" * 100_000 + b'"]"' + b"]" * 100_000 + b"\n" + event
    assert split_in_chunks(data, [5, 70_000, 150_000]) == [RefusalReason.TOO_DEEP, event]


def test_a_run_of_stray_lines_is_one_item_that_counts_each_line() -> None:
    splitter = DocumentSplitter()
    items = list(splitter.feed(b"first junk\n\n  second\r\n\t\nthird\n" + pretty(started("a")) + b"tail\n"))
    junk, document, tail = items
    assert isinstance(junk, Junk)
    assert (junk.reason, junk.count) == (RefusalReason.NOT_JSON, 3)
    assert "3 lines of stray text" in junk.detail
    assert "first junk" in junk.detail
    assert document == pretty(started("a")).rstrip()
    assert isinstance(tail, Junk)
    assert tail.count == 1


async def test_a_megabyte_of_junk_lines_is_counted_line_by_line_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    stats = IntakeStats()
    collector = Collector()
    intake = Intake(collector, stats, log_interval=0.3)
    junk = b"not json at all\n" * (1 << 16)
    await intake.take_all(junk + pretty(started("after")) + junk, source="socket", peer="test")
    assert [event.instance for event in collector.events] == ["after"]
    assert stats.refused == {"not_json": 2 << 16}
    assert stats.received == stats.accepted + stats.refused_total == (2 << 16) + 1
    refusals = [record.getMessage() for record in caplog.records if record.name == "bot.sources.intake"]
    assert len(refusals) == 1
    assert "lines of stray text" in refusals[0]

    async def summary() -> str:
        while len(refusals := [r.getMessage() for r in caplog.records if r.name == "bot.sources.intake"]) < 2:
            await asyncio.sleep(0.02)
        return refusals[1]

    written = await asyncio.wait_for(summary(), 5)
    first_item = int(refusals[0].split(" lines")[0].rpartition(" ")[2].replace(",", ""))
    assert written == f"refused {(2 << 16) - first_item:,} more inputs as not_json from socket in the last 0.3 s"


async def test_other_connections_are_served_while_junk_is_refused() -> None:
    """The intake gives the event loop a turn between slices: another task runs before the junk is all refused."""
    stats = IntakeStats()
    intake = Intake(Collector(), stats)
    seen_while_busy: list[int] = []

    async def meanwhile() -> None:
        await asyncio.sleep(0)
        seen_while_busy.append(stats.refused_total)

    other = asyncio.create_task(meanwhile())
    await intake.take_all(b"{bad}\n" * 50_000, source="socket", peer="test")
    await other
    assert 0 < seen_while_busy[0] < 50_000
    assert stats.refused_total == 50_000


@settings(max_examples=200, deadline=None)
@given(streams)
def test_random_streams_through_the_intake_never_raise_and_every_input_is_counted(data: bytes) -> None:
    stats = IntakeStats()

    async def run() -> None:
        await Intake(Collector(), stats).take_all(data, source="socket", peer="test")

    asyncio.run(run())
    assert stats.received == stats.accepted + stats.refused_total
    assert stats.received == len(reference_split(data)) or stats.received == 1  # one document, decoded whole
