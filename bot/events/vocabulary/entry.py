"""How a family module declares its entries: one `entry(...)` per canonical event type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.events.model import EventKind, Family, Outcome, Role, Severity, State, Subject, Tone, Transition


@dataclass(frozen=True)
class Draft:
    """An entry before its family module has said which family and subject kind it belongs to."""

    fields: dict[str, Any]
    subject: Subject | None


def entry(
    type: str,
    label: str,
    emoji: str,
    *,
    legacy: str = "",
    sentence: str | None = None,
    severity: Severity = Severity.INFO,
    outcome: Outcome = Outcome.NEUTRAL,
    tone: Tone = Tone.NEUTRAL,
    state: State | None = None,
    only_from: tuple[State, ...] | None = None,
    ops: str = "",
    phase: bool = False,
    quiet: bool = False,
    severity_key: str | None = None,
    subject: Subject | None = None,
) -> Draft:
    """One event type. `legacy` lists KGSM's older spellings (space-separated); `ops` its operation steps
    as `operation:role` pairs (`"install:step update:step"`)."""
    steps = {}
    for pair in ops.split():
        operation, _, role = pair.partition(":")
        steps[operation] = Role(role)
    transition = None
    if state is not None:
        transition = Transition(state, frozenset(only_from) if only_from is not None else None)
    fields: dict[str, Any] = {
        "type": type,
        "label": label,
        "emoji": emoji,
        "legacy": tuple(legacy.split()),
        "sentence": sentence,
        "severity": severity,
        "outcome": outcome,
        "tone": tone,
        "transition": transition,
        "steps": steps,
        "phase": phase,
        "quiet": quiet,
        "severity_key": severity_key,
    }
    return Draft(fields, subject)


def declare(family: Family, subject: Subject, *drafts: Draft) -> tuple[EventKind, ...]:
    """A family's entries, in the order its operations' checklists show them."""
    return tuple(EventKind(family=family, subject=draft.subject or subject, **draft.fields) for draft in drafts)
