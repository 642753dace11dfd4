"""The few statistics the benchmarks report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], rank: int) -> float:
    """The `rank`-th percentile (1–99), interpolated between the nearest samples."""
    return statistics.quantiles(values, n=100, method="inclusive")[rank - 1]
