"""A long history, made the way a user gets one: the bot's own journal-replay import (`KGSM_JOURNAL_START=replay`).

A journal segment of `count` compact KGSM events (32 servers living through busy days) is written, `python -m bot`
(dry-run) imports it, and the database it leaves is kept under /tmp, named after the count and the schema version,
so that later runs of the benchmarks start from a copy instead of importing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.kgsm import busy_days
from bench.load import stored
from bench.processes import bot_settings, running, scratch, spawn, wait_until
from bot.store import migrations
from bot.store.database import DATABASE_NAME

CACHE = Path("/tmp/kgsm-bench-history")
SERVERS = 32
IMPORT_TIMEOUT = 3600.0


def _schema() -> str:
    """The schema version and a digest of the schema a new database gets: a changed schema makes a new history."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / DATABASE_NAME
        migrations.apply(path)
        with contextlib.closing(sqlite3.connect(path)) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            schema = "\n".join(row[0] for row in db.execute("SELECT sql FROM sqlite_master ORDER BY name") if row[0])
    return f"{version}-{hashlib.sha256(schema.encode()).hexdigest()[:8]}"


def _complete(path: Path, count: int) -> bool:
    if not path.exists():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0]) == count


def _journal(directory: Path, count: int) -> Path:
    """A journal directory holding one segment of `count` events, one compact line each, as KGSM writes it."""
    journal = directory / "journal"
    journal.mkdir()
    with (journal / f"{datetime.now(UTC):%Y-%m-%d}.ndjson").open("wb") as segment:
        for payload in busy_days("history", count, 0, servers=SERVERS):
            segment.write(json.dumps(json.loads(payload), separators=(",", ":")).encode() + b"\n")
    return journal


def _imported(directory: Path, count: int) -> bool:
    try:
        return stored(directory) >= count
    except sqlite3.OperationalError:  # not created, or not migrated, yet
        return False


def _keep(made: Path, cached: Path) -> None:
    """Fold the write-ahead log into the database file (a bot stopped by force leaves it), then keep the file."""
    with contextlib.closing(sqlite3.connect(made)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    cached.parent.mkdir(exist_ok=True)
    made.replace(cached)


async def journal_history(count: int) -> Path:
    """The path of a database holding `count` events imported from a journal (made once, then reused)."""
    cached = CACHE / f"history-{count}-schema{_schema()}.sqlite3"
    if _complete(cached, count):
        return cached
    with scratch() as directory:
        journal = _journal(directory, count)
        settings = bot_settings(
            directory, KGSM_JOURNAL_DIR=str(journal), KGSM_JOURNAL_START="replay", KGSM_HISTORY_DAYS="36500"
        )
        async with running(await spawn("bot", cwd=directory, settings=settings)):
            await wait_until(lambda: _imported(directory, count), IMPORT_TIMEOUT, "the import", interval=1.0)
        _keep(directory / "data" / DATABASE_NAME, cached)
    return cached
