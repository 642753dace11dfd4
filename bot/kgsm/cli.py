"""Running kgsm.sh for the server commands safely: an argument list, never a shell (the arguments come from
`bot/kgsm_syntax.py`, which checks every name first); a timeout after which kgsm.sh and all its children are
killed; bounded output; the bot's secrets kept out of KGSM's environment and who asked put in it.

`KGSM_CLI=auto` asks `kgsm.sh --help` once which syntax it speaks (`detect_syntax`). A help text that tells
nothing is not guessed at: the command fails asking for `KGSM_CLI`, and the next command asks KGSM again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from bot.kgsm.syntax import (
    Backup,
    Syntax,
    detect_syntax,
    list_args,
    list_backups_args,
    parse_backups,
    parse_names,
    plain,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Secrets of the bot that KGSM has no use for are not handed on to it.
PRIVATE_VARIABLES = frozenset({"DISCORD_TOKEN", "KGSM_WEBHOOK_SECRET"})
ORIGIN = "discord"
OUTPUT_LIMIT = 256 * 1024  # bytes kept of each stream: the end, where errors and the latest log lines are
QUICK_TIMEOUT = 20.0  # for --help and the lists, never longer than KGSM_COMMAND_TIMEOUT
LIST_TTL = 30.0
KILL_GRACE = 2.0
DRAIN_GRACE = 1.0


class KgsmError(Exception):
    """KGSM could not be asked (its syntax is unknown, a list failed); the message says why."""


class _Tail:
    """The last `limit` bytes of a stream, and how many bytes it had in all."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    async def read_from(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.total += len(chunk)
            self.data += chunk
            del self.data[: max(len(self.data) - self.limit, 0)]

    def text(self) -> str:
        return plain(self.data.decode(errors="replace"))


@dataclass(frozen=True)
class Outcome:
    """How one call of kgsm.sh ended. `returncode` is None when it was killed after its timeout."""

    args: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    time_limit: float
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def cut_note(self) -> str:
        """Said when KGSM printed more than the bot keeps, so nobody takes the rest for the whole."""
        return f"(output cut to the last {OUTPUT_LIMIT // 1024} KiB)" if self.truncated else ""

    def error_text(self) -> str:
        """KGSM's own words on what went wrong: its error output, else its normal output."""
        return (self.stderr.strip() or self.stdout.strip()).strip()


class KgsmCli:
    """Runs one kgsm.sh, with the environment of the bot plus who asked (`KGSM_EVENT_ACTOR`/`_ORIGIN`)."""

    def __init__(self, path: Path, cli: str, timeout: float, environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self._environ = environ
        self._syntax = None if cli == "auto" else Syntax(cli)
        self._syntax_lock = asyncio.Lock()
        self._lists: dict[str, _CachedList[str]] = {
            what: _CachedList(functools.partial(self._fetch_list, what)) for what in ("instances", "blueprints")
        }
        # Per instance KGSM lists (their names are KGSM's, so the number of lists is bounded): /backups and the
        # backup autocomplete of /restore, asked at every keystroke, share one answer for LIST_TTL seconds.
        self._backups: dict[str, _CachedList[Backup]] = {}

    @property
    def quick_timeout(self) -> float:
        return min(self.timeout, QUICK_TIMEOUT)

    def environment(self, actor: str | None) -> dict[str, str]:
        source = os.environ if self._environ is None else self._environ
        env = {key: value for key, value in source.items() if key not in PRIVATE_VARIABLES}
        env.pop("KGSM_EVENT_ACTOR", None)
        if actor:
            env["KGSM_EVENT_ACTOR"] = actor
        env["KGSM_EVENT_ORIGIN"] = ORIGIN
        return env

    async def syntax(self) -> Syntax:
        """The configured syntax, or (auto) the one `kgsm.sh --help` shows, asked once."""
        if self._syntax is not None:
            return self._syntax
        async with self._syntax_lock:
            if self._syntax is None:
                outcome = await self.run(["--help"], time_limit=self.quick_timeout)
                detected = detect_syntax(outcome.stdout + "\n" + outcome.stderr)
                if detected is None:
                    raise KgsmError(
                        f"Could not tell which command syntax {self.path.name} speaks from its --help "
                        f"({_describe_end(outcome)}); set KGSM_CLI to modern, legacy or legacy-1."
                    )
                log.info("%s speaks the %s command syntax (KGSM_CLI=auto)", self.path, detected.value)
                self._syntax = detected
            return self._syntax

    async def instances(self, *, refresh: bool = False) -> list[str]:
        return await self._lists["instances"].get(refresh=refresh)

    async def blueprints(self, *, refresh: bool = False) -> list[str]:
        return await self._lists["blueprints"].get(refresh=refresh)

    async def backups(self, instance: str, *, refresh: bool = False) -> list[Backup]:
        """The backups KGSM lists for `instance` (a name KGSM lists), newest first."""
        cached = self._backups.setdefault(instance, _CachedList(functools.partial(self._fetch_backups, instance)))
        return await cached.get(refresh=refresh)

    def forget_backups(self, instance: str) -> None:
        """After a backup or a restore (which makes one first) the list has changed."""
        self._backups.pop(instance, None)

    async def _fetch_backups(self, instance: str) -> list[Backup]:
        args = list_backups_args(await self.syntax(), instance)
        outcome = await self.run(args, time_limit=self.quick_timeout)
        if not outcome.ok:
            raise KgsmError(
                f"KGSM could not list the backups of {instance} ({_describe_end(outcome)}): "
                f"{outcome.error_text()[-500:]}"
            )
        return parse_backups(outcome.stdout, instance)

    def forget_instances(self) -> None:
        """After an install or uninstall the list has changed."""
        self._lists["instances"].forget()

    async def _fetch_list(self, what: str) -> list[str]:
        outcome = await self.run(list_args(await self.syntax(), what), time_limit=self.quick_timeout)
        if not outcome.ok:
            raise KgsmError(f"KGSM could not list the {what} ({_describe_end(outcome)}): {outcome.error_text()[-500:]}")
        return parse_names(outcome.stdout)

    async def run(self, args: Sequence[str], *, time_limit: float, actor: str | None = None) -> Outcome:
        """Run kgsm.sh with `args` (built by `bot/kgsm_syntax.py`); on timeout kill it and its children.

        kgsm.sh starts in a session of its own so that its whole process group can be killed when it hangs.
        Once kgsm.sh itself has exited nothing is killed: a game server it started in the background lives on,
        and its output is read for at most `DRAIN_GRACE` more seconds in case it holds KGSM's pipes open.
        """
        began = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            str(self.path),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.environment(actor),
            start_new_session=True,
        )
        assert process.stdout is not None
        assert process.stderr is not None
        out, err = _Tail(), _Tail()
        readers = [
            asyncio.create_task(out.read_from(process.stdout)),
            asyncio.create_task(err.read_from(process.stderr)),
        ]
        try:
            try:
                returncode: int | None = await asyncio.wait_for(process.wait(), time_limit)
            except TimeoutError:
                log.warning("kgsm.sh %s did not finish within %g s; killing it", " ".join(args), time_limit)
                returncode = None
                _kill_group(process.pid)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), KILL_GRACE)
            await asyncio.wait(readers, timeout=DRAIN_GRACE)
        finally:
            if process.returncode is None:  # cancelled while it ran: the bot is stopping
                _kill_group(process.pid)
            for reader in readers:
                reader.cancel()
        return Outcome(
            args=tuple(args),
            returncode=returncode,
            stdout=out.text(),
            stderr=err.text(),
            seconds=time.monotonic() - began,
            time_limit=time_limit,
            truncated=out.total > out.limit or err.total > err.limit,
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _describe_end(outcome: Outcome) -> str:
    return f"no answer within {outcome.time_limit:g} s" if outcome.timed_out else f"exit code {outcome.returncode}"


class _CachedList(Generic[T]):
    """A list from KGSM, kept for `LIST_TTL` seconds; one fetch at a time however many ask."""

    def __init__(self, fetch: Callable[[], Awaitable[list[T]]]) -> None:
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self._names: list[T] = []
        self._fetched_at: float | None = None

    def forget(self) -> None:
        self._fetched_at = None

    async def get(self, *, refresh: bool = False) -> list[T]:
        async with self._lock:
            fresh = self._fetched_at is not None and time.monotonic() - self._fetched_at < LIST_TTL
            if refresh or not fresh:
                self._names = await self._fetch()
                self._fetched_at = time.monotonic()
            return list(self._names)


class Busy(Exception):
    """Another command for the same instance is still running."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"{name} is busy: {holder} is still running")
        self.name = name
        self.holder = holder


class Reservation:
    """A held instance name, released when the `with` block ends."""

    def __init__(self, held: dict[str, str], key: str) -> None:
        self._held = held
        self._key = key

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._held.pop(self._key, None)


class Reservations:
    """One command per instance at a time (names compared without case, as members type them)."""

    def __init__(self) -> None:
        self._held: dict[str, str] = {}

    def holder(self, name: str) -> str | None:
        """What holds `name` (e.g. "/start by ada"), if anything."""
        return self._held.get(name.lower())

    def reserve(self, name: str, what: str) -> Reservation:
        """Hold `name` for `what` at once, or raise Busy; use the result in a `with` block."""
        key = name.lower()
        holder = self._held.get(key)
        if holder is not None:
            raise Busy(name, holder)
        self._held[key] = what
        return Reservation(self._held, key)
