"""The lanes on their own: discord.py posting to the fake Discord, the outbox on a real SQLite file, and what
happens when Discord refuses a message, a live message was deleted, or an edit fails."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.delivery.messages import RunMessage, StandaloneItem
from bot.events.runs import RunStatus
from tests.conftest import CHANNEL_A, CHANNEL_B, DEFAULT_CHANNEL
from tests.delivery.conftest import Delivery, backup_run
from tests.fakes.discord_server import FakeDiscord, fast_discord_retries

STEPS = ("backup.started", "backup.created", "backup.finished")


def embed(title: str) -> dict[str, Any]:
    return {"title": title, "description": f"{title} happened", "color": 0x3498DB}


async def rows(delivery: Delivery, query: str, *params: Any) -> list[tuple[Any, ...]]:
    async with delivery.store.session() as db, db.execute(query, params) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def queue(delivery: Delivery, channel_id: int, *embeds: dict[str, Any]) -> list[int]:
    """Record the embeds in the outbox, then hand them to the channel's lane together, as the notifier does."""
    row_ids = []
    for one in embeds:
        row_id = await delivery.outbox.add_standalone(None, channel_id, one)
        assert row_id is not None
        row_ids.append(row_id)
    for row_id, one in zip(row_ids, embeds, strict=True):
        delivery.deliverer.queue_standalone(channel_id, StandaloneItem(row_id, one))
    return row_ids


async def drained(delivery: Delivery) -> None:
    await asyncio.wait_for(delivery.deliverer.drain(), 20)


async def test_standalone_embeds_are_posted_and_marked_done_with_their_message(
    fake: FakeDiscord, delivery: Delivery
) -> None:
    await queue(delivery, CHANNEL_A, embed("one"), embed("two"))
    await drained(delivery)
    (message,) = fake.messages(CHANNEL_A)  # waiting together: one message
    assert [e["title"] for e in message["embeds"]] == ["one", "two"]
    (post,) = fake.posts(CHANNEL_A)
    assert post.json["nonce"].startswith("kgsm-b")
    assert post.json["enforce_nonce"] is True
    assert post.json["allowed_mentions"] == {"parse": []}
    assert await rows(delivery, "SELECT status, message_id FROM deliveries") == [("done", int(message["id"]))] * 2
    assert await delivery.outbox.depth() == 0


async def test_a_message_discord_refuses_fails_for_good_is_reported_once_and_the_lane_goes_on(
    fake: FakeDiscord, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    """An embed Discord will never take (a title over 256 characters: 400, 50035 Invalid Form Body)."""
    with caplog.at_level(logging.ERROR, logger="bot.delivery.lanes"):
        for title in ("x" * 300, "y" * 300, "fine"):
            await queue(delivery, CHANNEL_A, embed(title))
            await drained(delivery)
    assert [e["title"] for m in fake.messages(CHANNEL_A) for e in m["embeds"]] == ["fine"]
    assert [post.status for post in fake.posts(CHANNEL_A)] == [400, 400, 200], "a refusal is not tried again"
    statuses = await rows(delivery, "SELECT status, error FROM deliveries ORDER BY id")
    assert [status for status, _ in statuses] == ["failed", "failed", "done"]
    assert statuses[0][1].startswith("400")
    assert "Invalid Form Body" in statuses[0][1]
    assert sum("Discord refused a message" in r.getMessage() for r in caplog.records) == 1
    assert delivery.deliverer.stats.failed == 2
    assert delivery.supervisor.restarts == {}


async def test_a_refused_embed_does_not_take_the_embeds_batched_with_it_down(
    fake: FakeDiscord, delivery: Delivery
) -> None:
    await queue(delivery, CHANNEL_A, embed("before"), embed("x" * 300), embed("after"))
    await drained(delivery)
    titles = [e["title"] for m in fake.messages(CHANNEL_A) for e in m["embeds"]]
    assert titles == ["before", "after"]
    statuses = await rows(delivery, "SELECT status FROM deliveries ORDER BY id")
    assert statuses == [("done",), ("failed",), ("done",)]


async def test_a_refusal_in_one_channel_holds_up_no_other(fake: FakeDiscord, delivery: Delivery) -> None:
    fake.fail_posts(400, channel_id=CHANNEL_A)
    await queue(delivery, CHANNEL_A, embed("refused"))
    await queue(delivery, CHANNEL_B, embed("elsewhere"))
    await drained(delivery)
    assert [m["embeds"][0]["title"] for m in fake.messages(CHANNEL_B)] == ["elsewhere"]
    assert fake.messages(CHANNEL_A) == []


async def _live_run(fake: FakeDiscord, delivery: Delivery, channel_id: int = DEFAULT_CHANNEL) -> RunMessage:
    """A backup's live message, posted with its first step and recorded in the outbox."""
    run = backup_run(delivery.outbox.new_run_id(), STEPS[0])
    await delivery.outbox.record([], [("e0", channel_id, run.id, run.version)], [run])
    message = RunMessage(run, channel_id)
    delivery.deliverer.touch_run(message)
    await drained(delivery)
    assert message.message_id is not None
    return message


async def _next_step(delivery: Delivery, message: RunMessage, step: str) -> None:
    """The run takes one more step; it is recorded, then its message is brought up to date."""
    run = message.run
    run.steps.append(step)
    run.version += 1
    if step == STEPS[-1]:
        run.status = RunStatus.DONE
    await delivery.outbox.record([], [(f"e{run.version}", message.channel_id, run.id, run.version)], [run])
    delivery.deliverer.touch_run(message)


async def test_a_run_is_one_message_edited_to_its_last_state(fake: FakeDiscord, delivery: Delivery) -> None:
    message = await _live_run(fake, delivery)
    for step in STEPS[1:]:
        await _next_step(delivery, message, step)
        await drained(delivery)
    (shown,) = fake.messages(DEFAULT_CHANNEL)
    assert shown["embeds"][0]["title"] == "✅ valheim backed up"
    assert len(fake.patches(DEFAULT_CHANNEL)) == 2
    assert await rows(delivery, "SELECT DISTINCT status, message_id FROM deliveries") == [("done", int(shown["id"]))]


async def test_a_deleted_live_message_is_posted_again_and_the_run_goes_on_there(
    fake: FakeDiscord, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    message = await _live_run(fake, delivery)
    first_id = message.message_id
    assert first_id is not None
    await fake.delete_message(DEFAULT_CHANNEL, first_id)  # a moderator removed it

    with caplog.at_level(logging.INFO, logger="bot.delivery.lanes"):
        await _next_step(delivery, message, STEPS[1])
        await drained(delivery)
    edit = fake.patches(DEFAULT_CHANNEL)[0]
    assert edit.status == 404
    assert isinstance(edit.response, dict)
    assert edit.response["code"] == 10008
    (again,) = fake.messages(DEFAULT_CHANNEL)
    assert int(again["id"]) != first_id
    assert "✅ backup created" in again["embeds"][0]["description"], "posted again in its newest state"
    assert fake.posts(DEFAULT_CHANNEL)[-1].json["nonce"].endswith("n1"), "a new nonce: the first one is spent"
    assert any("was deleted; posting it again" in r.getMessage() for r in caplog.records)

    await _next_step(delivery, message, STEPS[2])  # the run goes on in the new message
    await drained(delivery)
    (final,) = fake.messages(DEFAULT_CHANNEL)
    assert final["id"] == again["id"]
    assert final["embeds"][0]["title"] == "✅ valheim backed up"
    assert fake.patches(DEFAULT_CHANNEL)[-1].path.endswith(f"/messages/{again['id']}")
    assert await rows(delivery, "SELECT message_id, written_version FROM run_messages") == [(int(again["id"]), 3)]
    assert await rows(delivery, "SELECT DISTINCT status FROM deliveries") == [("done",)]


@pytest.mark.parametrize("status", [500, 503])
async def test_a_failed_edit_is_retried_until_discord_takes_it_and_nothing_is_lost(
    fake: FakeDiscord, delivery: Delivery, status: int
) -> None:
    message = await _live_run(fake, delivery)
    fake.fail_patches(status, count=7)  # more than discord.py's own five tries
    with fast_discord_retries():
        await _next_step(delivery, message, STEPS[1])
        await _next_step(delivery, message, STEPS[2])
        await drained(delivery)
    patches = fake.patches(DEFAULT_CHANNEL)
    assert [p.status for p in patches].count(status) == 7
    assert patches[-1].status == 200
    (shown,) = fake.messages(DEFAULT_CHANNEL)
    assert shown["embeds"][0]["title"] == "✅ valheim backed up"
    assert len(fake.posts(DEFAULT_CHANNEL)) == 1, "an edit that failed is never turned into a second message"
    assert await rows(delivery, "SELECT DISTINCT status FROM deliveries") == [("done",)]
    assert delivery.deliverer.stats.retries >= 1


async def test_a_channel_that_is_gone_fails_its_deliveries_and_says_so_in_the_default_channel(
    fake: FakeDiscord, delivery: Delivery
) -> None:
    fake.not_found_channels.add(CHANNEL_A)
    await queue(delivery, CHANNEL_A, embed("lost"))
    await drained(delivery)
    await asyncio.sleep(0)  # the notice is queued by the lane that failed
    await drained(delivery)
    (notice,) = fake.messages(DEFAULT_CHANNEL)
    assert f"<#{CHANNEL_A}>" in notice["embeds"][0]["description"]
    assert CHANNEL_A in delivery.deliverer.stats.unavailable_channels
    statuses = await rows(delivery, "SELECT channel_id, status FROM deliveries ORDER BY id")
    assert statuses == [(CHANNEL_A, "failed"), (DEFAULT_CHANNEL, "done")]
