"""Turn desk errors into messages on the page, never tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from hitl import HitlError, Inbox, StoreError
from hitl.ui.desk import get_inbox
from hitl.ui.text import escape_markdown

__all__ = ["show_problem", "open_desk", "desk_errors"]

WHAT_TO_DO = (
    "To use the desk with demo data, run `make seed` (or `python -m hitl.demo seed`) and reload. "
    "To review your own agents, set `HITL_DATABASE_URL` to the checkpoint database they write to "
    "(`sqlite:///path/to/file.db` or `postgresql://…`) and `HITL_GRAPHS` to their `langgraph.json`, "
    "then restart the desk."
)


def show_problem(error: BaseException, *, where: st.delta_generator.DeltaGenerator | None = None) -> None:
    """Show a `HitlError`'s message, escaped (it may quote payload or reviewer text)."""
    (where or st).error(escape_markdown(str(error)), icon=":material/warning:")


def open_desk() -> Inbox:
    """The process-wide Inbox; when it cannot be opened, explain what to do and stop the page."""
    try:
        return get_inbox()
    except HitlError as exc:
        st.error("The desk cannot open its database.", icon=":material/warning:")
        st.text(str(exc))
        if isinstance(exc, StoreError) or "HITL_" in str(exc):
            st.info(WHAT_TO_DO, icon=":material/info:")
        st.stop()
        raise  # unreachable: st.stop() raises; keeps type checkers honest


@contextmanager
def desk_errors() -> Iterator[None]:
    """Show a `HitlError` raised inside the block as a message and carry on."""
    try:
        yield
    except HitlError as exc:
        show_problem(exc)
