"""When the digest of a day is due (a pure function of the time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.delivery.digest import due_day, key_of

NINE = time(9, 0, tzinfo=UTC)


def test_yesterday_is_due_from_the_digest_time_on() -> None:
    assert due_day(datetime(2026, 8, 15, 8, 59, 59, tzinfo=UTC), NINE) == date(2026, 8, 13)
    assert due_day(datetime(2026, 8, 15, 9, 0, tzinfo=UTC), NINE) == date(2026, 8, 14)
    assert due_day(datetime(2026, 8, 15, 23, 59, tzinfo=UTC), NINE) == date(2026, 8, 14)
    assert due_day(datetime(2026, 8, 16, 0, 30, tzinfo=UTC), time(0, 0, tzinfo=UTC)) == date(2026, 8, 15)


def test_the_key_is_the_day() -> None:
    assert key_of(date(2026, 8, 14)) == "digest:2026-08-14"
