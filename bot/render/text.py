"""Making text from events inert and readable in Discord.

Everything a KGSM event carries (server names, player names, commands, unknown types and keys) may hold
markdown, mentions or tricks. `safe` escapes every character Discord's markdown gives a meaning to, wherever
it stands (not only the first masked link), breaks mentions, and drops control and bidirectional-override
characters that could make a line read differently from what it says. `truncate` shortens without leaving a
code span or an escape open.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata

# Characters that format, link, quote or escape wherever they stand in Discord markdown …
_MARKDOWN = re.compile(r"([\\*_~`|<>\[\]()])")
# … what starts a heading, a list or a quote at the start of a line, and what makes an address a link.
_LINE_START = re.compile(r"^(\s*)(?:([#+-])(?=[\s#])|(\d+)\.(?=\s))", re.MULTILINE)
_LINK = re.compile(r":(?=//)")
_MENTION = re.compile(r"@(?=[\w!&#])")
# C0/C1 controls except newline and tab, bidirectional embeddings, overrides and isolates, and marks.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
ELLIPSIS = "…"
# What may be a network address inside a name: a dotted quad (with a port), or an IPv6 address (checked).
_IPV4 = re.compile(r"(?<!\d)\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?!\d)")
_IPV6 = re.compile(r"\[?(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])\]?(?::\d{1,5})?")
ADDRESS_HIDDEN = "‹address hidden›"


def visible(value: object) -> str:
    """The text without control and bidi-override characters (for places without markdown)."""
    return _INVISIBLE.sub("", str(value))


def hide_addresses(text: str) -> str:
    """`text` with every IPv4 or IPv6 address in it replaced (a player may be named after one, or KGSM may
    one day put one in a name): addresses are never shown. Run it before `safe`."""

    def ipv6(match: re.Match[str]) -> str:
        candidate = match[0].lstrip("[").split("]")[0]
        try:
            ipaddress.IPv6Address(candidate.split("%")[0])
        except ValueError:
            return match[0]
        return ADDRESS_HIDDEN

    return _IPV6.sub(ipv6, _IPV4.sub(ADDRESS_HIDDEN, text))


def unmention(text: str) -> str:
    """Break every `@` that could start a mention with an invisible space.

    Messages are also sent with mentions disabled; this keeps `@everyone` from even looking like one.
    """
    return _MENTION.sub("@\u200b", text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark, number = match.groups()
    return f"{indent}\\{mark}" if mark else f"{indent}{number}\\."


def _escaped(text: str) -> str:
    text = _MARKDOWN.sub(r"\\\1", visible(text))
    text = _LINE_START.sub(_escape_line_start, text)
    return unmention(_LINK.sub("\\:", text))


# The same few texts come back in every message (server and player names, labels, hosts), and escaping one
# takes five passes (about 5 µs even for a short name): short texts are remembered, within a small bound.
_escaped_short = functools.lru_cache(maxsize=1024)(_escaped)
_SHORT = 200  # characters


def safe(value: object) -> str:
    """Text from an event, escaped so that it can neither format, link, quote nor ping."""
    text = value if type(value) is str else str(value)
    return _escaped_short(text) if len(text) <= _SHORT else _escaped(text)


def plain(value: object, limit: int = 100) -> str:
    """Text for places Discord shows as typed (footers, autocomplete): visible characters, no mentions."""
    text = " ".join(unmention(visible(value)).split())
    return truncate(text, limit)


def code(value: object) -> str:
    """Inline code for commands and keys; backticks inside are replaced so the span cannot break."""
    text = unmention(visible(value)).replace("`", "ˋ").replace("\n", " ")
    return f"`{text}`" if text else "`(empty)`"


def words(key: str) -> str:
    """`ExitCode` → `Exit code`: a readable label for a Data key nobody taught us."""
    spaced = _CAMEL.sub(" ", key).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced else key


def _open_code_spans(text: str) -> bool:
    """Whether `text` ends inside an inline code span (an unescaped backtick without its partner)."""
    count, escaped = 0, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "`":
            count += 1
    return count % 2 == 1


def _drop_dangling_escape(text: str) -> str:
    """Without a lone trailing backslash, which would escape whatever is appended (the ellipsis)."""
    trailing = len(text) - len(text.rstrip("\\"))
    return text[:-1] if trailing % 2 else text


def truncate(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in an ellipsis when cut; never leaves a code span or an escape
    open, never splits a character from its combining marks."""
    if len(text) <= limit:
        return text
    if limit < 3:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    cut = _drop_dangling_escape(cut)
    if _open_code_spans(cut):
        cut = _drop_dangling_escape(cut[: limit - 2])  # room to close the span
        if _open_code_spans(cut):
            return cut + "`" + ELLIPSIS
    return cut + ELLIPSIS
