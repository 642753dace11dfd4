"""Split a byte stream into JSON documents, whatever the framing KGSM used.

KGSM sends one pretty-printed document per connection, newer versions one compact line, and relays may
send NDJSON or documents back to back. The official bot took each 1 KiB read as one message and lost
payloads split across reads; this splitter is fed arbitrary chunks (down to single bytes) and yields each
document as soon as its closing bracket arrives. It only tracks brackets and strings, never recursion, so it
also refuses absurd nesting before `json` ever sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.events.parsing import MAX_NESTING, RefusalReason

_STRUCTURAL = re.compile(rb'[{}\[\]"]')
_STRING_END = re.compile(rb'["\\]')
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class Junk:
    """Bytes that cannot be a JSON document, with the reason."""

    reason: RefusalReason
    detail: str


class DocumentSplitter:
    """Incremental splitter: `feed()` chunks, iterate the yielded documents (bytes) or `Junk`."""

    def __init__(self, max_depth: int = MAX_NESTING) -> None:
        self._buffer = bytearray()
        self._scan = 0  # how far the current document has been scanned
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
        self._depth = 0
        self._in_string = False
        self._too_deep = False

    def _next(self) -> bytes | Junk | None:
        buf = self._buffer
        if self._scan == 0:
            start = 0
            while start < len(buf) and buf[start] in _WHITESPACE:
                start += 1
            del buf[:start]
            if not buf:
                return None
            if buf[0] not in b"{[":
                return self._take_stray_line()
        return self._scan_document()

    def _take_stray_line(self) -> Junk | None:
        """Text that does not open an object or array: consume it up to the end of its line."""
        end = self._buffer.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return Junk(RefusalReason.NOT_JSON, f"stray text that is not a JSON object: {line[:40]!r}")

    def _scan_document(self) -> bytes | Junk | None:
        buf = self._buffer
        pos = self._scan
        while pos < len(buf):
            if self._in_string:
                match = _STRING_END.search(buf, pos)
                if match is None:
                    pos = len(buf)
                    break
                if match.group() == b"\\":
                    if match.end() >= len(buf):
                        pos = match.start()  # wait for the escaped character
                        break
                    pos = match.end() + 1
                    continue
                self._in_string = False
                pos = match.end()
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

    def _complete(self, end: int) -> bytes | Junk:
        document = bytes(self._buffer[:end])
        del self._buffer[:end]
        too_deep = self._too_deep
        self._reset()
        if too_deep:
            return Junk(RefusalReason.TOO_DEEP, f"nested deeper than {self._max_depth} levels")
        return document
