"""UI state that survives page switches: widgets bound to plain session_state keys.

Streamlit forgets a widget's value when a run does not draw that widget (for example after
the reviewer visits another page). The Inbox's filters must survive that, so each filter
lives under a plain page-prefixed key (`inbox_graph`) and its widget under a private twin
(`_w_inbox_graph`) that is reseeded from the plain key whenever Streamlit dropped it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

__all__ = ["defaults", "bound", "widget_key"]


def defaults(values: dict[str, Any]) -> None:
    """`setdefault` each page-prefixed key (call at the top of a page)."""
    for key, value in values.items():
        st.session_state.setdefault(key, value)


def widget_key(state_key: str) -> str:
    """The private widget key bound to `state_key`."""
    return f"_w_{state_key}"


def bound(
    widget: Callable[..., Any],
    label: str,
    state_key: str,
    *,
    on_change: Callable[[], None] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw `widget(label, ...)` showing and updating `st.session_state[state_key]`.

    Args:
        widget: a Streamlit input (`st.selectbox`, `st.text_input`, ... or a container's).
        label: the widget label.
        state_key: the plain key that keeps the value across pages.
        on_change: called after the value was copied to `state_key`.
        **kwargs: passed to the widget (options, format_func, help...).
    """
    key = widget_key(state_key)
    if key not in st.session_state or st.session_state[key] != st.session_state.get(state_key):
        st.session_state[key] = st.session_state.get(state_key)

    def copy() -> None:
        st.session_state[state_key] = st.session_state[key]
        if on_change is not None:
            on_change()

    return widget(label, key=key, on_change=copy, **kwargs)
