"""The shared desk for Streamlit pages: one `Inbox` per process, the reviewer, the sidebar."""

from __future__ import annotations

import os

import streamlit as st

from hitl import HitlError, Inbox
from hitl.notify import start_background_notifier
from hitl.policy import start_background_sweeper
from hitl.ui.text import escape_markdown

__all__ = ["get_inbox", "reviewer_name", "show_error"]


@st.cache_resource(show_spinner=False)
def _open_inbox(database_url: str, graphs_path: str, config_path: str) -> Inbox:
    inbox = Inbox.open(database_url=database_url or None, graphs_path=graphs_path or None, config_path=config_path or None)
    _start_background_work(inbox)
    return inbox


def _start_background_work(inbox: Inbox) -> None:
    """Once per process and database: the timeout sweeper (which also settles stale claims)
    and, when webhooks are configured, the notifier. HITL_SWEEP_SECONDS=0 turns the sweeper off."""
    interval = float(os.environ.get("HITL_SWEEP_SECONDS", "60") or 0)
    if interval > 0 and not inbox.store.read_only:
        start_background_sweeper(inbox, interval)
    start_background_notifier(inbox)


def get_inbox() -> Inbox:
    """The process-wide Inbox for the environment's database and registry.

    Keyed by the environment variables, read at call time, so tests and deployments that
    change HITL_DATABASE_URL get their own desk.
    """
    return _open_inbox(
        os.environ.get("HITL_DATABASE_URL", ""),
        os.environ.get("HITL_GRAPHS", ""),
        os.environ.get("HITL_CONFIG", ""),
    )


def reviewer_name() -> str:
    """The reviewer recorded on decisions (typed in the sidebar in local mode)."""
    return str(st.session_state.get("reviewer", "")).strip()


def show_error(error: HitlError) -> None:
    """Show a desk error as a message (never a traceback), escaped: it may quote payload text."""
    st.error(escape_markdown(str(error)), icon=":material/warning:")
