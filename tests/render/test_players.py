"""Who is online, rendered (no network): only names, inert, with no address even inside a name; counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.events import State, parse_event
from bot.render.event import render_event
from bot.render.overview import render_overview
from bot.render.players import listing, render_players, render_server_players
from bot.render.text import ADDRESS_HIDDEN, hide_addresses
from bot.store.roster import Roster
from bot.store.state import InstanceState
from tests.dotted import embed_text

T0 = datetime(2026, 9, 12, 10, 0, tzinfo=UTC)


def server(name: str, *players: str, state: State = State.READY, host: str | None = None) -> InstanceState:
    roster = Roster()
    for number, player in enumerate(players):
        roster = roster.after("player.joined", {"PlayerId": f"{name}-{number}", "PlayerName": player}, T0)
    return InstanceState(name, state, "player.joined", T0, host=host, roster=roster)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Bob 203.0.113.7:50123", f"Bob {ADDRESS_HIDDEN}"),
        ("10.0.0.1", ADDRESS_HIDDEN),
        ("1.2.3.4.5", f"{ADDRESS_HIDDEN}.5"),
        ("[2001:db8::1]:27015 x", f"{ADDRESS_HIDDEN} x"),
        ("fe80::1%eth0", f"{ADDRESS_HIDDEN}%eth0"),
        ("１０.０.０.１", ADDRESS_HIDDEN),  # full-width digits are digits too
        ("Zoë 🦊", "Zoë 🦊"),
        ("v1.2.3", "v1.2.3"),
        ("12:30:45", "12:30:45"),
        ("deadbeef", "deadbeef"),
    ],
)
def test_addresses_in_names_are_hidden(name: str, shown: str) -> None:
    assert hide_addresses(name) == shown


def test_players_shows_names_only_inert() -> None:
    hostile = "@everyone **x** [a](https://e) \u202e\ud800 198.51.100.9"
    embed = render_players([server("valheim", "Ada", hostile), server("factorio", state=State.INSTALLED)])
    assert embed.title == "Players — 2 players online"
    assert embed.fields[0].name == "✅ valheim — 2 online"
    text = embed.fields[0].value or ""
    assert "**Ada** · since <t:" in text
    assert "@everyone" not in text
    assert "\u202e" not in text
    assert "\ud800" not in text
    assert "](https" not in text
    assert "198.51.100.9" not in text
    assert ADDRESS_HIDDEN in text
    assert embed.description == "Nobody is on the other 1 server."


def test_nobody_online_and_no_servers() -> None:
    assert render_players([]).description == "No server has reported an event yet."
    one = render_players([server("valheim")])
    assert (one.title, one.description) == ("Players — nobody online", "Nobody is on the one server now.")
    alone = render_server_players(server("valheim", state=State.CRASHED))
    assert alone.description == "Nobody is on **valheim** now (it is crashed)."


def test_a_long_roster_is_cut_and_counted_within_the_field() -> None:
    state = server("valheim", *(f"player-{n}-" + "x" * 90 for n in range(60)))
    text = listing(state.players)
    assert len(text) <= 1024
    assert text.endswith("more")
    shown = text.count("\n")
    assert f"… and {60 - shown} more" in text


def test_the_status_board_counts_players() -> None:
    embed = render_overview(
        [server("valheim", "Ada", "Bob"), server("factorio"), server("minecraft", state=State.INSTALLED)]
    )
    assert embed.title == "Servers — 2 of 3 up · 2 players online"
    lines = (embed.description or "").splitlines()
    assert lines[0].endswith("· 👥 2"), lines
    assert lines[1].endswith("· 👥 0"), "a server that is up shows its count, even none"
    assert "👥" not in lines[2], "a server that is down and empty shows none"


def test_a_player_event_post_shows_who_and_why_and_never_an_address() -> None:
    joined = parse_event(
        {
            "V": 2,
            "EventType": "player.joined",
            "Data": {
                "InstanceName": "valheim",
                "PlayerName": "Bob 203.0.113.7",
                "PlayerId": "76561198000000001",
                "PlayerAddr": "203.0.113.7:2456",
                "SessionKey": "s-1",
                "IpAddress": "198.51.100.9",
                "Address": "2001:db8::42",
            },
            "Summary": "Bob 203.0.113.7 joined valheim",
        }
    )
    text = embed_text(dict(render_event(joined).to_dict()))
    for secret in ("203.0.113.7", "198.51.100.9", "2001:db8::42", "s-1", "Ip address", "Address"):
        assert secret not in text, secret
    assert "**Bob ‹address hidden›** joined **valheim**." in text
    ban = {"InstanceName": "valheim", "Target": "10.0.0.8", "Command": "ban-ip 10.0.0.8"}
    banned = embed_text(dict(render_event(parse_event({"EventType": "player.banned", "Data": ban})).to_dict()))
    assert "10.0.0.8" not in banned
    assert "`ban-ip ‹address hidden›`" in banned
