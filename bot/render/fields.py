"""An event's Data as readable embed fields: labels, formats, and what is never shown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.events import Subject, reported
from bot.events.parsing import thaw
from bot.render.text import code, hide_addresses, safe, words

# The keys that name an event's subject, by its kind of subject: already in the title, so not repeated. A key
# that names something else than the subject (an assistant's `Instance`) is a value like any other.
SUBJECT_KEYS: Mapping[Subject, frozenset[str]] = {
    Subject.INSTANCE: frozenset({"InstanceName", "InstanceId", "Instance"}),
    Subject.BLUEPRINT: frozenset({"BlueprintName"}),
    Subject.LIBRARY: frozenset({"LibraryName"}),
    Subject.COMPONENT: frozenset({"Leaf"}),
}
# Keys that repeat the envelope.
ENVELOPE_KEYS = frozenset({"Timestamp"})
# Values that identify a player's connection or a login session: never shown in a channel.
PRIVATE_KEYS = frozenset({"SessionKey", "PlayerAddr", "Sid", "UserAgent", "PeerNode"})
# All a player event may show, whatever other keys a producer adds (an `IpAddress` one day): who, why, and the
# moderator's command.
PLAYER_KEYS = frozenset(
    {"InstanceName", "InstanceId", "Instance", "PlayerName", "PlayerId", "Target", "Reason", "Command"}
)

LABELS: dict[str, str] = {
    "Blueprint": "Blueprint",
    "ExitCode": "Exit code",
    "Restarts": "Restarts",
    "Ports": "Ports",
    "PlayerName": "Player",
    "PlayerId": "Player id",
    "Target": "Target",
    "Command": "Command",
    "Key": "Setting",
    "Source": "Backup",
    "BackupId": "Backup",
    "Version": "Version",
    "Deleted": "Deleted",
    "Kept": "Kept",
    "Pinned": "Pinned",
    "Tier": "Tier",
    "Runtime": "Runtime",
    "OverridesSystem": "Overrides a system blueprint",
    "RevertedToSystem": "Reverted to the system blueprint",
    "LifecycleManager": "Lifecycle manager",
    "Reason": "Reason",
    "Library": "Library",
    "FromLibrary": "From library",
    "ToLibrary": "To library",
    "Message": "Message",
    "Path": "Path",
    "SizeBytes": "Size",
    "RuleKey": "Rule",
    "PeakValue": "Peak",
    "OpenValue": "When crossed",
    "CloseValue": "When cleared",
    "Band": "Level",
    "PeakBand": "Highest level",
    "Detail": "Detail",
    "Component": "Part",
    "EpisodeId": "Episode",
    "OpenedTs": "Since",
    "ClosedTs": "Until",
    "CloseReason": "Why it cleared",
}
CODE_KEYS = frozenset({"Command", "Key", "Source", "BackupId", "Path", "Sha256", "RuleKey"})
VERSION_PAIRS = (
    ("OldVersion", "NewVersion", "Version"),
    ("CurrentVersion", "LatestVersion", "Available update"),
    ("OldDisplayName", "NewDisplayName", "Name"),
)
_MILLISECOND_TIMES = frozenset({"OpenedTs", "ClosedTs"})


def format_ports(ports: Any) -> str:
    """`[{start: 27015, end: 27020, protocol: tcp}]` → `27015-27020/tcp`."""
    if not isinstance(ports, list | tuple):
        return safe(ports)
    shown = []
    for port in ports:
        if isinstance(port, Mapping):
            start, end, protocol = port.get("start"), port.get("end"), port.get("protocol") or "?"
            span = f"{start}" if end in (None, start) else f"{start}-{end}"
            shown.append(f"{span}/{protocol}")
        else:
            shown.append(str(port))
    return safe(", ".join(shown)) if shown else "none"


def format_size(raw: Any) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    size = float(raw)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return None  # pragma: no cover - the loop always returns


def format_value(key: str, value: Any) -> str | None:
    """A Data value as shown in a field; None when there is nothing worth showing."""
    if key == "Ports":
        return format_ports(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "SizeBytes" and (size := format_size(value)) is not None:
        return size
    if key in _MILLISECOND_TIMES and isinstance(value, int) and not isinstance(value, bool):
        return f"<t:{value // 1000}:f>"
    if isinstance(value, Mapping | list | tuple):
        return code(json.dumps(thaw(value), separators=(",", ":"), ensure_ascii=False)) if value else None
    text = reported(value)
    if text is None:
        return None
    return code(text) if key in CODE_KEYS else safe(text)


def player_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A player event's Data as it may be shown: only `PLAYER_KEYS`, with any address in them hidden."""
    return {
        key: hide_addresses(value) if isinstance(value, str) else value
        for key, value in data.items()
        if key in PLAYER_KEYS
    }


def data_fields(data: Mapping[str, Any], subject: Subject = Subject.NONE) -> list[tuple[str, str]]:
    """Every Data value worth showing, as (label, value): not the keys naming the `subject` (it is in the
    title), private keys or unreported values."""
    hidden = SUBJECT_KEYS.get(subject, frozenset()) | ENVELOPE_KEYS
    fields: list[tuple[str, str]] = []
    paired: set[str] = set()
    for old_key, new_key, label in VERSION_PAIRS:
        old, new = reported(data.get(old_key)), reported(data.get(new_key))
        if old is not None or new is not None:
            fields.append((label, f"{safe(old or '?')} → {safe(new or '?')}" if old else safe(new or "?")))
            paired.update((old_key, new_key))
    for key, value in data.items():
        if key in hidden or key in PRIVATE_KEYS or key in paired:
            continue
        shown = format_value(key, value)
        if shown is not None:
            fields.append((LABELS.get(key) or safe(words(key)), shown))
    return fields
