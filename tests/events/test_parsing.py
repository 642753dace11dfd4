"""The event model: every era's shape, ids for de-duplication, refusals with reasons (no network)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.events import (
    Event,
    EventRefused,
    Family,
    RefusalReason,
    canonical_type,
    decode_event,
    first_reported,
    kind_of,
    parse_event,
    reported,
)
from bot.events.framing import DocumentSplitter, Junk
from tests.helpers import FIXTURES


def test_subject_comes_from_each_eras_key() -> None:
    assert parse_event({"EventType": "x", "Data": {"Instance": "a"}}).instance == "a"
    assert parse_event({"EventType": "x", "Data": {"InstanceId": "b"}}).instance == "b"
    assert parse_event({"EventType": "x", "Data": {"InstanceName": "c"}}).instance == "c"
    blueprint = parse_event({"EventType": "blueprint_created", "Data": {"BlueprintName": "d"}})
    assert (blueprint.instance, blueprint.blueprint, blueprint.subject) == (None, "d", "d")


def test_timestamp_prefers_the_envelope_then_data_then_receipt() -> None:
    received = datetime(2030, 1, 1, tzinfo=UTC)
    both = {"EventType": "x", "Timestamp": "2026-08-14T12:00:01.500Z", "Data": {"Timestamp": "2024-01-01T00:00:00Z"}}
    assert parse_event(both).timestamp == datetime(2026, 8, 14, 12, 0, 1, 500000, tzinfo=UTC)
    assert parse_event({"EventType": "x", "Data": {"Timestamp": "2024-12-19T15:30:00Z"}}).timestamp == datetime(
        2024, 12, 19, 15, 30, tzinfo=UTC
    )
    assert parse_event({"EventType": "x"}, received_at=received).timestamp == received
    assert parse_event({"EventType": "x", "Timestamp": "yesterday"}, received_at=received).timestamp == received


def test_envelope_fields_of_both_naming_eras() -> None:
    old = parse_event({"EventType": "x", "KGSMVersion": "2.4.0", "Hostname": "h", "Actor": "kgsm", "Origin": None})
    new = parse_event(
        {"V": 1, "EventType": "x", "ProducerVersion": "3.1.0", "Actor": "discord:ada", "Origin": "discord"}
    )
    assert (old.producer_version, old.host, old.actor, old.origin, old.envelope_version) == (
        "2.4.0",
        "h",
        "kgsm",
        None,
        0,
    )
    assert (new.producer_version, new.actor, new.origin, new.envelope_version) == ("3.1.0", "discord:ada", "discord", 1)


def test_the_envelope_id_is_the_event_id() -> None:
    event = parse_event({"V": 2, "Id": "0190f1e2-7c3a-7b7e-9a41-5d2f6c1b8e01", "EventType": "instance_crashed"})
    assert event.id == "0190f1e2-7c3a-7b7e-9a41-5d2f6c1b8e01"


def test_the_same_timestamped_payload_gets_the_same_id_from_any_source() -> None:
    line = (FIXTURES / "journal" / "2026-08-14.ndjson").read_text().splitlines()[0]
    from_journal = decode_event(line.encode(), source="journal")
    pretty_again = json.dumps(json.loads(line), indent=2).encode()
    from_socket = decode_event(pretty_again, received_at=datetime(2031, 1, 1, tzinfo=UTC), source="socket")
    assert from_journal.id == from_socket.id


def test_untimestamped_payloads_received_apart_are_different_events() -> None:
    """2024 KGSM sent no timestamp: two real starts of one server must not be merged into one."""
    payload = {"EventType": "instance_started", "Data": {"InstanceId": "factorio"}}
    first = parse_event(payload, received_at=datetime(2024, 12, 1, tzinfo=UTC))
    second = parse_event(payload, received_at=datetime(2024, 12, 2, tzinfo=UTC))
    assert first.id != second.id


def test_event_is_immutable() -> None:
    event = parse_event({"EventType": "instance_ports_opened", "Data": {"InstanceName": "a", "Ports": [{"start": 1}]}})
    with pytest.raises(AttributeError):
        event.type = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.data["InstanceName"] = "b"  # type: ignore[index]
    with pytest.raises(TypeError):
        event.data["Ports"][0]["start"] = 2


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([1, 2], RefusalReason.NOT_OBJECT),
        ("text", RefusalReason.NOT_OBJECT),
        ({"Data": {}}, RefusalReason.NO_EVENT_TYPE),
        ({"EventType": 42}, RefusalReason.BAD_EVENT_TYPE),
        ({"EventType": "  "}, RefusalReason.BAD_EVENT_TYPE),
        ({"EventType": "x", "Data": "factorio"}, RefusalReason.BAD_DATA),
        ({"EventType": "x", "Data": {"a": _nested(40)}}, RefusalReason.TOO_DEEP),
    ],
)
def test_refusals_have_reasons(document: Any, reason: RefusalReason) -> None:
    with pytest.raises(EventRefused) as refused:
        parse_event(document)
    assert refused.value.reason is reason


def test_unknown_event_types_are_accepted_in_family_other() -> None:
    event = parse_event({"EventType": "instance_teleported", "Data": {"InstanceName": "a"}})
    assert event.family is Family.OTHER
    assert event.kind.label == "teleported"


def test_the_vocabulary_covers_every_legacy_type_kgsm_has_emitted_with_its_family() -> None:
    known = json.loads((FIXTURES / "catalogue.json").read_text())
    for event_type, facts in known.items():
        kind = kind_of(canonical_type(event_type))
        assert kind.known, event_type
        assert kind.family.value == facts["family"], event_type
        assert kind.label


def test_dashed_cli_spelling_is_normalised() -> None:
    assert parse_event({"EventType": "instance-started"}).type == "server.started"


def _split_all(chunks: list[bytes]) -> list[bytes | Junk]:
    splitter = DocumentSplitter()
    items: list[bytes | Junk] = []
    for chunk in chunks:
        items.extend(splitter.feed(chunk))
    items.extend(splitter.finish())
    return items


def test_splitter_handles_braces_and_escapes_inside_strings() -> None:
    document = b'{"EventType": "x", "Data": {"Note": "} ] \\" \\\\ {"}}'
    assert _split_all([document[i : i + 1] for i in range(len(document))]) == [document]


def test_splitter_refuses_absurd_nesting_without_recursing() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    (item,) = _split_all([deep])
    assert isinstance(item, Junk)
    assert item.reason is RefusalReason.TOO_DEEP


def _decode_everything(data: bytes, cut: int) -> list[Event]:
    events = []
    for item in _split_all([data[:cut], data[cut:]]):
        if isinstance(item, bytes):
            with contextlib.suppress(EventRefused):
                events.append(decode_event(item))
    return events


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.integers(min_value=0, max_value=2048))
def test_random_bytes_never_raise_out_of_the_parser(data: bytes, cut: int) -> None:
    _decode_everything(data, cut)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from(["EventType", "Data", "Timestamp", "Id", "V", "Hostname"]))
def test_random_json_never_raises_anything_but_a_refusal(value: Any, key: str) -> None:
    for document in (value, {key: value}, {"EventType": "instance_started", key: value}):
        try:
            event = parse_event(document)
        except EventRefused:
            continue
        assert event.timestamp.tzinfo is not None
        _decode_everything(json.dumps(document).encode(), 3)


# What KGSM writes where it has nothing to say, in the cases and spacing it has been seen to use.
_NOTHING = (
    st.sampled_from(["", "unknown", "null", "none", "n/a"])
    .flatmap(
        lambda word: st.tuples(st.sampled_from([word, word.upper(), word.title()]), st.sampled_from(["", " ", "\t\n"]))
    )
    .map(lambda parts: parts[1] + parts[0] + parts[1])
)
_REPORTABLE = st.one_of(
    _NOTHING, st.text(), st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)
)


def _reported_by_definition(value: Any) -> str | None:
    """What `reported` means, written the slow and obvious way."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    return None if text.lower() in {"", "unknown", "null", "none", "n/a"} else text


@given(_REPORTABLE)
def test_reported_means_what_it_says_for_any_value(value: Any) -> None:
    # Any Unicode (characters whose lower case is longer included): the fast path skips lowering long texts.
    assert reported(value) == _reported_by_definition(value)


@given(st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), _REPORTABLE), st.permutations(["A", "B", "C"]))
def test_first_reported_is_the_first_key_really_reported(data: dict[str, Any], keys: list[str]) -> None:
    expected = next((text for key in keys if (text := _reported_by_definition(data.get(key))) is not None), None)
    assert first_reported(data, keys) == expected
