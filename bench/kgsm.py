"""Events as KGSM sends them: pretty-printed documents, one connection per event, socat's way of closing.

KGSM runs `echo "$payload" | socat - UNIX-CONNECT:<path>`. socat writes the document and the newline `echo` adds,
shuts its writing side down at the end of its input, and exits when the other side closes. `send` does exactly that
with asyncio instead of spawning socat, so the benchmarks measure the server rather than process creation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Recent, so that no history pruning ever removes a benchmark's events.
_EPOCH = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
READ_CHUNK = 64 * 1024

# An install as KGSM 2.x sends it: its 12 steps, with the version KGSM records before the last one.
_INSTALL_STEPS = (
    "installation_started created directories_created files_created download_started download_finished "
    "downloaded deploy_started deploy_finished deployed installation_finished version_updated installed"
)
INSTALL = tuple(f"instance_{step}" for step in _INSTALL_STEPS.split())
UPDATE = (
    "instance_update_started",
    "instance_download_started",
    "instance_download_finished",
    "instance_downloaded",
    "instance_deploy_started",
    "instance_deploy_finished",
    "instance_deployed",
    "instance_version_updated",
    "instance_update_finished",
    "instance_updated",
)
BACKUP = ("instance_backup_started", "instance_backup_created", "instance_backup_finished")
# A server's busy day as KGSM reports it: installed, started, played on, backed up, updated, stopped.
_DAY = (
    *INSTALL,
    "instance_started",
    "instance_ready",
    "instance_player_joined",
    "instance_player_left",
    *BACKUP,
    *UPDATE,
    "instance_started",
    "instance_ready",
    "instance_stopped",
)
_DATA: dict[str, dict[str, Any]] = {
    "instance_installation_started": {"Blueprint": "factorio"},
    "instance_version_updated": {"OldVersion": "2.0.41", "NewVersion": "2.0.42"},
    "instance_player_joined": {"PlayerName": "Ada", "PlayerId": "76561198000000001"},
    "instance_player_left": {"PlayerName": "Ada", "PlayerId": "76561198000000001"},
    "instance_backup_created": {"Source": "factorio-2026-08-14T03-00-00", "Version": "2.0.41"},
}


def document(event_type: str, instance: str, sequence: int, **data: Any) -> dict[str, Any]:
    """A KGSM 2026 envelope; `sequence` makes its time, hence its event id, unique."""
    moment = _EPOCH + timedelta(milliseconds=sequence)
    return {
        "EventType": event_type,
        "Data": {"InstanceName": instance, "LifecycleManager": "standalone", **_DATA.get(event_type, {}), **data},
        "Timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "Actor": "kgsm",
        "Origin": None,
        "Hostname": "gamehost",
        "KGSMVersion": "2.4.0",
    }


def pretty(payload: dict[str, Any]) -> bytes:
    """What `jq -n` prints and `echo` ends with a newline."""
    return json.dumps(payload, indent=2).encode() + b"\n"


def busy_days(prefix: str, count: int, first_sequence: int, servers: int = 4) -> Iterator[bytes]:
    """`count` pretty events of `servers` servers living through `_DAY` in turn, day after day."""
    for n in range(count):
        day, step = divmod(n, len(_DAY))
        yield pretty(document(_DAY[step], f"{prefix}-{day % servers}", first_sequence + n))


async def send(path: Path, payload: bytes) -> None:
    """One event, as `echo "$payload" | socat - UNIX-CONNECT:<path>`: write, shut down, wait for the close."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    try:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        while await reader.read(READ_CHUNK):
            pass
    finally:
        writer.close()
        await writer.wait_closed()
