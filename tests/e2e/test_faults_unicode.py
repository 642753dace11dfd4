"""Arbitrary Unicode, lone surrogates included, in every field of an event, through the socket and the journal
(issue 13): after each example the bot is alive, nothing is restarting, and a valid event sent right after it
is stored; everything it posts Discord accepts (the fake validates every message as Discord does)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import socat_send

# Any code point, lone surrogates very often, and the characters markdown and mentions are made of.
characters = st.one_of(
    st.characters(codec=None, categories=None, exclude_categories=[]),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(list("*_~`|<>[]()#@:/\\\n\u202e\u2066\u200b\ufeff")),
)
texts = st.text(alphabet=characters, max_size=40)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=12,
)
types = st.one_of(
    texts,
    st.sampled_from(["instance_started", "server.crashed", "server.install.started", "player.joined", "leaf.degraded"]),
)
fields = {
    "Id": st.none() | texts,
    "Timestamp": texts | st.just("2026-12-01T08:00:00.000Z"),
    "Actor": texts,
    "Origin": texts,
    "Hostname": texts,
    "Summary": texts,
    "Severity": texts | st.sampled_from(["info", "warn", "danger"]),
    "Outcome": texts | st.sampled_from(["success", "failure", "neutral"]),
    "ProducerVersion": texts,
    "KGSMVersion": texts,
    "V": st.integers(-5, 5) | texts,
}
payloads = st.fixed_dictionaries(
    {
        "EventType": types,
        "Data": st.dictionaries(
            st.sampled_from(["InstanceName", "PlayerName", "ExitCode", "Ports", "Command"]) | texts, values, max_size=6
        ),
    },
    optional=fields,
)
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def encoded(document: dict[str, Any]) -> bytes:
    """JSON as a producer writes it: lone surrogates become `\\udXXX` escapes (valid JSON, invalid Unicode)."""
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


def canary() -> dict[str, Any]:
    return {"V": 2, "Id": str(uuid.uuid4()), "EventType": "server.started", "Data": {"InstanceName": "canary"}}


async def stored(live: LiveBot, event_id: str) -> bool:
    async with live.bot.store.session() as db, db.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)) as cur:
        return await cur.fetchone() is not None


async def alive_after(live: LiveBot, send: Any, document: dict[str, Any]) -> None:
    """Send the example and then a valid event; the valid one must be stored, nothing may be failing."""
    check = canary()
    await send(encoded(document))
    await send(encoded(check))
    deadline = asyncio.get_running_loop().time() + 15
    while not await stored(live, check["Id"]):
        assert asyncio.get_running_loop().time() < deadline, f"the bot went deaf after {document!r:.300}"
        await asyncio.sleep(0.02)
    assert live.bot.supervisor.problems() == {}
    assert live.bot.supervisor.restarts == {}


def nothing_refused(fake: FakeDiscord) -> None:
    assert {record.status for record in fake.posts()} <= {200}, "Discord refused something the bot posted"


async def once(start_bot: StartBot, **env: str) -> LiveBot:
    """One bot for all the examples of a test: it must survive every one of them."""
    cache: dict[str, LiveBot] = start_bot.__dict__.setdefault("hypothesis_bot", {})
    if "bot" not in cache:
        cache["bot"] = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), **env)
    return cache["bot"]


@SETTINGS
@given(document=payloads)
async def test_arbitrary_unicode_in_every_field_through_the_socket(
    fake: FakeDiscord, start_bot: StartBot, document: dict[str, Any]
) -> None:
    live = await once(start_bot)

    async def send(payload: bytes) -> None:
        assert await socat_send(live.socket_path, payload) == 0

    await alive_after(live, send, document)
    nothing_refused(fake)


@SETTINGS
@given(document=payloads)
async def test_arbitrary_unicode_in_every_field_through_the_journal(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path, document: dict[str, Any]
) -> None:
    segment = short_dir / "kgsm" / "events" / "2026-12-01.ndjson"
    if not segment.exists():
        segment.parent.mkdir(parents=True)
        segment.touch()
    live = await once(start_bot, KGSM_JOURNAL_DIR=str(segment.parent))

    async def send(line: bytes) -> None:
        with segment.open("ab") as journal:
            journal.write(line)

    await alive_after(live, send, document)
    nothing_refused(fake)
