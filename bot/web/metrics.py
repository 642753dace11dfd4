"""Prometheus metrics, collected from the bot's own counters at scrape time (no global registry).

A custom collector reads the counters the bot keeps anyway, so nothing is counted twice and several bots
in one process (the tests) do not share state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class Snapshot:
    received: int
    accepted: int
    refused: dict[str, int]
    rebinds: int
    messages: dict[str, int]
    embeds: int
    outbox_depth: int
    duplicates: int
    delivery_retries: int
    source_healthy: bool
    last_event_age: float | None
    states: dict[str, int] = field(default_factory=dict)
    task_restarts: dict[str, int] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)  # crash incident threads: opened, refused


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot
        yield CounterMetricFamily("kgsm_events_received", "Inputs received from every source", value=s.received)
        yield CounterMetricFamily("kgsm_events_accepted", "Inputs accepted as KGSM events", value=s.accepted)
        refused = CounterMetricFamily("kgsm_events_refused", "Inputs refused, by reason", labels=["reason"])
        for reason, count in sorted(s.refused.items()):
            refused.add_metric([reason], count)
        yield refused
        yield CounterMetricFamily("kgsm_events_duplicate", "Events received again and ignored", value=s.duplicates)
        messages = CounterMetricFamily("kgsm_discord_messages", "Discord messages, by kind", labels=["kind"])
        for kind, count in sorted(s.messages.items()):
            messages.add_metric([kind], count)
        yield messages
        yield CounterMetricFamily("kgsm_discord_embeds", "Embeds posted (several go in one message)", value=s.embeds)
        yield CounterMetricFamily(
            "kgsm_discord_retries", "Discord requests retried after an error", value=s.delivery_retries
        )
        yield GaugeMetricFamily("kgsm_outbox_depth", "Deliveries recorded and not yet done", value=s.outbox_depth)
        yield CounterMetricFamily("kgsm_source_rebinds", "Times the socket was bound again", value=s.rebinds)
        yield GaugeMetricFamily("kgsm_source_up", "1 while the event source listens", value=int(s.source_healthy))
        if s.last_event_age is not None:
            yield GaugeMetricFamily(
                "kgsm_last_event_age_seconds", "Seconds since the last accepted event", value=s.last_event_age
            )
        restarts = CounterMetricFamily(
            "kgsm_task_restarts", "Background tasks started again after an unexpected error", labels=["task"]
        )
        for task, count in sorted(s.task_restarts.items()):
            restarts.add_metric([task], count)
        yield restarts
        threads = CounterMetricFamily(
            "kgsm_incident_threads", "Threads on crash incident messages, opened or refused", labels=["result"]
        )
        for result, count in sorted(s.threads.items()):
            threads.add_metric([result], count)
        yield threads
        servers = GaugeMetricFamily("kgsm_servers", "Known servers, by state", labels=["state"])
        for state, count in sorted(s.states.items()):
            servers.add_metric([state], count)
        yield servers


def render(snapshot: Snapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    return generate_latest(registry)
