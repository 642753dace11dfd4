"""Numbered migrations, applied in order at start-up; `PRAGMA user_version` is the last one applied.

A migration is `NNNN_name.sql` (a script) or `NNNN_name.py` (a module with `migrate(db)`, for changes that need
the bot's own knowledge, such as the vocabulary). Each runs in one transaction on a plain `sqlite3` connection
before the store opens its own, so a migration that fails leaves the database as it was.
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
from collections.abc import Callable
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Migration:
    def run(db: sqlite3.Connection) -> None:
        for statement in sqlite3_statements(sql):
            db.execute(statement)

    return run


def sqlite3_statements(sql: str) -> list[str]:
    """The statements of a script, split where sqlite3 says a statement is complete."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return [statement for statement in statements if statement.strip(" ;\n")]


def migrations() -> list[tuple[int, str, Migration]]:
    """(number, name, migration) of every migration in this package, in order."""
    found: list[tuple[int, str, Migration]] = []
    for entry in resources.files(__name__).iterdir():
        name = entry.name
        if not name[:4].isdigit():
            continue
        if name.endswith(".sql"):
            found.append((int(name[:4]), name, _script(entry.read_text(encoding="utf-8"))))
        elif name.endswith(".py"):
            module = importlib.import_module(f"{__name__}.{name.removesuffix('.py')}")
            found.append((int(name[:4]), name, module.migrate))
    return sorted(found, key=lambda item: item[0])


def apply(path: Path) -> list[int]:
    """Bring the database at `path` up to the newest migration; returns the numbers applied."""
    applied = []
    db = sqlite3.connect(path, isolation_level=None)
    try:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        for number, name, migration in migrations():
            if number <= current:
                continue
            log.info("applying database migration %s", name)
            db.execute("BEGIN IMMEDIATE")
            try:
                migration(db)
                db.execute(f"PRAGMA user_version = {number}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            applied.append(number)
    finally:
        db.close()
    return applied
