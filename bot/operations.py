"""Multi-step operations: the events of one install, update, uninstall, backup, restore, restart or stop of
an instance belong together and are shown as one message, edited in place as steps arrive.

KGSM emits an install as about 13 events within seconds; posting each would spend a channel's rate limit
and bury the channel. The tracker groups them into runs: a start event opens a run, its steps attach to it,
an end event completes it and a `*_failed` event fails it. A step that arrives shortly after its run ended
(KGSM's order between `*_finished` and the final event varies) still attaches to that run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.events import Event

LATE_STEP_GRACE = timedelta(seconds=30)
STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class OperationKind:
    name: str
    running: str  # "Installing"
    done: str  # "installed"
    start: str
    steps: tuple[str, ...]  # the expected checklist, start and end included
    ends: frozenset[str]
    failures: frozenset[str]
    extras: frozenset[str] = frozenset()  # other events that belong to a run while it is open

    @property
    def members(self) -> frozenset[str]:
        return frozenset(self.steps) | self.ends | self.failures | self.extras


def _kind(name: str, running: str, done: str, steps: str, ends: str, failures: str, extras: str = "") -> OperationKind:
    step_types = tuple(f"instance_{step}" for step in steps.split())
    return OperationKind(
        name=name,
        running=running,
        done=done,
        start=step_types[0],
        steps=step_types,
        ends=frozenset(f"instance_{end}" for end in ends.split()),
        failures=frozenset(f"instance_{failure}" for failure in failures.split()),
        extras=frozenset(f"instance_{extra}" for extra in extras.split()),
    )


_DOWNLOAD_DEPLOY = "download_started download_finished downloaded deploy_started deploy_finished deployed"

OPERATIONS: dict[str, OperationKind] = {
    kind.name: kind
    for kind in (
        _kind(
            "install",
            "Installing",
            "installed",
            "installation_started created directories_created files_created download_started download_finished "
            "downloaded deploy_started deploy_finished deployed installation_finished installed",
            "installed",
            "download_failed deploy_failed",
            "version_updated ports_opened upnp_opened",
        ),
        _kind(
            "update",
            "Updating",
            "updated",
            "update_started update_finished updated",
            "updated",
            "update_failed download_failed deploy_failed",
            f"version_updated {_DOWNLOAD_DEPLOY} stopped started stop_started stop_finished",
        ),
        _kind(
            "uninstall",
            "Uninstalling",
            "uninstalled",
            "uninstall_started files_removed directories_removed removed uninstall_finished uninstalled",
            "uninstalled",
            "uninstall_failed",
            "stopped ports_closed upnp_closed",
        ),
        _kind(
            "backup", "Backing up", "backed up", "backup_started backup_created backup_finished", "backup_finished", ""
        ),
        _kind(
            "restore",
            "Restoring",
            "restored",
            "restore_started backup_restored restore_finished",
            "restore_finished",
            "",
            "stopped started",
        ),
        _kind(
            "restart",
            "Restarting",
            "restarted",
            "restart_started restart_stopped restart_finished restarted",
            "restarted",
            "",
            "stopped started",
        ),
        _kind("stop", "Stopping", "stopped", "stop_started stop_finished stopped", "stopped", ""),
    )
}
_BY_START = {kind.start: kind for kind in OPERATIONS.values()}


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class Run:
    """One operation of one instance, as far as its events have told."""

    id: int
    instance: str
    kind: OperationKind
    status: RunStatus
    steps: list[str]
    started_at: datetime
    updated_at: datetime
    version: int = 1
    failed_step: str | None = None
    actor: str | None = None
    host: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status is not RunStatus.RUNNING

    def take(self, event: Event) -> None:
        """Add one event's step (and what it tells) to the run."""
        if event.type not in self.steps:
            self.steps.append(event.type)
        if event.type in self.kind.failures:
            self.status = RunStatus.FAILED
            self.failed_step = event.type
        elif event.type in self.kind.ends and self.status is RunStatus.RUNNING:
            self.status = RunStatus.DONE
        self.actor = self.actor or event.actor
        self.host = self.host or event.host
        for key in ("Blueprint", "OldVersion", "NewVersion", "Version", "Source"):
            value = event.data.get(key)
            if value is not None:
                self.details[key] = str(value)
        self.updated_at = max(self.updated_at, event.timestamp)
        self.version += 1


def opens_run(event: Event) -> OperationKind | None:
    return _BY_START.get(event.type) if event.instance else None


def belongs_to(run: Run, event: Event, now: datetime) -> bool:
    """Whether `event` is a step of `run`: while it is open, or a late step just after it ended."""
    if event.instance is None or event.instance.lower() != run.instance.lower():
        return False
    if event.type not in run.kind.members or event.type == run.kind.start:
        return False
    if not run.finished:
        return now - run.updated_at <= STALE_AFTER
    return event.type in run.kind.members - run.kind.extras and now - run.updated_at <= LATE_STEP_GRACE
