"""The one retry helper: delays that double up to their ceiling, retrying only the errors it is told to, and
waiting at least what the caller asks (a `retry_after`)."""

from __future__ import annotations

import time

import pytest

from bot.runtime.retry import Backoff, retrying


def test_delays_double_up_to_the_ceiling_and_start_again_after_a_reset() -> None:
    backoff = Backoff(first=0.5, ceiling=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


async def test_an_operation_is_tried_again_until_it_works_and_each_error_is_seen() -> None:
    failures = [OSError("no network"), TimeoutError("slow"), OSError("no network again")]
    seen: list[str] = []

    async def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    def on_retry(error: BaseException) -> float | None:
        seen.append(str(error))
        return None

    result = await retrying(flaky, (OSError, TimeoutError), backoff=Backoff(0.001, 0.002), on_retry=on_retry)
    assert result == "done"
    assert seen == ["no network", "slow", "no network again"]


async def test_an_error_it_was_not_told_to_retry_is_the_callers() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await retrying(broken, (OSError,), backoff=Backoff(0.001, 0.002))
    assert calls == 1


async def test_it_waits_at_least_what_on_retry_asks() -> None:
    attempts: list[float] = []

    async def rate_limited() -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 2:
            raise OSError("429")

    await retrying(rate_limited, (OSError,), backoff=Backoff(0.001, 0.001), on_retry=lambda _error: 0.2)
    assert attempts[1] - attempts[0] >= 0.19  # not the 1 ms of its backoff
