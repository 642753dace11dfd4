"""The vocabulary: what every KGSM event type means, one entry each, in one table.

Each family's table (`install.toml`, `lifecycle.toml`, …, read by `tables`) lists its entries: the canonical
dotted type, KGSM's older spellings, the words, emoji and grade, the state it leads to and the operation
steps it is part of. Everything else in the bot asks this table; adding an event type KGSM has started to
emit is one `[[kinds]]` entry in its family's file.

`canonical_type` turns any spelling KGSM has used (legacy `instance_started`, the CLI's `instance-started`,
dotted `server.started`) into the canonical one; `kind_of` answers for a type the table does not list too,
guessing its family from the name's first segment, so an unknown event is still shown with its data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from bot.events.model import EventKind, Family, Subject
from bot.events.vocabulary.operations import Operation, gather
from bot.events.vocabulary.tables import read_tables

__all__ = [
    "FAMILIES",
    "OPERATIONS",
    "TABLE",
    "Operation",
    "canonical_type",
    "kind_of",
    "resolve_target",
]

_KINDS: tuple[EventKind, ...] = read_tables()

TABLE: Mapping[str, EventKind] = {kind.type: kind for kind in _KINDS}
_LEGACY: Mapping[str, str] = {legacy: kind.type for kind in _KINDS for legacy in kind.legacy}
OPERATIONS: Mapping[str, Operation] = gather(_KINDS)
FAMILIES: frozenset[str] = frozenset(Family)

# An unknown dotted type's family, by its first segment (KGSM's namespace).
_NAMESPACES: Mapping[str, Family] = {
    "server": Family.LIFECYCLE,
    "backup": Family.BACKUP,
    "network": Family.NETWORK,
    "player": Family.PLAYERS,
    "config": Family.CONFIG,
    "console": Family.CONFIG,
    "announcement": Family.CONFIG,
    "file": Family.CONFIG,
    "blueprint": Family.BLUEPRINT,
    "library": Family.LIBRARY,
    "host": Family.HOST,
    "leaf": Family.COMPONENT,
    "service": Family.COMPONENT,
    "auth": Family.AUTH,
    "user": Family.AUTH,
    "identity": Family.AUTH,
}
_SUBJECT_OF_FAMILY = {Family.HOST: Subject.HOST, Family.COMPONENT: Subject.COMPONENT, Family.AUTH: Subject.USER}
_DATA_SUBJECTS = (
    (("InstanceName", "InstanceId", "Instance"), Subject.INSTANCE),
    (("BlueprintName",), Subject.BLUEPRINT),
    (("LibraryName",), Subject.LIBRARY),
)
_SPELLING = re.compile(r"[^a-z0-9_.]")


def canonical_type(raw: str) -> str:
    """The canonical type of any spelling: `Instance-Started` and `instance_started` give `server.started`.

    Names KGSM never used are kept (lower-cased, dashes as underscores): an unknown type stays recognisable.
    """
    name = raw.strip().lower().replace("-", "_")
    if name in TABLE:
        return name
    return _LEGACY.get(name, name)


def _guess_family(event_type: str) -> Family:
    if "." not in event_type:
        return Family.OTHER
    segments = event_type.split(".")
    # A known type sharing the first two segments decides (`server.install.verified` is an install step) …
    prefix = ".".join(segments[:2]) + "."
    families = {kind.family for name, kind in TABLE.items() if name.startswith(prefix)}
    if len(families) == 1:
        return families.pop()
    # … else KGSM's namespace does.
    return _NAMESPACES.get(segments[0], Family.OTHER)


def _words(event_type: str) -> str:
    name = event_type.removeprefix("instance_")
    if "." in name:
        name = " ".join(name.split(".")[1:]) or name
    return name.replace("_", " ").strip() or event_type


@lru_cache(maxsize=512)
def _unknown_kind(event_type: str, subject: Subject) -> EventKind:
    return EventKind(
        type=event_type,
        family=_guess_family(event_type),
        subject=subject,
        label=_words(event_type),
        emoji="❔",
        known=False,
    )


def kind_of(event_type: str, data: Mapping[str, Any] | None = None) -> EventKind:
    """The entry for a canonical type; for a type the table does not list, one made up from its name (family)
    and its Data (which kind of subject it names)."""
    known = TABLE.get(event_type)
    if known is not None:
        return known
    subject = _SUBJECT_OF_FAMILY.get(_guess_family(event_type), Subject.NONE)
    if subject is Subject.NONE and data is not None:
        subject = next((s for keys, s in _DATA_SUBJECTS if any(key in data for key in keys)), Subject.NONE)
    return _unknown_kind(event_type, subject)


def resolve_target(raw: str) -> tuple[Family | None, str | None]:
    """What a user typed for a mute or a filter, as (family, None) or (None, canonical type); (None, None) when
    it is neither a family nor a valid type name. Types the table does not know are allowed (KGSM grows)."""
    text = raw.strip().lower()
    if text in FAMILIES:
        return Family(text), None
    name = canonical_type(text)
    if not name or _SPELLING.search(name) or len(name) > 100:
        return None, None
    return None, name


def types_of(family: Family, known: Iterable[str]) -> tuple[str, ...]:
    """The types among `known` (canonical names) that belong to `family`, sorted: what a filter by a family
    asks the store for, since the store keeps no index of families."""
    return tuple(sorted(name for name in known if kind_of(name).family is family))
