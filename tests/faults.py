"""Shared helpers of the fault-injection tests (tests/e2e/test_faults_*.py): what a person sees, and the bot's word."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import DEFAULT_CHANNEL, LiveBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import socat_send

_TITLE_SUBJECT = re.compile(r"^\S+ (.+?) — ")


def started(instance: str, **data: Any) -> bytes:
    """`server.started` of one server, as KGSM writes it to its socket (pretty JSON and a newline)."""
    document = {"EventType": "instance_started", "Data": {"InstanceName": instance, **data}}
    return json.dumps(document, indent=2).encode() + b"\n"


def posted_subjects(fake: FakeDiscord, channel: int = DEFAULT_CHANNEL) -> Counter[str]:
    """How many embeds name each server in the channel (titles read "🟢 <server> — started")."""
    found: Counter[str] = Counter()
    for message in fake.messages(channel):
        for embed in message["embeds"]:
            match = _TITLE_SUBJECT.match(embed.get("title", ""))
            if match:
                found[match.group(1).replace("\\", "")] += 1
    return found


async def send(live: LiveBot, *payloads: bytes) -> None:
    for payload in payloads:
        assert await socat_send(live.socket_path, payload) == 0


async def settled(live: LiveBot, received: int, timeout: float = 30) -> None:
    """Everything received is stored, dispatched and delivered."""
    deadline = asyncio.get_running_loop().time() + timeout
    while live.bot.stats.received < received:
        assert asyncio.get_running_loop().time() < deadline, "the bot did not receive everything"
        await asyncio.sleep(0.02)
    await asyncio.wait_for(live.bot.recorder.flush(), timeout)
    await asyncio.wait_for(live.bot.delivery.drain(), timeout)


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def metric(port: int, name: str) -> float:
    """The value of one Prometheus sample line (e.g. `kgsm_task_restarts_total{task="status-board"}`), 0 if absent."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    """A small tmpfs at `path` (a disk that can really fill up); yields False where this machine forbids mounts."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, check=False
    )
    try:
        yield mounted.returncode == 0
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def fill(directory: Path) -> Path:
    """Fill the file system of `directory` to the last byte; returns the filler to delete."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while out.write(b"\0" * size):
                    pass
    return filler
