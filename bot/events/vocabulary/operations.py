"""Multi-step operations (an install, an update, …): their words, and their steps gathered from the table.

Which event types are steps of which operation is said by each type's entry (`ops="install:step …"`); this
module only adds what an operation is called while it runs and once it is done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.events.model import EventKind, Outcome, Role

# name → (while it runs, once done)
_WORDS = {
    "install": ("Installing", "installed"),
    "update": ("Updating", "updated"),
    "uninstall": ("Uninstalling", "uninstalled"),
    "backup": ("Backing up", "backed up"),
    "restore": ("Restoring", "restored"),
    "restart": ("Restarting", "restarted"),
    "stop": ("Stopping", "stopped"),
}

_RANK = {Role.OPEN: 0, Role.STEP: 1, Role.OPTIONAL: 1, Role.END: 2}


@dataclass(frozen=True)
class Operation:
    name: str
    running: str  # "Installing"
    done: str  # "installed"
    checklist: tuple[str, ...]  # the expected steps in order (failures and optional steps only when seen)
    opens: frozenset[str]
    ends: frozenset[str]
    members: frozenset[str]


def gather(kinds: Iterable[EventKind]) -> dict[str, Operation]:
    """Every operation with the steps the table gives it."""
    kinds = list(kinds)
    operations = {}
    for name, (running, done) in _WORDS.items():
        # Openers first and end markers last; in between, the table's order.
        members = sorted((kind for kind in kinds if name in kind.steps), key=lambda kind: _RANK[kind.steps[name]])
        roles = {kind.type: kind.steps[name] for kind in members}
        failing = {kind.type for kind in kinds if kind.outcome is Outcome.FAILURE}
        operations[name] = Operation(
            name=name,
            running=running,
            done=done,
            checklist=tuple(t for t, role in roles.items() if role is not Role.OPTIONAL and t not in failing),
            opens=frozenset(t for t, role in roles.items() if role is Role.OPEN),
            ends=frozenset(t for t, role in roles.items() if role is Role.END),
            members=frozenset(roles),
        )
    return operations
