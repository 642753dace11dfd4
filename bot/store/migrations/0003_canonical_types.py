"""The canonical (dotted) event types everywhere in history (issue 12), the V2 grades and the producer of
each event, and when each operation run last heard from KGSM.

Types stored under a legacy spelling (`instance_started`) are renamed to their canonical one
(`server.started`) with the family the vocabulary gives it, in events, in the steps of operation runs and in
/notify mutes, so nothing above the parser ever meets two names for one thing.
"""

from __future__ import annotations

import json
import sqlite3

from bot.events import FAMILIES, canonical_type, kind_of


def migrate(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE events ADD COLUMN severity TEXT")
    db.execute("ALTER TABLE events ADD COLUMN outcome TEXT")
    db.execute("ALTER TABLE events ADD COLUMN producer TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN heard_at REAL NOT NULL DEFAULT 0")
    db.execute("UPDATE runs SET heard_at = updated_at")

    for (stored,) in db.execute("SELECT DISTINCT type FROM events").fetchall():
        event_type = canonical_type(stored)
        family = kind_of(event_type).family.value
        db.execute("UPDATE events SET type = ?, family = ? WHERE type = ?", (event_type, family, stored))

    for run_id, steps, failed_step in db.execute("SELECT id, steps, failed_step FROM runs").fetchall():
        canonical = list(dict.fromkeys(canonical_type(step) for step in json.loads(steps)))
        failed = canonical_type(failed_step) if failed_step else None
        db.execute("UPDATE runs SET steps = ?, failed_step = ? WHERE id = ?", (json.dumps(canonical), failed, run_id))

    for target, scope, muted in db.execute("SELECT target, scope, muted FROM mute_rules").fetchall():
        if target in FAMILIES:
            continue
        renamed = canonical_type(target)
        if renamed != target:
            db.execute("DELETE FROM mute_rules WHERE target = ? AND scope = ?", (target, scope))
            db.execute(
                "INSERT INTO mute_rules (target, scope, muted) VALUES (?, ?, ?) "
                "ON CONFLICT (target, scope) DO UPDATE SET muted = excluded.muted",
                (renamed, scope, muted),
            )
