"""/uptime and the daily digest at a million events: reading one server's window of history and computing it.

A database of 1,000,000 events is made once (20 servers on one host over 90 days, at random times: four in five
player joins and leaves, the rest crashes, restarts, readiness and backups, as a busy host's history looks; written
straight into the bot's migrated schema, so that generating it is not measured). Then, five runs each: what /uptime
computes for every server over 7 days (`bot.store.history.uptime_of` for the 20 servers, as the command does before
it draws), and what the daily digest computes for one day of every server (`server_history` and `day_summary`).
The baseline reads the same rows with a bare `SELECT` of the server's window (all its events of the 7 days), on the
same database: what SQLite alone costs to fetch the window, without state, gaps or the digest's counting.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.processes import scratch
from bench.report import Row
from bench.stats import median
from bot.store.daily import DIGEST_TYPES, day_summary
from bot.store.database import DATABASE_NAME, Store
from bot.store.history import server_history, uptime_of
from bot.store.recording import BEFORE_ALL

TITLE = "Uptime and digest"
EVENTS = 1_000_000
SERVERS = 20
DAYS = 90
RUNS = 5
GOAL = 3.0  # seconds: /uptime is deferred, but a member should not wait
END = datetime(2026, 11, 30, tzinfo=UTC)
_TYPES = ["player.joined"] * 8 + ["player.left"] * 8 + ["server.crashed", "server.restarted", "server.ready"]
_TYPES += ["backup.created"]
_FAMILIES = {"player": "players", "server": "lifecycle", "backup": "backup"}


def _server(index: int) -> str:
    return f"server-{index:02d}"


async def _history(directory: Path) -> Store:
    store = Store(directory)
    await store.open()  # the schema, migrated
    await store.close()
    randomly = random.Random(15)
    start = END - timedelta(days=DAYS)
    rows = []
    for n in range(EVENTS):
        name = _server(n % SERVERS)
        moment = (start + timedelta(seconds=randomly.random() * DAYS * 86400)).timestamp()
        kind = randomly.choice(_TYPES)
        data = json.dumps({"InstanceName": name, "PlayerName": f"player-{n % 50}"})
        rows.append((f"id-{n}", kind, _FAMILIES[kind.split(".")[0]], name, "gamehost", "socket", moment, moment, data))
    with contextlib.closing(sqlite3.connect(directory / DATABASE_NAME)) as db, db:
        db.executemany(
            "INSERT INTO events (id, type, family, instance, host, source, timestamp, received_at, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    store = Store(directory)
    await store.open()
    return store


async def _uptime(store: Store) -> float:
    began = time.perf_counter()
    for index in range(SERVERS):
        await uptime_of(store, [(BEFORE_ALL, END)], _server(index), "gamehost", END - timedelta(days=7), END)
    return time.perf_counter() - began


async def _digest(store: Store) -> float:
    began = time.perf_counter()
    start = END - timedelta(days=1)
    for index in range(SERVERS):
        facts = await server_history(store, _server(index), "gamehost", start, END, DIGEST_TYPES)
        day_summary(facts, [(BEFORE_ALL, END)], start, END)
    return time.perf_counter() - began


async def _bare(store: Store, days: int) -> float:
    began = time.perf_counter()
    query = "SELECT * FROM events WHERE instance = ? COLLATE NOCASE AND timestamp >= ? AND timestamp < ?"
    async with store.session() as db:
        for index in range(SERVERS):
            window = (_server(index), (END - timedelta(days=days)).timestamp(), END.timestamp())
            async with db.execute(query, window) as cursor:
                await cursor.fetchall()
    return time.perf_counter() - began


def _row(name: str, bot: list[float], bare: list[float], *, goal: bool) -> Row:
    seconds, baseline = median(bot), median(bare)
    return Row(
        benchmark=name,
        bot=f"{seconds:.2f} s",
        baseline=f"{baseline:.2f} s",
        ratio=f"{seconds / baseline:.1f}×",
        goal=f"< {GOAL:g} s" if goal else "—",
        met=seconds < GOAL if goal else None,
        runs=f"bot {', '.join(f'{v:.2f}' for v in bot)}; baseline {', '.join(f'{v:.2f}' for v in bare)}",
    )


async def measure() -> list[Row]:
    with scratch() as directory:
        store = await _history(directory)
        try:
            uptime = [await _uptime(store) for _ in range(RUNS)]
            week = [await _bare(store, 7) for _ in range(RUNS)]
            digest = [await _digest(store) for _ in range(RUNS)]
            day = [await _bare(store, 1) for _ in range(RUNS)]
        finally:
            await store.close()
    return [
        _row(f"/uptime, {SERVERS} servers × 7 days, {EVENTS:,} events stored", uptime, week, goal=True),
        _row(f"daily digest, {SERVERS} servers × 1 day, {EVENTS:,} events stored", digest, day, goal=True),
    ]
