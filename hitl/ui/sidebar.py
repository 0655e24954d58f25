"""The sidebar every page shares: database, reviewer name, queue counts, audit chain."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from hitl import HitlError, Inbox
from hitl.ui import keys
from hitl.ui.desk import get_inbox
from hitl.ui.guard import WHAT_TO_DO
from hitl.ui.queue import refresh_seconds
from hitl.ui.text import escape_markdown

__all__ = ["render_sidebar", "STATUSES", "audit_status"]

STATUSES = ("waiting", "running", "completed", "failed", "resolved")
"""Thread statuses in the order the desk lists them."""

AUDIT_RECHECK_SECONDS = 120
"""The sidebar re-verifies the audit chain at most this often (the History page always does)."""


@st.cache_data(ttl=AUDIT_RECHECK_SECONDS, show_spinner=False)
def _audit_report(database_url: str, head: tuple[int, str] | None, _inbox: Inbox) -> tuple[bool, str, str]:
    report = _inbox.verify_audit()
    return report.ok, str(report), datetime.now(timezone.utc).strftime("%H:%M UTC")


def audit_status(inbox: Inbox) -> tuple[bool, str, str]:
    """(intact, one-line report, checked at) for the sidebar.

    Verified again as soon as a decision moves the chain's head, else at most every
    AUDIT_RECHECK_SECONDS (verifying reads the whole log).
    """
    head = inbox.store.audit_head()
    return _audit_report(inbox.store.url, (head["seq"], head["row_hash"]) if head else None, inbox)


def _signed_in() -> bool:
    """Whether a reviewer signed in with `st.login` (login mode): then the name is theirs."""
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # no auth configured, or outside a session
        return False


def render_sidebar(*, signed_in: bool | None = None) -> bool:
    """Draw the shared sidebar. Returns False (with the reason on the page) when the
    desk's database cannot be opened, so the page is not run.

    Args:
        signed_in: login mode (the reviewer is the signed-in identity, shown elsewhere, and
            no name can be typed); detected from `st.user` when None.
    """
    login = _signed_in() if signed_in is None else signed_in
    # Local mode: the name typed last in this browser (a cookie) survives a reload.
    st.session_state.setdefault("reviewer", "" if login else keys.remembered_reviewer())
    with st.sidebar:
        if not login:
            st.text_input(
                "Your name",
                key="reviewer",
                placeholder="e.g. alice",
                help="Recorded on every decision you take, in the audit log. Kept in this browser "
                "(cookie hitl_reviewer) across reloads.",
            )
            keys.remember_reviewer(str(st.session_state.get("reviewer", "")).strip())
            st.caption("Local mode, no login: anyone who can open this URL can decide, under any name.")
        try:
            inbox = get_inbox()
        except HitlError as exc:
            st.error("Database unavailable", icon=":material/warning:")
            _explain_on_page(exc)
            return False
        st.divider()
        # Refreshes with the Inbox queue, so the counts never disagree with the table.
        st.fragment(_render_status, run_every=refresh_seconds())()
        st.divider()
        store = inbox.store
        if store.threads_at:
            st.caption("Threads: LangGraph server")
            st.code(store.threads_at, language=None, wrap_lines=True)
        label = "Desk records (claims, audit, votes)" if store.threads_at else "Database"
        st.caption(f"{label} ({store.backend}{', read-only' if store.read_only else ''})")
        st.code(store.records_url, language=None, wrap_lines=True)
    return True


def _render_status() -> None:
    try:
        inbox = get_inbox()
        counts = inbox.counts(refresh=True)
    except HitlError as exc:
        st.caption(f":material/warning: Counts unavailable: {escape_markdown(exc)}")
        return
    st.metric("Pending reviews", f"{counts.get('waiting', 0):,}")
    st.caption(" · ".join(f"{status} {counts.get(status, 0):,}" for status in STATUSES))
    try:
        intact, line, checked = audit_status(inbox)
    except HitlError as exc:
        st.caption(f":material/help: Audit chain not checked: {escape_markdown(exc)}")
    else:
        icon = ":material/verified_user:" if intact else ":material/gpp_bad:"
        st.caption(f"{icon} {escape_markdown(line)} (checked {checked})")


def _explain_on_page(exc: HitlError) -> None:
    st.title("HITL review desk")
    st.error("The desk cannot open its database.", icon=":material/warning:")
    st.text(str(exc))
    st.info(WHAT_TO_DO, icon=":material/info:")
