"""/players and the status board's counts through the real bot: KGSM's player events written with socat to the
bot's socket, the answer read from the fake Discord; nothing identifying a connection is ever shown."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.delivery.board import StatusBoard
from tests.conftest import CHANNEL_C, LiveBot, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import socat_send

# What KGSM sends that must never be shown: addresses, session keys, Steam ids, and whatever else a producer adds.
SECRETS = {
    "PlayerAddr": "203.0.113.7:50123",
    "SessionKey": "sess-7f3a9c",
    "PlayerId": "76561198000000001",
    "IpAddress": "198.51.100.23",
    "SteamId": "76561198999999999",
    "Address": "2001:db8::42",
}


def player(event_type: str, second: int, name: str | None, instance: str = "valheim", **data: Any) -> bytes:
    document = {
        "V": 1,
        "EventType": event_type,
        "Data": {"InstanceName": instance, "PlayerName": name, **data},
        "Timestamp": f"2026-12-01T08:{second // 60:02d}:{second % 60:02d}.000Z",
        "Hostname": "gamehost",
        "ProducerVersion": "3.16.0-rc5",
    }
    return json.dumps(document).encode() + b"\n"


def server(event_type: str, second: int, instance: str = "valheim") -> bytes:
    return player(event_type, second, None, instance)


async def send(fake: FakeDiscord, live: LiveBot, *payloads: bytes) -> None:
    expected = live.bot.stats.received + len(payloads)
    for payload in payloads:
        assert await socat_send(live.socket_path, payload) == 0
    await fake.wait_for(lambda: live.bot.stats.received >= expected, timeout=10)
    await live.bot.recorder.flush()


async def players(fake: FakeDiscord, **options: Any) -> dict[str, Any]:
    interaction = await fake.invoke_slash("players", options)
    response = await fake.wait_interaction_response(interaction)
    (embed,) = response["data"]["embeds"]
    return dict(embed)


def text_of(embed: dict[str, Any]) -> str:
    return json.dumps(embed, ensure_ascii=False)


async def test_joins_a_leave_and_a_crash(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send(
        fake,
        live,
        server("instance_started", 0),
        server("server.ready", 1),
        player("instance_player_joined", 5, "Ada", PlayerId="1", PlayerAddr="203.0.113.7:50123", SessionKey="s-1"),
        player("player.joined", 6, "Bob", PlayerId="2", PlayerAddr=None, SessionKey="2"),
        player("player.joined", 7, "Cy", "factorio", PlayerId="3"),
        server("server.started", 2, "factorio"),  # read after the join it came before
        player("player.left", 9, "Bob", PlayerId="2", Reason="RemoteConnectionClose"),
    )
    everyone = await players(fake)
    assert everyone["title"] == "Players — 2 players online"
    fields = {field["name"]: field["value"] for field in everyone["fields"]}
    assert set(fields) == {"✅ valheim — 1 online", "🟢 factorio — 1 online"}
    assert fields["✅ valheim — 1 online"] == "**Ada** · since <t:1796112005:R>"
    one = await players(fake, instance="VALHEIM")
    assert (one["title"], one["description"]) == ("✅ valheim — 1 online", "**Ada** · since <t:1796112005:R>")

    await send(fake, live, server("instance_crashed", 20))
    crashed = await players(fake, instance="valheim")
    assert crashed["description"] == "Nobody is on **valheim** now (it is crashed)."
    assert (await players(fake))["title"] == "Players — 1 player online"
    await send(fake, live, server("server.stopped", 30, "factorio"))
    assert (await players(fake))["description"] == "Nobody is on any of the 2 servers now."


async def test_who_is_on_survives_a_restart_of_the_bot(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send(fake, live, server("server.ready", 0), player("player.joined", 5, "Ada", PlayerId="1"))
    await send(
        fake, live, player("player.joined", 6, "Bob", PlayerId="2"), player("player.left", 7, "Bob", PlayerId="2")
    )
    before = await players(fake)
    await live.stop()
    await start_bot()  # the state is rebuilt from the stored history
    after = await players(fake)
    assert after == before
    assert after["fields"][0]["value"] == "**Ada** · since <t:1796112005:R>"


async def test_no_address_session_key_or_id_is_ever_shown(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send(
        fake,
        live,
        server("server.ready", 0),
        player("player.joined", 1, "Ada", **SECRETS),
        player("player.joined", 2, "10.1.2.3:27015", PlayerId="9"),  # named after an address
        player("player.joined", 3, "Eve [2001:db8::7]", SessionKey="s-eve"),
    )
    shown = text_of(await players(fake)) + text_of(await players(fake, instance="valheim"))
    for secret in [*SECRETS.values(), "10.1.2.3", "2001:db8::7", "s-eve"]:
        assert secret not in shown, secret
    assert "3 online" in shown
    assert "‹address hidden›" in shown


async def test_hostile_names_are_inert(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    hostile = ["@everyone", "<@&123456789012345678>", "**bold** [x](https://evil.example)", "\u202eevil", "a" * 10_000]
    payloads = [player("player.joined", n + 1, name, PlayerId=str(n)) for n, name in enumerate(hostile)]
    raw = player("player.joined", 9, "placeholder", PlayerId="lone").replace(b"placeholder", b"\\ud800 lone")
    await send(fake, live, server("server.ready", 0), *payloads, raw)
    answer = await players(fake)
    value = answer["fields"][0]["value"]
    assert "@everyone" not in value
    assert "<@&" not in value
    assert "](https" not in value
    assert "\u202e" not in value
    assert "\ud800" not in value
    assert "\ufffd lone" in value
    assert answer["fields"][0]["name"] == "✅ valheim — 6 online"
    assert len(value) <= 1024


async def test_the_status_board_counts_who_is_on(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StatusBoard, "interval", 0.1)
    live = await start_bot(KGSM_STATUS_CHANNEL_ID=str(CHANNEL_C))
    await send(
        fake,
        live,
        server("server.ready", 0),
        player("player.joined", 1, "Ada", PlayerId="1"),
        player("player.joined", 2, "Bob", PlayerId="2"),
        server("server.ready", 0, "factorio"),
    )

    def board() -> str:
        messages = fake.messages(CHANNEL_C)
        return text_of(messages[0]["embeds"][0]) if messages else ""

    await fake.wait_for(lambda: "2 of 2 up · 2 players online" in board(), timeout=10)
    assert "**valheim** — ready · since <t:1796112000:R> · 👥 2" in board()
    assert "**factorio** — ready · since <t:1796112000:R> · 👥 0" in board()
    await send(fake, live, server("server.crashed", 5))
    await fake.wait_for(lambda: "1 of 2 up" in board(), timeout=10)
    await asyncio.sleep(0.3)
    assert "players online" not in board()
    assert len(fake.posts(CHANNEL_C)) == 1
