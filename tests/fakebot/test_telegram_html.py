"""Telegram HTML rules: what is valid, why not, and what a person reads."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.telegram_html import (
    HtmlEntity,
    find_html_error,
    find_html_problem,
    html_to_text,
    parse_html,
    visible_length,
)

VALID = [
    "plain text",
    "",
    "<b>bold</b> <strong>strong</strong> <i>i</i> <em>em</em> <u>u</u> <ins>ins</ins>",
    "<s>s</s> <strike>strike</strike> <del>del</del>",
    '<span class="tg-spoiler">secret</span> <tg-spoiler>secret</tg-spoiler>',
    '<a href="https://example.org/?a=1&amp;b=2">link</a>',
    "<a href='tg://user?id=123'>mention</a>",
    "<code>x &lt; y</code>",
    "<pre>block</pre>",
    '<pre><code class="language-python">print("hi")</code></pre>',
    "<blockquote>quote</blockquote>",
    "<blockquote expandable>long quote</blockquote>",
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    "<b>bold <i>italic <u>underline</u></i></b>",
    "<B>upper case tags</B>",
    "a &gt; b &amp;&amp; c &lt; d &quot;q&quot; &#39; &#x1F600;",
    "a > b is allowed bare",
    "<b >spaces in tags</b >",
    "Back of the thigh\nand calf",
]

INVALID = [
    ("<div>x</div>", "unsupported tag <div>"),
    ("<b>x", "unclosed tag <b>"),
    ("a & b", "unescaped '&'"),
    ("AT&T", "unescaped '&'"),
    ("<b><i>x</b></i>", "tag <i> closed by </b>"),
    ("<b>x</strong>", "tag <b> closed by </strong>"),
    ("1 < 2", "unescaped '<'"),
    ("<3", "unescaped '<'"),
    ("x</b>", "unexpected end tag </b>"),
    ("&nbsp;", "unsupported entity &nbsp;"),
    ("&#0;", "unsupported entity &#0;"),
    ("&#xD800;", "unsupported entity &#xD800;"),
    ("&amp", "unescaped '&'"),
    ("<span>x</span>", 'tag <span> needs class="tg-spoiler"'),
    ('<span class="other">x</span>', 'tag <span> needs class="tg-spoiler"'),
    ("<tg-emoji>x</tg-emoji>", "tag <tg-emoji> needs a numeric emoji-id"),
    ("line<br/>break", "unsupported self-closing tag <br/>"),
    ("line<br>break", "unsupported tag <br>"),
    ("<code><b>x</b></code>", "tag <b> inside <code>"),
    ("<pre><i>x</i></pre>", "tag <i> inside <pre>"),
    ("<blockquote><blockquote>x</blockquote></blockquote>", "nested <blockquote>"),
    ('<a href="https://x.org/?a=1&b=2">l</a>', "unescaped '&' in an attribute of <a>"),
    ("<b", "unescaped '<'"),
    ("<!-- comment -->", "unescaped '<'"),
    ("</div>", "unsupported tag </div>"),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_html_has_no_error(text: str) -> None:
    assert find_html_error(text) is None


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_html_names_the_problem(text: str, reason: str) -> None:
    assert find_html_error(text) == reason


def test_problem_points_at_the_offending_character() -> None:
    problem = find_html_problem("Rest & stretch")
    assert problem is not None
    assert problem.position == 5


def test_text_is_what_a_person_reads() -> None:
    assert html_to_text("<b>Calf</b> &amp; <i>thigh</i> &lt;3 &#x1F600;") == "Calf & thigh <3 😀"


def test_visible_length_ignores_tags_and_counts_entities_once() -> None:
    assert visible_length("<b>ab</b>&amp;") == 3
    assert visible_length("x" * 4096) == 4096
    assert visible_length("<b>" + "x" * 4096 + "</b>") == 4096


def test_entities_use_utf16_offsets_like_the_bot_api() -> None:
    parsed = parse_html('😀 <b>bold</b> <a href="https://e.org">link</a>')
    assert parsed.text == "😀 bold link"
    assert parsed.entities == (
        HtmlEntity("bold", 3, 4),
        HtmlEntity("text_link", 8, 4, url="https://e.org"),
    )


def test_pre_takes_the_language_of_its_code_block() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert parsed.entities == (HtmlEntity("pre", 0, 5, language="python"),)
    assert parsed.entities[0].to_dict() == {
        "type": "pre",
        "offset": 0,
        "length": 5,
        "language": "python",
    }


def test_nested_entities_are_sorted_outer_first() -> None:
    parsed = parse_html("<b>a<i>b</i></b><blockquote expandable>c</blockquote>")
    assert [(e.type, e.offset, e.length) for e in parsed.entities] == [
        ("bold", 0, 2),
        ("italic", 1, 1),
        ("expandable_blockquote", 2, 1),
    ]


def test_empty_tags_make_no_entity() -> None:
    assert parse_html("<b></b>x").entities == ()


@given(st.text())
def test_escaped_text_is_always_valid_and_reads_the_same(text: str) -> None:
    escaped = html.escape(text)
    assert find_html_error(escaped) is None
    assert html_to_text(escaped) == text
    assert visible_length(escaped) == len(text)


@given(st.text())
def test_escaped_text_stays_valid_inside_formatting(text: str) -> None:
    wrapped = f"<b>{html.escape(text)}</b> <i><u>{html.escape(text)}</u></i>"
    assert find_html_error(wrapped) is None


SOUP = st.lists(
    st.sampled_from(
        [
            "<b>",
            "</b>",
            "<i>",
            "</i>",
            "<pre>",
            "</pre>",
            '<code class="language-py">',
            "</code>",
            "<blockquote expandable>",
            "</blockquote>",
            '<a href="https://e.org">',
            "</a>",
            '<span class="tg-spoiler">',
            "</span>",
            "<div>",
            "<",
            ">",
            "&",
            "&amp;",
            "&#x1F600;",
            "&#",
            "text",
            "😀",
            " ",
            "\n",
            "=",
            '"',
            "/",
        ]
    )
).map("".join)


@given(st.one_of(SOUP, st.text()))
def test_tag_soup_never_crashes_and_entities_fit_the_text(text: str) -> None:
    parsed = parse_html(text)
    utf16_length = len(parsed.text.encode("utf-16-le")) // 2
    for entity in parsed.entities:
        assert entity.length > 0
        assert entity.offset >= 0
        assert entity.offset + entity.length <= utf16_length
    assert (parsed.problem is None) == (find_html_error(text) is None)
    assert visible_length(text) == len(parsed.text)
