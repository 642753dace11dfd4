"""KGSM's event journal (KGSM from August 2026, which has no socket any more).

KGSM appends each event as one compact JSON line to `<dir>/YYYY-MM-DD.ndjson` (UTC date of the emit) and
prunes old segments. The follower keeps its own cursor (segment and byte offset) per directory in the store,
advanced only after the events up to it are stored, so a restart resumes exactly where it stopped and a
crash repeats at most a few events (which the store recognises by id). Only lines that end in a newline are
consumed. After moving on to a new segment it keeps re-reading the previous one for two minutes, because an
event emitted just before midnight can land in yesterday's file. A cursor whose segment was pruned, or that
points past the end of a truncated segment, is a gap: reported once, then reading continues from the oldest
remaining segment.

A segment named after a day later than tomorrow (UTC; tomorrow is allowed for a clock a little ahead) cannot have
been written by KGSM yet: a file like `2099-01-01.ndjson` used to be taken for the newest segment, and today's was
never read again. Such names, and names that are no real day, are ignored (said once per name) until their day
comes; a cursor that names one (saved by an older bot) starts over as on a cold start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import aiofiles
import aiofiles.os

from bot.events import RefusalReason
from bot.runtime.ratelog import COUNT, RateLimitedLog
from bot.runtime.turns import pause_every
from bot.sources.intake import YIELD_EVERY

log = logging.getLogger(__name__)

SEGMENT = re.compile(r"^\d{4}-\d{2}-\d{2}\.ndjson$")
PRODUCER_PREFIX = "kgsm"
EVENTS_DIR = "events"
POLL_INTERVAL = 0.5
STRAGGLER_WINDOW = 120.0
READ_CHUNK = 256 * 1024
SAVE_INTERVAL = 1.0  # within a long chunk, the cursor is saved at most this often
SOURCE = "journal"
REPLAY_SOURCE = "journal-replay"
FIRST_SEGMENT = ""  # a cursor waiting for the first segment to appear

ReportGap = Callable[[str], Awaitable[None]]


class LineSink(Protocol):
    """Where a follower hands its lines: the bot's `Intake`, or the relay's forwarder (`bot.relay`).

    `take` returns a future that is done once the event is safe (stored, or acknowledged by the central bot);
    the cursor moves past a line only then. None: the line was refused and is not waited for.
    """

    async def take(
        self, item: bytes, *, source: str, peer: object, producer: str | None = None
    ) -> asyncio.Future[bool] | None: ...

    def refuse(self, reason: RefusalReason, detail: str, *, source: str, peer: object) -> None: ...


class CursorStore(Protocol):
    """Where a follower keeps its cursor: the bot's `Store` (its facts), or the relay's own cursor file."""

    async def get_fact(self, key: str) -> str | None: ...

    async def set_fact(self, key: str, value: str) -> None: ...


@dataclass
class Cursor:
    segment: str
    offset: int
    previous: str | None = None  # the segment before, still re-read for stragglers …
    previous_offset: int = 0
    previous_until: float = 0.0  # … until this Unix time


def segment_day(name: str) -> date | None:
    """The day a segment is named after (`2026-08-14.ndjson`), None when the name is no real day."""
    try:
        return date.fromisoformat(name.removesuffix(".ndjson"))
    except ValueError:
        return None


def latest_segment_day() -> date:
    """Tomorrow (UTC): the latest day a segment may be named after, allowing for a clock a little ahead."""
    return datetime.now(UTC).date() + timedelta(days=1)


def producer_of(directory: Path) -> str:
    """The component that writes a journal: `/var/lib/kgsm-watchdog/events` is kgsm-watchdog's."""
    return directory.parent.name if directory.name == EVENTS_DIR and directory.parent.name else directory.name


def discover(root: Path) -> list[Path]:
    """Every producer's journal under `root` (`/var/lib/kgsm*/events`), as kgsm-lib's own discovery finds them."""
    try:
        candidates = sorted(entry / EVENTS_DIR for entry in root.iterdir() if entry.name.startswith(PRODUCER_PREFIX))
    except OSError:
        return []
    return [candidate for candidate in candidates if candidate.is_dir()]


class JournalFollower:
    """Follows one journal directory."""

    def __init__(
        self, directory: Path, intake: LineSink, store: CursorStore, *, start: str, report_gap: ReportGap
    ) -> None:
        self.directory = directory
        self.producer = producer_of(directory)
        self._intake = intake
        self._store = store
        self._start = start
        self._report_gap = report_gap
        self._fact = f"journal_cursor:{directory.resolve()}"
        self.cursor: Cursor | None = None
        self.replaying = False
        self._ignored: set[str] = set()  # segment names already reported as ignored
        self._errors = RateLimitedLog(log)  # a read that fails at every poll is said once a minute

    @property
    def task_name(self) -> str:
        return f"journal {self.directory}"

    def _segments(self) -> list[str]:
        """The segments to follow, oldest first: every one named after a real day up to tomorrow."""
        try:
            names = sorted(entry.name for entry in self.directory.iterdir() if SEGMENT.match(entry.name))
        except OSError:
            return []
        latest = latest_segment_day()
        segments = []
        for name in names:
            day = segment_day(name)
            if day is not None and day <= latest:
                segments.append(name)
            elif name not in self._ignored:
                self._ignored.add(name)
                why = "is no real day" if day is None else f"is later than tomorrow ({latest} UTC)"
                log.warning(
                    "journal %s: ignoring the segment %s: its name %s, so KGSM cannot have written it; the other "
                    "segments are read as usual",
                    self.directory,
                    name,
                    why,
                )
        return segments

    @staticmethod
    def _acceptable(segment: str) -> bool:
        day = segment_day(segment)
        return day is not None and day <= latest_segment_day()

    def _size(self, segment: str) -> int | None:
        try:
            return (self.directory / segment).stat().st_size
        except OSError:
            return None

    async def _load(self) -> Cursor | None:
        raw = await self._store.get_fact(self._fact)
        return Cursor(**json.loads(raw)) if raw else None

    async def _save(self) -> None:
        assert self.cursor is not None
        await self._store.set_fact(self._fact, json.dumps(asdict(self.cursor)))

    def _cold_start(self, segments: list[str]) -> Cursor:
        if self._start == "replay":
            self.replaying = True
            log.info(
                "journal %s: importing the history on disk (%d segments) without posting it",
                self.directory,
                len(segments),
            )
            return Cursor(segments[0], 0)
        newest = segments[-1]
        return Cursor(newest, self._size(newest) or 0)

    async def run(self) -> None:
        """Follow the directory (run by the supervisor; a restart resumes from the saved cursor)."""
        self.cursor = await self._load()
        if self.cursor is None:
            segments = self._segments()
            # An empty journal: the first segment that appears is read from its start.
            self.cursor = self._cold_start(segments) if segments else Cursor(FIRST_SEGMENT, 0)
            await self._save()
        log.info("following the KGSM journal in %s", self.directory)
        while True:
            try:
                await self._poll()
            except OSError as exc:
                self._errors.log(
                    ("poll", exc.errno),
                    logging.WARNING,
                    "journal %s: %s; trying again",
                    self.directory,
                    exc,
                    summary=f"journal {self.directory}: {COUNT} more failed reads ({exc.strerror or exc})",
                )
            await asyncio.sleep(POLL_INTERVAL)

    async def _poll(self) -> None:
        segments = self._segments()
        if not segments:
            return
        assert self.cursor is not None
        if self.cursor.segment == FIRST_SEGMENT:
            self.cursor = Cursor(segments[0], 0)
        if not self._acceptable(self.cursor.segment):
            log.warning(
                "journal %s: the saved cursor names the segment %s, which is ignored (see above); starting over as "
                "on a cold start",
                self.directory,
                self.cursor.segment,
            )
            self.cursor = self._cold_start(segments)
            await self._save()
        cursor = self.cursor
        if cursor.previous is not None and not self._acceptable(cursor.previous):
            cursor.previous = None
        size = self._size(cursor.segment)
        if size is None or size < cursor.offset:
            what = "was pruned" if size is None else "is shorter than where reading stopped"
            await self._gap(f"segment {cursor.segment} {what}", segments[0])
            return
        if cursor.previous is not None:
            if time.time() <= cursor.previous_until:
                cursor.previous_offset = await self._read(cursor.previous, cursor.previous_offset)
            else:
                cursor.previous = None
        cursor.offset = await self._read(cursor.segment, cursor.offset)
        later = [segment for segment in segments if segment > cursor.segment]
        if later and cursor.offset >= (self._size(cursor.segment) or 0):
            self.cursor = Cursor(later[0], 0, cursor.segment, cursor.offset, time.time() + STRAGGLER_WINDOW)
            await self._save()
        elif self.replaying and not later:
            self.replaying = False
            log.info("journal %s: history imported; new events are posted from now on", self.directory)

    async def _gap(self, what: str, oldest: str) -> None:
        message = (
            f"The KGSM journal in `{self.directory}` has a gap: {what}. Events in between were lost to this "
            f"bot; reading continues from the oldest segment on disk ({oldest})."
        )
        log.warning("journal %s: gap: %s; continuing from %s", self.directory, what, oldest)
        await self._report_gap(message)
        self.cursor = Cursor(oldest, 0)
        await self._save()

    async def _read(self, segment: str, offset: int) -> int:
        """Hand on every complete line after `offset`; returns the offset after the last one handed on."""
        async with aiofiles.open(self.directory / segment, "rb") as journal:
            while True:
                await journal.seek(offset)
                data = await journal.read(READ_CHUNK)
                end = data.rfind(b"\n")
                if end >= 0:
                    offset = await self._take_lines(segment, offset, data[: end + 1])
                elif len(data) == READ_CHUNK:
                    # A "line" longer than any event: skip it rather than wait forever for its end.
                    detail = f"a line of {segment} is longer than {READ_CHUNK} bytes; skipped"
                    self._intake.refuse(RefusalReason.TOO_LARGE, detail, source=SOURCE, peer=str(self.directory))
                    offset += len(data)
                else:
                    return offset

    async def _take_lines(self, segment: str, offset: int, lines: bytes) -> int:
        """Hand on `lines` (complete ones, from `offset`); the cursor moves past them once all are safe.

        Within a long chunk it also moves, at most every `SAVE_INTERVAL` seconds, past the lines whose events
        are safe already: a sink that is slow per line (the relay, one HTTP round trip each) then repeats
        only the last moments after a crash, not the whole chunk.
        """
        source = REPLAY_SOURCE if self.replaying else SOURCE
        stored: deque[asyncio.Future[bool]] = deque()  # not known to be safe yet, oldest first
        position = offset
        saved_at = time.monotonic()
        for count, line in enumerate(lines.splitlines(keepends=True), start=1):
            await pause_every(count, YIELD_EVERY)  # a chunk of junk lines must not hold up the rest of the bot
            position += len(line)
            if line.strip():
                future = await self._intake.take(
                    line.rstrip(b"\r\n"), source=source, peer=f"{self.directory}/{segment}", producer=self.producer
                )
                if future is not None:
                    stored.append(future)
            if time.monotonic() - saved_at >= SAVE_INTERVAL:
                while stored and _safe(stored[0]):
                    stored.popleft()
                if not stored:  # every line up to `position` is safe
                    await self._advance(segment, position)
                    saved_at = time.monotonic()
        if stored:
            await asyncio.gather(*stored)  # the cursor moves only past stored events
        new_offset = offset + len(lines)
        await self._advance(segment, new_offset)
        return new_offset

    async def _advance(self, segment: str, offset: int) -> None:
        assert self.cursor is not None
        if segment == self.cursor.segment:
            self.cursor.offset = offset
        else:
            self.cursor.previous_offset = offset
        await self._save()


def _safe(future: asyncio.Future[bool]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
