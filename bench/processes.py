"""Child processes of the benchmarks: the bot (`python -m bot`), the baselines and the client load."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.discord_server import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-" + "x" * 60
STOP_TIMEOUT = 10.0


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A short temporary directory (a Unix socket path must stay under 108 bytes).

    It is removed afterwards, unless something failed: then it is kept with the processes' logs in it.
    """
    path = Path(tempfile.mkdtemp(prefix="kgsm-bench-", dir="/tmp"))
    try:
        yield path
    except BaseException:
        print(f"kept {path} for inspection (the *.log files are the processes' standard error)", file=sys.stderr)
        raise
    shutil.rmtree(path, ignore_errors=True)


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without any bot or Discord setting, so a developer's own settings never leak in."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "KGSM_", "BOT_"))}
    return {**inherited, "PYTHONPATH": str(ROOT), **extra}


def discord_settings(fake: FakeDiscord) -> dict[str, str]:
    """The settings that log a bot (ours or the baseline client) in to the fake Discord."""
    return {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_GUILD_ID": str(fake.guild_id),
    }


def bot_settings(directory: Path, **settings: str) -> dict[str, str]:
    """The bot's socket and database in `directory`, plus `settings`."""
    return {
        "KGSM_SOCKET_PATH": str(directory / "kgsm.sock"),
        "BOT_DATA_DIR": str(directory / "data"),
        **settings,
    }


async def spawn(
    module: str, *args: str, cwd: Path, settings: Mapping[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`python -m module args…` in `cwd` (where no `.env` is), stdin and stdout piped, stderr to a log file."""
    with open(cwd / f"{module}.log", "ab") as log:  # noqa: ASYNC230 - a local file, opened once per process
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=cwd,
            env=_environment(settings or {}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `STOP_TIMEOUT` seconds."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def running(process: asyncio.subprocess.Process) -> AsyncIterator[asyncio.subprocess.Process]:
    try:
        yield process
    finally:
        await stop(process)


def accepts(path: Path) -> bool:
    """Whether a Unix socket at `path` accepts a connection now (it is closed at once, sending nothing)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


async def wait_until(condition: Callable[[], bool], limit: float, what: str, interval: float = 0.005) -> float:
    """Poll `condition()` until it is true; returns `time.monotonic()` at that moment."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {limit:g} s")
        await asyncio.sleep(interval)
    return time.monotonic()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Memory:
    """Resident memory of a process in MiB (2**20 bytes): now (VmRSS) and the peak so far (VmHWM)."""

    rss: float
    peak: float


def memory(pid: int) -> Memory:
    """Read from /proc/PID/status: the kernel's own accounting of that process alone."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return Memory(rss=values["VmRSS"], peak=values["VmHWM"])
