"""`python -m bot emit`: sends one event exactly as KGSM does and says whether it was delivered."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import RunningSource

ROOT = Path(__file__).resolve().parents[2]


async def _emit(*args: str, cwd: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "emit", *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_emit_delivers_a_pretty_event(running: RunningSource) -> None:
    code, out = await _emit(
        "instance-crashed",
        "--instance",
        "factorio",
        "--data",
        "ExitCode=137",
        "--data",
        'Ports=[{"start": 34197, "end": 34197, "protocol": "udp"}]',
        "--socket",
        str(running.path),
        cwd=running.path.parent,
    )
    assert code == 0
    assert "delivered instance_crashed" in out
    (event,) = await running.collector.wait_count(1)
    assert (event.type, event.instance, event.data["ExitCode"]) == ("server.crashed", "factorio", "137")
    assert event.data["Ports"][0]["protocol"] == "udp"
    assert event.origin == "cli"


async def test_emit_compact_and_blueprint_subject(running: RunningSource) -> None:
    code, _ = await _emit(
        "blueprint_created",
        "--instance",
        "factorio",
        "--compact",
        "--socket",
        str(running.path),
        cwd=running.path.parent,
    )
    assert code == 0
    (event,) = await running.collector.wait_count(1)
    assert (event.blueprint, event.instance) == ("factorio", None)


async def test_emit_says_when_nobody_listens(short_dir: Path) -> None:
    code, out = await _emit(
        "instance_started", "--instance", "x", "--socket", str(short_dir / "none.sock"), cwd=short_dir
    )
    assert code == 1
    assert "not delivered" in out
