"""The bot: one `commands.Bot` that owns the event source, the renderers, routing and delivery."""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot import __version__
from bot.config import DiscordSettings, Settings, SocketSettings
from bot.console import ConsolePoster
from bot.delivery import Delivery, DiscordPoster
from bot.dispatch import Renderers
from bot.events import Event
from bot.intake import Intake
from bot.routing import Router
from bot.sources.socket_client import SocketClientSource
from bot.sources.socket_server import SocketServerSource
from bot.stats import IntakeStats

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.lifecycle",
    "cogs.install",
    "cogs.update",
    "cogs.backup",
    "cogs.uninstall",
    "cogs.network",
    "cogs.players",
    "cogs.config",
    "cogs.blueprint",
    "cogs.other",
)


def point_discord_py_at(settings: DiscordSettings) -> None:
    """Use `DISCORD_API_BASE` and `DISCORD_GATEWAY_URL` (a REST proxy, or the tests' fake Discord)."""
    discord.http.Route.BASE = settings.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def make_source(settings: SocketSettings, intake: Intake) -> SocketServerSource | SocketClientSource:
    if settings.role == "client":
        return SocketClientSource(settings, intake)
    return SocketServerSource(settings, intake)


class KGSMBot(commands.Bot):
    """Receives KGSM events and posts them; in dry-run (no token) prints them instead."""

    def __init__(self, settings: Settings, **client_options: Any) -> None:
        # The bot never speaks in voice: skip discord.py's warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            # Guilds only (not privileged): it keeps the channel cache that names channels in logs.
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **client_options,
        )
        self.settings = settings
        self.dry_run = settings.discord.dry_run
        self.stats = IntakeStats()
        self.renderers = Renderers()
        self.router = Router(settings.routing)
        self.intake = Intake(self.handle_event, self.stats)
        self.source = make_source(settings.socket, self.intake)
        self.console = ConsolePoster()
        self.delivery = Delivery(self.console if self.dry_run else DiscordPoster(self), self._wait_ready)
        self._services_started = False

    async def setup_hook(self) -> None:
        await self.start_services()

    async def start_services(self) -> None:
        """Load the cogs and start taking events (called by `setup_hook`, or directly in dry-run)."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.source.start()
        self._services_started = True
        where = "printing to the console (dry-run: no DISCORD_TOKEN)" if self.dry_run else "posting to Discord"
        log.info("kgsm-bot %s listening on %s, %s: %s", __version__, self.source.path, where, self.router.describe())

    async def _wait_ready(self) -> None:
        if not self.dry_run:
            await self.wait_until_ready()

    async def handle_event(self, event: Event) -> None:
        """Render `event` with its family's cog and queue it for each of its channels."""
        channels = self.router.channels_for(event)
        if not channels and not (self.dry_run and not self.router.is_muted(event)):
            return
        embed = self.renderers.render(event)
        if not channels:
            self.console.show("no channel (set KGSM_DEFAULT_CHANNEL_ID or KGSM_CHANNELS)", [embed])
        for channel_id in channels:
            self.delivery.submit(channel_id, embed)

    async def close(self) -> None:
        if self._services_started:
            await self.source.stop()
            await self.delivery.stop()
            self._services_started = False
        await super().close()
