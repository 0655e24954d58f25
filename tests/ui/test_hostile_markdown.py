"""The one markdown sanitiser (`hitl.ui.text.escape_markdown`, as `md_escape`, `safe_markdown` and
the schema form's labels) against a corpus of hostile markdown.

Each case is parsed back with a CommonMark parser (markdown-it-py): the result must be plain
paragraphs of text (no link, image, heading, HTML, list, quote, table, code or emphasis), hold
none of the patterns Streamlit turns into links, icons, emoji or colours *after* parsing (bare
`www.`/`https://`/e-mail addresses, `:name:`, `:material/x:`, `:red[...]`), escape every `$`
(math), and read back as the words that went in, invisible characters shown as `[U+200B]`.
tests/e2e/test_hostile_markdown_browser.py renders the same corpus in Chromium.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from hitl.ui import context
from hitl.ui.text import visible_controls
from tests.ui.conftest import plain
from tests.ui.hostile_corpus import CORPUS

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py parses the sanitiser's output back")

_MD = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
_PLAIN_BLOCKS = {"paragraph_open", "paragraph_close", "inline"}
_PLAIN_INLINE = {"text", "softbreak", "hardbreak"}
# What Streamlit's renderer links or converts after parsing (mdast autolink-literal, its emoji,
# icon and colour plugins), matched on the parsed text where escapes no longer count.
_AFTER_PARSE = re.compile(
    r"https?://|\bwww\.|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|:[\w+-]+[:\[{/]|::",
    re.IGNORECASE,
)


def _parsed_text(markdown: str) -> str:
    """The text a CommonMark renderer shows for `markdown`; fails on anything but plain text."""
    tokens = _MD.parse(markdown)
    structure = {token.type for token in tokens} - _PLAIN_BLOCKS
    assert not structure, f"markdown structure survived: {sorted(structure)} in {markdown!r}"
    paragraphs = []
    for token in tokens:
        if token.type != "inline":
            continue
        inline = {child.type for child in token.children or []} - _PLAIN_INLINE
        assert not inline, f"inline markup survived: {sorted(inline)} in {markdown!r}"
        paragraphs.append("".join("\n" if child.type != "text" else child.content for child in token.children or []))
    return "\n\n".join(paragraphs)


def _readable(text: str, *, single_line: bool) -> str:
    """What a reader should see: the text with invisible characters written out, lines kept
    (blank runs as one paragraph break) or joined."""
    shown = visible_controls(text)
    if single_line:
        return " ".join(shown.split())
    lines = [line.rstrip() for line in shown.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [re.sub(r"^[ \t]+", lambda m: m.group().replace("\t", "    "), line) for line in lines]
    text = "\n".join(lines)
    return re.sub(r"\n(?:[ \t]*\n)+", "\n\n", text).strip("\n")


def assert_inert(markdown: str, source: str, *, single_line: bool) -> None:
    """`markdown` (the sanitiser's output for `source`) renders as `source`'s words, nothing live."""
    seen = _parsed_text(markdown)
    shown = seen.replace("\u2060", "").replace("\u00a0", " ")
    assert shown == _readable(source, single_line=single_line), "the words must read back as written"
    assert not _AFTER_PARSE.search(seen), f"a post-parse link/icon/emoji pattern survived in {seen!r}"
    assert "$" not in re.sub(r"\\.", "", markdown), f"an unescaped $ (math) in {markdown!r}"
    for char in "\u202e\u200b\u2066":
        assert char not in markdown


@pytest.mark.parametrize(("name", "source"), CORPUS, ids=[name for name, _ in CORPUS])
def test_safe_markdown_leaves_nothing_live(name: str, source: str) -> None:
    assert_inert(context.safe_markdown(source), source, single_line=False)


@pytest.mark.parametrize(("name", "source"), CORPUS, ids=[name for name, _ in CORPUS])
def test_md_escape_leaves_nothing_live(name: str, source: str) -> None:
    assert_inert(context.md_escape(source), source, single_line=True)


_MARKDOWNISH = st.lists(
    st.sampled_from([*"abc xyz:/@.w-=#*_[]()<>!`~$&|\\+{}^\"'\n\t1", "www.", "https://", ":material/", "\u202e", "\u200b"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MARKDOWNISH)
def test_any_mix_of_markdown_characters_stays_text(source: str) -> None:
    assert_inert(context.safe_markdown(source), source, single_line=False)
    assert_inert(context.md_escape(source), source, single_line=True)


# --------------------------------------------------------------------------- the schema form


def _hostile_form(cases: list[tuple[str, str]]) -> None:  # runs as a script: builtins only at module level
    from hitl.ui.schema_form import render_schema_form

    properties: dict[str, Any] = {}
    for index, (_, text) in enumerate(cases):
        properties[f"f{index}"] = {"type": "string", "title": text, "description": text}
    properties["pick"] = {"enum": [text for _, text in cases[:8]], "title": "Pick"}
    properties["many"] = {"type": "array", "items": {"type": "string", "title": "item " + cases[0][1]},
                          "title": cases[1][1], "minItems": 1}
    render_schema_form({"type": "object", "title": "T", "properties": properties, "required": ["pick"]}, key="hostile")


def test_schema_form_labels_help_and_options_are_text() -> None:
    at = AppTest.from_function(_hostile_form, args=(CORPUS,), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for index, (_, source) in enumerate(CORPUS):
        widget = at.text_input(key=f"hostile:f{index}")
        assert_inert(widget.label, source, single_line=True)
        assert_inert(widget.help, source, single_line=False)
    # Selectbox options are plain text, not markdown: shown as written, invisible characters visible.
    assert at.selectbox(key="hostile:pick").options == [visible_controls(text) for _, text in CORPUS[:8]]
    count = at.number_input(key="hostile:many#count")
    assert count.label.endswith(": number of items")
    assert_inert(count.label.removesuffix(": number of items"), CORPUS[1][1], single_line=True)
    # An array item's label is escaped once (it used to be escaped twice: "\\\\[").
    item = at.text_input(key="hostile:many[0]")
    assert_inert(item.label, CORPUS[1][1] + " 1", single_line=True)


def _field_with_hidden_value() -> None:
    from hitl.ui.schema_form import render_schema_form

    render_schema_form({"type": "object", "properties": {"to": {"type": "string", "title": "Recipient"}}},
                       key="hidden", initial={"to": "make_pay\u200bment\u202e"})


def test_a_form_field_holding_invisible_characters_keeps_them_and_says_so() -> None:
    at = AppTest.from_function(_field_with_hidden_value, default_timeout=60)
    at.run()
    assert at.text_input(key="hidden:to").value == "make_pay\u200bment\u202e"  # the agent's exact text
    (warning,) = [plain(w.value) for w in at.warning]
    assert warning.startswith("The value of Recipient contains invisible characters (U+200B ZERO WIDTH SPACE, "
                              "U+202E RIGHT-TO-LEFT OVERRIDE)")
    assert warning.endswith("with them shown it reads: make_pay[U+200B]ment[U+202E]")
