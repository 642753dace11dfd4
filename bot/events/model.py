"""The words the whole bot speaks about KGSM events: the event itself, its family, grade and the states it
leads to. Everything here is plain data; what each event type means is the vocabulary table
(`bot.events.vocabulary`), built from these pieces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Family(StrEnum):
    """What an event is about; a user mutes or filters by family."""

    INSTALL = "install"
    UPDATE = "update"
    LIFECYCLE = "lifecycle"
    BACKUP = "backup"
    UNINSTALL = "uninstall"
    NETWORK = "network"
    PLAYERS = "players"
    CONFIG = "config"
    BLUEPRINT = "blueprint"
    LIBRARY = "library"
    HOST = "host"
    COMPONENT = "component"
    AUTH = "auth"
    TEST = "test"
    OTHER = "other"


class Subject(StrEnum):
    """What kind of thing an event names (KGSM's subject key differs per kind, see kgsm-events.md §7)."""

    INSTANCE = "instance"
    BLUEPRINT = "blueprint"
    LIBRARY = "library"
    HOST = "host"
    COMPONENT = "component"
    USER = "user"
    NONE = "none"


class Severity(StrEnum):
    """KGSM's V2 `Severity`: how much attention an event deserves."""

    INFO = "info"
    WARN = "warn"
    DANGER = "danger"


class Outcome(StrEnum):
    """KGSM's V2 `Outcome`: whether what the event reports went well."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


class Tone(StrEnum):
    """The colour an event of info severity shows (warn and danger have their own)."""

    GOOD = "good"
    PROGRESS = "progress"
    NEUTRAL = "neutral"


class State(StrEnum):
    """What a server is doing now, as its events tell."""

    NOT_INSTALLED = "not installed"
    INSTALLING = "installing"
    INSTALLED = "installed/offline"
    STARTING = "starting"
    ONLINE = "online"
    READY = "ready"
    STOPPING = "stopping"
    RESTARTING = "restarting"
    UPDATING = "updating"
    RESTORING = "restoring"
    CRASHED = "crashed"
    FAILED = "failed"
    UNINSTALLING = "uninstalling"
    UNINSTALLED = "uninstalled"

    @property
    def emoji(self) -> str:
        return _STATE_EMOJIS[self]

    @property
    def is_up(self) -> bool:
        return self in (State.ONLINE, State.READY)


_STATE_EMOJIS = {
    State.NOT_INSTALLED: "⚪",
    State.INSTALLING: "📦",
    State.INSTALLED: "⚫",
    State.STARTING: "🟡",
    State.ONLINE: "🟢",
    State.READY: "✅",
    State.STOPPING: "🟠",
    State.RESTARTING: "🔄",
    State.UPDATING: "⬆️",
    State.RESTORING: "♻️",
    State.CRASHED: "💥",
    State.FAILED: "❌",
    State.UNINSTALLING: "🗑️",
    State.UNINSTALLED: "⚪",
}


class Role(StrEnum):
    """The part an event type plays in a multi-step operation (see `bot.events.vocabulary.operations`)."""

    OPEN = "open"  # may be the first step: opens a run when none of its operation is open
    STEP = "step"  # an expected step of the checklist
    OPTIONAL = "optional"  # a step shown only when it happens
    END = "end"  # the run is complete at the first of these (late steps still attach for a while)
    WHOLE = "whole"  # ends the open run; with none open, opens one that ends at once (heard only its end)


@dataclass(frozen=True)
class Transition:
    """The state an event type puts a server in, optionally only from some states."""

    to: State
    only_from: frozenset[State] | None = None

    def apply(self, current: State) -> State:
        if self.only_from is not None and current not in self.only_from:
            return current
        return self.to


@dataclass(frozen=True)
class EventKind:
    """What one canonical event type means: one entry of the vocabulary table.

    `sentence` is a template: `{subject}` and `{DataKey}` are filled with escaped values; a part in
    `[...]` is left out when a value in it is missing (`[...|otherwise]` shows `otherwise` instead), so a
    value KGSM did not report never appears as "unknown" in a sentence.
    """

    type: str
    family: Family
    subject: Subject
    label: str
    emoji: str
    severity: Severity = Severity.INFO
    outcome: Outcome = Outcome.NEUTRAL
    tone: Tone = Tone.NEUTRAL
    sentence: str | None = None
    transition: Transition | None = None
    steps: Mapping[str, Role] = field(default_factory=dict)  # operation name → role
    legacy: tuple[str, ...] = ()
    phase: bool = False  # a bracket of an operation (KGSM writes no Summary for them)
    quiet: bool = False  # stored and listed, but posted only when a user unmutes it
    severity_key: str | None = None  # a Data key whose info/warn/danger value grades the event
    known: bool = True  # False for the entry made up for a type the table does not list
    alert: bool = False  # posted on its own, it pings the alert role (KGSM_ALERT_ROLE_ID): a danger


@dataclass(frozen=True)
class Event:
    """One KGSM event under its canonical (dotted) type. Immutable: `data` is a read-only mapping.

    `severity` and `outcome` are the envelope's own values (V2) when it carried them, else the table's
    grade for the type, so every consumer reads one answer.
    """

    id: str
    type: str
    data: Mapping[str, Any]
    timestamp: datetime
    received_at: datetime
    kind: EventKind = field(compare=False, repr=False)
    severity: Severity = Severity.INFO
    outcome: Outcome = Outcome.NEUTRAL
    instance: str | None = None
    blueprint: str | None = None
    host: str | None = None
    actor: str | None = None
    origin: str | None = None
    producer: str | None = None  # the component that wrote it (its journal's directory), when known
    producer_version: str | None = None
    envelope_version: int = 0
    summary: str | None = None
    source: str = field(default="socket", compare=False)

    @property
    def family(self) -> Family:
        return self.kind.family

    @property
    def subject(self) -> str:
        """What the event is about, for titles and logs."""
        if self.kind.subject is Subject.HOST:
            return self.host or "KGSM host"
        if self.kind.subject is Subject.COMPONENT:
            # A `service.*` event names its service (`Leaf`); a `leaf.*` one is about whoever wrote it.
            leaf = self.data.get("Leaf")
            return leaf.strip() if isinstance(leaf, str) and leaf.strip() else self.producer or "KGSM"
        return self.instance or self.blueprint or _subject_from_data(self) or self.host or "KGSM"


_OTHER_SUBJECT_KEYS = ("LibraryName", "Username", "Subject", "Leaf")


def _subject_from_data(event: Event) -> str | None:
    for key in _OTHER_SUBJECT_KEYS:
        value = event.data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
