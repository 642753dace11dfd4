"""Split a byte stream into JSON documents, whatever the framing KGSM used.

KGSM sends one pretty-printed document per connection, newer versions one compact line, and relays may
send NDJSON or documents back to back. The official bot took each 1 KiB read as one message and lost
payloads split across reads; this splitter is fed arbitrary chunks (down to single bytes) and yields each
document as soon as its closing bracket arrives. It only tracks brackets and strings, never recursion, so it
also refuses absurd nesting before `json` ever sees it.

Junk must cost little: a megabyte of stray lines used to be half a million refusals, each one Python object and
one log line. Whitespace is skipped and stray text is found with regular expressions over the whole buffer, and a
run of consecutive stray lines is one `Junk` item that says how many lines (inputs) it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.events.parsing import MAX_NESTING, RefusalReason

_STRUCTURAL = re.compile(rb'[{}\[\]"]')
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)  # up to the closing quote (or a final backslash)
_QUOTE = ord('"')
_FLAT_BODY = rb'(?:[^{}\[\]"]++|"(?:[^"\\]++|\\.)*+")*+'
# A whole document without brackets inside (outside its strings): found in one go, a flood of `{}` stays cheap.
_FLAT_DOCUMENT = re.compile(rb"\{" + _FLAT_BODY + rb"\}|\[" + _FLAT_BODY + rb"\]", re.DOTALL)
_BULK = 4096  # bytes outside strings whose brackets are counted at once …
_BULK_DEPTH = 8  # … once a document nests this deep (KGSM's nest 3 or 4 levels)
_WHITESPACE = b" \t\r\n"
_LEADING_WHITESPACE = re.compile(rb"[ \t\r\n]*+")
_DOCUMENT_LINE = re.compile(rb"^[ \t\r]*+[{\[]", re.MULTILINE)  # a line whose text opens an object or array
_BLANK_LINE = re.compile(rb"^[ \t\r]*+\n", re.MULTILINE)
_SHOWN = 40  # bytes of stray text quoted in a refusal


@dataclass(frozen=True)
class Junk:
    """Bytes that cannot be a JSON document, with the reason; `count` inputs (a run of stray lines is many)."""

    reason: RefusalReason
    detail: str
    count: int = 1


class DocumentSplitter:
    """Incremental splitter: `feed()` chunks, iterate the yielded documents (bytes) or `Junk`."""

    def __init__(self, max_depth: int = MAX_NESTING) -> None:
        self._buffer = bytearray()
        self._scan = 0  # how far the current document has been scanned
        self._stray_scan = 0  # how far the current stray line has been searched for its end
        self._depth = 0
        self._in_string = False
        self._too_deep = False
        self._max_depth = max_depth

    def feed(self, chunk: bytes) -> Iterator[bytes | Junk]:
        self._buffer += chunk
        while True:
            item = self._next()
            if item is None:
                return
            yield item

    def finish(self) -> Iterator[bytes | Junk]:
        """At EOF: whatever is left is an unfinished document or stray text."""
        rest = bytes(self._buffer).strip(_WHITESPACE)
        self._buffer.clear()
        self._reset()
        if rest:
            yield Junk(RefusalReason.NOT_JSON, f"unfinished document at end of stream ({len(rest)} bytes)")

    @property
    def pending(self) -> int:
        """Bytes held for a document that has not ended yet."""
        return len(self._buffer)

    def _reset(self) -> None:
        self._scan = 0
        self._stray_scan = 0
        self._depth = 0
        self._in_string = False
        self._too_deep = False

    def _next(self) -> bytes | Junk | None:
        buf = self._buffer
        if self._scan == 0:
            match = _LEADING_WHITESPACE.match(buf)
            if match is not None and match.end():
                del buf[: match.end()]
            if not buf:
                return None
            if buf[0] not in b"{[":
                return self._take_stray_lines()
            flat = _FLAT_DOCUMENT.match(buf)
            if flat is not None:
                return self._complete(flat.end())
        return self._scan_document()

    def _take_stray_lines(self) -> Junk | None:
        """Text that does not open an object or array: consume it up to the end of its line, with every line
        after it that does not open one either (blank lines between them are skipped, not counted)."""
        buf = self._buffer
        first_end = buf.find(b"\n", self._stray_scan)
        if first_end < 0:
            self._stray_scan = len(buf)  # resume the search there when more arrives
            return None
        self._stray_scan = 0
        document = _DOCUMENT_LINE.search(buf, first_end + 1)
        end = document.start() if document is not None else buf.rfind(b"\n") + 1
        run = bytes(buf[:end])
        first = run[: min(first_end, _SHOWN)]
        del buf[:end]
        lines = run.count(b"\n") - len(_BLANK_LINE.findall(run))
        if lines == 1:
            return Junk(RefusalReason.NOT_JSON, f"stray text that is not a JSON object: {first!r}")
        detail = f"{lines:,} lines of stray text that are not JSON objects, the first {first!r}"
        return Junk(RefusalReason.NOT_JSON, detail, lines)

    def _scan_document(self) -> bytes | Junk | None:
        buf = self._buffer
        pos = self._scan
        while pos < len(buf):
            if self._in_string:
                end = _STRING_BODY.match(buf, pos)
                pos = end.end() if end is not None else pos
                if pos >= len(buf) or buf[pos] != _QUOTE:
                    break  # the string goes on (or a backslash waits for the character it escapes)
                self._in_string = False
                pos += 1
                continue
            skipped = self._skip_brackets(pos)
            if skipped > pos:
                pos = skipped
                continue
            match = _STRUCTURAL.search(buf, pos)
            if match is None:
                pos = len(buf)
                break
            char = match.group()
            pos = match.end()
            if char == b'"':
                self._in_string = True
            elif char in b"{[":
                self._depth += 1
                if self._depth > self._max_depth:
                    self._too_deep = True
            else:
                self._depth -= 1
                if self._depth == 0:
                    return self._complete(pos)
        self._scan = pos
        return None

    def _skip_brackets(self, pos: int) -> int:
        """Past up to `_BULK` bytes outside strings at once, when counting their brackets is enough: the document
        cannot end in them (fewer closing brackets than open ones) and they decide nothing about the depth limit.
        Returns `pos` when the brackets must be followed one by one."""
        if self._depth < _BULK_DEPTH and not self._too_deep:
            return pos  # an ordinary document: its few brackets are cheaper to follow one by one
        buf = self._buffer
        end = min(len(buf), pos + _BULK)
        quote = buf.find(b'"', pos, end)
        if quote >= 0:
            end = quote
        closes = buf.count(b"}", pos, end) + buf.count(b"]", pos, end)
        if closes >= self._depth:
            return pos
        opens = buf.count(b"{", pos, end) + buf.count(b"[", pos, end)
        if not self._too_deep and self._depth + opens > self._max_depth:
            return pos
        self._depth += opens - closes
        return end

    def _complete(self, end: int) -> bytes | Junk:
        document = bytes(self._buffer[:end])
        del self._buffer[:end]
        too_deep = self._too_deep
        self._reset()
        if too_deep:
            return Junk(RefusalReason.TOO_DEEP, f"nested deeper than {self._max_depth} levels")
        return document
