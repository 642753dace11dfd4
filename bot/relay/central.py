"""The central bot's `/kgsm/webhook`, as the relay reaches it: every event POSTed until it is acknowledged.

Each attempt is signed exactly as KGSM signs (`X-KGSM-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
with the shared `KGSM_WEBHOOK_SECRET`, `X-KGSM-Timestamp`, `X-KGSM-Retry-Count`) and carries the event in the
relay's envelope (`bot.sources.relayed`), whose signed `Sent` is the time of that attempt, so a backlog hours
old is inside the central bot's replay window. Only a 2xx is an acknowledgement.

What an answer means, and what the relay does (one `Backoff` between attempts, up to `KGSM_RELAY_RETRY_MAX`):

- no answer (refused, reset, timed out), 5xx, 408, 429: the central bot is away or busy: try again
  (at least after its `Retry-After`);
- 401/403 (the secrets differ), 404/405 (no webhook at that URL), 400 `stale`/`bad_timestamp` (the clocks
  differ), 400 `no_event_type`/`bad_relay` (a central bot too old for relayed events): a setting to fix on
  one side. The relay says so plainly and keeps trying, backing off: nothing is skipped for a wrong setting;
- any other 4xx: the central bot refuses this one event for good (too large for it, not an event it can read):
  said, counted, and skipped, so one event cannot hold up its journal for ever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from types import TracebackType

import aiohttp

from bot import __version__
from bot.config import RelaySettings
from bot.runtime.ratelog import COUNT, RateLimitedLog
from bot.runtime.retry import Backoff, retrying
from bot.sources.relayed import Relayed, envelope

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30.0  # the central bot answers within its store deadline (5 s) when it is up
FIRST_DELAY = 0.5
SETTING_ERRORS = frozenset({"stale", "bad_timestamp", "no_event_type", "bad_relay"})


class NotAcknowledged(Exception):
    """An attempt the central bot did not acknowledge; `problem` says why in plain words."""

    def __init__(self, problem: str, *, setting: bool = False, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.setting = setting  # a setting to fix (said as an error), not an outage
        self.retry_after = retry_after


@dataclass
class Delivery:
    acknowledged: bool  # False: refused for good (`detail` says why), skipped
    duplicate: bool = False  # the central bot had it already (an earlier attempt got through)
    detail: str = ""


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    raw = response.headers.get("Retry-After", "").strip()
    return float(raw) if raw.isdigit() else None


def _answer_of(text: str) -> dict[str, object]:
    """The central bot's JSON answer (`{"status": …}`, `{"error": …, "detail": …}`); {} for anything else."""
    try:
        answer = json.loads(text)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _error_of(text: str) -> tuple[str, str]:
    """The central bot's error and its detail, or ("", the text) for another server's answer."""
    answer = _answer_of(text)
    if not answer:
        return "", text.strip()[:200]
    return str(answer.get("error", "")), str(answer.get("detail", ""))[:300]


class Central:
    """The one connection pool to the central bot; `deliver` returns only once the event is settled."""

    def __init__(self, settings: RelaySettings) -> None:
        self._url = settings.url
        self._secret = settings.secret.encode()
        self._host = settings.host
        self._ceiling = settings.retry_ceiling
        self._session: aiohttp.ClientSession | None = None
        self._problems = RateLimitedLog(log)  # one line a minute per problem while it lasts
        self.problem: str | None = None
        self.problem_since: float | None = None  # monotonic
        self.last_ack: float | None = None  # Unix time

    async def __aenter__(self) -> Central:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, line: bytes, *, producer: str | None, replay: bool) -> Delivery:
        """POST `line` (a journal line that is a KGSM event) until the central bot acknowledges or refuses it."""
        attempts = 0

        async def attempt() -> Delivery:
            nonlocal attempts
            attempts += 1
            return await self._post(line, producer, replay, attempts - 1)

        backoff = Backoff(first=min(FIRST_DELAY, self._ceiling), ceiling=self._ceiling)
        delivery = await retrying(attempt, (NotAcknowledged,), backoff=backoff, on_retry=self._not_acknowledged)
        self._answered()
        return delivery

    async def _post(self, line: bytes, producer: str | None, replay: bool, retry: int) -> Delivery:
        assert self._session is not None, "Central is used inside `async with`"
        sent = int(time.time())
        body = envelope(line, Relayed(self._host, producer, sent, replay))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"kgsm-bot-relay/{__version__}",
            "X-KGSM-Timestamp": str(sent),
            "X-KGSM-Retry-Count": str(retry),
            "X-KGSM-Signature": "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest(),
        }
        try:
            async with self._session.post(self._url, data=body, headers=headers) as response:
                status, retry_after = response.status, _retry_after(response)
                text = await response.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise NotAcknowledged(f"the central bot at {self._url} cannot be reached ({reason})") from exc
        if 200 <= status < 300:
            return Delivery(True, duplicate=_answer_of(text).get("status") == "duplicate")
        error, detail = _error_of(text)
        said = f"{status} {error}: {detail}" if error else f"{status}: {detail or 'no reason given'}"
        if status in (401, 403):
            raise NotAcknowledged(
                f"the central bot refuses the signature ({said}): KGSM_WEBHOOK_SECRET must be the same on both sides",
                setting=True,
            )
        if status in (404, 405):
            raise NotAcknowledged(
                f"no webhook at {self._url} ({said}): KGSM_RELAY_URL must end in /kgsm/webhook and the central bot "
                "needs BOT_HTTP_PORT and KGSM_WEBHOOK_SECRET",
                setting=True,
            )
        if status == 400 and error in SETTING_ERRORS:
            fix = (
                "the clocks of this host and the central bot differ by more than 5 minutes: synchronise them (NTP)"
                if error in ("stale", "bad_timestamp")
                else "the central bot is older than this relay and cannot read relayed events: update it"
            )
            raise NotAcknowledged(f"the central bot refuses the request ({said}): {fix}", setting=True)
        if 400 <= status < 500 and status not in (408, 429):
            return Delivery(False, detail=said)
        raise NotAcknowledged(f"the central bot did not take the event ({said})", retry_after=retry_after)

    def _not_acknowledged(self, error: BaseException) -> float | None:
        assert isinstance(error, NotAcknowledged)
        if self.problem is None:
            self.problem_since = time.monotonic()
        self.problem = error.problem
        self._problems.log(
            error.problem.partition(" (")[0],
            logging.ERROR if error.setting else logging.WARNING,
            "relay: %s; trying again with backoff (at most every %g s)",
            error.problem,
            self._ceiling,
            summary=f"relay: {COUNT} more attempts failed: {error.problem}",
        )
        return min(error.retry_after, self._ceiling) if error.retry_after is not None else None

    def _answered(self) -> None:
        self.last_ack = time.time()
        if self.problem is not None and self.problem_since is not None:
            log.info(
                "relay: the central bot answers again after %.0f s; catching up",
                time.monotonic() - self.problem_since,
            )
        self.problem = self.problem_since = None
