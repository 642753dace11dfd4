"""Counters of what the bot received, accepted and refused; read by /about, /ping and the metrics page.

Every input item (a document, stray bytes, or a connection cut off for size or time) is received once and
then either accepted or refused with a reason, so `received == accepted + refused_total` always holds.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class IntakeStats:
    received: int = 0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    rebinds: int = 0
    producer_versions: set[str] = field(default_factory=set)
    last_event_monotonic: float | None = None

    def count_accepted(self, producer_version: str | None = None) -> None:
        self.received += 1
        self.accepted += 1
        self.last_event_monotonic = time.monotonic()
        if producer_version:
            self.producer_versions.add(producer_version)

    def count_refused(self, reason: str, count: int = 1) -> None:
        """`count` inputs refused for `reason` (a run of stray lines is refused as one item of many inputs)."""
        self.received += count
        self.refused[reason] += count

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())
