"""The relay's POST to the central bot over real HTTP (a small aiohttp server answering as told): signed as
KGSM signs, `Sent` the time of each attempt, retried until a 2xx, and a refusal for good told apart from a
setting to fix."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.config import RelaySettings
from bot.relay.central import Central
from tests.helpers import free_port

SECRET = "correct-horse-battery-staple-42"
LINE = b'{"V":2,"Id":"01a09435-95e0-7ed9-90c6-434a2a5e88be","EventType":"server.started","Data":{}}'


@dataclass
class Script:
    """What the fake central bot answers, in order (the last answer repeats), and what it received."""

    answers: list[tuple[int, dict[str, Any], dict[str, str]]]
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        status, body, headers = self.answers[min(len(self.received), len(self.answers)) - 1]
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Script, Central]]:
    script = Script([])
    app = web.Application()
    app.router.add_post("/kgsm/webhook", script.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    settings = RelaySettings(url=f"http://127.0.0.1:{port}/kgsm/webhook", secret=SECRET, host="eu1", retry_ceiling=0.2)
    async with Central(settings) as central:
        yield script, central
    await runner.cleanup()


async def test_each_attempt_is_signed_as_kgsm_signs_with_its_own_send_time(served: tuple[Script, Central]) -> None:
    script, central = served
    script.answers = [(503, {"error": "not_stored"}, {"Retry-After": "0"}), (200, {"status": "stored"}, {})]
    delivery = await central.deliver(LINE, producer="kgsm-watchdog", replay=False)
    assert (delivery.acknowledged, delivery.duplicate) == (True, False)
    assert len(script.received) == 2
    for retry, (headers, body) in enumerate(script.received):
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-KGSM-Signature"] == f"sha256={digest}"
        assert headers["X-KGSM-Retry-Count"] == str(retry)
        assert headers["Content-Type"] == "application/json"
        document = json.loads(body)
        assert document["Relay"] == {
            "Host": "eu1",
            "Producer": "kgsm-watchdog",
            "Sent": int(headers["X-KGSM-Timestamp"]),
        }
        assert json.dumps(document["Event"], separators=(",", ":")).encode() == LINE  # the line itself
    assert central.problem is None
    assert central.last_ack is not None


async def test_a_setting_to_fix_is_retried_and_named_and_a_refusal_for_good_is_not(
    served: tuple[Script, Central],
) -> None:
    script, central = served
    script.answers = [
        (400, {"error": "stale", "detail": "the relay's Sent is 900 s behind"}, {}),
        (401, {"error": "bad_signature"}, {}),
        (200, {"status": "duplicate"}, {}),
    ]
    delivery = await central.deliver(LINE, producer=None, replay=False)
    assert (delivery.acknowledged, delivery.duplicate, len(script.received)) == (True, True, 3)

    script.received.clear()
    script.answers = [(413, {"error": "too_large", "detail": "body over 4096 bytes"}, {})]
    delivery = await central.deliver(LINE, producer=None, replay=True)
    assert delivery.acknowledged is False
    assert delivery.detail == "413 too_large: body over 4096 bytes"
    assert len(script.received) == 1  # never sent again: the journal goes on
    assert json.loads(script.received[0][1])["Relay"]["Replay"] is True
