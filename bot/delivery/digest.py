"""The daily digest: at `KGSM_DIGEST_TIME` (UTC), one message to `KGSM_DIGEST_CHANNEL_ID` with each server's
previous UTC day: uptime, crashes, updates, backups and peak players.

Once per day, whatever happens: `tick` runs every minute (and at start), works out the latest day whose
digest is due, and posts it through the outbox under the key `digest:YYYY-MM-DD`, which the outbox records
once per channel: a restart, or a crash between recording and posting, never doubles it. A bot that was not
running at the digest time posts the day it missed when it is back, late and saying so; of several missed
days only the latest (older ones would be stale news). A day without a single event is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from bot.delivery.lanes import Deliverer
from bot.delivery.poster import embed_json
from bot.events import State
from bot.render.uptime import render_digest
from bot.store.daily import DIGEST_TYPES, DaySummary, day_summary
from bot.store.database import Store
from bot.store.history import any_event, server_history, servers_active
from bot.store.recording import RecordingLog
from bot.store.state import StateBook

log = logging.getLogger(__name__)

FACT = "digest.last_day"  # the last day whose digest was posted or skipped
INTERVAL = 60.0
LATE_AFTER = timedelta(minutes=10)  # posted this long after its time, a digest says it is late
# A late digest waits this long after the bot starts: the journals replay the day's missed events first.
SETTLE = timedelta(minutes=2)
_GONE = (State.NOT_INSTALLED, State.UNINSTALLED)


def key_of(day: date) -> str:
    return f"digest:{day.isoformat()}"


def due_day(now: datetime, at: time) -> date:
    """The latest UTC day whose digest is due at `now`: yesterday from the digest time on, else the day before."""
    today = now.astimezone(UTC).date()
    due_at = datetime.combine(today, at.replace(tzinfo=UTC))
    return today - timedelta(days=1 if now >= due_at else 2)


class Digest:
    def __init__(
        self,
        store: Store,
        deliverer: Deliverer,
        states: StateBook,
        recording: RecordingLog,
        channel_id: int,
        at: time,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._deliverer = deliverer
        self._states = states
        self._recording = recording
        self._channel_id = channel_id
        self._at = at.replace(tzinfo=UTC)
        self._clock = clock
        self._started = clock()

    async def tick(self) -> None:
        now = self._clock()
        day = due_day(now, self._at)
        last = await self._store.get_fact(FACT)
        if last is not None and date.fromisoformat(last) >= day:
            return
        start = datetime.combine(day, time(0, tzinfo=UTC))
        end = start + timedelta(days=1)
        late = now - datetime.combine(day + timedelta(days=1), self._at) >= LATE_AFTER
        if late and now - self._started < SETTLE:
            return
        if await any_event(self._store, start, end):
            embed = embed_json(render_digest(day, await self.summaries(start, end), late=late))
            if await self._deliverer.post_once(key_of(day), self._channel_id, embed):
                log.info("daily digest of %s recorded for channel %s%s", day, self._channel_id, " (late)" * late)
        else:
            log.info("no event on %s: no daily digest for it", day)
        await self._store.set_fact(FACT, day.isoformat())

    async def summaries(self, start: datetime, end: datetime) -> list[tuple[str, DaySummary]]:
        """Every server that had an event that day or is installed, by title."""
        servers = {(s.name.lower(), (s.host or "").lower()): (s.name, s.host) for s in self._states.all()}
        wanted = {key for key, state in servers.items() if self._states_of(state) not in _GONE}
        for name, host in await servers_active(self._store, start, end):
            key = (name.lower(), (host or "").lower())
            servers.setdefault(key, (name, host))
            wanted.add(key)
        recorded = await self._recording.recorded()
        rows: list[tuple[str, DaySummary]] = []
        for key in sorted(wanted):
            name, host = servers[key]
            facts = await server_history(self._store, name, host, start, end, DIGEST_TYPES)
            rows.append((self._states.title_of(name, host) or name, day_summary(facts, recorded, start, end)))
        return sorted(rows, key=lambda row: row[0].lower())

    def _states_of(self, server: tuple[str, str | None]) -> State | None:
        name, host = server
        state = self._states.get(f"{host}:{name}" if host else name)
        return state.state if state is not None else None
