"""Server commands (/start, /stop, /install, …): the real bot, a fake Discord and a fake kgsm.sh (tests/fakes/kgsm.sh).

The fake kgsm.sh accepts exactly one KGSM era's command line and refuses anything else as KGSM does; it records
every call (arguments, KGSM_EVENT_ACTOR, KGSM_EVENT_ORIGIN) in a file and sends KGSM's events for what it did, in
KGSM's real order, to the bot's socket with socat, so a test sees the whole loop: slash command → kgsm.sh →
events → the live operation message naming who asked. The forms themselves are tested in tests/kgsm/test_cli.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.kgsm.syntax import Syntax, list_args
from tests.conftest import StartBot
from tests.control_support import (
    ACTOR,
    ASKER,
    EXPECTED,
    MANAGE_GUILD,
    MANAGER,
    OPERATOR_ROLE,
    OTHER_USER,
    SYNTAXES,
    FakeKgsm,
    answer,
    ask,
    invoke,
    live_messages,
    new_fake_kgsm,
    start,
    view_listening,
)
from tests.fakes.discord_server import DEFAULT_MEMBER_PERMISSIONS, FakeDiscord


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    return new_fake_kgsm(monkeypatch, short_dir, fake)


# ------------------------------------------------------------------------------------------ both syntaxes, e2e


@pytest.mark.parametrize("syntax", SYNTAXES)
async def test_each_command_runs_kgsms_arguments_in_the_syntax_it_speaks(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, syntax: str
) -> None:
    await start(start_bot, kgsm, syntax)  # KGSM_CLI=auto: the syntax comes from kgsm.sh --help
    expected = EXPECTED[syntax]
    assert (await ask(fake, "start", {"instance": "factorio"})).startswith("✅ Started **factorio**")
    assert (await ask(fake, "stop", {"instance": "valheim"})).startswith("✅ Stopped **valheim**")
    assert (await ask(fake, "restart", {"instance": "factorio"})).startswith("✅ Restarted **factorio**")
    assert (await ask(fake, "backup", {"instance": "valheim"})).startswith("✅ Backed up **valheim**")
    assert "log line 1" in await ask(fake, "logs", {"instance": "factorio", "lines": 20})
    installed = await ask(fake, "install", {"blueprint": "minecraft", "name": "mc1", "version": "1.21"})
    assert installed.startswith("✅ Installed the **minecraft** blueprint as **mc1**")
    assert "`factorio`, `valheim`, `minecraft`" in await ask(fake, "blueprints")

    calls = kgsm.calls()
    assert calls[0].args == ("--help",)
    assert {call.args for call in calls} >= set(
        map(tuple, ([list_args(Syntax(syntax), "instances"), list_args(Syntax(syntax), "blueprints")]))
    )
    commands = kgsm.commands()
    assert [list(call.args) for call in commands] == [
        expected[name] for name in ("start", "stop", "restart", "backup", "logs", "install")
    ]
    assert {(call.actor, call.origin) for call in commands} == {(ACTOR, "discord")}


@pytest.mark.parametrize("syntax", ["modern", "legacy"])  # KGSM 1.x's events name nobody (no Actor)
async def test_the_events_a_command_causes_update_the_live_message_naming_the_member(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, syntax: str
) -> None:
    await start(start_bot, kgsm, syntax, cli=syntax)
    await ask(fake, "install", {"blueprint": "minecraft", "name": "mc1"})
    await ask(fake, "stop", {"instance": "valheim"})
    await ask(fake, "start", {"instance": "factorio"})
    # KGSM 3 brackets a stop (stop_started … stop_finished: an operation); before, instance_stopped comes alone
    stopped = "✅ valheim stopped" if syntax == "modern" else "🔴 valheim — stopped"
    titles = ("✅ mc1 installed", stopped)
    await fake.wait_for(lambda: all(title in live_messages(fake) for title in titles), timeout=15)
    for title in titles:
        assert live_messages(fake)[title]["footer"]["text"].startswith(f"by {ACTOR} · on gamehost")
    started = await fake.wait_for(
        lambda: [embed for title, embed in live_messages(fake).items() if "factorio" in title and "started" in title]
    )
    assert started[0]["footer"]["text"].startswith(f"by {ACTOR}")


async def test_an_explicit_syntax_is_used_without_asking_kgsm(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm, "legacy", cli="legacy")
    assert (await ask(fake, "start", {"instance": "factorio"})).startswith("✅")
    assert [call.args for call in kgsm.calls()] == [("--instances", "--json"), tuple(EXPECTED["legacy"]["start"])]


# ------------------------------------------------------------------------------------------ who may run them


async def test_a_member_who_is_no_operator_is_refused_and_nothing_runs(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm)
    for name, options in [("start", {"instance": "factorio"}), ("install", {"blueprint": "minecraft"})]:
        # an admin made the command visible to everyone; the bot still checks
        refused = await ask(
            fake, name, options, member_permissions=DEFAULT_MEMBER_PERMISSIONS, enforce_permissions=False
        )
        assert "Manage Server" in refused
        assert "operator role" in refused
    suggestions = await fake.invoke_autocomplete(
        "start", {"instance": "f"}, member_permissions=DEFAULT_MEMBER_PERMISSIONS
    )
    assert (await fake.wait_interaction_response(suggestions))["data"]["choices"] == []
    assert kgsm.calls() == []

    control = [command for command in fake.commands(fake.guild_id) if command["name"] in EXPECTED["modern"]]
    assert len(control) == 7
    assert all(int(command["default_member_permissions"]) == MANAGE_GUILD for command in control)


async def test_a_member_with_an_operator_role_may_run_them(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm)
    operator = {"member_permissions": DEFAULT_MEMBER_PERMISSIONS, "enforce_permissions": False}
    assert (await ask(fake, "start", {"instance": "factorio"}, roles=[OPERATOR_ROLE], **operator)).startswith("✅")
    suggestions = await fake.invoke_autocomplete("start", {"instance": "VAL"}, member_permissions=MANAGER)
    assert [c["value"] for c in (await fake.wait_interaction_response(suggestions))["data"]["choices"]] == ["valheim"]


# ------------------------------------------------------------------------------------------ safety


async def test_dangerous_names_are_refused_before_any_process_starts(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm)
    for bad in ["x; rm -rf /", "--help", "../../etc", "$(reboot)", "-rf", "a" * 65, "factorio\nstop"]:
        for name, options in [
            ("start", {"instance": bad}),
            ("logs", {"instance": bad}),
            ("uninstall", {"instance": bad}),
            ("install", {"blueprint": bad}),
            ("install", {"blueprint": "minecraft", "name": bad}),
        ]:
            refused = await ask(fake, name, options, raw_values=True)  # past Discord's own length check
            assert "name is 1 to 64 letters" in refused, (name, bad, refused)
        version = {"blueprint": "minecraft", "version": bad.replace("a" * 65, "1" * 65)}
        refused = await ask(fake, "install", version, raw_values=True)
        assert "A version is" in refused, bad
    assert not kgsm.log.exists(), "no kgsm.sh call at all, not even --help"


async def test_a_name_kgsm_does_not_know_is_refused(fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm) -> None:
    await start(start_bot, kgsm)
    assert "KGSM has no instance called **terraria**" in await ask(fake, "start", {"instance": "terraria"})
    assert "KGSM has no blueprint called **terraria**" in await ask(fake, "install", {"blueprint": "terraria"})
    assert kgsm.commands() == []


async def test_a_hanging_kgsm_is_killed_at_the_timeout_and_reported(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, short_dir: Path
) -> None:
    pid_file = short_dir / "hanging.pid"
    kgsm.set(hang="1", pidfile=str(pid_file))
    await start(start_bot, kgsm, KGSM_COMMAND_TIMEOUT="2")
    reported = await answer(fake, await invoke(fake, "start", {"instance": "factorio"}), timeout=15)
    assert reported.startswith("⏱️ `kgsm.sh start factorio` did not finish within 2 s and was stopped.")
    child = Path(f"/proc/{pid_file.read_text().strip()}/status")
    assert not child.exists() or "State:\tZ" in child.read_text(), "the whole process group is killed"


async def test_a_failure_is_reported_with_kgsms_own_error(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    kgsm.set(fail="Instance factorio is already running", exit="3")
    await start(start_bot, kgsm)
    reported = await ask(fake, "start", {"instance": "factorio"})
    assert reported.startswith("❌ `kgsm.sh start factorio` failed with exit code 3:")
    assert "ERROR: Instance factorio is already running" in reported


async def test_a_second_command_for_a_busy_instance_is_refused(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    kgsm.set(sleep="1.5")
    await start(start_bot, kgsm)
    first = await invoke(fake, "start", {"instance": "factorio"})
    await fake.wait_for(kgsm.commands, timeout=10)  # kgsm.sh start factorio is running
    for name in ("stop", "uninstall", "backup"):
        refused = await ask(fake, name, {"instance": "FACTORIO"})
        assert f"busy: /start by user{ASKER} is still running" in refused
    other = await invoke(fake, "start", {"instance": "valheim"})
    assert (await answer(fake, first)).startswith("✅ Started **factorio**")
    assert (await answer(fake, other)).startswith("✅ Started **valheim**")
    assert [call.args for call in kgsm.commands()] == [("start", "factorio"), ("start", "valheim")]
    assert (await ask(fake, "stop", {"instance": "factorio"})).startswith("✅"), "free again once it finished"


# ------------------------------------------------------------------------------------------ /uninstall, /logs


async def test_uninstall_asks_first_and_only_the_caller_can_confirm(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm)
    prompt = await invoke(fake, "uninstall", {"instance": "factorio"})
    assert "Confirm within 60 s" in await answer(fake, prompt)
    message = fake.original_response(prompt)
    assert message is not None
    await view_listening(fake, live, message)

    intruder = await fake.click_button(message, label="Uninstall", user_id=OTHER_USER)
    assert "can confirm this uninstall" in (await fake.wait_interaction_response(intruder))["data"]["content"]
    assert kgsm.commands() == []

    confirmed = await fake.click_button(message, label="Uninstall")
    assert (await fake.wait_interaction_response(confirmed))["type"] == 7
    await fake.wait_for(lambda: "✅ Uninstalled **factorio**" in str(fake.message(int(message["id"]))), timeout=10)
    assert [(call.actor, call.args) for call in kgsm.commands()] == [(ACTOR, ("uninstall", "factorio"))]
    await fake.wait_for(lambda: "✅ factorio uninstalled" in live_messages(fake), timeout=15)


async def test_the_uninstall_confirmation_expires(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start(start_bot, kgsm)
    # load_extension executes cogs/control.py afresh: shorten the expiry of the class the bot really uses
    monkeypatch.setattr(sys.modules["cogs.control"].ConfirmUninstall, "expiry", 0.5)
    prompt = await invoke(fake, "uninstall", {"instance": "factorio"})
    assert "Confirm within 0.5 s" in await answer(fake, prompt)
    expired = await fake.wait_for(lambda: "expired" in str((fake.original_response(prompt) or {}).get("content")))
    assert expired
    message = fake.original_response(prompt)
    assert message is not None
    assert not message.get("components"), "no button is left to press"
    assert kgsm.commands() == []
