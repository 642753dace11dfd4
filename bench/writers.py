"""The intake benchmark's client load, in a process of its own so it never shares the measured event loop.

`python -m bench.writers SOCKET EVENTS [--writers 8]` prepares EVENTS pretty payloads, prints `ready`, waits for a
line on stdin, then lets the writers send them (each writer one event at a time, one connection per event, like one
KGSM process running socat per event) and prints `{"failed": N}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bench.kgsm import busy_days, send

SEND_TIMEOUT = 10.0


async def _writer(path: Path, payloads: list[bytes]) -> int:
    failed = 0
    for payload in payloads:
        try:
            await asyncio.wait_for(send(path, payload), SEND_TIMEOUT)
        except (OSError, TimeoutError):
            failed += 1
    return failed


async def _write_all(path: Path, shares: list[list[bytes]]) -> int:
    return sum(await asyncio.gather(*(_writer(path, share) for share in shares)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.writers")
    parser.add_argument("socket", type=Path)
    parser.add_argument("events", type=int)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    share = args.events // args.writers
    shares = [list(busy_days(f"w{n}", share, n * share)) for n in range(args.writers)]
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps({"failed": asyncio.run(_write_all(args.socket, shares))}))


if __name__ == "__main__":
    main()
