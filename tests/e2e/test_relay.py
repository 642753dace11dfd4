"""Many hosts through one bot: `python -m bot relay` (a real process) follows a game host's producer journals
(real files) and forwards every event to a central bot (the real bot, logged in to the fake Discord) over
loopback, signed with the shared secret. Every event is posted once, routed by the relay's host name, across a
central bot that is down for a while, a relay stopped with SIGTERM or killed with SIGKILL in the middle of a
backlog, a journal that rotates to a new segment and poison lines; the fixtures are from 2026-09-12, far
outside the webhook's 5-minute replay window. A wrong secret is said plainly and retried with backoff."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.events import Event, parse_event
from tests.conftest import CHANNEL_A, DEFAULT_CHANNEL, LiveBot, StartBot
from tests.dotted import PRODUCERS, SEGMENT, check_posted_once, compact, embed_text, embeds_of
from tests.e2e.test_journals import append, fixture_lines
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import bot_environment, free_port
from tests.sources.test_webhook import SECRET

HOST = "eu1"
NEXT_SEGMENT = "2026-09-13.ndjson"
POISON = [b"this is no json\n", b'{"EventType": 5, "Data": {}}\n', b'{"EventType":"server.started","Data":"\xff"}\n']


def channel_of(event: Event) -> int:
    return CHANNEL_A if event.instance == "valheim" else DEFAULT_CHANNEL  # KGSM_CHANNELS=eu1:valheim=A


@dataclass
class Relay:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}/healthz") as response,
        ):
            return response.status, await response.json()

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"the relay ended ({self.process.returncode}):\n{self.text()}")
                try:
                    _, report = await self.health()
                except aiohttp.ClientError:
                    report = None
                if report is not None and predicate(report):
                    return report
                await asyncio.sleep(0.05)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 10)


class Host:
    """A game host: its producers' journals under `root`, and the relays started on it."""

    def __init__(self, short_dir: Path, central_port: int) -> None:
        self.dir = short_dir
        self.root = short_dir / "gamehost" / "lib"
        self.central_port = central_port
        self.relays: list[Relay] = []
        for producer in PRODUCERS:
            (self.root / producer / "events").mkdir(parents=True)
            (self.root / producer / "events" / SEGMENT).touch()

    async def start_relay(self, secret: str = SECRET, **settings: str) -> Relay:
        port = free_port()
        env = bot_environment(self.dir)
        env.update(
            KGSM_RELAY_URL=f"http://127.0.0.1:{self.central_port}/kgsm/webhook",
            KGSM_WEBHOOK_SECRET=secret,
            KGSM_RELAY_HOST=HOST,
            KGSM_JOURNAL_ROOT=str(self.root),
            BOT_DATA_DIR=str(self.dir / "relay-data"),
            KGSM_RELAY_HTTP_PORT=str(port),
            KGSM_RELAY_RETRY_MAX="1",
            **settings,
        )
        log = self.dir / f"relay-{len(self.relays)}.log"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "relay", cwd=self.dir, env=env, stdout=stderr, stderr=stderr
            )
        relay = Relay(process, port, log)
        self.relays.append(relay)
        await relay.wait_for(lambda report: len(report["journals"]) == len(PRODUCERS))
        return relay

    def write(self, lines: list[tuple[str, dict[str, Any]]], segment: str = SEGMENT) -> list[Event]:
        for producer, document in lines:
            append(self.root / producer / "events" / segment, compact(document))
        return [parse_event(document) for _, document in lines]


@pytest.fixture
async def host(short_dir: Path) -> AsyncIterator[Host]:
    made = Host(short_dir, free_port())
    yield made
    for relay in made.relays:
        if relay.process.returncode is None:
            relay.process.kill()
            await relay.process.wait()


async def start_central(start_bot: StartBot, port: int) -> LiveBot:
    return await start_bot(
        BOT_HTTP_PORT=str(port),
        KGSM_WEBHOOK_SECRET=SECRET,
        KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL),
        KGSM_CHANNELS=f"{HOST}:valheim={CHANNEL_A}",
    )


async def settle(fake: FakeDiscord, central: LiveBot, events: int) -> None:
    await fake.wait_for(lambda: central.bot.stats.accepted >= events, timeout=30)
    await central.bot.recorder.flush()
    await asyncio.wait_for(central.bot.delivery.drain(), 30)


async def stored(central: LiveBot) -> int:
    return await central.bot.store.count_events()


async def test_every_event_of_every_producer_is_posted_once_across_outages_of_either_side(
    fake: FakeDiscord, start_bot: StartBot, host: Host
) -> None:
    lines = fixture_lines()
    first, second, third = lines[:20], lines[20:40], lines[40:]
    central = await start_central(start_bot, host.central_port)
    relay = await host.start_relay()

    events = host.write(first[:10])
    for poison in POISON:  # lines that are no event: skipped by the relay, the journal goes on
        append(host.root / "kgsm" / "events" / SEGMENT, poison)
    events += host.write(first[10:])
    await settle(fake, central, len(first))
    await check_posted_once(fake, central.bot, events, channel_of)
    report = await relay.wait_for(lambda report: report["forwarded"] == len(first))
    assert (report["skipped"], report["refused"], report["behind_bytes"]) == (len(POISON), 0, 0)

    await central.stop()  # the central bot is down (connection refused) while the host goes on
    events += host.write(second)
    report = await relay.wait_for(lambda report: report["problem"] is not None)
    assert "cannot be reached" in report["problem"]
    assert report["behind_bytes"] > 0
    central = await start_central(start_bot, host.central_port)
    await settle(fake, central, len(second))
    await check_posted_once(fake, central.bot, events, channel_of)
    await relay.wait_for(lambda report: report["problem"] is None and report["behind_bytes"] == 0)
    assert "cannot be reached" in relay.text()
    assert "answers again" in relay.text()

    assert await relay.stop() == 0  # SIGTERM: a clean exit
    assert "relay stopping" in relay.text()
    events += host.write(third, NEXT_SEGMENT)  # while the relay is down, and in the next day's segment
    relay = await host.start_relay()
    await settle(fake, central, len(second) + len(third))
    await check_posted_once(fake, central.bot, events, channel_of)
    assert await stored(central) == len(lines)
    await relay.wait_for(lambda report: report["behind_bytes"] == 0)

    text = "\n".join(embed_text(embed) for embed in embeds_of(fake, [CHANNEL_A, DEFAULT_CHANNEL]))
    assert "on eu1" in text  # the relay names the host …
    assert "on gamehost" not in text  # … not the Hostname KGSM wrote
    assert "valheim recovered after 1 min 37 s" in "\n".join(  # its crash incident
        embed_text(embed) for embed in embeds_of(fake, [CHANNEL_A])
    )
    async with central.bot.store.db.execute("SELECT DISTINCT host, source FROM events") as cursor:
        assert {tuple(row) for row in await cursor.fetchall()} == {(HOST, "relay")}


def generated(count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` events of two producers, each with its own Id, all from 2026-09-12."""
    lines = []
    for n in range(count):
        producer = PRODUCERS[n % 2]
        lines.append(
            (
                producer,
                {
                    "V": 2,
                    "Id": f"01a09435-0000-7000-8000-{n:012d}",
                    "EventType": "server.started" if producer == "kgsm" else "server.ready",
                    "Data": {"InstanceName": f"server-{n:03d}"},
                    "Timestamp": f"2026-09-12T10:{n // 60:02d}:{n % 60:02d}.000Z",
                    "Hostname": "gamehost",
                    "ProducerVersion": "3.18.0",
                },
            )
        )
    return lines


async def test_a_relay_killed_in_the_middle_of_a_backlog_loses_nothing_and_posts_nothing_twice(
    fake: FakeDiscord, start_bot: StartBot, host: Host
) -> None:
    count = 150
    relay = await host.start_relay()  # the central bot is not up yet: a backlog builds up
    events = host.write(generated(count))
    await relay.wait_for(lambda report: report["problem"] is not None)
    central = await start_central(start_bot, host.central_port)
    await fake.wait_for(lambda: central.bot.stats.accepted >= 20, timeout=30)
    relay.process.kill()  # SIGKILL, in the middle of the backlog
    await relay.process.wait()
    assert central.bot.stats.accepted < count, "the backlog was through before the kill"

    relay = await host.start_relay()
    await fake.wait_for(lambda: central.bot.stats.accepted >= count, timeout=60)
    await relay.wait_for(lambda report: report["behind_bytes"] == 0, timeout=30)
    await settle(fake, central, count)
    assert await stored(central) == count
    await check_posted_once(fake, central.bot, events, lambda _: DEFAULT_CHANNEL)


async def test_a_wrong_secret_is_said_plainly_and_retried_with_backoff_until_the_secret_is_right(
    fake: FakeDiscord, start_bot: StartBot, host: Host
) -> None:
    central = await start_central(start_bot, host.central_port)
    relay = await host.start_relay(secret="not-the-central-bots-secret")
    events = host.write(fixture_lines()[:1])
    report = await relay.wait_for(lambda report: report["problem"] is not None)
    assert "refuses the signature" in report["problem"]
    await asyncio.sleep(4)  # backing off: at most one attempt a second (KGSM_RELAY_RETRY_MAX=1)
    refused = central.bot.stats.refused.get("bad_signature", 0)
    assert 2 <= refused <= 10
    _, report = await relay.health()
    assert (report["forwarded"], report["behind_bytes"] > 0) == (0, True)
    assert await stored(central) == 0
    text = relay.text()
    assert "KGSM_WEBHOOK_SECRET must be the same on both sides" in text
    assert text.count("refuses the signature") <= 2  # said once (a summary a minute later), not per attempt
    assert relay.process.returncode is None

    assert await relay.stop() == 0
    await host.start_relay()  # the secret fixed: the event waited in the journal
    await settle(fake, central, 1)
    await check_posted_once(fake, central.bot, events, channel_of)


async def test_a_relay_needs_only_its_own_settings(short_dir: Path) -> None:
    env = bot_environment(short_dir, KGSM_WEBHOOK_SECRET="short")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "relay", cwd=short_dir, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert err.decode().splitlines() == [
        "kgsm-bot: KGSM_RELAY_URL='' must be the central bot's webhook, like http://central:8080/kgsm/webhook",
        "kgsm-bot: KGSM_WEBHOOK_SECRET must be the central bot's secret (16+ characters)",
    ]


async def test_on_its_first_start_a_relay_may_send_the_history_on_disk_which_is_stored_not_posted(
    fake: FakeDiscord, start_bot: StartBot, host: Host
) -> None:
    lines = fixture_lines()
    history = host.write(lines[:-1])  # on disk before the relay ever ran
    central = await start_central(start_bot, host.central_port)
    relay = await host.start_relay(KGSM_JOURNAL_START="replay")
    await relay.wait_for(lambda report: report["forwarded"] == len(history) and report["behind_bytes"] == 0)
    await settle(fake, central, len(history))
    assert await stored(central) == len(history)
    assert fake.posts() == []  # history: in /events and /status, not posted
    (new,) = host.write(lines[-1:])
    await settle(fake, central, len(history) + 1)
    await check_posted_once(fake, central.bot, [new], channel_of)
