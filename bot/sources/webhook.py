"""KGSM's HTTP webhook (KGSM mid 2025 on): `POST /kgsm/webhook`, how one bot serves several game hosts.

KGSM POSTs the event's JSON with `X-KGSM-Timestamp` (Unix seconds) and, with a secret configured,
`X-KGSM-Signature: sha256=<HMAC-SHA256 of the raw body>`: base64 from KGSM 2.2.0 (2025-07-06) to 2025-12-07,
hex after. Both are accepted and compared as raw digests in constant time. The endpoint exists only with
`KGSM_WEBHOOK_SECRET` set: an unsigned endpoint would let anyone post to the Discord channels. The body is
read whole (at most `KGSM_MAX_PAYLOAD_BYTES`, else 413), however it is split; the HTTP server's deadline
(`bot.http_guard`) cuts off one that does not come. A request is answered 2xx only once its event is
stored, so KGSM's retries cover a bot that was down; a retried event is recognised by its id and posted once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import string
import time

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.events import RefusalReason
from bot.intake import Intake

log = logging.getLogger(__name__)

PATH = "/kgsm/webhook"
MAX_CLOCK_SKEW = 300.0
SOURCE = "webhook"
SIGNATURE_PREFIX = "sha256="
DIGEST_BYTES = hashlib.sha256().digest_size
_HEX_DIGITS = frozenset(string.hexdigits)


def signature_digest(header: str) -> bytes | None:
    """The 32-byte digest an `X-KGSM-Signature` value carries, or None when it is not one.

    `sha256=` followed by 64 hex digits (either case; KGSM after 2025-12-07) or by the standard base64 of 32
    bytes, padded or not (KGSM 2.2.0 to 2025-12-07). Decoding is strict: any other length, alphabet or a
    non-canonical base64 spelling is not a signature.
    """
    value = header.strip()
    if value[: len(SIGNATURE_PREFIX)].lower() != SIGNATURE_PREFIX:
        return None
    value = value[len(SIGNATURE_PREFIX) :]
    if len(value) == 2 * DIGEST_BYTES and _HEX_DIGITS.issuperset(value):
        return bytes.fromhex(value)
    unpadded = value.removesuffix("=")
    try:
        digest = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(digest) != DIGEST_BYTES or base64.b64encode(digest).decode().removesuffix("=") != unpadded:
        return None
    return digest


class _Cut(Exception):
    """The client went away (or was cut off by the deadline) before its body arrived."""


class WebhookSource:
    def __init__(self, intake: Intake, secret: str, max_body_bytes: int) -> None:
        self._intake = intake
        self._secret = secret.encode()
        self._max_body = max_body_bytes

    def _refuse(self, status: int, reason: RefusalReason, detail: str, peer: str) -> web.Response:
        self._intake.refuse(reason, detail, source=SOURCE, peer=peer)
        return web.json_response({"error": reason.value, "detail": detail}, status=status)

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The whole body, or None when it is larger than allowed (never more than one byte over is kept)."""
        declared = request.content_length
        if declared is not None and declared > self._max_body:
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await request.content.read(self._max_body + 1 - size):
                chunks.append(chunk)
                size += len(chunk)
                if size > self._max_body:
                    return None
        except (ConnectionError, RequestPayloadError) as exc:
            raise _Cut(str(exc)) from exc
        return b"".join(chunks)

    async def handle(self, request: web.Request) -> web.Response:
        peer = request.remote or "unknown"
        try:
            body = await self._read_body(request)
        except _Cut as cut:
            log.debug("webhook request from %s ended before its body: %s", peer, cut)
            return web.json_response({"error": "incomplete", "detail": "the body did not arrive"}, status=400)
        if body is None:
            return self._refuse(413, RefusalReason.TOO_LARGE, f"body over {self._max_body} bytes", peer)

        given = signature_digest(request.headers.get("X-KGSM-Signature", ""))
        expected = hmac.new(self._secret, body, hashlib.sha256).digest()
        if given is None or not hmac.compare_digest(given, expected):
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
