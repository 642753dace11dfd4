"""What each server is doing now, derived from its events and kept in the store's `server_states` table.

The state an event type leads to is its vocabulary entry's `transition`; this module only applies them and
keeps what else a server's events tell: its version, blueprint, host and display name (`server.renamed`), and
who is on it (`bot.store.roster`).
`advance` is the one place an event is applied; the store calls it in the transaction that stores the event and
writes the result as one row per server (`state_row` / `state_of_row`), so a start-up reads those rows instead
of replaying the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.events import State, Subject, first_reported, kind_of, reported
from bot.runtime import jsontext
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
    """What state needs of an event: an `Event`, or the few columns of a stored one (migration 0007)."""

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


def about_server(event: Happening) -> bool:
    """Whether `event` tells something about a server (and so may change its state).

    A host alert about one server, or KGSM's test event (whose 2025 Data names "test-instance"), may carry an
    instance but is not about one: it never creates a server nor changes one. A type the vocabulary does not
    know is about the server its Data names.
    """
    if event.instance is None:
        return False
    kind = kind_of(event.type)
    return not kind.known or kind.subject is Subject.INSTANCE


def advance(current: InstanceState | None, event: Happening) -> InstanceState | None:
    """The server's state after `event`; None for events that are not about a server (`about_server`)."""
    if event.instance is None or not about_server(event):
        return None
    kind = kind_of(event.type)
    previous = current.state if current else State.NOT_INSTALLED
    transition = kind.transition
    new_state = transition.apply(previous) if transition is not None else previous
    roster = (current.roster if current else Roster()).after(event.type, event.data, event.timestamp)
    if transition is not None and new_state is transition.to and new_state not in PLAYERS_STAY:
        roster = roster.cleared(event.timestamp)
    version = first_reported(event.data, _VERSION_KEYS)
    # Built whole rather than with dataclasses.replace, which costs several times as much (once per event).
    return InstanceState(
        name=current.name if current else event.instance,
        state=new_state,
        last_event_type=event.type,
        last_event_at=event.timestamp,
        version=version or (current.version if current else None),
        blueprint=reported(event.data.get("Blueprint")) or (current.blueprint if current else None),
        host=event.host or (current.host if current else None),
        since=event.timestamp if new_state is not previous or current is None else current.since,
        display_name=reported(event.data.get(DISPLAY_NAME_KEY)) or (current.display_name if current else None),
        roster=roster,
    )


def key_of(host: str | None, name: str) -> str:
    """How a server is told apart: its name on its host, case-insensitively."""
    return f"{host}:{name}".lower() if host else name.lower()


# The columns of `server_states` after `key`; anything a server's state gains later goes into `details` (JSON),
# read and written only by the two functions below, so a new field needs no migration.
STATE_COLUMNS = "name, state, last_event_type, last_event_at, version, blueprint, host, since, details"


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def state_row(state: InstanceState) -> tuple[Any, ...]:
    """The row of `server_states` for one server: `key`, then the values of `STATE_COLUMNS`."""
    details: dict[str, Any] = {}
    if state.display_name is not None:
        details["display_name"] = state.display_name
    if state.roster != Roster():
        details["roster"] = state.roster.to_json()
    return (
        key_of(state.host, state.name),
        state.name,
        state.state.value,
        state.last_event_type,
        state.last_event_at.timestamp(),
        state.version,
        state.blueprint,
        state.host,
        _seconds(state.since),
        jsontext.dumps(details),
    )


def state_of_row(row: Sequence[Any]) -> InstanceState:
    """A server's state from the values of `STATE_COLUMNS` (the inverse of `state_row` without its key)."""
    name, state, last_type, last_at, version, blueprint, host, since, details = row
    extra = jsontext.loads(details)
    return InstanceState(
        name=name,
        state=State(state),
        last_event_type=last_type,
        last_event_at=datetime.fromtimestamp(last_at, UTC),
        version=version,
        blueprint=blueprint,
        host=host,
        since=_moment(since),
        display_name=extra.get("display_name"),
        roster=Roster.from_json(extra["roster"]) if "roster" in extra else Roster(),
    )


@dataclass(frozen=True)
class Walk:
    """What a batch of events does to the book: each server's state after the whole batch (`changed`, by key),
    and, in the batch's order, each event's server and its state right after that event (None: about no server)."""

    changed: dict[str, InstanceState]
    steps: list[tuple[str, InstanceState] | None]


class StateBook:
    """The current state of every server seen, per host: the store's `server_states` rows, in memory.

    While a stored batch is dispatched, each of its events is shown at its own moment (`reach`): a server
    renamed later in the same batch still has its old name in what its earlier events post.
    """

    def __init__(self) -> None:
        self._states: dict[str, InstanceState] = {}
        self._unreached: dict[str, tuple[str, InstanceState]] = {}  # by event id, in the batch's order

    def load(self, states: Iterable[InstanceState]) -> None:
        """Take the states kept in the store (start-up)."""
        self._states.update((key_of(state.host, state.name), state) for state in states)

    def walk(self, events: Iterable[Happening]) -> Walk:
        """What these events do, from the stored states (a batch whose dispatch ended early is settled first);
        the book takes the result only with `committed`, once the transaction that holds them is committed."""
        self._settle()
        changed: dict[str, InstanceState] = {}
        steps: list[tuple[str, InstanceState] | None] = []
        for event in events:
            step = None
            if event.instance is not None:
                key = key_of(event.host, event.instance)
                updated = advance(changed.get(key) or self._states.get(key), event)
                if updated is not None:
                    changed[key], step = updated, (key, updated)
            steps.append(step)
        return Walk(changed, steps)

    def advanced(self, events: Iterable[Happening]) -> dict[str, InstanceState]:
        """The servers these events change and their states after them, by key (see `walk`)."""
        return self.walk(events).changed

    def update(self, changed: Mapping[str, InstanceState]) -> None:
        self._settle()
        self._states.update(changed)

    def committed(self, walk: Walk, event_ids: Sequence[str]) -> None:
        """Take the states of a stored batch whose events (`event_ids`, as walked) are dispatched next."""
        self.update(walk.changed)
        self._unreached = {event_id: step for event_id, step in zip(event_ids, walk.steps, strict=True) if step}

    def reach(self, event_id: str) -> None:
        """Show the event's server as it was right after this event of the last stored batch (it is being
        dispatched); the batch's last event of each server brings it to its stored state again."""
        step = self._unreached.pop(event_id, None)
        if step is not None:
            self._states[step[0]] = step[1]

    def _settle(self) -> None:
        """The stored states again, should a batch's dispatch have ended before reaching all its events."""
        for key, state in self._unreached.values():
            self._states[key] = state
        self._unreached.clear()

    def apply(self, event: Happening) -> InstanceState | None:
        """Apply one event now (for callers without a store, such as tests of the vocabulary)."""
        changed = self.advanced([event])
        self.update(changed)
        return next(iter(changed.values()), None)

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
        state = self._states.get(key_of(host, instance)) or self.get(instance)
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
