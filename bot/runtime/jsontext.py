"""JSON on the hot path, through orjson: decoding and encoding were a tenth of intake's CPU (docs/BENCHMARKS.md).

The bot accepts exactly what the standard library accepts: what orjson refuses (a lone surrogate escape, which
the parser then replaces by U+FFFD; `NaN`; nesting past orjson's limit, which the caller refuses as too deep)
is decoded again by `json`, so a refusal still carries the standard library's reason. Encoding falls back the
same way for what orjson cannot write (an integer wider than 64 bits). Two things differ, neither of which KGSM
sends (jq writes neither): integers wider than 64 bits are decoded as floats, and `NaN` or an infinity (which a
hostile sender may write, and the standard library reads) is written back as `null`, so the database holds
valid JSON. `canonical` writes the bytes the standard library wrote before it (so an event stored by an earlier
version keeps its de-duplication key) except for floats in exponent notation (`1e-05` is now `0.00001`).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """The document in `data`; `ValueError` (or `RecursionError`) exactly when `json.loads` would raise."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as it is (what the database stores)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def canonical(value: Any) -> bytes:
    """Compact UTF-8 JSON with sorted keys: the same bytes for the same document, whatever its key order."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
