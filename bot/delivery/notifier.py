"""Turns each new event into deliveries: a step of an operation's live message, or a standalone embed.

Deliveries are planned as events are dispatched and recorded, with the runs they change and the mark that
their events are dispatched, in one transaction (`commit`); only then do the lanes get them, so nothing
reaches Discord that the outbox does not know about. If that transaction fails (a full disk), everything it
held stays planned and `commit` is tried again. At start-up, whatever was not delivered before a stop or a
crash is handed to the lanes again (`restore`).

A danger (a run of an operation that alerts, such as a crash incident, failing; a standalone event whose type
alerts, such as a threshold breach) also plans one alert ping per channel when `KGSM_ALERT_ROLE_ID` names a
role for its server, keyed by what it is about so that it is recorded, and posted, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import discord

from bot.delivery.lanes import Deliverer
from bot.delivery.messages import RunMessage, StandaloneItem
from bot.delivery.outbox import Outbox, Ping
from bot.delivery.poster import EmbedJSON, embed_json
from bot.events import Event
from bot.events.runs import Run, RunStatus, belongs_to, has_gone_quiet, opens_run, run_key
from bot.render.text import code, plain
from bot.runtime.ratelog import COUNT, RateLimitedLog

log = logging.getLogger(__name__)


AlertRole = Callable[[str | None], int | None]  # a server → the role its dangers ping, if any
AlertText = Callable[[int, Run | Event], str]


class Notifier:
    def __init__(
        self,
        outbox: Outbox,
        deliverer: Deliverer,
        render: Callable[[Event], discord.Embed],
        alert_role: AlertRole = lambda _instance: None,
        alert_text: AlertText | None = None,
    ) -> None:
        self._outbox = outbox
        self._deliverer = deliverer
        self._render = render
        self._alert_role = alert_role
        self._alert_text = alert_text
        self._render_failures = RateLimitedLog(log)  # an input that breaks rendering must not flood the log
        self._runs: dict[str, list[Run]] = {}  # run key → its recent runs, oldest first
        self._messages: dict[int, dict[int, RunMessage]] = {}  # run id → channel → its live message
        # What the current recorder batch produced, written to the outbox in one go by `commit`.
        self._staged_standalone: list[tuple[str, int, EmbedJSON]] = []
        self._staged_steps: list[tuple[str, int, int, int]] = []
        self._staged_pings: list[tuple[str, int, Ping]] = []
        self._changed_runs: dict[int, Run] = {}
        self._touched: dict[tuple[int, int], RunMessage] = {}
        self._dispatched: list[str] = []

    async def restore(self) -> int:
        """Hand undelivered rows and unfinished runs to the lanes; returns how many messages are waiting."""
        waiting = 0
        for row in await self._outbox.pending_standalone():
            self._deliverer.queue_standalone(row.channel_id, StandaloneItem(row.id, row.embed, row.batch_id, row.ping))
            waiting += 1
        for run, messages in await self._outbox.unfinished_runs():
            self._remember(run)
            for pending in messages:
                message = RunMessage(run, pending.channel_id, pending.message_id, pending.written_version)
                self._messages.setdefault(run.id, {})[pending.channel_id] = message
                self._deliverer.touch_run(message)
                waiting += 1
        if waiting:
            log.info("resuming %d undelivered messages from before the last stop", waiting)
        return waiting

    def _remember(self, run: Run) -> None:
        runs = self._runs.setdefault(run.key, [])
        runs.append(run)
        runs.sort(key=lambda known: known.id)
        # Only runs still open, or just finished (late steps), can take events; older ones are forgotten.
        while len(runs) > 1 and runs[0].finished:
            self._forget_written(runs.pop(0))

    def _run_for(self, event: Event, routed: bool) -> tuple[Run | None, bool]:
        """The run `event` is a step of (or opens), and whether it failed that run just now."""
        if event.instance is None:
            return None, False
        for run in reversed(self._runs.get(run_key(event.host, event.instance), [])):
            if belongs_to(run, event):
                failed = run.take(event)
                self._changed_runs[run.id] = run
                return run, failed
        operation = opens_run(event)
        # A muted crash opens no incident: the server's next start is then announced on its own.
        if operation is None or (operation.incident and not routed):
            return None, False
        run = Run(0, event.instance, operation, RunStatus.RUNNING, [], event.timestamp, event.timestamp, version=0)
        failed = run.take(event)
        run.id = self._outbox.new_run_id()
        self._changed_runs[run.id] = run
        self._remember(run)
        return run, failed

    def _forget_written(self, run: Run) -> None:
        """A run that a newer one replaced needs no bookkeeping once its messages show its last state."""
        messages = self._messages.get(run.id, {})
        for channel_id in [channel_id for channel_id, message in messages.items() if not message.behind]:
            del messages[channel_id]
        if not messages:
            self._messages.pop(run.id, None)

    async def notify(self, event: Event, channels: list[int]) -> None:
        """Plan the deliveries of a new event; they are recorded and handed to the lanes by `commit`."""
        self._dispatched.append(event.id)
        run, failed = self._run_for(event, bool(channels))
        if run is None:
            if channels:
                embed = embed_json(self._render_safely(event))
                self._staged_standalone.extend((event.id, channel_id, dict(embed)) for channel_id in channels)
                if event.kind.alert:
                    self._ping(f"alert:event:{event.id}", event, event.instance, channels)
            return
        for channel_id in channels:
            self._staged_steps.append((event.id, channel_id, run.id, run.version))
            self._touch(run, channel_id)
        if failed and run.kind.alerts:
            self._ping(f"alert:run:{run.id}", run, run.instance, channels)

    def _ping(self, about: str, subject: Run | Event, instance: str | None, channels: list[int]) -> None:
        """Plan the alert ping of a danger in each of its channels, if its server has an alert role."""
        role_id = self._alert_role(instance)
        if role_id is None or self._alert_text is None:
            return
        ping = Ping(self._alert_text(role_id, subject), role_id)
        self._staged_pings.extend((about, channel_id, ping) for channel_id in channels)

    async def note(self, run_id: int, line: str, *, restarted: bool = False) -> bool:
        """Add `line` to a run's message (how a press of its Restart button went) and edit it in every channel;
        `restarted` takes the button away. False when no such run has a message."""
        run = next((known for runs in self._runs.values() for known in runs if known.id == run_id), None)
        run = run or await self._outbox.load_run(run_id)
        if run is None:
            return False
        messages = dict(self._messages.get(run_id, {}))
        for pending in await self._outbox.run_messages(run_id):
            if pending.channel_id not in messages and pending.message_id is not None:
                messages[pending.channel_id] = RunMessage(run, pending.channel_id, pending.message_id, run.version)
        if restarted:
            run.details["restarted"] = True
        run.note(line)
        await self._outbox.record((), (), [run])
        for message in messages.values():
            self._deliverer.touch_run(message)
        return bool(messages)

    def dispatched(self, event: Event) -> None:
        """An event that needs no delivery (muted, or history imported) is dispatched all the same."""
        self._dispatched.append(event.id)

    def _render_safely(self, event: Event) -> discord.Embed:
        """The event's embed; should rendering ever fail on some input, a plain one, so it is still posted."""
        try:
            return self._render(event)
        except Exception as error:
            self._render_failures.log(
                ("render", event.type),
                logging.ERROR,
                "rendering %s for %s failed; posting it plainly",
                event.type,
                event.subject,
                exc_info=error,
                summary=f"rendering {COUNT} more {event.type} events failed; posted plainly",
            )
            return discord.Embed(
                title=plain(f"{event.kind.emoji} {event.subject} — {event.kind.label}", 256),
                description=f"KGSM reported {code(event.type)}; the bot could not show its details (see its log).",
                timestamp=event.timestamp,
            )

    def _touch(self, run: Run, channel_id: int) -> None:
        message = self._messages.setdefault(run.id, {}).setdefault(channel_id, RunMessage(run, channel_id))
        self._touched[(run.id, channel_id)] = message

    async def close_quiet_runs(self, now: datetime) -> int:
        """Show runs that have heard nothing for a while as such (see `bot.operations`); returns how many."""
        quiet = [run for runs in self._runs.values() for run in runs if has_gone_quiet(run, now)]
        for run in quiet:
            log.info("no news from KGSM about the %s of %s since %s", run.kind.name, run.instance, run.heard_at)
            run.fall_quiet()
            self._changed_runs[run.id] = run
            for channel_id in self._messages.get(run.id, {}):
                self._touch(run, channel_id)
        await self.commit()
        return len(quiet)

    async def commit(self) -> None:
        """Record the batch's deliveries in one transaction, then let the lanes send them.

        One transaction per recorder batch, not a few statements per event: this is what keeps intake fast
        in a burst (see docs/BENCHMARKS.md).
        """
        if not (self._staged_standalone or self._staged_steps or self._changed_runs or self._dispatched):
            return
        row_ids = await self._outbox.record(
            self._staged_standalone,
            self._staged_steps,
            list(self._changed_runs.values()),
            self._dispatched,
            self._staged_pings,
        )
        for event_id, channel_id, embed in self._staged_standalone:
            row_id = row_ids.get((event_id, channel_id))
            if row_id is not None:
                self._deliverer.queue_standalone(channel_id, StandaloneItem(row_id, embed))
        for message in self._touched.values():
            self._deliverer.touch_run(message)
        # After the messages they are about, in the same lanes: the ping follows the incident's message.
        for about, channel_id, ping in self._staged_pings:
            row_id = row_ids.get((about, channel_id))
            if row_id is not None:
                self._deliverer.queue_standalone(channel_id, StandaloneItem(row_id, {}, ping=ping))
        self._staged_pings.clear()
        self._staged_standalone.clear()
        self._staged_steps.clear()
        self._changed_runs.clear()
        self._touched.clear()
        self._dispatched.clear()
