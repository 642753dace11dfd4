"""What /healthz and /metrics report, from the parts the bot hands over (never the bot itself).

/healthz answers 200 only when every part works, so a container orchestrator restarts a bot that went deaf
or lost its disk; else 503 naming each problem in plain words. A Discord outage is shown (the outbox depth,
the gateway) but is no problem of the bot's: no restart would fix it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.delivery.messages import DeliveryStats
from bot.delivery.outbox import Outbox
from bot.runtime.supervisor import Supervisor
from bot.sources.stats import IntakeStats
from bot.store.database import Store
from bot.store.recorder import Recorder
from bot.store.state import ComponentBook, StateBook
from bot.web import metrics


class EventSource(Protocol):
    """The socket source, as /healthz sees it."""

    @property
    def path(self) -> Path: ...
    @property
    def healthy(self) -> bool: ...
    @property
    def problem(self) -> str | None: ...


@dataclass(frozen=True)
class HealthParts:
    store: Store
    source: EventSource
    supervisor: Supervisor
    recorder: Recorder
    outbox: Outbox
    stats: IntakeStats
    delivery: DeliveryStats
    states: StateBook
    components: ComponentBook
    journals: Callable[[], Iterable[Path]]
    gateway: Callable[[], str]  # "connected", "disconnected", "closed" or "dry-run"

    def last_event_age(self) -> float | None:
        last = self.stats.last_event_monotonic
        return None if last is None else round(time.monotonic() - last, 3)


async def health(parts: HealthParts) -> tuple[int, dict[str, Any]]:
    """The status code and body of /healthz."""
    store_ok = await parts.store.writable()
    problems: dict[str, str] = {}
    source_problem = parts.source.problem
    if source_problem is not None:
        problems["source"] = source_problem
    if not store_ok:
        problems["store"] = parts.store.problem or f"the database {parts.store.path} cannot be written"
    for name, why in parts.supervisor.problems().items():
        problems[f"task {name}"] = why
    body: dict[str, Any] = {
        "status": "unhealthy" if problems else "ok",
        "problems": problems,
        "source": {
            "listening": source_problem is None,
            "path": str(parts.source.path),
            "problem": source_problem,
            "rebinds": parts.stats.rebinds,
        },
        "journals": sorted(str(path) for path in parts.journals()),
        "waiting_to_be_stored": parts.recorder.pending,
        "components": {
            f"{c.host}:{c.name}" if c.host else c.name: {"status": c.status, "detail": c.detail}
            for c in parts.components.all()
        },
        "store": {"writable": store_ok},
        "gateway": parts.gateway(),
        "outbox_depth": await parts.outbox.depth() if store_ok else None,
        "last_event_age_seconds": parts.last_event_age(),
    }
    return (503 if problems else 200), body


async def metrics_text(parts: HealthParts) -> bytes:
    """/metrics as Prometheus text."""
    delivery = parts.delivery
    snapshot = metrics.Snapshot(
        received=parts.stats.received,
        accepted=parts.stats.accepted,
        refused=dict(parts.stats.refused),
        rebinds=parts.stats.rebinds,
        messages={
            "posted": delivery.messages_posted,
            "edited": delivery.messages_edited,
            "failed": delivery.failed,
            "pings": delivery.pings_posted,
        },
        threads={"opened": delivery.threads_opened, "refused": delivery.threads_refused},
        embeds=delivery.embeds_posted,
        outbox_depth=await parts.outbox.depth(),
        duplicates=parts.recorder.duplicates,
        delivery_retries=delivery.retries,
        source_healthy=parts.source.healthy,
        last_event_age=parts.last_event_age(),
        states=dict(Counter(state.state.value for state in parts.states.all())),
        task_restarts=dict(parts.supervisor.restarts),
    )
    return metrics.render(snapshot)
