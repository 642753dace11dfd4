"""Routing: mapped, several channels, default, muted, unmapped without default (no network)."""

from __future__ import annotations

import logging

import pytest

from bot.config import load_settings
from bot.delivery.routing import ChannelUse, Router
from bot.events import parse_event

A, B, C, D = 111111111111111111, 222222222222222222, 333333333333333333, 444444444444444444


def router(**env: str) -> Router:
    return Router(load_settings(env, env_file=None).routing)


def event(event_type: str = "instance_started", instance: str | None = "factorio"):  # type: ignore[no-untyped-def]
    data = {"InstanceName": instance} if instance else {"BlueprintName": "factorio"}
    return parse_event({"EventType": event_type, "Data": data})


def test_a_mapped_instance_goes_to_its_channel() -> None:
    assert router(KGSM_CHANNELS=f"factorio={A}", KGSM_DEFAULT_CHANNEL_ID=str(D)).channels_for(event()) == [A]


def test_an_instance_listed_twice_goes_to_both_channels() -> None:
    assert router(KGSM_CHANNELS=f"factorio={A},valheim={B},factorio={C}").channels_for(event()) == [A, C]


def test_instance_names_match_without_regard_to_case() -> None:
    assert router(KGSM_CHANNELS=f"Factorio={A}").channels_for(event(instance="factorio")) == [A]


def test_unmapped_instances_and_blueprints_go_to_the_default() -> None:
    routes = router(KGSM_CHANNELS=f"valheim={B}", KGSM_DEFAULT_CHANNEL_ID=str(D))
    assert routes.channels_for(event()) == [D]
    assert routes.channels_for(event("blueprint_created", instance=None)) == [D]


@pytest.mark.parametrize("muted", ["instance_started", "lifecycle", "instance-started", "LIFECYCLE"])
def test_muted_types_and_families_are_not_posted(muted: str) -> None:
    routes = router(KGSM_CHANNELS=f"factorio={A}", KGSM_MUTED_EVENTS=f"{muted},instance_player_joined")
    assert routes.channels_for(event()) == []
    assert routes.channels_for(event("instance_installed")) == [A]


def test_unmapped_without_default_is_logged_once_per_instance(caplog: pytest.LogCaptureFixture) -> None:
    routes = router(KGSM_CHANNELS=f"valheim={B}")
    with caplog.at_level(logging.WARNING, logger="bot.delivery.routing"):
        for _ in range(3):
            assert routes.channels_for(event()) == []
        assert routes.channels_for(event(instance="minecraft")) == []
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 2
    assert "factorio" in warnings[0]
    assert "minecraft" in warnings[1]


# ------------------------------------------------------------------------------------------ uses (/notify test)


def test_uses_lists_each_channel_once_with_what_it_is_for() -> None:
    routes = router(
        KGSM_DEFAULT_CHANNEL_ID=str(D),
        KGSM_CHANNELS=f"factorio={A},valheim={A},rust={B}",
        KGSM_STATUS_CHANNEL_ID=str(B),
        KGSM_DIGEST_CHANNEL_ID=str(D),
    )
    routes.bind("terraria", C)
    routes.unbind("rust")
    assert routes.uses() == [
        ChannelUse(D, default=True, digest=True),
        ChannelUse(A, servers=("factorio", "valheim")),
        ChannelUse(C, servers=("terraria",)),
        ChannelUse(B, status_board=True),
    ]


def test_uses_without_a_default_has_only_the_servers_channels() -> None:
    assert router(KGSM_CHANNELS=f"factorio={A}").uses() == [ChannelUse(A, servers=("factorio",))]
    assert router().uses() == []


def test_uses_names_the_alert_roles_mentioned_in_each_channel() -> None:
    general, own, homeless = 901 * 10**15, 902 * 10**15, 903 * 10**15
    routes = router(
        KGSM_DEFAULT_CHANNEL_ID=str(D),
        KGSM_CHANNELS=f"factorio={A},gamehost:valheim={B}",
        KGSM_ALERT_ROLE_ID=f"{general},factorio={own},rust={homeless}",
    )
    assert routes.uses() == [
        ChannelUse(D, default=True, alert_roles=(general, homeless)),  # rust has no channel: its alerts go here
        ChannelUse(A, servers=("factorio",), alert_roles=(own,)),
        ChannelUse(B, servers=("gamehost:valheim",), alert_roles=(general,)),
    ]
