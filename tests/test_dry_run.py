"""Dry-run: without a token, `python -m bot` prints each embed it would post, with its target channel."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.helpers import bot_environment, start_bot_process


async def _run_dry(short_dir: Path, extra_env: dict[str, str]) -> tuple[str, str, int]:
    socket_path = short_dir / "kgsm.sock"
    env = bot_environment(short_dir, **extra_env)
    bot = await start_bot_process(short_dir, env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    emit = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "emit",
        "instance_started",
        "--instance",
        "factorio",
        cwd=short_dir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    emitted, _ = await asyncio.wait_for(emit.communicate(), 60)
    assert emit.returncode == 0, emitted
    await asyncio.sleep(0.5)
    bot.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(bot.communicate(), 20)
    assert not socket_path.exists()
    return out.decode(), err.decode(), bot.returncode or 0


async def test_dry_run_prints_the_embed_with_its_channel(short_dir: Path) -> None:
    out, err, code = await _run_dry(short_dir, {"KGSM_DEFAULT_CHANNEL_ID": "123456789012345678"})
    assert code == 0
    assert "would post to channel 123456789012345678" in out
    assert "🟢 factorio — started" in out
    assert "**factorio** has started." in out
    assert "dry-run" in err


async def test_dry_run_without_channels_still_shows_what_would_be_posted(short_dir: Path) -> None:
    out, err, code = await _run_dry(short_dir, {})
    assert code == 0
    assert "would post to no channel" in out
    assert "🟢 factorio — started" in out
    assert "no channel for factorio" in err
