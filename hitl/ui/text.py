"""Show untrusted text as text: one markdown sanitiser, invisible characters made visible.

Streamlit renders markdown in `st.markdown`, `st.caption`, alerts, widget labels and help,
expander and tab labels. Text that comes from payloads, graph state, error messages or
reviewers goes through `escape_markdown` (the one sanitiser; `hitl.ui.context.md_escape` and
`safe_markdown` are its one-line and clipped forms) before it reaches one of those, or is shown
with `st.text`, `st.code`, `st.json` or a dataframe cell, which never interpret it.

`escape_markdown` renders text *as text*: it does not try to tell safe markdown from unsafe
(line-by-line rules miss links split over lines, reference definitions in lists, setext
headings...). Every character markdown gives a meaning to gets a backslash, which CommonMark
always reads literally, so no link, image, heading, list, table, HTML or math can start. What
Streamlit links or converts after parsing, where escapes are already gone (`www.` and
`https://` addresses, e-mail addresses, `:material/...:` icons, `:emoji:` shortcodes), is
broken with a word joiner (U+2060) the reader does not see. Line breaks and indentation stay.

Invisible characters (zero-width spaces and joiners, the word joiner, BOM, soft hyphen, tag
characters and every other format character, bidi overrides, embeddings, isolates and marks,
control characters other than tab and newline, line/paragraph separators, variation
selectors, Hangul fillers...) are never applied: `visible_controls` writes each as
`[U+200B]`, JSON views write them as `\\u200b` escapes (see `json_escape_hidden`), and
`hidden_note` says what a text contains, so a reviewer reads `make_pay[U+200B]ment`, not a
`make_payment` that is not one. Left as they are: joiners inside emoji sequences and between
letters of scripts that need them (Arabic, Indic...), and emoji presentation selectors after
symbols; hiding those would garble ordinary text without revealing anything.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "escape_markdown",
    "visible_controls",
    "json_escape_hidden",
    "hidden_characters",
    "hidden_in",
    "hidden_note",
    "describe_hidden",
    "may_hold_hidden",
    "jsonable",
    "shorten",
]

WORD_JOINER = "\u2060"
"""What `escape_markdown` inserts to stop Streamlit's post-parse autolinks and icons."""

# Every character that is not printable ASCII, tab or newline is a candidate; the exact test
# (`_hidden_at`) runs only on those, so plain ASCII text costs one regex scan.
_CANDIDATE = re.compile(r"[^\t\n\x20-\x7e]")
_HIDDEN_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Zl", "Zp"})
# Letters and marks that render as nothing; kept in step with `hitl.amounts.is_invisible`, which
# removes the same characters (and unassigned code points) before matching names.
_HIDDEN_EXTRA = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b\u180c\u180d\u180e\u180f"  # Mongolian variation selectors and vowel separator
    "\u2800"  # Braille blank
)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
_EMOJI_PRESENTATION = frozenset("\ufe0e\ufe0f")
_KEYCAP = "\u20e3"
# Scripts whose spelling uses ZWJ/ZWNJ between letters (Persian, Hindi, Malayalam...).
_JOINING_SCRIPTS = frozenset(
    "ARABIC SYRIAC NKO MANDAIC DEVANAGARI BENGALI GURMUKHI GUJARATI ORIYA TAMIL TELUGU KANNADA "
    "MALAYALAM SINHALA TIBETAN MYANMAR KHMER MONGOLIAN LAO THAI JAVANESE BALINESE".split()
)
# An England/Scotland/Wales flag: a black flag, tag letters, a cancel tag.
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def _is_hidden_char(char: str) -> bool:
    if char in "\t\n\r":
        return False
    code = ord(char)
    return (
        unicodedata.category(char) in _HIDDEN_CATEGORIES
        or char in _HIDDEN_EXTRA
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def _emoji_like(char: str) -> bool:
    return unicodedata.category(char) in ("So", "Sk") or char in _EMOJI_PRESENTATION


def _hidden_at(text: str, index: int) -> bool:
    """Whether `text[index]` is an invisible character a reader must be shown."""
    char = text[index]
    if not _is_hidden_char(char):
        return False
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char in _EMOJI_PRESENTATION and before:
        if before in "0123456789#*" and after == _KEYCAP:
            return False
        return unicodedata.category(before)[0] in "LMNZC"  # a selector after a letter hides in a word
    if char in _JOINERS and before and after:
        if _emoji_like(before) and unicodedata.category(after) == "So":
            return False
        scripts = {_script(before), _script(after)}
        return not (len(scripts) == 1 and scripts <= _JOINING_SCRIPTS)
    return True


def _protected_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _FLAG_TAGS.finditer(text)] if "\U0001f3f4" in text else []


def _replace_hidden(text: str, render: Callable[[str], str]) -> str:
    if not _CANDIDATE.search(text):
        return text
    spans = _protected_spans(text)

    def swap(match: re.Match[str]) -> str:
        index = match.start()
        if spans and any(start <= index < end for start, end in spans):
            return match.group()
        return render(match.group()) if _hidden_at(text, index) else match.group()

    return _CANDIDATE.sub(swap, text)


def _marker(char: str) -> str:
    return f"[U+{ord(char):04X}]"


def visible_controls(text: Any) -> str:
    """`text` with every invisible character written out as `[U+200B]` instead of applied.

    Bidi overrides, zero-width characters, the BOM, soft hyphens, tag characters, control
    characters (not tab or newline) and the other characters listed in the module docstring.
    """
    return _replace_hidden(str(text), _marker)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_escape_hidden(json_text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with invisible characters written
    as `\\u200b` escapes: visible, and still the same JSON (it parses to the exact strings)."""
    return _replace_hidden(json_text, _json_escape)


def hidden_characters(text: Any) -> list[str]:
    """The distinct invisible characters `visible_controls` would write out, in order of appearance."""
    text = str(text)
    if not _CANDIDATE.search(text):
        return []
    found: dict[str, None] = {}
    spans = _protected_spans(text)
    for match in _CANDIDATE.finditer(text):
        index = match.start()
        if spans and any(start <= index < end for start, end in spans):
            continue
        if _hidden_at(text, index):
            found.setdefault(match.group())
    return list(found)


def hidden_in(value: Any, *, limit: int = 100_000) -> list[str]:
    """The distinct invisible characters in the strings and keys of a nested value.

    Plain JSON data without any candidate character is answered from one `json.dumps` pass (a
    payload of 10,000 tool calls: tens of ms); otherwise it looks at no more than `limit` strings;
    never raises.
    """
    if isinstance(value, str):
        return hidden_characters(value)
    try:  # one C-speed pass over plain JSON data tells most payloads apart: nothing to find
        text = json.dumps(value, ensure_ascii=False, check_circular=True)
    except (TypeError, ValueError, RecursionError):
        pass
    else:
        if not may_hold_hidden(text):
            return []
    found: dict[str, None] = {}
    seen = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and seen < limit:
        item, depth = stack.pop()
        if isinstance(item, str):
            seen += 1
            if _CANDIDATE.search(item):
                for char in hidden_characters(item):
                    found.setdefault(char)
        elif depth > 64:
            continue
        elif isinstance(item, Mapping):
            try:
                pairs = list(item.items())
            except Exception:
                continue
            for key, child in reversed(pairs):
                stack.append((child, depth + 1))
                stack.append((key if isinstance(key, str) else str(key), depth + 1))
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((child, depth + 1) for child in reversed(list(item)))
        elif item is not None and not isinstance(item, (bool, int, float)):
            content = getattr(item, "content", None)  # LangChain messages
            if isinstance(content, (str, list)):
                stack.append((content, depth + 1))
            calls = getattr(item, "tool_calls", None)
            if isinstance(calls, list):
                stack.append((calls, depth + 1))
    return list(found)


def may_hold_hidden(json_text: str) -> bool:
    """Whether JSON text could hold an invisible character (json.dumps writes controls as escapes)."""
    return bool(_CANDIDATE.search(json_text)) or "\\u00" in json_text or "\\b" in json_text or "\\f" in json_text


def describe_hidden(chars: Iterable[str], *, limit: int = 6) -> str:
    """`"U+200B ZERO WIDTH SPACE, U+202E RIGHT-TO-LEFT OVERRIDE"` (the first `limit`, then a count)."""
    chars = list(dict.fromkeys(chars))
    named = [f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c in chars[:limit]]
    if len(chars) > limit:
        named.append(f"{len(chars) - limit} more")
    return ", ".join(named)


def hidden_note(value: Any, *, what: str = "This text") -> str | None:
    """`"This text contains invisible characters (U+200B ZERO WIDTH SPACE), shown where they stand
    as [U+code]."`, or None when `value` (a string or a nested value) has none."""
    chars = hidden_characters(value) if isinstance(value, str) else hidden_in(value)
    if not chars:
        return None
    bidi = " Direction overrides are not applied, so the text reads in the order it is stored." if _BIDI & set(chars) else ""
    return f"{what} contains invisible characters ({describe_hidden(chars)}), shown where they stand as [U+code].{bidi}"


# Every character CommonMark and Streamlit's extensions give a meaning to (`=` and `-` make setext
# headings, `$` math, `~` strikethrough, `&` entities); after a backslash each is read literally.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&=])")
# Streamlit links `www.`, `https://` and e-mail addresses, and turns `:name:`, `:material/x:`,
# `:red[...]` and `::directives` into emoji, icons and colours, after parsing, when escapes are
# gone; a word joiner after the `@`, the `www`, the `:` breaks each pattern.
_AFTER_PARSE = re.compile(r"(@|(?i:www)(?=\.)|:(?=//|:|[\w+-]+[:\[{/]))")
_INDENT = re.compile(r"^[ \t]+")


def _escape_line(line: str) -> str:
    line = _AFTER_PARSE.sub(lambda m: m.group(1) + WORD_JOINER, line)
    line = _MARKDOWN_SPECIAL.sub(r"\\\1", line)
    # Leading blanks as no-break spaces, written as entities (a parser trims a paragraph's raw
    # text, NBSP included, before it reads them): indentation stays and never makes a code block.
    return _INDENT.sub(lambda m: m.group().replace("\t", "    ").replace(" ", "&nbsp;"), line)


def escape_markdown(text: Any, *, single_line: bool = False) -> str:
    """`text` as Streamlit markdown that shows it literally: no link, image, heading, list,
    table, HTML, math, icon, emoji or colour; invisible characters written as `[U+200B]`.

    Args:
        text: any value; shown as `str(text)`.
        single_line: join the lines (for labels, captions, titles).

    Line breaks are kept as hard breaks and blank lines as paragraph breaks.
    """
    shown = visible_controls(text)
    if single_line:
        return _escape_line(" ".join(shown.split()))
    lines = [line.rstrip() for line in shown.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] != "":
            out[-1] += "  "  # two trailing spaces: a hard line break
        out.append(_escape_line(line))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def shorten(text: Any, width: int = 120) -> str:
    """One line of at most `width` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def jsonable(value: Any, *, mark: bool = True, _depth: int = 0) -> Any:
    """A display copy of `value` that `json.dumps` accepts (LangChain messages become dicts;
    invisible characters in strings and keys written as `[U+200B]` unless `mark=False`).

    Never raises: what cannot be converted is shown as its `repr`.
    """
    if _depth > 64:
        return "…"
    if isinstance(value, str):
        return visible_controls(value) if mark else value
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {(visible_controls(k) if mark else str(k)): jsonable(v, mark=mark, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, mark=mark, _depth=_depth + 1) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(), mark=mark, _depth=_depth + 1)
        except Exception:  # a broken model still gets shown
            pass
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
