"""Settings, read once from the environment (and a `.env` file) and validated at start-up.

Every wrong value produces one line naming the variable and what to fix; the launcher prints all of them
and exits, so a user never has to read a traceback to correct a typo.
"""

from __future__ import annotations

import datetime
import grp
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot.events import resolve_target

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
MIB = 1024 * 1024


class StartupError(Exception):
    """Something a setting names cannot be used (a file, a port, a socket path); the message says what to fix.

    The launcher prints it as one line and exits with status 2, however far start-up had come.
    """


class ConfigError(Exception):
    """Raised with one line per wrong setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SocketSettings:
    """Where and how the KGSM event socket is served (or, in client role, reached)."""

    path: Path
    role: str = "server"
    mode: int = 0o660
    group: str | None = None
    max_payload_bytes: int = MIB
    read_timeout: float = 10.0


@dataclass(frozen=True)
class DiscordSettings:
    """How the bot reaches Discord. No token means dry-run: embeds are printed, not posted."""

    token: str | None = field(default=None, repr=False)
    api_base: str = DEFAULT_API_BASE
    gateway_url: str = DEFAULT_GATEWAY_URL
    # The communities (Discord servers) the bot serves: commands are synced there, and only there answered.
    guild_ids: tuple[int, ...] = ()

    @property
    def dry_run(self) -> bool:
        return self.token is None


@dataclass(frozen=True)
class RoutingSettings:
    """Which channels receive which events (see `bot.routing`)."""

    channels: tuple[tuple[str, int], ...] = ()
    default_channel_id: int | None = None
    muted: frozenset[str] = frozenset()
    status_channel_id: int | None = None
    digest_channel_id: int | None = None
    digest_time: datetime.time = datetime.time(9, 0, tzinfo=datetime.UTC)
    alert_role_id: int | None = None  # mentioned on danger events (a gave-up crash loop, a failed install, …)
    alert_roles: tuple[tuple[str, int], ...] = ()  # per server: `instance=role_id` overrides the one above
    incident_threads: bool = False  # open a thread on each crash incident's message

    def alert_role_for(self, instance: str | None) -> int | None:
        """The role to mention on a danger event of `instance` (its own, else the general one), if any."""
        if instance is not None:
            for name, role in self.alert_roles:
                if name.lower() == instance.lower():
                    return role
        return self.alert_role_id


@dataclass(frozen=True)
class StoreSettings:
    data_dir: Path = Path("data")
    history_days: int = 90


@dataclass(frozen=True)
class HttpSettings:
    """The bot's own HTTP server: health, metrics and the KGSM webhook. Off without a port."""

    port: int | None = None
    host: str = "127.0.0.1"
    webhook_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class JournalSettings:
    """KGSM's event journals (KGSM from August 2026): directories of `YYYY-MM-DD.ndjson` segments.

    Without `directories` (KGSM_JOURNAL_DIR), every producer's journal found under `root` is followed.
    """

    directories: tuple[Path, ...] = ()
    start: str = "end"
    root: Path = Path("/var/lib")


@dataclass(frozen=True)
class ControlSettings:
    """Running KGSM from Discord; off unless `KGSM_PATH` names kgsm.sh."""

    kgsm_path: Path | None = None
    cli: str = "auto"
    operator_role_ids: frozenset[int] = frozenset()
    command_timeout: float = 840.0


@dataclass(frozen=True)
class Settings:
    socket: SocketSettings
    discord: DiscordSettings
    routing: RoutingSettings
    store: StoreSettings = field(default_factory=StoreSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    journal: JournalSettings = field(default_factory=JournalSettings)
    control: ControlSettings = field(default_factory=ControlSettings)
    log_level: str = "INFO"


class _Reader:
    """Reads typed values from a mapping, collecting one problem line per bad value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name, "").strip()
        return value or default

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a number")
            return default
        if value <= minimum:
            self.problems.append(f"{name}={raw!r} must be greater than {minimum:g}")
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < minimum:
            self.problems.append(f"{name}={raw!r} must be a whole number of at least {minimum}")
            return default
        return int(raw)

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{name}={raw!r} must be true or false")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = (self.text(name) or default).lower()
        if raw not in choices:
            self.problems.append(f"{name}={raw!r} must be one of: {', '.join(choices)}")
            return default
        return raw

    def snowflake(self, name: str, raw: str | None, what: str = "channel") -> int | None:
        if raw is None:
            return None
        if not raw.isdigit() or not 17 <= len(raw) <= 20:
            self.problems.append(f"{name}: {raw!r} is not a Discord {what} id (17 to 20 digits)")
            return None
        return int(raw)


def _socket_settings(read: _Reader) -> SocketSettings:
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


def _discord_settings(read: _Reader) -> DiscordSettings:
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


def _guild_ids(read: _Reader, token: str | None) -> tuple[int, ...]:
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


def _store_settings(read: _Reader) -> StoreSettings:
    return StoreSettings(
        data_dir=Path(read.text("BOT_DATA_DIR", "data") or "data"),
        history_days=read.integer("KGSM_HISTORY_DAYS", 90),
    )


def _http_settings(read: _Reader) -> HttpSettings:
    raw_port = read.text("BOT_HTTP_PORT")
    port = None
    if raw_port is not None:
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            read.problems.append(f"BOT_HTTP_PORT={raw_port!r} must be a port number (1 to 65535)")
        else:
            port = int(raw_port)
    secret = read.text("KGSM_WEBHOOK_SECRET")
    if secret is not None and len(secret) < 16:
        read.problems.append("KGSM_WEBHOOK_SECRET is shorter than 16 characters; use a long random secret")
    if secret is not None and raw_port is None:
        read.problems.append("KGSM_WEBHOOK_SECRET is set but BOT_HTTP_PORT is not: the webhook needs the HTTP server")
    return HttpSettings(port=port, host=read.text("BOT_HTTP_HOST", "127.0.0.1") or "127.0.0.1", webhook_secret=secret)


def _journal_settings(read: _Reader) -> JournalSettings:
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


def _control_settings(read: _Reader) -> ControlSettings:
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


def _routing_settings(read: _Reader) -> RoutingSettings:
    channels: list[tuple[str, int]] = []
    for raw_entry in (read.text("KGSM_CHANNELS") or "").split(","):
        entry = raw_entry.strip()
        if not entry:
            continue
        instance, sep, raw_id = entry.rpartition("=")
        instance = instance.strip()
        if not sep or not instance:
            read.problems.append(f"KGSM_CHANNELS: {entry!r} must be instance=channel_id")
            continue
        channel = read.snowflake("KGSM_CHANNELS", raw_id.strip())
        if channel is not None:
            channels.append((instance, channel))
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
        digest_time=_time_of_day(read, "KGSM_DIGEST_TIME", datetime.time(9, 0, tzinfo=datetime.UTC)),
        alert_role_id=alert_role_id,
        alert_roles=alert_roles,
        incident_threads=read.flag("KGSM_INCIDENT_THREADS", False),
    )


def _alert_roles(read: _Reader) -> tuple[int | None, tuple[tuple[str, int], ...]]:
    """`KGSM_ALERT_ROLE_ID`: a role id for every server, and/or `instance=role_id` pairs for some."""
    general: int | None = None
    per_server: list[tuple[str, int]] = []
    for raw_entry in (read.text("KGSM_ALERT_ROLE_ID") or "").split(","):
        entry = raw_entry.strip()
        if not entry:
            continue
        instance, sep, raw_id = entry.rpartition("=")
        role = read.snowflake("KGSM_ALERT_ROLE_ID", raw_id.strip(), "role")
        if role is None:
            continue
        if sep:
            per_server.append((instance.strip(), role))
        else:
            general = role
    return general, tuple(per_server)


def _time_of_day(read: _Reader, name: str, default: datetime.time) -> datetime.time:
    raw = read.text(name)
    if raw is None:
        return default
    try:
        return datetime.time.fromisoformat(raw).replace(tzinfo=datetime.UTC)
    except ValueError:
        read.problems.append(f"{name}={raw!r} is not a time of day like 09:00 (UTC)")
        return default


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Build the settings from `environ` (default: the process environment) over an optional `.env` file.

    Real environment variables win over the file, as docker and systemd users expect.
    """
    merged: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)

    read = _Reader(merged)
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
