"""Filling an entry's sentence template with an event's values (see `EventKind.sentence`).

`{subject}` is the server (its display name) in bold, `{host}` the host, `{Key}` a Data value; all escaped by
the caller. A part in `[...]` is dropped when a value in it was not reported, `[...|otherwise]` shows
`otherwise` then; a missing value outside brackets means the sentence cannot be said, and the caller says
something else. The keys a sentence said are returned with it, so they are not repeated as fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\[([^\[\]]*)\]|\{(\w+)\}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache  # templates are the vocabulary's: a few dozen
def placeholders(template: str) -> tuple[str, ...]:
    """The keys a template can say, so that only their values need escaping."""
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(template)))


def _fill_plain(text: str, values: Mapping[str, str], used: set[str]) -> str | None:
    keys = _PLACEHOLDER.findall(text)
    if any(key not in values for key in keys):
        return None
    used.update(keys)
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)  # one pass: values are never re-read


def fill(template: str, values: Mapping[str, str]) -> tuple[str, set[str]] | None:
    """The sentence and the keys it used, or None when a value it cannot do without is missing."""
    used: set[str] = set()
    out: list[str] = []
    position = 0
    for token in _TOKEN.finditer(template):
        out.append(template[position : token.start()])
        position = token.end()
        key = token.group(2)
        if key is not None:
            if key not in values:
                return None
            used.add(key)
            out.append(values[key])
            continue
        present, _, otherwise = token.group(1).partition("|")
        filled = _fill_plain(present, values, used)
        if filled is None:
            filled = _fill_plain(otherwise, values, used)
        if filled is None:
            return None
        out.append(filled)
    out.append(template[position:])
    return "".join(out), used
