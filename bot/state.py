"""What each instance is doing now, derived from its events (and rebuilt from the store after a restart)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.catalogue import CATALOGUE, Family, Severity


class State(StrEnum):
    NOT_INSTALLED = "not installed"
    INSTALLING = "installing"
    INSTALLED = "installed/offline"
    STARTING = "starting"
    ONLINE = "online"
    READY = "ready"
    STOPPING = "stopping"
    RESTARTING = "restarting"
    UPDATING = "updating"
    CRASHED = "crashed"
    FAILED = "failed"
    UNINSTALLING = "uninstalling"
    UNINSTALLED = "uninstalled"

    @property
    def emoji(self) -> str:
        return _EMOJIS[self]


_EMOJIS = {
    State.NOT_INSTALLED: "⚪",
    State.INSTALLING: "📦",
    State.INSTALLED: "⚫",
    State.STARTING: "🟡",
    State.ONLINE: "🟢",
    State.READY: "✅",
    State.STOPPING: "🟠",
    State.RESTARTING: "🔄",
    State.UPDATING: "⬆️",
    State.CRASHED: "💥",
    State.FAILED: "❌",
    State.UNINSTALLING: "🗑️",
    State.UNINSTALLED: "⚪",
}

# Every in-progress step of an install or uninstall (their failures and final events are listed below).
_INSTALL_STEPS = [t for t, k in CATALOGUE.items() if k.family is Family.INSTALL and k.severity is Severity.PROGRESS]
_UNINSTALL_STEPS = [t for t, k in CATALOGUE.items() if k.family is Family.UNINSTALL and k.severity is Severity.PROGRESS]

# The state an event type puts an instance in; types not listed leave the state as it was.
TRANSITIONS: dict[str, State] = {
    **dict.fromkeys(_INSTALL_STEPS, State.INSTALLING),
    "instance_download_failed": State.FAILED,
    "instance_deploy_failed": State.FAILED,
    "instance_installed": State.INSTALLED,
    "instance_update_started": State.UPDATING,
    "instance_update_finished": State.UPDATING,
    "instance_update_failed": State.FAILED,
    "instance_started": State.ONLINE,
    "instance_ready": State.READY,
    "instance_stop_started": State.STOPPING,
    "instance_stop_finished": State.STOPPING,
    "instance_stopped": State.INSTALLED,
    "instance_restart_started": State.RESTARTING,
    "instance_restart_stopped": State.RESTARTING,
    "instance_restart_finished": State.STARTING,
    "instance_restarted": State.ONLINE,
    "instance_crashed": State.CRASHED,
    "instance_failed": State.FAILED,
    **dict.fromkeys(_UNINSTALL_STEPS, State.UNINSTALLING),
    "instance_uninstall_failed": State.FAILED,
    "instance_uninstalled": State.UNINSTALLED,
}
# An update run ends where the server was before it, unless it was mid-update: then it is offline.
_UPDATE_DONE = frozenset({"instance_updated", "instance_version_updated"})
_VERSION_KEYS = ("NewVersion", "Version", "CurrentVersion")
# Substrings of every Data key `advance` reads: a stored event whose Data has none of them needs no decoding.
DATA_KEYS_READ = ("Version", "Blueprint")


@dataclass(frozen=True)
class InstanceState:
    name: str
    state: State
    last_event_type: str
    last_event_at: datetime
    version: str | None = None
    blueprint: str | None = None
    host: str | None = None
    since: datetime | None = None  # when the state last changed

    @property
    def is_up(self) -> bool:
        return self.state in (State.ONLINE, State.READY)


class Happening(Protocol):
    """What state needs of an event: an `Event`, or the few columns of a stored one (see `Store.state_facts`)."""

    @property
    def instance(self) -> str | None: ...
    @property
    def host(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def advance(current: InstanceState | None, event: Happening) -> InstanceState | None:
    """The instance's state after `event`; None for events that name no instance."""
    if event.instance is None:
        return None
    previous = current.state if current else State.NOT_INSTALLED
    new_state: State
    if event.type in _UPDATE_DONE:
        new_state = State.INSTALLED if previous is State.UPDATING else previous
    else:
        new_state = TRANSITIONS.get(event.type, previous)
    version = next((str(event.data[key]) for key in _VERSION_KEYS if event.data.get(key)), None)
    blueprint = event.data.get("Blueprint")
    base = current or InstanceState(event.instance, previous, event.type, event.timestamp)
    return replace(
        base,
        state=new_state,
        last_event_type=event.type,
        last_event_at=event.timestamp,
        version=version or base.version,
        blueprint=str(blueprint) if blueprint else base.blueprint,
        host=event.host or base.host,
        since=event.timestamp if new_state is not previous or current is None else base.since,
    )


def _key(host: str | None, name: str) -> str:
    return f"{host}:{name}".lower() if host else name.lower()


class StateBook:
    """The current state of every instance seen, per host, updated as events are stored."""

    def __init__(self) -> None:
        self._states: dict[str, InstanceState] = {}

    def apply(self, event: Happening) -> InstanceState | None:
        if event.instance is None:
            return None
        key = _key(event.host, event.instance)
        updated = advance(self._states.get(key), event)
        if updated is not None:
            self._states[key] = updated
        return updated

    def get(self, instance: str) -> InstanceState | None:
        """By `host:name`, or by plain name (the most recently active one if several hosts have it)."""
        exact = self._states.get(instance.lower())
        if exact is not None:
            return exact
        named = [state for state in self._states.values() if state.name.lower() == instance.lower()]
        return max(named, key=lambda state: state.last_event_at, default=None)

    @property
    def hosts(self) -> set[str]:
        return {state.host for state in self._states.values() if state.host}

    def all(self) -> list[InstanceState]:
        return sorted(self._states.values(), key=lambda s: (s.host or "", s.name.lower()))

    def __len__(self) -> int:
        return len(self._states)
