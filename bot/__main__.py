"""`python -m bot` runs the bot; `python -m bot emit …` sends a test event as KGSM would."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

import discord

from bot import emit
from bot.bot import KGSMBot, point_discord_py_at
from bot.config import ConfigError, Settings, load_settings
from bot.sources.socket_server import SocketPathError
from bot.store import StoreError

log = logging.getLogger("bot")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="KGSM events in Discord.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
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
            await bot.close()


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
    _setup_logging(settings.log_level)
    return asyncio.run(_run(settings))


if __name__ == "__main__":
    sys.exit(main())
