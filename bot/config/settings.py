"""The settings, as the bot uses them: one frozen dataclass per section (what each value means)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
MIB = 1024 * 1024
# What a relay may call its host (`KGSM_RELAY_HOST`) and its producers: what a hostname may be.
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


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


@dataclass(frozen=True)
class RelaySettings:
    """`python -m bot relay` on a game host: its journals, forwarded to a central bot's `/kgsm/webhook`.

    No Discord token and no bot database: its own cursors are in `data_dir/relay.sqlite3`.
    """

    url: str
    secret: str = field(repr=False)
    host: str
    journal: JournalSettings = field(default_factory=JournalSettings)
    data_dir: Path = Path("data")
    http_port: int | None = None  # its own /healthz on 127.0.0.1, off without a port
    retry_ceiling: float = 60.0  # the longest wait between two attempts while the central bot is away
    log_level: str = "INFO"
