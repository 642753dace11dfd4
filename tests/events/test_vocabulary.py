"""The dotted era (KGSM after August 2026), pure: every payload of tests/fixtures/dotted-2026 parsed, given
its state and rendered, as the issue asks (kgsm-events.md §7). The same payloads through the real bot are in
test_dotted_era_e2e.py, the producers' journals in test_dotted_era_journals.py.
"""

from __future__ import annotations

import json
from typing import Any

import discord
import pytest

from bot.events import TABLE, Family, State, kind_of, parse_event
from bot.render import render_event
from bot.store.state import StateBook
from tests.dotted import (
    CATALOGUE,
    ORANGE,
    PAYLOADS,
    RED,
    expected_subject,
    fragments_that_matter,
    legacy_of,
    readable,
)

INSTANCE_SUBJECT = "InstanceName"


def text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{field.name}: {field.value}" for field in embed.fields]
    return readable("\n".join(parts))


def within_limits(embed: discord.Embed) -> bool:
    return (
        0 < len(embed.title or "") <= 256
        and len(embed.description or "") <= 4096
        and len(embed.fields) <= 25
        and all(0 < len(f.name or "") <= 256 and 0 < len(f.value or "") <= 1024 for f in embed.fields)
        and len(embed.footer.text or "") <= 2048
        and len(embed) <= 6000
    )


def test_there_is_one_payload_for_every_dotted_name() -> None:
    assert len(CATALOGUE) == 105
    assert set(PAYLOADS) == set(CATALOGUE)
    assert all(payload["EventType"] == name for name, payload in PAYLOADS.items())
    assert set(CATALOGUE) <= set(TABLE)  # the vocabulary knows every name KGSM's table maps to


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_dotted_payload_is_parsed_and_rendered_with_all_it_says(name: str) -> None:
    payload = PAYLOADS[name]
    event = parse_event(payload)
    assert event.type == name
    assert event.family.value == CATALOGUE[name]["family"]
    assert event.id == payload["Id"]

    embed = render_event(event)
    title = readable(embed.title or "")
    assert title.startswith(event.kind.emoji)
    assert event.kind.label in title
    assert expected_subject(payload) in title
    text = text_of(embed)
    for fragment in fragments_that_matter(payload["Data"]):
        assert fragment in text, f"{fragment!r} missing from the {name} embed"
    for key in ("SessionKey", "PlayerAddr", "Sid", "UserAgent", "PeerNode"):
        value = payload["Data"].get(key)
        if isinstance(value, str) and value not in fragments_that_matter(payload["Data"]):
            assert value not in text, f"private {key} shown"
    assert "unknown" not in text.lower()
    assert within_limits(embed)

    severity = payload.get("Severity")
    colour = embed.colour.value if embed.colour else None
    if severity == "danger":
        assert colour == RED
    elif severity == "warn":
        assert colour == ORANGE
    elif severity == "info" and payload.get("Outcome") != "failure":
        assert colour not in (RED, ORANGE)


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_the_legacy_and_cli_spellings_are_the_same_event_type(name: str) -> None:
    legacy = legacy_of(PAYLOADS[name])
    cli = {**legacy, "EventType": legacy["EventType"].replace("_", "-")}
    assert parse_event(legacy).type == parse_event(cli).type == name
    assert kind_of(name).family.value == CATALOGUE[name]["family"]


def valheim(name: str) -> dict[str, Any]:
    payload = PAYLOADS[name]
    assert payload["Data"]["InstanceName"] == "valheim"
    return payload


def state_after(*names: str) -> State:
    book = StateBook()
    for name in names:
        book.apply(parse_event(valheim(name)))
    state = book.get("valheim")
    assert state is not None
    return state.state


@pytest.mark.parametrize(
    ("before", "name", "expected"),
    [
        ((), "server.started", State.ONLINE),
        (("server.started",), "server.ready", State.READY),
        (("server.ready",), "server.crashed", State.CRASHED),
        (("server.started", "server.crashed"), "server.crash.exhausted", State.FAILED),
        (("server.ready",), "server.stopped", State.INSTALLED),
        (("server.install.created", "server.install.started"), "server.installed", State.INSTALLED),
        (("server.installed", "server.started"), "server.uninstalled", State.UNINSTALLED),
        (("server.installed",), "server.install.finished", State.INSTALLED),  # a bracket changes nothing
    ],
)
def test_dotted_types_move_a_server_to_its_state(before: tuple[str, ...], name: str, expected: State) -> None:
    assert state_after(*before, name) is expected
    assert State.INSTALLED.value == "installed/offline"


def test_a_renamed_server_is_shown_by_its_new_name_in_later_titles() -> None:
    book = StateBook()
    book.apply(parse_event(valheim("server.started")))
    renamed = parse_event(valheim("server.renamed"))
    book.apply(renamed)
    crashed = parse_event(valheim("server.crashed"))
    book.apply(crashed)
    title = readable(render_event(crashed, book.title_of).title or "")
    assert title.startswith("💥 Weekend Valheim — crashed")
    # The rename itself says what it was called before.
    assert "**valheim** is now called **Weekend Valheim**" in (render_event(renamed, book.title_of).description or "")
    state = book.get("Weekend Valheim")
    assert state is not None
    assert (state.name, state.title) == ("valheim", "Weekend Valheim")


NOT_SERVERS = sorted(name for name, entry in CATALOGUE.items() if entry["subject_key"] != INSTANCE_SUBJECT)


def test_events_about_other_things_than_servers_never_create_one() -> None:
    assert {name.split(".")[0] for name in NOT_SERVERS} >= {"host", "leaf", "auth", "blueprint", "library", "command"}
    assert "server.moved" not in NOT_SERVERS
    book = StateBook()
    for name in NOT_SERVERS:
        book.apply(parse_event(PAYLOADS[name]))
    # A host alert about one server (Scope "server") goes to its channel but says nothing of its state.
    about_one = json.loads(json.dumps(PAYLOADS["host.threshold.breached"]))
    about_one["Data"].update(Scope="server", Ref="valheim", ServerId="valheim")
    event = parse_event(about_one)
    assert event.instance == "valheim"
    book.apply(event)
    for test in ("socket_test", "webhook_test"):
        book.apply(parse_event({"EventType": test, "Data": {"InstanceName": "test-instance", "Message": "hi"}}))
    book.apply(parse_event({"EventType": "test_event", "Data": {"Test": "Socket transport test"}}))
    assert book.all() == []


SUMMARY = "valheim teleported to the **moon** @everyone"


def invented(**envelope: Any) -> dict[str, Any]:
    return {
        "V": 2,
        "Id": "01a09800-0000-7000-8000-000000000001",
        "EventType": "server.teleported",
        "Data": {"InstanceName": "valheim", "Destination": "the moon", "DistanceKm": 384400},
        "Timestamp": "2026-09-12T22:00:00.000Z",
        "Actor": "system:watchdog",
        "Hostname": "gamehost",
        "ProducerVersion": "1.47.0",
        **envelope,
    }


def test_an_invented_dotted_type_is_told_by_its_summary_in_red_with_all_its_data() -> None:
    event = parse_event(invented(Severity="danger", Outcome="failure", Summary=SUMMARY))
    assert (event.type, event.family, event.instance) == ("server.teleported", Family.LIFECYCLE, "valheim")
    assert not event.kind.known
    embed = render_event(event)
    assert embed.colour is not None
    assert embed.colour.value == RED
    description = embed.description or ""
    assert readable(description) == SUMMARY
    assert "**moon**" not in description  # escaped: shown as typed, not bold …
    assert "@everyone" not in description  # … and pinging nobody
    title = readable(embed.title or "")
    assert "valheim" in title
    assert "teleported" in title
    text = text_of(embed)
    assert "the moon" in text
    assert "384400" in text
    assert "server.teleported" in text


def test_an_invented_dotted_type_without_summary_still_names_its_type_and_data() -> None:
    embed = render_event(parse_event(invented()))
    text = text_of(embed)
    assert "server.teleported" in (embed.description or "")
    assert "the moon" in text
    assert "384400" in text
    assert "unknown" not in text.lower()


def test_values_kgsm_sends_as_unknown_or_empty_never_reach_the_text() -> None:
    gave_up = parse_event(
        {
            "EventType": "instance_failed",
            "Data": {"InstanceName": "valheim", "ExitCode": "unknown", "Restarts": "unknown"},
            "Timestamp": "2026-09-12T10:00:00Z",
            "Hostname": "gamehost",
            "KGSMVersion": "unknown",
        }
    )
    assert gave_up.type == "server.crash.exhausted"
    embed = render_event(gave_up)
    assert "**valheim** crashed and the supervisor gave up; it stays down" in (embed.description or "")
    assert embed.footer.text == "on gamehost"
    assert "unknown" not in text_of(embed).lower()

    empty = parse_event(
        {
            "V": 2,
            "EventType": "server.crashed",
            "Data": {"InstanceName": "valheim", "ExitCode": "", "Restarts": " "},
            "Actor": "",
            "Hostname": "unknown",
            "ProducerVersion": "unknown",
        }
    )
    embed = render_event(empty)
    assert "KGSM did not report an exit code" in (embed.description or "")
    assert embed.footer.text is None
    text = text_of(embed).lower()
    assert "unknown" not in text
    assert "restart attempt" not in text
