"""Instance state derived from events (no network)."""

from __future__ import annotations

from bot.events import State, parse_event
from bot.store.state import StateBook


def feed(*types: str, **data: str) -> StateBook:
    book = StateBook()
    for event_type in types:
        book.apply(parse_event({"EventType": event_type, "Data": {"InstanceName": "factorio", **data}}))
    return book


def state_after(*types: str) -> State:
    found = feed(*types).get("factorio")
    assert found is not None
    return found.state


def test_lifecycle_states() -> None:
    assert state_after("instance_started") is State.ONLINE
    assert state_after("instance_started", "instance_ready") is State.READY
    assert state_after("instance_started", "instance_crashed") is State.CRASHED
    assert state_after("instance_crashed", "instance_failed") is State.FAILED
    assert state_after("instance_ready", "instance_stop_started") is State.STOPPING
    assert state_after("instance_ready", "instance_stopped") is State.INSTALLED
    assert state_after("instance_ready", "instance_restart_started") is State.RESTARTING
    assert state_after("instance_restart_started", "instance_restart_finished") is State.STARTING
    assert state_after("instance_restart_finished", "instance_restarted") is State.ONLINE


def test_install_update_and_uninstall_states() -> None:
    assert state_after("instance_installation_started", "instance_download_started") is State.INSTALLING
    assert state_after("instance_download_started", "instance_download_failed") is State.FAILED
    assert state_after("instance_deployed", "instance_installed") is State.INSTALLED
    assert state_after("instance_installed", "instance_update_started") is State.UPDATING
    assert state_after("instance_update_started", "instance_updated") is State.INSTALLED
    assert state_after("instance_ready", "instance_version_updated") is State.READY
    assert state_after("instance_ready", "instance_uninstall_started") is State.UNINSTALLING
    assert state_after("instance_uninstall_finished", "instance_uninstalled") is State.UNINSTALLED


def test_events_that_change_nothing_keep_the_state() -> None:
    assert state_after("instance_ready", "instance_player_joined", "instance_backup_created") is State.READY


def test_version_blueprint_and_since_are_tracked() -> None:
    book = StateBook()
    book.apply(
        parse_event(
            {
                "EventType": "instance_installed",
                "Data": {"InstanceName": "f", "Blueprint": "factorio"},
                "Timestamp": "2026-01-01T00:00:00Z",
            }
        )
    )
    book.apply(
        parse_event(
            {
                "EventType": "instance_version_updated",
                "Data": {"InstanceName": "f", "OldVersion": "1", "NewVersion": "2"},
                "Timestamp": "2026-01-02T00:00:00Z",
            }
        )
    )
    state = book.get("F")
    assert state is not None
    assert (state.blueprint, state.version, state.state) == ("factorio", "2", State.INSTALLED)
    assert state.since is not None
    assert state.since.day == 1  # the version change did not change the state


def test_blueprint_events_have_no_instance_state() -> None:
    book = StateBook()
    assert book.apply(parse_event({"EventType": "blueprint_created", "Data": {"BlueprintName": "x"}})) is None
    assert len(book) == 0
