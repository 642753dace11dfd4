"""Runs of multi-step operations: the events of one install, update, uninstall, backup, restore, restart or stop
of one server are one run, shown as one message edited in place.

What is a step of which operation comes from the vocabulary (`bot.events.vocabulary.operations`); this module
decides, as KGSM really sends them in every version (kgsm-events.md §7, fixtures/real/):

- A run is keyed by host and server, and opens at whichever of its openers arrives first (KGSM 1.7.3 sends
  `instance_created` before `instance_installation_started`: both belong to the same install).
- It is complete at the first end marker of its operation (`server.installed` in 1.x, then 3.16's
  `server.install.finished`; `server.update.finished` when no `server.update.completed` follows). A step of
  the same operation that arrives just after (KGSM's order between the two varies) still attaches to it.
- An event whose outcome is a failure fails the run, while it runs; a failure after the run completed is
  never folded in (it is announced on its own), so a finished green message is never turned red.
- An event that is not a step of the running operation (a start, a stop) is not absorbed: it is announced on
  its own.
- A run that hears nothing for `QUIET_AFTER` is shown honestly as "no news from KGSM since …"; a later step of
  it brings it back.

A crash incident (`Operation.incident`) is a run too: it opens at the supervisor's first `server.crashed` (or,
heard alone, its `server.crash.exhausted`), takes every crash and restart that follows (the supervisor sends one
of each per attempt, so a step repeats), is complete when the server is ready (else started) again, and fails
only when the supervisor gives up. Once over, nothing attaches to it: the next crash is a new incident. An
event from before its first crash (another producer's journal read late) is not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.events import OPERATIONS, Event, Outcome, reported
from bot.events.vocabulary.operations import Operation

CRASHED = "server.crashed"
RESTARTED = "server.restarted"
GAVE_UP = "server.crash.exhausted"
LATE_STEP_GRACE = timedelta(seconds=30)
QUIET_AFTER = timedelta(minutes=30)
DETAIL_KEYS = ("Blueprint", "OldVersion", "NewVersion", "Version", "Source", "Library", "ExitCode")


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    QUIET = "quiet"  # no news from KGSM for a while; not finished as far as anyone knows


@dataclass
class Run:
    """One operation of one server, as far as its events have told."""

    id: int
    instance: str
    kind: Operation
    status: RunStatus
    steps: list[str]
    started_at: datetime
    updated_at: datetime
    version: int = 1
    failed_step: str | None = None
    actor: str | None = None
    host: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    heard_at: datetime = field(default_factory=lambda: datetime.now(UTC))  # when its last event arrived

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)

    @property
    def key(self) -> str:
        return run_key(self.host, self.instance)

    def take(self, event: Event) -> bool:
        """Add one event's step (and what it tells) to the run; returns whether this event failed it."""
        if event.type not in self.steps:
            self.steps.append(event.type)
        was_finished = self.finished
        if not was_finished:
            # A crash is what an incident is made of; only its end (the supervisor giving up) fails it.
            if event.outcome is Outcome.FAILURE and (not self.kind.incident or event.type in self.kind.ends):
                self.status = RunStatus.FAILED
                self.failed_step = event.type
            elif event.type in self.kind.ends:
                self.status = RunStatus.DONE
            else:
                self.status = RunStatus.RUNNING
        self.actor = self.actor or event.actor
        self.host = self.host or event.host
        for key in DETAIL_KEYS:
            raw = event.data.get(key)
            if raw is not None and (value := reported(raw)) is not None:
                self.details[key] = value
        if self.kind.incident:
            self._count(event)
        self.updated_at = max(self.updated_at, event.timestamp)
        self.heard_at = event.received_at
        self.version += 1
        return not was_finished and self.status is RunStatus.FAILED

    def _count(self, event: Event) -> None:
        """What an incident message says: the attempt KGSM is at, how many crashes and restarts were heard, and
        after how many restarts the supervisor gave up (its `Restarts` counts the failures: the one it gave up
        at is not followed by a restart)."""
        given = reported(event.data.get("Restarts"))
        number = int(given) if given is not None and given.isdigit() else None
        if event.type == CRASHED:
            self.details["crashes"] = self.details.get("crashes", 0) + 1
            self.details["attempt"] = number
        elif event.type == RESTARTED:
            self.details["restarts"] = self.details.get("restarts", 0) + 1
        elif event.type == GAVE_UP:
            self.details["failures"] = number
            self.details["gave_up_after"] = number - 1 if number else self.details.get("restarts") or None

    def note(self, line: str) -> None:
        """A line the bot adds to the message (who pressed Restart on a gave-up incident, and how it went)."""
        self.details["notes"] = [*self.details.get("notes", []), line][-5:]
        self.version += 1

    def fall_quiet(self) -> None:
        self.status = RunStatus.QUIET
        self.version += 1


def run_key(host: str | None, instance: str) -> str:
    return f"{host or ''}:{instance}".lower()


def opens_run(event: Event) -> Operation | None:
    """The operation an event opens a run of, if it is one of an operation's openers."""
    if event.instance is None:
        return None
    return next((operation for operation in OPERATIONS.values() if event.type in operation.opens), None)


def belongs_to(run: Run, event: Event) -> bool:
    """Whether `event` is a step of `run` (see the module docstring)."""
    if event.instance is None or run_key(event.host, event.instance) != run.key:
        return False
    if event.type not in run.kind.members:
        return False
    if run.kind.incident:  # repeats, but nothing from before it began, and nothing once it is over
        return not run.finished and event.timestamp >= run.started_at
    if event.type in run.steps:
        return False
    if not run.finished:
        return True
    late = event.timestamp - run.updated_at <= LATE_STEP_GRACE
    return late and event.outcome is not Outcome.FAILURE and event.type not in run.kind.opens


def has_gone_quiet(run: Run, now: datetime) -> bool:
    return run.status is RunStatus.RUNNING and now - run.heard_at >= QUIET_AFTER
