"""Renderers are pure: every event type becomes a readable embed within Discord's limits (no network)."""

from __future__ import annotations

import json
from typing import Any

import discord
import pytest

from bot.events import Event, Family, parse_event
from bot.render import render_event as render
from bot.render.palette import BLUE, GREEN, ORANGE, RED, event_colour
from tests.helpers import FIXTURES

SAMPLES: dict[str, dict[str, Any]] = json.loads((FIXTURES / "catalogue.json").read_text())
CATALOGUE = sorted(SAMPLES)


def sample_event(event_type: str, **envelope: Any) -> Event:
    data = {key: ("factorio" if value == "<name>" else value) for key, value in SAMPLES[event_type]["data"].items()}
    return parse_event({"EventType": event_type, "Data": data, "Timestamp": "2026-08-14T12:00:00Z", **envelope})


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{field.name}: {field.value}" for field in embed.fields]
    return "\n".join(parts)


def within_limits(embed: discord.Embed) -> bool:
    return (
        len(embed.title or "") <= 256
        and len(embed.description or "") <= 4096
        and len(embed.fields) <= 25
        and all(len(f.name or "") <= 256 and 0 < len(f.value or "") <= 1024 for f in embed.fields)
        and len(embed.footer.text or "") <= 2048
        and len(embed) <= 6000
    )


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_every_catalogue_type_has_title_colour_fields_and_timestamp(event_type: str) -> None:
    event = sample_event(event_type, Actor="discord:ada", Hostname="gamehost", KGSMVersion="2.4.0")
    embed = render(event)
    assert embed.title is not None
    assert "factorio" in embed.title
    assert event.kind.label in embed.title
    assert not embed.title[0].isalnum()  # starts with its emoji
    assert embed.colour == event_colour(event)
    assert embed.timestamp == event.timestamp
    assert embed.footer.text == "by discord:ada · on gamehost · KGSM 2.4.0"
    assert embed.description
    assert within_limits(embed)


def test_values_that_matter_are_readable() -> None:
    text = embed_text(render(sample_event("instance_version_updated")))
    assert "is now at version 1.1.110 (was 1.1.109)" in text
    text = embed_text(render(sample_event("instance_crashed")))
    assert "crashed with exit code 137; restart attempt 1." in text
    text = embed_text(render(sample_event("instance_ports_opened")))
    assert "34197/udp, 27015-27020/tcp" in text
    text = embed_text(render(sample_event("instance_player_kicked")))
    assert "Griefer" in text
    assert "`/kick Griefer`" in text
    assert "`max\\_players`" not in text  # keys shown as code are not escaped twice
    assert "`max_players`" in embed_text(render(sample_event("instance_config_changed")))
    assert "`/save`" in embed_text(render(sample_event("instance_input_sent")))
    assert "factorio-2026-08-14T03-00-00" in embed_text(render(sample_event("instance_backup_created")))
    pruned = embed_text(render(sample_event("instance_backups_pruned")))
    assert "pruned: 3 deleted, 7 kept." in pruned
    assert "from the factorio blueprint" in embed_text(render(sample_event("instance_installed")))
    assert "Version 2.0.7 is available for **factorio** (running 1.1.110)." in embed_text(
        render(sample_event("instance_update_available"))
    )
    assert "Overrides a system blueprint: yes" in embed_text(render(sample_event("blueprint_updated")))


def test_session_keys_and_player_addresses_stay_private() -> None:
    event = parse_event(
        {
            "EventType": "instance_player_joined",
            "Data": {"InstanceName": "v", "PlayerName": "Ada", "PlayerAddr": "203.0.113.7:2456", "SessionKey": "s-1"},
        }
    )
    text = embed_text(render(event))
    assert "Ada" in text
    assert "203.0.113.7" not in text
    assert "s-1" not in text


def test_colours_follow_the_grade() -> None:
    assert render(sample_event("instance_installed")).colour == GREEN
    assert render(sample_event("instance_download_started")).colour == BLUE
    assert render(sample_event("instance_crashed")).colour == ORANGE
    assert render(sample_event("instance_failed")).colour == RED


def test_an_unknown_type_shows_its_name_and_all_its_data() -> None:
    event = parse_event(
        {"EventType": "instance_teleported", "Data": {"InstanceName": "v", "Destination": "Moon", "Count": 3}}
    )
    assert event.family is Family.OTHER
    embed = render(event)
    text = embed_text(embed)
    assert "`instance_teleported`" in text
    assert "Destination: Moon" in text
    assert "Count: 3" in text
    assert "teleported" in (embed.title or "")


@pytest.mark.parametrize("name", ["@everyone", "<@123>", "@here", "<@&223456789012345678>", "**bold**"])
def test_event_text_cannot_ping_or_format(name: str) -> None:
    embed = render(parse_event({"EventType": "instance_started", "Data": {"InstanceName": name, "Note": name}}))
    for text in (embed.title or "", embed.description or "", *(f.value or "" for f in embed.fields)):
        assert "@everyone" not in text
        assert "@here" not in text
        assert "<@1" not in text
        assert "<@&" not in text
        assert "**bold**" not in text.replace("****", "")


def test_a_10000_character_value_stays_within_the_limits() -> None:
    event = parse_event({"EventType": "instance_started", "Data": {"InstanceName": "v", "Log": "x" * 10_000}})
    embed = render(event)
    assert within_limits(embed)
    (log_field,) = [f for f in embed.fields if f.name == "Log"]
    assert (log_field.value or "").endswith("…")


def test_many_long_values_stay_within_every_limit() -> None:
    data = {"InstanceName": "n" * 500, **{f"Key{n}": "v" * 2000 for n in range(40)}}
    event = parse_event({"EventType": "instance_teleported", "Data": data, "Actor": "a" * 3000})
    embed = render(event)
    assert within_limits(embed)
    assert embed.fields[-1].name == "More"


def test_blueprint_events_name_the_blueprint() -> None:
    embed = render(sample_event("blueprint_created"))
    assert embed.title == "📘 factorio — blueprint created"


def test_a_sentence_whose_values_older_kgsm_did_not_send_falls_back_to_plain_words() -> None:
    event = parse_event({"EventType": "instance_created", "Data": {"InstanceId": "valheim"}})
    embed = render(event)
    assert embed.description == "**valheim** was created."
    crashed = render(parse_event({"EventType": "instance_crashed", "Data": {"InstanceName": "v"}}))
    assert "unknown" not in (crashed.description or "")
