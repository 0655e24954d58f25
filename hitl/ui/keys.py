"""The desk's keyboard layer: the `?` overlay, visible focus, and keys that are never lost.

`keyboard(page)` mounts one small `st.components.v2` component (hitl/ui/keys.js, in the app's
own DOM) that adds what `st.button(shortcut=...)` cannot: a `?` overlay listing every shortcut,
X putting the cursor in the card's reason field, the Inbox's j/k/x/Enter/o, and a rule for keys
pressed while the page re-runs or before a card is drawn — decision keys (A, X, S, Y) are refused
with a visible note, navigation keys (J, K, U, and the Inbox's) are kept and applied once the
page is ready. The decisions themselves stay on the cards' buttons and their shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import streamlit as st

__all__ = ["remember_reviewer", "remembered_reviewer", "REVIEWER_COOKIE", "REVIEW_SHORTCUTS", "INBOX_SHORTCUTS", "GLOBAL_SHORTCUTS", "keyboard", "sections", "parse_key"]

REVIEW_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("A", "Approve (the card's first action)"),
    ("X", "Reject: first puts the cursor in the reason field; Esc, then X again rejects"),
    ("S", "Submit the card's form (schema, JSON, typed answers)"),
    ("Y", "Confirm and send a decision that moves money, deletes or runs several calls (Esc cancels it)"),
    ("J", "Next thread in this queue"),
    ("K", "Previous thread in this queue"),
    ("U", "Undo the last decision while it is held (the countdown bar)"),
)
INBOX_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("j / ↓", "Move the cursor row down"),
    ("k / ↑", "Move the cursor row up"),
    ("x", "Tick or untick the cursor row"),
    ("Enter / o", "Open the cursor row in Review, in this queue (filters, search, order)"),
)
GLOBAL_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("?", "Show or hide this list"),
    ("Esc", "Close this list; leave a text field"),
    ("Tab", "Move the focus (the focused control is outlined)"),
)

CSS = """
button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible, summary:focus-visible,
[role="combobox"]:focus-visible, [role="checkbox"]:focus-visible, [role="radio"]:focus-visible,
[role="slider"]:focus-visible, [data-testid="stDataFrame"]:focus-within {
    outline: 2px solid #2563eb !important;
    outline-offset: 2px;
}
.st-key-hitl-keys, .st-key-inbox_keys, .st-key-hitl-reviewer-cookie { display: none; }
#hitl-key-help {
    position: fixed; inset: 0; z-index: 1000100; background: rgba(15, 23, 42, 0.45);
    display: flex; align-items: center; justify-content: center;
}
.hitl-key-help-panel {
    background: #fff; color: #111827; border-radius: 10px; padding: 1.2rem 1.6rem; max-width: 640px;
    max-height: 85vh; overflow: auto; box-shadow: 0 10px 30px rgba(0, 0, 0, 0.25); font-size: 0.95rem;
}
.hitl-key-help-panel h3 { margin: 0 0 0.5rem 0; font-size: 1.2rem; }
.hitl-key-help-panel h4 { margin: 0.8rem 0 0.3rem 0; font-size: 1rem; }
.hitl-key-help-panel td { padding: 0.15rem 0.8rem 0.15rem 0; vertical-align: top; }
.hitl-key-help-panel kbd {
    border: 1px solid #9ca3af; border-radius: 4px; padding: 0 0.35rem; background: #f3f4f6; font-family: monospace;
}
.hitl-key-note {
    position: fixed; bottom: 1.2rem; left: 50%; transform: translateX(-50%); z-index: 1000101;
    background: #1f2937; color: #fff; padding: 0.5rem 1rem; border-radius: 6px; opacity: 0;
    transition: opacity 0.15s; pointer-events: none; font-size: 0.9rem;
}
.hitl-key-note-shown { opacity: 1; }
"""

_component = st.components.v2.component(
    "hitl_keys", js=(Path(__file__).with_name("keys.js")).read_text(encoding="utf-8"), css=CSS, isolate_styles=False
)


def sections(page: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The overlay's sections for `page` ("review" or "inbox"): that page's keys first."""
    review = ("Review", [list(row) for row in REVIEW_SHORTCUTS])
    inbox = ("Inbox", [list(row) for row in INBOX_SHORTCUTS])
    ordered = [review, inbox] if page == "review" else [inbox, review]
    return [*ordered, ("Everywhere", [list(row) for row in GLOBAL_SHORTCUTS])]


def parse_key(value: Any) -> str | None:
    """The key of a trigger value the script sends ("j:1733150000000" -> "j")."""
    if not isinstance(value, str) or not value:
        return None
    key = value.split(":", 1)[0]
    return key if key in ("j", "k", "x", "o") else None


def keyboard(page: str, *, on_key: Callable[[], None] | None = None, key: str = "hitl-keys") -> Any:
    """Mount the keyboard layer for `page`; `on_key` runs when the Inbox script sends a key
    (read it with `parse_key(st.session_state[key].key)`)."""
    kwargs = {"on_key_change": on_key} if on_key is not None else {}
    return _component(data={"page": page, "sections": sections(page)}, key=key, **kwargs)


REVIEWER_COOKIE = "hitl_reviewer"
"""The cookie that keeps the typed reviewer name across reloads (local mode)."""

_NAME_JS = """
export default function (component) {
  const name = (component.data && component.data.name) || "";
  const cookie = "%s";
  const current = document.cookie.split("; ").find((c) => c.startsWith(cookie + "="));
  const value = encodeURIComponent(name);
  if (name && (!current || current.slice(cookie.length + 1) !== value)) {
    document.cookie = `${cookie}=${value}; path=/; max-age=31536000; SameSite=Lax`;
  } else if (!name && current) {
    document.cookie = `${cookie}=; path=/; max-age=0; SameSite=Lax`;
  }
}
""" % REVIEWER_COOKIE

_name_component = st.components.v2.component("hitl_reviewer_cookie", js=_NAME_JS, isolate_styles=False)


def remember_reviewer(name: str) -> None:
    """Keep the reviewer's typed name in a cookie (read back by `remembered_reviewer`)."""
    _name_component(data={"name": name}, key="hitl-reviewer-cookie")


def remembered_reviewer() -> str:
    """The name kept in the cookie, as text ("" when there is none)."""
    try:
        raw = st.context.cookies.get(REVIEWER_COOKIE)
    except Exception:  # noqa: BLE001 - no request context (a bare script run)
        return ""
    return unquote(str(raw)).strip()[:200] if raw else ""
