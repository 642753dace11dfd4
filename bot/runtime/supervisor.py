"""The bot's background work, run one way: every task under one supervisor (retries: `bot.runtime.retry`).

Nothing may die quietly. A long-running task (`Supervisor.run`: the recorder, a delivery lane, a journal
follower, the socket watcher, …) that raises an unexpected error is logged with its traceback, counted
(`kgsm_task_restarts_total{task}`) and started again after a backoff; a periodic one (`Supervisor.every`,
on discord.py's `tasks.loop`) logs and counts the failed round and runs again at its next time. While a task
waits to be restarted, or its last round failed, `problems()` names it, and `/healthz` answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from discord.ext import tasks

from bot.runtime.retry import Backoff

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[object]]


class TaskState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"  # an unexpected error; it runs again after its backoff
    FAILING = "failing"  # a periodic task whose last round failed
    FINISHED = "finished"


@dataclass
class SupervisedTask:
    name: str
    state: TaskState = TaskState.RUNNING
    last_error: str | None = None
    task: asyncio.Task[None] | None = None
    loop: tasks.Loop[Any] | None = None

    @property
    def healthy(self) -> bool:
        return self.state in (TaskState.RUNNING, TaskState.FINISHED)


class Supervisor:
    # A task that ran this long since its last restart is healthy again: the next error starts the backoff anew.
    settle_after = 30.0

    def __init__(self) -> None:
        self.tasks: dict[str, SupervisedTask] = {}
        self.restarts: Counter[str] = Counter()

    def _failed(self, record: SupervisedTask, state: TaskState, error: BaseException) -> None:
        self.restarts[record.name] += 1
        record.state = state
        record.last_error = f"{type(error).__name__}: {error}"[:300]
        log.error("background task %s failed; it is started again", record.name, exc_info=error)

    def run(self, name: str, work: Work) -> SupervisedTask:
        """Run `work` until it returns; started again with backoff whenever it raises."""
        record = self.tasks[name] = SupervisedTask(name)

        async def supervise() -> None:
            backoff = Backoff()
            while True:
                began = time.monotonic()
                try:
                    await work()
                except Exception as error:
                    self._failed(record, TaskState.RESTARTING, error)
                    if time.monotonic() - began >= self.settle_after:
                        backoff.reset()
                    await backoff.wait()
                    record.state = TaskState.RUNNING
                    continue
                record.state = TaskState.FINISHED
                return

        record.task = asyncio.create_task(supervise(), name=name)
        return record

    def every(
        self,
        name: str,
        work: Work,
        *,
        seconds: float | None = None,
        at: Sequence[datetime.time] | None = None,
    ) -> SupervisedTask:
        """Run `work` every `seconds`, or at the times of day `at` (UTC), with discord.py's `tasks.loop`."""
        record = self.tasks[name] = SupervisedTask(name)

        async def round_() -> None:
            try:
                await work()
            except Exception as error:
                self._failed(record, TaskState.FAILING, error)
            else:
                record.state = TaskState.RUNNING

        timing: dict[str, Any] = {"time": list(at)} if at is not None else {"seconds": seconds or 60.0}
        record.loop = tasks.loop(name=name, reconnect=False, **timing)(round_)
        record.task = record.loop.start()
        return record

    def problems(self) -> dict[str, str]:
        """Tasks that are not running as they should, with what they last failed on."""
        return {
            name: f"{record.state.value}: {record.last_error or '?'}"
            for name, record in self.tasks.items()
            if not record.healthy
        }

    async def stop(self, name: str) -> None:
        record = self.tasks.pop(name, None)
        if record is not None:
            await cancel_and_wait(record.task)

    async def stop_all(self) -> None:
        running = list(self.tasks.values())
        self.tasks.clear()
        await cancel_and_wait(*(record.task for record in running))


async def cancel_and_wait(*tasks_: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks (None ones are skipped) and wait until each has really ended."""
    running = [task for task in tasks_ if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
