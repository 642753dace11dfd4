"""The relay's own cursors: one row per journal in `<data dir>/relay.sqlite3`, nothing else.

The journal follower saves its cursor only after the central bot acknowledged every event up to it; SQLite
commits each save before the follower reads on, so a `kill -9` loses nothing and repeats at most the lines
sent since the last save (which the central bot recognises by their `Id`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from bot.config import StartupError

FILE_NAME = "relay.sqlite3"


class CursorFile:
    """The follower's `CursorStore` (`get_fact`/`set_fact`), over its own small SQLite file."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, data_dir: Path) -> CursorFile:
        path = data_dir / FILE_NAME
        try:
            await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
            db = await aiosqlite.connect(path)
            await db.execute("CREATE TABLE IF NOT EXISTS cursors (journal TEXT PRIMARY KEY, cursor TEXT NOT NULL)")
            await db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise StartupError(f"BOT_DATA_DIR: cannot keep the relay's cursors in {path} ({exc})") from exc
        return cls(db)

    async def get_fact(self, key: str) -> str | None:
        async with self._db.execute("SELECT cursor FROM cursors WHERE journal = ?", (key,)) as rows:
            row = await rows.fetchone()
        return str(row[0]) if row else None

    async def set_fact(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO cursors (journal, cursor) VALUES (?, ?) "
            "ON CONFLICT (journal) DO UPDATE SET cursor = excluded.cursor",
            (key, value),
        )
        await self._db.commit()

    async def close(self) -> None:
        await self._db.close()
