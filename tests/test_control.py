"""Server commands (/start, /stop, /install, …): the real bot, a fake Discord and a fake kgsm.sh (tests/fakes/kgsm.sh).

The fake kgsm.sh records every call (arguments, KGSM_EVENT_ACTOR, KGSM_EVENT_ORIGIN) in a file and sends KGSM's
events for what it did to the bot's socket with socat, so a test sees the whole loop: slash command → kgsm.sh →
events → the live operation message naming who asked.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.kgsm_cli import (
    KgsmCli,
    Syntax,
    check_name,
    check_version,
    detect_syntax,
    install_args,
    instance_args,
    list_args,
    parse_names,
)
from tests.conftest import DEFAULT_CHANNEL, LiveBot, StartBot
from tests.fakes.discord_server import DEFAULT_MEMBER_PERMISSIONS, FakeDiscord

FAKE_KGSM = Path(__file__).parent / "fakes" / "kgsm.sh"
MANAGE_GUILD = 1 << 5
MANAGER = str(int(DEFAULT_MEMBER_PERMISSIONS) | MANAGE_GUILD)
EPHEMERAL = 1 << 6
OPERATOR_ROLE = 777777777777777777
ASKER = FakeDiscord.DEFAULT_USER_ID
OTHER_USER = 1_180_000_000_000_000_600
ACTOR = f"discord:user{ASKER}"
SYNTAXES = ["modern", "legacy"]
LISTS = {("instances", "list", "--json"), ("blueprints", "list", "--json"), ("--instances", "--json")}
LISTS |= {("--blueprints", "--json"), ("--help",)}

EXPECTED: dict[str, dict[str, list[str]]] = {
    "modern": {
        "start": ["start", "factorio"],
        "stop": ["stop", "valheim"],
        "restart": ["restart", "factorio"],
        "backup": ["backup", "valheim"],
        "logs": ["logs", "factorio", "--tail", "20"],
        "install": ["install", "minecraft", "--name", "mc1", "--version", "1.21"],
        "uninstall": ["uninstall", "factorio"],
    },
    "legacy": {
        "start": ["--instance", "factorio", "--start"],
        "stop": ["--instance", "valheim", "--stop"],
        "restart": ["--instance", "factorio", "--restart"],
        "backup": ["--instance", "valheim", "--create-backup"],
        "logs": ["--instance", "factorio", "--logs"],
        "install": ["--install", "minecraft", "--version", "1.21", "--name", "mc1"],
        "uninstall": ["--uninstall", "factorio"],
    },
}


@dataclass(frozen=True)
class Call:
    actor: str
    origin: str
    args: tuple[str, ...]


@dataclass
class FakeKgsm:
    """The fake kgsm.sh's settings (environment variables, read at each call) and its record of calls."""

    log: Path
    monkeypatch: pytest.MonkeyPatch

    def set(self, **variables: str) -> None:
        for name, value in variables.items():
            self.monkeypatch.setenv(f"FAKE_KGSM_{name.upper()}", value)

    def unset(self, *names: str) -> None:
        for name in names:
            self.monkeypatch.delenv(f"FAKE_KGSM_{name.upper()}", raising=False)

    def calls(self) -> list[Call]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [Call(parts[0], parts[1], tuple(parts[2:])) for parts in (line.split("\t") for line in lines)]

    def commands(self) -> list[Call]:
        """The calls that do something (not --help, not the lists)."""
        return [call for call in self.calls() if call.args not in LISTS]


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    for name in list(os.environ):
        if name.startswith("FAKE_KGSM_"):
            monkeypatch.delenv(name)
    fake_kgsm = FakeKgsm(short_dir / "kgsm-calls.log", monkeypatch)
    fake_kgsm.set(log=str(fake_kgsm.log), socket=str(short_dir / "kgsm.sock"))
    fake.add_role(OPERATOR_ROLE, name="Operators")
    return fake_kgsm


async def start(start_bot: StartBot, kgsm: FakeKgsm, syntax: str = "modern", cli: str = "auto", **env: str) -> LiveBot:
    kgsm.set(syntax=syntax)
    settings = {
        "KGSM_PATH": str(FAKE_KGSM),
        "KGSM_CLI": cli,
        "KGSM_OPERATOR_ROLE_IDS": str(OPERATOR_ROLE),
        "KGSM_DEFAULT_CHANNEL_ID": str(DEFAULT_CHANNEL),
        **env,
    }
    return await start_bot(**settings)


async def invoke(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None, **kwargs: Any) -> int:
    kwargs.setdefault("member_permissions", MANAGER)
    return await fake.invoke_slash(name, options or {}, **kwargs)


async def answer(fake: FakeDiscord, interaction: int, timeout: float = 10.0) -> str:
    """The text the member finally sees: the refusal, or what replaced the deferral's "thinking…"."""
    bodies = await fake.wait_interaction_messages(interaction, timeout=timeout)
    callback = fake.interaction(interaction).callback
    assert callback is not None
    assert callback["data"]["flags"] & EPHEMERAL, "server commands answer privately"
    return str(bodies[-1].get("content") or "")


async def ask(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None, **kwargs: Any) -> str:
    return await answer(fake, await invoke(fake, name, options, **kwargs))


def live_messages(fake: FakeDiscord) -> dict[str, dict[str, Any]]:
    """The embeds posted in the default channel, by title."""
    return {embed["title"]: embed for message in fake.messages(DEFAULT_CHANNEL) for embed in message["embeds"]}


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


@pytest.mark.parametrize("syntax", SYNTAXES)
async def test_the_events_a_command_causes_update_the_live_message_naming_the_member(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, syntax: str
) -> None:
    await start(start_bot, kgsm, syntax, cli=syntax)
    await ask(fake, "install", {"blueprint": "minecraft", "name": "mc1"})
    await ask(fake, "stop", {"instance": "valheim"})
    await ask(fake, "start", {"instance": "factorio"})
    titles = ("✅ mc1 installed", "✅ valheim stopped")
    await fake.wait_for(lambda: all(title in live_messages(fake) for title in titles), timeout=15)
    for title in titles:
        assert live_messages(fake)[title]["footer"]["text"] == f"by {ACTOR} · on gamehost"
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

    control = [command for command in fake.commands() if command["name"] in EXPECTED["modern"]]
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
            refused = await ask(fake, name, options)
            assert "name is 1 to 64 letters" in refused, (name, bad, refused)
        refused = await ask(fake, "install", {"blueprint": "minecraft", "version": bad.replace("a" * 65, "1" * 65)})
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
    await start(start_bot, kgsm)
    prompt = await invoke(fake, "uninstall", {"instance": "factorio"})
    assert "Confirm within 60 s" in await answer(fake, prompt)
    message = fake.original_response(prompt)
    assert message is not None

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


async def test_logs_are_private_and_come_as_a_file_when_long(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm, cli="legacy")  # legacy KGSM has no --tail: the bot keeps the last lines
    kgsm.set(syntax="legacy", log_lines="300")
    short = await ask(fake, "logs", {"instance": "valheim", "lines": 3})
    assert short.startswith("The last 3 lines of **valheim**'s log:\n```\n[valheim] log line 298")

    long = await invoke(fake, "logs", {"instance": "valheim", "lines": 250})
    assert await answer(fake, long) == "The last 250 lines of **valheim**'s log are attached."
    message = fake.original_response(long)
    assert message is not None
    assert [attachment["filename"] for attachment in message["attachments"]] == ["valheim.log"]
    (upload,) = [file for request in fake.requests for file in request.files if file.filename == "valheim.log"]
    lines = upload.data.decode().splitlines()
    assert len(lines) == 250
    assert lines[0] == "[valheim] log line 51 of the server"
    assert lines[-1] == "[valheim] log line 300 of the server"


# ------------------------------------------------------------------------------------------ units


def test_names_and_versions_follow_the_strict_patterns() -> None:
    assert check_name(" factorio-01 ") == "factorio-01"
    for bad in ["", "-x", ".hidden", "../etc", "a b", "x;y", "a" * 65, "é"]:
        with pytest.raises(ValueError, match="1 to 64"):
            check_name(bad)
    assert check_version("1.21+build.3") == "1.21+build.3"
    with pytest.raises(ValueError, match="version"):
        check_version("--latest")
    with pytest.raises(ValueError, match="1 to 64"):
        instance_args(Syntax.MODERN, "start", "--help")
    with pytest.raises(ValueError, match="1 to 64"):
        install_args(Syntax.LEGACY, "minecraft", name="a/b")


def test_arguments_in_each_syntax() -> None:
    for syntax in SYNTAXES:
        for action in ("start", "stop", "restart", "backup", "uninstall"):
            target = "valheim" if action in ("stop", "backup") else "factorio"
            assert instance_args(Syntax(syntax), action, target) == EXPECTED[syntax][action]
    assert instance_args(Syntax.MODERN, "logs", "factorio", tail=20) == EXPECTED["modern"]["logs"]
    assert instance_args(Syntax.LEGACY, "logs", "factorio", tail=20) == EXPECTED["legacy"]["logs"]
    assert install_args(Syntax.MODERN, "minecraft") == ["install", "minecraft"]
    assert install_args(Syntax.LEGACY, "minecraft", name="mc1", version="1.21") == EXPECTED["legacy"]["install"]
    assert list_args(Syntax.MODERN, "instances") == ["instances", "list", "--json"]
    assert list_args(Syntax.LEGACY, "blueprints") == ["--blueprints", "--json"]


def test_the_syntax_is_told_from_the_help_text() -> None:
    modern = "\x1b[4mUsage:\x1b[0m\n  kgsm.sh <command>\n\x1b[1mLifecycle Shortcuts:\x1b[0m\n  start <instance>   Start"
    legacy = "Options:\n  --instances [--json]\n  --instance <name> --start   Start an instance"
    assert detect_syntax(modern) is Syntax.MODERN
    assert detect_syntax(legacy) is Syntax.LEGACY
    assert detect_syntax(legacy + "\n" + modern) is Syntax.MODERN
    assert detect_syntax("Options:\n  --instances [--json]\n  --install-dir D") is None


def test_kgsm_lists_are_read_in_every_shape() -> None:
    assert parse_names('["factorio", "valheim"]') == ["factorio", "valheim"]
    assert parse_names('[{"name": "factorio"}, {"Name": "valheim"}, {"size": 3}]') == ["factorio", "valheim"]
    assert parse_names('{"factorio": {"port": 34197}, "valheim": {}}') == ["factorio", "valheim"]
    assert parse_names("\x1b[32mfactorio\x1b[0m\nvalheim\n\nnot a name!\n") == ["factorio", "valheim"]
    assert parse_names('["ok", "x; rm -rf /", 7]') == ["ok"]


def test_kgsm_gets_the_bots_environment_without_its_secrets_and_with_who_asked() -> None:
    bot_env = {"PATH": "/usr/bin", "DISCORD_TOKEN": "secret", "KGSM_WEBHOOK_SECRET": "s", "KGSM_EVENT_ACTOR": "x"}
    cli = KgsmCli(FAKE_KGSM, "modern", 10.0, environ=bot_env)
    assert cli.environment("discord:ada") == {
        "PATH": "/usr/bin",
        "KGSM_EVENT_ACTOR": "discord:ada",
        "KGSM_EVENT_ORIGIN": "discord",
    }
    assert cli.environment(None) == {"PATH": "/usr/bin", "KGSM_EVENT_ORIGIN": "discord"}
