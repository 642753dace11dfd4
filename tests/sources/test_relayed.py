"""The relay's envelope on the central bot: a backlog older than the replay window gets through, an old body
does not (its signed `Sent` is what the window checks), and the event inside is recognised across attempts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from bot.events import EventRefused, RefusalReason, parse_event
from bot.sources.journal import REPLAY_SOURCE
from bot.sources.relayed import Relayed, decode_body, envelope
from tests.conftest import DEFAULT_CHANNEL, StartBot
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import free_port
from tests.sources.test_webhook import SECRET, kgsm_post

OLD = {
    "V": 1,
    "EventType": "instance_started",
    "Data": {"InstanceName": "valheim"},
    "Timestamp": "2026-09-12T06:02:14.880Z",  # months ago: outside any replay window
    "Hostname": "gamehost",
    "ProducerVersion": "3.16.0",
}  # no Id: recognised by its content


def line(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def relayed(sent: float | None = None, **changes: Any) -> Relayed:
    fields: dict[str, Any] = {"host": "eu1", "producer": "kgsm", "sent": int(sent or time.time()), **changes}
    return Relayed(**fields)


def test_the_event_inside_keeps_its_own_time_and_id_and_takes_the_relays_host() -> None:
    plain = parse_event(OLD)
    first, head = decode_body(envelope(line(OLD), relayed(1_000)))
    again, _ = decode_body(envelope(line(OLD) + b"\n", relayed(2_000)))
    assert head == relayed(1_000)
    assert first.id == again.id == plain.id  # the envelope is not part of the event: attempts are one event
    assert first.timestamp == plain.timestamp
    assert (first.host, first.producer, first.source) == ("eu1", "kgsm", "relay")
    replayed, _ = decode_body(envelope(line(OLD), relayed(replay=True)))
    assert replayed.source == REPLAY_SOURCE  # history imported on the relay's first start: stored, not posted


def test_a_kgsm_body_is_no_envelope_even_with_a_relay_key() -> None:
    event, head = decode_body(line({**OLD, "Relay": {"Host": "elsewhere"}}))
    assert head is None
    assert (event.host, event.source) == ("gamehost", "webhook")


@pytest.mark.parametrize(
    "head",
    [
        "eu1",
        {"Producer": "kgsm", "Sent": 1},
        {"Host": "eu 1", "Sent": 1},
        {"Host": "-eu1", "Sent": 1},
        {"Host": "eu1\ud800", "Sent": 1},
        {"Host": "eu1", "Producer": "kgsm/../x", "Sent": 1},
        {"Host": "eu1", "Sent": "1"},
        {"Host": "eu1", "Sent": True},
        {"Host": "eu1", "Sent": 1.5},
        {"Host": "eu1", "Sent": -1},
        {"Host": "eu1", "Sent": 1, "Replay": "yes"},
    ],
)
def test_an_envelope_that_is_not_the_relays_is_refused(head: Any) -> None:
    body = json.dumps({"Relay": head, "Event": OLD}).encode()
    with pytest.raises(EventRefused) as refused:
        decode_body(body)
    assert refused.value.reason is RefusalReason.BAD_RELAY


def test_an_envelope_without_an_event_inside_is_refused_as_one() -> None:
    with pytest.raises(EventRefused) as refused:
        decode_body(json.dumps({"Relay": {"Host": "eu1", "Sent": 1}, "Event": [1]}).encode())
    assert refused.value.reason is RefusalReason.NOT_OBJECT


async def test_an_old_event_gets_through_in_a_fresh_envelope_and_an_old_body_does_not(
    fake: FakeDiscord, start_bot: StartBot, short_dir: Path
) -> None:
    port = free_port()
    live = await start_bot(
        BOT_HTTP_PORT=str(port), KGSM_WEBHOOK_SECRET=SECRET, KGSM_DEFAULT_CHANNEL_ID=str(DEFAULT_CHANNEL)
    )
    assert "400" in await kgsm_post(port, line(OLD), short_dir)  # KGSM's own webhook body, months old: stale

    fresh = envelope(line(OLD), relayed())
    answer = await kgsm_post(port, fresh, short_dir)
    assert "200 OK" in answer
    assert '"stored"' in answer
    assert '"duplicate"' in await kgsm_post(port, fresh, short_dir)  # the same body again, within the window
    later = envelope(line(OLD), relayed(time.time() + 1))  # the relay's next attempt: a new body, one event
    assert '"duplicate"' in await kgsm_post(port, later, short_dir)

    captured = envelope(line(OLD), relayed(time.time() - 600))  # a body recorded ten minutes ago, sent again
    assert "400" in await kgsm_post(port, captured, short_dir)  # … under a fresh X-KGSM-Timestamp: stale
    forged = fresh.replace(b'"Sent":', b'"Sent":1')  # Sent made fresh without the secret
    signature = hmac.new(SECRET.encode(), fresh, hashlib.sha256).hexdigest()
    assert "401" in await kgsm_post(port, forged, short_dir, signature=signature)

    (message,) = await fake.wait_for_messages(DEFAULT_CHANNEL)
    assert "valheim" in message["embeds"][0]["title"]
    assert "on eu1" in message["embeds"][0]["footer"]["text"]
    assert await live.bot.store.count_events() == 1
    assert live.bot.stats.refused == {"stale": 2, "bad_signature": 1}
