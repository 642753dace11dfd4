"""`python -m bot emit`: send one event exactly as KGSM does, to test a setup end to end.

KGSM runs `echo "$payload" | socat - UNIX-CONNECT:<path>`: one connection, one pretty-printed JSON
document and a newline, then EOF. This command does the same and says whether it was delivered.
"""

from __future__ import annotations

import argparse
import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.events import Subject, canonical_type, kind_of


def parse_data_value(raw: str) -> Any:
    """KGSM Data values are strings, except arrays, objects, numbers and booleans written as JSON."""
    stripped = raw.strip()
    if stripped[:1] in ("[", "{") or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return raw
    return raw


def build_payload(event_type: str, instance: str, data: list[str]) -> dict[str, Any]:
    event_type = event_type.strip().replace("-", "_")
    subject = kind_of(canonical_type(event_type)).subject
    subject_key = "BlueprintName" if subject is Subject.BLUEPRINT else "InstanceName"
    body: dict[str, Any] = {subject_key: instance}
    for pair in data:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--data {pair!r} must be KEY=VALUE")
        body[key] = parse_data_value(value)
    return {
        "EventType": event_type,
        "Data": body,
        "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "Actor": "kgsm-bot:emit",
        "Origin": "cli",
        "Hostname": socket.gethostname(),
    }


def send(path: Path, payload: dict[str, Any], *, compact: bool = False, timeout: float = 5.0) -> None:
    """Connect, write the document and a newline, close. Raises OSError when nobody listens."""
    text = json.dumps(payload, separators=(",", ":")) if compact else json.dumps(payload, indent=2)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(text.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_type", help="e.g. server.started, or instance_started as older KGSM (dashes work too)")
    parser.add_argument("--instance", required=True, help="instance name (blueprint name for blueprint_* events)")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="extra Data fields")
    parser.add_argument("--socket", type=Path, help="socket path (default: KGSM_SOCKET_PATH from the settings)")
    parser.add_argument("--compact", action="store_true", help="send one compact line instead of pretty JSON")


def run(args: argparse.Namespace, default_socket: Path) -> int:
    path: Path = args.socket or default_socket
    try:
        payload = build_payload(args.event_type, args.instance, args.data)
    except ValueError as exc:
        print(f"not sent: {exc}")
        return 2
    try:
        send(path, payload, compact=args.compact)
    except OSError as exc:
        print(f"not delivered: nothing is listening on {path} ({exc.strerror or exc}); is the bot running?")
        return 1
    print(f"delivered {payload['EventType']} for {args.instance} to {path}")
    return 0
