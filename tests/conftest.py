"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.config import SocketSettings
from bot.intake import Intake
from bot.sources.socket_server import SocketServerSource
from bot.stats import IntakeStats
from tests.helpers import Collector


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short temporary directory: Unix socket paths must stay under 108 bytes, pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="kgsm-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def socket_settings(short_dir: Path) -> SocketSettings:
    return SocketSettings(path=short_dir / "run" / "kgsm.sock", read_timeout=2.0, max_payload_bytes=64 * 1024)


@dataclass
class RunningSource:
    source: SocketServerSource
    collector: Collector
    stats: IntakeStats

    @property
    def path(self) -> Path:
        return self.source.path


async def start_source(settings: SocketSettings) -> RunningSource:
    collector = Collector()
    stats = IntakeStats()
    source = SocketServerSource(settings, Intake(collector, stats))
    await source.start()
    return RunningSource(source, collector, stats)


@pytest.fixture
async def running(socket_settings: SocketSettings) -> AsyncIterator[RunningSource]:
    started = await start_source(socket_settings)
    yield started
    await started.source.stop()


@pytest.fixture
def settings_with(socket_settings: SocketSettings):  # type: ignore[no-untyped-def]
    """Variant socket settings for a test: `settings_with(read_timeout=0.5)`."""
    return lambda **changes: replace(socket_settings, **changes)
