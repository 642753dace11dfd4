"""The fake Discord in tests/fakes/discord_server.py, exercised by a real discord.py client.

Every test here runs an unmodified ``commands.Bot`` against ``FakeDiscord`` so that what the fake
answers is checked against what discord.py actually parses, retries and dispatches.  If discord.py
is upgraded and starts calling something the fake doesn't know, ``fake.unhandled`` (asserted empty
at teardown) points at it.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable

import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord_server import ADMINISTRATOR, FakeDiscord, fast_discord_retries

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(20)]

TOKEN = "fake-bot-token"
CHANNEL = 1_190_000_000_000_000_001
OTHER_CHANNEL = 1_190_000_000_000_000_002
GONE_CHANNEL = 1_190_000_000_000_000_003
FORBIDDEN_CHANNEL = 1_190_000_000_000_000_004
NEVER_ADDED_CHANNEL = 1_190_000_000_000_000_999

AnyBot = commands.Bot | commands.AutoShardedBot
RunBot = Callable[[AnyBot], Awaitable[AnyBot]]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with discord.py pointed at it.

    ``point_discord_py_here()`` sets ``discord.http.Route.BASE`` (REST *and* interaction
    callbacks/follow-ups: discord.webhook.async_ builds its URLs from ``Route`` too, so no separate
    webhook redirect exists or is needed) and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``.
    ``stop()`` restores both.
    """
    async with FakeDiscord(channels=[CHANNEL, OTHER_CHANNEL, GONE_CHANNEL, FORBIDDEN_CHANNEL], token=TOKEN) as fake:
        fake.not_found_channels.add(GONE_CHANNEL)
        fake.forbidden_channels.add(FORBIDDEN_CHANNEL)
        fake.point_discord_py_here()
        yield fake
        assert fake.unhandled == [], [f"{r.method} {r.path}" for r in fake.unhandled]
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


@pytest_asyncio.fixture
async def run_bot(fake: FakeDiscord) -> AsyncIterator[RunBot]:
    """Log a bot in, connect it in a task, wait for on_ready; closes everything at teardown."""
    running: list[tuple[AnyBot, asyncio.Task[None]]] = []

    async def run(bot: AnyBot) -> AnyBot:
        await bot.login(TOKEN)
        task = asyncio.create_task(bot.connect())
        running.append((bot, task))
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        return bot

    yield run
    for bot, task in running:
        await bot.close()
        await asyncio.wait_for(task, 5)


def make_bot() -> commands.Bot:
    # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before on_ready
    # (default 2 s), so tests shrink it.
    return commands.Bot(command_prefix="!", intents=discord.Intents.none(), guild_ready_timeout=0.05)


# ---------------------------------------------------------------------------------------------- login


async def test_login_ready_and_guild_cache_with_no_intents(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())

    assert bot.user is not None
    assert bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None
    assert isinstance(bot.get_channel(CHANNEL), discord.TextChannel)
    assert fake.identifies[0]["intents"] == 0
    assert fake.identifies[0]["token"] == TOKEN
    connection = fake.gateway_connections[0]
    assert connection.path == "/gateway"
    assert connection.query["v"] == "10"
    assert connection.query["encoding"] == "json"
    routes = {r.route for r in fake.requests}
    assert {"GET /users/@me", "GET /oauth2/applications/@me"} <= routes
    assert all(r.headers["Authorization"] == f"Bot {TOKEN}" for r in fake.requests)


async def test_wrong_token_is_refused(fake: FakeDiscord) -> None:
    bot = make_bot()
    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()


# ---------------------------------------------------------------------------------------------- messages


async def test_send_embed_then_edit(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_partial_messageable(CHANNEL)

    embed = discord.Embed(title="valheim is up", description="Server started", colour=0x2ECC71)
    embed.add_field(name="players", value="0/10")
    message = await channel.send("status", embed=embed)

    assert message.id > 0
    assert message.author.id == fake.bot_user_id
    assert message.embeds[0].title == "valheim is up"
    stored = fake.messages(CHANNEL)
    assert len(stored) == 1
    assert stored[0]["content"] == "status"
    assert stored[0]["embeds"][0]["fields"] == [{"name": "players", "value": "0/10", "inline": True}]
    assert stored[0]["edited_timestamp"] is None

    edited = await message.edit(content="status (updated)", embed=discord.Embed(title="valheim is down"))

    assert edited.edited_at is not None
    stored = fake.messages(CHANNEL)
    assert len(stored) == 1
    assert stored[0]["content"] == "status (updated)"
    assert stored[0]["embeds"][0]["title"] == "valheim is down"
    assert stored[0]["edited_timestamp"] is not None
    assert len(fake.posts(CHANNEL)) == 1
    assert len(fake.patches(CHANNEL, message.id)) == 1
    assert fake.posts(CHANNEL)[0].json["embeds"][0]["title"] == "valheim is up"


async def test_nonce_with_enforce_nonce_deduplicates(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_partial_messageable(CHANNEL)

    first = await channel.send("once", nonce="event-42")
    second = await channel.send("once", nonce="event-42")
    other_channel = await bot.get_partial_messageable(OTHER_CHANNEL).send("once", nonce="event-42")

    assert first.id == second.id
    assert other_channel.id != first.id
    assert len(fake.posts(CHANNEL)) == 2
    assert [m["id"] for m in fake.messages(CHANNEL)] == [str(first.id)]
    assert fake.posts(CHANNEL)[0].json["enforce_nonce"] is True


async def test_unknown_and_forbidden_channels(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())

    with pytest.raises(discord.NotFound) as gone:
        await bot.get_partial_messageable(GONE_CHANNEL).send("hi")
    assert gone.value.code == 10003
    with pytest.raises(discord.NotFound) as never:
        await bot.get_partial_messageable(NEVER_ADDED_CHANNEL).send("hi")
    assert never.value.code == 10003
    with pytest.raises(discord.Forbidden) as forbidden:
        await bot.get_partial_messageable(FORBIDDEN_CHANNEL).send("hi")
    assert forbidden.value.code == 50001
    with pytest.raises(discord.NotFound):
        await bot.fetch_channel(GONE_CHANNEL)
    assert fake.messages(GONE_CHANNEL) == []


async def test_a_channel_closed_to_posts_and_one_without_embed_links(fake: FakeDiscord, run_bot: RunBot) -> None:
    """Without Send Messages every post is 50013; without Embed Links a message's embeds are dropped, and a
    message of embeds only is 50013, as Discord does (discord/discord-api-docs#2601)."""
    fake.mute_channels.add(CHANNEL)
    fake.no_embed_channels.add(OTHER_CHANNEL)
    bot = await run_bot(make_bot())

    with pytest.raises(discord.Forbidden) as mute:
        await bot.get_partial_messageable(CHANNEL).send("hi")
    assert mute.value.code == 50013
    assert fake.messages(CHANNEL) == []
    no_embeds = bot.get_partial_messageable(OTHER_CHANNEL)
    posted = await no_embeds.send("hi", embed=discord.Embed(title="box"))
    assert posted.content == "hi"
    assert posted.embeds == []
    with pytest.raises(discord.Forbidden) as embed_only:
        await no_embeds.send(embed=discord.Embed(title="box"))
    assert embed_only.value.code == 50013
    assert [m["content"] for m in fake.messages(OTHER_CHANNEL)] == ["hi"]


async def test_invalid_messages_are_rejected_like_discord(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_partial_messageable(CHANNEL)

    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.code == 50035
    assert "content" in str(too_long.value)
    with pytest.raises(discord.HTTPException) as big_embed:
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert big_embed.value.code == 50035
    with pytest.raises(discord.HTTPException) as empty:
        await channel.send("")
    assert empty.value.code == 50006
    assert fake.messages(CHANNEL) == []


async def test_fetch_history_and_user_deletion(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    sent = [await channel.send(f"line {i}") for i in range(3)]

    history = [m.content async for m in channel.history(limit=10)]
    assert history == ["line 2", "line 1", "line 0"]
    fetched = await channel.fetch_message(sent[1].id)
    assert fetched.content == "line 1"

    await fake.delete_message(CHANNEL, sent[1].id)
    with pytest.raises(discord.NotFound) as missing:
        await channel.fetch_message(sent[1].id)
    assert missing.value.code == 10008
    with pytest.raises(discord.NotFound):
        await sent[1].edit(content="too late")
    assert [m["content"] for m in fake.messages(CHANNEL)] == ["line 0", "line 2"]


# ---------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_retried_by_discord_py(fake: FakeDiscord, run_bot: RunBot, status: int) -> None:
    bot = await run_bot(make_bot())
    fake.fail_posts(status, count=3)

    with fast_discord_retries():  # discord.py sleeps 1, 3, 5 s between these retries otherwise
        message = await bot.get_partial_messageable(CHANNEL).send("after the outage")

    assert [r.status for r in fake.posts(CHANNEL)] == [status, status, status, 200]
    assert [m["id"] for m in fake.messages(CHANNEL)] == [str(message.id)]
    assert fake.injected_failures == 3


async def test_persistent_5xx_gives_up_after_five_attempts_and_503_is_not_retried(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_partial_messageable(CHANNEL)

    fake.fail_posts(500)
    with fast_discord_retries(), pytest.raises(discord.DiscordServerError):
        await channel.send("never")
    assert len(fake.posts(CHANNEL)) == 5

    fake.recover()
    fake.fail_posts(503, count=1)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("not retried")
    assert len(fake.posts(CHANNEL)) == 6
    assert fake.messages(CHANNEL) == []

    await channel.send("recovered")
    assert len(fake.messages(CHANNEL)) == 1


async def test_rate_limit_headers_and_429_recovery(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_partial_messageable(CHANNEL)
    fake.rate_limit(per_channel=2, per_seconds=0.4)

    # discord.py reads the headers and waits for the reset on its own: no 429 needed.
    for i in range(4):
        await channel.send(f"burst {i}")
    assert fake.rate_limited_count == 0
    first = fake.posts(CHANNEL)[0].response_headers
    assert first["X-RateLimit-Limit"] == "2"
    assert first["X-RateLimit-Remaining"] == "1"
    assert float(first["X-RateLimit-Reset-After"]) <= 0.4
    assert "X-RateLimit-Bucket" in first

    # Someone else sharing the token used the window up: discord.py gets a 429 and retries.
    fake.exhaust_rate_limit(CHANNEL)
    await channel.send("after 429")

    assert fake.rate_limited_count == 1
    limited = [r for r in fake.posts(CHANNEL) if r.status == 429]
    assert len(limited) == 1
    assert limited[0].response_headers["Via"] == "1.1 google"
    assert limited[0].response_headers["X-RateLimit-Remaining"] == "0"
    assert limited[0].response["retry_after"] > 0
    assert limited[0].response["global"] is False
    assert [m["content"] for m in fake.messages(CHANNEL)] == [*(f"burst {i}" for i in range(4)), "after 429"]


# ---------------------------------------------------------------------------------------------- commands


def bot_with_commands() -> tuple[commands.Bot, dict[str, object]]:
    bot = make_bot()
    seen: dict[str, object] = {}

    @bot.tree.command(name="ping", description="Answer at once")
    async def ping(interaction: discord.Interaction) -> None:
        seen["ping_user"] = interaction.user.id
        await interaction.response.send_message("pong")

    @bot.tree.command(name="restart", description="Defer, then follow up")
    @app_commands.describe(server="Which instance")
    async def restart(interaction: discord.Interaction, server: str, delay: int = 0) -> None:
        seen["restart"] = (server, delay)
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"{server} restarted", wait=True)

    @bot.tree.command(name="status", description="Defer, then edit the original response")
    async def status(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.edit_original_response(content="all servers up")

    @restart.autocomplete("server")
    async def server_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        names = ["valheim", "factorio", "minecraft"]
        return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

    admin = app_commands.Group(name="admin", description="Admin tools", default_permissions=discord.Permissions(8))

    @admin.command(name="wipe", description="Wipe a server")
    async def wipe(interaction: discord.Interaction, server: str) -> None:
        await interaction.response.send_message(f"wiped {server}", ephemeral=True)

    bot.tree.add_command(admin)
    return bot, seen


async def test_slash_command_sync_and_immediate_response(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot, seen = bot_with_commands()
    await run_bot(bot)
    synced = await bot.tree.sync()

    assert {c.name for c in synced} == {"ping", "restart", "status", "admin"}
    assert fake.command_syncs == 1
    assert {c["name"] for c in fake.commands()} == {"ping", "restart", "status", "admin"}

    interaction_id = await fake.invoke_slash("ping", user_id=4242)
    response = await fake.wait_interaction_response(interaction_id)

    assert response["type"] == 4
    assert response["data"]["content"] == "pong"
    assert seen["ping_user"] == 4242
    assert fake.interaction_messages(interaction_id)[0]["content"] == "pong"
    callback = fake.requests_to("POST /interactions/{interaction_id}/{token}/callback")[0]
    assert callback.query["with_response"] == "1"
    assert callback.status == 200
    in_channel = fake.messages(CHANNEL)
    assert [m["content"] for m in in_channel] == ["pong"]
    assert in_channel[0]["interaction_metadata"]["id"] == str(interaction_id)


async def test_deferred_responses_followup_and_edit_original(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot, seen = bot_with_commands()
    await run_bot(bot)
    await bot.tree.sync()

    restart_id = await fake.invoke_slash("restart", {"server": "valheim", "delay": 5})
    assert (await fake.wait_interaction_response(restart_id))["type"] == 5
    bodies = await fake.wait_interaction_messages(restart_id, 1)
    assert bodies[0]["content"] == "valheim restarted"
    assert seen["restart"] == ("valheim", 5)
    assert fake.interaction(restart_id).followup_ids

    status_id = await fake.invoke_slash("status")
    deferred = await fake.wait_interaction_response(status_id)
    assert deferred == {"type": 5, "data": {"flags": 64}}
    await fake.wait_for(lambda: fake.interaction_messages(status_id))
    original = fake.original_response(status_id)
    assert original is not None
    assert original["content"] == "all servers up"
    assert original["flags"] & 128 == 0  # no longer "thinking"
    assert [body["content"] for body in fake.interaction_messages(status_id)] == ["all servers up"]
    assert "all servers up" not in [m["content"] for m in fake.messages(CHANNEL)]  # ephemeral


async def test_options_subcommands_permissions_and_autocomplete(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot, _seen = bot_with_commands()
    await run_bot(bot)
    await bot.tree.sync()

    with pytest.raises(PermissionError):
        await fake.invoke_slash("admin", {"server": "valheim"}, subcommand="wipe", member_permissions="0")
    with pytest.raises(ValueError, match="required"):
        await fake.invoke_slash("restart", {})
    with pytest.raises(LookupError):
        await fake.invoke_slash("never-synced")

    wipe_id = await fake.invoke_slash(
        "admin", {"server": "valheim"}, subcommand="wipe", member_permissions=str(ADMINISTRATOR)
    )
    wiped = await fake.wait_interaction_response(wipe_id)
    assert wiped["data"]["content"] == "wiped valheim"
    assert wiped["data"]["flags"] == 64

    complete_id = await fake.invoke_autocomplete("restart", {"server": "fa"})
    choices = await fake.wait_interaction_response(complete_id)
    assert choices == {"type": 8, "data": {"choices": [{"name": "factorio", "value": "factorio"}]}}


async def test_guild_sync_and_late_answer_is_refused(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = make_bot()
    failures: list[BaseException] = []

    @bot.tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            failures.append(exc)

    guild = discord.Object(fake.guild_id)
    bot.tree.copy_global_to(guild=guild)
    await run_bot(bot)
    await bot.tree.sync(guild=guild)
    assert [c["name"] for c in fake.commands(fake.guild_id)] == ["slow"]
    fake.interaction_deadline = 0.1

    interaction_id = await fake.invoke_slash("slow")
    await fake.wait_for(lambda: failures)

    assert fake.interaction(interaction_id).payload["data"]["guild_id"] == str(fake.guild_id)
    assert isinstance(failures[0], discord.NotFound)
    assert failures[0].code == 10062
    assert fake.interaction(interaction_id).callback is None


async def test_values_discord_would_refuse_are_refused_unless_raw(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = make_bot()
    received: list[object] = []

    @bot.tree.command(name="count", description="Takes a bounded number and a short text")
    async def count(
        interaction: discord.Interaction, n: app_commands.Range[int, 1, 9], word: app_commands.Range[str, 1, 5]
    ) -> None:
        received.append((n, word))
        await interaction.response.send_message("ok")

    await run_bot(bot)
    await bot.tree.sync()
    with pytest.raises(ValueError, match="outside 'n'"):
        await fake.invoke_slash("count", {"n": 10, "word": "abc"})
    with pytest.raises(ValueError, match=r"'word' takes 1\.\.5 characters"):
        await fake.invoke_slash("count", {"n": 1, "word": "abcdef"})
    raw = await fake.invoke_slash("count", {"n": -5, "word": "x" * 10_000}, raw_values=True)
    await fake.wait_interaction_response(raw)
    assert received == [(-5, "x" * 10_000)], "discord.py itself does not check a Range"
    options = fake.interaction(raw).payload["data"]["options"]
    assert options[0] == {"name": "n", "type": 4, "value": -5}


async def test_a_guild_joins_and_is_left(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = make_bot()
    joined: list[int] = []
    removed: list[int] = []

    async def on_guild_join(guild: discord.Guild) -> None:
        joined.append(guild.id)

    async def on_guild_remove(guild: discord.Guild) -> None:
        removed.append(guild.id)

    bot.add_listener(on_guild_join)
    bot.add_listener(on_guild_remove)
    await run_bot(bot)
    other = 1_190_000_000_000_000_100
    await fake.join_guild(other, "Other", channels=[other + 1])
    await fake.wait_for(lambda: joined)
    guild = bot.get_guild(other)
    assert guild is not None
    assert guild.get_channel(other + 1) is not None
    await guild.leave()
    await fake.wait_for(lambda: removed)
    assert joined == removed == [other]
    assert other not in fake.guild_ids()
    assert bot.get_guild(other) is None


# ---------------------------------------------------------------------------------------------- components


class ConfirmView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.clicked_by: list[int] = []

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]) -> None:
        self.clicked_by.append(interaction.user.id)
        await interaction.response.edit_message(content="confirmed", view=None)


async def test_button_click_reaches_view_on_channel_message(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    view = ConfirmView()
    channel = bot.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("Restart valheim?", view=view)
    stored = fake.messages(CHANNEL)[0]
    assert stored["components"][0]["components"][0]["label"] == "Confirm"

    interaction_id = await fake.click_button(stored, label="Confirm", user_id=777)
    response = await fake.wait_interaction_response(interaction_id)

    assert response["type"] == 7
    assert view.clicked_by == [777]
    after = fake.messages(CHANNEL)
    assert [(m["id"], m["content"], m["components"]) for m in after] == [(str(sent.id), "confirmed", [])]


async def test_button_on_interaction_response_uses_response_message_id(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = make_bot()
    views: list[ConfirmView] = []

    @bot.tree.command(name="confirm", description="Ask for confirmation")
    async def confirm(interaction: discord.Interaction) -> None:
        view = ConfirmView()
        views.append(view)
        await interaction.response.send_message("Sure?", view=view)

    await run_bot(bot)
    await bot.tree.sync()
    command_id = await fake.invoke_slash("confirm")
    await fake.wait_interaction_response(command_id)
    original = fake.original_response(command_id)
    assert original is not None

    click_id = await fake.click_button(original, label="Confirm")
    assert (await fake.wait_interaction_response(click_id))["type"] == 7
    assert views[0].clicked_by == [FakeDiscord.DEFAULT_USER_ID]
    updated = fake.original_response(command_id)
    assert updated is not None
    assert updated["content"] == "confirmed"


# ---------------------------------------------------------------------------------------------- gateway


async def test_heartbeats_are_acked_and_connection_stays_up(fake: FakeDiscord, run_bot: RunBot) -> None:
    fake.heartbeat_interval = 50  # ms, sent in HELLO
    bot = await run_bot(make_bot())

    await fake.wait_for(lambda: len(fake.heartbeats) >= 12, timeout=3)

    gaps = fake.heartbeat_gaps()
    assert max(gaps) < 1.0, gaps  # every 50 ms; only a stuck heartbeat thread leaves a whole second (CI is loaded)
    assert all(beat.acked for beat in fake.heartbeats)
    assert fake.heartbeats[-1].sequence is not None
    assert bot.latency < 1.0
    assert not bot.is_closed()
    assert fake.connected
    assert len(fake.gateway_connections) == 1
    assert len(fake.identifies) == 1


async def test_disconnect_resumes_at_resume_gateway_url(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot, _seen = bot_with_commands()
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    await run_bot(bot)
    await bot.tree.sync()

    assert await fake.disconnect_gateway() == 1
    await asyncio.wait_for(resumed.wait(), 5)

    ready = next(frame for frame in fake.gateway_frames if frame.t == "READY")
    assert len(fake.identifies) == 1
    assert [r["session_id"] for r in fake.resumes] == [ready.d["session_id"]]
    assert fake.gateway_connections[-1].path == "/gateway-resume"
    assert fake.connected
    interaction_id = await fake.invoke_slash("ping")
    assert (await fake.wait_interaction_response(interaction_id))["data"]["content"] == "pong"


async def test_events_during_outage_are_replayed_on_resume(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot, _seen = bot_with_commands()
    await run_bot(bot)
    await bot.tree.sync()

    async with fake.gateway_outage():
        interaction_id = await fake.invoke_slash("ping")
        await bot.get_partial_messageable(CHANNEL).send("REST still works")  # gateway down, HTTP up
        assert fake.interaction(interaction_id).callback is None

    assert (await fake.wait_interaction_response(interaction_id))["data"]["content"] == "pong"
    resumed_connection = fake.gateway_connections[-1]
    dispatched = [
        f.t
        for f in fake.gateway_frames
        if f.direction == "out" and f.op == 0 and f.connection_id == resumed_connection.id
    ]
    assert dispatched[:2] == ["INTERACTION_CREATE", "RESUMED"]  # the backlog is replayed before RESUMED


class NoIdentifyDelayBot(commands.Bot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s here before every non-initial IDENTIFY; skip that in tests."""


async def test_invalid_session_forces_new_identify(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(
        NoIdentifyDelayBot(command_prefix="!", intents=discord.Intents.none(), guild_ready_timeout=0.05)
    )

    await fake.invalidate_session(resumable=False)
    await fake.wait_for(lambda: len(fake.identifies) == 2 and fake.connected)

    assert fake.resumes == []
    assert fake.gateway_connections[-1].path == "/gateway"
    await bot.get_partial_messageable(CHANNEL).send("still here")
    assert len(fake.messages(CHANNEL)) == 1


async def test_presence_updates_and_dispatch(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    received: list[discord.RawMessageDeleteEvent] = []

    async def on_raw_message_delete(payload: discord.RawMessageDeleteEvent) -> None:
        received.append(payload)

    bot.add_listener(on_raw_message_delete)

    await bot.change_presence(activity=discord.Game("valheim (3 players)"))
    presence = await fake.wait_for(lambda: fake.presences[-1] if fake.presences else None)
    assert presence["activities"][0]["name"] == "valheim (3 players)"

    await fake.dispatch("MESSAGE_DELETE", {"id": "1", "channel_id": str(CHANNEL), "guild_id": str(fake.guild_id)})
    await fake.wait_for(lambda: received)
    assert received[0].channel_id == CHANNEL


async def test_file_upload_is_parsed_from_multipart(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    log = discord.File(io.BytesIO(b"[12:00] server started\n"), filename="console.log")

    message = await bot.get_partial_messageable(CHANNEL).send("log attached", file=log)

    post = fake.posts(CHANNEL)[0]
    assert post.json["content"] == "log attached"  # from the payload_json part
    assert [(f.field_name, f.filename, f.data) for f in post.files] == [
        ("files[0]", "console.log", b"[12:00] server started\n")
    ]
    assert message.attachments[0].filename == "console.log"
    assert message.attachments[0].size == len(b"[12:00] server started\n")


async def test_autosharded_bot_uses_gateway_bot(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(
        commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.none(), guild_ready_timeout=0.05)
    )

    assert fake.requests_to("GET /gateway/bot")
    assert fake.identifies[0]["shard"] == [0, 1]
    assert bot.get_guild(fake.guild_id) is not None


class ServerSelect(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.picked: list[str] = []

    @discord.ui.select(
        custom_id="server-pick", options=[discord.SelectOption(label=n) for n in ("valheim", "factorio")]
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[ServerSelect]) -> None:
        self.picked.extend(select.values)
        await interaction.response.defer()


async def test_select_menu_reaches_view(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    view = ServerSelect()
    sent = await bot.get_partial_messageable(CHANNEL).send("Pick a server", view=view)

    interaction_id = await fake.choose_select(sent.id, "server-pick", ["factorio"])

    assert (await fake.wait_interaction_response(interaction_id))["type"] == 6
    assert view.picked == ["factorio"]


async def test_edit_failures_and_foreign_messages(fake: FakeDiscord, run_bot: RunBot) -> None:
    bot = await run_bot(make_bot())
    channel = bot.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    mine = await channel.send("players: 0")
    fake.fail_patches(500, count=1)

    with fast_discord_retries():
        await mine.edit(content="players: 1")

    assert [r.status for r in fake.patches(CHANNEL, mine.id)] == [500, 200]
    theirs = fake.add_message(CHANNEL, "hello bot", author_id=555)
    fetched = await channel.fetch_message(int(theirs["id"]))
    assert fetched.author.id == 555
    with pytest.raises(discord.Forbidden) as refused:
        await fetched.edit(content="hijacked")
    assert refused.value.code == 50005


async def test_op7_reconnect_and_server_requested_heartbeat(fake: FakeDiscord, run_bot: RunBot) -> None:
    await run_bot(make_bot())
    beats = len(fake.heartbeats)

    await fake.request_heartbeat()
    await fake.wait_for(lambda: len(fake.heartbeats) > beats)

    await fake.send_reconnect()
    await fake.wait_for(lambda: fake.resumes and fake.connected)
    assert len(fake.identifies) == 1
    assert fake.gateway_connections[-1].path == "/gateway-resume"
