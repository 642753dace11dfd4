"""Settings: defaults, the .env file, and one clear line per wrong value."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_relay_settings, load_settings


def test_defaults_without_any_setting() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.socket.path == Path("kgsm.sock")
    assert settings.socket.mode == 0o660
    assert settings.socket.max_payload_bytes == 1024 * 1024
    assert settings.socket.read_timeout == 10.0
    assert settings.socket.role == "server"
    assert settings.discord.dry_run
    assert settings.routing.default_channel_id is None


def test_socket_path_defaults_under_kgsm_root() -> None:
    assert load_settings({"KGSM_ROOT": "/opt/kgsm"}, env_file=None).socket.path == Path("/opt/kgsm/kgsm.sock")
    explicit = load_settings({"KGSM_ROOT": "/opt/kgsm", "KGSM_SOCKET_PATH": "/run/x.sock"}, env_file=None)
    assert explicit.socket.path == Path("/run/x.sock")


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KGSM_READ_TIMEOUT=3\nKGSM_SOCKET_MODE=0600\n")
    settings = load_settings({"KGSM_SOCKET_MODE": "0640"}, env_file=str(env_file))
    assert settings.socket.read_timeout == 3.0
    assert settings.socket.mode == 0o640


def test_channels_accept_repeats_for_several_channels() -> None:
    settings = load_settings(
        {"KGSM_CHANNELS": "factorio=123456789012345678, valheim=223456789012345678,factorio=323456789012345678"},
        env_file=None,
    )
    assert settings.routing.channels == (
        ("factorio", 123456789012345678),
        ("valheim", 223456789012345678),
        ("factorio", 323456789012345678),
    )


def test_every_wrong_value_gets_one_line() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            {
                "KGSM_SOCKET_MODE": "rw",
                "KGSM_READ_TIMEOUT": "soon",
                "KGSM_MAX_PAYLOAD_BYTES": "-5",
                "KGSM_SOCKET_ROLE": "both",
                "KGSM_CHANNELS": "factorio=12,valheim",
                "KGSM_DEFAULT_CHANNEL_ID": "general",
                "KGSM_SOCKET_GROUP": "no-such-group-here",
                "DISCORD_API_BASE": "discord.com",
            },
            env_file=None,
        )
    problems = error.value.problems
    assert len(problems) == 9
    assert all("\n" not in line for line in problems)
    for name in ("KGSM_SOCKET_MODE", "KGSM_READ_TIMEOUT", "KGSM_MAX_PAYLOAD_BYTES", "KGSM_SOCKET_ROLE"):
        assert any(line.startswith(name) for line in problems), name


def test_a_world_writable_socket_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="every user"):
        load_settings({"KGSM_SOCKET_MODE": "0666"}, env_file=None)


def test_the_token_never_appears_in_an_error() -> None:
    token = "short token with spaces"
    with pytest.raises(ConfigError) as error:
        load_settings({"DISCORD_TOKEN": token}, env_file=None)
    assert token not in str(error.value)


def test_the_launcher_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        env={
            "KGSM_READ_TIMEOUT": "soon",
            "KGSM_SOCKET_ROLE": "both",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "kgsm-bot: KGSM_SOCKET_ROLE='both' must be one of: server, client",
        "kgsm-bot: KGSM_READ_TIMEOUT='soon' is not a number",
    ]


TOKEN = "x" * 72
ID_A, ID_B = "123456789012345678", "223456789012345678"


def test_guild_ids_are_one_id_or_a_list() -> None:
    assert load_settings({"DISCORD_GUILD_ID": ID_A}, env_file=None).discord.guild_ids == (int(ID_A),)
    listed = load_settings({"DISCORD_GUILD_ID": f" {ID_A}, {ID_B},,{ID_A}"}, env_file=None)
    assert listed.discord.guild_ids == (int(ID_A), int(ID_B))


def test_guild_ids_are_required_with_a_token_and_optional_in_dry_run() -> None:
    assert load_settings({}, env_file=None).discord.guild_ids == ()
    with pytest.raises(ConfigError) as error:
        load_settings({"DISCORD_TOKEN": TOKEN}, env_file=None)
    (problem,) = error.value.problems
    assert problem.startswith("DISCORD_GUILD_ID is required with DISCORD_TOKEN")
    assert load_settings({"DISCORD_TOKEN": TOKEN, "DISCORD_GUILD_ID": ID_A}, env_file=None).discord.guild_ids


def test_each_bad_guild_id_is_named() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"DISCORD_TOKEN": TOKEN, "DISCORD_GUILD_ID": f"{ID_A},my-server,12"}, env_file=None)
    assert error.value.problems == [
        "DISCORD_GUILD_ID: 'my-server' is not a Discord server id (17 to 20 digits)",
        "DISCORD_GUILD_ID: '12' is not a Discord server id (17 to 20 digits)",
    ]


def test_the_launcher_refuses_a_token_without_guild_ids(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        env={"DISCORD_TOKEN": TOKEN, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("kgsm-bot: DISCORD_GUILD_ID is required with DISCORD_TOKEN")
    assert TOKEN not in result.stderr


def test_the_relay_reads_only_its_own_settings() -> None:
    relay = load_relay_settings(
        {
            "KGSM_RELAY_URL": "http://central:8080/kgsm/webhook",
            "KGSM_WEBHOOK_SECRET": "s" * 16,  # without BOT_HTTP_PORT: the relay serves no webhook
            "KGSM_JOURNAL_ROOT": "/srv/lib",
            "BOT_DATA_DIR": "/var/lib/kgsm-bot-relay",
            "KGSM_RELAY_HTTP_PORT": "8081",
        },
        env_file=None,
    )
    assert (relay.url, relay.host, relay.journal.root) == (
        "http://central:8080/kgsm/webhook",
        socket.gethostname(),
        Path("/srv/lib"),
    )
    assert (relay.data_dir, relay.http_port, relay.retry_ceiling) == (Path("/var/lib/kgsm-bot-relay"), 8081, 60.0)
    assert "s" * 16 not in repr(relay)


def test_every_wrong_relay_setting_gets_one_line() -> None:
    with pytest.raises(ConfigError) as wrong:
        load_relay_settings(
            {
                "KGSM_RELAY_URL": "central:8080",
                "KGSM_RELAY_HOST": "eu 1",
                "KGSM_RELAY_HTTP_PORT": "0",
                "KGSM_RELAY_RETRY_MAX": "never",
            },
            env_file=None,
        )
    assert wrong.value.problems == [
        "KGSM_RELAY_URL='central:8080' must be the central bot's webhook, like http://central:8080/kgsm/webhook",
        "KGSM_WEBHOOK_SECRET must be the central bot's secret (16+ characters)",
        "KGSM_RELAY_HOST='eu 1' must be a host name (letters, digits, . _ -)",
        "KGSM_RELAY_HTTP_PORT='0' must be a port number (1 to 65535)",
        "KGSM_RELAY_RETRY_MAX='never' is not a number",
    ]
