"""`python -m bench` (or `make bench`): run every benchmark, print the table, write docs/BENCHMARKS.md.

`python -m bench startup commands` runs only the benchmarks named (by module) and prints them, writing nothing.

Each benchmark module has a `TITLE`, a docstring that says how it measures, and `measure()`, which returns the rows
of the table. A benchmark that fails is shown as a failed row and the command exits with status 1 after writing the
rest.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench import commands, intake, junk, latency, memory, prune, requests, startup, uptime
from bench.report import Row, Section, console_table, document

BENCHMARKS: tuple[ModuleType, ...] = (intake, junk, latency, requests, memory, startup, commands, prune, uptime)
OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def _run(module: ModuleType) -> tuple[Section, bool]:
    section = Section(module.TITLE, module.__doc__ or "")
    began = time.monotonic()
    print(f"{module.TITLE} …", flush=True)
    try:
        section.rows = asyncio.run(module.measure())
    except Exception as exc:
        traceback.print_exc()
        section.rows = [Row(module.TITLE, f"failed: {exc.__class__.__name__}", "—", "—", "—", met=False)]
        ok = False
    else:
        ok = True
    print(console_table(section.rows), f"\n({time.monotonic() - began:.0f} s)\n", flush=True)
    return section, ok


def main(names: list[str]) -> int:
    command = "make bench" if "MAKELEVEL" in os.environ else "python -m bench"
    chosen = [module for module in BENCHMARKS if not names or module.__name__.removeprefix("bench.") in names]
    load_before = os.getloadavg()[0]
    began_at = datetime.now(UTC)
    began = time.monotonic()
    results = [_run(module) for module in chosen]
    sections = [section for section, _ in results]
    seconds = time.monotonic() - began
    rows = [row for section in sections for row in section.rows]
    print(console_table(rows))
    if names:
        return 0 if all(ok for _, ok in results) else 1
    load = f"1-minute load average {load_before:.2f} before the run"
    OUTPUT.write_text(document(sections, command, began_at, seconds, load), encoding="utf-8")
    print(f"\n{len(rows)} results in {seconds:.0f} s, written to {OUTPUT}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
