"""Who is on a server, from its events (no network): joins, leaves, the clears the vocabulary's states imply,
events read out of order, hostile volumes and the JSON a state table stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.events import parse_event
from bot.store.roster import MAX_LEFT, MAX_ONLINE, NAME_LIMIT, Roster
from bot.store.state import InstanceState, StateBook

T0 = datetime(2026, 9, 12, 10, 0, tzinfo=UTC)
PRIVATE = {"PlayerAddr": "203.0.113.7:50123", "SessionKey": "sess-secret-1", "IpAddress": "198.51.100.9"}


def event(event_type: str, second: int, instance: str = "valheim", **data: Any) -> dict[str, Any]:
    moment = (T0 + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"V": 1, "EventType": event_type, "Data": {"InstanceName": instance, **data}, "Timestamp": moment}


def joined(name: str, second: int, player_id: str | None = None, **data: Any) -> dict[str, Any]:
    ids = {"PlayerId": player_id} if player_id else {}
    return event("instance_player_joined", second, PlayerName=name, **ids, **data)


def left(name: str, second: int, player_id: str | None = None) -> dict[str, Any]:
    return event("player.left", second, PlayerName=name, **({"PlayerId": player_id} if player_id else {}))


def feed(*documents: dict[str, Any], book: StateBook | None = None) -> InstanceState:
    book = book or StateBook()
    for document in documents:
        book.apply(parse_event(document))
    state = book.get("valheim")
    assert state is not None
    return state


def names(state: InstanceState) -> list[str | None]:
    return [player.name for player in state.players]


def test_joins_and_leaves_under_either_spelling() -> None:
    state = feed(
        event("server.ready", 0),
        joined("Ada", 1, "765611"),
        event("instance_player_joined", 2, PlayerName="Bob", PlayerId="765612"),
        event("player.joined", 3, PlayerName="Cy", PlayerId="765613"),
        event("instance_player_left", 4, PlayerName="Bob", PlayerId="765612"),
    )
    assert names(state) == ["Ada", "Cy"]
    assert state.players[0].since == T0 + timedelta(seconds=1)


def test_a_rejoin_keeps_one_entry_with_the_latest_name_and_time() -> None:
    state = feed(joined("Ada", 1, "765611"), joined("Ada the Brave", 9, "765611"))
    assert names(state) == ["Ada the Brave"]
    assert state.players[0].since == T0 + timedelta(seconds=9)


def test_players_are_told_apart_by_id_then_session_key_then_name() -> None:
    state = feed(
        joined("Twin", 1, "1"),
        joined("Twin", 2, "2"),
        event("player.joined", 3, PlayerName=None, SessionKey="s-9"),
        event("player.joined", 4),  # names nobody: nothing to count
    )
    assert names(state) == ["Twin", "Twin", None]
    assert len(feed(joined("Twin", 1, "1"), joined("Twin", 2, "2"), left("Twin", 3, "1")).players) == 1


def test_everyone_is_gone_when_the_server_stops_crashes_or_starts_again() -> None:
    for ending in ("instance_stopped", "server.crashed", "server.crash.exhausted", "server.restart.started"):
        assert feed(event("server.ready", 0), joined("Ada", 1), event(ending, 2)).players == (), ending
    for ending in ("server.started", "server.restarted", "server.update.started", "server.uninstalled"):
        assert feed(joined("Ada", 1), event(ending, 2)).players == (), ending


def test_being_ready_or_stopping_keeps_who_is_on() -> None:
    state = feed(
        event("server.started", 0), joined("Ada", 1), event("server.ready", 2), event("server.stop.started", 3)
    )
    assert names(state) == ["Ada"]
    assert names(feed(joined("Ada", 1), event("backup.created", 2), event("config.changed", 3))) == ["Ada"]


def test_a_step_the_vocabulary_ignores_from_the_current_state_clears_nothing() -> None:
    # restart.finished leads to "starting" only from "restarting": after `restarted` it changes nothing
    state = feed(
        event("server.restart.started", 0),
        event("server.restarted", 1),
        joined("Ada", 2),
        event("server.restart.finished", 3),
    )
    assert names(state) == ["Ada"]


def test_events_count_at_their_own_time_not_their_arrival() -> None:
    # the watchdog's journal was read before KGSM's: the join (10:00:05) arrives before the start (10:00:01)
    assert names(feed(joined("Ada", 5), event("server.started", 1))) == ["Ada"]
    # a stop at 10:00:09 read after a join of 10:00:05 and a leave of 10:00:02 read late
    state = feed(joined("Ada", 5, "1"), event("server.stopped", 9), joined("Bob", 3, "2"), left("Ada", 2, "1"))
    assert state.players == ()
    # a leave older than the join it would undo changes nothing
    assert names(feed(joined("Ada", 5, "1"), left("Ada", 2, "1"))) == ["Ada"]
    # a join older than the leave already known is not taken as new
    assert feed(left("Ada", 6, "1"), joined("Ada", 5, "1")).players == ()


def test_tens_of_thousands_of_joins_keep_the_roster_bounded() -> None:
    roster = Roster()
    for n in range(20_000):
        roster = roster.after("player.joined", {"PlayerId": str(n), "PlayerName": "x" * 5000}, T0)
    assert len(roster) == MAX_ONLINE
    assert roster.incomplete
    assert all(len(player.name or "") == NAME_LIMIT for player in roster.players)
    for n in range(20_000):
        roster = roster.after("player.left", {"PlayerId": f"gone-{n}"}, T0)
    assert len(roster.left) == MAX_LEFT
    assert len(json.dumps(roster.to_json())) < 200_000
    cleared = roster.cleared(T0 + timedelta(seconds=1))
    assert (len(cleared), cleared.incomplete, len(cleared.left)) == (0, False, 0)


def test_the_roster_holds_no_id_session_key_or_address() -> None:
    state = feed(joined("Ada", 1, "76561198000000001", **PRIVATE))
    stored = json.dumps(state.roster.to_json())
    for secret in ("76561198000000001", "sess-secret-1", "203.0.113.7", "198.51.100.9"):
        assert secret not in stored
        assert secret not in repr(state.roster)


def test_to_json_and_from_json_give_the_same_roster() -> None:
    state = feed(
        event("server.started", 0),
        joined("Ada", 1, "1"),
        joined("Zoë 🦊 \ud800", 2, "2"),
        left("Bob", 3, "3"),
        event("server.ready", 4),
    )
    text = json.dumps(state.roster.to_json())
    again = Roster.from_json(json.loads(text))
    assert again == state.roster
    assert again.players == state.roster.players
    # the restored roster goes on as the original would
    assert again.after("player.left", {"PlayerId": "1"}, T0 + timedelta(seconds=5)).players == state.players[1:]


def test_from_json_drops_what_is_not_a_roster() -> None:
    junks: list[Any] = [None, 5, "x", [], {"online": "x"}, {"online": [[1, 2, 3]], "left": [["k"]], "cleared_at": 7}]
    for junk in junks:
        assert Roster.from_json(junk) == Roster()
    half = Roster.from_json(
        {
            "online": [["k1", "Ada", "2026-09-12T10:00:01+00:00"], ["k2", "Bob", "yesterday"], ["k" * 65, "C", "x"]],
            "left": [["k3", "2026-09-12T10:00:00"]],  # no zone: not a time the bot wrote
        }
    )
    assert [player.name for player in half.players] == ["Ada"]
    assert half.left == {}
    many = Roster.from_json({"online": [[f"k{n}", "x", "2026-09-12T10:00:01+00:00"] for n in range(MAX_ONLINE + 9)]})
    assert (len(many), many.incomplete) == (MAX_ONLINE, True)


def test_state_has_no_players_before_any_join() -> None:
    assert feed(event("server.started", 0)).players == ()
