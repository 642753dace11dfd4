"""A server's backups from its stored backup events (no network): created minus deleted, newest first, with
what pruning may have removed said, whatever order and spelling the events came in."""

from __future__ import annotations

from typing import Any

from bot.events import Event, parse_event
from bot.kgsm.syntax import Backup
from bot.store.backups import backup_name, history_of


def event(event_type: str, second: int, **data: Any) -> Event:
    return parse_event(
        {
            "EventType": event_type,
            "Data": {"InstanceName": "valheim", **data},
            "Timestamp": f"2026-12-01T08:05:{second:02d}Z",
        }
    )


def test_the_name_of_a_backup_is_its_id_or_its_file_name() -> None:
    assert backup_name("valheim-20261201T080444Z-f277e8") == "valheim-20261201T080444Z-f277e8"
    assert backup_name("/opt/kgsm/servers/valheim/backups/valheim-1.0.0-x.backup") == "valheim-1.0.0-x.backup"
    assert backup_name("unknown") is None
    assert backup_name(None) is None
    assert backup_name({"a": 1}) is None


def test_created_minus_deleted_newest_first_in_any_order() -> None:
    events = [
        event("backup.deleted", 5, Source="b"),
        event("instance_backup_created", 1, Source="a", Version="1.0.0"),
        event("backup.created", 4, Source="c"),
        event("backup.created", 2, Source="b", Version="1.0.0"),
        event("backup.created", 3, Source="/x/d"),
    ]
    history = history_of(events)
    assert [backup.id for backup in history.backups] == ["c", "d", "a"]
    assert history.backups[-1] == Backup("a", created_at="2026-12-01T08:05:01Z", version="1.0.0")
    assert history.prunings == []
    assert history.complete


def test_a_backup_made_again_after_its_deletion_is_listed() -> None:
    history = history_of(
        [
            event("backup.created", 1, Source="a"),
            event("backup.deleted", 2, Source="a"),
            event("backup.created", 3, Source="a"),
        ]
    )
    assert [(backup.id, backup.created_at) for backup in history.backups] == [("a", "2026-12-01T08:05:03Z")]


def test_pruning_after_the_oldest_listed_backup_is_told() -> None:
    history = history_of(
        [
            event("backup.pruned", 0, Deleted=4),  # before every listed backup: it cannot have removed one
            event("backup.created", 1, Source="a"),
            event("instance_backups_pruned", 2, Deleted=2, Kept=1),
            event("backup.pruned", 3, Deleted=0),  # removed nothing
            event("backup.pruned", 4, Deleted="many"),
        ]
    )
    assert [(pruning.at.second, pruning.deleted) for pruning in history.prunings] == [(4, None), (2, 2)]


def test_events_without_a_backup_name_are_ignored() -> None:
    history = history_of([event("backup.created", 1), event("backup.created", 2, Source="unknown")])
    assert history.backups == []
