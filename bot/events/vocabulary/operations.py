"""Multi-step operations (an install, an update, …): their words, and their steps gathered from the table.

Which event types are steps of which operation is said by each type's entry (`steps = { install = "step" }`);
this module only adds what an operation is called while it runs and once it is done, and whether its failure
is a danger that pings the alert role (`KGSM_ALERT_ROLE_ID`).

A crash incident (`incident`) is an operation of its own kind: the supervisor's steps repeat (one crash and
one restart per attempt), a crash does not fail it (only the supervisor giving up does), and nothing attaches
to it once it is over (see `bot.events.runs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.events.model import EventKind, Outcome, Role

INCIDENT = "incident"

# name → (while it runs, once done, whether its failure pings the alert role)
_WORDS = {
    "install": ("Installing", "installed", True),
    "update": ("Updating", "updated", True),
    "uninstall": ("Uninstalling", "uninstalled", True),
    "backup": ("Backing up", "backed up", False),
    "restore": ("Restoring", "restored", True),
    "restart": ("Restarting", "restarted", False),
    "stop": ("Stopping", "stopped", False),
    INCIDENT: ("Restarting", "recovered", True),
}

_RANK = {Role.OPEN: 0, Role.STEP: 1, Role.OPTIONAL: 1, Role.END: 2, Role.WHOLE: 2}


@dataclass(frozen=True)
class Operation:
    name: str
    running: str  # "Installing"
    done: str  # "installed"
    checklist: tuple[str, ...]  # the expected steps in order (failures and optional steps only when seen)
    opens: frozenset[str]
    ends: frozenset[str]
    members: frozenset[str]
    alerts: bool = False  # a failed run pings the alert role

    @property
    def incident(self) -> bool:
        return self.name == INCIDENT


def gather(kinds: Iterable[EventKind]) -> dict[str, Operation]:
    """Every operation with the steps the table gives it."""
    kinds = list(kinds)
    operations = {}
    for name, (running, done, alerts) in _WORDS.items():
        # Openers first and end markers last; in between, the table's order.
        members = sorted((kind for kind in kinds if name in kind.steps), key=lambda kind: _RANK[kind.steps[name]])
        roles = {kind.type: kind.steps[name] for kind in members}
        failing = {kind.type for kind in kinds if kind.outcome is Outcome.FAILURE}
        operations[name] = Operation(
            name=name,
            running=running,
            done=done,
            checklist=tuple(t for t, role in roles.items() if role is not Role.OPTIONAL and t not in failing),
            opens=frozenset(t for t, role in roles.items() if role in (Role.OPEN, Role.WHOLE)),
            ends=frozenset(t for t, role in roles.items() if role in (Role.END, Role.WHOLE)),
            members=frozenset(roles),
            alerts=alerts,
        )
    return operations
