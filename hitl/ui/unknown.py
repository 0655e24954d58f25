"""The Review page's panel for an outcome-unknown decision (see `hitl.outcome`).

It says who decided what and when, that the node may already have run, and offers the two
ways out instead of the decision cards: Retry with the original answer (only once the
reviewer has ticked that the node may run twice) or Mark resolved (with a reason).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from hitl.errors import HitlError
from hitl.ui import cards
from hitl.ui.context import jsonable, md_escape, show_alert

__all__ = ["render_unknown"]


def render_unknown(inbox: Any, view: Any, *, reviewer: str) -> bool:
    """Show the thread's outcome-unknown state, if it has one; True when shown (the page then
    offers no plain decision: one would be refused)."""
    try:
        unknown = inbox.outcome_unknown(view.thread_id)
    except HitlError as error:
        show_alert("error", f"Could not tell whether a decision on this thread is outcome unknown: {error}")
        return False
    if unknown is None:
        return False
    key = f"review:{view.thread_id}:unknown"
    when = unknown.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC") if unknown.decided_at else "an unknown time"
    with st.container(border=True):
        st.markdown("#### Outcome unknown: the node may have run")
        show_alert(
            "warning",
            f"{unknown.reviewer or 'A reviewer'} decided this at {when}. The graph started {unknown.nodes_text}, but "
            "its result was not saved, so it may already have done its work. The request below looks unanswered, "
            "but it is not offered as a new decision.",
        )
        if unknown.error:
            st.caption(md_escape(f"What went wrong: {unknown.error}"))
        st.caption(md_escape(f"The original decision, by {unknown.reviewer or 'a reviewer'}:"))
        st.json(jsonable(unknown.answers), expanded=2)
        retry, resolve = st.columns(2, gap="medium")
        with retry:
            st.markdown("**Retry** with the original decision")
            st.caption(md_escape(unknown.warning))
            accepted = st.checkbox(md_escape(f"I checked: {unknown.nodes_text} may run a second time"), key=f"{key}:accept")
            if st.button("Retry", key=f"{key}:retry", type="primary", icon=":material/replay:", disabled=not accepted):
                _act(view.thread_id, reviewer, "retried the outcome-unknown decision",
                     lambda: inbox.retry(view.thread_id, reviewer=reviewer, accept_repeat=True))  # fmt: skip
        with resolve:
            st.markdown("**Mark resolved**: close the thread without running anything")
            reason = st.text_input("Reason (required)", key=f"{key}:reason",
                                   placeholder="e.g. the payment went through: processor ref 991")  # fmt: skip
            if st.button("Mark resolved", key=f"{key}:resolve", icon=":material/task_alt:", disabled=not reason.strip()):
                _act(view.thread_id, reviewer, "marked the thread resolved",
                     lambda: inbox.resolve(view.thread_id, reviewer=reviewer, reason=reason.strip()))  # fmt: skip
    return True


def _act(thread_id: str, reviewer: str, verb: str, action: Any) -> None:
    if not reviewer.strip():
        show_alert("error", "Enter your reviewer name first (in the sidebar): every decision is recorded with who "
                            "made it. Nothing was sent.")  # fmt: skip
        return
    outcome: dict[str, Any] = {"thread_id": thread_id, "verb": verb, "at": time.time()}
    try:
        result = action()
    except HitlError as error:
        outcome.update(status="error", error=str(error))
    else:
        if result is None:  # resolve
            outcome.update(status="resolved")
        else:
            outcome.update(status=result.status, error=result.error, new=len(result.new_interrupts), note=result.note)
    st.session_state[cards.OUTCOME_KEY] = outcome
    st.rerun()
