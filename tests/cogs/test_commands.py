"""Slash commands end to end: INTERACTION_CREATE from the fake Discord in, the bot's callback recorded."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tests.conftest import CHANNEL_A, CHANNEL_B, DEFAULT_CHANNEL, LiveBot, StartBot
from tests.control_support import view_listening
from tests.fakes.discord_server import DEFAULT_MEMBER_PERMISSIONS, FakeDiscord
from tests.helpers import pretty, socat_send

MANAGE_GUILD = 1 << 5
MANAGER = str(int(DEFAULT_MEMBER_PERMISSIONS) | MANAGE_GUILD)
EPHEMERAL = 1 << 6


def event(event_type: str, instance: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "EventType": event_type,
        "Data": {"InstanceName": instance, **extra},
        "Timestamp": f"2026-08-14T12:{n // 60:02d}:{n % 60:02d}Z",
        "Hostname": "gamehost",
    }


async def send_all(fake: FakeDiscord, live: LiveBot, *documents: dict[str, Any]) -> None:
    """Write each document with socat, then wait until the bot has stored (and dispatched) all of them."""
    expected = live.bot.stats.received + len(documents)
    for document in documents:
        assert await socat_send(live.socket_path, pretty(document)) == 0
    await fake.wait_for(lambda: live.bot.stats.received >= expected, timeout=10)
    await live.bot.recorder.flush()


async def slash(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    interaction = await fake.invoke_slash(name, options or {}, **kwargs)
    response = await fake.wait_interaction_response(interaction)
    response["interaction"] = interaction
    return response


def lines(response: dict[str, Any]) -> list[str]:
    return str(response["data"]["embeds"][0]["description"]).splitlines()


async def test_events_lists_exactly_one_instances_events_newest_first_and_pages(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot()
    documents = [event("instance_started", "factorio" if n % 3 else "valheim", n, N=str(n)) for n in range(30)]
    await send_all(fake, live, *documents)

    response = await slash(fake, "events", {"instance": "factorio", "limit": 5})
    assert response["type"] == 4
    assert response["data"]["flags"] & EPHEMERAL
    first = lines(response)
    assert len(first) == 5
    assert all("**factorio**" in line for line in first)
    stamps = [int(line.split(":")[1]) for line in first]  # <t:EPOCH:R>
    assert stamps == sorted(stamps, reverse=True)
    assert "Page 1 · 20 events" in response["data"]["embeds"][0]["footer"]["text"]

    message = fake.original_response(response["interaction"])
    assert message is not None
    await view_listening(fake, live, message)
    older = await fake.click_button(message, label="Older ▶")
    page_two = await fake.wait_interaction_response(older)
    assert page_two["type"] == 7
    second = lines(page_two)
    assert len(second) == 5
    assert int(second[0].split(":")[1]) < stamps[-1]
    assert "Page 2" in page_two["data"]["embeds"][0]["footer"]["text"]


async def test_events_filters_by_type_or_family_and_public_is_visible(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(
        fake,
        live,
        event("instance_started", "factorio", 1),
        event("instance_player_joined", "factorio", 2, PlayerName="Ada"),
        event("instance_crashed", "factorio", 3, ExitCode="137"),
    )
    by_type = await slash(fake, "events", {"event": "instance-crashed", "public": True})
    assert not (by_type["data"].get("flags", 0) & EPHEMERAL)
    assert len(lines(by_type)) == 1
    assert "crashed" in lines(by_type)[0]
    by_family = await slash(fake, "events", {"event": "lifecycle"})
    assert len(lines(by_family)) == 2


async def test_submitted_values_are_validated(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(fake, live, event("instance_started", "factorio", 1))
    unknown = await slash(fake, "events", {"instance": "nope; rm -rf /"})
    assert "No server called" in unknown["data"]["content"]
    assert unknown["data"]["flags"] & EPHEMERAL
    bogus = await slash(fake, "events", {"event": "teleport"})
    assert "neither an event type nor a family" in bogus["data"]["content"]


async def test_autocomplete_offers_at_most_25_choices(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(fake, live, *(event("instance_started", f"server-{n:02d}", n) for n in range(30)))
    interaction = await fake.invoke_autocomplete("events", {"instance": "server"}, focused="instance")
    response = await fake.wait_interaction_response(interaction)
    assert response["type"] == 8
    choices = response["data"]["choices"]
    assert len(choices) == 25
    assert choices[0]["value"] == "server-00"
    interaction = await fake.invoke_autocomplete("events", {"event": "play"}, focused="event")
    offered = [c["value"] for c in (await fake.wait_interaction_response(interaction))["data"]["choices"]]
    assert "players" in offered
    assert "player.joined" in offered  # also found by its legacy spelling, see test_choices


async def test_status_follows_the_events(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(fake, live, event("instance_started", "factorio", 1))
    title = (await slash(fake, "status", {"instance": "factorio"}))["data"]["embeds"][0]["title"]
    assert title.endswith("factorio — online")
    await send_all(fake, live, event("instance_crashed", "factorio", 2, ExitCode="137"))
    title = (await slash(fake, "status", {"instance": "factorio"}))["data"]["embeds"][0]["title"]
    assert title.endswith("factorio — crashed")
    await send_all(fake, live, event("instance_uninstalled", "factorio", 3))
    title = (await slash(fake, "status", {"instance": "factorio"}))["data"]["embeds"][0]["title"]
    assert title.endswith("factorio — uninstalled")


async def test_status_of_every_instance_like_the_official_list(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(
        fake,
        live,
        event("instance_ready", "factorio", 1),
        event("instance_crashed", "valheim", 2),
        event("instance_installed", "minecraft", 3, Blueprint="minecraft"),
    )
    embed = (await slash(fake, "status"))["data"]["embeds"][0]
    assert embed["title"] == "Servers — 1 of 3 up"
    shown = embed["description"].splitlines()
    assert shown[0].startswith("✅ **factorio** — ready")
    assert shown[1].startswith("⚫ **minecraft** — installed/offline")
    assert shown[2].startswith("💥 **valheim** — crashed")


async def test_a_restart_keeps_history_and_state(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(fake, live, event("instance_started", "factorio", 1), event("instance_crashed", "factorio", 2))
    await live.stop()
    await start_bot()
    title = (await slash(fake, "status", {"instance": "factorio"}))["data"]["embeds"][0]["title"]
    assert title.endswith("factorio — crashed")
    assert len(lines(await slash(fake, "events", {"instance": "factorio"}))) == 2


async def test_notify_bind_moves_the_next_event_and_survives_a_restart(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_CHANNELS=f"factorio={CHANNEL_A}")
    reply = await slash(
        fake, "notify", {"instance": "factorio", "channel": CHANNEL_B}, subcommand="bind", member_permissions=MANAGER
    )
    assert "now go to" in reply["data"]["content"]
    await slash(
        fake, "notify", {"instance": "factorio", "channel": CHANNEL_A}, subcommand="unbind", member_permissions=MANAGER
    )
    await send_all(fake, live, event("instance_started", "factorio", 1))
    await fake.wait_for_messages(CHANNEL_B)
    assert fake.posts(CHANNEL_A) == []

    await live.stop()
    live = await start_bot(KGSM_CHANNELS=f"factorio={CHANNEL_A}")
    await send_all(fake, live, event("instance_stopped", "factorio", 2))
    await fake.wait_for_messages(CHANNEL_B, count=2)
    assert fake.posts(CHANNEL_A) == []
    shown = await slash(fake, "notify", subcommand="show", member_permissions=MANAGER)
    assert f"**factorio** → <#{CHANNEL_B}>" in json.dumps(shown["data"]["embeds"][0], ensure_ascii=False)


async def test_notify_mute_and_unmute_per_instance(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), KGSM_MUTED_EVENTS="players")
    await slash(fake, "notify", {"event_or_family": "lifecycle"}, subcommand="mute", member_permissions=MANAGER)
    await slash(
        fake,
        "notify",
        {"event_or_family": "players", "instance": "valheim"},
        subcommand="unmute",
        member_permissions=MANAGER,
    )
    await send_all(
        fake,
        live,
        event("instance_started", "factorio", 1),
        event("instance_player_joined", "factorio", 2, PlayerName="Bob"),
        event("instance_player_joined", "valheim", 3, PlayerName="Ada"),
    )
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "valheim" in message["embeds"][0]["title"]
    await live.bot.delivery.drain()
    assert len(fake.posts()) == 1


async def test_a_member_without_manage_server_is_refused_and_nothing_changes(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot(KGSM_CHANNELS=f"factorio={CHANNEL_A}")
    reply = await slash(
        fake,
        "notify",
        {"instance": "factorio", "channel": CHANNEL_B},
        subcommand="bind",
        enforce_permissions=False,  # an admin granted the command to everyone; the bot still checks
    )
    assert reply["data"]["flags"] & EPHEMERAL
    assert "Manage Server" in reply["data"]["content"]
    assert await live.bot.store.channel_rules() == []
    await send_all(fake, live, event("instance_started", "factorio", 1))
    await fake.wait_for_messages(CHANNEL_A)
    assert fake.posts(CHANNEL_B) == []


async def test_notify_defaults_to_manage_server_in_discord(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot()
    (notify,) = [command for command in fake.commands(fake.guild_id) if command["name"] == "notify"]
    assert int(notify["default_member_permissions"]) == MANAGE_GUILD


async def test_the_same_event_id_is_stored_and_posted_once(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    document = {**event("instance_crashed", "factorio", 1), "V": 2, "Id": "0190f1e2-7c3a-7b7e-9a41-5d2f6c1b8e01"}
    await send_all(fake, live, document, document)
    retried = {**event("instance_started", "valheim", 2)}  # no Id: same timestamped payload hashes the same
    await send_all(fake, live, retried, retried)
    await live.bot.delivery.drain()
    assert await live.bot.store.count_events() == 2
    assert len(fake.posts(DEFAULT_CHANNEL)) == 2
    assert live.bot.recorder.duplicates == 2


async def test_commands_are_not_synced_again_when_unchanged(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    assert fake.command_syncs == 2  # the server's commands, and the global list emptied once
    await live.stop()
    await start_bot()
    assert fake.command_syncs == 2


async def test_ping_and_about(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    await send_all(fake, live, {**event("instance_started", "factorio", 1), "KGSMVersion": "2.4.0"})
    ping = json.dumps((await slash(fake, "ping"))["data"]["embeds"][0], ensure_ascii=False)
    assert "listening" in ping
    about = json.dumps((await slash(fake, "about"))["data"]["embeds"][0], ensure_ascii=False)
    assert "2.4.0" in about
    assert "1 received, 1 accepted" in about


async def test_a_burst_of_10000_events_is_stored_without_missing_a_heartbeat(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    # Discord drops a connection whose heartbeat is a whole interval late; 1 s intervals keep that meaning
    # on a loaded 2-core CI machine, where a 250 ms one measured the machine rather than the bot.
    fake.heartbeat_interval = 1000
    live = await start_bot()
    connections = 4
    per_connection = 2500
    for c in range(connections):
        batch = b"".join(
            json.dumps({"V": 2, "Id": f"burst-{c}-{n}", **event("instance_player_joined", f"s{n % 50}", n)}).encode()
            + b"\n"
            for n in range(per_connection)
        )
        assert await socat_send(live.socket_path, batch, timeout=60) == 0
    total = connections * per_connection
    await fake.wait_for(lambda: live.bot.stats.accepted >= total, timeout=60)
    await live.bot.recorder.flush()
    assert await live.bot.store.count_events() == total
    gaps = fake.heartbeat_gaps()
    assert gaps
    assert max(gaps) < 2 * 1.0, f"a heartbeat was a whole interval late: {max(gaps):.3f} s"
    assert len(fake.gateway_connections) == 1


def buttons(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [item for row in (message or {}).get("components", []) for item in row.get("components", [])]


async def test_event_pages_grey_out_their_buttons_when_they_expire(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = await start_bot()
    monkeypatch.setattr(sys.modules["cogs.history"], "PAGE_TIMEOUT", 0.5)  # the module the bot loaded
    await send_all(fake, live, *(event("instance_started", "factorio", n) for n in range(12)))
    response = await slash(fake, "events", {"limit": 5})
    message = fake.original_response(response["interaction"])
    assert [button["label"] for button in buttons(message)] == ["◀ Newer", "Older ▶"]
    expired = await fake.wait_for(
        lambda: all(b.get("disabled") for b in buttons(fake.original_response(response["interaction"]))), timeout=10
    )
    assert expired
    assert fake.original_response(response["interaction"])["embeds"] == message["embeds"]  # type: ignore[index]


async def test_a_page_button_that_fails_apologises_privately(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = await start_bot()
    await send_all(fake, live, *(event("instance_started", "factorio", n) for n in range(12)))
    response = await slash(fake, "events", {"limit": 5})
    message = fake.original_response(response["interaction"])
    assert message is not None
    await view_listening(fake, live, message)

    async def broken_page(*_args: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sys.modules["cogs.history"], "_page", broken_page)
    older = await fake.click_button(message, label="Older ▶")
    answer = await fake.wait_interaction_response(older)
    assert answer["data"]["content"] == "Something went wrong on the bot's side; the error is in its log."
    assert answer["data"]["flags"] & EPHEMERAL
