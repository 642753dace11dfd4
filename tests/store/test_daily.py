"""A server's day for the digest: updates counted once per update whatever the era, backups, peak players."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.daily import day_summary, peak_players
from bot.store.rows import StateFacts

DAY = datetime(2026, 8, 14, tzinfo=UTC)


def at(hours: float, event_type: str, **data: Any) -> StateFacts:
    return StateFacts("valheim", None, event_type, DAY + timedelta(hours=hours), data)


def test_peak_players_from_joins_and_leaves_emptied_by_a_crash() -> None:
    facts = [
        at(1, "server.ready"),
        at(2, "player.joined", PlayerName="Ada"),
        at(3, "player.joined", PlayerName="Bob"),
        at(3.5, "player.joined", PlayerName="Bob"),  # a reconnect is still one Bob
        at(4, "player.left", PlayerName="Ada"),
        at(5, "player.joined", PlayerName="Cy"),
        at(5.5, "player.joined", PlayerName="Di"),  # Bob, Cy, Di: 3
        at(6, "server.crashed"),
        at(7, "server.restarted"),
        at(8, "player.joined", PlayerName="Ed"),
        at(9, "player.left", PlayerName="Bob"),  # gone with the crash already: does not go below zero
    ]
    assert peak_players(facts, DAY, DAY + timedelta(days=1)) == 3


def test_the_day_in_numbers() -> None:
    facts = [
        at(-2, "server.ready"),
        at(1, "server.update.started"),
        at(1.1, "server.updated", NewVersion="2"),
        at(1.2, "server.update.finished"),
        at(1.3, "server.started"),
        at(1.4, "server.ready"),
        at(3, "backup.created"),
        at(12, "backup.created"),
        at(20, "server.crashed"),
        at(20 + 1 / 60, "server.restarted"),
    ]
    day = day_summary(facts, [(DAY - timedelta(days=1), DAY + timedelta(days=2))], DAY, DAY + timedelta(days=1))
    assert day.updates == 1
    assert day.backups == 2
    assert day.uptime.crashes == 1
    assert day.uptime.mean_recovery == 60
    assert day.peak_players == 0
