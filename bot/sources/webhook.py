"""KGSM's HTTP webhook (KGSM mid 2025 on): `POST /kgsm/webhook`, how one bot serves several game hosts.

KGSM POSTs the event's JSON with `X-KGSM-Timestamp` (Unix seconds) and, with a secret configured,
`X-KGSM-Signature: sha256=<HMAC-SHA256 of the raw body>`: base64 from KGSM 2.2.0 (2025-07-06) to 2025-12-07,
hex after. Both are accepted and compared as raw digests in constant time. The endpoint exists only with
`KGSM_WEBHOOK_SECRET` set: an unsigned endpoint would let anyone post to the Discord channels.

In order: the whole body is read (at most `KGSM_MAX_PAYLOAD_BYTES`, else 413; the HTTP server's deadline,
`bot.http_guard`, cuts off a body that does not come); its signature is checked (401); `X-KGSM-Timestamp`
must be whole Unix seconds (400 `bad_timestamp`) within `MAX_CLOCK_SKEW` of now (400 `stale`); the body must
be a KGSM event (400) whose own `Timestamp`, when it has one, is within the same window (400 `stale`: the
header is not signed, so only the body's time tells an old body replayed under a fresh header). A relay's
envelope (`bot.sources.relayed`) carries its own signed send time, `Sent`, which is checked instead: a backlog
of old events gets through, an old body does not.

A body seen within the window (the SHA-256 of its bytes) is a replay: it is not handed on again and is
answered 200 `duplicate`. That covers bodies without `Id` or `Timestamp`, which the store cannot recognise;
the store still recognises an event by its id for ever. A request is answered 200 only once its event is
stored: if the database does not take it within `STORE_DEADLINE`, the answer is 503 (KGSM retries); the event
stays queued in memory and is stored when the database can be written, and KGSM's retry of the same body
waits for that same event instead of adding another, so it is posted once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import re
import string
import time
from collections import OrderedDict
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.events import Event, EventRefused, RefusalReason
from bot.sources.intake import Intake
from bot.sources.relayed import WEBHOOK_SOURCE, decode_body

log = logging.getLogger(__name__)

PATH = "/kgsm/webhook"
MAX_CLOCK_SKEW = 300.0  # the replay window: how far a timestamp may be from now, either way
STORE_DEADLINE = 5.0  # how long a request waits for its event to be stored before it is answered 503
MAX_REMEMBERED = 10_000  # bodies remembered for replays; beyond it the oldest go first
SOURCE = WEBHOOK_SOURCE
SIGNATURE_PREFIX = "sha256="
DIGEST_BYTES = hashlib.sha256().digest_size
_HEX_DIGITS = frozenset(string.hexdigits)
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: no sign, exponent, fraction, nan or inf


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


class ReplayMemory:
    """The bodies received lately (their SHA-256), each with the future that says when its event was stored.

    A body waits here until its event is stored, however long the database takes, then for `MAX_CLOCK_SKEW`
    more. Bounded: the oldest stored ones leave first beyond `MAX_REMEMBERED` (the waiting ones are bounded by
    the recorder's queue).
    """

    def __init__(self) -> None:
        self._waiting: dict[bytes, asyncio.Future[bool]] = {}
        self._stored: OrderedDict[bytes, tuple[float, asyncio.Future[bool]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._waiting) + len(self._stored)

    def get(self, digest: bytes) -> asyncio.Future[bool] | None:
        self._expire(time.monotonic())
        if (waiting := self._waiting.get(digest)) is not None and not waiting.cancelled():
            return waiting
        entry = self._stored.get(digest)
        return None if entry is None else entry[1]

    def remember(self, digest: bytes, stored: asyncio.Future[bool]) -> None:
        """Remember `digest` until `stored` is done and a window after; forgotten when `stored` is cancelled."""
        self._waiting[digest] = stored
        stored.add_done_callback(lambda done: self._settled(digest, done))

    def _settled(self, digest: bytes, done: asyncio.Future[bool]) -> None:
        if self._waiting.get(digest) is done:
            del self._waiting[digest]
        if not done.cancelled():
            self._stored[digest] = (time.monotonic(), done)
            self._stored.move_to_end(digest)
            self._expire(time.monotonic())

    def _expire(self, now: float) -> None:
        while self._stored:
            digest, (stored_at, _) = next(iter(self._stored.items()))
            if now - stored_at <= MAX_CLOCK_SKEW and len(self._stored) <= MAX_REMEMBERED:
                return
            del self._stored[digest]


def _chain(source: asyncio.Future[bool], target: asyncio.Future[bool]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


class _Cut(Exception):
    """The client went away (or was cut off by the deadline) before its body arrived."""


class WebhookSource:
    def __init__(
        self,
        intake: Intake,
        secret: str,
        max_body_bytes: int,
        store_problem: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._intake = intake
        self._secret = secret.encode()
        self._max_body = max_body_bytes
        self._store_problem = store_problem
        self.replays = ReplayMemory()

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

        raw_time = request.headers.get("X-KGSM-Timestamp", "").strip()
        if not _UNIX_SECONDS.fullmatch(raw_time):
            detail = f"X-KGSM-Timestamp must be whole Unix seconds (digits only), got {raw_time[:32]!r}"
            return self._refuse(400, RefusalReason.BAD_TIMESTAMP, detail, peer)
        skew = time.time() - int(raw_time)
        if abs(skew) > MAX_CLOCK_SKEW:
            return self._refuse(400, RefusalReason.STALE, _off("X-KGSM-Timestamp", skew), peer)

        try:
            event, relayed = decode_body(body)
        except EventRefused as refusal:
            return self._refuse(400, refusal.reason, refusal.detail, peer)
        if relayed is None:
            skew = time.time() - event.timestamp.timestamp()  # the receipt time, so 0, when the body has none
            signed_time = "the event's own Timestamp"
        else:
            skew = time.time() - relayed.sent  # a relay's backlog is old: its signed send time is what counts
            signed_time = "the relay's Sent"
        if abs(skew) > MAX_CLOCK_SKEW:
            return self._refuse(400, RefusalReason.STALE, _off(signed_time, skew), peer)

        digest = hashlib.sha256(body).digest()
        deadline = asyncio.get_running_loop().time() + STORE_DEADLINE
        earlier = self.replays.get(digest)
        if earlier is not None:
            self._intake.stats.count_accepted(event.producer_version)
            log.debug("webhook body from %s was received %s: a replay", peer, _when(earlier))
            return await self._answer(earlier, deadline, replay=True)
        return await self._answer(await self._submit(event, digest, peer, deadline), deadline, replay=False)

    async def _submit(self, event: Event, digest: bytes, peer: str, deadline: float) -> asyncio.Future[bool]:
        """Hand the event on; remembered first, so that a retry arriving meanwhile waits for this one.

        The future returned is cancelled when the event could not even be queued in time (a full queue).
        """
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.replays.remember(digest, stored)
        try:
            async with asyncio.timeout_at(deadline):  # waits only when the recorder's queue is full
                queued = await self._intake.accept(event, peer)
        except TimeoutError:
            queued = None
        except BaseException:
            stored.cancel()  # forgotten: a retry may try again
            raise
        if queued is None:
            stored.cancel()
        else:
            queued.add_done_callback(lambda done: _chain(done, stored))
        return stored

    async def _answer(self, stored: asyncio.Future[bool], deadline: float, *, replay: bool) -> web.Response:
        """200 once the event is stored (`stored`, or `duplicate` when it was there already); else 503."""
        try:
            async with asyncio.timeout_at(deadline):
                is_new = await asyncio.shield(stored)
        except TimeoutError:
            return self._not_stored("it waits in memory and is stored as soon as the database can be written")
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if stored.cancelled() and task is not None and not task.cancelling():
                return self._not_stored("the bot's queue of events to store is full, so it was not kept")
            raise
        return web.json_response({"status": "duplicate" if replay or not is_new else "stored"}, status=200)

    def _not_stored(self, what_now: str) -> web.Response:
        problem = self._store_problem() or "the database did not take it in time"
        detail = f"the event was not stored within {STORE_DEADLINE:g} s ({problem}); {what_now}: send it again"
        log.debug("webhook answered 503: %s", detail)
        return web.json_response({"error": "not_stored", "detail": detail}, status=503, headers={"Retry-After": "5"})


def _when(stored: asyncio.Future[bool]) -> str:
    return "and stored already" if stored.done() else "already and is waiting to be stored"


def _off(what: str, skew: float) -> str:
    direction = "behind" if skew > 0 else "ahead of"
    return f"{what} is {abs(skew):.0f} s {direction} the bot's clock (at most {MAX_CLOCK_SKEW:g} s)"
