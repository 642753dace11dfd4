"""What the tests of the server commands share: the fake kgsm.sh's knobs and record of calls, starting the bot
with it, and asking the fake Discord as a member would."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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
SYNTAXES = ["modern", "legacy", "legacy-1"]
LISTS = {("instances", "list", "--json"), ("blueprints", "list", "--json"), ("--instances", "--json")}
LISTS |= {("--blueprints", "--json"), ("--help",)}

EXPECTED: dict[str, dict[str, list[str]]] = {
    "modern": {
        "start": ["start", "factorio"],
        "stop": ["stop", "valheim"],
        "restart": ["restart", "factorio"],
        "backup": ["instances", "create-backup", "valheim"],
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
        "install": ["--create", "minecraft", "--version", "1.21", "--name", "mc1"],
        "uninstall": ["--uninstall", "factorio"],
    },
}
EXPECTED["legacy-1"] = {**EXPECTED["legacy"], "install": ["--install", "minecraft", "--version", "1.21", "--id", "mc1"]}


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


def new_fake_kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    """The body of each control test module's `kgsm` fixture: a clean fake kgsm.sh and an operator role."""
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


async def view_listening(fake: FakeDiscord, live: LiveBot, message: dict[str, Any]) -> None:
    """Wait until discord.py has registered the buttons of `message` (it does so just after Discord answered
    the request that sent them; a person never clicks that fast, a test may)."""
    store = live.bot._connection._view_store
    await fake.wait_for(lambda: store.is_message_tracked(int(message["id"])), timeout=5)


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
