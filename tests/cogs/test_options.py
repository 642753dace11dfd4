"""Every command argument is checked by the bot, whatever Discord enforces (issue 13, item 13).

Discord checks ranges and lengths before it sends an interaction, and so does the fake Discord; a modified
client need not. Each value here is sent with `raw_values=True`, exactly as given, past the fake's checks: the
refusal proves the bot's own check. Every refusal is private and says why, and the fake kgsm.sh records no call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from cogs.utils.options import Checked
from tests.cogs.test_commands import event, send_all
from tests.conftest import CHANNEL_A, StartBot
from tests.control_support import EXPECTED, FakeKgsm, ask, invoke, new_fake_kgsm, start
from tests.fakes.discord_server import FakeDiscord

FOREIGN = 1_190_000_000_000_000_100  # another server the bot is in
FOREIGN_CHANNEL = 1_190_000_000_000_000_101
NO_CHANNEL = 999_999_999_999_999_999

MALICIOUS = ["a" * 10_000, "--help", "../x", "x; rm -rf /", "$(reboot)", "factorio\nstop", "", 42, None]
UNICODE = ["ｆａｃｔｏｒｉｏ", "fac\u202etorio", "фактор", "factorio\u200b"]
NUMBERS = [-5, 0, 10**30, -(2**63), "5", 5.5, True, None]
FLAGS = ["yes", "true", 1, 0, None]

KGSM_NAME = "name is 1 to 64 letters, digits, dots, dashes or underscores"
VERSION = "A version is 1 to 64 letters"
EVENT = "An event is a type"
SEEN_BAD = "A server name is 1 to 100 visible characters"
SEEN_UNKNOWN = "has reported an event yet"
NOT_OURS = "is not a text channel of this server"
BACKUP = "A backup id is 1 to 200 letters"


def seen(value: Any) -> str:
    """A server the bot has seen is looked up, never run: visible text is refused only as unknown."""
    if not isinstance(value, str) or not value.strip() or len(value) > 100 or not value.isprintable():
        return SEEN_BAD
    return SEEN_UNKNOWN


def seen_then_kgsm(value: Any) -> str:
    """/backups with kgsm.sh: a name is looked up as any seen name, then must be one KGSM could have."""
    return SEEN_BAD if seen(value) == SEEN_BAD else KGSM_NAME


def count(name: str, high: int) -> Callable[[Any], str]:
    return lambda _value: f"`{name}` is a whole number from 1 to {high}"


def always(text: str) -> Callable[[Any], str]:
    return lambda _value: text


# (command, subcommand, valid options besides, the option, the values, what the answer says)
CASES: list[tuple[str, str | None, dict[str, Any], str, list[Any], Callable[[Any], str]]] = [
    *[
        (name, None, {}, "instance", MALICIOUS + UNICODE, always(KGSM_NAME))
        for name in EXPECTED["modern"]
        if name != "install"
    ],
    ("install", None, {}, "blueprint", MALICIOUS + UNICODE, always(KGSM_NAME)),
    ("install", None, {"blueprint": "minecraft"}, "name", MALICIOUS + UNICODE, always(KGSM_NAME)),
    ("install", None, {"blueprint": "minecraft"}, "version", MALICIOUS + UNICODE, always(VERSION)),
    ("logs", None, {"instance": "factorio"}, "lines", [*NUMBERS, 1001], count("lines", 1000)),
    ("events", None, {}, "limit", [*NUMBERS, 26], count("limit", 25)),
    ("events", None, {}, "instance", MALICIOUS + UNICODE, seen),
    ("events", None, {}, "event", MALICIOUS + UNICODE, always(EVENT)),
    ("status", None, {}, "instance", MALICIOUS + UNICODE, seen),
    ("players", None, {}, "instance", MALICIOUS + UNICODE, seen),
    ("uptime", None, {}, "instance", MALICIOUS + UNICODE, seen),
    ("uptime", None, {}, "days", [*NUMBERS, 3651], count("days", 3650)),
    ("backups", None, {}, "instance", MALICIOUS + UNICODE, seen_then_kgsm),
    (
        "restore",
        None,
        {"backup": "factorio-20261201T080444Z-f277e8"},
        "instance",
        MALICIOUS + UNICODE,
        always(KGSM_NAME),
    ),
    ("restore", None, {"instance": "factorio"}, "backup", MALICIOUS + UNICODE, always(BACKUP)),
    *[
        (name, None, {}, "public", FLAGS, always("`public` is true or false"))
        for name in ("events", "status", "players", "uptime")
    ],
    ("backups", None, {"instance": "factorio"}, "public", FLAGS, always("`public` is true or false")),
    *[(name, None, {}, "public", FLAGS, always("`public` is true or false")) for name in ("ping", "about")],
    ("notify", "show", {}, "public", FLAGS, always("`public` is true or false")),
    ("notify", "bind", {"channel": CHANNEL_A}, "instance", MALICIOUS + UNICODE, always(KGSM_NAME)),
    ("notify", "unbind", {}, "instance", MALICIOUS + UNICODE, always(KGSM_NAME)),
    *[
        (name, sub, {}, "event_or_family", MALICIOUS + UNICODE, always(EVENT))
        for name, sub in (("notify", "mute"), ("notify", "unmute"))
    ],
    *[
        ("notify", sub, {"event_or_family": "lifecycle"}, "instance", MALICIOUS + UNICODE, always(KGSM_NAME))
        for sub in ("mute", "unmute")
    ],
    *[
        (
            "notify",
            sub,
            {"instance": "factorio"},
            "channel",
            [FOREIGN_CHANNEL, NO_CHANNEL],
            always("not a text channel"),
        )
        for sub in ("bind", "unbind")
    ],
]


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    fake.add_channel(FOREIGN_CHANNEL, FOREIGN)
    return new_fake_kgsm(monkeypatch, short_dir, fake)


async def test_every_bad_value_of_every_option_is_refused_and_nothing_runs(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm)
    await send_all(fake, live, event("instance_started", "factorio", 1))
    for command, subcommand, others, option, values, says in CASES:
        for value in values:
            options = {**others, option: value}
            answered = await ask(fake, command, options, subcommand=subcommand, raw_values=True)
            assert says(value) in answered, (command, subcommand, option, value, answered)
    assert not kgsm.log.exists(), "no kgsm.sh call at all, not even --help"
    assert await live.bot.store.channel_rules() == []
    assert await live.bot.store.mute_rules() == []


async def test_logs_with_negative_lines_never_reaches_kgsm(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm, cli="modern")
    with pytest.raises(ValueError, match="Discord would not send it"):  # the fake checks like Discord …
        await invoke(fake, "logs", {"instance": "factorio", "lines": -5})
    refused = await ask(fake, "logs", {"instance": "factorio", "lines": -5}, raw_values=True)  # … a client need not
    assert refused == "`lines` is a whole number from 1 to 1000; `-5` is not."
    assert not kgsm.log.exists()
    shown = await ask(fake, "logs", {"instance": "factorio", "lines": 1000})
    assert "factorio" in shown
    assert [call.args for call in kgsm.commands()] == [("logs", "factorio", "--tail", "1000")]


async def test_the_limits_are_inclusive(fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm) -> None:
    live = await start(start_bot, kgsm)
    await send_all(fake, live, *(event("instance_started", "factorio", n) for n in range(30)))
    for limit, shown in ((1, 1), (25, 25)):
        interaction = await invoke(fake, "events", {"limit": limit}, raw_values=True)
        response = await fake.wait_interaction_response(interaction)
        assert len(response["data"]["embeds"][0]["description"].splitlines()) == shown


async def test_a_channel_of_another_server_is_refused_as_discord_resolves_it(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm)
    refused = await ask(fake, "notify", {"instance": "factorio", "channel": FOREIGN_CHANNEL}, subcommand="bind")
    assert refused == f"`{FOREIGN_CHANNEL}` is not a text channel of this server."
    assert await live.bot.store.channel_rules() == []
    bound = await ask(fake, "notify", {"instance": "factorio", "channel": CHANNEL_A}, subcommand="bind")
    assert bound == f"Events of **factorio** now go to <#{CHANNEL_A}>."


async def test_every_option_of_every_command_is_checked_by_the_bot(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm)
    leaves: list[discord.app_commands.Command[Any, ..., Any]] = []
    for command in live.bot.tree.get_commands(guild=discord.Object(fake.guild_id)):
        if isinstance(command, discord.app_commands.Group):
            leaves += [c for c in command.walk_commands() if isinstance(c, discord.app_commands.Command)]
        elif isinstance(command, discord.app_commands.Command):
            leaves.append(command)
    assert {command.qualified_name for command in leaves} >= {"events", "status", "notify bind", "logs", "install"}
    every = {(c.qualified_name, p.name) for c in leaves for p in c.parameters}
    # the transformer of each option, as discord.py keeps it (CommandParameter._annotation)
    checked = {
        (c.qualified_name, name)
        for c in leaves
        for name, parameter in c._params.items()
        if isinstance(parameter._annotation, Checked)
    }
    assert every - checked == set()
    tested = {(f"{command} {sub}" if sub else command, option) for command, sub, _, option, _, _ in CASES}
    assert every - tested == set(), "each option has malicious values above"
