"""The Docker image, built and run as users will (buildah here: no Docker engine runs on these machines).

`buildah bud` builds the same Dockerfile; with no registry reachable, the base image is made locally with
debootstrap (Debian with python3 and python3-venv) and passed as PYTHON_IMAGE. Inside the container the bot
must start, take an event written with socat into the mounted socket directory and post it to the fake
Discord on the host, answer /healthz, and stop cleanly on SIGTERM with its socket file removed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import DEFAULT_CHANNEL, TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import free_port, pretty, socat_send, started

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = "localhost/kgsm-bot-base:bookworm"
IMAGE = "localhost/kgsm-bot:test"
TOOLS = ("buildah", "podman", "debootstrap", "socat")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(os.geteuid() != 0, reason="buildah --isolation=chroot needs root"),
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in TOOLS), reason=f"needs {', '.join(TOOLS)} (.ci/run installs them)"
    ),
]


async def run(*command: str, timeout: float = 900, stdin: bytes | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(stdin), timeout)
    text = out.decode(errors="replace")
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{text[-3000:]}"
    return text


async def ensure_base_image() -> None:
    """Debian bookworm with python3 and python3-venv, imported as a local image (made once per machine)."""
    probe = await asyncio.create_subprocess_exec("podman", "image", "exists", BASE_IMAGE)
    if await probe.wait() == 0:
        return
    rootfs = Path(tempfile.mkdtemp(prefix="kgsm-rootfs-", dir="/var/tmp"))
    try:
        await run(
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates,passwd",
            "bookworm",
            str(rootfs),
            "http://deb.debian.org/debian",
        )
        tar = await asyncio.create_subprocess_exec("tar", "-C", str(rootfs), "-c", ".", stdout=asyncio.subprocess.PIPE)
        assert tar.stdout is not None
        archive = await tar.stdout.read()
        assert await tar.wait() == 0
        await run("podman", "import", "-", BASE_IMAGE, stdin=archive)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


async def build_image() -> None:
    mounts = []
    for shared in ("/etc/pip.conf", "/etc/ssl/certs"):
        if Path(shared).exists():  # pip reaches the package index with the machine's settings
            mounts += ["-v", f"{shared}:{shared}:ro"]
    await run(
        "buildah",
        "bud",
        "--isolation=chroot",
        "--pull=never",
        "--build-arg",
        f"PYTHON_IMAGE={BASE_IMAGE}",
        *mounts,
        "-t",
        IMAGE,
        str(ROOT),
    )


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def bot_pid(runner_pid: int) -> int | None:
    """The bot's own Python process: buildah's helper processes carry the same arguments, not the program."""
    for pid in descendants(runner_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if Path(command[0].decode()).name.startswith("python") and b"bot" in command:
            return pid
    return None


@pytest.fixture
async def container() -> AsyncIterator[str]:
    await ensure_base_image()
    await build_image()
    name = (await run("buildah", "from", IMAGE)).strip().splitlines()[-1]
    yield name
    await run("buildah", "rm", name)


async def test_the_image_runs_the_bot_end_to_end(fake: FakeDiscord, container: str) -> None:
    config = json.loads(await run("buildah", "inspect", "--type", "image", IMAGE))["OCIv1"]["config"]
    assert config["User"] == "kgsm-bot"
    assert "KGSM_SOCKET_PATH=/run/kgsm-bot/kgsm-events.sock" in config["Env"]
    entrypoint = config["Entrypoint"] + (config.get("Cmd") or [])

    socket_dir = Path(tempfile.mkdtemp(prefix="kgsm-run-", dir="/tmp"))
    socket_dir.chmod(0o777)  # the image's non-root user must be able to create its socket here
    socket_path = socket_dir / "kgsm-events.sock"
    port = free_port()
    env = {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_GUILD_ID": str(fake.guild_id),
        "KGSM_DEFAULT_CHANNEL_ID": str(DEFAULT_CHANNEL),
        "BOT_HTTP_PORT": str(port),
    }
    env_args = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    runner = await asyncio.create_subprocess_exec(
        "buildah",
        "run",
        "--isolation=chroot",
        "-v",
        f"{socket_dir}:/run/kgsm-bot",
        *env_args,
        container,
        *entrypoint,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake.wait_for(lambda: fake.connected and socket_path.exists(), timeout=120)
        assert await socat_send(socket_path, pretty(started("factorio"))) == 0
        (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL, timeout=30)
        assert "factorio" in message["embeds"][0]["title"]

        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["gateway"] == "connected"

        pid = bot_pid(runner.pid)
        assert pid is not None, "the bot's process was not found under buildah run"
        os.kill(pid, signal.SIGTERM)
        output, _ = await asyncio.wait_for(runner.communicate(), 30)
        assert runner.returncode == 0, output.decode()[-3000:]
        assert not socket_path.exists()
    finally:
        if runner.returncode is None:
            runner.kill()
            await runner.wait()
        shutil.rmtree(socket_dir, ignore_errors=True)
