"""Who is on one server now, from its `player.joined` and `player.left` events (KGSM's older
`instance_player_joined`/`_left` are parsed to these). A roster is part of the server's state
(`bot.store.state.InstanceState.roster`); `bot.store.state.advance` is the one place that applies events to it,
and it empties the roster whenever the vocabulary moves the server to a state nobody can play in.

- A player is told from another by `PlayerId`, else `SessionKey`, else `PlayerName`, kept only as a digest:
  the roster holds no id, session key or address, so neither showing it nor storing it (`to_json`) can leak
  one. The only thing kept of a player is the latest join's `PlayerName` (raw text: render it inert) and when.
- Each event counts at its own time, not at its arrival: KGSM's components write their own journals (players and
  crashes come from kgsm-watchdog, your stops from KGSM itself), so the bot may read a join after a stop that came
  later. A join or leave from before the last clear, or older than what is known of that player, changes
  nothing; of two events of the same time the one read last wins.
- Bounded whatever arrives: at most `MAX_ONLINE` players (past it the longest-online is dropped and the roster
  says it is `incomplete` until the next clear), `MAX_LEFT` remembered leaves, names cut to `NAME_LIMIT`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.events import reported
from bot.events.parsing import clean_text

JOINED = "player.joined"
LEFT = "player.left"
# The Data keys that tell players apart, in order of trust; also what `bot.store.state.DATA_KEYS_READ` needs.
IDENTITY_KEYS = ("PlayerId", "SessionKey", "PlayerName")
MAX_ONLINE = 500  # players kept per server
MAX_LEFT = 500  # leaves remembered per server since its last clear, so that a join read late is not taken as new
NAME_LIMIT = 100  # characters kept of a name
T = TypeVar("T")


@dataclass(frozen=True)
class Player:
    """Someone on a server: `name` as KGSM reported it (raw text: render it with `bot.render.text.safe`)."""

    name: str | None
    since: datetime


def player_key(data: Mapping[str, Any]) -> str | None:
    """A digest of what tells one player from another (None: the event names nobody)."""
    for key in IDENTITY_KEYS:
        value = reported(data.get(key))
        if value is not None:
            text = f"{key}:{value}".encode(errors="surrogatepass")
            return hashlib.blake2b(text, digest_size=12).hexdigest()
    return None


def _name(data: Mapping[str, Any]) -> str | None:
    return _kept(reported(data.get("PlayerName")))


def _kept(name: str | None) -> str | None:
    """What is kept of a name: its start, without lone surrogates (a stored roster is decoded JSON too)."""
    return clean_text(name[:NAME_LIMIT]) if name is not None else None


@dataclass(frozen=True)
class Roster:
    """Who is on one server. Immutable: every change makes a new roster (the mappings are never changed)."""

    online: Mapping[str, Player] = field(default_factory=dict, hash=False)  # key → player, in the order they joined
    left: Mapping[str, datetime] = field(default_factory=dict, hash=False)  # key → when, since the last clear
    cleared_at: datetime | None = None  # the last time everyone was gone
    incomplete: bool = False  # more than MAX_ONLINE were on at once since the last clear: some are not listed

    @property
    def players(self) -> tuple[Player, ...]:
        return tuple(self.online.values())

    def __len__(self) -> int:
        return len(self.online)

    def after(self, event_type: str, data: Mapping[str, Any], at: datetime) -> Roster:
        """The roster after a join or leave (any other event leaves it as it is)."""
        if event_type not in (JOINED, LEFT):
            return self
        key = player_key(data)
        if key is None or (self.cleared_at is not None and at < self.cleared_at):
            return self
        known = self.online[key].since if key in self.online else self.left.get(key)
        if known is not None and at < known:
            return self
        incomplete = self.incomplete
        if event_type == JOINED:
            online = dict(self.online)  # copied in C: a join costs little however many are on
            online.pop(key, None)
            while len(online) >= MAX_ONLINE:
                del online[next(iter(online))]
                incomplete = True
            online[key] = Player(_name(data), at)
            return Roster(online, _without(self.left, key), self.cleared_at, incomplete)
        left = dict(self.left)
        left.pop(key, None)
        while len(left) >= MAX_LEFT:
            del left[next(iter(left))]
        left[key] = at
        return Roster(_without(self.online, key), left, self.cleared_at, incomplete)

    def cleared(self, at: datetime) -> Roster:
        """Everyone gone at `at` (the server stopped, crashed, restarted, …); who joined after stays."""
        if self.cleared_at is not None and at < self.cleared_at:
            return self  # whoever joined before it was gone at the later clear already
        return Roster(
            online={k: player for k, player in self.online.items() if player.since > at},
            left={k: when for k, when in self.left.items() if when > at},
            cleared_at=at,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (for a state table's `details` column); `from_json` reads it back."""
        return {
            "online": [[key, player.name, player.since.isoformat()] for key, player in self.online.items()],
            "left": [[key, when.isoformat()] for key, when in self.left.items()],
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at is not None else None,
            "incomplete": self.incomplete,
        }

    @classmethod
    def from_json(cls, document: Any) -> Roster:
        """The roster `to_json` wrote. A stored value is not trusted: what is malformed is dropped, the limits
        hold, and anything that is not a roster at all gives an empty one."""
        if not isinstance(document, Mapping):
            return cls()
        online: dict[str, Player] = {}
        for key, name, since in _entries(document.get("online"), 3, MAX_ONLINE):
            moment = _moment(since)
            if _is_key(key) and (name is None or isinstance(name, str)) and moment is not None:
                online[key] = Player(_kept(name), moment)
        left: dict[str, datetime] = {}
        for key, when in _entries(document.get("left"), 2, MAX_LEFT):
            moment = _moment(when)
            if _is_key(key) and moment is not None:
                left[key] = moment
        stored = document.get("online")
        incomplete = document.get("incomplete") is True or (isinstance(stored, list) and len(stored) > MAX_ONLINE)
        return cls(online, left, _moment(document.get("cleared_at")), incomplete)


def _without(entries: Mapping[str, T], key: str) -> Mapping[str, T]:
    """`entries` itself when `key` is not in it, else a copy without it (copied in C: cheap however many)."""
    if key not in entries:
        return entries
    copy = dict(entries)
    del copy[key]
    return copy


def _entries(value: Any, size: int, limit: int) -> list[list[Any]]:
    """The last `limit` entries of a stored list that are lists of `size` values."""
    if not isinstance(value, list):
        return []
    return [entry for entry in value[-limit:] if isinstance(entry, list) and len(entry) == size]


def _is_key(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
