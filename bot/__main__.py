"""`python -m bot` runs the bot; `python -m bot emit …` sends a test event as KGSM would; `python -m bot relay`
forwards a game host's journals to a central bot."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request

import discord

from bot.bot import KGSMBot, point_discord_py_at
from bot.config import ConfigError, Settings, StartupError, load_relay_settings, load_settings
from bot.runtime import loop as event_loop
from bot.sources import emit

log = logging.getLogger("bot")


def _health(port: int | None, setting: str) -> int:
    """Ask the running bot's (or relay's) /healthz; needs nothing beyond the standard library (HEALTHCHECK)."""
    if port is None:
        print(f"{setting} is not set: nothing serves /healthz", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
    return 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="KGSM events in Discord.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("health", help="exit 0 if the running bot's /healthz answers 200 (for HEALTHCHECK)")
    emit.add_arguments(commands.add_parser("emit", help="send one test event to the socket, as KGSM does"))
    relaying = commands.add_parser("relay", help="forward this host's KGSM journals to a central bot's webhook")
    relaying.add_argument("--health", action="store_true", help="exit 0 if the running relay's /healthz answers 200")
    return parser.parse_args(argv)


def _setup_logging(level: str) -> None:
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    logging.getLogger("discord.http").setLevel(logging.WARNING)


async def _serve(bot: KGSMBot, settings: Settings, stop: asyncio.Event) -> int:
    """Run until SIGTERM/SIGINT (or until the Discord connection ends for good)."""
    if settings.discord.dry_run:
        await bot.start_services()
        log.warning("no DISCORD_TOKEN: dry-run, embeds are printed here instead of posted")
        await stop.wait()
        return 0
    runner = asyncio.create_task(bot.start(settings.discord.token or ""))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if runner.done():
        runner.result()  # a start-up that failed, or a connection Discord ended for good: said below
    return 0


async def _run(settings: Settings) -> int:
    point_discord_py_at(settings.discord)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        # Leaving the block closes the bot (each part in turn, within SHUTDOWN_BUDGET): what is not delivered
        # stays in the outbox for the next start.
        async with KGSMBot(settings) as bot:
            return await _serve(bot, settings, stop)
    except StartupError as exc:
        return _refused(str(exc))
    except discord.LoginFailure:
        return _refused("Discord rejected DISCORD_TOKEN; copy the bot token again from the portal")
    except discord.PrivilegedIntentsRequired:
        return _refused("Discord refused an intent the bot asked for; it needs no privileged intent (report this)")
    except Exception as exc:
        log.exception("kgsm-bot stopped on an unexpected error")
        return _refused(f"stopped on an unexpected error ({type(exc).__name__}: {exc}); the traceback is above", 1)


def _refused(reason: str, status: int = 2) -> int:
    """The one line a start-up (or a run) that cannot go on ends with; the exit status says how."""
    print(f"kgsm-bot: {reason}", file=sys.stderr, flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        if args.command == "relay":
            return _relay(args)
        settings = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"kgsm-bot: {problem}", file=sys.stderr)
        return 2
    if args.command == "emit":
        return emit.run(args, settings.socket.path)
    if args.command == "health":
        return _health(settings.http.port, "BOT_HTTP_PORT")
    _setup_logging(settings.log_level)
    status = event_loop.run(_run(settings))
    _leave_even_if_a_thread_hangs(status)
    return status


def _relay(args: argparse.Namespace) -> int:
    """`python -m bot relay`: its own settings only (no Discord token, no bot database). Its modules are imported
    here, so that the bot does not carry them (1 MiB)."""
    from bot.relay import service as relay  # noqa: PLC0415 - see the docstring

    settings = load_relay_settings()
    if args.health:
        return _health(settings.http_port, "KGSM_RELAY_HTTP_PORT")
    _setup_logging(settings.log_level)
    return relay.main(settings)


def _leave_even_if_a_thread_hangs(status: int) -> None:
    """A database call still running in its thread (a stop that ran out of time) must not keep the process
    alive: a stop ends within 10 s, and Restart=on-failure can only restart a process that ended."""
    lingering = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if lingering:
        log.error("leaving with %d threads still busy: %s", len(lingering), ", ".join(t.name for t in lingering))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
