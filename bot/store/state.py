"""What each server is doing now, derived from its events (and rebuilt from the store after a restart).

The state an event type leads to is its vocabulary entry's `transition`; this module only applies them and
keeps what else a server's events tell: its version, blueprint, host and display name (`server.renamed`), and
who is on it (`bot.store.roster`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from bot.events import State, Subject, kind_of, reported
from bot.store.roster import IDENTITY_KEYS, Player, Roster

_VERSION_KEYS = ("NewVersion", "Version", "CurrentVersion")
DISPLAY_NAME_KEY = "NewDisplayName"
# Substrings of every Data key `advance` reads: a stored event whose Data has none of them needs no decoding.
DATA_KEYS_READ = ("Version", "Blueprint", "DisplayName", *IDENTITY_KEYS)
# The states players can still be on a server in without it having just (re)started: moving to any other state
# (stopped, crashed, restarting, updating, … and online, which is a new process) empties its roster.
PLAYERS_STAY = frozenset({State.READY, State.STOPPING})


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
    display_name: str | None = None  # what KGSM shows for it, when it was renamed
    roster: Roster = field(default_factory=Roster)  # who is on it now

    @property
    def players(self) -> tuple[Player, ...]:
        return self.roster.players

    @property
    def is_up(self) -> bool:
        return self.state.is_up

    @property
    def title(self) -> str:
        """How the server is called in messages: its display name when it has one, else its id."""
        return self.display_name or self.name


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
    """The server's state after `event`; None for events that are not about a server.

    A host alert about one server, or KGSM's test event (whose 2025 Data names "test-instance"), may carry an
    instance but is not about one: it never creates a server nor changes one. A type the vocabulary does not
    know is about the server its Data names.
    """
    kind = kind_of(event.type)
    if event.instance is None or (kind.known and kind.subject is not Subject.INSTANCE):
        return None
    previous = current.state if current else State.NOT_INSTALLED
    transition = kind.transition
    new_state = transition.apply(previous) if transition is not None else previous
    roster = (current.roster if current else Roster()).after(event.type, event.data, event.timestamp)
    if transition is not None and new_state is transition.to and new_state not in PLAYERS_STAY:
        roster = roster.cleared(event.timestamp)
    version = next((reported(event.data.get(key)) for key in _VERSION_KEYS if reported(event.data.get(key))), None)
    base = current or InstanceState(event.instance, previous, event.type, event.timestamp)
    return replace(
        base,
        state=new_state,
        last_event_type=event.type,
        last_event_at=event.timestamp,
        version=version or base.version,
        blueprint=reported(event.data.get("Blueprint")) or base.blueprint,
        host=event.host or base.host,
        since=event.timestamp if new_state is not previous or current is None else base.since,
        display_name=reported(event.data.get(DISPLAY_NAME_KEY)) or base.display_name,
        roster=roster,
    )


def _key(host: str | None, name: str) -> str:
    return f"{host}:{name}".lower() if host else name.lower()


class StateBook:
    """The current state of every server seen, per host, updated as events are stored."""

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
        """By `host:name`, or by plain name or display name (the most recently active one if several match)."""
        wanted = instance.strip().lower()
        exact = self._states.get(wanted)
        if exact is not None:
            return exact
        named = [state for state in self._states.values() if wanted in (state.name.lower(), state.title.lower())]
        return max(named, key=lambda state: state.last_event_at, default=None)

    def title_of(self, instance: str | None, host: str | None = None) -> str | None:
        """The display name of a server (for titles), falling back to its id."""
        if instance is None:
            return None
        state = self._states.get(_key(host, instance)) or self.get(instance)
        return state.title if state is not None else instance

    @property
    def hosts(self) -> set[str]:
        return {state.host for state in self._states.values() if state.host}

    def all(self) -> list[InstanceState]:
        return sorted(self._states.values(), key=lambda s: (s.host or "", s.title.lower()))

    def __len__(self) -> int:
        return len(self._states)


@dataclass(frozen=True)
class ComponentHealth:
    """How one of KGSM's own programs (a "leaf": the watchdog, the monitor, …) last said it was doing."""

    name: str
    host: str | None
    status: str  # ready, degraded, recovered, stopping
    detail: str | None
    at: datetime

    @property
    def healthy(self) -> bool:
        return self.status in ("ready", "recovered")


class ComponentBook:
    """The last word of each KGSM component (`leaf.*` events), for /about and /healthz."""

    def __init__(self) -> None:
        self._components: dict[tuple[str | None, str], ComponentHealth] = {}

    def apply(self, event: Any) -> ComponentHealth | None:
        """Take a `leaf.*` event (anything else is ignored); returns the component's new health."""
        if not event.type.startswith("leaf.") or event.producer is None:
            return None
        detail = reported(event.data.get("Detail")) or reported(event.data.get("Reason"))
        component = reported(event.data.get("Component"))
        if component is not None:
            detail = f"{component}: {detail}" if detail else component
        health = ComponentHealth(event.producer, event.host, event.type.removeprefix("leaf."), detail, event.timestamp)
        self._components[(event.host, event.producer)] = health
        return health

    def all(self) -> list[ComponentHealth]:
        return sorted(self._components.values(), key=lambda c: (c.host or "", c.name))
