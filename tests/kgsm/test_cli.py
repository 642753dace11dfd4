"""KGSM's command line per era (bot/kgsm/syntax.py), run for real against the strict fake kgsm.sh (bot/kgsm/cli.py).

The fake accepts exactly the forms of one KGSM era and refuses anything else the way KGSM does, so "the fake took it"
means "KGSM of that era takes it". Its events are compared with what KGSM's own code emitted
(tests/fixtures/real/, from shared/fixtures/real/), operation by operation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.kgsm.cli import OUTPUT_LIMIT, KgsmCli, Outcome
from bot.kgsm.syntax import (
    Backup,
    Syntax,
    check_backup_id,
    check_name,
    check_version,
    create_backup_args,
    detect_syntax,
    install_args,
    instance_args,
    lifecycle_args,
    list_args,
    list_backups_args,
    logs_args,
    parse_backups,
    parse_names,
    restore_backup_args,
    uninstall_args,
)
from tests.helpers import FIXTURES

FAKE_KGSM = Path(__file__).resolve().parents[1] / "fakes" / "kgsm.sh"
HELP = FIXTURES / "kgsm-help"
REAL = FIXTURES / "real"  # copied unchanged from shared/fixtures/real/
MODERN, LEGACY, LEGACY_1 = Syntax.MODERN, Syntax.LEGACY, Syntax.LEGACY_1
ALL = [MODERN, LEGACY, LEGACY_1]

# What the bot types for each command, per era, exactly as bot/kgsm_syntax.py documents it from KGSM's sources.
FORMS: dict[Syntax, dict[str, list[str]]] = {
    MODERN: {
        "start": ["start", "valheim"],
        "stop": ["stop", "valheim"],
        "restart": ["restart", "valheim"],
        "logs": ["logs", "valheim", "--tail", "20"],
        "create-backup": ["instances", "create-backup", "valheim"],
        "backups": ["instances", "backups", "valheim", "--json"],
        "restore": ["instances", "restore-backup", "valheim", "valheim-20261201T080444Z-f277e8"],
        "install": ["install", "minecraft", "--name", "mc1", "--version", "1.21"],
        "uninstall": ["uninstall", "valheim"],
        "instances": ["instances", "list", "--json"],
        "blueprints": ["blueprints", "list", "--json"],
    },
    LEGACY: {
        "start": ["--instance", "valheim", "--start"],
        "stop": ["--instance", "valheim", "--stop"],
        "restart": ["--instance", "valheim", "--restart"],
        "logs": ["--instance", "valheim", "--logs"],
        "create-backup": ["--instance", "valheim", "--create-backup"],
        "backups": ["--instance", "valheim", "--backups"],
        "restore": ["--instance", "valheim", "--restore-backup", "valheim-1.0.0-2026-12-01T07:36:23.backup"],
        "install": ["--create", "minecraft", "--version", "1.21", "--name", "mc1"],
        "uninstall": ["--uninstall", "valheim"],
        "instances": ["--instances", "--json"],
        "blueprints": ["--blueprints", "--json"],
    },
}
FORMS[LEGACY_1] = {**FORMS[LEGACY], "install": ["--install", "minecraft", "--version", "1.21", "--id", "mc1"]}
RESTORE_ID = {syntax: FORMS[syntax]["restore"][-1] for syntax in ALL}


def built(syntax: Syntax, command: str) -> list[str]:
    match command:
        case "start" | "stop" | "restart":
            return lifecycle_args(syntax, command, "valheim")
        case "logs":
            return logs_args(syntax, "valheim", 20)
        case "create-backup":
            return create_backup_args(syntax, "valheim")
        case "backups":
            return list_backups_args(syntax, "valheim")
        case "restore":
            return restore_backup_args(syntax, "valheim", RESTORE_ID[syntax])
        case "install":
            return install_args(syntax, "minecraft", name="mc1", version="1.21")
        case "uninstall":
            return uninstall_args(syntax, "valheim")
        case _:
            return list_args(syntax, command)


def fake_cli(syntax: Syntax, tmp: Path, timeout: float = 10.0, **knobs: str) -> KgsmCli:
    """A KgsmCli for the fake kgsm.sh of `syntax`; its events go to tmp/events.ndjson."""
    environ = {"PATH": os.environ["PATH"], "FAKE_KGSM_SYNTAX": syntax.value, "FAKE_KGSM_EVENTS": str(tmp / "ev")}
    environ |= {f"FAKE_KGSM_{name.upper()}": value for name, value in knobs.items()}
    return KgsmCli(FAKE_KGSM, "auto", timeout, environ=environ)


def events(tmp: Path) -> list[str]:
    path = tmp / "ev"
    types = [json.loads(line)["EventType"] for line in path.read_text().splitlines()] if path.exists() else []
    path.unlink(missing_ok=True)
    return types


async def run(cli: KgsmCli, args: list[str], time_limit: float = 10.0) -> Outcome:
    return await cli.run(args, time_limit=time_limit, actor="discord:ada")


# ------------------------------------------------------------------------------------------ the forms


@pytest.mark.parametrize("syntax", ALL)
def test_every_command_is_built_in_the_form_kgsm_of_that_era_takes(syntax: Syntax) -> None:
    for command, form in FORMS[syntax].items():
        assert built(syntax, command) == form, (syntax, command)
    assert instance_args(syntax, "backup", "valheim") == FORMS[syntax]["create-backup"]
    assert instance_args(syntax, "uninstall", "valheim") == FORMS[syntax]["uninstall"]
    assert install_args(syntax, "minecraft")[:2] == FORMS[syntax]["install"][:2]


@pytest.mark.parametrize("syntax", ALL)
async def test_the_fake_of_each_era_takes_every_form_the_bot_builds(syntax: Syntax, tmp_path: Path) -> None:
    cli = fake_cli(syntax, tmp_path)
    for command in FORMS[syntax]:
        outcome = await run(cli, built(syntax, command), time_limit=3.0 if command == "logs" else 10.0)
        follows = syntax is LEGACY_1 and command == "logs"  # KGSM 1.x's --logs never ends
        assert outcome.timed_out if follows else outcome.ok, (command, outcome)
        assert outcome.stdout.strip(), command


@pytest.mark.parametrize(
    ("syntax", "args", "said"),
    [
        (MODERN, ["backup", "valheim"], "Unknown command: backup"),  # what the bot used to assume
        (MODERN, ["--instance", "valheim", "--start"], "Unknown command: --instance"),
        (MODERN, ["instances", "backup", "valheim"], "Unknown command: backup"),
        (MODERN, ["blueprints", "list"], "Unknown command: list"),
        (MODERN, ["logs", "valheim", "--lines", "20"], "Invalid option for logs command: --lines"),
        (MODERN, ["install", "minecraft", "--id", "mc1"], "Invalid option for install command: --id"),
        (LEGACY, ["start", "valheim"], "Invalid argument start"),
        (LEGACY, ["instances", "create-backup", "valheim"], "Invalid argument instances"),
        (LEGACY, ["--instance", "valheim", "--backup"], "Invalid argument --backup"),
        (LEGACY, ["--create", "minecraft", "--id", "mc1"], "Invalid argument --id"),
        (LEGACY_1, ["--create", "minecraft"], "Invalid argument --create"),
        (LEGACY_1, ["--install", "minecraft", "--name", "mc1"], "Invalid argument --name"),
    ],
)
async def test_the_fake_refuses_what_kgsm_of_that_era_does_not_take(
    syntax: Syntax, args: list[str], said: str, tmp_path: Path
) -> None:
    outcome = await run(fake_cli(syntax, tmp_path), args)
    assert outcome.returncode == 8
    assert said in outcome.stderr
    assert events(tmp_path) == [], "nothing happened"


async def test_the_assumed_backup_form_is_an_unknown_command(tmp_path: Path) -> None:
    outcome = await run(fake_cli(MODERN, tmp_path), ["backup", "x"])
    assert outcome.returncode == 8
    assert "Unknown command: backup" in outcome.stderr


# ------------------------------------------------------------------------------------------ events in KGSM's order


def real_316() -> list[str]:
    lines = (REAL / "kgsm-3.16.0-rc5-journal.ndjson").read_text().splitlines()
    return [e["EventType"] for e in map(json.loads, lines) if e["Data"].get("InstanceName") == "valheim"]


def real_173() -> list[str]:
    connections = json.loads((REAL / "kgsm-1.7.3-socket.json").read_text())["connections"]
    return [e["EventType"] for e in map(json.loads, connections) if e["Data"]["InstanceId"] == "valheim"]


def span(types: list[str], first: str, last: str, after: int = 0) -> list[str]:
    begin = types.index(first, after)
    return types[begin : types.index(last, begin) + 1]


async def test_each_operation_emits_kgsm_3_16s_events_in_the_real_order(tmp_path: Path) -> None:
    real = real_316()
    expected = {
        "install": span(real, "instance_created", "instance_installation_finished"),
        "start": ["instance_started"],
        "stop": span(real, "instance_stop_started", "instance_stop_finished"),
        "create-backup": span(real, "instance_backup_started", "instance_backup_finished"),
        "restore": span(real, "instance_restore_started", "instance_restore_finished"),
        "restart": span(real, "instance_restart_started", "instance_restart_finished"),
        "uninstall": span(real, "instance_uninstall_started", "instance_uninstall_finished"),
    }
    assert expected["restore"] == [
        "instance_restore_started",
        "instance_backup_created",
        "instance_backup_restored",
        "instance_restore_finished",
    ]
    cli = fake_cli(MODERN, tmp_path)
    for command, types in expected.items():
        args = built(MODERN, command)
        if command == "install":
            args = install_args(MODERN, "fakegame", name="valheim")
        assert (await run(cli, args)).ok
        assert events(tmp_path) == types, command


async def test_each_operation_emits_kgsm_1_7_3s_events_in_the_real_order(tmp_path: Path) -> None:
    real = real_173()
    backup = real.index("instance_backup_created")
    expected = {
        "install": span(real, "instance_created", "instance_installed"),
        "start": ["instance_started"],
        "stop": ["instance_stopped"],
        "create-backup": real[backup : backup + 1],
        "restore": real[backup + 1 : backup + 3],
        "uninstall": span(real, "instance_uninstall_started", "instance_uninstalled"),
    }
    assert expected["restore"] == ["instance_backup_created", "instance_backup_restored"]
    cli = fake_cli(LEGACY_1, tmp_path)
    for command, types in expected.items():
        args = install_args(LEGACY_1, "fakegame", name="valheim") if command == "install" else built(LEGACY_1, command)
        assert (await run(cli, args)).ok
        assert events(tmp_path) == types, command


async def test_a_restore_of_an_unknown_backup_fails_inside_its_brackets(tmp_path: Path) -> None:
    outcome = await run(fake_cli(MODERN, tmp_path), restore_backup_args(MODERN, "valheim", "valheim-nope"))
    assert outcome.returncode == 1
    assert "Not a backup" in outcome.stderr
    assert events(tmp_path) == ["instance_restore_started", "instance_restore_finished"]


@pytest.mark.parametrize("syntax", ALL)
async def test_a_backup_of_a_running_instance_is_refused_before_kgsm_3(syntax: Syntax, tmp_path: Path) -> None:
    outcome = await run(fake_cli(syntax, tmp_path, running="valheim"), create_backup_args(syntax, "valheim"))
    if syntax is MODERN:  # 3.16 records the run state in the manifest instead
        assert outcome.ok
        assert events(tmp_path)[-1] == "instance_backup_finished"
    else:
        assert outcome.returncode == 1
        assert "currently running, please shut down before attempting to create a backup" in outcome.stderr
        assert events(tmp_path) == []


# ------------------------------------------------------------------------------------------ backups


async def test_backups_are_listed_newest_first_with_what_kgsm_tells_of_them(tmp_path: Path) -> None:
    modern = await fake_cli(MODERN, tmp_path).backups("valheim")
    assert modern[0] == Backup("valheim-20261201T080454Z-c44f3e", "2026-12-01T08:04:54Z", "1.1.0", 52428800)
    assert [b.id for b in modern] == [
        "valheim-20261201T080454Z-c44f3e",
        "valheim-20261201T080449Z-077460",
        "valheim-20261201T080444Z-f277e8",
    ]
    for syntax in (LEGACY, LEGACY_1):
        legacy = await fake_cli(syntax, tmp_path).backups("valheim")
        assert legacy[0] == Backup("valheim-1.1.0-2026-12-02T09:00:00.backup", "2026-12-02T09:00:00", "1.1.0")
        assert [b.created_at for b in legacy] == ["2026-12-02T09:00:00", "2026-12-01T07:36:26", "2026-12-01T07:36:23"]
        assert legacy[1].id.endswith(".backup.tar.gz")
    assert await fake_cli(MODERN, tmp_path, backups="0").backups("valheim") == []


def test_backup_listings_are_read_in_every_shape() -> None:
    plain_ids = "valheim-20261201T080444Z-f277e8\nvalheim-20261201T080454Z-c44f3e\n"
    assert [b.id for b in parse_backups(plain_ids, "valheim")] == [
        "valheim-20261201T080454Z-c44f3e",
        "valheim-20261201T080444Z-f277e8",
    ]
    manifests = json.dumps([{"id": "a-1", "created_at": "2026-01-01T00:00:00Z", "size_bytes": True}, {"id": "../x"}])
    assert parse_backups(manifests, "a") == [Backup("a-1", "2026-01-01T00:00:00Z")]
    assert parse_backups("", "a") == []
    assert parse_backups("[]", "a") == []
    odd = parse_backups("\x1b[32mmy-world.backup\x1b[0m --help x;y", "a")
    assert odd == [Backup("my-world.backup")]


def test_names_versions_and_backup_ids_follow_strict_patterns() -> None:
    assert check_name(" factorio-01 ") == "factorio-01"
    for bad in ["", "-x", ".hidden", "../etc", "a b", "x;y", "a" * 65, "é"]:
        with pytest.raises(ValueError, match="1 to 64"):
            check_name(bad)
    assert check_version("1.21+build.3") == "1.21+build.3"
    with pytest.raises(ValueError, match="version"):
        check_version("--latest")
    assert check_backup_id("valheim-1.0.0-2026-12-01T07:36:23.backup") == "valheim-1.0.0-2026-12-01T07:36:23.backup"
    for bad in ["", "--json", "../x", "a/b", "a..b", "x y", "$(reboot)", "a" * 201]:
        with pytest.raises(ValueError, match="backup id"):
            check_backup_id(bad)
    with pytest.raises(ValueError, match="1 to 64"):
        lifecycle_args(MODERN, "start", "--help")
    with pytest.raises(ValueError, match="backup id"):
        restore_backup_args(LEGACY, "valheim", "../../etc/passwd")


# ------------------------------------------------------------------------------------------ telling the eras apart


@pytest.mark.parametrize(
    ("fixture", "syntax"),
    [
        ("modern-3.x-deffde3.txt", MODERN),
        ("modern-3.x-049bd9b.txt", MODERN),
        ("legacy-2.x-9ddd171.txt", LEGACY),
        ("legacy-2.0.txt", LEGACY),
        ("legacy-1-1.7.3.txt", LEGACY_1),
    ],
)
async def test_the_syntax_is_told_from_kgsms_real_help_texts(fixture: str, syntax: Syntax, tmp_path: Path) -> None:
    text = (HELP / fixture).read_text()
    assert "\x1b[" in text, "as echo -e prints it"
    assert detect_syntax(text) is syntax
    assert await fake_cli(syntax, tmp_path).syntax() is syntax  # the fake prints the same texts


def test_a_help_text_that_tells_nothing_is_not_guessed_at() -> None:
    assert detect_syntax("Options:\n  --instances [--json]\n  --install-dir D") is None
    assert detect_syntax("") is None
    legacy = (HELP / "legacy-2.x-9ddd171.txt").read_text()
    assert detect_syntax(legacy + (HELP / "modern-3.x-deffde3.txt").read_text()) is MODERN


def test_kgsm_lists_are_read_in_every_shape() -> None:
    assert parse_names('["factorio", "valheim"]') == ["factorio", "valheim"]
    assert parse_names('[{"name": "factorio"}, {"Name": "valheim"}, {"size": 3}]') == ["factorio", "valheim"]
    assert parse_names('{"factorio": {"port": 34197}, "valheim": {}}') == ["factorio", "valheim"]
    assert parse_names("\x1b[32mfactorio\x1b[0m\nvalheim\n\nnot a name!\n") == ["factorio", "valheim"]
    assert parse_names('["ok", "x; rm -rf /", 7]') == ["ok"]


# ------------------------------------------------------------------------------------------ running kgsm.sh


async def test_output_past_the_limit_is_cut_and_says_so(tmp_path: Path) -> None:
    outcome = await run(fake_cli(MODERN, tmp_path, output_bytes=str(OUTPUT_LIMIT + 4096)), ["start", "valheim"])
    assert outcome.ok
    assert outcome.truncated
    assert len(outcome.stdout) <= OUTPUT_LIMIT
    assert outcome.stdout.rstrip().endswith("started successfully"), "the end is kept"
    assert outcome.cut_note() == "(output cut to the last 256 KiB)"
    short = await run(fake_cli(MODERN, tmp_path), ["start", "valheim"])
    assert not short.truncated
    assert short.cut_note() == ""


def test_kgsm_gets_the_bots_environment_without_its_secrets_and_with_who_asked() -> None:
    bot_env = {"PATH": "/usr/bin", "DISCORD_TOKEN": "secret", "KGSM_WEBHOOK_SECRET": "s", "KGSM_EVENT_ACTOR": "x"}
    cli = KgsmCli(FAKE_KGSM, "modern", 10.0, environ=bot_env)
    assert cli.environment("discord:ada") == {
        "PATH": "/usr/bin",
        "KGSM_EVENT_ACTOR": "discord:ada",
        "KGSM_EVENT_ORIGIN": "discord",
    }
    assert cli.environment(None) == {"PATH": "/usr/bin", "KGSM_EVENT_ORIGIN": "discord"}
