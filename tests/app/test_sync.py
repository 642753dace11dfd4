"""Syncing the slash commands: when Discord fails the sync (a 5xx, or the connection cut), the bot says so in
its log, starts and posts all the same, and syncs at the next start (nothing is remembered as synced)."""

from __future__ import annotations

import logging

import pytest

from bot.app.sync import hash_fact
from tests.conftest import DEFAULT_CHANNEL, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import pretty, socat_send, started

GUILD_SYNC = "PUT /applications/{application_id}/guilds/{guild_id}/commands"


@pytest.mark.parametrize("failure", [503, None], ids=["503", "connection cut"])
async def test_a_failed_command_sync_is_logged_and_the_bot_runs_and_syncs_at_the_next_start(
    fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture, failure: int | None
) -> None:
    fake.fail_command_syncs(failure)
    with caplog.at_level(logging.ERROR, logger="bot.app.sync"):
        live = await start_bot(KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL))
    assert fake.commands(fake.guild_id) == []
    reports = [r.getMessage() for r in caplog.records if r.name == "bot.app.sync"]
    assert any(f"could not sync the slash commands to server {fake.guild_id}" in m for m in reports), reports
    assert await live.bot.store.get_fact(hash_fact(fake.guild_id)) is None, "not remembered as synced"

    assert await socat_send(live.socket_path, pretty(started("factorio"))) == 0  # the bot is at work
    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "factorio" in message["embeds"][0]["title"]
    assert not live.bot.is_closed()

    await live.stop()
    fake.recover()
    await start_bot()
    assert {command["name"] for command in fake.commands(fake.guild_id)} >= {"events", "status", "notify"}
    statuses = [request.status for request in fake.requests_to(GUILD_SYNC)]
    assert statuses[-1] == 200
    assert 200 not in statuses[:-1], "the first start's sync failed; the second start's went through"
