"""Crash incidents and the alert ping through the real bot: the supervisor's journal lines, appended in the order
kgsm-watchdog writes them (tests/fixtures/dotted-2026/journal/kgsm-watchdog), become one live message per
incident in the fake Discord; a gave-up incident's Restart button runs the fake kgsm.sh as `/restart` does; the
alert role is pinged once, by a message whose allowed_mentions names only it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.events import OPERATIONS
from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.control_support import ACTOR, ASKER, MANAGER, OTHER_USER, FakeKgsm, answer, new_fake_kgsm, start
from tests.dotted import JOURNAL, RED, SEGMENT, compact, readable
from tests.e2e.test_faults_processes import discord_env
from tests.e2e.test_journals import following, journal_root, settle, write
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import bot_environment, free_port, socat_send, start_bot_process
from tests.web.test_health import get

ROLE = 888888888888888888
WATCHDOG = "kgsm-watchdog"
LINES: list[dict[str, Any]] = [
    json.loads(line) for line in (JOURNAL / WATCHDOG / "events" / SEGMENT).read_text().splitlines()
]
GREEN = 0x2ECC71


def incident_lines(instance: str, until: str) -> list[dict[str, Any]]:
    """The watchdog's crash and restart lines of `instance`, up to and including the first `until`."""
    loop = [
        line
        for line in LINES
        if line["Data"].get("InstanceName") == instance and line["EventType"] != "network.upnp.opened"
    ]
    start_at = next(i for i, line in enumerate(loop) if line["EventType"] == "server.crashed")
    end_at = next(i for i, line in enumerate(loop) if i > start_at and line["EventType"] == until)
    return loop[start_at : end_at + 1]


FACTORIO_LOOP = incident_lines("factorio", "server.crash.exhausted")  # 5 crashes and restarts, then it gives up
# Four crashes, then ready: factorio's first eight lines and a ready as the watchdog writes it.
FOUR_CRASHES = [
    *FACTORIO_LOOP[:8],
    {**LINES[3], "Id": "01a095f0-9000-7000-8000-000000000001", "Data": {"InstanceName": "factorio"}}
    | {"Timestamp": "2026-09-12T14:06:30.000Z"},
]


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    return new_fake_kgsm(monkeypatch, short_dir, fake)


async def watchdog_bot(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path, **env: str
) -> tuple[LiveBot, Path]:
    """The bot with server commands, following the watchdog's journal under a /var/lib-like root."""
    root = short_dir / "lib"
    if not root.exists():
        journal_root(short_dir, (WATCHDOG,))
    live = await start(start_bot, kgsm, KGSM_JOURNAL_ROOT=str(root), **env)
    await following(fake, live, 1)
    return live, root


async def feed(fake: FakeDiscord, live: LiveBot, root: Path, lines: list[dict[str, Any]]) -> None:
    expected = live.bot.stats.received + len(lines)
    write(root, [(WATCHDOG, line) for line in lines])
    await settle(fake, live, expected)


def incidents(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [message for message in fake.messages(DEFAULT_CHANNEL) if message["embeds"]]


def pings(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [message for message in fake.messages(DEFAULT_CHANNEL) if message["content"]]


def title(message: dict[str, Any]) -> str:
    return readable(message["embeds"][0]["title"])


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in message.get("components", []) for button in row.get("components", [])]


def assert_no_mentions_but_pings(fake: FakeDiscord) -> None:
    """Every message the bot posted or edited allowed no mention at all, except the pings: exactly the role."""
    for record in [*fake.posts(DEFAULT_CHANNEL), *fake.patches(DEFAULT_CHANNEL)]:
        body = record.json
        if body.get("content"):
            assert body["allowed_mentions"] == {"parse": [], "roles": [ROLE]}, body
            assert body["content"].startswith(f"<@&{ROLE}> ")
        else:
            assert body["allowed_mentions"] == {"parse": []}, body


# ------------------------------------------------------------------------------------------ one message


async def test_a_four_crash_loop_that_recovers_is_one_message_edited_to_recovered(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir)
    await feed(fake, live, root, FOUR_CRASHES[:3])  # crashed, restarted, crashed: the message while it loops
    [looping] = incidents(fake)
    assert title(looping) == "💥 factorio crashed — restarting (attempt 2)"
    await feed(fake, live, root, FOUR_CRASHES[3:])

    [recovered] = incidents(fake)
    assert recovered["id"] == looping["id"]
    assert title(recovered) == "✅ factorio recovered after 1 min 19 s"  # 14:05:10.512 → 14:06:30.000
    assert recovered["embeds"][0]["color"] == GREEN
    assert "Crashed 4 times" in readable(recovered["embeds"][0]["description"])
    assert len(fake.posts(DEFAULT_CHANNEL)) == 1, "every crash and restart folded into the one message"
    assert buttons(recovered) == []
    assert pings(fake) == [], "no ping without KGSM_ALERT_ROLE_ID"
    assert_no_mentions_but_pings(fake)


async def test_a_server_of_its_own_alert_role_pings_that_role(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    roles = f"{ROLE + 1},factorio={ROLE}"  # the general role, and factorio's own
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=roles)
    await feed(fake, live, root, FACTORIO_LOOP)
    assert [ping["content"] for ping in pings(fake)] == [f"<@&{ROLE}> 🛑 factorio gave up after 5 restarts"]
    assert_no_mentions_but_pings(fake)


async def test_a_loop_to_exhaustion_is_one_red_message_with_a_restart_button_and_one_ping(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=str(ROLE))
    await feed(fake, live, root, FACTORIO_LOOP)

    [gave_up] = incidents(fake)
    assert title(gave_up) == "🛑 factorio gave up after 5 restarts"
    assert gave_up["embeds"][0]["color"] == RED
    [button] = buttons(gave_up)
    assert (button["label"], button["style"]) == ("Restart", 4)
    assert button["custom_id"].startswith("kgsm:restart:")
    assert button["custom_id"].endswith(":factorio")
    [ping] = pings(fake)
    assert ping["content"] == f"<@&{ROLE}> 🛑 factorio gave up after 5 restarts"
    [ping_request] = [record for record in fake.posts(DEFAULT_CHANNEL) if record.json.get("content")]
    assert ping_request.json["allowed_mentions"] == {"parse": [], "roles": [ROLE]}
    assert_no_mentions_but_pings(fake)


async def test_the_restart_button_runs_kgsms_restart_for_an_operator_and_refuses_anyone_else(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir)
    await feed(fake, live, root, FACTORIO_LOOP)
    [gave_up] = incidents(fake)

    refused = await fake.click_button(gave_up, label="Restart", user_id=OTHER_USER)
    assert "operator role can restart servers" in await answer(fake, refused)
    stranger = 1_180_000_000_000_000_777
    fake.add_guild(stranger)
    outside = await fake.click_button(gave_up, label="Restart", member_permissions=MANAGER, guild_id=stranger)
    assert "serves only its own community" in await answer(fake, outside)
    assert kgsm.commands() == []

    received = live.bot.stats.received
    pressed = await fake.click_button(gave_up, label="Restart", member_permissions=MANAGER)
    assert (await answer(fake, pressed)).startswith("✅ Restarted **factorio**")
    [call] = kgsm.commands()
    assert (call.actor, call.origin, call.args) == (ACTOR, "discord", ("restart", "factorio"))
    await settle(fake, live, received + 4)  # the restart's own events, from the fake kgsm.sh

    incident = fake.message(int(gave_up["id"]))
    assert incident is not None
    assert title(incident) == "🛑 factorio gave up after 5 restarts"
    assert f"🔄 Restarted by <@{ASKER}>" in incident["embeds"][0]["description"]
    assert buttons(incident) == [], "the button goes once a restart from it worked"


async def test_a_restart_of_the_bot_mid_incident_keeps_one_message_and_one_ping(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=str(ROLE))
    await feed(fake, live, root, FACTORIO_LOOP[:4])
    await live.stop()
    write(root, [(WATCHDOG, line) for line in FACTORIO_LOOP[4:7]])  # written while the bot is down

    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=str(ROLE))
    await feed(fake, live, root, FACTORIO_LOOP[7:])
    await settle(fake, live, 0)
    [gave_up] = incidents(fake)
    assert title(gave_up) == "🛑 factorio gave up after 5 restarts"
    assert "Crashed 5 times" in readable(gave_up["embeds"][0]["description"])
    assert len(pings(fake)) == 1
    await live.stop()

    live, _root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=str(ROLE))
    assert len(pings(fake)) == 1, "nothing posted again after another restart"
    assert len(incidents(fake)) == 1

    # The button of a message posted before the restart still works; a failed restart keeps it for another try.
    kgsm.set(fail="Instance factorio failed to start", exit="1")
    pressed = await fake.click_button(gave_up, label="Restart", member_permissions=MANAGER)
    assert (await answer(fake, pressed)).startswith("❌ `kgsm.sh restart factorio` failed with exit code 1")
    await fake.wait_for(lambda: "pressed Restart" in str(fake.message(int(gave_up["id"]))), timeout=10)
    incident = fake.message(int(gave_up["id"])) or {}
    assert f"❌ <@{ASKER}> pressed Restart at <t:" in incident["embeds"][0]["description"]
    assert "`kgsm.sh restart factorio` failed with exit code 1." in incident["embeds"][0]["description"]
    assert [button["label"] for button in buttons(incident)] == ["Restart"]
    assert [call.args for call in kgsm.commands()] == [("restart", "factorio")]
    assert len(pings(fake)) == 1


# ------------------------------------------------------------------------------------------ threads


async def test_a_thread_is_opened_on_the_incident_when_enabled(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_INCIDENT_THREADS="true")
    await feed(fake, live, root, FOUR_CRASHES)
    [incident] = incidents(fake)
    assert list(fake.threads) == [int(incident["id"])]
    assert fake.threads[int(incident["id"])]["name"].startswith("💥 factorio crash 2026-09-12 14:05")
    assert live.bot.delivery.stats.threads_opened == 1


async def test_a_thread_refused_never_stops_the_incident_message(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    fake.threads_forbidden.add(DEFAULT_CHANNEL)
    port = free_port()
    live, root = await watchdog_bot(
        fake, start_bot, kgsm, short_dir, KGSM_INCIDENT_THREADS="true", BOT_HTTP_PORT=str(port)
    )
    await feed(fake, live, root, FOUR_CRASHES)
    [incident] = incidents(fake)
    assert title(incident).startswith("✅ factorio recovered")
    assert fake.threads == {}
    _, metrics = await get(port, "/metrics")
    assert 'kgsm_incident_threads_total{result="refused"} 1.0' in metrics


async def test_no_thread_without_the_setting(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, root = await watchdog_bot(fake, start_bot, kgsm, short_dir)
    await feed(fake, live, root, FOUR_CRASHES)
    assert fake.threads == {}


# ------------------------------------------------------------------------------------------ other dangers


async def test_a_failed_install_and_a_threshold_breach_ping_the_role_once_each(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, _root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=str(ROLE))
    host = {"V": 1, "Hostname": "vm", "ProducerVersion": "3.16.0-rc5", "Actor": "root", "Origin": None}
    failing = [
        {**host, "EventType": "instance_installation_started", "Data": {"InstanceName": "mc1", "Blueprint": "mc"}},
        {**host, "EventType": "instance_download_failed", "Data": {"InstanceName": "mc1"}},
    ]
    breach = json.loads((JOURNAL / "kgsm-monitor" / "events" / SEGMENT).read_text().splitlines()[1])
    received = live.bot.stats.received
    for number, document in enumerate([*failing, breach, breach]):
        stamped = {**document, "Timestamp": document.get("Timestamp") or f"2026-12-01T08:00:0{number}.000Z"}
        assert await socat_send(live.socket_path, json.dumps(stamped).encode() + b"\n") == 0
    await settle(fake, live, received + 4)  # the breach twice (KGSM's at-least-once): stored, and pinged, once

    texts = [readable(ping["content"]) for ping in pings(fake)]
    assert texts == [
        f"<@&{ROLE}> ❌ mc1: install failed at “download failed”",
        f"<@&{ROLE}> 📈 gamehost — threshold crossed",
    ]
    assert_no_mentions_but_pings(fake)


# ------------------------------------------------------------------------------------------ kill -9


def recorded_pings(database: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return list(db.execute("SELECT event_id, status FROM deliveries WHERE ping_role IS NOT NULL"))


async def test_a_kill_9_before_discord_took_anything_neither_loses_nor_doubles_the_incident_or_its_ping(
    fake: FakeDiscord, short_dir: Path
) -> None:
    env = bot_environment(
        short_dir, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL), KGSM_ALERT_ROLE_ID=str(ROLE), **discord_env(fake)
    )
    database = short_dir / "data" / "kgsm-bot.sqlite3"
    fake.fail_posts(503)  # Discord is down: everything waits in the outbox
    bot = await start_bot_process(short_dir, env)
    try:
        for line in FACTORIO_LOOP:
            assert await socat_send(Path(env["KGSM_SOCKET_PATH"]), compact(line)) == 0
        await fake.wait_for(lambda: database.exists() and recorded_pings(database) != [], timeout=20)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        assert [status for _, status in recorded_pings(database)] == ["pending"]

        fake.recover()
        bot = await start_bot_process(short_dir, env)
        await fake.wait_for(lambda: len(pings(fake)) == 1 and "gave up" in str(incidents(fake)), timeout=30)
        await asyncio.sleep(1.5)  # anything doubled would arrive now
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 20)
    [gave_up] = incidents(fake)
    assert title(gave_up) == "🛑 factorio gave up after 5 restarts"
    assert [ping["content"] for ping in pings(fake)] == [f"<@&{ROLE}> 🛑 factorio gave up after 5 restarts"]
    assert_no_mentions_but_pings(fake)


async def test_a_hostile_server_name_stays_inert_in_the_incident_and_its_ping(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    live, _root = await watchdog_bot(fake, start_bot, kgsm, short_dir, KGSM_ALERT_ROLE_ID=str(ROLE))
    name = "@everyone **boom** <@&1> \ud800"
    gave_up = {**FACTORIO_LOOP[-1], "Data": {"InstanceName": name, "ExitCode": "1", "Restarts": "6"}}
    received = live.bot.stats.received
    assert await socat_send(live.socket_path, json.dumps(gave_up).encode() + b"\n") == 0
    await settle(fake, live, received + 1)
    [incident] = incidents(fake)
    [ping] = pings(fake)
    for text in (incident["embeds"][0]["title"], ping["content"].removeprefix(f"<@&{ROLE}> ")):
        assert "@everyone" not in text
        assert "<@&1>" not in text
        assert "**boom**" not in text
    assert buttons(incident) == [], "not a name kgsm.sh takes: no button"
    assert_no_mentions_but_pings(fake)


def test_which_failed_operations_ping() -> None:
    alerting = {name for name, operation in OPERATIONS.items() if operation.alerts}
    assert alerting == {"install", "update", "uninstall", "restore", "incident"}
