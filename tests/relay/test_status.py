"""What the relay says about itself: bytes not yet acknowledged, the status line, and /healthz turning 503 once
it has not been able to deliver for a minute."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from bot.config import RelaySettings
from bot.relay.central import Central
from bot.relay.forwarder import Forwarder
from bot.relay.status import UNHEALTHY_AFTER, HealthServer, RelayStatus, behind
from bot.runtime.supervisor import Supervisor
from bot.sources.journal import Cursor, JournalFollower
from tests.helpers import free_port


async def _nothing(_: str) -> None:
    return None


def follower(directory: Path, central: Central) -> JournalFollower:
    return JournalFollower(directory, Forwarder(central), _Facts(), start="end", report_gap=_nothing)


class _Facts:
    async def get_fact(self, key: str) -> str | None:
        return None

    async def set_fact(self, key: str, value: str) -> None:
        return None


def central() -> Central:
    return Central(RelaySettings(url="http://127.0.0.1:9/kgsm/webhook", secret="s" * 16, host="eu1"))


def test_behind_counts_the_rest_of_the_cursors_segment_and_every_later_one(tmp_path: Path) -> None:
    (tmp_path / "2026-09-11.ndjson").write_bytes(b"x" * 50)  # before the cursor: done
    (tmp_path / "2026-09-12.ndjson").write_bytes(b"x" * 100)
    (tmp_path / "2026-09-13.ndjson").write_bytes(b"x" * 30)
    (tmp_path / "notes.txt").write_bytes(b"x" * 1000)  # no segment
    followed = follower(tmp_path, central())
    assert behind(followed) == 0  # no cursor yet
    followed.cursor = Cursor("2026-09-12.ndjson", 60)
    assert behind(followed) == 40 + 30


async def test_healthz_is_503_once_the_relay_could_not_deliver_for_a_minute(tmp_path: Path) -> None:
    relay = central()
    followed = follower(tmp_path, relay)
    followed.cursor = Cursor("2026-09-12.ndjson", 0)
    (tmp_path / "2026-09-12.ndjson").write_bytes(b"{}\n" * 4)
    status = RelayStatus(relay, Forwarder(relay), lambda: {tmp_path: followed}, Supervisor())
    port = free_port()
    health = HealthServer(status, port)
    await health.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["behind_bytes"] == 12
            relay.problem = "the central bot at http://127.0.0.1:9/kgsm/webhook cannot be reached (refused)"
            relay.problem_since = time.monotonic() - 5
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200  # a short outage: the relay is doing what it should
            relay.problem_since = time.monotonic() - UNHEALTHY_AFTER - 1
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 503
                report = await response.json()
        assert report["problem"] == relay.problem
        assert status.line().startswith("relay: 1 journals, 12 bytes behind, 0 forwarded")
        assert "NOT delivering for 61 s: the central bot at" in status.line()
    finally:
        await health.stop()
