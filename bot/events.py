"""The one event model every source produces, parsed from any KGSM era's payload.

KGSM's payload changed shape over time (see kgsm-events.md §2): the subject key went from `Instance` to
`InstanceId` to `InstanceName`, the timestamp moved from `Data` to the envelope and gained milliseconds,
`KGSMVersion` became `ProducerVersion`, and producers of envelope v2 add an `Id`. `parse_event` accepts all of
them and yields the same immutable `Event`, or raises `EventRefused` with a machine-readable reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from bot.catalogue import EventKind, Family, Severity, kind_of

MAX_NESTING = 32


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
    STALE = "stale"


class EventRefused(ValueError):
    """An input that is not a KGSM event, with the reason it was refused."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def freeze(value: Any) -> Any:
    """A read-only copy of decoded JSON: mappings become read-only, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


@dataclass(frozen=True)
class Event:
    """One KGSM event. Immutable: `data` is a read-only mapping, its lists are tuples."""

    id: str
    type: str
    data: Mapping[str, Any]
    timestamp: datetime
    received_at: datetime
    instance: str | None = None
    blueprint: str | None = None
    host: str | None = None
    actor: str | None = None
    origin: str | None = None
    producer_version: str | None = None
    envelope_version: int = 0
    summary: str | None = None
    source: str = field(default="socket", compare=False)

    @property
    def kind(self) -> EventKind:
        return kind_of(self.type)

    @property
    def family(self) -> Family:
        return self.kind.family

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    @property
    def subject(self) -> str:
        """What the event is about, for titles and logs: the instance, else the blueprint."""
        return self.instance or self.blueprint or "KGSM"


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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _stable_id(payload: Mapping[str, Any], has_timestamp: bool, received_at: datetime) -> str:
    """A de-duplication key for payloads without an `Id`.

    The same payload received twice (socket and journal, or a webhook retry) hashes the same. Payloads of
    2024 KGSM carry no timestamp at all, so two real `instance_started` of one server would hash the same;
    for them the receipt time joins the hash, because losing a real event is worse than not de-duplicating
    a producer that never retransmits.
    """
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if not has_timestamp:
        canonical += "@" + received_at.isoformat()
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def parse_event(
    document: Any, *, received_at: datetime | None = None, source: str = "socket", shallow: bool = False
) -> Event:
    """Turn one decoded JSON document into an `Event`, or raise `EventRefused`.

    `shallow` says the caller already knows the document cannot nest deeper than the limit (see
    `could_nest_deeply`), which saves walking it.
    """
    received = received_at or datetime.now(UTC)
    if not isinstance(document, dict):
        raise EventRefused(RefusalReason.NOT_OBJECT, f"expected a JSON object, got {type(document).__name__}")
    if not shallow and _nesting_depth_exceeds(document, MAX_NESTING):
        raise EventRefused(RefusalReason.TOO_DEEP, f"nested deeper than {MAX_NESTING} levels")
    if "EventType" not in document:
        raise EventRefused(RefusalReason.NO_EVENT_TYPE, "the object has no EventType")
    event_type = document["EventType"]
    if not isinstance(event_type, str) or not event_type.strip():
        raise EventRefused(
            RefusalReason.BAD_EVENT_TYPE, f"EventType must be a non-empty string, got {event_type!r:.40}"
        )
    data = document.get("Data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EventRefused(RefusalReason.BAD_DATA, f"Data must be an object, got {type(data).__name__}")

    timestamp = parse_timestamp(document.get("Timestamp")) or parse_timestamp(data.get("Timestamp"))
    raw_version = document.get("V", 0)
    envelope_version = raw_version if isinstance(raw_version, int) and not isinstance(raw_version, bool) else 0
    raw_id = document.get("Id")
    event_id = _text(raw_id) if isinstance(raw_id, str) else None

    return Event(
        id=event_id or _stable_id(document, timestamp is not None, received),
        type=event_type.strip().replace("-", "_"),
        data=freeze(data),
        timestamp=timestamp or received,
        received_at=received,
        instance=_text(data.get("InstanceName") or data.get("InstanceId") or data.get("Instance")),
        blueprint=_text(data.get("BlueprintName") or data.get("Blueprint")),
        host=_text(document.get("Hostname")),
        actor=_text(document.get("Actor")),
        origin=_text(document.get("Origin")),
        producer_version=_text(document.get("ProducerVersion") or document.get("KGSMVersion")),
        envelope_version=envelope_version,
        summary=_text(document.get("Summary")),
        source=source,
    )


def could_nest_deeply(raw: bytes) -> bool:
    """False when `raw` has too few brackets to nest past the limit: a cheap test that spares the walk."""
    return raw.count(b"{") + raw.count(b"[") > MAX_NESTING


def decode_event(raw: bytes, *, received_at: datetime | None = None, source: str = "socket") -> Event:
    """Decode one JSON document's bytes and parse it (see `parse_event`)."""
    try:
        document = json.loads(raw)
    except RecursionError as exc:
        raise EventRefused(RefusalReason.TOO_DEEP, "nested too deeply to decode") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise EventRefused(RefusalReason.NOT_JSON, f"{exc}"[:120]) from exc
    return parse_event(document, received_at=received_at, source=source, shallow=not could_nest_deeply(raw))
