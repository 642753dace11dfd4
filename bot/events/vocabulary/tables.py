"""Reading the vocabulary's tables: one TOML file per family, in this package, checked as they are read.

A family's file names its `family` and the `subject` its events are about, then one `[[kinds]]` table per
event type (see `EventKind` for what each key means). A misspelt key, an unknown state, role or grade, or a
type listed twice stops the bot at import time with the file and the entry named: a wrong table is a bug,
found by the first test that imports the bot.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

from bot.events.model import EventKind, Family, Outcome, Role, Severity, State, Subject, Tone, Transition

# The order of the files is the order of operations' checklists where a step belongs to several of them.
FAMILY_FILES = (
    "install",
    "update",
    "lifecycle",
    "backup",
    "uninstall",
    "network",
    "players",
    "config",
    "blueprint",
    "library",
    "host",
    "component",
    "auth",
    "other",
    "test",
)
_KEYS = frozenset(
    {
        "type",
        "legacy",
        "label",
        "emoji",
        "subject",
        "severity",
        "outcome",
        "tone",
        "phase",
        "quiet",
        "state",
        "only_from",
        "steps",
        "severity_key",
        "sentence",
        "alert",
    }
)


class TableError(ValueError):
    """An entry of a vocabulary file that does not say what an event means."""


def _kind(family: Family, subject: Subject, row: Mapping[str, Any]) -> EventKind:
    unknown = set(row) - _KEYS
    if unknown:
        raise TableError(f"unknown keys {sorted(unknown)}")
    transition = None
    if "state" in row:
        only_from = row.get("only_from")
        transition = Transition(
            State(row["state"]), frozenset(State(state) for state in only_from) if only_from is not None else None
        )
    return EventKind(
        type=row["type"],
        family=family,
        subject=Subject(row.get("subject", subject)),
        label=row["label"],
        emoji=row["emoji"],
        severity=Severity(row.get("severity", Severity.INFO)),
        outcome=Outcome(row.get("outcome", Outcome.NEUTRAL)),
        tone=Tone(row.get("tone", Tone.NEUTRAL)),
        sentence=row.get("sentence"),
        transition=transition,
        steps={operation: Role(role) for operation, role in row.get("steps", {}).items()},
        legacy=tuple(row.get("legacy", ())),
        phase=bool(row.get("phase", False)),
        quiet=bool(row.get("quiet", False)),
        severity_key=row.get("severity_key"),
        alert=bool(row.get("alert", False)),
    )


def read_family(name: str) -> Iterator[EventKind]:
    text = resources.files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    document = tomllib.loads(text)
    family, subject = Family(document["family"]), Subject(document["subject"])
    for number, row in enumerate(document["kinds"], start=1):
        try:
            yield _kind(family, subject, row)
        except (KeyError, ValueError, TypeError) as exc:
            raise TableError(f"{name}.toml, entry {number} ({row.get('type', '?')}): {exc}") from exc


def read_tables() -> tuple[EventKind, ...]:
    """Every entry of every family, checked: each type and each legacy spelling is listed once."""
    kinds = tuple(kind for name in FAMILY_FILES for kind in read_family(name))
    seen: set[str] = set()
    for kind in kinds:
        for name in (kind.type, *kind.legacy):
            if name in seen:
                raise TableError(f"{name} is listed twice")
            seen.add(name)
    return kinds
