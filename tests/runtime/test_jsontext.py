"""The hot path's JSON (bot/runtime/jsontext.py) accepts and refuses exactly what the standard library does, and
writes what the database always held."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.events import parse_event
from bot.runtime import jsontext

# Text that is JSON for the standard library but that orjson refuses or reads otherwise.
ONLY_THE_STANDARD_LIBRARY_READS = [
    b'{"EventType": "instance_started", "Data": {"InstanceName": "\\ud800"}}',  # a lone surrogate escape
    b'{"EventType": "instance_started", "Data": {"Players": NaN}}',
    b'{"EventType": "instance_started", "Data": {"Load": Infinity}}',
]


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right) and type(left) is type(right)


@pytest.mark.parametrize("text", ONLY_THE_STANDARD_LIBRARY_READS, ids=["surrogate", "nan", "infinity"])
def test_what_orjson_refuses_is_read_as_the_standard_library_reads_it(text: bytes) -> None:
    assert _same(jsontext.loads(text), json.loads(text))


def test_nesting_too_deep_for_both_is_the_standard_librarys_recursion_error() -> None:
    with pytest.raises(RecursionError):
        jsontext.loads(b"[" * 5000 + b"]" * 5000)  # the intake refuses it as too deep (bot/events/parsing.py)


def test_numbers_json_cannot_hold_are_written_as_null_so_the_database_holds_json() -> None:
    assert jsontext.dumps({"Players": math.nan, "Load": math.inf}) == '{"Players":null,"Load":null}'


def test_a_lone_surrogate_still_becomes_a_replacement_character_in_the_event() -> None:
    event = parse_event(jsontext.loads(ONLY_THE_STANDARD_LIBRARY_READS[0]))
    assert event.instance == "\ufffd"


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_anything_is_refused_exactly_when_the_standard_library_refuses_it(data: bytes) -> None:
    try:
        expected: Any = json.loads(data)
    except (ValueError, RecursionError) as refusal:
        with pytest.raises(type(refusal)):
            jsontext.loads(data)
    else:
        decoded = jsontext.loads(data)
        if not isinstance(expected, int) or abs(expected) < 2**63:  # wider integers: see the module docstring
            assert _same(decoded, expected)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_written_text_reads_back_as_the_same_value(value: Any) -> None:
    assert _same(json.loads(jsontext.dumps(value)), value)


WITHOUT_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), WITHOUT_FLOATS, max_size=6))
def test_the_canonical_form_ignores_key_order_and_is_the_bytes_the_standard_library_wrote(
    document: dict[str, Any],
) -> None:
    reordered = dict(reversed(list(document.items())))
    assert jsontext.canonical(reordered) == jsontext.canonical(document)
    standard = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert jsontext.canonical(document) == standard  # so stored events keep their de-duplication keys


def test_only_floats_in_exponent_notation_are_written_otherwise_than_before() -> None:
    assert jsontext.canonical({"Cpu": 93.5, "Load": [0.25, 1.0]}) == b'{"Cpu":93.5,"Load":[0.25,1.0]}'
    assert jsontext.canonical({"Tiny": 1e-05}) == b'{"Tiny":0.00001}'  # the standard library wrote 1e-05


def test_an_integer_wider_than_64_bits_is_still_written() -> None:
    assert jsontext.dumps({"Big": 2**70}) == '{"Big":1180591620717411303424}'
    assert jsontext.canonical({"Big": 2**70}) == b'{"Big":1180591620717411303424}'
