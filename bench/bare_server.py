"""Baseline server: a bare asyncio Unix server that reads each connection to its end and decodes its JSON.

`python -m bench.bare_server SOCKET [--expect N] [--read-only] [--uvloop]` listens on SOCKET; after N documents it
prints `done <time.monotonic()>` (the clock is shared by every process of the machine). With `--read-only` it only
reads each connection to its end and closes it, decoding nothing; with `--uvloop` it runs on the event loop the bot
runs on (for reference: the goals are against asyncio's own loop, the bare reader as it was first measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from bot.runtime import loop as event_loop

READ_CHUNK = 64 * 1024


class Decoder:
    def __init__(self, expect: int, read_only: bool = False) -> None:
        self.expect = expect
        self.read_only = read_only
        self.decoded = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        chunks = []
        while chunk := await reader.read(READ_CHUNK):
            chunks.append(chunk)
        writer.close()
        if self.read_only:
            return
        json.loads(b"".join(chunks))
        self.decoded += 1
        if self.decoded == self.expect:
            print(f"done {time.monotonic()}", flush=True)


async def _serve(path: Path, expect: int, read_only: bool) -> None:
    decoder = Decoder(expect, read_only)
    server = await asyncio.start_unix_server(decoder.serve, str(path), backlog=512, limit=READ_CHUNK)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_server")
    parser.add_argument("socket", type=Path)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    serving = _serve(args.socket, args.expect, args.read_only)
    if args.uvloop:
        event_loop.run(serving)
    else:
        asyncio.run(serving)


if __name__ == "__main__":
    main()
