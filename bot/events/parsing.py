"""One KGSM payload, of any era, into one `Event` under its canonical type, or a refusal with a reason.

KGSM's payload changed over time (kgsm-events.md §2, §7): the subject key went from `Instance` to `InstanceId`
to `InstanceName`, the timestamp moved from `Data` to the envelope, `KGSMVersion` became `ProducerVersion`,
event names became dotted, and the V2 envelope added `Id`, `Severity`, `Outcome` and `Summary`. Every source
hands its bytes here, so nothing above this module knows more than one spelling.

Text is made safe to keep where it enters: JSON may carry lone surrogate escapes (`"\\ud800"`), which are
valid JSON but no valid Unicode and cannot be written to the database or sent to Discord; they are replaced
by U+FFFD, so one such event is shown (with a replacement character) instead of stopping anything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from bot.events.model import Event, EventKind, Outcome, Severity, Subject
from bot.events.vocabulary import canonical_type, kind_of
from bot.runtime import jsontext

MAX_NESTING = 32
MAX_TYPE_LENGTH = 128
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNREPORTED = frozenset({"", "unknown", "null", "none", "n/a"})
_LONGEST_UNREPORTED = max(map(len, _UNREPORTED))  # a longer text is reported without lowering it first
_INSTANCE_KEYS = ("InstanceName", "InstanceId", "Instance")
_Grade = TypeVar("_Grade", Severity, Outcome)


class RefusalReason(StrEnum):
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    NO_EVENT_TYPE = "no_event_type"
    BAD_EVENT_TYPE = "bad_event_type"
    BAD_DATA = "bad_data"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    BAD_SIGNATURE = "bad_signature"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE = "stale"
    BUSY = "busy"
    BAD_RELAY = "bad_relay"  # a relayed body (`python -m bot relay`) whose envelope is not the relay's


class EventRefused(ValueError):
    """An input that is not a KGSM event, with the reason it was refused."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# Tuples, not `dict | MappingProxyType`: `isinstance` with a tuple is the faster test, and these run on every
# value of every event.
_MAPPINGS = (dict, MappingProxyType)
_SEQUENCES = (list, tuple)
_NUMBERS = (int, float)


def freeze(value: Any) -> Any:
    """A read-only copy of decoded JSON: mappings become read-only, lists become tuples."""
    if isinstance(value, _MAPPINGS):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, _SEQUENCES):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON again (dicts and lists) from what `freeze` made, for `json.dumps`."""
    if isinstance(value, _MAPPINGS):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, _SEQUENCES):
        return [thaw(item) for item in value]
    return value


def clean_text(value: Any) -> Any:
    """`value` (decoded JSON) with every lone surrogate in its strings and keys replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {clean_text(key): clean_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_text(item) for item in value]
    return value


def reported(value: Any) -> str | None:
    """A value as text, or None when KGSM did not really report it (absent, empty, "unknown")."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, _NUMBERS) and not isinstance(value, bool):
        text = str(value)
    else:
        return None  # absent, a truth value, or an object or list where a value belongs
    return None if len(text) <= _LONGEST_UNREPORTED and text.lower() in _UNREPORTED else text


def first_reported(data: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    """The first of `keys` whose value in `data` KGSM really reported (see `reported`), worked out once each."""
    for key in keys:
        value = data.get(key)
        if value is not None and (text := reported(value)) is not None:
            return text
    return None


def _nesting_depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_timestamp(raw: Any) -> datetime | None:
    """KGSM timestamps: ISO 8601 with `Z`, seconds or milliseconds. Anything unreadable is ignored."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _stable_id(payload: Mapping[str, Any], has_timestamp: bool, received_at: datetime) -> str:
    """A de-duplication key for payloads without an `Id`.

    The same payload received twice (socket and journal, or a webhook retry) hashes the same. Payloads of
    2024 KGSM carry no timestamp at all, so two real starts of one server would hash the same; for them the
    receipt time joins the hash, because losing a real event is worse than not de-duplicating a producer that
    never retransmits.
    """
    canonical = jsontext.canonical(payload)
    if not has_timestamp:
        canonical += b"@" + received_at.isoformat().encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()[:32]


def _grade(kind: type[_Grade], raw: Any) -> _Grade | None:
    if isinstance(raw, str):
        try:
            return kind(raw.strip().lower())
        except ValueError:
            return None
    return None


def _component_of(actor: str | None) -> str | None:
    """`system:watchdog` → `kgsm-watchdog`: kgsm-lib's default Actor names the producer it writes for."""
    if actor and actor.startswith("system:") and len(actor) > len("system:"):
        name = actor.removeprefix("system:")
        return name if name.startswith("kgsm") else f"kgsm-{name}"
    return None


def _subjects(kind: EventKind, data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(instance, blueprint) the event names, by what kind of subject its type has."""
    if kind.subject is Subject.INSTANCE:
        instance = first_reported(data, _INSTANCE_KEYS)
        return instance, reported(data.get("Blueprint"))
    if kind.subject is Subject.BLUEPRINT:
        return None, reported(data.get("BlueprintName") or data.get("Blueprint"))
    if kind.subject is Subject.HOST and reported(data.get("Scope")) == "server":
        return reported(data.get("ServerId")), None  # a host alert about one server goes to its channel
    return None, None


def parse_event(
    document: Any,
    *,
    received_at: datetime | None = None,
    source: str = "socket",
    producer: str | None = None,
    shallow: bool = False,
    clean: bool = True,
) -> Event:
    """Turn one decoded JSON document into an `Event`, or raise `EventRefused`.

    `shallow` says the caller knows the document cannot nest deeper than the limit (see `could_nest_deeply`)
    and `clean=False` that it holds no lone surrogate (see `decode_event`), which saves walking it twice.
    """
    received = received_at or datetime.now(UTC)
    if not isinstance(document, dict):
        raise EventRefused(RefusalReason.NOT_OBJECT, f"expected a JSON object, got {type(document).__name__}")
    if not shallow and _nesting_depth_exceeds(document, MAX_NESTING):
        raise EventRefused(RefusalReason.TOO_DEEP, f"nested deeper than {MAX_NESTING} levels")
    if clean:
        document = clean_text(document)
    if "EventType" not in document:
        raise EventRefused(RefusalReason.NO_EVENT_TYPE, "the object has no EventType")
    raw_type = document["EventType"]
    if not isinstance(raw_type, str) or not raw_type.strip() or len(raw_type) > MAX_TYPE_LENGTH:
        raise EventRefused(
            RefusalReason.BAD_EVENT_TYPE,
            f"EventType must be a string of 1 to {MAX_TYPE_LENGTH} characters, got {str(raw_type)[:40]!r}",
        )
    data = document.get("Data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EventRefused(RefusalReason.BAD_DATA, f"Data must be an object, got {type(data).__name__}")

    event_type = canonical_type(raw_type)
    kind = kind_of(event_type, data)
    timestamp = parse_timestamp(document.get("Timestamp")) or parse_timestamp(data.get("Timestamp"))
    raw_version = document.get("V", 0)
    envelope_version = raw_version if isinstance(raw_version, int) and not isinstance(raw_version, bool) else 0
    raw_id = document.get("Id")
    event_id = reported(raw_id) if isinstance(raw_id, str) else None
    actor = reported(document.get("Actor"))
    severity = _grade(Severity, document.get("Severity"))
    if severity is None and kind.severity_key is not None:
        severity = _grade(Severity, data.get(kind.severity_key))
    instance, blueprint = _subjects(kind, data)

    return Event(
        id=event_id or _stable_id(document, timestamp is not None, received),
        type=event_type,
        data=freeze(data),
        timestamp=timestamp or received,
        received_at=received,
        kind=kind,
        severity=severity or kind.severity,
        outcome=_grade(Outcome, document.get("Outcome")) or kind.outcome,
        instance=instance,
        blueprint=blueprint,
        host=reported(document.get("Hostname")),
        actor=actor,
        origin=reported(document.get("Origin")),
        producer=producer or _component_of(actor),
        producer_version=reported(document.get("ProducerVersion") or document.get("KGSMVersion")),
        envelope_version=envelope_version,
        summary=reported(document.get("Summary")),
        source=source,
    )


def could_nest_deeply(raw: bytes) -> bool:
    """False when `raw` has too few brackets to nest past the limit: a cheap test that spares the walk."""
    return raw.count(b"{") + raw.count(b"[") > MAX_NESTING


def may_hold_surrogates(raw: bytes) -> bool:
    """False when `raw` has no `\\uD800`-`\\uDFFF` escape: valid UTF-8 alone never decodes to a lone surrogate."""
    return b"\\u" in raw and _SURROGATE_ESCAPE.search(raw) is not None


def load_document(raw: bytes) -> Any:
    """The JSON document in `raw`, or `EventRefused` (not JSON, or nested too deeply to decode)."""
    try:
        return jsontext.loads(raw)
    except RecursionError as exc:
        raise EventRefused(RefusalReason.TOO_DEEP, "nested too deeply to decode") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise EventRefused(RefusalReason.NOT_JSON, f"{exc}"[:120]) from exc


def decode_event(
    raw: bytes, *, received_at: datetime | None = None, source: str = "socket", producer: str | None = None
) -> Event:
    """Decode one JSON document's bytes and parse it (see `parse_event`)."""
    return parse_event(
        load_document(raw),
        received_at=received_at,
        source=source,
        producer=producer,
        shallow=not could_nest_deeply(raw),
        clean=may_hold_surrogates(raw),
    )
