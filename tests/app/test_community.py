"""Only its own community (issue 13, item 14): the real bot, a fake Discord with a stranger's server in it, and
the fake kgsm.sh recording every call. Whatever a stranger sends from a server of their own (where they have
Manage Server) or from a DM is refused with one private line, and nothing runs."""

from __future__ import annotations

import importlib
import inspect
import logging
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app.community import REFUSAL
from bot.app.tree import Tree
from cogs.utils.views import CommunityView
from tests.cogs.test_commands import event, send_all
from tests.conftest import StartBot
from tests.control_support import (
    EPHEMERAL,
    MANAGER,
    FakeKgsm,
    answer,
    invoke,
    new_fake_kgsm,
    start,
    view_listening,
)
from tests.fakes.discord_server import FakeDiscord

STRANGER = 1_190_000_000_000_000_100  # someone else's server, where the bot was added
STRANGER_CHANNEL = 1_190_000_000_000_000_101
NEWCOMER = 1_190_000_000_000_000_200  # a server that adds the bot while it runs
SECOND = 1_190_000_000_000_000_300  # a second community the bot serves
SECOND_CHANNEL = 1_190_000_000_000_000_301
GLOBAL_SYNC = "PUT /applications/{application_id}/commands"
GUILD_SYNC = "PUT /applications/{application_id}/guilds/{guild_id}/commands"
LEAVE = "DELETE /users/@me/guilds/{guild_id}"


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    fake.add_channel(STRANGER_CHANNEL, STRANGER, name="their-general")
    fake_kgsm = new_fake_kgsm(monkeypatch, short_dir, fake)
    fake_kgsm.set(instances="alpha,factorio")
    return fake_kgsm


def stranger(**kwargs: object) -> dict[str, object]:
    """An interaction from the stranger's server, by its owner (Manage Server), for the commands Discord shows
    in ours: what the bot must refuse whatever Discord does."""
    return {"guild_id": STRANGER, "command_guild_id": FakeDiscord.DEFAULT_GUILD_ID, **kwargs}


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.app.community" and "refused" in r.getMessage()]


# ------------------------------------------------------------------------------------------ commands


async def test_a_strangers_stop_runs_no_kgsm(fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm) -> None:
    await start(start_bot, kgsm)
    for name in ("stop", "restart", "start", "backup", "uninstall"):
        assert await answer(fake, await invoke(fake, name, {"instance": "alpha"}, **stranger())) == REFUSAL
    installed = await invoke(fake, "install", {"blueprint": "minecraft", "name": "mine"}, **stranger())
    assert await answer(fake, installed) == REFUSAL
    assert await answer(fake, await invoke(fake, "logs", {"instance": "alpha"}, **stranger())) == REFUSAL
    assert not kgsm.log.exists(), "no kgsm.sh call at all, not even --help"


async def test_a_stranger_reads_no_event_and_binds_nothing(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm)
    await send_all(fake, live, event("instance_started", "alpha", 1), event("instance_crashed", "alpha", 2))
    rules_before = live.bot.router.describe()
    commands: list[tuple[str, dict[str, Any], str | None]] = [
        ("events", {}, None),
        ("events", {"instance": "alpha"}, None),
        ("status", {}, None),
        ("status", {"instance": "alpha"}, None),
        ("uptime", {}, None),
        ("uptime", {"instance": "alpha", "days": 1}, None),
        ("about", {}, None),
        ("ping", {}, None),
        ("notify", {"instance": "alpha", "channel": STRANGER_CHANNEL}, "bind"),
        ("notify", {"event_or_family": "lifecycle"}, "mute"),
        ("notify", {}, "show"),
    ]
    for name, options, subcommand in commands:
        interaction = await invoke(
            fake, name, options, subcommand=subcommand, channel_id=STRANGER_CHANNEL, **stranger()
        )
        (body,) = await fake.wait_interaction_messages(interaction)
        assert body["content"] == REFUSAL, (name, body)
        assert body["flags"] & EPHEMERAL
        assert not body.get("embeds"), "no event, no state, no rule shown"
        assert not body.get("components")
    assert await live.bot.store.channel_rules() == []
    assert await live.bot.store.mute_rules() == []
    assert live.bot.router.describe() == rules_before
    await send_all(fake, live, event("instance_stopped", "alpha", 3))
    await live.bot.delivery.drain()
    assert fake.posts(STRANGER_CHANNEL) == []


async def test_direct_messages_are_refused(fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm) -> None:
    await start(start_bot, kgsm)
    asks: list[tuple[str, dict[str, Any]]] = [
        ("status", {}),
        ("stop", {"instance": "alpha"}),
        ("events", {"limit": 5}),
        ("uptime", {}),
    ]
    for name, options in asks:
        assert await answer(fake, await invoke(fake, name, options, in_dm=True)) == REFUSAL
    assert not kgsm.log.exists()


async def test_autocomplete_elsewhere_suggests_nothing_and_asks_kgsm_nothing(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm)
    for kwargs in (stranger(member_permissions=MANAGER), {"in_dm": True}):
        suggestions = await fake.invoke_autocomplete("stop", {"instance": "a"}, **kwargs)
        response = await fake.wait_interaction_response(suggestions)
        assert response["data"]["choices"] == [{"name": REFUSAL, "value": REFUSAL}]
    assert not kgsm.log.exists(), "not even KGSM's list of instances"


# ------------------------------------------------------------------------------------------ buttons


async def test_buttons_of_every_view_refuse_other_servers_and_dms(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm)
    await send_all(fake, live, *(event("instance_started", "alpha", n) for n in range(12)))
    pages = await invoke(fake, "events", {"limit": 5})
    await fake.wait_interaction_response(pages)
    events_message = fake.original_response(pages)
    prompt = await invoke(fake, "uninstall", {"instance": "alpha"})
    assert "Confirm within" in await answer(fake, prompt)
    confirm_message = fake.original_response(prompt)
    assert events_message is not None
    assert confirm_message is not None
    await view_listening(fake, live, events_message)
    await view_listening(fake, live, confirm_message)

    # the member who asked, as far as the user id goes: the origin alone decides
    for origin in ({"guild_id": STRANGER}, {"in_dm": True}):
        older = await fake.click_button(events_message, label="Older ▶", **origin)
        confirmed = await fake.click_button(confirm_message, label="Uninstall", **origin)
        for click in (older, confirmed):
            response = await fake.wait_interaction_response(click)
            assert response == {"type": 4, "data": {**response["data"], "content": REFUSAL}}
            assert response["data"]["flags"] & EPHEMERAL
    assert kgsm.commands() == []
    # in our server, the same buttons still work
    older = await fake.click_button(events_message, label="Older ▶")
    assert (await fake.wait_interaction_response(older))["type"] == 7


def test_every_view_of_the_cogs_checks_the_community() -> None:
    views = [
        member
        for module in (
            "cogs.history",
            "cogs.control",
            "cogs.notify",
            "cogs.status",
            "cogs.meta",
            "cogs.players",
            "cogs.backups",
            "cogs.utils.confirm",
        )
        for _, member in inspect.getmembers(importlib.import_module(module), inspect.isclass)
        if issubclass(member, discord.ui.View) and member.__module__ == module
    ]
    assert {view.__name__ for view in views} >= {"EventPages", "ConfirmUninstall", "ConfirmRestore", "Confirmation"}
    for view in views:
        assert issubclass(view, CommunityView), view
        assert view.interaction_check is CommunityView.interaction_check, f"{view} overrides interaction_check"


async def test_the_bot_uses_the_community_tree(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()
    assert isinstance(live.bot.tree, Tree)


# ------------------------------------------------------------------------------------------ the log


async def test_a_flood_of_refusals_is_logged_once(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, caplog: pytest.LogCaptureFixture
) -> None:
    await start(start_bot, kgsm)
    for _ in range(15):
        assert await answer(fake, await invoke(fake, "stop", {"instance": "alpha"}, **stranger())) == REFUSAL
    assert await answer(fake, await invoke(fake, "status", in_dm=True)) == REFUSAL
    lines = refusals(caplog)
    assert len(lines) == 2, lines
    assert f"/stop by user{FakeDiscord.DEFAULT_USER_ID}" in lines[0]
    assert f"from server {STRANGER}, which DISCORD_GUILD_ID does not list" in lines[0]
    assert "from a direct message" in lines[1]
    assert not kgsm.log.exists()


# ------------------------------------------------------------------------------------------ commands' place


async def test_commands_exist_only_in_the_configured_servers_and_old_global_ones_go_once(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.add_channel(SECOND_CHANNEL, SECOND)
    fake.add_channel(STRANGER_CHANNEL, STRANGER)
    fake.add_command({"name": "stop", "description": "Stop a game server (an older kgsm-bot)"})
    live = await start_bot(DISCORD_GUILD_ID=f"{fake.guild_id}, {SECOND}")
    assert fake.commands() == [], "the global commands of an older version are gone"
    ours = {command["name"] for command in fake.commands(fake.guild_id)}
    assert ours >= {"events", "status", "notify", "ping", "about"}
    assert {command["name"] for command in fake.commands(SECOND)} == ours
    assert fake.commands(STRANGER) == []
    assert len(fake.requests_to(GLOBAL_SYNC)) == 1
    assert len(fake.requests_to(GUILD_SYNC)) == 2

    await live.stop()
    await start_bot(DISCORD_GUILD_ID=f"{fake.guild_id},{SECOND}")
    assert len(fake.requests_to(GLOBAL_SYNC)) == 1, "emptied once, not at every start"
    assert len(fake.requests_to(GUILD_SYNC)) == 2, "unchanged: not synced again"


# ------------------------------------------------------------------------------------------ servers


async def test_a_server_that_adds_the_bot_while_it_runs_is_left(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    live = await start_bot()
    await fake.join_guild(NEWCOMER, "Elsewhere", channels=[NEWCOMER + 1])
    await fake.wait_for(lambda: fake.requests_to(LEAVE), timeout=10)
    assert [request.params["guild_id"] for request in fake.requests_to(LEAVE)] == [str(NEWCOMER)]
    assert NEWCOMER not in fake.guild_ids()
    await fake.wait_for(lambda: live.bot.get_guild(NEWCOMER) is None)
    assert live.bot.get_guild(fake.guild_id) is not None
    assert any(f"left the server 'Elsewhere' ({NEWCOMER}" in r.getMessage() for r in caplog.records)
    assert fake.commands(NEWCOMER) == []


async def test_servers_joined_before_the_start_are_not_left_but_reported_once(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A typo in DISCORD_GUILD_ID must not make the bot leave the real server."""
    fake.add_channel(STRANGER_CHANNEL, STRANGER)
    fake.add_command({"name": "status", "description": "synced when the id was right"}, guild_id=fake.guild_id)
    typo = fake.guild_id + 1
    with caplog.at_level(logging.INFO):
        live = await start_bot(DISCORD_GUILD_ID=str(typo))
    assert fake.requests_to(LEAVE) == []
    assert set(fake.guild_ids()) >= {fake.guild_id, STRANGER}
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.app.community"]
    for guild_id in (fake.guild_id, STRANGER):
        reports = [m for m in messages if f"({guild_id}), which DISCORD_GUILD_ID does not list" in m]
        assert len(reports) == 1, messages
        assert f"add {guild_id} to DISCORD_GUILD_ID" in reports[0]
    assert any(f"DISCORD_GUILD_ID lists {typo}, but the bot is not in that server" in m for m in messages)
    refused = await invoke(fake, "status")
    assert (await fake.wait_interaction_response(refused))["data"]["content"] == REFUSAL
    assert live.bot.get_guild(fake.guild_id) is not None


async def test_a_configured_server_that_adds_the_bot_gets_its_commands(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(DISCORD_GUILD_ID=f"{fake.guild_id},{SECOND}")  # not in SECOND yet: its sync fails
    assert fake.commands(SECOND) == []
    assert any(f"could not sync the slash commands to server {SECOND}" in r.getMessage() for r in caplog.records)
    await fake.join_guild(SECOND, "Our second server", channels=[SECOND_CHANNEL])
    await fake.wait_for(lambda: fake.commands(SECOND), timeout=10)
    assert fake.requests_to(LEAVE) == []
    reply = await fake.invoke_slash("status", guild_id=SECOND)
    assert (await fake.wait_interaction_response(reply))["data"]["embeds"][0]["title"].startswith("Servers")
