"""How the filters of /events (a server, event types) become SQL over the `events` table.

A family is asked as its event types (`bot.events.types_of` the types the bot has seen), not through an index
of its own: writing one index fewer for every
stored event is worth about 3% of intake in a burst and 10 µs of CPU per event (measured with the intake
benchmark), and a family's types are few. Its newest events are then each type's newest rows, read from the
type's index (`events_by_type`: type, then arrival) and merged, so a page costs a few index seeks per type
however many events are stored. Past `MOST_MERGED` types (a host inventing event names) one query reads them
all, slower but still right.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from bot.runtime import jsontext
from bot.store.rows import EVENT_COLUMNS

MOST_MERGED = 32  # types merged one query each; SQLite allows 500 terms in one compound query


@dataclass(frozen=True)
class Filters:
    """A server (compared without case) and the event types wanted; `types` None: any type, empty: none."""

    instance: str | None = None
    types: tuple[str, ...] | None = None

    @classmethod
    def of(cls, instance: str | None, types: Collection[str] | None) -> Filters:
        """Each type once: a type is one query of the merge."""
        return cls(instance, None if types is None else tuple(dict.fromkeys(types)))

    @property
    def matches_nothing(self) -> bool:
        return self.types is not None and not self.types


def _where(filters: Filters, types: tuple[str, Sequence[Any]] | None, before_seq: int | None) -> tuple[str, list[Any]]:
    """The WHERE clause of `filters`, with `types` as (clause, its parameters), and its parameters in order."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.instance is not None:
        clauses.append("instance = ? COLLATE NOCASE")
        params.append(filters.instance)
    if types is not None:
        clauses.append(types[0])
        params.extend(types[1])
    if before_seq is not None:
        clauses.append("seq < ?")
        params.append(before_seq)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _one_of(types: tuple[str, ...]) -> tuple[str, Sequence[Any]]:
    """The clause for `types`: one parameter for one type, else a JSON array (no limit on how many)."""
    if len(types) == 1:
        return "type = ?", types
    return "type IN (SELECT value FROM json_each(?))", [jsontext.dumps(list(types))]


def page_query(filters: Filters, before_seq: int | None, limit: int) -> tuple[str, list[Any]]:
    """The newest `limit` events matching `filters` (older than `before_seq` when given), newest first: `seq`
    and `EVENT_COLUMNS`. Not for `matches_nothing` filters."""
    select = f"SELECT seq, {EVENT_COLUMNS} FROM events"
    types = filters.types
    if types is not None and 1 < len(types) <= MOST_MERGED:
        parts: list[str] = []
        params: list[Any] = []
        for name in types:
            where, values = _where(filters, _one_of((name,)), before_seq)
            parts.append(f"SELECT * FROM ({select} {where} ORDER BY seq DESC LIMIT ?)")
            params.extend([*values, limit])
        return f"{' UNION ALL '.join(parts)} ORDER BY seq DESC LIMIT ?", [*params, limit]
    where, params = _where(filters, None if types is None else _one_of(types), before_seq)
    return f"{select} {where} ORDER BY seq DESC LIMIT ?", [*params, limit]


def count_query(filters: Filters) -> tuple[str, list[Any]]:
    """How many events match `filters`. Not for `matches_nothing` filters."""
    where, params = _where(filters, None if filters.types is None else _one_of(filters.types), None)
    return f"SELECT COUNT(*) FROM events {where}", params
