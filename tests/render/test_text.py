"""Text from events is inert in Discord (issue 13.7): every markdown construct, wherever it stands, mentions,
links, bidirectional overrides; truncation never leaves a code span or an escape open (no network)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.events import parse_event
from bot.render import render_event
from bot.render.text import code, plain, safe, truncate, visible

MARKDOWN = set("\\*_~`|<>[]()")
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
pieces = st.one_of(
    st.text(
        alphabet=st.one_of(
            st.characters(codec=None, categories=None, exclude_categories=[]),
            st.sampled_from(list("*_~`|<>[]()#-+.:/@\\\n \u202e\u2066")),
        ),
        max_size=8,
    ),
    st.sampled_from(["[x](https://evil.example)", "@everyone", "@here", "<@123>", "||s||", "```", "\n1. ", "\n# "]),
)
hostile = st.lists(pieces, max_size=10).map("".join)


def unescaped_markdown(text: str) -> list[str]:
    """Markdown characters in `text` that no backslash escapes (a backslash may only start an escape)."""
    found, position = [], 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char in MARKDOWN:
            found.append(char)
        position += 1
    return found


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


@settings(max_examples=500, deadline=None)
@given(hostile)
def test_safe_text_formats_links_quotes_and_pings_nothing(raw: str) -> None:
    shown = safe(raw)
    assert unescaped_markdown(shown) == []
    assert not INVISIBLE.search(shown)
    assert "@everyone" not in shown
    assert "@here" not in shown
    assert not re.search(r"(?<!\\)://", shown), "an address would be a link"
    for line in shown.splitlines():
        assert not re.match(r"\s*([#+-]|\d+\.)\s", line), line
    # Nothing is lost but what cannot be shown safely: the text reads as it was (an `@` the text already
    # followed by an invisible space reads the same as one the bot broke).
    assert unescape(shown).replace("@\u200b", "@") == visible(raw).replace("@\u200b", "@")


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_a_long_text_is_escaped_as_fully_as_a_short_one_and_a_repeated_one_alike(raw: str) -> None:
    """Short texts are escaped once and remembered; long ones each time: both ways must be as safe."""
    long = (raw + "\n") * (300 // (len(raw) + 1) + 1)
    assert len(long) > 200
    shown = safe(long)
    assert unescaped_markdown(shown) == []
    assert "@everyone" not in shown
    assert unescape(shown).replace("@\u200b", "@") == visible(long).replace("@\u200b", "@")
    assert safe(raw) == safe(raw) == safe(str(raw))


def test_every_masked_link_is_broken_not_only_the_first() -> None:
    shown = safe("[Free Nitro](https://evil.example) and [Free Nitro](https://evil.example)")
    assert shown.count("\\[Free Nitro\\]\\(https\\://evil.example\\)") == 2


def test_right_to_left_overrides_are_removed() -> None:
    assert safe("evil\u202eexe.txt") == "evilexe.txt"
    assert plain("a\u2066b\u2069c") == "abc"


@settings(max_examples=500, deadline=None)
@given(hostile, st.integers(min_value=0, max_value=120))
def test_truncation_never_opens_a_code_span_or_an_escape(raw: str, limit: int) -> None:
    for text in (safe(raw), code(raw), f"{code(raw)} then {safe(raw)}"):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        if cut != text and limit >= 1:
            assert cut.endswith("…")
            body = cut[:-1]
            assert (len(body) - len(body.rstrip("\\"))) % 2 == 0, "a dangling backslash would escape what follows"
            assert unescaped_markdown(body).count("`") % 2 == 0, "a code span was cut open"


def test_a_code_span_cut_in_the_middle_is_closed() -> None:
    cut = truncate("see `a very long command line` here", 12)
    assert cut == "see `a ver`…"


@settings(max_examples=200, deadline=None)
@given(name=hostile, key=hostile, value=hostile, event_type=hostile)
def test_events_render_inert_everywhere(name: str, key: str, value: str, event_type: str) -> None:
    """Unknown types and Data keys reach titles and field names: they are made inert there too."""
    payload = {
        "EventType": event_type.strip() or "x",
        "Data": {"InstanceName": name or "s", key or "k": value, "PlayerName": value},
        "Actor": value,
        "Hostname": name,
        "Summary": value,
    }
    try:
        event = parse_event(payload)
    except ValueError:
        return  # refused with a reason (an EventType too long, say): nothing to render
    embed = render_event(event)
    texts = [embed.title or "", embed.description or ""]
    texts += [f.name or "" for f in embed.fields] + [f.value or "" for f in embed.fields]
    for text in texts:
        assert not INVISIBLE.search(text)
        assert "@everyone" not in text
        outside_code = re.sub(r"`[^`]*`", "", text.replace("\\`", ""))
        assert "](" not in outside_code.replace("\\](", "").replace("\\]\\(", "")
    footer = embed.footer.text or ""
    assert not INVISIBLE.search(footer)
    assert "@everyone" not in footer
