"""The relay's envelope: one journal line of another game host, as `python -m bot relay` forwards it.

```
{"Relay":{"Host":"eu1","Producer":"kgsm-watchdog","Sent":1796551200},"Event":<the journal line, verbatim>}
```

Why an envelope, and why `Sent`: the webhook refuses a body whose time is more than `MAX_CLOCK_SKEW` from now
(replay protection: `X-KGSM-Timestamp` is not signed, so only a time inside the signed body proves the body
is fresh). A relay catching up on a backlog after an outage sends events hours old, which KGSM's own webhook
bodies would be refused for. In an envelope the event keeps its own `Timestamp` (history stays true) and the
relay's `Sent`, the Unix time of this very attempt, is what the window is checked against; the whole body,
`Sent` included, is signed with the shared secret, so nobody without the secret can make an old event look
fresh. Each attempt has a new `Sent`, so the body differs from one attempt to the next: the event is
recognised again by its `Id` (or, without one, by the event's content alone, the envelope left out).

`Host` names the game host for routing (`host:instance` in `KGSM_CHANNELS`) and the footer; `Producer` is
the journal's component (`kgsm-watchdog`), as the bot's own journal follower names it; `Replay: true` marks
history imported on the relay's first start with `KGSM_JOURNAL_START=replay` (stored, not posted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from bot.config.settings import HOST_NAME
from bot.events import Event, EventRefused, RefusalReason, parse_event
from bot.events.parsing import could_nest_deeply, load_document, may_hold_surrogates
from bot.sources.journal import REPLAY_SOURCE

KEY = "Relay"
EVENT = "Event"
SOURCE = "relay"
WEBHOOK_SOURCE = "webhook"
MAX_UNIX_SECONDS = 10**12


@dataclass(frozen=True)
class Relayed:
    host: str
    producer: str | None
    sent: int  # Unix seconds of the attempt
    replay: bool = False


def is_name(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and HOST_NAME.fullmatch(value) is not None


def envelope(line: bytes, relayed: Relayed) -> bytes:
    """The body the relay POSTs for one journal line (which it has checked is a JSON object)."""
    head: dict[str, Any] = {"Host": relayed.host, "Producer": relayed.producer, "Sent": relayed.sent}
    if relayed.replay:
        head["Replay"] = True
    return b'{"Relay":' + json.dumps(head, separators=(",", ":")).encode() + b',"Event":' + line.strip() + b"}"


def _relayed(head: Any) -> Relayed:
    if not isinstance(head, dict):
        raise EventRefused(RefusalReason.BAD_RELAY, "Relay must be an object")
    host, producer, sent, replay = head.get("Host"), head.get("Producer"), head.get("Sent"), head.get("Replay")
    if not is_name(host):
        raise EventRefused(RefusalReason.BAD_RELAY, "Relay.Host must be a host name (letters, digits, . _ -)")
    if producer is not None and not is_name(producer):
        raise EventRefused(RefusalReason.BAD_RELAY, "Relay.Producer must be a component name or null")
    if not isinstance(sent, int) or isinstance(sent, bool) or not 0 <= sent < MAX_UNIX_SECONDS:
        raise EventRefused(RefusalReason.BAD_RELAY, "Relay.Sent must be whole Unix seconds")
    if replay not in (None, True, False):
        raise EventRefused(RefusalReason.BAD_RELAY, "Relay.Replay must be true, false or absent")
    return Relayed(host, producer, sent, bool(replay))


def decode_body(body: bytes) -> tuple[Event, Relayed | None]:
    """A webhook body: KGSM's own (an event; None) or a relay's envelope (the event inside, and the envelope).

    An envelope is an object with `Relay` and no `EventType`; its event is parsed as the bot's journal follower
    parses a line of the same producer, with the relay's host.
    """
    document = load_document(body)
    shallow, clean = not could_nest_deeply(body), may_hold_surrogates(body)
    if not (isinstance(document, dict) and KEY in document and "EventType" not in document):
        return parse_event(document, source=WEBHOOK_SOURCE, shallow=shallow, clean=clean), None
    relayed = _relayed(document[KEY])
    source = REPLAY_SOURCE if relayed.replay else SOURCE
    event = parse_event(document.get(EVENT), source=source, producer=relayed.producer, shallow=shallow, clean=clean)
    return replace(event, host=relayed.host), relayed
