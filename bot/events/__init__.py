"""Events: the model every source produces, the vocabulary of what each type means, parsing and framing.

Owns: `Event` and its grades (`model`), the table of event types (`vocabulary`), turning bytes or JSON of any
KGSM era into events (`parsing`) and splitting byte streams into documents (`framing`).
May import: the standard library only (nothing else of the bot): every other package builds on this one.
"""

from bot.events.model import Event, EventKind, Family, Outcome, Role, Severity, State, Subject, Tone
from bot.events.parsing import EventRefused, RefusalReason, decode_event, first_reported, parse_event, reported
from bot.events.vocabulary import FAMILIES, OPERATIONS, TABLE, canonical_type, kind_of, resolve_target, types_of

__all__ = [
    "FAMILIES",
    "OPERATIONS",
    "TABLE",
    "Event",
    "EventKind",
    "EventRefused",
    "Family",
    "Outcome",
    "RefusalReason",
    "Role",
    "Severity",
    "State",
    "Subject",
    "Tone",
    "canonical_type",
    "decode_event",
    "first_reported",
    "kind_of",
    "parse_event",
    "reported",
    "resolve_target",
    "types_of",
]
