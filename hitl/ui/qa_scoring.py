"""The QA page's Review tab: the next item, its decisions and output, the score form and corrections."""

from __future__ import annotations

import difflib
import json
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import streamlit as st

from hitl import HitlError, InvalidAnswer
from hitl.qa import QA, ItemView, Rubric
from hitl.ui.context import md_escape, pretty_json, render_conversation, render_state, show_text
from hitl.ui.guard import show_problem


_YES, _NO = "Yes", "No"

SHORTCUTS = {"next": "J", "submit": "Ctrl+Enter", "skip": "X"}
"""Keyboard shortcuts of the Review tab. Streamlit ignores single keys while a field has the focus,
so submitting, done from the form, takes a modifier; a focused radio keeps even those to itself,
so Ctrl+Enter is pressed in the correction or comment field."""


def text_diff(before: Any, after: Any) -> str:
    """A unified diff of two values' text (JSON for non-text), for `st.code(language="diff")`."""
    left = before if isinstance(before, str) else pretty_json(before)
    right = after if isinstance(after, str) else pretty_json(after)
    lines = difflib.unified_diff(left.splitlines(), right.splitlines(), "proposed", "sent", lineterm="", n=2)
    return "\n".join(lines)


def changes_frame(changes: Any) -> pd.DataFrame:
    """Field changes as a table of text (before and after as compact JSON)."""
    def show(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 200 else text[:199] + "…"

    return pd.DataFrame([{"field": c.path, "proposed": show(c.before), "sent": show(c.after)} for c in changes])


def score_widgets_values(rubrics: list[Rubric], raw: dict[str, Any]) -> dict[str, Any]:
    """Widget values -> scores for `QA.submit` (Yes/No -> bool; empty optional text left out)."""
    scores: dict[str, Any] = {}
    for rubric in rubrics:
        value = raw.get(rubric.name)
        if rubric.type == "boolean" and value in (_YES, _NO):
            value = value == _YES
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        scores[rubric.name] = value
    return scores


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def editable_output(value: Any) -> str:
    return value if isinstance(value, str) else pretty_json(value)


def parsed_correction(text: str, original: Any) -> Any:
    """The correction as the output's own type: text stays text; JSON outputs are parsed."""
    if isinstance(original, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidAnswer("The correction must be valid JSON, like the output it corrects.", field_errors={"correction": "not JSON"}) from None


def current_item(name: str) -> str | None:
    return st.session_state["qa_item"].get(name)


def _set_current(name: str, thread_id: str | None) -> None:
    st.session_state["qa_item"] = {**st.session_state["qa_item"], name: thread_id}


def _take_next(qa: QA, name: str, reviewer: str, principal: Any) -> None:
    st.session_state["qa_notice"] = None
    try:
        view = qa.next_item(name, reviewer=reviewer, principal=principal)
    except HitlError as exc:
        st.session_state["qa_error"] = str(exc)
        return
    _set_current(name, view.item.thread_id if view else None)
    if view is None:
        st.session_state["qa_notice"] = f"Nothing left for {reviewer} in {name}: every item has its scores, or you scored or skipped it."


def _skip(qa: QA, name: str, thread_id: str, reviewer: str, principal: Any) -> None:
    try:
        qa.skip(name, thread_id, reviewer=reviewer, principal=principal)
    except HitlError as exc:
        st.session_state["qa_error"] = str(exc)
        return
    _take_next(qa, name, reviewer, principal)


def render_review(qa: QA, name: str, reviewer: str, principal: Any) -> None:
    if not reviewer:
        st.info("Type your name in the sidebar first: every score is recorded with its reviewer.", icon=":material/badge:")
        return
    error = st.session_state.pop("qa_error", None)
    if error:
        st.error(md_escape(error), icon=":material/warning:")
    thread_id = current_item(name)
    bar = st.columns([1.4, 1.2, 4], vertical_alignment="center")
    bar[0].button("Next item", key="qa_next", type="primary" if not thread_id else "secondary",
                  shortcut=SHORTCUTS["next"], icon=":material/skip_next:", on_click=_take_next, args=(qa, name, reviewer, principal),
                  help="The next item for you: one you hold, else one you have not scored or skipped that still needs scores.")  # fmt: skip
    if thread_id:
        bar[1].button("Skip", key="qa_skip", shortcut=SHORTCUTS["skip"], icon=":material/redo:",
                      on_click=_skip, args=(qa, name, thread_id, reviewer, principal),
                      help="Not for you: released, and not offered to you again.")  # fmt: skip
    spec = qa.queue(name)
    bar[2].caption(md_escape(f"{spec.reviewers_per_item} reviewer(s) per item{' · blind' if spec.blind else ''} · "
                             f"items are held for you {spec.reservation_minutes:g} min once opened"))  # fmt: skip
    if not thread_id:
        st.caption("Press J (or the button) to take the next item. In the form: Tab, arrows and Space pick scores; "
                   "Ctrl+Enter in the correction or comment submits.")
        return
    try:
        view = qa.item(name, thread_id, viewer=reviewer, principal=principal)
    except HitlError as exc:
        show_problem(exc)
        return
    _render_item(qa, name, view, reviewer, principal)


def _render_item(qa: QA, name: str, view: ItemView, reviewer: str, principal: Any) -> None:
    header = f"{view.item.thread_id} · {view.graph_id or 'unknown graph'} · {view.status}"
    st.subheader(md_escape(header), anchor=False)
    notes = []
    if view.item.is_fork or view.fork:
        notes.append("QA fork: an experiment, not a production run")
    if view.reserved_until:
        notes.append(f"held for you until {_when(view.reserved_until)}")
    if view.moved_on:
        notes.append("the thread has moved on since it was sampled")
    if notes:
        st.caption(md_escape(" · ".join(notes)))
    context, scoring = st.columns([3, 2], gap="large")
    with context:
        st.markdown("**Final output** " + md_escape(f"({view.output_source})"))
        with st.container(border=True):
            show_text(view.final_output)
        with st.expander(f"Conversation ({len(view.messages)} messages)", expanded=False):
            render_conversation(view.messages, key=f"qa:{view.item.thread_id}")
        render_state(view.values)
        _render_decisions(view)
    with scoring:
        if view.mine is None:
            _render_score_form(qa, name, view, reviewer, principal)
        else:
            st.success(f"You scored this item at {_when(view.mine.submitted_at)}.", icon=":material/task_alt:")
            st.dataframe(pd.DataFrame([{"rubric": k, "your score": str(v)} for k, v in view.mine.scores.items()]), hide_index=True)
        _render_others(view)


def _render_decisions(view: ItemView) -> None:
    st.markdown("**HITL decisions on this thread**")
    if not view.decisions:
        st.caption("No human decisions were recorded for this thread.")
        return
    for decision in view.decisions:
        title = (f"QA fork by {decision.reviewer}: answered differently" if decision.fork else
                 f"{decision.reviewer} · {decision.kind} · {decision.summary.verdict} · {_when(decision.decided_at)}")  # fmt: skip
        with st.expander(md_escape(title), expanded=bool(decision.summary.changes) or decision.fork):
            if decision.comment:
                st.caption("Comment")
                show_text(decision.comment)
            if decision.fork:
                st.caption("Original answer")
                st.json(decision.payload, expanded=1)
                st.caption("Fork's answer")
                st.json(decision.answer, expanded=1)
                continue
            if decision.summary.tools:
                st.caption(md_escape("Tool calls: " + ", ".join(f"{n} ({v})" for n, v in decision.summary.tools)))
            if decision.summary.changes:
                st.caption("What the reviewer changed before sending it")
                st.dataframe(changes_frame(decision.summary.changes), hide_index=True, width="stretch")
                for change in decision.summary.changes:
                    if isinstance(change.before, str) and isinstance(change.after, str) and "\n" in change.before + change.after:
                        st.code(text_diff(change.before, change.after), language="diff", wrap_lines=True)
            st.caption("Answer sent")
            st.json(decision.answer, expanded=1)


def score_widget(rubric: Rubric, key: str, *, container: Any = st) -> Any:
    label = rubric.name
    help_text = rubric.instructions or None
    if rubric.type == "boolean":
        return container.radio(label, [_YES, _NO], index=None, horizontal=True, key=key, help=help_text)
    if rubric.choices:
        return container.radio(label, list(rubric.choices), index=None, horizontal=True, key=key, help=help_text,
                               format_func=lambda v: md_escape(v))  # fmt: skip
    if rubric.type == "numeric":
        return container.number_input(label, min_value=rubric.minimum, max_value=rubric.maximum, value=None, key=key, help=help_text,
                                      step=1.0 if not rubric.integer else None)  # fmt: skip
    return container.text_area(label, key=key, help=help_text, height=80, placeholder="optional" if not rubric.required else "")


def _render_score_form(qa: QA, name: str, view: ItemView, reviewer: str, principal: Any) -> None:
    thread_id = view.item.thread_id
    prefix = f"qa_score:{name}:{thread_id}"
    original = editable_output(view.final_output)
    with st.form(f"{prefix}:form", border=True, enter_to_submit=False):
        st.markdown("**Your scores**")
        raw = {}
        for rubric in view.rubrics:
            if rubric.instructions:
                st.caption(md_escape(rubric.instructions))
            raw[rubric.name] = score_widget(rubric, f"{prefix}:{rubric.name}")
        correction = st.text_area("Correction of the final output (optional)", value=original, height=150, key=f"{prefix}:correction",
                                  help="Edit the output into what the agent should have produced; exported as the reference output.")  # fmt: skip
        comment = st.text_input("Comment (optional)", key=f"{prefix}:comment")
        sent = st.form_submit_button("Submit scores", type="primary", shortcut=SHORTCUTS["submit"], icon=":material/send:",
                                     help="Ctrl+Enter from a text field of the form (radios keep their keys to themselves)")  # fmt: skip
    if not sent:
        return
    try:
        scores = score_widgets_values(view.rubrics, raw)
        corrected = None if correction == original else parsed_correction(correction, view.final_output)
        qa.submit(name, thread_id, reviewer=reviewer, scores=scores, correction=corrected, comment=comment, principal=principal)
    except InvalidAnswer as exc:
        show_problem(exc)
        return
    except HitlError as exc:
        show_problem(exc)
        return
    _take_next(qa, name, reviewer, principal)
    left = st.session_state.get("qa_notice")
    st.session_state["qa_notice"] = f"Scores for {thread_id} recorded." + (f" {left}" if left else "")
    st.rerun()


def _render_others(view: ItemView) -> None:
    if view.hidden:
        st.info(f"Blind review: {view.hidden} other reviewer(s) scored this item. Their scores show once you have submitted yours.",
                icon=":material/visibility_off:")  # fmt: skip
        return
    if view.others:
        st.markdown("**Other reviewers**")
        rows = [{"reviewer": s.reviewer, **{k: str(v) for k, v in s.scores.items()}, "comment": s.comment} for s in view.others]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if view.adjudication:
        st.caption(md_escape(f"Adjudicated by {view.adjudication.adjudicator} at {_when(view.adjudication.decided_at)}"))
        st.json(view.adjudication.scores)
