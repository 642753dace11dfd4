"""Baseline client: a bare discord.py client logged in to the fake Discord, and nothing else.

`python -m bench.bare_client` logs in (DISCORD_TOKEN, DISCORD_API_BASE and DISCORD_GATEWAY_URL from the
environment), prints `ready` once discord.py is ready, and idles. With `--socket PATH` it also listens there and,
for each connection, reads the channel id the connection sends and posts a prepared embed to it: the least a program
can do between a write into a socket and a POST to Discord.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import discord
import yarl

READ_CHUNK = 64 * 1024
PREPARED = discord.Embed(
    title="🟢 factorio — started",
    description="factorio is online.",
    colour=0x2ECC71,
).set_footer(text="on gamehost · KGSM 2.4.0")


class BareClient(discord.Client):
    def __init__(self, socket: Path | None) -> None:
        super().__init__(intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none())
        self._socket = socket

    async def setup_hook(self) -> None:
        if self._socket is not None:
            await asyncio.start_unix_server(self._serve, str(self._socket), backlog=512, limit=READ_CHUNK)

    async def on_ready(self) -> None:
        print("ready", flush=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = b""
        while chunk := await reader.read(READ_CHUNK):
            received += chunk
        writer.close()
        await self.get_partial_messageable(int(received)).send(embed=PREPARED)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_client")
    parser.add_argument("--socket", type=Path)
    args = parser.parse_args()
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    BareClient(args.socket).run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
