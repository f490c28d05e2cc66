"""Telegram HTML never cut where Telegram would refuse it: not inside a tag or an entity, no tag left open."""

from __future__ import annotations

import re
from html import escape

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.html_text import ELLIPSIS, cut_html, split_message

TOKENS = st.sampled_from(["路灯", "a", " ", "&amp;", "&lt;", "&#39;", "&quot;", "<b>x</b>", "<code>350 823 614</code>",
                          "<i>", "</i>", "\n"])
TAG = re.compile(r"<(/?)([a-z]+)[^>]*>")


def _balanced(html: str) -> bool:
    stack: list[str] = []
    for closing, name in TAG.findall(html):
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def _no_broken_entity_or_tag(html: str) -> bool:
    stripped = re.sub(r"&(#\d+|[a-z]+);", "", TAG.sub("", html))
    return "&" not in stripped and "<" not in stripped and ">" not in stripped


@given(st.lists(TOKENS, max_size=80).map("".join).filter(_balanced), st.integers(min_value=12, max_value=200))
def test_a_cut_text_is_valid_html_within_the_limit(html: str, limit: int) -> None:
    cut = cut_html(html, limit)
    assert len(cut) <= limit
    assert _balanced(cut) and _no_broken_entity_or_tag(cut)
    assert cut == html or ELLIPSIS in cut  # a shortened text says so


def test_a_text_that_fits_is_left_alone() -> None:
    assert cut_html("<b>工单</b> &amp; 路灯", 100) == "<b>工单</b> &amp; 路灯"


def test_an_entity_is_never_split() -> None:
    text = "a" * 8 + "&quot;" * 5
    for limit in range(9, 30):
        assert _no_broken_entity_or_tag(cut_html(text, limit))


def test_an_open_tag_is_closed_after_the_cut() -> None:
    cut = cut_html("<b>" + "长" * 50 + "</b>", 20)
    assert cut.startswith("<b>") and cut.endswith(ELLIPSIS + "</b>") and len(cut) <= 20


@given(st.lists(st.text(alphabet="路灯ab<>&\"", max_size=300).map(escape), max_size=40),
       st.integers(min_value=50, max_value=500))
def test_messages_split_between_lines_and_stay_under_the_limit(lines: list[str], limit: int) -> None:
    parts = split_message(lines, limit, continued="(续)")
    assert all(len(p) <= limit for p in parts)
    assert all(_no_broken_entity_or_tag(p) for p in parts)
    assert all(p.startswith("(续)") for p in parts[1:])
