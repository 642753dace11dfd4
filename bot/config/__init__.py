"""Settings, read once from the environment (and a `.env` file) and validated at start-up.

Every wrong value produces one line naming the variable and what to fix; the launcher prints all of them
and exits, so a user never has to read a traceback to correct a typo.

Owns: what each setting means (`settings`), reading typed values (`reading`), `load_settings` (here), and
`StartupError`, the one-line failure of anything a setting names.
May import: `bot.events` (the canonical names of muted event types).
"""

from __future__ import annotations

import datetime
import grp
import os
import socket
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from bot.config.reading import Reader, server_ids, time_of_day
from bot.config.settings import (
    DEFAULT_API_BASE,
    DEFAULT_GATEWAY_URL,
    HOST_NAME,
    MIB,
    ControlSettings,
    DiscordSettings,
    HttpSettings,
    JournalSettings,
    RelaySettings,
    RoutingSettings,
    Settings,
    SocketSettings,
    StoreSettings,
)
from bot.events import resolve_target

__all__ = [
    "ConfigError",
    "ControlSettings",
    "DiscordSettings",
    "HttpSettings",
    "JournalSettings",
    "RelaySettings",
    "RoutingSettings",
    "Settings",
    "SocketSettings",
    "StartupError",
    "StoreSettings",
    "load_relay_settings",
    "load_settings",
]


class StartupError(Exception):
    """Something a setting names cannot be used (a file, a port, a socket path); the message says what to fix.

    The launcher prints it as one line and exits with status 2, however far start-up had come.
    """


class ConfigError(Exception):
    """Raised with one line per wrong setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _socket_settings(read: Reader) -> SocketSettings:
    root = read.text("KGSM_ROOT")
    default_path = str(Path(root) / "kgsm.sock") if root else "kgsm.sock"
    path = Path(read.text("KGSM_SOCKET_PATH", default_path) or default_path)

    raw_mode = read.text("KGSM_SOCKET_MODE", "0660") or "0660"
    try:
        mode = int(raw_mode, 8)
        if not 0 <= mode <= 0o777:
            raise ValueError
    except ValueError:
        read.problems.append(f"KGSM_SOCKET_MODE={raw_mode!r} is not an octal file mode like 0660")
        mode = 0o660
    if mode & 0o002:
        read.problems.append(
            f"KGSM_SOCKET_MODE={raw_mode!r} lets every user post to Discord; use 0660 with a shared group"
        )

    group = read.text("KGSM_SOCKET_GROUP")
    if group is not None and not group.isdigit():  # a number needs no name here (containers share only ids)
        try:
            grp.getgrnam(group)
        except KeyError:
            read.problems.append(f"KGSM_SOCKET_GROUP={group!r} is not a group on this machine")

    return SocketSettings(
        path=path,
        role=read.choice("KGSM_SOCKET_ROLE", "server", ("server", "client")),
        mode=mode,
        group=group,
        max_payload_bytes=read.integer("KGSM_MAX_PAYLOAD_BYTES", MIB, minimum=256),
        read_timeout=read.number("KGSM_READ_TIMEOUT", 10.0),
    )


def _discord_settings(read: Reader) -> DiscordSettings:
    api_base = (read.text("DISCORD_API_BASE", DEFAULT_API_BASE) or DEFAULT_API_BASE).rstrip("/")
    if not api_base.startswith(("http://", "https://")):
        read.problems.append(f"DISCORD_API_BASE={api_base!r} must start with http:// or https://")
    gateway = read.text("DISCORD_GATEWAY_URL", DEFAULT_GATEWAY_URL) or DEFAULT_GATEWAY_URL
    if not gateway.startswith(("ws://", "wss://")):
        read.problems.append(f"DISCORD_GATEWAY_URL={gateway!r} must start with ws:// or wss://")
    token = read.text("DISCORD_TOKEN")
    if token is not None and (len(token) < 50 or any(c.isspace() for c in token)):
        # Never echo the token itself, not even in an error.
        read.problems.append("DISCORD_TOKEN does not look like a bot token (copy it again from the portal)")
    return DiscordSettings(token=token, api_base=api_base, gateway_url=gateway, guild_ids=_guild_ids(read, token))


def _guild_ids(read: Reader, token: str | None) -> tuple[int, ...]:
    """`DISCORD_GUILD_ID`: one server id or several, comma-separated; required with a token.

    Without it a bot answers in every server anyone adds it to, and whoever adds it has Manage Server there.
    """
    raw = read.text("DISCORD_GUILD_ID") or ""
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    ids: list[int] = []
    for entry in entries:
        guild_id = read.snowflake("DISCORD_GUILD_ID", entry, "server")
        if guild_id is not None and guild_id not in ids:
            ids.append(guild_id)
    if token is not None and not entries:
        read.problems.append(
            "DISCORD_GUILD_ID is required with DISCORD_TOKEN: your Discord server's id (several: comma-separated); "
            "the bot answers only there"
        )
    return tuple(ids)


def _store_settings(read: Reader) -> StoreSettings:
    return StoreSettings(
        data_dir=Path(read.text("BOT_DATA_DIR", "data") or "data"),
        history_days=read.integer("KGSM_HISTORY_DAYS", 90),
    )


def _http_settings(read: Reader) -> HttpSettings:
    port = read.port("BOT_HTTP_PORT")
    secret = read.text("KGSM_WEBHOOK_SECRET")
    if secret is not None and len(secret) < 16:
        read.problems.append("KGSM_WEBHOOK_SECRET is shorter than 16 characters; use a long random secret")
    if secret is not None and read.text("BOT_HTTP_PORT") is None:
        read.problems.append("KGSM_WEBHOOK_SECRET is set but BOT_HTTP_PORT is not: the webhook needs the HTTP server")
    return HttpSettings(port=port, host=read.text("BOT_HTTP_HOST", "127.0.0.1") or "127.0.0.1", webhook_secret=secret)


def _journal_settings(read: Reader) -> JournalSettings:
    raw = read.text("KGSM_JOURNAL_DIR") or ""
    directories = tuple(Path(part.strip()) for part in raw.replace(os.pathsep, ",").split(",") if part.strip())
    for directory in directories:
        if not directory.is_dir():
            read.problems.append(f"KGSM_JOURNAL_DIR: {directory} is not a directory")
    return JournalSettings(
        directories=directories,
        start=read.choice("KGSM_JOURNAL_START", "end", ("end", "replay")),
        root=Path(read.text("KGSM_JOURNAL_ROOT", "/var/lib") or "/var/lib"),
    )


def _control_settings(read: Reader) -> ControlSettings:
    raw_path = read.text("KGSM_PATH")
    kgsm_path = Path(raw_path) if raw_path else None
    if kgsm_path is not None and not (kgsm_path.is_file() and os.access(kgsm_path, os.X_OK)):
        read.problems.append(f"KGSM_PATH={raw_path!r} is not an executable kgsm.sh")
    roles = set()
    for raw_role in (read.text("KGSM_OPERATOR_ROLE_IDS") or "").split(","):
        role = read.snowflake("KGSM_OPERATOR_ROLE_IDS", raw_role.strip() or None, "role")
        if role is not None:
            roles.add(role)
    return ControlSettings(
        kgsm_path=kgsm_path,
        cli=read.choice("KGSM_CLI", "auto", ("auto", "modern", "legacy", "legacy-1")),
        operator_role_ids=frozenset(roles),
        command_timeout=read.number("KGSM_COMMAND_TIMEOUT", 840.0),
    )


def _routing_settings(read: Reader) -> RoutingSettings:
    channels = []
    for instance, channel in server_ids(read, "KGSM_CHANNELS", "channel"):
        if instance:
            channels.append((instance, channel))
        else:
            read.problems.append(f"KGSM_CHANNELS: {channel} must be instance=channel_id")
    muted = set()
    for word in (read.text("KGSM_MUTED_EVENTS") or "").split(","):
        if not word.strip():
            continue
        family, event_type = resolve_target(word)
        if family is None and event_type is None:
            read.problems.append(f"KGSM_MUTED_EVENTS: {word.strip()!r} is neither an event type nor a family")
            continue
        muted.add(family.value if family is not None else str(event_type))
    alert_role_id, alert_roles = _alert_roles(read)
    return RoutingSettings(
        channels=tuple(channels),
        default_channel_id=read.snowflake("KGSM_DEFAULT_CHANNEL_ID", read.text("KGSM_DEFAULT_CHANNEL_ID")),
        muted=frozenset(muted),
        status_channel_id=read.snowflake("KGSM_STATUS_CHANNEL_ID", read.text("KGSM_STATUS_CHANNEL_ID")),
        digest_channel_id=read.snowflake("KGSM_DIGEST_CHANNEL_ID", read.text("KGSM_DIGEST_CHANNEL_ID")),
        digest_time=time_of_day(read, "KGSM_DIGEST_TIME", datetime.time(9, 0, tzinfo=datetime.UTC)),
        alert_role_id=alert_role_id,
        alert_roles=alert_roles,
        incident_threads=read.flag("KGSM_INCIDENT_THREADS", False),
    )


def _alert_roles(read: Reader) -> tuple[int | None, tuple[tuple[str, int], ...]]:
    """`KGSM_ALERT_ROLE_ID`: a role id for every server, and/or `instance=role_id` pairs for some."""
    pairs = server_ids(read, "KGSM_ALERT_ROLE_ID", "role")
    general = next((role for instance, role in pairs if not instance), None)
    return general, tuple((instance, role) for instance, role in pairs if instance)


def _environment(environ: Mapping[str, str] | None, env_file: str | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load_relay_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> RelaySettings:
    """The settings of `python -m bot relay` (none of the bot's Discord settings are read or needed)."""
    read = Reader(_environment(environ, env_file))
    url = read.text("KGSM_RELAY_URL") or ""
    if not url.startswith(("http://", "https://")):
        read.problems.append(
            f"KGSM_RELAY_URL={url!r} must be the central bot's webhook, like http://central:8080/kgsm/webhook"
        )
    secret = read.text("KGSM_WEBHOOK_SECRET") or ""
    if len(secret) < 16:
        read.problems.append("KGSM_WEBHOOK_SECRET must be the central bot's secret (16+ characters)")
    host = read.text("KGSM_RELAY_HOST") or socket.gethostname()
    if not HOST_NAME.fullmatch(host):
        read.problems.append(f"KGSM_RELAY_HOST={host[:80]!r} must be a host name (letters, digits, . _ -)")
    settings = RelaySettings(
        url=url,
        secret=secret,
        host=host,
        journal=_journal_settings(read),
        data_dir=Path(read.text("BOT_DATA_DIR", "data") or "data"),
        http_port=read.port("KGSM_RELAY_HTTP_PORT"),
        retry_ceiling=read.number("KGSM_RELAY_RETRY_MAX", 60.0),
        log_level=read.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
    )
    if read.problems:
        raise ConfigError(read.problems)
    return settings


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Build the settings from `environ` (default: the process environment) over an optional `.env` file.

    Real environment variables win over the file, as docker and systemd users expect.
    """
    read = Reader(_environment(environ, env_file))
    settings = Settings(
        socket=_socket_settings(read),
        discord=_discord_settings(read),
        routing=_routing_settings(read),
        store=_store_settings(read),
        http=_http_settings(read),
        journal=_journal_settings(read),
        control=_control_settings(read),
        log_level=read.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
    )
    if read.problems:
        raise ConfigError(read.problems)
    return settings
