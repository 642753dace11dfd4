"""KGSM's HTTP webhook (KGSM mid 2025 on): `POST /kgsm/webhook`, how one bot serves several game hosts.

KGSM POSTs the event's JSON with `X-KGSM-Timestamp` (Unix seconds) and, with a secret configured,
`X-KGSM-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. The endpoint exists only with
`KGSM_WEBHOOK_SECRET` set: an unsigned endpoint would let anyone post to the Discord channels. A request
is answered 2xx only once its event is stored, so KGSM's retries cover a bot that was down; a retried event
is recognised by its id and posted once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from aiohttp import web

from bot.events import RefusalReason
from bot.intake import Intake

log = logging.getLogger(__name__)

PATH = "/kgsm/webhook"
MAX_CLOCK_SKEW = 300.0
SOURCE = "webhook"


class WebhookSource:
    def __init__(self, intake: Intake, secret: str, max_body_bytes: int) -> None:
        self._intake = intake
        self._secret = secret.encode()
        self._max_body = max_body_bytes

    def _refuse(self, status: int, reason: RefusalReason, detail: str, peer: str) -> web.Response:
        self._intake.refuse(reason, detail, source=SOURCE, peer=peer)
        return web.json_response({"error": reason.value, "detail": detail}, status=status)

    async def handle(self, request: web.Request) -> web.Response:
        peer = request.remote or "unknown"
        if request.content_length is not None and request.content_length > self._max_body:
            return self._refuse(413, RefusalReason.TOO_LARGE, f"body over {self._max_body} bytes", peer)
        body = await request.content.read(self._max_body + 1)
        if len(body) > self._max_body:
            return self._refuse(413, RefusalReason.TOO_LARGE, f"body over {self._max_body} bytes", peer)

        given = request.headers.get("X-KGSM-Signature", "")
        expected = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
            return self._refuse(401, RefusalReason.BAD_SIGNATURE, "missing or wrong X-KGSM-Signature", peer)

        raw_time = request.headers.get("X-KGSM-Timestamp", "")
        try:
            skew = abs(time.time() - float(raw_time))
        except ValueError:
            return self._refuse(400, RefusalReason.STALE, "missing or unreadable X-KGSM-Timestamp", peer)
        if skew > MAX_CLOCK_SKEW:
            return self._refuse(400, RefusalReason.STALE, f"X-KGSM-Timestamp is {skew:.0f} s off", peer)

        stored = await self._intake.take(body, source=SOURCE, peer=peer)
        if stored is None:
            return web.json_response({"error": "refused", "detail": "not a KGSM event (see the bot's log)"}, status=400)
        is_new = await stored
        return web.json_response({"status": "stored" if is_new else "duplicate"}, status=200)
