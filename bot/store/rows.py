"""Events as rows of the `events` table, and back."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.events import Event, Outcome, Severity, kind_of
from bot.events.parsing import freeze, thaw
from bot.runtime import jsontext

EVENT_COLUMNS = (
    "id, type, family, instance, blueprint, host, actor, origin, producer_version, envelope_version, summary, "
    "source, timestamp, received_at, data, severity, outcome, producer"
)


@dataclass(frozen=True, slots=True)
class StateFacts:
    """The few columns of a stored event that `bot.store.state.advance` reads."""

    instance: str
    host: str | None
    type: str
    timestamp: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event: Event


def seconds_of(moment: datetime) -> float:
    return moment.timestamp()


def moment_of(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def event_row(event: Event) -> tuple[Any, ...]:
    """The values of `EVENT_COLUMNS` for one event."""
    return (
        event.id,
        event.type,
        event.family.value,
        event.instance,
        event.blueprint,
        event.host,
        event.actor,
        event.origin,
        event.producer_version,
        event.envelope_version,
        event.summary,
        event.source,
        seconds_of(event.timestamp),
        seconds_of(event.received_at),
        jsontext.dumps(thaw(event.data)),
        event.severity.value,
        event.outcome.value,
        event.producer,
    )


def stored_event(row: sqlite3.Row) -> StoredEvent:
    """An event as stored (a row of `seq` and `EVENT_COLUMNS`)."""
    data = jsontext.loads(row["data"])
    kind = kind_of(row["type"], data)
    event = Event(
        id=row["id"],
        type=row["type"],
        data=freeze(data),
        kind=kind,
        severity=Severity(row["severity"]) if row["severity"] else kind.severity,
        outcome=Outcome(row["outcome"]) if row["outcome"] else kind.outcome,
        producer=row["producer"],
        timestamp=moment_of(row["timestamp"]),
        received_at=moment_of(row["received_at"]),
        instance=row["instance"],
        blueprint=row["blueprint"],
        host=row["host"],
        actor=row["actor"],
        origin=row["origin"],
        producer_version=row["producer_version"],
        envelope_version=row["envelope_version"],
        summary=row["summary"],
        source=row["source"],
    )
    return StoredEvent(row["seq"], event)
