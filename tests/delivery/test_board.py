"""The status board on its own: the lanes' direct sends through discord.py to the fake Discord, its message id
and nonce in a real SQLite file."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.delivery.board import MESSAGE_FACT, NONCE_FACT, StatusBoard
from bot.events import parse_event
from bot.render import render_overview
from bot.store.state import StateBook
from tests.conftest import CHANNEL_C, FORBIDDEN_CHANNEL
from tests.delivery.conftest import Delivery, ready
from tests.fakes.discord_server import FakeDiscord


def started(instance: str) -> StateBook:
    states = StateBook()
    states.apply(parse_event({"EventType": "instance_started", "Data": {"InstanceName": instance}}))
    return states


@pytest.fixture(autouse=True)
def often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StatusBoard, "interval", 0.05)


async def run_board(delivery: Delivery, channel: int, states: StateBook) -> StatusBoard:
    board = StatusBoard(channel, delivery.deliverer, delivery.store, states, render_overview, ready)
    delivery.supervisor.run("status-board", board.run)
    return board


async def test_the_board_is_posted_once_then_edited_and_posted_again_once_when_deleted(
    fake: FakeDiscord, delivery: Delivery
) -> None:
    states = started("factorio")
    board = await run_board(delivery, CHANNEL_C, states)
    await fake.wait_for(lambda: board.writes >= 1, timeout=5)
    (message,) = fake.messages(CHANNEL_C)
    assert "1 of 1 up" in message["embeds"][0]["title"]
    first_nonce = fake.posts(CHANNEL_C)[0].json["nonce"]
    assert await delivery.store.get_fact(NONCE_FACT) == first_nonce, "saved before the post"
    assert await delivery.store.get_fact(MESSAGE_FACT) == message["id"]

    states.apply(parse_event({"EventType": "instance_crashed", "Data": {"InstanceName": "factorio"}}))
    board.changed()
    await fake.wait_for(lambda: "0 of 1 up" in str(fake.messages(CHANNEL_C)), timeout=5)
    assert len(fake.posts(CHANNEL_C)) == 1

    await fake.delete_message(CHANNEL_C, int(message["id"]))
    board.changed()
    await fake.wait_for(lambda: len(fake.messages(CHANNEL_C)) == 1, timeout=5)
    await asyncio.sleep(0.3)
    assert len(fake.posts(CHANNEL_C)) == 2
    (again,) = fake.messages(CHANNEL_C)
    assert fake.posts(CHANNEL_C)[1].json["nonce"] != first_nonce, "a new nonce, or Discord hands back the old one"
    await fake.wait_for(lambda: board.writes >= 3, timeout=5)
    assert await delivery.store.get_fact(MESSAGE_FACT) == again["id"]


async def test_a_board_channel_closed_to_the_bot_is_logged_and_the_board_goes_on(
    fake: FakeDiscord, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.delivery.board"):
        board = await run_board(delivery, FORBIDDEN_CHANNEL, started("factorio"))
        await fake.wait_for(lambda: caplog.records, timeout=5)
        board.changed()
        await fake.wait_for(lambda: len(fake.posts(FORBIDDEN_CHANNEL)) >= 2, timeout=5)
    assert f"cannot update the status board in channel {FORBIDDEN_CHANNEL}" in caplog.records[0].getMessage()
    assert delivery.supervisor.restarts == {}
    assert await delivery.store.get_fact(MESSAGE_FACT) is None
