"""A fake Discord (REST API v10 + gateway) that a *real* discord.py 2.7.1 client can log in to.

Why a fake server rather than mocks
-----------------------------------
Mocking ``discord.abc.Messageable.send`` tests our assumptions about discord.py, not discord.py.
Retries, rate-limit buckets, nonce handling, gateway resumes and interaction webhooks all live
inside discord.py, so the only honest way to test the bot's behaviour around them is to let the
real library talk HTTP and websocket to something that answers like Discord.  This module is that
something: an aiohttp server on 127.0.0.1 (random free port) that keeps just enough state
(one bot user, an application, guilds with text channels, messages, application commands,
interactions, gateway sessions) and records every request so tests can assert on the wire.

Pointing discord.py at it
-------------------------
discord.py has exactly two hard-coded endpoints that matter, both class attributes read at
call time, so setting them before ``login()``/``connect()`` redirects everything::

    discord.http.Route.BASE = fake.api_base                      # "http://127.0.0.1:PORT/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

``fake.point_discord_py_here()`` does both and ``fake.stop()`` restores the previous values.
Interaction responses and follow-ups need **no** extra redirect: ``discord.webhook.async_``
builds every request (``/interactions/{id}/{token}/callback``, ``/webhooks/{app_id}/{token}...``)
through ``discord.http.Route``, whose URL is ``Route.BASE + path`` evaluated when the Route is
created.  Only display/parsing helpers are hard-coded to discord.com (``Webhook.url``,
``Webhook.from_url``'s regex) and the CDN (``discord.Asset.BASE``) is not redirected at all, so
bot code must not download attachments/avatars through discord.py in tests.  Note that
``discord.http._set_api_version()`` overwrites ``Route.BASE``; don't call it after pointing.

discord.py behaviours this fake is built around (the "traps")
-------------------------------------------------------------
* ``http.json_or_text`` only parses a body when the ``Content-Type`` header is *exactly*
  ``application/json``.  aiohttp's ``web.json_response`` sends ``application/json; charset=utf-8``,
  which makes discord.py treat every payload as a string and crash far away
  (``string indices must be integers``).  All JSON here is sent with ``body=`` + ``content_type=``.
* A 429 is only retried when the response carries a ``Via`` header *and* a JSON body with
  ``retry_after``; otherwise discord.py assumes a Cloudflare ban and raises ``HTTPException``.
  Every API response here carries ``Via: 1.1 google`` as Discord's do.
* discord.py rate-limits itself *pre-emptively* from ``X-RateLimit-Remaining`` /
  ``X-RateLimit-Reset-After`` (and learns bucket sharing from ``X-RateLimit-Bucket``).  So with
  honest headers a single client never sees a 429; ``exhaust_rate_limit()`` simulates another
  process using the same token so the 429 path can be exercised.  With rate limiting disabled no
  rate-limit headers are sent (otherwise discord.py would throttle itself on made-up numbers).
* 5xx: only 500, 502, 504 and 524 are retried, up to 5 attempts, sleeping ``1 + 2*try`` seconds
  (1, 3, 5, 7 s), then ``DiscordServerError``.  A 503 raises ``DiscordServerError`` at once.
  ``fast_discord_retries()`` scales those sleeps down for tests.
* READY must carry ``resume_gateway_url``: discord.py stores it and RESUMEs there after any
  resumable disconnect (even a server-side close with code 1000).  The fake serves it at
  ``/gateway-resume`` so a test can see the resume really went there.  Close codes 4004, 4010-4014
  are fatal for discord.py; 4007/4009 end the session here (as on Discord) so the next RESUME
  gets op 9 and discord.py re-IDENTIFYs.
* ``on_ready`` fires ``guild_ready_timeout`` seconds (default **2.0**) after the last GUILD_CREATE.
  Build test clients with ``guild_ready_timeout=0.05`` or every test pays two seconds.
* GUILD_CREATE is sent for every guild after READY *regardless of intents* by default, so the
  channel cache works for a bot running with ``Intents.none()`` (discord.py's state code doesn't
  look at intents when parsing it).  ``guild_create_requires_intent=True`` mimics a strict
  Discord that only sends it with the GUILDS intent; then ``bot.get_channel()`` returns ``None``
  and only ``get_partial_messageable()`` works.
* Every IDENTIFY after the first (e.g. after op 9 INVALID_SESSION) is delayed 5 s by
  ``Client.before_identify_hook``; test bots that exercise re-identify should override that hook.
* discord.py asks for ``compress=zlib-stream`` but only decompresses *binary* frames; the fake
  sends text frames so no compression is involved.  Heartbeats come from a thread
  (``KeepAliveHandler``); the first one is sent right after HELLO.
* Interaction payloads need ``attachment_size_limit`` (``Interaction._from_data`` indexes it).
  The callback is posted with ``?with_response=1`` and discord.py builds an
  ``InteractionCallbackResponse`` from ``{"interaction": {...}, "resource": {...}}``; the
  ``response_message_id`` in it is the key discord.py stores a View under, so component clicks on
  an interaction response only reach the View if that id matches the stored message.
* ``Webhook.send`` (``interaction.followup.send``) defaults to ``wait=False``: Discord answers 204
  and discord.py returns ``None``.  Send with ``wait=True`` to get the message back.

Realism the bot can rely on (and be tested against)
---------------------------------------------------
Messages are validated like Discord does (empty message -> 50006, content > 2000 chars, more than
10 embeds or embed limits -> 50035 with an ``errors`` tree); ``nonce`` + ``enforce_nonce``
deduplicate within ``nonce_window`` seconds per channel; unknown channel -> 404/10003, no
access -> 403/50001, unknown message -> 404/10008; interactions must be answered once
(40060 otherwise) and within ``interaction_deadline`` seconds (3 s, 10062 otherwise); follow-ups
before the initial response -> 10015; ``invoke_slash`` refuses to invoke a command whose
``default_member_permissions`` the member lacks (Discord would not show it), and option values outside the
command's ``min_value``/``max_value`` or ``min_length``/``max_length`` (Discord would not send them);
``raw_values=True`` sends them anyway, exactly as given, as a modified client could.

Guilds come and go: ``join_guild`` adds the bot to a guild while it runs (GUILD_CREATE of a new join, which
discord.py dispatches as ``on_guild_join``); ``DELETE /users/@me/guilds/{id}`` (``Guild.leave``) removes it
and dispatches GUILD_DELETE. Interactions may come from a guild the commands were not synced to
(``command_guild_id=``) or from a DM (``in_dm=True``): a bot that serves only some guilds must refuse them.

Messages created by interaction responses and follow-ups are stored in their channel (unless
ephemeral) exactly like Discord shows them, so ``messages(channel_id)`` includes them;
``posts()`` only lists ``POST /channels/{id}/messages`` requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import aiohttp
import discord
import discord.gateway
import discord.http
import discord.webhook.async_
import yarl
from aiohttp import web

__all__ = [
    "ADMINISTRATOR",
    "DEFAULT_MEMBER_PERMISSIONS",
    "FakeDiscord",
    "GatewayConnection",
    "GatewayFrame",
    "HeartbeatRecord",
    "InteractionEvent",
    "InteractionRecord",
    "RequestRecord",
    "UploadedFile",
    "fast_discord_retries",
    "running_fake",
]

JSON = dict[str, Any]
T = TypeVar("T")

DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents (bit positions from the Discord docs).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9

# Permission bits used for sensible defaults.
ADMINISTRATOR = 1 << 3
_VIEW_CHANNEL = 1 << 10
_SEND_MESSAGES = 1 << 11
_EMBED_LINKS = 1 << 14
_ATTACH_FILES = 1 << 15
_READ_MESSAGE_HISTORY = 1 << 16
_ADD_REACTIONS = 1 << 6
_USE_APPLICATION_COMMANDS = 1 << 31
DEFAULT_MEMBER_PERMISSIONS = str(
    _VIEW_CHANNEL
    | _SEND_MESSAGES
    | _EMBED_LINKS
    | _ATTACH_FILES
    | _READ_MESSAGE_HISTORY
    | _ADD_REACTIONS
    | _USE_APPLICATION_COMMANDS
)

# Message flags.
_FLAG_SUPPRESS_EMBEDS = 1 << 2
_FLAG_EPHEMERAL = 1 << 6
_FLAG_LOADING = 1 << 7
_FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
_FLAG_COMPONENTS_V2 = 1 << 15
_SETTABLE_FLAGS = _FLAG_SUPPRESS_EMBEDS | _FLAG_SUPPRESS_NOTIFICATIONS | _FLAG_COMPONENTS_V2

# Close codes after which Discord will not accept a RESUME of the session.
_SESSION_ENDING_CLOSE_CODES = frozenset({1000, 1001, 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014})

_MESSAGE_ROUTES = frozenset(
    {"POST /channels/{channel_id}/messages", "PATCH /channels/{channel_id}/messages/{message_id}"}
)
_RATE_LIMIT_BUCKET = "80c17d2f203122d936070c88c8d10f33"  # any opaque string; discord.py only compares it


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _copy(value: T) -> T:
    return copy.deepcopy(value)


# --------------------------------------------------------------------------------------------
# Records exposed to tests
# --------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """One file part of a multipart request (``files[n]``)."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RequestRecord:
    """One REST request as the fake received it, plus what it answered.

    ``path`` is relative to the API base (``/channels/1/messages``); ``route`` is the matched
    template (``"POST /channels/{channel_id}/messages"``) or ``None`` for unhandled requests, and
    ``params`` the template's values.  ``json`` is the parsed JSON body, or for multipart bodies
    the parsed ``payload_json`` part (the files are in ``files``).  ``timestamp`` is
    ``time.monotonic()`` at arrival.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    timestamp: float
    files: list[UploadedFile] = field(default_factory=list)
    route: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HeartbeatRecord:
    """An op 1 HEARTBEAT received from a client."""

    timestamp: float  # time.monotonic()
    sequence: int | None
    connection_id: int
    acked: bool


@dataclass
class GatewayFrame:
    """A gateway payload sent or received (``direction`` is ``"in"`` or ``"out"``)."""

    direction: str
    op: int | None
    t: str | None
    s: int | None
    d: Any
    timestamp: float
    connection_id: int


@dataclass
class GatewayConnection:
    """One websocket connection to the fake gateway (a RESUME opens a new one)."""

    id: int
    path: str
    query: dict[str, str]
    opened_at: float
    ws: web.WebSocketResponse = field(repr=False)
    closed_at: float | None = None
    close_code: int | None = None
    session_id: str | None = None
    closed_by_server: bool = False
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and not self.ws.closed


@dataclass
class InteractionEvent:
    """Something the bot did with an interaction.

    ``kind`` is one of ``callback``, ``followup``, ``edit_original``, ``edit_message``,
    ``delete_message``; ``body`` is the request body (for ``callback`` the whole ``{type, data}``).
    """

    kind: str
    body: Any
    message_id: int | None
    timestamp: float


@dataclass
class InteractionRecord:
    """An interaction the fake sent and everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: JSON
    created_at: float
    callback: JSON | None = None
    callback_at: float | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    events: list[InteractionEvent] = field(default_factory=list)

    def message_bodies(self) -> list[JSON]:
        """Every message body the bot produced for this interaction, in order.

        The initial callback's ``data`` counts only for message-bearing callbacks (type 4
        CHANNEL_MESSAGE_WITH_SOURCE and 7 UPDATE_MESSAGE); deferrals (5, 6) carry no message.
        """
        bodies: list[JSON] = []
        for event in self.events:
            if event.kind == "callback":
                body = cast(JSON, event.body)
                if body.get("type") in (4, 7):
                    bodies.append(_copy(body.get("data") or {}))
            elif event.kind in ("followup", "edit_original", "edit_message"):
                bodies.append(_copy(cast(JSON, event.body) or {}))
        return bodies


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


@dataclass
class _Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    content_type: str = "application/json"

    def to_response(self) -> web.Response:
        headers = {"Via": "1.1 google", **self.headers}
        if self.text is not None:
            return web.Response(
                status=self.status, body=self.text.encode(), content_type=self.content_type, headers=headers
            )
        if self.body is None and self.status == 204:
            return web.Response(status=204, headers=headers)
        # body= + content_type= gives exactly "application/json" (see module docstring).
        return web.Response(
            status=self.status,
            body=json.dumps(self.body).encode(),
            content_type="application/json",
            headers=headers,
        )


class _ApiError(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> _ApiError:
    body: JSON = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _ApiError(_Reply(status=status, body=body))


class _CutConnection(Exception):
    """Close the connection without an answer."""


_COMMAND_SYNC = "PUT commands"  # the failure rules' name for both bulk-sync routes (global and guild)


def _unknown_channel() -> _ApiError:
    return _error(404, 10003, "Unknown Channel")


def _missing_access() -> _ApiError:
    return _error(403, 50001, "Missing Access")


def _missing_permissions() -> _ApiError:
    return _error(403, 50013, "Missing Permissions")


def _unknown_message() -> _ApiError:
    return _error(404, 10008, "Unknown Message")


def _unknown_webhook() -> _ApiError:
    return _error(404, 10015, "Unknown Webhook")


def _unknown_interaction() -> _ApiError:
    return _error(404, 10062, "Unknown interaction")


def _invalid_form(errors: JSON) -> _ApiError:
    return _error(400, 50035, "Invalid Form Body", errors)


def _field_error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


INJECTED_RETRY_AFTER = 0.05  # seconds a 429 injected with `fail_posts(429)` asks to wait


def _server_error_reply(status: int) -> _Reply:
    """A 5xx the way Discord's edge sends it: JSON from the API, HTML/text from Cloudflare/Envoy; a 429 the way
    Discord's rate limiter does (discord.py waits `retry_after` and retries, five times at most)."""
    if status == 429:
        body = {"message": "You are being rate limited.", "retry_after": INJECTED_RETRY_AFTER, "global": False}
        headers = {"Retry-After": f"{INJECTED_RETRY_AFTER}", "X-RateLimit-Scope": "user"}
        return _Reply(status=429, body=body, headers=headers)
    if status == 500:
        return _Reply(status=500, body={"message": "500: Internal Server Error", "code": 0})
    if status in (502, 504) or 520 <= status <= 527:
        title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}.get(status, f"{status}: A timeout occurred")
        html = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
        )
        return _Reply(status=status, text=html, content_type="text/html")
    if status == 503:
        return _Reply(
            status=503,
            text="upstream connect error or disconnect/reset before headers. reset reason: overflow",
            content_type="text/plain",
        )
    return _Reply(status=status, body={"message": f"{status}: Injected failure", "code": 0})


class _Snowflakes:
    """Real-looking, strictly increasing snowflakes (timestamp | worker | increment)."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0

    def __call__(self) -> int:
        now_ms = int(time.time() * 1000)
        if now_ms <= self._last_ms:
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms += 1
                self._increment = 0
        else:
            self._last_ms = now_ms
            self._increment = 0
        return ((self._last_ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | self._increment


@dataclass
class _Channel:
    id: int
    guild_id: int
    name: str
    position: int
    topic: str | None = None
    last_message_id: int | None = None

    def payload(self, *, with_guild: bool = True) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "type": 0,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": self.topic,
            "nsfw": False,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if with_guild:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass
class _Guild:
    id: int
    name: str
    owner_id: int
    channels: dict[int, _Channel] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)  # id -> name, besides @everyone


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass
class _FailureRule:
    method: str
    route: str
    status: int
    remaining: int | None
    channel_id: int | None
    lose_response: bool = False  # do the work, then answer the failure (the response "was lost")
    cut: bool = False  # close the connection instead of answering (a network failure)


@dataclass
class _Session:
    session_id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    backlog: list[JSON] = field(default_factory=list)
    connection: GatewayConnection | None = None
    ended: bool = False


@dataclass
class _MessageMeta:
    channel_id: int
    ephemeral: bool = False
    interaction_id: int | None = None
    nonce: str | None = None
    created_at: float = 0.0


_Handler = Callable[[RequestRecord], Awaitable[_Reply]]


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: _Handler
    needs_auth: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


_NAME_RE = re.compile(r"^[-_'\w]{1,32}$", re.UNICODE)


def _length_error(value: Any, limit: int) -> JSON | None:
    if isinstance(value, str) and len(value) > limit:
        return _field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _validate_embeds(embeds: Any) -> JSON:
    errors: JSON = {}
    if not isinstance(embeds, list):
        return {"embeds": _field_error("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")}
    if len(embeds) > 10:
        return {"embeds": _field_error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")}
    total = 0
    limits = {"title": 256, "description": 4096}
    for index, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            errors[str(index)] = _field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType.")
            continue
        embed_errors: JSON = {}
        for key, limit in limits.items():
            value = embed.get(key)
            if (problem := _length_error(value, limit)) is not None:
                embed_errors[key] = problem
            total += len(value) if isinstance(value, str) else 0
        footer = embed.get("footer") or {}
        if (problem := _length_error(footer.get("text"), 2048)) is not None:
            embed_errors["footer"] = {"text": problem}
        total += len(footer.get("text") or "")
        author = embed.get("author") or {}
        if (problem := _length_error(author.get("name"), 256)) is not None:
            embed_errors["author"] = {"name": problem}
        total += len(author.get("name") or "")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            embed_errors["fields"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for field_index, embed_field in enumerate(fields):
            field_errors: JSON = {}
            for key, limit in (("name", 256), ("value", 1024)):
                value = embed_field.get(key)
                if not value:
                    field_errors[key] = _field_error("BASE_TYPE_REQUIRED", "This field is required")
                elif (problem := _length_error(value, limit)) is not None:
                    field_errors[key] = problem
                total += len(value) if isinstance(value, str) else 0
            if field_errors:
                embed_errors.setdefault("fields", {})[str(field_index)] = field_errors
        if embed_errors:
            errors[str(index)] = embed_errors
    if total > 6000:
        errors.setdefault("_errors", []).append(
            {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}
        )
    return {"embeds": errors} if errors else {}


def _validate_message_body(body: JSON) -> None:
    """Raise like Discord for bodies it would refuse (400 50035 / 50006)."""
    errors: JSON = {}
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors["content"] = _field_error("STRING_TYPE_CONVERT", "Could not interpret value as string.")
    elif (problem := _length_error(content, 2000)) is not None:
        errors["content"] = problem
    if body.get("embeds") is not None:
        errors.update(_validate_embeds(body["embeds"]))
    components = body.get("components")
    if isinstance(components, list) and len(components) > 40:
        errors["components"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
    if errors:
        raise _invalid_form(errors)


def _is_empty_message(message: JSON) -> bool:
    return not (
        message.get("content")
        or message.get("embeds")
        or message.get("attachments")
        or message.get("components")
        or message.get("sticker_items")
        or message.get("poll")
    )


def _number_components(components: Any) -> Any:
    """Give every component a numeric ``id`` like Discord does (depth-first, from 1)."""
    counter = itertools.count(1)

    def walk(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        out = []
        for item in items:
            if not isinstance(item, dict):
                out.append(item)
                continue
            numbered = dict(item)
            numbered.setdefault("id", next(counter))
            for key in ("components", "accessory"):
                if isinstance(numbered.get(key), list):
                    numbered[key] = walk(numbered[key])
                elif isinstance(numbered.get(key), dict):
                    numbered[key] = walk([numbered[key]])[0]
            out.append(numbered)
        return out

    return walk(_copy(components))


def _iter_components(components: Any) -> Iterator[JSON]:
    if not isinstance(components, list):
        return
    for item in components:
        if isinstance(item, dict):
            yield item
            for key in ("components", "accessory"):
                child = item.get(key)
                if isinstance(child, list):
                    yield from _iter_components(child)
                elif isinstance(child, dict):
                    yield from _iter_components([child])


def _validate_command(command: Any, path: str) -> JSON:
    """Subset of Discord's application command validation (names, descriptions, option order)."""
    errors: JSON = {}
    if not isinstance(command, dict):
        return {path: _field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType.")}
    command_type = command.get("type", 1)
    name = command.get("name")
    if not isinstance(name, str) or not name:
        errors["name"] = _field_error("BASE_TYPE_REQUIRED", "This field is required")
    elif command_type == 1 and (not _NAME_RE.match(name) or name != name.lower()):
        errors["name"] = _field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    elif len(name) > 32:
        errors["name"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    description = command.get("description", "")
    if command_type == 1 and (not isinstance(description, str) or not 1 <= len(description) <= 100):
        errors["description"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    if command_type != 1 and description:
        errors["description"] = _field_error(
            "APPLICATION_COMMAND_DESCRIPTION_NOT_ALLOWED", "Context menu commands cannot have description"
        )
    option_errors = _validate_options(command.get("options") or [])
    if option_errors:
        errors["options"] = option_errors
    return {path: errors} if errors else {}


def _validate_options(options: list[Any]) -> JSON:
    errors: JSON = {}
    if len(options) > 25:
        return _field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    names: set[str] = set()
    for index, option in enumerate(options):
        option_errors: JSON = {}
        name = option.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name) or name != name.lower():
            option_errors["name"] = _field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif name in names:
            option_errors["name"] = _field_error(
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Command option names must be unique"
            )
        names.add(str(name))
        description = option.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            option_errors["description"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if option.get("type") in (1, 2):
            nested = _validate_options(option.get("options") or [])
            if nested:
                option_errors["options"] = nested
        elif option.get("required"):
            if seen_optional:
                option_errors["required"] = _field_error(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required",
                )
        else:
            seen_optional = True
        if len(option.get("choices") or []) > 25:
            option_errors["choices"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if option_errors:
            errors[str(index)] = option_errors
    return errors


def _check_limits(option: JSON, value: Any) -> None:
    """Discord refuses values outside an option's range (numbers) or length (strings) before they reach a bot."""
    name = option["name"]
    if option["type"] in (4, 10) and isinstance(value, int | float):
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{value!r} is outside {name!r}'s range {low}..{high}; Discord would not send it")
    if option["type"] == 3 and isinstance(value, str):
        low, high = option.get("min_length"), option.get("max_length")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise ValueError(f"{name!r} takes {low}..{high} characters, not {len(value)}; Discord would not send it")


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeDiscord:
    """An in-process Discord API + gateway for one bot user, one application and its guilds.

    Usage::

        async with FakeDiscord(channels=[111]) as fake:
            fake.point_discord_py_here()
            bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), guild_ready_timeout=0.05)
            await bot.login("any-token")
            task = asyncio.create_task(bot.connect())
            await bot.wait_until_ready()
            ...
            await bot.close()

    State is plain attributes so tests can poke at it: ``not_found_channels`` / ``forbidden_channels``
    (sets of channel ids answering 404 10003 / 403 50001), ``mute_channels`` (the bot may read but not post:
    a new message is 403 50013), ``no_embed_channels`` (the bot lacks Embed Links: as on Discord, the embeds of
    a message with anything else in it are silently dropped, and a message of embeds only is 403 50013),
    ``threads_forbidden`` (starting a thread from a message there is 403 50013), ``threads`` (the threads
    started, by id: the id of the message each starts from), ``requests``, ``unhandled``,
    ``heartbeats``, ``presences``, ``identifies``, ``resumes``, ``command_syncs``,
    ``rate_limited_count``, ``ack_heartbeats`` (set ``False`` to simulate a zombie gateway),
    ``interaction_deadline`` (seconds to answer an interaction, ``None`` = no limit),
    ``app_permissions`` (bitfield string sent as the bot's permissions in interactions).

    Every request handler and gateway frame notifies an ``asyncio.Condition`` so ``wait_for``
    wakes up exactly when something changed instead of sleep-polling (a 20 ms re-check is only a
    fallback for predicates over bot-side state).  ``gateway_outage()`` holds reconnects so the
    RESUME backlog replay can be tested deterministically.
    """

    DEFAULT_BOT_USER_ID = 1_180_000_000_000_000_001
    DEFAULT_GUILD_ID = 1_180_000_000_000_000_100
    DEFAULT_USER_ID = 1_180_000_000_000_000_500
    DEFAULT_OWNER_ID = 1_180_000_000_000_000_900

    def __init__(
        self,
        *,
        bot_user_id: int = DEFAULT_BOT_USER_ID,
        bot_name: str = "KGSM Bot",
        application_id: int | None = None,
        guild_id: int = DEFAULT_GUILD_ID,
        guild_name: str = "Fake Guild",
        channels: Iterable[int] = (),
        heartbeat_interval: int = 41_250,
        token: str | None = None,
        interaction_deadline: float | None = 3.0,
        nonce_window: float = 300.0,
        guild_create_requires_intent: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.application_id = application_id if application_id is not None else bot_user_id
        self.guild_id = guild_id
        self.heartbeat_interval = heartbeat_interval
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.nonce_window = nonce_window
        self.guild_create_requires_intent = guild_create_requires_intent
        self.host = host
        self.app_permissions = str(((1 << 50) - 1) & ~ADMINISTRATOR)
        self.ack_heartbeats = True
        self.recheck_interval = 0.02

        # Channels answering as Discord does when the bot may not use them (see the class docstring), and the
        # threads started from messages (thread id = the message's id).
        (
            self.not_found_channels,
            self.forbidden_channels,
            self.mute_channels,
            self.no_embed_channels,
            self.threads_forbidden,
            self.threads,
        ) = (set[int](), set[int](), set[int](), set[int](), set[int](), dict[int, JSON]())

        self.requests: list[RequestRecord] = []
        self.unhandled: list[RequestRecord] = []
        self.heartbeats: list[HeartbeatRecord] = []
        self.presences: list[JSON] = []
        self.identifies: list[JSON] = []
        self.resumes: list[JSON] = []
        self.gateway_frames: list[GatewayFrame] = []
        self.gateway_connections: list[GatewayConnection] = []
        self.command_syncs = 0
        self.rate_limited_count = 0
        self.injected_failures = 0

        self._next_id = _Snowflakes()
        self._guilds: dict[int, _Guild] = {guild_id: _Guild(guild_id, guild_name, self.DEFAULT_OWNER_ID)}
        self._channels: dict[int, _Channel] = {}
        self._messages: dict[int, JSON] = {}
        self._message_meta: dict[int, _MessageMeta] = {}
        self._users: dict[int, JSON] = {}
        self._global_commands: dict[int, JSON] = {}
        self._guild_commands: dict[int, dict[int, JSON]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._interactions: dict[int, InteractionRecord] = {}
        self._sessions: dict[str, _Session] = {}
        self._connection_ids = itertools.count(1)
        self._failures: list[_FailureRule] = []
        self._rate_limit: tuple[int, float] | None = None
        self._windows: dict[int, _Window] = {}
        self._changed: asyncio.Condition | None = None
        self._gateway_gate = asyncio.Event()
        self._gateway_gate.set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._saved_discord_py: tuple[str, yarl.URL] | None = None
        self._routes: list[_Route] = []
        self._register_routes()

        for channel_id in channels:
            self.add_channel(channel_id)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind to a free port on ``host`` and start serving."""
        if self._runner is not None:
            return
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", r"/api/{version:v\d+}/{tail:.*}", self._handle_api)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway-resume", self._handle_gateway)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Close gateway connections, stop serving and undo ``point_discord_py_here``."""
        self._gateway_gate.set()
        for connection in list(self.gateway_connections):
            if connection.is_open:
                connection.closed_by_server = True
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.ws.close(code=1001, message=b"fake shutting down"), 2.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.restore_discord_py()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (as a ``yarl.URL``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """What READY advertises as ``resume_gateway_url``; discord.py RESUMEs here."""
        return f"ws://{self.host}:{self.port}/gateway-resume"

    def point_discord_py_here(self) -> None:
        """Redirect discord.py's REST base and default gateway to this fake (restored by ``stop``)."""
        if self._saved_discord_py is None:
            self._saved_discord_py = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def restore_discord_py(self) -> None:
        """Undo ``point_discord_py_here`` (no-op if it was never called)."""
        if self._saved_discord_py is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved_discord_py
            self._saved_discord_py = None

    # ------------------------------------------------------------------ world state

    @property
    def bot_user(self) -> JSON:
        return {
            "id": str(self.bot_user_id),
            "username": self.bot_name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "mfa_enabled": True,
            "verified": True,
            "flags": 0,
            "public_flags": 0,
            "email": None,
            "locale": "en-US",
            "banner": None,
            "accent_color": None,
        }

    def add_guild(self, guild_id: int, name: str | None = None) -> None:
        """Add another guild the bot is in (announced in READY/GUILD_CREATE on the next IDENTIFY)."""
        self._guilds.setdefault(guild_id, _Guild(guild_id, name or f"Guild {guild_id}", self.DEFAULT_OWNER_ID))

    async def join_guild(self, guild_id: int, name: str | None = None, *, channels: Iterable[int] = ()) -> None:
        """Someone adds the bot to a guild while it runs: the guild (with ``channels``) exists from now on and
        GUILD_CREATE is dispatched as for a new join (no ``unavailable`` key, the bot joined just now)."""
        self.add_guild(guild_id, name)
        for channel_id in channels:
            self.add_channel(channel_id, guild_id)
        payload = self._guild_payload(self._guilds[guild_id])
        payload.pop("unavailable")
        joined = _now_iso()
        payload["joined_at"] = joined
        payload["members"][0]["joined_at"] = joined
        await self.dispatch("GUILD_CREATE", payload)

    def guild_ids(self) -> list[int]:
        """The guilds the bot is in now."""
        return list(self._guilds)

    def add_command(self, body: JSON, guild_id: int | None = None) -> JSON:
        """Store a command as if the application had synced it earlier (globally, or for ``guild_id``)."""
        stored = self._stored_command(body, guild_id)
        self._command_store(guild_id)[int(stored["id"])] = stored
        return _copy(stored)

    def add_channel(
        self, channel_id: int, guild_id: int | None = None, *, name: str | None = None, topic: str | None = None
    ) -> None:
        """Add a text channel. Add channels before the bot connects so GUILD_CREATE carries them."""
        gid = self.guild_id if guild_id is None else guild_id
        self.add_guild(gid)
        guild = self._guilds[gid]
        channel = _Channel(channel_id, gid, name or f"channel-{channel_id}", len(guild.channels), topic)
        guild.channels[channel_id] = channel
        self._channels[channel_id] = channel

    def add_role(self, role_id: int, guild_id: int | None = None, *, name: str | None = None) -> None:
        """Add a role (no permissions of its own). Add roles before the bot connects so GUILD_CREATE carries them;
        give it to a member with ``invoke_slash(..., roles=[role_id])``."""
        gid = self.guild_id if guild_id is None else guild_id
        self.add_guild(gid)
        self._guilds[gid].roles[role_id] = name or f"role-{role_id}"

    def add_user(self, user_id: int, name: str | None = None) -> JSON:
        """Register (or fetch) a guild member user used by interactions and ``GET /users/{id}``."""
        if user_id not in self._users:
            self._users[user_id] = {
                "id": str(user_id),
                "username": name or f"user{user_id}",
                "discriminator": "0",
                "global_name": name,
                "avatar": None,
                "public_flags": 0,
                "bot": False,
            }
        return self._users[user_id]

    def add_message(
        self,
        channel_id: int,
        content: str = "",
        *,
        author_id: int | None = None,
        embeds: Sequence[JSON] = (),
    ) -> JSON:
        """Store a message as if someone else posted it (not dispatched)."""
        author = self.add_user(author_id or self.DEFAULT_USER_ID)
        message = self._new_message(channel_id, {"content": content, "embeds": list(embeds)}, author=author)
        return _copy(message)

    def messages(self, channel_id: int) -> list[JSON]:
        """Messages currently visible in the channel (after edits/deletes), oldest first."""
        return [
            _copy(message)
            for mid, message in self._messages.items()
            if self._message_meta[mid].channel_id == channel_id and not self._message_meta[mid].ephemeral
        ]

    def message(self, message_id: int) -> JSON | None:
        """Any stored message (including ephemeral interaction responses) by id."""
        message = self._messages.get(message_id)
        return None if message is None else _copy(message)

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        """Simulate a user/moderator deleting a message (dispatches MESSAGE_DELETE if subscribed)."""
        meta = self._message_meta.get(message_id)
        if meta is None or meta.channel_id != channel_id:
            raise KeyError(f"no message {message_id} in channel {channel_id}")
        await self._remove_message(message_id)
        await self._notify()

    def posts(self, channel_id: int | None = None) -> list[RequestRecord]:
        """Every ``POST /channels/{id}/messages`` request (all attempts, whatever the status)."""
        return self._route_requests("POST /channels/{channel_id}/messages", channel_id=channel_id)

    def patches(self, channel_id: int | None = None, message_id: int | None = None) -> list[RequestRecord]:
        """Every ``PATCH /channels/{id}/messages/{mid}`` request."""
        return self._route_requests(
            "PATCH /channels/{channel_id}/messages/{message_id}", channel_id=channel_id, message_id=message_id
        )

    def requests_to(self, route: str) -> list[RequestRecord]:
        """Requests that matched a route template, e.g. ``"PUT /applications/{application_id}/commands"``."""
        return [record for record in self.requests if record.route == route]

    def _route_requests(self, route: str, **params: int | None) -> list[RequestRecord]:
        return [
            record
            for record in self.requests
            if record.route == route
            and all(value is None or record.params.get(key) == str(value) for key, value in params.items())
        ]

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """Application commands as last synced (global, or for ``guild_id``)."""
        store = self._global_commands if guild_id is None else self._guild_commands.get(guild_id, {})
        return [_copy(command) for command in store.values()]

    # ------------------------------------------------------------------ waiting

    async def _notify(self) -> None:
        if self._changed is None:
            return
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy and return that value.

        The predicate is re-checked the moment the fake handles a request or gateway frame (an
        ``asyncio.Condition`` is notified), so waits on the fake's state end without delay.  It
        is also re-checked every ``recheck_interval`` seconds (default 0.02) so predicates that
        read *bot-side* state (set after the fake's last event) work too.
        ``msgs = await fake.wait_for(lambda: fake.messages(c))`` returns the list.
        Raises ``TimeoutError`` naming the predicate on timeout.
        """
        if self._changed is None:
            raise RuntimeError("FakeDiscord is not started")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"FakeDiscord.wait_for: condition {predicate!r} not met within {timeout}s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(remaining, self.recheck_interval))

    async def wait_for_messages(self, channel_id: int, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        """Wait until the channel holds at least ``count`` messages and return them."""
        await self.wait_for(lambda: len(self.messages(channel_id)) >= count, timeout)
        return self.messages(channel_id)

    # ------------------------------------------------------------------ failure injection

    def fail_posts(self, status: int = 500, count: int | None = None, *, channel_id: int | None = None) -> None:
        """Answer the next ``count`` message POSTs (``None`` = until ``recover()``) with ``status``.

        5xx bodies look like Discord's: JSON for 500, Cloudflare HTML for 502/504/52x, Envoy text
        for 503.  discord.py retries 500/502/504/524 itself (1, 3, 5, 7 s apart, 5 attempts).
        """
        self._failures.append(_FailureRule("POST", "POST /channels/{channel_id}/messages", status, count, channel_id))

    def fail_patches(self, status: int = 500, count: int | None = None, *, channel_id: int | None = None) -> None:
        """Like ``fail_posts`` for message edits."""
        self._failures.append(
            _FailureRule("PATCH", "PATCH /channels/{channel_id}/messages/{message_id}", status, count, channel_id)
        )

    def fail_command_syncs(self, status: int | None = 500, count: int | None = None) -> None:
        """Answer the next ``count`` bulk syncs of application commands (global or a guild's; ``None`` = until
        ``recover()``) with ``status``; ``status=None`` cuts the connection instead, as a network failure does."""
        self._failures.append(_FailureRule("PUT", _COMMAND_SYNC, status or 0, count, None, cut=status is None))

    def lose_post_responses(self, status: int = 503, count: int | None = None) -> None:
        """Create the messages of the next ``count`` POSTs (``None`` = until ``recover()``) but answer
        ``status``, as if the response was lost on the way back: the client cannot know the message exists.
        Only ``nonce`` + ``enforce_nonce`` keep a retry from creating a second one."""
        rule = _FailureRule("POST", "POST /channels/{channel_id}/messages", status, count, None, lose_response=True)
        self._failures.append(rule)

    def recover(self) -> None:
        """Stop all injected failures."""
        self._failures.clear()

    def _maybe_lose_response(self) -> None:
        for rule in (rule for rule in self._failures if rule.lose_response):
            if rule.remaining is not None:
                if rule.remaining <= 0:
                    continue
                rule.remaining -= 1
            self.injected_failures += 1
            raise _ApiError(_server_error_reply(rule.status))

    def _maybe_fail(self, route: str, channel_id: int) -> None:
        for rule in self._failures:
            if rule.lose_response or rule.route != route:
                continue
            if rule.channel_id is not None and rule.channel_id != channel_id:
                continue
            if rule.remaining is not None:
                if rule.remaining <= 0:
                    continue
                rule.remaining -= 1
            self.injected_failures += 1
            if rule.cut:
                raise _CutConnection
            raise _ApiError(_server_error_reply(rule.status))

    def rate_limit(self, per_channel: int | None = 5, per_seconds: float = 1.0) -> None:
        """Enforce a fixed window of ``per_channel`` message POST/PATCHes per channel per ``per_seconds``.

        Responses then carry ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket``; exceeding it
        answers 429 with ``Via``, ``Retry-After``, ``X-RateLimit-Scope: user`` and the JSON
        ``{"message", "retry_after", "global": false}`` discord.py needs to retry.
        ``rate_limit(None)`` disables it (and the headers).
        """
        self._rate_limit = None if per_channel is None else (per_channel, per_seconds)
        self._windows.clear()

    def exhaust_rate_limit(self, channel_id: int) -> None:
        """Use up the channel's current window, as another process sharing the token would."""
        if self._rate_limit is None:
            raise RuntimeError("call rate_limit() first")
        limit, _per = self._rate_limit
        window = self._current_window(channel_id)
        window.used = limit

    def _current_window(self, channel_id: int) -> _Window:
        assert self._rate_limit is not None
        _limit, per = self._rate_limit
        now = time.monotonic()
        window = self._windows.get(channel_id)
        if window is None or now >= window.started + per:
            window = self._windows[channel_id] = _Window(started=now)
        return window

    def _take_rate_limit(self, channel_id: int) -> dict[str, str]:
        if self._rate_limit is None:
            return {}
        limit, per = self._rate_limit
        window = self._current_window(channel_id)
        reset_after = max(window.started + per - time.monotonic(), 0.001)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _RATE_LIMIT_BUCKET,
        }
        if window.used >= limit:
            self.rate_limited_count += 1
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Scope": "user",
                    "Retry-After": str(math.ceil(reset_after)),
                }
            )
            body = {"message": "You are being rate limited.", "retry_after": round(reset_after, 3), "global": False}
            raise _ApiError(_Reply(status=429, body=body, headers=headers))
        window.used += 1
        headers["X-RateLimit-Remaining"] = str(limit - window.used)
        return headers

    # ------------------------------------------------------------------ HTTP plumbing

    def _register_routes(self) -> None:
        def add(method: str, template: str, handler: _Handler, *, needs_auth: bool = True) -> None:
            pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
            self._routes.append(_Route(method, template, re.compile(pattern), handler, needs_auth))

        add("GET", "/users/@me", self._get_me)
        add("GET", "/users/{user_id}", self._get_user)
        add("GET", "/oauth2/applications/@me", self._get_application)
        add("GET", "/applications/@me", self._get_application)
        add("GET", "/gateway", self._get_gateway, needs_auth=False)
        add("GET", "/gateway/bot", self._get_gateway_bot)
        add("GET", "/guilds/{guild_id}", self._get_guild)
        add("DELETE", "/users/@me/guilds/{guild_id}", self._leave_guild)
        add("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)
        add("GET", "/channels/{channel_id}", self._get_channel)
        add("POST", "/channels/{channel_id}/typing", self._typing)
        add("GET", "/channels/{channel_id}/messages", self._list_messages)
        add("POST", "/channels/{channel_id}/messages", self._create_message)
        add("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        add("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        add("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        add("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._start_thread)
        add("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._react)
        add("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._react)
        for prefix in ("/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"):
            add("GET", prefix + "/commands", self._list_commands)
            add("PUT", prefix + "/commands", self._bulk_commands)
            add("POST", prefix + "/commands", self._upsert_command)
            add("GET", prefix + "/commands/{command_id}", self._get_command)
            add("PATCH", prefix + "/commands/{command_id}", self._patch_command)
            add("DELETE", prefix + "/commands/{command_id}", self._delete_command)
        add("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback, needs_auth=False)
        add("POST", "/webhooks/{webhook_id}/{token}", self._webhook_execute, needs_auth=False)
        add("GET", "/webhooks/{webhook_id}/{token}/messages/{message_id}", self._webhook_get, needs_auth=False)
        add("PATCH", "/webhooks/{webhook_id}/{token}/messages/{message_id}", self._webhook_edit, needs_auth=False)
        add("DELETE", "/webhooks/{webhook_id}/{token}/messages/{message_id}", self._webhook_delete, needs_auth=False)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                data = await part.read(decode=True)
                if part.name == "payload_json":
                    payload = json.loads(data.decode())
                else:
                    content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                    files.append(UploadedFile(part.name or "", part.filename, content_type, bytes(data)))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        record = RequestRecord(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            headers=dict(request.headers),
            timestamp=time.monotonic(),
            files=files,
        )
        try:
            reply = await self._dispatch_route(record)
        except _ApiError as exc:
            reply = exc.reply
        except _CutConnection:
            self.requests.append(record)
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # never sent: the connection is gone
        record.status = reply.status
        record.response = reply.text if reply.text is not None else _copy(reply.body)
        record.response_headers = {"Via": "1.1 google", **reply.headers}
        self.requests.append(record)
        await self._notify()
        return reply.to_response()

    async def _dispatch_route(self, record: RequestRecord) -> _Reply:
        path_matched = False
        for route in self._routes:
            match = route.regex.fullmatch(record.path)
            if match is None:
                continue
            path_matched = True
            if route.method != record.method:
                continue
            record.route = route.name
            record.params = match.groupdict()
            if (
                route.needs_auth
                and self.token is not None
                and record.headers.get("Authorization") != f"Bot {self.token}"
            ):
                raise _error(401, 0, "401: Unauthorized")
            return await route.handler(record)
        self.unhandled.append(record)
        if path_matched:
            raise _error(405, 0, "405: Method Not Allowed")
        raise _error(404, 0, "404: Not Found")

    # ------------------------------------------------------------------ REST: users, app, gateway, guilds

    async def _get_me(self, record: RequestRecord) -> _Reply:
        return _Reply(body=self.bot_user)

    async def _get_user(self, record: RequestRecord) -> _Reply:
        user_id = int(record.params["user_id"])
        if user_id == self.bot_user_id:
            return _Reply(body=self.bot_user)
        if user_id in self._users:
            return _Reply(body=self._users[user_id])
        raise _error(404, 10013, "Unknown User")

    async def _get_application(self, record: RequestRecord) -> _Reply:
        owner = self.add_user(self.DEFAULT_OWNER_ID, "owner")
        return _Reply(
            body={
                "id": str(self.application_id),
                "name": self.bot_name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": owner,
                "team": None,
                "bot": self.bot_user,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self._guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, record: RequestRecord) -> _Reply:
        return _Reply(body={"url": self.gateway_url})

    async def _get_gateway_bot(self, record: RequestRecord) -> _Reply:
        return _Reply(
            body={
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    def _guild_or_404(self, record: RequestRecord) -> _Guild:
        guild = self._guilds.get(int(record.params["guild_id"]))
        if guild is None:
            raise _error(404, 10004, "Unknown Guild")
        return guild

    async def _get_guild(self, record: RequestRecord) -> _Reply:
        guild = self._guild_or_404(record)
        payload = self._guild_payload(guild)
        for key in ("channels", "members", "threads", "presences", "voice_states", "joined_at", "large"):
            payload.pop(key, None)
        return _Reply(body=payload)

    async def _leave_guild(self, record: RequestRecord) -> _Reply:
        """The bot leaves a guild: it is gone with its channels and commands, and GUILD_DELETE says so."""
        guild = self._guild_or_404(record)
        del self._guilds[guild.id]
        for channel_id in guild.channels:
            self._channels.pop(channel_id, None)
        self._guild_commands.pop(guild.id, None)
        for session in list(self._sessions.values()):
            if not session.ended:
                await self._dispatch_to(session, "GUILD_DELETE", {"id": str(guild.id)})
        return _Reply(status=204)

    async def _get_guild_channels(self, record: RequestRecord) -> _Reply:
        guild = self._guild_or_404(record)
        return _Reply(body=[channel.payload() for channel in guild.channels.values()])

    async def _get_member(self, record: RequestRecord) -> _Reply:
        self._guild_or_404(record)
        user_id = int(record.params["user_id"])
        if user_id == self.bot_user_id:
            return _Reply(body=self._member_payload(self.bot_user))
        if user_id in self._users:
            return _Reply(body=self._member_payload(self._users[user_id]))
        raise _error(404, 10007, "Unknown Member")

    # ------------------------------------------------------------------ REST: channels & messages

    def _check_channel(self, channel_id: int) -> _Channel:
        if channel_id in self.not_found_channels:
            raise _unknown_channel()
        if channel_id in self.forbidden_channels:
            raise _missing_access()
        channel = self._channels.get(channel_id)
        if channel is None:
            raise _unknown_channel()
        return channel

    def _channel_message(self, record: RequestRecord) -> tuple[_Channel, JSON]:
        channel = self._check_channel(int(record.params["channel_id"]))
        message_id = int(record.params["message_id"])
        meta = self._message_meta.get(message_id)
        if meta is None or meta.channel_id != channel.id or meta.ephemeral:
            raise _unknown_message()
        return channel, self._messages[message_id]

    async def _get_channel(self, record: RequestRecord) -> _Reply:
        channel = self._check_channel(int(record.params["channel_id"]))
        return _Reply(body=channel.payload())

    async def _typing(self, record: RequestRecord) -> _Reply:
        self._check_channel(int(record.params["channel_id"]))
        return _Reply(status=204)

    async def _list_messages(self, record: RequestRecord) -> _Reply:
        channel = self._check_channel(int(record.params["channel_id"]))
        limit = max(1, min(100, int(record.query.get("limit", "50"))))
        messages = self.messages(channel.id)
        if "before" in record.query:
            messages = [m for m in messages if int(m["id"]) < int(record.query["before"])]
        if "after" in record.query:
            after = [m for m in messages if int(m["id"]) > int(record.query["after"])]
            return _Reply(body=list(reversed(after[:limit])))
        if "around" in record.query:
            around = int(record.query["around"])
            older = [m for m in messages if int(m["id"]) <= around][-((limit + 1) // 2) :]
            newer = [m for m in messages if int(m["id"]) > around][: limit // 2]
            return _Reply(body=list(reversed(older + newer)))
        return _Reply(body=list(reversed(messages[-limit:])))

    async def _create_message(self, record: RequestRecord) -> _Reply:
        channel_id = int(record.params["channel_id"])
        assert record.route is not None
        self._maybe_fail(record.route, channel_id)
        headers = self._take_rate_limit(channel_id)
        try:
            self._check_channel(channel_id)
            body = record.json if isinstance(record.json, dict) else {}
            nonce = body.get("nonce")
            if nonce is not None and body.get("enforce_nonce"):
                existing = self._find_nonce(channel_id, str(nonce))
                if existing is not None:
                    self._maybe_lose_response()
                    return _Reply(body=_copy(existing), headers=headers)
            _validate_message_body(body)
            body = self._as_permitted(channel_id, body, record.files)
            message = self._new_message(channel_id, body, files=record.files)
            if _is_empty_message(message):
                self._forget_message(int(message["id"]))
                raise _error(400, 50006, "Cannot send an empty message")
            await self._dispatch_message_event("MESSAGE_CREATE", message)
            self._maybe_lose_response()
            return _Reply(body=_copy(message), headers=headers)
        except _ApiError as exc:
            exc.reply.headers.update(headers)
            raise

    def _as_permitted(self, channel_id: int, body: JSON, files: Sequence[UploadedFile]) -> JSON:
        """The message as Discord posts it with the bot's permissions in the channel (see ``mute_channels``,
        ``no_embed_channels``)."""
        if channel_id in self.mute_channels:
            raise _missing_permissions()
        if channel_id in self.no_embed_channels and body.get("embeds"):
            if not (body.get("content") or files or body.get("components") or body.get("sticker_ids")):
                raise _missing_permissions()
            return {**body, "embeds": []}
        return body

    def _find_nonce(self, channel_id: int, nonce: str) -> JSON | None:
        horizon = time.monotonic() - self.nonce_window
        for mid, meta in self._message_meta.items():
            if meta.channel_id == channel_id and meta.nonce == nonce and meta.created_at >= horizon:
                return self._messages[mid]
        return None

    async def _get_message(self, record: RequestRecord) -> _Reply:
        _channel, message = self._channel_message(record)
        return _Reply(body=_copy(message))

    async def _edit_message(self, record: RequestRecord) -> _Reply:
        channel_id = int(record.params["channel_id"])
        assert record.route is not None
        self._maybe_fail(record.route, channel_id)
        headers = self._take_rate_limit(channel_id)
        try:
            _channel, message = self._channel_message(record)
            if message["author"]["id"] != str(self.bot_user_id):
                raise _error(403, 50005, "Cannot edit a message authored by another user")
            body = record.json if isinstance(record.json, dict) else {}
            edited = self._apply_edit(message, body, record.files)
            await self._dispatch_message_event("MESSAGE_UPDATE", edited)
            return _Reply(body=_copy(edited), headers=headers)
        except _ApiError as exc:
            exc.reply.headers.update(headers)
            raise

    async def _start_thread(self, record: RequestRecord) -> _Reply:
        """A public thread from a message: its id is the message's, so a second one is refused (160004)."""
        channel, message = self._channel_message(record)
        if channel.id in self.threads_forbidden:
            raise _error(403, 50013, "Missing Permissions")
        if int(message["id"]) in self.threads:
            raise _error(400, 160004, "A thread has already been created for this message")
        body = record.json if isinstance(record.json, dict) else {}
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _invalid_form({"name": _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")})
        thread = {
            "id": message["id"],
            "type": 11,
            "guild_id": str(channel.guild_id),
            "parent_id": str(channel.id),
            "owner_id": str(self.bot_user_id),
            "name": name,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": _now_iso(),
                "locked": False,
            },
        }
        self.threads[int(message["id"])] = thread
        return _Reply(status=201, body=_copy(thread))

    async def _delete_message(self, record: RequestRecord) -> _Reply:
        _channel, message = self._channel_message(record)
        await self._remove_message(int(message["id"]))
        return _Reply(status=204)

    async def _react(self, record: RequestRecord) -> _Reply:
        self._channel_message(record)
        return _Reply(status=204)

    # ------------------------------------------------------------------ message state

    def _attachments(self, channel_id: int, body: JSON, files: Sequence[UploadedFile], previous: Any) -> list[JSON]:
        by_index = {}
        for upload in files:
            match = re.fullmatch(r"files\[(\d+)\]", upload.field_name)
            if match:
                by_index[int(match.group(1))] = upload
        old = {str(a["id"]): a for a in previous or []}
        result: list[JSON] = []
        wanted = body.get("attachments")
        if wanted is None:
            wanted = [{"id": index} for index in sorted(by_index)]
            if previous and not files:
                return _copy(list(previous))
        for entry in wanted:
            entry_id = str(entry.get("id"))
            if entry_id in old:
                result.append(old[entry_id])
                continue
            uploaded = by_index.get(int(entry_id)) if entry_id.isdigit() else None
            if uploaded is None:
                continue
            attachment_id = self._next_id()
            filename = entry.get("filename") or uploaded.filename or "file"
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}"
            attachment: JSON = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(uploaded.data),
                "url": url,
                "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
            }
            if uploaded.content_type:
                attachment["content_type"] = uploaded.content_type
            if entry.get("description"):
                attachment["description"] = entry["description"]
            result.append(attachment)
        return result

    def _new_message(
        self,
        channel_id: int,
        body: JSON,
        *,
        author: JSON | None = None,
        files: Sequence[UploadedFile] = (),
        extra: JSON | None = None,
        ephemeral: bool = False,
        interaction_id: int | None = None,
        extra_flags: int = 0,
    ) -> JSON:
        message_id = self._next_id()
        embeds = [dict(embed, type=embed.get("type", "rich")) for embed in body.get("embeds") or []]
        flags = (int(body.get("flags") or 0) & _SETTABLE_FLAGS) | extra_flags
        if ephemeral:
            flags |= _FLAG_EPHEMERAL
        message: JSON = {
            "id": str(message_id),
            "type": 0,
            "channel_id": str(channel_id),
            "author": _copy(author or self.bot_user),
            "content": body.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(channel_id, body, files, None),
            "embeds": embeds,
            "pinned": False,
            "flags": flags,
            "components": _number_components(body.get("components") or []),
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id"):
            referenced = self._messages.get(int(reference["message_id"]))
            message["type"] = 19
            message["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel_id),
                "guild_id": str(self._guild_of(channel_id)),
            }
            message["referenced_message"] = None if referenced is None else _copy(referenced)
        if body.get("poll"):
            message["poll"] = _copy(body["poll"])
        if extra:
            message.update(extra)
        self._messages[message_id] = message
        self._message_meta[message_id] = _MessageMeta(
            channel_id=channel_id,
            ephemeral=ephemeral,
            interaction_id=interaction_id,
            nonce=None if body.get("nonce") is None else str(body["nonce"]),
            created_at=time.monotonic(),
        )
        channel = self._channels.get(channel_id)
        if channel is not None and not ephemeral:
            channel.last_message_id = message_id
        return message

    def _apply_edit(self, message: JSON, body: JSON, files: Sequence[UploadedFile] = ()) -> JSON:
        _validate_message_body(body)
        candidate = _copy(message)
        if "content" in body:
            candidate["content"] = body["content"] or ""
        if "embeds" in body:
            candidate["embeds"] = [dict(e, type=e.get("type", "rich")) for e in body["embeds"] or []]
        if "components" in body:
            candidate["components"] = _number_components(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep = candidate["flags"] & ~_SETTABLE_FLAGS
            candidate["flags"] = keep | (int(body["flags"]) & _SETTABLE_FLAGS)
        if "attachments" in body or files:
            candidate["attachments"] = self._attachments(
                int(candidate["channel_id"]), body, files, candidate.get("attachments")
            )
        no_op_on_deferred = bool(candidate["flags"] & _FLAG_LOADING) and not body
        if _is_empty_message(candidate) and not no_op_on_deferred:
            raise _error(400, 50006, "Cannot send an empty message")
        candidate["edited_timestamp"] = _now_iso()
        message.clear()
        message.update(candidate)
        return message

    def _forget_message(self, message_id: int) -> None:
        self._messages.pop(message_id, None)
        self._message_meta.pop(message_id, None)

    async def _remove_message(self, message_id: int) -> None:
        meta = self._message_meta[message_id]
        self._forget_message(message_id)
        if not meta.ephemeral:
            data = {
                "id": str(message_id),
                "channel_id": str(meta.channel_id),
                "guild_id": str(self._guild_of(meta.channel_id)),
            }
            await self._dispatch_intent(INTENT_GUILD_MESSAGES, "MESSAGE_DELETE", data)

    def _guild_of(self, channel_id: int) -> int:
        channel = self._channels.get(channel_id)
        return self.guild_id if channel is None else channel.guild_id

    async def _dispatch_message_event(self, event: str, message: JSON) -> None:
        meta = self._message_meta.get(int(message["id"]))
        if meta is None or meta.ephemeral:
            return
        data = _copy(message)
        data["guild_id"] = str(self._guild_of(meta.channel_id))
        if data["author"]["id"] == str(self.bot_user_id):
            member = self._member_payload(self.bot_user)
            member.pop("user", None)
            data["member"] = member
        await self._dispatch_intent(INTENT_GUILD_MESSAGES, event, data)

    # ------------------------------------------------------------------ REST: application commands

    def _check_application(self, record: RequestRecord) -> int | None:
        if int(record.params["application_id"]) != self.application_id:
            raise _error(403, 50001, "Missing Access")
        if "guild_id" in record.params:
            return self._guild_or_404(record).id
        return None

    def _command_store(self, guild_id: int | None) -> dict[int, JSON]:
        if guild_id is None:
            return self._global_commands
        return self._guild_commands.setdefault(guild_id, {})

    def _stored_command(self, body: JSON, guild_id: int | None) -> JSON:
        command_type = int(body.get("type", 1))
        key = (guild_id, str(body["name"]), command_type)
        command_id = self._command_ids.get(key)
        if command_id is None:
            command_id = self._command_ids[key] = self._next_id()
        command: JSON = {
            "id": str(command_id),
            "application_id": str(self.application_id),
            "version": str(self._next_id()),
            "default_member_permissions": body.get("default_member_permissions"),
            "type": command_type,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", ""),
            "description_localizations": body.get("description_localizations"),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types", [0]),
            "nsfw": body.get("nsfw", False),
        }
        if body.get("options"):
            command["options"] = _copy(body["options"])
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _list_commands(self, record: RequestRecord) -> _Reply:
        guild_id = self._check_application(record)
        return _Reply(body=self.commands(guild_id))

    async def _bulk_commands(self, record: RequestRecord) -> _Reply:
        self._maybe_fail(_COMMAND_SYNC, 0)
        guild_id = self._check_application(record)
        body = record.json if isinstance(record.json, list) else []
        errors: JSON = {}
        names: set[tuple[str, int]] = set()
        for index, command in enumerate(body):
            errors.update(_validate_command(command, str(index)))
            if isinstance(command, dict):
                key = (str(command.get("name")), int(command.get("type", 1)))
                if key in names:
                    errors[str(index)] = {
                        "name": _field_error(
                            "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Application command names must be unique: {key[0]}"
                        )
                    }
                names.add(key)
        if errors:
            raise _invalid_form(errors)
        store = self._command_store(guild_id)
        store.clear()
        for command in body:
            stored = self._stored_command(command, guild_id)
            store[int(stored["id"])] = stored
        self.command_syncs += 1
        return _Reply(body=self.commands(guild_id))

    async def _upsert_command(self, record: RequestRecord) -> _Reply:
        guild_id = self._check_application(record)
        body = record.json if isinstance(record.json, dict) else {}
        errors = _validate_command(body, "command")
        if errors:
            raise _invalid_form(errors["command"])
        store = self._command_store(guild_id)
        stored = self._stored_command(body, guild_id)
        created = int(stored["id"]) not in store
        store[int(stored["id"])] = stored
        return _Reply(status=201 if created else 200, body=_copy(stored))

    def _command_or_404(self, record: RequestRecord) -> tuple[dict[int, JSON], JSON]:
        guild_id = self._check_application(record)
        store = self._command_store(guild_id)
        command = store.get(int(record.params["command_id"]))
        if command is None:
            raise _error(404, 10063, "Unknown application command")
        return store, command

    async def _get_command(self, record: RequestRecord) -> _Reply:
        _store, command = self._command_or_404(record)
        return _Reply(body=_copy(command))

    async def _patch_command(self, record: RequestRecord) -> _Reply:
        _store, command = self._command_or_404(record)
        body = record.json if isinstance(record.json, dict) else {}
        merged = {**command, **body}
        errors = _validate_command(merged, "command")
        if errors:
            raise _invalid_form(errors["command"])
        command.update(body)
        command["version"] = str(self._next_id())
        return _Reply(body=_copy(command))

    async def _delete_command(self, record: RequestRecord) -> _Reply:
        store, command = self._command_or_404(record)
        del store[int(command["id"])]
        return _Reply(status=204)

    # ------------------------------------------------------------------ REST: interactions

    def interaction(self, interaction_id: int) -> InteractionRecord:
        """The record of an interaction sent by ``send_interaction``/``invoke_*``/``click_button``."""
        return self._interactions[interaction_id]

    async def wait_interaction_response(self, interaction_id: int, timeout: float = 5.0) -> JSON:
        """Wait for the bot's initial callback and return its body (``{"type": ..., "data": ...}``)."""
        record = self._interactions[interaction_id]
        await self.wait_for(lambda: record.callback is not None, timeout)
        assert record.callback is not None
        return _copy(record.callback)

    async def wait_interaction_messages(self, interaction_id: int, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        """Wait until ``interaction_messages`` has at least ``count`` entries and return them."""
        record = self._interactions[interaction_id]
        await self.wait_for(lambda: len(record.message_bodies()) >= count, timeout)
        return record.message_bodies()

    def interaction_messages(self, interaction_id: int) -> list[JSON]:
        """Initial callback data (types 4/7), follow-ups and edits for an interaction, in order."""
        return self._interactions[interaction_id].message_bodies()

    def original_response(self, interaction_id: int) -> JSON | None:
        """The current state of the interaction's original response message, if any."""
        record = self._interactions[interaction_id]
        if record.original_message_id is None:
            return None
        return self.message(record.original_message_id)

    def _interaction_for_callback(self, record: RequestRecord) -> InteractionRecord:
        interaction = self._interactions.get(int(record.params["interaction_id"]))
        if interaction is None or not secrets.compare_digest(interaction.token, record.params["token"]):
            raise _unknown_interaction()
        return interaction

    async def _interaction_callback(self, record: RequestRecord) -> _Reply:
        interaction = self._interaction_for_callback(record)
        if interaction.callback is not None:
            raise _error(400, 40060, "Interaction has already been acknowledged.")
        if (
            self.interaction_deadline is not None
            and time.monotonic() - interaction.created_at > self.interaction_deadline
        ):
            raise _unknown_interaction()
        body = record.json if isinstance(record.json, dict) else {}
        response_type = body.get("type")
        allowed = {1: {1}, 2: {4, 5, 9, 12}, 3: {4, 5, 6, 7, 9, 12}, 4: {8}, 5: {4, 5, 6, 7}}
        if response_type not in allowed.get(interaction.type, set()):
            raise _invalid_form(
                {"type": _field_error("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")}
            )
        data = body.get("data") or {}
        message: JSON | None = None
        if response_type == 4:
            _validate_message_body(data)
            message = self._interaction_message(interaction, data, record.files, original=True)
            if _is_empty_message(message):
                self._forget_message(int(message["id"]))
                raise _error(400, 50006, "Cannot send an empty message")
            interaction.original_message_id = int(message["id"])
        elif response_type == 5:
            message = self._interaction_message(
                interaction, {"flags": data.get("flags")}, (), original=True, loading=True
            )
            interaction.original_message_id = int(message["id"])
        elif response_type in (6, 7):
            target = int(interaction.payload["message"]["id"])
            interaction.original_message_id = target
            if response_type == 7:
                stored = self._messages.get(target)
                if stored is None:
                    raise _unknown_message()
                message = self._apply_edit(stored, data, record.files)
        interaction.callback = _copy(body)
        interaction.callback_at = time.monotonic()
        interaction.events.append(
            InteractionEvent("callback", _copy(body), interaction.original_message_id, time.monotonic())
        )
        if message is not None:
            await self._dispatch_message_event("MESSAGE_CREATE" if response_type != 7 else "MESSAGE_UPDATE", message)
        if record.query.get("with_response") not in ("1", "true", "True"):
            return _Reply(status=204)
        callback: JSON = {"id": str(interaction.id), "type": interaction.type}
        if interaction.original_message_id is not None and response_type in (4, 5, 7):
            callback["response_message_id"] = str(interaction.original_message_id)
            callback["response_message_loading"] = response_type == 5
            callback["response_message_ephemeral"] = bool(message and message["flags"] & _FLAG_EPHEMERAL)
        resource: JSON = {"type": response_type}
        if message is not None:
            resource["message"] = _copy(message)
        return _Reply(body={"interaction": callback, "resource": resource})

    def _interaction_message(
        self,
        interaction: InteractionRecord,
        data: JSON,
        files: Sequence[UploadedFile],
        *,
        original: bool,
        loading: bool = False,
    ) -> JSON:
        payload = interaction.payload
        channel_id = int(payload["channel_id"])
        user = payload.get("member", {}).get("user") or payload.get("user")
        metadata: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if interaction.type == 2:
            metadata["name"] = payload["data"]["name"]
        if interaction.type == 3:
            metadata["interacted_message_id"] = payload["message"]["id"]
        if not original and interaction.original_message_id is not None:
            metadata["original_response_message_id"] = str(interaction.original_message_id)
        extra: JSON = {
            "webhook_id": str(self.application_id),
            "application_id": str(self.application_id),
            "interaction_metadata": metadata,
        }
        if original and interaction.type == 2:
            extra["type"] = 20
            extra["interaction"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "name": payload["data"]["name"],
                "user": user,
            }
        flags = int(data.get("flags") or 0)
        return self._new_message(
            channel_id,
            data,
            files=files,
            extra=extra,
            ephemeral=bool(flags & _FLAG_EPHEMERAL),
            interaction_id=interaction.id,
            extra_flags=_FLAG_LOADING if loading else 0,
        )

    def _interaction_for_webhook(self, record: RequestRecord) -> InteractionRecord:
        if int(record.params["webhook_id"]) != self.application_id:
            raise _unknown_webhook()
        token = record.params["token"]
        for interaction in self._interactions.values():
            if secrets.compare_digest(interaction.token, token):
                if time.monotonic() - interaction.created_at > 15 * 60:
                    raise _unknown_webhook()
                return interaction
        raise _unknown_webhook()

    def _webhook_target(self, interaction: InteractionRecord, raw_id: str) -> int:
        if raw_id == "@original":
            if interaction.original_message_id is None:
                raise _unknown_message()
            return interaction.original_message_id
        message_id = int(raw_id)
        if message_id != interaction.original_message_id and message_id not in interaction.followup_ids:
            raise _unknown_message()
        return message_id

    async def _webhook_execute(self, record: RequestRecord) -> _Reply:
        interaction = self._interaction_for_webhook(record)
        if interaction.callback is None:
            raise _unknown_webhook()
        body = record.json if isinstance(record.json, dict) else {}
        _validate_message_body(body)
        message = self._interaction_message(interaction, body, record.files, original=False)
        if _is_empty_message(message):
            self._forget_message(int(message["id"]))
            raise _error(400, 50006, "Cannot send an empty message")
        interaction.followup_ids.append(int(message["id"]))
        interaction.events.append(InteractionEvent("followup", _copy(body), int(message["id"]), time.monotonic()))
        await self._dispatch_message_event("MESSAGE_CREATE", message)
        if record.query.get("wait") in ("1", "true", "True"):
            return _Reply(body=_copy(message))
        return _Reply(status=204)

    async def _webhook_get(self, record: RequestRecord) -> _Reply:
        interaction = self._interaction_for_webhook(record)
        message_id = self._webhook_target(interaction, record.params["message_id"])
        message = self._messages.get(message_id)
        if message is None:
            raise _unknown_message()
        return _Reply(body=_copy(message))

    async def _webhook_edit(self, record: RequestRecord) -> _Reply:
        interaction = self._interaction_for_webhook(record)
        raw_id = record.params["message_id"]
        message_id = self._webhook_target(interaction, raw_id)
        message = self._messages.get(message_id)
        if message is None:
            raise _unknown_message()
        body = record.json if isinstance(record.json, dict) else {}
        was_loading = bool(message["flags"] & _FLAG_LOADING)
        edited = self._apply_edit(message, body, record.files)
        if was_loading:
            edited["flags"] &= ~_FLAG_LOADING
        kind = (
            "edit_original"
            if raw_id == "@original" or message_id == interaction.original_message_id
            else "edit_message"
        )
        interaction.events.append(InteractionEvent(kind, _copy(body), message_id, time.monotonic()))
        await self._dispatch_message_event("MESSAGE_UPDATE", edited)
        return _Reply(body=_copy(edited))

    async def _webhook_delete(self, record: RequestRecord) -> _Reply:
        interaction = self._interaction_for_webhook(record)
        message_id = self._webhook_target(interaction, record.params["message_id"])
        if message_id not in self._messages:
            raise _unknown_message()
        interaction.events.append(InteractionEvent("delete_message", None, message_id, time.monotonic()))
        await self._remove_message(message_id)
        return _Reply(status=204)

    # ------------------------------------------------------------------ payload builders

    def _member_payload(self, user: JSON, permissions: str | None = None, roles: Sequence[int] = ()) -> JSON:
        member: JSON = {
            "user": _copy(user),
            "roles": [str(role_id) for role_id in roles],
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            member["permissions"] = permissions
        return member

    def _guild_payload(self, guild: _Guild) -> JSON:
        everyone = {
            "id": str(guild.id),
            "name": "@everyone",
            "permissions": DEFAULT_MEMBER_PERMISSIONS,
            "position": 0,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [
                everyone,
                *(self._role_payload(rid, name, n) for n, (rid, name) in enumerate(guild.roles.items())),
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500_000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "voice_states": [],
            "members": [self._member_payload(self.bot_user)],
            "channels": [channel.payload(with_guild=False) for channel in guild.channels.values()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    @staticmethod
    def _role_payload(role_id: int, name: str, index: int) -> JSON:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": "0",
            "position": index + 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _channel_payload_for_interaction(self, channel_id: int, guild_id: int, permissions: str) -> JSON:
        channel = self._channels.get(channel_id)
        payload = channel.payload() if channel else _Channel(channel_id, guild_id, f"channel-{channel_id}", 0).payload()
        payload["permissions"] = permissions
        return payload

    def _base_interaction(
        self,
        interaction_type: int,
        *,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        member_permissions: str,
        locale: str,
        roles: Sequence[int] = (),
        in_dm: bool = False,
    ) -> JSON:
        if in_dm:
            return self._dm_interaction(interaction_type, user_id=user_id, locale=locale)
        gid = self.guild_id if guild_id is None else guild_id
        if channel_id is None:
            guild = self._guilds.get(gid)
            if guild is None or not guild.channels:
                raise ValueError(f"guild {gid} has no channels; pass channel_id=")
            channel_id = next(iter(guild.channels))
        user = self.add_user(user_id)
        return {
            "id": str(self._next_id()),
            "application_id": str(self.application_id),
            "type": interaction_type,
            "token": "fake-interaction-" + secrets.token_urlsafe(48),
            "version": 1,
            "guild_id": str(gid),
            "guild": {"id": str(gid), "locale": "en-US", "features": []},
            "guild_locale": "en-US",
            "channel_id": str(channel_id),
            "channel": self._channel_payload_for_interaction(channel_id, gid, member_permissions),
            "member": self._member_payload(user, member_permissions, roles),
            "app_permissions": self.app_permissions,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(gid)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _dm_interaction(self, interaction_type: int, *, user_id: int, locale: str) -> JSON:
        """An interaction from the bot's DM with the user: no guild, no member, a DM channel (type 1)."""
        user = self.add_user(user_id)
        channel = {"id": str(self._next_id()), "type": 1, "recipients": [_copy(user)], "last_message_id": None}
        return {
            "id": str(self._next_id()),
            "application_id": str(self.application_id),
            "type": interaction_type,
            "token": "fake-interaction-" + secrets.token_urlsafe(48),
            "version": 1,
            "channel_id": channel["id"],
            "channel": channel,
            "user": _copy(user),
            "app_permissions": self.app_permissions,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _find_command(self, name: str, guild_id: int, command_type: int) -> tuple[JSON, bool]:
        for command in self._guild_commands.get(guild_id, {}).values():
            if command["name"] == name and command["type"] == command_type:
                return command, True
        for command in self._global_commands.values():
            if command["name"] == name and command["type"] == command_type:
                return command, False
        known = [c["name"] for c in self._global_commands.values()] + [
            c["name"] for c in self._guild_commands.get(guild_id, {}).values()
        ]
        raise LookupError(
            f"no command {name!r} (type {command_type}) registered globally or for guild {guild_id}; "
            f"did the bot sync its command tree? registered: {sorted(known)}"
        )

    def _option_payloads(
        self,
        schema: Sequence[JSON],
        options: Mapping[str, Any] | Sequence[JSON] | None,
        resolved: JSON,
        *,
        guild_id: int,
        focused: str | None,
        raw_values: bool = False,
    ) -> list[JSON]:
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            return [_copy(dict(option)) for option in options]
        by_name = {str(option["name"]): option for option in schema}
        built: list[JSON] = []
        for name, value in options.items():
            option = by_name.get(name)
            if option is None:
                raise ValueError(f"command has no option {name!r}; options: {sorted(by_name)}")
            option_type = int(option["type"])
            if option_type in (1, 2):
                raise ValueError(f"{name!r} is a subcommand; pass subcommand={name!r}")
            if name == focused:
                built.append({"name": name, "type": option_type, "value": value, "focused": True})
                continue
            if raw_values:
                resolves = option_type in (6, 7, 8, 9)
                sent = self._option_value(option_type, value, resolved, guild_id) if resolves else value
                built.append({"name": name, "type": option_type, "value": sent})
                continue
            choices = option.get("choices")
            if choices and value not in [choice["value"] for choice in choices]:
                raise ValueError(f"{value!r} is not one of the choices for {name!r}: {choices}")
            _check_limits(option, value)
            built.append(
                {"name": name, "type": option_type, "value": self._option_value(option_type, value, resolved, guild_id)}
            )
        if focused is None:
            missing = [str(o["name"]) for o in schema if o.get("required") and o["name"] not in options]
            if missing:
                raise ValueError(f"required options missing: {missing} (Discord would not send this)")
        return built

    def _option_value(self, option_type: int, value: Any, resolved: JSON, guild_id: int) -> Any:
        if option_type == 3:
            return str(value)
        if option_type == 4:
            return int(value)
        if option_type == 5:
            return bool(value)
        if option_type == 10:
            return float(value)
        if option_type in (6, 9):
            user = self.add_user(int(value))
            resolved.setdefault("users", {})[str(value)] = _copy(user)
            member = self._member_payload(user, DEFAULT_MEMBER_PERMISSIONS)
            member.pop("user")
            resolved.setdefault("members", {})[str(value)] = member
            return str(value)
        if option_type == 7:
            channel = self._channel_payload_for_interaction(int(value), guild_id, DEFAULT_MEMBER_PERMISSIONS)
            resolved.setdefault("channels", {})[str(value)] = channel
            return str(value)
        if option_type == 8:
            role = {
                "id": str(value),
                "name": f"role-{value}",
                "permissions": "0",
                "position": 1,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
            resolved.setdefault("roles", {})[str(value)] = role
            return str(value)
        if option_type == 11:
            if not isinstance(value, Mapping):
                raise ValueError("attachment options take an attachment payload dict")
            attachment = dict(value)
            attachment.setdefault("id", str(self._next_id()))
            resolved.setdefault("attachments", {})[str(attachment["id"])] = attachment
            return str(attachment["id"])
        return value

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON] | None,
        subcommand: str | None,
        *,
        guild_id: int,
        member_permissions: str,
        enforce_permissions: bool,
        focused: str | None = None,
        command_guild_id: int | None = None,
        raw_values: bool = False,
    ) -> JSON:
        lookup = guild_id if command_guild_id is None else command_guild_id
        command, is_guild_command = self._find_command(name, lookup, 1)
        required = command.get("default_member_permissions")
        if enforce_permissions and required is not None:
            have = int(member_permissions)
            need = int(required)
            if not have & ADMINISTRATOR and (need == 0 or have & need != need):
                raise PermissionError(
                    f"/{name} needs default_member_permissions={required} but the member has {member_permissions}; "
                    "Discord would not offer the command (pass enforce_permissions=False to send it anyway)"
                )
        resolved: JSON = {}
        schema: list[JSON] = list(command.get("options") or [])
        path = subcommand.split() if subcommand else []
        wrappers: list[JSON] = []
        for part in path:
            match = next((o for o in schema if o["name"] == part and o["type"] in (1, 2)), None)
            if match is None:
                raise ValueError(f"/{name} has no subcommand (group) {part!r}")
            wrappers.append({"name": part, "type": match["type"], "options": []})
            schema = list(match.get("options") or [])
        leaf = self._option_payloads(
            schema, options, resolved, guild_id=guild_id, focused=focused, raw_values=raw_values
        )
        top = leaf
        for wrapper in reversed(wrappers):
            wrapper["options"] = top
            top = [wrapper]
        data: JSON = {"id": command["id"], "name": name, "type": 1, "options": top}
        if resolved:
            data["resolved"] = resolved
        if is_guild_command:
            data["guild_id"] = str(lookup)
        return data

    # ------------------------------------------------------------------ sending interactions

    async def send_interaction(self, data: JSON) -> int:
        """Send a raw INTERACTION_CREATE payload (needs ``id``, ``type`` and ``token``); returns its id."""
        payload = _copy(dict(data))
        interaction_id = int(payload["id"])
        self._interactions[interaction_id] = InteractionRecord(
            id=interaction_id,
            token=str(payload["token"]),
            type=int(payload["type"]),
            payload=payload,
            created_at=time.monotonic(),
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction_id

    async def invoke_slash(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON] | None = None,
        *,
        subcommand: str | None = None,
        user_id: int = DEFAULT_USER_ID,
        member_permissions: str = DEFAULT_MEMBER_PERMISSIONS,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
        enforce_permissions: bool = True,
        roles: Sequence[int] = (),
        raw_values: bool = False,
        command_guild_id: int | None = None,
        in_dm: bool = False,
    ) -> int:
        """Invoke a synced chat-input command as a guild member; returns the interaction id.

        ``options`` is either ``{"name": value}`` (types taken from the synced schema; users,
        channels and roles get ``resolved`` entries) or a raw list of Discord option dicts.
        ``subcommand`` is ``"sub"`` or ``"group sub"``.  ``roles`` are the member's role ids (see
        ``add_role``).  Raises ``LookupError`` if the command was never synced and ``PermissionError``
        if the member lacks ``default_member_permissions``; ``ValueError`` for a value Discord would refuse
        (out of the option's range or length), unless ``raw_values``: then every value is sent as given, without
        conversion or check.  ``command_guild_id`` takes the command from that guild's synced commands while the
        interaction comes from ``guild_id``; ``in_dm`` sends it from a DM (commands looked up as for ``guild_id``).
        """
        base = self._base_interaction(
            2,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            member_permissions=member_permissions,
            locale=locale,
            roles=roles,
            in_dm=in_dm,
        )
        base["data"] = self._command_data(
            name,
            options,
            subcommand,
            guild_id=int(base.get("guild_id") or (self.guild_id if guild_id is None else guild_id)),
            member_permissions=member_permissions,
            enforce_permissions=enforce_permissions and not in_dm,
            command_guild_id=command_guild_id,
            raw_values=raw_values,
        )
        return await self.send_interaction(base)

    async def invoke_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON],
        *,
        focused: str | None = None,
        subcommand: str | None = None,
        user_id: int = DEFAULT_USER_ID,
        member_permissions: str = DEFAULT_MEMBER_PERMISSIONS,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
        command_guild_id: int | None = None,
        in_dm: bool = False,
    ) -> int:
        """Send an APPLICATION_COMMAND_AUTOCOMPLETE (type 4); ``focused`` defaults to the last option.
        ``command_guild_id`` and ``in_dm`` as for ``invoke_slash``."""
        if focused is None and isinstance(options, Mapping):
            focused = list(options)[-1]
        base = self._base_interaction(
            4,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            member_permissions=member_permissions,
            locale=locale,
            in_dm=in_dm,
        )
        base["data"] = self._command_data(
            name,
            options,
            subcommand,
            guild_id=int(base.get("guild_id") or (self.guild_id if guild_id is None else guild_id)),
            member_permissions=member_permissions,
            enforce_permissions=False,
            focused=focused or "",
            command_guild_id=command_guild_id,
        )
        return await self.send_interaction(base)

    def _resolve_stored_message(self, message: JSON | int | str) -> JSON:
        message_id = int(message["id"]) if isinstance(message, Mapping) else int(message)
        stored = self._messages.get(message_id)
        if stored is None:
            raise LookupError(f"no stored message {message_id}")
        return stored

    async def click_button(
        self,
        message: JSON | int | str,
        custom_id: str | None = None,
        *,
        label: str | None = None,
        user_id: int = DEFAULT_USER_ID,
        member_permissions: str = DEFAULT_MEMBER_PERMISSIONS,
        locale: str = "en-US",
        guild_id: int | None = None,
        in_dm: bool = False,
    ) -> int:
        """Click a button (by ``custom_id`` or ``label``) on a stored message; returns the interaction id.

        The click comes from the message's guild, or from ``guild_id`` / a DM (``in_dm``) when given: what the
        real Discord would not send, for a bot that must refuse it all the same."""
        stored = self._resolve_stored_message(message)
        buttons = [c for c in _iter_components(stored.get("components")) if c.get("type") == 2]
        button = next(
            (
                b
                for b in buttons
                if (custom_id is None or b.get("custom_id") == custom_id) and (label is None or b.get("label") == label)
            ),
            None,
        )
        if button is None or (custom_id is None and label is None):
            available = [(b.get("custom_id"), b.get("label")) for b in buttons]
            raise LookupError(f"no button custom_id={custom_id!r} label={label!r} on message; buttons: {available}")
        if button.get("disabled"):
            raise ValueError(f"button {button.get('label')!r} is disabled; Discord would not send a click")
        if "custom_id" not in button:
            raise ValueError("link/premium buttons do not send interactions")
        data = {"custom_id": button["custom_id"], "component_type": 2, "id": button.get("id")}
        return await self._component_interaction(
            stored, data, user_id, member_permissions, locale, guild_id=guild_id, in_dm=in_dm
        )

    async def choose_select(
        self,
        message: JSON | int | str,
        custom_id: str,
        values: Sequence[str],
        *,
        user_id: int = DEFAULT_USER_ID,
        member_permissions: str = DEFAULT_MEMBER_PERMISSIONS,
        locale: str = "en-US",
    ) -> int:
        """Pick ``values`` in a select menu on a stored message; returns the interaction id."""
        stored = self._resolve_stored_message(message)
        menu = next(
            (c for c in _iter_components(stored.get("components")) if c.get("custom_id") == custom_id),
            None,
        )
        if menu is None or menu.get("type") not in (3, 5, 6, 7, 8):
            raise LookupError(f"no select menu {custom_id!r} on message")
        data = {"custom_id": custom_id, "component_type": menu["type"], "values": list(values), "id": menu.get("id")}
        return await self._component_interaction(stored, data, user_id, member_permissions, locale)

    async def _component_interaction(
        self,
        stored: JSON,
        data: JSON,
        user_id: int,
        member_permissions: str,
        locale: str,
        *,
        guild_id: int | None = None,
        in_dm: bool = False,
    ) -> int:
        channel_id = int(stored["channel_id"])
        base = self._base_interaction(
            3,
            guild_id=self._guild_of(channel_id) if guild_id is None else guild_id,
            channel_id=channel_id,
            user_id=user_id,
            member_permissions=member_permissions,
            locale=locale,
            in_dm=in_dm,
        )
        base["message"] = _copy(stored)
        base["data"] = data
        return await self.send_interaction(base)

    # ------------------------------------------------------------------ gateway

    @property
    def connected(self) -> bool:
        """Whether some identified client currently holds an open gateway connection."""
        return any(s.connection is not None and s.connection.is_open and not s.ended for s in self._sessions.values())

    def heartbeat_gaps(self, connection_id: int | None = None) -> list[float]:
        """Seconds between consecutive heartbeats on the same connection (all connections by default)."""
        gaps: list[float] = []
        last: dict[int, float] = {}
        for beat in self.heartbeats:
            if connection_id is not None and beat.connection_id != connection_id:
                continue
            if beat.connection_id in last:
                gaps.append(beat.timestamp - last[beat.connection_id])
            last[beat.connection_id] = beat.timestamp
        return gaps

    async def _send_frame(self, connection: GatewayConnection, frame: JSON) -> bool:
        async with connection.send_lock:
            if not connection.is_open:
                return False
            try:
                await connection.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                return False
        self.gateway_frames.append(
            GatewayFrame(
                "out", frame.get("op"), frame.get("t"), frame.get("s"), frame.get("d"), time.monotonic(), connection.id
            )
        )
        return True

    async def _dispatch_to(self, session: _Session, event: str, data: Any) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": _copy(data)}
        session.backlog.append(frame)
        del session.backlog[:-5000]
        if session.connection is not None:
            await self._send_frame(session.connection, frame)

    async def dispatch(self, event: str, data: Any, *, session_id: str | None = None) -> int:
        """Send a DISPATCH (op 0) to every live session (or one); returns how many got it.

        Sessions whose connection is momentarily down keep the event in their backlog and get it
        replayed on RESUME, as Discord does.  Raises ``RuntimeError`` if no client ever identified.
        """
        sessions = [
            s for s in self._sessions.values() if not s.ended and (session_id is None or s.session_id == session_id)
        ]
        if not sessions:
            raise RuntimeError(f"cannot dispatch {event}: no gateway session (has the client connected?)")
        for session in sessions:
            await self._dispatch_to(session, event, data)
        await self._notify()
        return len(sessions)

    async def _dispatch_intent(self, intent: int, event: str, data: Any) -> None:
        for session in list(self._sessions.values()):
            if not session.ended and session.intents & intent:
                await self._dispatch_to(session, event, data)

    def _live_connections(self) -> list[GatewayConnection]:
        return [connection for connection in self.gateway_connections if connection.is_open]

    async def disconnect_gateway(self, code: int = 4000, reason: str = "fake disconnect") -> int:
        """Close every gateway connection from the server side; returns how many were closed.

        With a resumable code (default 4000; 1000 also counts for discord.py) the client reconnects to
        ``resume_gateway_url`` and RESUMEs; events dispatched meanwhile are replayed.  4007/4009 and
        other session-ending codes make the next RESUME fail with op 9.
        """
        closed = 0
        for connection in self._live_connections():
            connection.closed_by_server = True
            session = self._sessions.get(connection.session_id or "")
            if session is not None and session.connection is connection:
                session.connection = None
                if code in _SESSION_ENDING_CLOSE_CODES - {1000, 1001}:
                    session.ended = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.ws.close(code=code, message=reason.encode()), 5.0)
            closed += 1
        await self._notify()
        return closed

    @contextlib.asynccontextmanager
    async def gateway_outage(self, code: int = 4000) -> AsyncIterator[None]:
        """Disconnect the gateway and hold reconnects (socket accepted, no HELLO) until the block exits.

        Events dispatched inside the block (``invoke_slash`` ...) can only reach the bot through the
        RESUME replay, which makes the backlog behaviour deterministic to test.  REST keeps working.
        """
        self._gateway_gate.clear()
        try:
            await self.disconnect_gateway(code, "fake outage")
            yield
        finally:
            self._gateway_gate.set()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        for connection in self._live_connections():
            await self._send_frame(connection, {"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the client must IDENTIFY again."""
        for connection in self._live_connections():
            session = self._sessions.get(connection.session_id or "")
            if session is not None and not resumable:
                session.ended = True
            await self._send_frame(connection, {"op": 9, "d": resumable, "s": None, "t": None})

    async def request_heartbeat(self) -> None:
        """Send op 1 HEARTBEAT; the client must answer with a heartbeat immediately."""
        for connection in self._live_connections():
            await self._send_frame(connection, {"op": 1, "d": None, "s": None, "t": None})

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        connection = GatewayConnection(
            id=next(self._connection_ids),
            path=request.path,
            query=dict(request.query),
            opened_at=time.monotonic(),
            ws=ws,
        )
        self.gateway_connections.append(connection)
        await self._gateway_gate.wait()  # held by gateway_outage()
        trace = [f'["fake-gateway",{{"micros":0,"calls":["connection-{connection.id}"]}}]']
        await self._send_frame(
            connection,
            {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval, "_trace": trace}, "s": None, "t": None},
        )
        await self._notify()
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    try:
                        frame = json.loads(message.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    await self._on_gateway_frame(connection, frame)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Binary payloads are not supported by the fake.")
                    break
                elif message.type == aiohttp.WSMsgType.ERROR:
                    break
        finally:
            connection.closed_at = time.monotonic()
            connection.close_code = ws.close_code
            session = self._sessions.get(connection.session_id or "")
            if session is not None and session.connection is connection:
                session.connection = None
                if not connection.closed_by_server and ws.close_code in (1000, 1001):
                    session.ended = True
            await self._notify()
        return ws

    async def _on_gateway_frame(self, connection: GatewayConnection, frame: Any) -> None:
        if not isinstance(frame, dict):
            await connection.ws.close(code=4002, message=b"Error while decoding payload.")
            return
        op = frame.get("op")
        data = frame.get("d")
        self.gateway_frames.append(
            GatewayFrame("in", op, frame.get("t"), frame.get("s"), data, time.monotonic(), connection.id)
        )
        if op == 1:
            self.heartbeats.append(
                HeartbeatRecord(
                    time.monotonic(), data if isinstance(data, int) else None, connection.id, self.ack_heartbeats
                )
            )
            if self.ack_heartbeats:
                await self._send_frame(connection, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(connection, data if isinstance(data, dict) else {})
        elif op == 6:
            await self._resume(connection, data if isinstance(data, dict) else {})
        elif connection.session_id is None:
            await connection.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 3:
            self.presences.append(_copy(data) if isinstance(data, dict) else {})
        elif op == 8:
            await self._request_members(connection, data if isinstance(data, dict) else {})
        elif op not in (4,):
            await connection.ws.close(code=4001, message=b"Unknown opcode.")
        await self._notify()

    async def _identify(self, connection: GatewayConnection, data: JSON) -> None:
        if connection.session_id is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if self.token is not None and data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies.append(_copy(data))
        if isinstance(data.get("presence"), dict):
            self.presences.append(_copy(data["presence"]))
        session = _Session(
            session_id=uuid.uuid4().hex,
            intents=int(data.get("intents") or 0),
            shard=data.get("shard"),
            connection=connection,
        )
        self._sessions[session.session_id] = session
        connection.session_id = session.session_id
        ready: JSON = {
            "v": 10,
            "user": self.bot_user,
            "user_settings": {},
            "guilds": [{"id": str(gid), "unavailable": True} for gid in self._guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "_trace": ['["fake-gateway-prd",{"micros":0}]'],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._dispatch_to(session, "READY", ready)
        if session.intents & INTENT_GUILDS or not self.guild_create_requires_intent:
            for guild in self._guilds.values():
                await self._dispatch_to(session, "GUILD_CREATE", self._guild_payload(guild))

    async def _resume(self, connection: GatewayConnection, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        token_ok = self.token is None or data.get("token") == self.token
        if session is None or session.ended or not token_ok:
            await self._send_frame(connection, {"op": 9, "d": False, "s": None, "t": None})
            return
        previous = session.connection
        if previous is not None and previous is not connection and previous.is_open:
            previous.closed_by_server = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(previous.ws.close(code=4000, message=b"Session resumed elsewhere."), 2.0)
        self.resumes.append(_copy(data))
        session.connection = connection
        connection.session_id = session.session_id
        last_seen = data.get("seq") or 0
        for frame in list(session.backlog):
            if frame["s"] > last_seen:
                await self._send_frame(connection, frame)
        await self._dispatch_to(session, "RESUMED", {"_trace": ['["fake-gateway-prd",{"micros":0}]']})

    async def _request_members(self, connection: GatewayConnection, data: JSON) -> None:
        session = self._sessions.get(connection.session_id or "")
        if session is None:
            return
        guild_ids = data.get("guild_id")
        for raw_gid in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            if raw_gid is None:
                continue
            gid = int(raw_gid)
            members = [self._member_payload(self.bot_user)] + [self._member_payload(u) for u in self._users.values()]
            chunk: JSON = {
                "guild_id": str(gid),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)


# --------------------------------------------------------------------------------------------
# discord.py timing helper
# --------------------------------------------------------------------------------------------


class _ScaledAsyncio:
    """Stands in for the ``asyncio`` module inside discord.http / discord.webhook.async_."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(delay * self._scale, result)


@contextlib.contextmanager
def fast_discord_retries(scale: float = 0.01) -> Iterator[None]:
    """Scale every ``asyncio.sleep`` in discord.py's HTTP and webhook layers by ``scale``.

    discord.py waits 1, 3, 5, 7 s between 5xx retries, which makes "Discord hiccups" tests slow.
    This swaps the module-global ``asyncio`` those two modules use for a proxy with a scaled
    ``sleep``.  It also scales rate-limit sleeps (``retry_after`` and pre-emptive bucket waits), so
    don't combine it with ``FakeDiscord.rate_limit()`` tests.
    """
    modules = (discord.http, discord.webhook.async_)
    originals = [module.asyncio for module in modules]
    proxy = _ScaledAsyncio(scale)
    try:
        for module in modules:
            setattr(module, "asyncio", proxy)  # noqa: B010 - assigning a non-module on purpose
        yield
    finally:
        for module, original in zip(modules, originals, strict=True):
            setattr(module, "asyncio", original)  # noqa: B010


@contextlib.asynccontextmanager
async def running_fake(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """``async with running_fake(channels=[1]) as fake:`` - started and pointed at, restored after."""
    async with FakeDiscord(**kwargs) as fake:
        fake.point_discord_py_here()
        yield fake
