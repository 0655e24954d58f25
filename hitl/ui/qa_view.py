"""The QA page: score finished threads, correct them, adjudicate, export, fork and compare.

The page reads widgets and calls `hitl.qa.QA`; everything it decides (which item is next, who may
see whose scores, what is exported) is decided there. Keyboard on the Review tab: J next item, X skip
(single keys, which Streamlit ignores while a field has the focus); in the score form Tab moves
between rubrics, arrows and Space pick a value, and Ctrl+Enter in a text field (Tab on to the
correction or comment) submits.
Untrusted text (messages, payloads, outputs, reviewer comments) is drawn with `st.text`,
`st.code` or `st.json`, or escaped with `md_escape` where Streamlit parses markdown.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from hitl import HitlError
from hitl.qa import QA
from hitl.ui import auth
from hitl.ui.context import md_escape
from hitl.ui.desk import reviewer_name
from hitl.ui.guard import open_desk, show_problem
from hitl.ui.qa_results_view import render_adjudication, render_export, render_forks, render_progress, render_queues
from hitl.ui.qa_scoring import SHORTCUTS, changes_frame, render_review, score_widgets_values, text_diff
from hitl.ui.state import defaults

__all__ = ["render_qa_page", "SHORTCUTS", "score_widgets_values", "text_diff", "changes_frame"]


# --------------------------------------------------------------------------- pure helpers


# --------------------------------------------------------------------------- page


def _identity() -> tuple[str, Any]:
    principal = auth.current_principal()
    return (principal.identity, principal) if principal is not None else (reviewer_name(), None)


def render_qa_page() -> None:
    """The whole QA page."""
    inbox = open_desk()
    defaults({"qa_queue": None, "qa_item": {}, "qa_fork": None, "qa_notice": None})
    st.title("QA of agent outputs")
    st.caption("Score finished threads against rubrics, correct their output, measure agreement between reviewers, "
               "and fork a thread with another answer to compare outcomes.")  # fmt: skip
    try:
        qa = QA.of(inbox)
    except HitlError as exc:
        show_problem(exc)
        st.info("Fix the [qa] section of HITL_CONFIG (see hitl.toml.example) and reload.", icon=":material/info:")
        return
    reviewer, principal = _identity()
    queues = [info.spec.name for info in qa.queues()]
    if st.session_state["qa_queue"] not in queues:
        st.session_state["qa_queue"] = queues[0] if queues else None
    if queues:
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        left.selectbox("Queue", queues, key="qa_queue", help="Queues come from [[qa.queues]] in HITL_CONFIG or are created on the Queues tab.")
        if qa.config.default_rubrics:
            right.caption("Using the default rubrics (correct, quality, notes): define [[qa.rubrics]] in HITL_CONFIG for your own.")
    name = st.session_state["qa_queue"]
    notice = st.session_state.get("qa_notice")  # the last action's result, until the next one
    if notice:
        st.success(md_escape(notice), icon=":material/check_circle:")
    # A stateful tab bar (key): the chosen tab survives reruns, and only its content runs.
    labels = ["Review", "Progress & agreement", "Adjudicate", "Export", "Fork & compare", "Queues"]
    tabs = dict(zip(labels, st.tabs(labels, key="qa_tab", on_change="rerun"), strict=True))
    if tabs["Queues"].open:
        with tabs["Queues"]:
            render_queues(qa, inbox, reviewer)
    if name is None:
        if tabs["Review"].open:
            tabs["Review"].info("No QA queue yet: create one on the Queues tab (or add [[qa.queues]] to HITL_CONFIG).", icon=":material/info:")
        return
    renderers = {
        "Review": lambda: render_review(qa, name, reviewer, principal),
        "Progress & agreement": lambda: render_progress(qa, name),
        "Adjudicate": lambda: render_adjudication(qa, name, reviewer, principal),
        "Export": lambda: render_export(qa, name, principal),
        "Fork & compare": lambda: render_forks(qa, name, reviewer, principal),
    }
    for label, render in renderers.items():
        if tabs[label].open:
            with tabs[label]:
                render()


# --------------------------------------------------------------------------- review


# --------------------------------------------------------------------------- progress and agreement


# --------------------------------------------------------------------------- adjudication


# --------------------------------------------------------------------------- export


# --------------------------------------------------------------------------- forks


# --------------------------------------------------------------------------- queues


