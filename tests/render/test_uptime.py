"""How durations and percentages read in /uptime and the digest."""

from __future__ import annotations

from bot.render.uptime import duration, percent


def test_durations_read_in_their_two_largest_units() -> None:
    assert duration(0) == "0 s"
    assert duration(40) == "40 s"
    assert duration(185) == "3 min 5 s"
    assert duration(2 * 3600 + 5 * 60 + 7) == "2 h 5 min"
    assert duration(86400 + 3 * 3600) == "1 d 3 h"
    assert duration(86400 + 59) == "1 d"


def test_percentages() -> None:
    assert percent(None) == "no data"
    assert percent(100.0) == "100 %"
    assert percent(99.0) == "99 %"
    assert percent(99.6371) == "99.64 %"
    assert percent(99.999) == "100 %"
