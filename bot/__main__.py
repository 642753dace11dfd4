"""`python -m bot` runs the bot; `python -m bot emit …` sends a test event as KGSM would."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import urllib.error
import urllib.request

import discord

from bot import emit
from bot.bot import KGSMBot, point_discord_py_at
from bot.config import ConfigError, Settings, load_settings
from bot.sources.socket_server import SocketPathError
from bot.store import StoreError

log = logging.getLogger("bot")

SHUTDOWN_TIMEOUT = 9.0


def _health(settings: Settings) -> int:
    """Ask the running bot's /healthz; needs nothing beyond the standard library (Docker HEALTHCHECK)."""
    if settings.http.port is None:
        print("BOT_HTTP_PORT is not set: the bot serves no /healthz", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{settings.http.port}/healthz"
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
    return parser.parse_args(argv)


def _setup_logging(level: str) -> None:
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    logging.getLogger("discord.http").setLevel(logging.WARNING)


async def _run(settings: Settings) -> int:
    point_discord_py_at(settings.discord)
    bot = KGSMBot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
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
            runner.result()
        return 0
    except (SocketPathError, StoreError) as exc:
        print(f"kgsm-bot: {exc}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("kgsm-bot: Discord rejected DISCORD_TOKEN; copy the bot token again from the portal", file=sys.stderr)
        return 2
    finally:
        with contextlib.suppress(Exception):
            # Everything undelivered stays in the outbox for the next start; never hang a shutdown.
            await asyncio.wait_for(bot.close(), SHUTDOWN_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"kgsm-bot: {problem}", file=sys.stderr)
        return 2
    if args.command == "emit":
        return emit.run(args, settings.socket.path)
    if args.command == "health":
        return _health(settings)
    _setup_logging(settings.log_level)
    return asyncio.run(_run(settings))


if __name__ == "__main__":
    sys.exit(main())
