"""Sending an answer and what the page says afterwards: submit, the outcome banner, the failure
panel (Retry) and Mark resolved."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import streamlit as st

from hitl.durations import humanize_age
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer
from hitl.messages import content_text, message_field
from hitl.ui.cards.card import Submission, forget_errors, keep_errors
from hitl.ui.cards.helpers import OUTCOME_KEY
from hitl.ui.context import show_alert

def _reviewer_missing() -> None:
    show_alert("error", "Enter your reviewer name first (in the sidebar): every decision is recorded with who made "
                        "it. Nothing was sent.")


def submit(inbox: Any, thread_id: str, submission: Submission, *, reviewer: str) -> None:
    """Resume the thread with one answer, keep the outcome for the page, and rerun.

    Without a reviewer name nothing is sent and the reason is shown in place.
    """
    if not reviewer.strip():
        _reviewer_missing()
        return
    outcome: dict[str, Any] = {"thread_id": thread_id, "verb": submission.verb, "at": time.time()}
    before = _message_count(inbox, thread_id)
    try:
        result = inbox.resume(thread_id, {submission.interrupt_id: submission.answer}, reviewer=reviewer,
                              comment=submission.comment)
    except AlreadyDecided as error:
        outcome.update(status="already", reviewer=error.reviewer,
                       decided_at=error.decided_at.timestamp() if error.decided_at else None)
    except InvalidAnswer as error:
        keep_errors(submission.interrupt_id, error)
        outcome = None  # the card shows the errors next to its fields
    except HitlError as error:
        outcome.update(status="error", error=str(error))
    else:
        forget_errors(submission.interrupt_id)
        outcome.update(status=result.status, error=result.error, new=len(result.new_interrupts), note=result.note)
        if before is not None and not result.note:
            outcome["said"] = graph_said(_messages(inbox, thread_id)[before:])
    st.session_state[OUTCOME_KEY] = outcome
    st.rerun()


def _messages(inbox: Any, thread_id: str) -> list[Any]:
    try:
        return list(inbox.thread(thread_id, history=1).messages or [])
    except HitlError:
        return []


def _message_count(inbox: Any, thread_id: str) -> int | None:
    try:
        return len(inbox.thread(thread_id, history=1).messages or [])
    except HitlError:
        return None


def _text(message: Any) -> str:
    """A message's text on one line (its text blocks joined; other blocks left out)."""
    return " ".join(content_text(message_field(message, "content", ""), whole=str).split())


def _role(message: Any) -> str:
    return str(message_field(message, "type", ""))


def graph_said(new_messages: list[Any], *, limit: int = 300) -> str:
    """What the graph reported after the resume, from the messages it added: the tools' results
    ("Email sent to board@acme.example"), else its last AI message; "" when it added none."""
    tools = [_text(m) for m in new_messages if _role(m) == "tool" and _text(m)]
    final = next((_text(m) for m in reversed(new_messages)
                  if _role(m) == "ai" and _text(m) and not getattr(m, "tool_calls", None)), "")
    said = " · ".join(tools) if tools else final
    return said if len(said) <= limit else said[: limit - 1] + "…"


def _ago(timestamp: float | None) -> str:
    if timestamp is None:
        return "at an unknown time"
    moment = datetime.fromtimestamp(float(timestamp), timezone.utc)
    return f"{humanize_age(moment)} ago ({moment.strftime('%Y-%m-%d %H:%M:%S UTC')})"


def render_outcome(outcome: Mapping[str, Any] | None, thread_id: str) -> str | None:
    """The last submit's outcome for this thread, as a banner; returns its status."""
    if not outcome or outcome.get("thread_id") != thread_id:
        return None
    status = outcome.get("status")
    verb = outcome.get("verb", "decided")
    if outcome.get("note"):  # a quorum vote: recorded, the graph did not run
        show_alert("info", f"You {verb}. {outcome['note']}")
    elif status == "completed":
        show_alert("success", f"You {verb}. The run completed." + _said(outcome))
    elif status == "waiting":
        count = outcome.get("new") or 0
        show_alert("info", f"You {verb}. The graph ran and paused again: "
                   + (f"{count} new request{'s' if count != 1 else ''} below." if count else "the remaining requests are below.")
                   + _said(outcome))
    elif status == "failed":
        show_alert("error", f"You {verb}, then the graph raised: {outcome.get('error')}")
        st.caption("Nothing is lost: your answer is recorded in the audit log and kept by LangGraph. Retry runs the "
                   "failed step again with the same answer; Mark resolved closes the thread.")
    elif status == "already":
        if outcome.get("reviewer") or outcome.get("decided_at"):
            who = outcome.get("reviewer") or "another reviewer"
            show_alert("warning", f"Already decided by {who} {_ago(outcome.get('decided_at'))}. Your answer was not "
                       "sent; the page now shows the thread as it is.")
        else:
            show_alert("warning", "Another reviewer answered this request a moment ago and their decision is being "
                       "applied. Your answer was not sent; reload in a moment to see the result.")
    elif status == "resolved":
        show_alert("success", "You marked the thread resolved; it was closed without resuming the graph.")
    elif status == "error":
        show_alert("error", str(outcome.get("error")))
    return str(status) if status else None


def _said(outcome: Mapping[str, Any]) -> str:
    said = str(outcome.get("said") or "")
    return f" The graph reports: {said}" if said else ""


def render_failure_panel(inbox: Any, view: Any, *, reviewer: str) -> None:
    """The thread's failed steps with Retry (same answers) and the "nothing lost" explanation."""
    failed = [item for item in view.interrupts if item.failed_error]
    errors = list(view.errors or [])
    if not failed and not errors and view.status != "failed":
        return
    with st.container(border=True):
        st.markdown("#### The run failed")
        for item in failed:
            show_alert("error", f"After the answer to {item.node or 'a request'}: {item.failed_error}")
        for node, text in errors:
            if not any(text in (item.failed_error or "") for item in failed):
                show_alert("error", f"{node}: {text}")
        st.caption("Nothing is lost: the answers are stored and the thread stays at its last checkpoint. "
                   "Retry runs the failed step again with the same answers.")
        if st.button("Retry", key=f"review:{view.thread_id}:retry", type="primary", icon=":material/replay:"):
            if not reviewer.strip():
                _reviewer_missing()
                return
            outcome: dict[str, Any] = {"thread_id": view.thread_id, "verb": "retried", "at": time.time()}
            try:
                result = inbox.retry(view.thread_id, reviewer=reviewer)
                outcome.update(status=result.status, error=result.error, new=len(result.new_interrupts), note=result.note)
            except HitlError as error:
                outcome.update(status="error", error=str(error))
            st.session_state[OUTCOME_KEY] = outcome
            st.rerun()


def render_resolve(inbox: Any, view: Any, *, reviewer: str) -> None:
    """"Mark resolved": close the thread without resuming it, only with a reason."""
    with st.expander("Mark resolved: close this thread without resuming it", icon=":material/task_alt:"):
        st.caption("The graph is not run; the thread is closed at its current state (update_state as END) and the "
                   "reason is recorded in the audit log.")
        reason = st.text_input("Reason (required)", key=f"review:{view.thread_id}:resolve_reason")
        if st.button("Mark resolved", key=f"review:{view.thread_id}:resolve", disabled=not reason.strip()):
            if not reviewer.strip():
                _reviewer_missing()
                return
            outcome: dict[str, Any] = {"thread_id": view.thread_id, "at": time.time()}
            try:
                inbox.resolve(view.thread_id, reviewer=reviewer, reason=reason.strip())
                outcome.update(status="resolved", verb="marked the thread resolved")
            except HitlError as error:
                outcome.update(status="error", error=str(error))
            st.session_state[OUTCOME_KEY] = outcome
            st.rerun()
