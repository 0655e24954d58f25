"""Show untrusted text as text: markdown escaping and JSON-able copies of state values.

Streamlit renders markdown in `st.markdown`, `st.caption`, alerts, expander and tab labels.
Text that comes from payloads, graph state, error messages or reviewers goes through
`escape_markdown` before it reaches one of those, or is shown with `st.text`, `st.code`,
`st.json` or a dataframe cell, which never interpret it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["escape_markdown", "visible_controls", "jsonable", "shorten"]

# Every character CommonMark (and Streamlit's extensions: $ for math, ~ for strikethrough,
# : for emoji shortcodes) gives a meaning to; a backslash makes each literal.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
# Invisible bidirectional overrides, embeddings, isolates and marks: they can make text read
# differently from what it contains ("Trojan Source"). Right-to-left letters are left alone.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def visible_controls(text: Any) -> str:
    """`text` with bidi control characters shown as `[U+202E]` instead of applied."""
    return _BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(text))


def escape_markdown(text: Any) -> str:
    """`text` escaped so Streamlit's markdown shows it literally (no links, images, HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible_controls(text))


def shorten(text: Any, width: int = 120) -> str:
    """One line of at most `width` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def jsonable(value: Any, *, _depth: int = 0) -> Any:
    """A display copy of `value` that `json.dumps` accepts (LangChain messages become dicts,
    bidi controls in strings become visible).

    Never raises: what cannot be converted is shown as its `repr`.
    """
    if _depth > 64:
        return "…"
    if isinstance(value, str):
        return visible_controls(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {visible_controls(k): jsonable(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, _depth=_depth + 1) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(), _depth=_depth + 1)
        except Exception:  # a broken model still gets shown
            pass
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
