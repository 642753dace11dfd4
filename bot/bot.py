"""The bot: one `commands.Bot` that owns the event sources, the store, routing and delivery."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.ext import commands

from bot import __version__
from bot.app.community import Community
from bot.app.sync import sync_commands, sync_target
from bot.app.tree import Tree
from bot.config import DiscordSettings, Settings, SocketSettings
from bot.delivery.board import StatusBoard
from bot.delivery.console import ConsolePoster
from bot.delivery.digest import INTERVAL as DIGEST_INTERVAL
from bot.delivery.digest import Digest
from bot.delivery.lanes import Deliverer
from bot.delivery.notifier import Notifier
from bot.delivery.outbox import Outbox
from bot.delivery.poster import ButtonJSON, DiscordPoster, EmbedJSON, embed_json
from bot.delivery.presence import Presence
from bot.delivery.routing import ChannelRule, MuteRule, Router
from bot.events import Event
from bot.events.runs import Run
from bot.render import alert_text, incident_buttons, render_event, render_overview, render_run
from bot.runtime.supervisor import Supervisor
from bot.sources.intake import Intake
from bot.sources.journal import REPLAY_SOURCE, JournalFollower
from bot.sources.journals import Journals
from bot.sources.socket_client import SocketClientSource
from bot.sources.socket_server import SocketServerSource
from bot.sources.stats import IntakeStats
from bot.store.checkpoints import INTERVAL as CHECKPOINT_INTERVAL
from bot.store.database import Store
from bot.store.recorder import Recorder
from bot.store.recording import INTERVAL as RECORDING_INTERVAL
from bot.store.recording import RecordingLog
from bot.store.state import ComponentBook, about_server

if TYPE_CHECKING:
    from bot.web.health import HealthParts
    from bot.web.server import HttpServer

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.history",
    "cogs.status",
    "cogs.players",
    "cogs.backups",
    "cogs.notify",
    "cogs.meta",
    "cogs.uptime",
)
# Server commands (/start, /stop, …) and the Restart button of crash incidents exist only when KGSM_PATH names kgsm.sh.
CONTROL_EXTENSIONS = ("cogs.control", "cogs.incident")
PRUNE_INTERVAL = 3600.0
QUIET_RUNS_INTERVAL = 60.0
RECORDER_GRACE = 4.0  # of the 10 s a stop may take
SHUTDOWN_BUDGET = 9.0
CONSOLE_CHANNEL = 0  # dry-run only: where events without a channel are shown


def point_discord_py_at(settings: DiscordSettings) -> None:
    """Use `DISCORD_API_BASE` and `DISCORD_GATEWAY_URL` (a REST proxy, or the tests' fake Discord)."""
    discord.http.Route.BASE = settings.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def make_source(
    settings: SocketSettings, intake: Intake, supervisor: Supervisor
) -> SocketServerSource | SocketClientSource:
    if settings.role == "client":
        return SocketClientSource(settings, intake, supervisor)
    return SocketServerSource(settings, intake, supervisor)


class KGSMBot(commands.Bot):
    """Receives KGSM events, stores them, and posts them; in dry-run (no token) prints them instead."""

    def __init__(
        self, settings: Settings, *, clock: Callable[[], datetime] | None = None, **client_options: Any
    ) -> None:
        # The bot never speaks in voice: skip discord.py's warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            # Guilds only (not privileged): it keeps the channel cache that names channels in logs.
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=Tree,
            **client_options,
        )
        self.settings = settings
        # What time it is, for uptime and the digest (tests turn it).
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.dry_run = settings.discord.dry_run
        self.started_at = datetime.now(UTC)
        self.community = Community(settings.discord.guild_ids, self.started_at)
        self.stats = IntakeStats()
        self.supervisor = Supervisor()
        self.router = Router(settings.routing)
        self.store = Store(settings.store.data_dir)
        self.states = self.store.states
        self.components = ComponentBook()
        self.seen_types: set[str] = set()
        self.recorder = Recorder(self.store, self.handle_event, self._after_batch)
        self.intake = Intake(self.recorder, self.stats)
        self.source = make_source(settings.socket, self.intake, self.supervisor)
        self.console = ConsolePoster()
        self.outbox = Outbox(self.store)
        self.delivery = Deliverer(
            self.console if self.dry_run else DiscordPoster(self),
            self.outbox,
            self._run_message,
            self._wait_ready,
            settings.routing.default_channel_id,
            self.supervisor,
            incident_threads=settings.routing.incident_threads,
        )
        self.notifier = Notifier(
            self.outbox,
            self.delivery,
            lambda event: render_event(event, self.states.title_of),
            settings.routing.alert_role_for,
            lambda role_id, about: alert_text(role_id, about, self.states.title_of),
        )
        status_channel = settings.routing.status_channel_id
        self.board = (
            StatusBoard(status_channel, self.delivery, self.store, self.states, render_overview, self._wait_ready)
            if status_channel
            else None
        )
        self.presence = None if self.dry_run else Presence(self, self.states)
        self.web = self._http_server(settings.http.port) if settings.http.port is not None else None
        self.journals = Journals(
            settings.journal,
            lambda directory: JournalFollower(
                directory, self.intake, self.store, start=settings.journal.start, report_gap=self._gap
            ),
            self.supervisor,
        )
        self.recording = RecordingLog(
            self.store, self.clock, settings.store.history_days, lambda: bool(self.journals.followers)
        )
        digest_channel = settings.routing.digest_channel_id
        self.digest = (
            Digest(
                self.store,
                self.delivery,
                self.states,
                self.recording,
                digest_channel,
                settings.routing.digest_time,
                self.clock,
            )
            if digest_channel
            else None
        )
        self._services_started = False

    def _run_message(self, run: Run) -> tuple[EmbedJSON, list[ButtonJSON]]:
        """A run's live message; a gave-up crash incident's has a Restart button when the bot can run KGSM."""
        buttons = incident_buttons(run) if self.settings.control.kgsm_path is not None else []
        return embed_json(render_run(run, self.states.title_of)), buttons

    def _http_server(self, port: int) -> HttpServer:
        """/healthz, /metrics and the webhook (with `BOT_HTTP_PORT`). Their modules (aiohttp's server side,
        prometheus_client: 5 MiB) are imported only then, so a bot without the port does not carry them."""
        from bot.sources.webhook import PATH as WEBHOOK_PATH  # noqa: PLC0415 - see the docstring
        from bot.sources.webhook import WebhookSource  # noqa: PLC0415
        from bot.web.server import HttpServer  # noqa: PLC0415

        http = self.settings.http
        server = HttpServer(self._health_parts(), self.intake, http.host, port)
        if http.webhook_secret:
            webhook = WebhookSource(
                self.intake,
                http.webhook_secret,
                self.settings.socket.max_payload_bytes,
                store_problem=lambda: self.store.problem,
            )
            server.add_post(WEBHOOK_PATH, webhook.handle)
        return server

    def _health_parts(self) -> HealthParts:
        from bot.web.health import HealthParts  # noqa: PLC0415 - with the server, see `_http_server`

        return HealthParts(
            store=self.store,
            source=self.source,
            supervisor=self.supervisor,
            recorder=self.recorder,
            outbox=self.outbox,
            stats=self.stats,
            delivery=self.delivery.stats,
            states=self.states,
            components=self.components,
            journals=lambda: self.journals.followers,
            gateway=self.gateway_state,
        )

    def gateway_state(self) -> str:
        if self.dry_run:
            return "dry-run"
        if self.is_closed():
            return "closed"
        return "connected" if self.is_ready() and self.ws is not None and self.ws.open else "disconnected"

    async def setup_hook(self) -> None:
        await self.start_services()
        assert self.application_id is not None
        await sync_commands(self.tree, self.store, self.community.guild_ids, self.application_id)

    # ------------------------------------------------------------------ the servers it is in (bot.community)

    async def on_ready(self) -> None:
        if not self.community.ready:
            self.community.ready = True
            for guild in self.guilds:
                self.community.report_stranger(guild)
            self.community.report_missing(self.guilds)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.community.report_stranger(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A server added the bot: one it serves gets its commands now; any other is left."""
        if not self.community.serves(guild.id):
            await self.community.stranger_joined(guild)
            return
        log.info("joined the server %r (%s), which DISCORD_GUILD_ID lists", guild.name, guild.id)
        if self.application_id is not None:
            await sync_target(self.tree, self.store, guild.id, self.application_id)

    async def start_services(self) -> None:
        """Open the store, load the cogs and start taking events (from `setup_hook`, or directly in dry-run).

        The socket listens first: KGSM's events are never lost while the bot rebuilds its state from a long
        history; they wait in the recorder's queue until it starts.
        """
        began = time.monotonic()
        self.source.claim()  # a second bot on the same socket path stops here, before touching the database
        await self.store.open()
        await self.outbox.load()
        await self.source.start()
        self._services_started = True
        self.seen_types.update(await self.store.distinct("type"))
        self.router.load_rules(
            [ChannelRule(*rule) for rule in await self.store.channel_rules()],
            [MuteRule(*rule) for rule in await self.store.mute_rules()],
        )
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.control.kgsm_path is not None:
            for extension in CONTROL_EXTENSIONS:
                await self.load_extension(extension)
        await self.notifier.restore()
        await self.recorder.redispatch([stored.event for stored in await self.store.undispatched()])
        supervisor = self.supervisor
        supervisor.run("recorder", self.recorder.run)
        self.journals.start()
        # First: this start may close a gap (see bot.store.recording); a late digest waits for it anyway.
        supervisor.every("recording", self.recording.mark, seconds=RECORDING_INTERVAL)
        if self.digest is not None:
            supervisor.every("digest", self.digest.tick, seconds=DIGEST_INTERVAL)
        supervisor.every("quiet-runs", self._close_quiet_runs, seconds=QUIET_RUNS_INTERVAL)
        supervisor.every("prune", self._prune, seconds=PRUNE_INTERVAL)
        supervisor.every("checkpoint", self.store.checkpoint, seconds=CHECKPOINT_INTERVAL)
        if self.board is not None:
            supervisor.run("status-board", self.board.run)
        if self.presence is not None:
            supervisor.every("presence", self.presence.update, seconds=self.presence.interval)
        if self.web is not None:
            await self.web.start()
        where = "printing to the console (dry-run: no DISCORD_TOKEN)" if self.dry_run else "posting to Discord"
        log.info(
            "kgsm-bot %s listening on %s, %s: %s (%d servers known, ready in %.2f s)",
            __version__,
            self.source.path,
            where,
            self.router.describe(),
            len(self.states),
            time.monotonic() - began,
        )

    async def _wait_ready(self) -> None:
        if not self.dry_run:
            await self.wait_until_ready()

    async def handle_event(self, event: Event) -> None:
        """A new, stored event (its server's state already advanced with it): record its deliveries."""
        if self.board is not None and about_server(event):
            self.board.changed()
        self.components.apply(event)
        self.seen_types.add(event.type)
        if event.source == REPLAY_SOURCE:
            self.notifier.dispatched(event)  # history imported from the journal: stored, never posted
            return
        channels = self.router.channels_for(event)
        if not channels and self.dry_run and not self.router.is_muted(event):
            channels = [CONSOLE_CHANNEL]  # dry-run shows what a configured channel would get
        await self.notifier.notify(event, channels)

    async def _close_quiet_runs(self) -> None:
        """Operation runs KGSM has said nothing about for a while are shown as such (see `bot.operations`)."""
        await self.notifier.close_quiet_runs(datetime.now(UTC))

    async def _gap(self, message: str) -> None:
        await self.delivery.notice("⚠️ Gap in the KGSM journal", message)

    async def _after_batch(self) -> None:
        await self.notifier.commit()

    async def _prune(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.store.history_days)
        removed = await self.store.prune(cutoff)
        if removed:
            log.info("pruned %d events older than %d days", removed, self.settings.store.history_days)

    async def _finish_recording(self) -> None:
        """Store and dispatch what the sources already handed over, if the database lets it in time."""
        try:
            await asyncio.wait_for(self.recorder.flush(), RECORDER_GRACE)
        except TimeoutError:
            log.error("stopping with %d events not stored (the database did not accept them)", self.recorder.pending)

    async def _stop_web(self) -> None:
        if self.web is not None:
            await self.web.stop()

    async def close(self) -> None:
        """Stop everything within SHUTDOWN_BUDGET, each part even when another failed, the store last."""
        deadline = time.monotonic() + SHUTDOWN_BUDGET
        steps: list[Callable[[], Awaitable[None]]] = []
        if self._services_started:
            self._services_started = False
            steps = [self.source.stop, self.journals.stop, self._stop_web, self._finish_recording]
        steps += [self.supervisor.stop_all, self.store.close, super().close]  # also when start-up failed half way
        for step in steps:
            try:
                await asyncio.wait_for(step(), max(deadline - time.monotonic(), 0.5))
            except Exception:  # a timeout included: whatever one part does, the next is stopped too
                log.exception("stopping %s failed; stopping the rest", getattr(step, "__qualname__", step))
        self.intake.refusals.flush()  # the counts of refusals not yet summarised
