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

import difflib
import json
from datetime import date, datetime, time, timezone
from typing import Any

import pandas as pd
import streamlit as st

from hitl import HitlError, Inbox, InvalidAnswer
from hitl.qa import QA, ItemView, Rubric
from hitl.qa.datasets import EXPORT_FORMATS
from hitl.qa.queues import OUTCOMES
from hitl.ui import auth
from hitl.ui.context import md_escape, pretty_json, render_conversation, render_state, show_text
from hitl.ui.desk import reviewer_name
from hitl.ui.guard import open_desk, show_problem
from hitl.ui.state import defaults

__all__ = ["render_qa_page", "SHORTCUTS", "score_widgets_values", "text_diff", "changes_frame"]

SHORTCUTS = {"next": "J", "submit": "Ctrl+Enter", "skip": "X"}
"""Keyboard shortcuts of the Review tab. Streamlit ignores single keys while a field has the focus,
so submitting, done from the form, takes a modifier; a focused radio keeps even those to itself,
so Ctrl+Enter is pressed in the correction or comment field."""

_YES, _NO = "Yes", "No"
_FORMAT_LABELS = {"jsonl": "JSONL (LangSmith examples)", "csv": "CSV", "openai": "JSONL (OpenAI fine-tuning)"}


# --------------------------------------------------------------------------- pure helpers


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


def _editable(value: Any) -> str:
    return value if isinstance(value, str) else pretty_json(value)


def _parsed_correction(text: str, original: Any) -> Any:
    """The correction as the output's own type: text stays text; JSON outputs are parsed."""
    if isinstance(original, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidAnswer("The correction must be valid JSON, like the output it corrects.", field_errors={"correction": "not JSON"}) from None


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
            _render_queues(qa, inbox, reviewer)
    if name is None:
        if tabs["Review"].open:
            tabs["Review"].info("No QA queue yet: create one on the Queues tab (or add [[qa.queues]] to HITL_CONFIG).", icon=":material/info:")
        return
    renderers = {
        "Review": lambda: _render_review(qa, name, reviewer, principal),
        "Progress & agreement": lambda: _render_progress(qa, name),
        "Adjudicate": lambda: _render_adjudication(qa, name, reviewer, principal),
        "Export": lambda: _render_export(qa, name, principal),
        "Fork & compare": lambda: _render_forks(qa, name, reviewer, principal),
    }
    for label, render in renderers.items():
        if tabs[label].open:
            with tabs[label]:
                render()


# --------------------------------------------------------------------------- review


def _current(name: str) -> str | None:
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


def _render_review(qa: QA, name: str, reviewer: str, principal: Any) -> None:
    if not reviewer:
        st.info("Type your name in the sidebar first: every score is recorded with its reviewer.", icon=":material/badge:")
        return
    error = st.session_state.pop("qa_error", None)
    if error:
        st.error(md_escape(error), icon=":material/warning:")
    thread_id = _current(name)
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


def _widget(rubric: Rubric, key: str, *, container: Any = st) -> Any:
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
    original = _editable(view.final_output)
    with st.form(f"{prefix}:form", border=True, enter_to_submit=False):
        st.markdown("**Your scores**")
        raw = {}
        for rubric in view.rubrics:
            if rubric.instructions:
                st.caption(md_escape(rubric.instructions))
            raw[rubric.name] = _widget(rubric, f"{prefix}:{rubric.name}")
        correction = st.text_area("Correction of the final output (optional)", value=original, height=150, key=f"{prefix}:correction",
                                  help="Edit the output into what the agent should have produced; exported as the reference output.")  # fmt: skip
        comment = st.text_input("Comment (optional)", key=f"{prefix}:comment")
        sent = st.form_submit_button("Submit scores", type="primary", shortcut=SHORTCUTS["submit"], icon=":material/send:",
                                     help="Ctrl+Enter from a text field of the form (radios keep their keys to themselves)")  # fmt: skip
    if not sent:
        return
    try:
        scores = score_widgets_values(view.rubrics, raw)
        corrected = None if correction == original else _parsed_correction(correction, view.final_output)
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


# --------------------------------------------------------------------------- progress and agreement


def _sync(qa: QA, name: str) -> None:
    try:
        added = qa.sync(name)
    except HitlError as exc:
        st.session_state["qa_error"] = str(exc)
        return
    st.session_state["qa_notice"] = f"{added} newly finished thread(s) sampled into {name}."


def _render_progress(qa: QA, name: str) -> None:
    progress = qa.progress(name)
    cols = st.columns(5)
    cols[0].metric("Items", f"{progress.items:,}")
    cols[1].metric("Scores", f"{progress.submissions:,} / {progress.target:,}")
    cols[2].metric("Complete", f"{progress.complete:,}")
    cols[3].metric("To adjudicate", f"{progress.disagreements:,}")
    cols[4].metric("Reserved now", f"{progress.reserved:,}")
    st.progress(min(1.0, progress.submissions / progress.target) if progress.target else 0.0,
                text=f"{progress.in_progress} in progress, {progress.untouched} untouched, {progress.adjudicated} adjudicated")  # fmt: skip
    st.button("Sample newly finished threads", key="qa_sync", on_click=_sync, args=(qa, name), icon=":material/refresh:")
    if progress.reviewers:
        st.markdown("**Per reviewer**")
        st.dataframe(pd.DataFrame([{"reviewer": r.reviewer, "scored": r.submitted, "skipped": r.skipped, "holding": r.holding}
                                   for r in progress.reviewers]), hide_index=True)  # fmt: skip
    st.markdown("**Agreement**")
    st.caption("Krippendorff's alpha (krippendorff package) per rubric, at the rubric's level of measurement; Cohen's kappa "
               "(scikit-learn) per pair of reviewers over the items both scored. 1 is perfect agreement, 0 chance.")  # fmt: skip
    rows, pairs = [], []
    for figure in qa.agreement(name):
        rows.append({"rubric": figure.rubric, "level": figure.level or "not compared",
                     "alpha": None if figure.alpha is None else round(figure.alpha, 3), "items": figure.n_items,
                     "ratings": figure.n_ratings, "note": figure.reason or ""})  # fmt: skip
        for pair in figure.pairs:
            pairs.append({"rubric": figure.rubric, "reviewers": f"{pair.reviewer_a} / {pair.reviewer_b}",
                          "kappa": None if pair.kappa is None else round(pair.kappa, 3), "items": pair.n_items,
                          "agreed": None if pair.observed_agreement is None else f"{pair.observed_agreement:.0%}",
                          "note": pair.reason or ""})  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if pairs:
        st.dataframe(pd.DataFrame(pairs), hide_index=True, width="stretch")


# --------------------------------------------------------------------------- adjudication


def _render_adjudication(qa: QA, name: str, reviewer: str, principal: Any) -> None:
    if not reviewer:
        st.info("Type your name in the sidebar first.", icon=":material/badge:")
        return
    if not qa.can_adjudicate(reviewer, principal=principal):
        st.info(md_escape(f"{reviewer} is not an adjudicator of this desk ([qa] adjudicators / adjudicator_roles)."),
                icon=":material/lock:")  # fmt: skip
        return
    if not qa.config.adjudicators and not qa.config.adjudicator_roles:
        st.caption("Local mode: no [qa] adjudicators are configured, so anyone may adjudicate.")
    items = qa.disagreements(name, reviewer=reviewer, principal=principal)
    if not items:
        st.info("No disagreements: every item scored by two or more reviewers has the same scores (or nobody scored twice yet).",
                icon=":material/handshake:")  # fmt: skip
        return
    st.caption("Items whose reviewers disagree most, worst first. The final score you record is the one exported.")
    table = pd.DataFrame([{"thread": d.thread_id, "disagreement": round(d.disagreement, 2),
                           "reviewers": ", ".join(sorted(d.scores)), "adjudicated": d.adjudication.adjudicator if d.adjudication else ""}
                          for d in items])  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = st.selectbox("Adjudicate", [d.thread_id for d in items], key=f"qa_adjudicate:{name}")
    item = next(d for d in items if d.thread_id == chosen)
    rubrics = qa.rubrics(name)
    scores = pd.DataFrame([{"reviewer": r, **{k: str(v) for k, v in s.items()}} for r, s in item.scores.items()])
    st.dataframe(scores, hide_index=True, width="stretch")
    view = qa.item(name, chosen, viewer=reviewer, principal=principal)
    with st.expander("Final output"):
        show_text(view.final_output)
    prefix = f"qa_adj:{name}:{chosen}"
    with st.form(f"{prefix}:form", enter_to_submit=False):
        raw = {}
        for rubric in rubrics:
            if rubric.level is None:
                continue
            st.caption(md_escape(f"{rubric.name}: " + ", ".join(f"{r} → {s.get(rubric.name)}" for r, s in item.scores.items())))
            raw[rubric.name] = _widget(rubric, f"{prefix}:{rubric.name}")
        correction = st.text_area("Reference output (optional)", value=_editable(view.final_output), key=f"{prefix}:correction")
        comment = st.text_input("Why (optional)", key=f"{prefix}:comment")
        sent = st.form_submit_button("Record final scores", type="primary", icon=":material/gavel:")
    if sent:
        try:
            final = score_widgets_values(rubrics, raw)
            reference = None if correction == _editable(view.final_output) else _parsed_correction(correction, view.final_output)
            qa.adjudicate(name, chosen, adjudicator=reviewer, scores=final, correction=reference, comment=comment, principal=principal)
        except HitlError as exc:
            show_problem(exc)
            return
        st.session_state["qa_notice"] = f"Final scores for {chosen} recorded."
        st.rerun()


# --------------------------------------------------------------------------- export


def _render_export(qa: QA, name: str, principal: Any) -> None:
    chosen = st.radio("Format", list(EXPORT_FORMATS), format_func=_FORMAT_LABELS.get, horizontal=True, key="qa_export_format")
    try:
        text = qa.export(name, format=chosen, principal=principal)
    except HitlError as exc:
        show_problem(exc)
        return
    count = len(text.splitlines()) - (1 if chosen == "csv" else 0)
    extension = "csv" if chosen == "csv" else "jsonl"
    st.download_button(f"Download {count} example(s)", data=text.encode("utf-8"), file_name=f"qa-{name}-{chosen}.{extension}",
                       mime="text/csv" if chosen == "csv" else "application/x-ndjson", icon=":material/download:",
                       key="qa_download", on_click="ignore", type="primary", disabled=count == 0)  # fmt: skip
    st.caption("Scored items only. The reference output is the correction (the adjudicator's wins), else the agent's output; "
               "scores are the adjudicated ones, else the reviewers' when they agree. Load JSONL with "
               "`Client().create_examples(examples=[json.loads(line) for line in file])`.")  # fmt: skip
    if count:
        first = text.splitlines()[1 if chosen == "csv" else 0]
        st.code(first if chosen == "csv" else pretty_json(json.loads(first)), language="json" if chosen != "csv" else None, wrap_lines=True)


# --------------------------------------------------------------------------- forks


def _render_forks(qa: QA, name: str, reviewer: str, principal: Any) -> None:
    st.caption("Pick a finished thread and an interrupt that was answered, give another answer (or edit the state at that "
               "checkpoint), and the desk runs the graph from there on a new thread. The original is left untouched; forks "
               "never count as production decisions and send no webhooks unless you ask.")  # fmt: skip
    thread_id = st.text_input("Thread", value=_current(name) or "", key=f"qa_fork_thread:{name}")
    if not thread_id:
        return
    try:
        answered = qa.answered_interrupts(thread_id, principal=principal)
    except HitlError as exc:
        show_problem(exc)
        return
    existing = qa.forks(thread_id)
    if answered:
        labels = {a.interrupt_id: f"{a.node or '?'} · {a.kind} · answered by {a.reviewer or 'the agent process'}" for a in answered}
        chosen_id = st.selectbox("Answered interrupt", list(labels), format_func=labels.get, key=f"qa_fork_pick:{thread_id}")
        chosen = next(a for a in answered if a.interrupt_id == chosen_id)
        left, right = st.columns(2)
        with left:
            st.caption("What it asked")
            st.json(chosen.value, expanded=1)
        with right:
            st.caption("What was answered")
            st.json(chosen.answer, expanded=1)
        mode = st.radio("Fork with", ["another answer", "edited state"], horizontal=True, key=f"qa_fork_mode:{thread_id}")
        prefix = f"qa_fork:{thread_id}:{chosen_id}"
        with st.form(f"{prefix}:form", enter_to_submit=False):
            state_text = ""
            as_node = ""
            if mode == "edited state":
                state_text = st.text_area("State values to write at that checkpoint (JSON object)", value="{}", key=f"{prefix}:state")
                as_node = st.text_input("As node (optional)", key=f"{prefix}:as_node", help="The node the update is written as; inferred when empty.")
            answer_text = st.text_area("Answer (JSON)", value=json.dumps(chosen.answer, ensure_ascii=False, indent=2), key=f"{prefix}:answer")
            add = st.checkbox(f"Add the fork to queue {name}", value=True, key=f"{prefix}:add")
            notify = st.checkbox("Send a decision_made webhook for it", value=False, key=f"{prefix}:notify")
            run = st.form_submit_button("Run fork", type="primary", icon=":material/call_split:")
        if run:
            _run_fork(qa, name if add else None, thread_id, chosen_id, reviewer, principal, answer_text, state_text if mode == "edited state" else None,
                      as_node or None, notify)  # fmt: skip
    else:
        st.info("This thread has no answered interrupt to fork at.", icon=":material/info:")
    existing = qa.forks(thread_id)
    if existing:
        pick = st.selectbox("Compare", [f.fork_thread_id for f in reversed(existing)], key=f"qa_compare:{thread_id}",
                            index=0 if st.session_state.get("qa_fork") not in [f.fork_thread_id for f in existing] else
                            [f.fork_thread_id for f in reversed(existing)].index(st.session_state["qa_fork"]))  # fmt: skip
        _render_comparison(qa, pick, principal)


def _run_fork(qa: QA, queue: str | None, thread_id: str, interrupt_id: str, reviewer: str, principal: Any, answer_text: str,
              state_text: str | None, as_node: str | None, notify: bool) -> None:  # fmt: skip
    try:
        answer = json.loads(answer_text)
        state = json.loads(state_text) if state_text is not None else None
    except ValueError as exc:
        st.error(md_escape(f"Not valid JSON: {exc}"), icon=":material/warning:")
        return
    try:
        with st.spinner("Running the fork…"):
            row = qa.fork(thread_id, interrupt_id, reviewer=reviewer, answer=answer, state_update=state, as_node=as_node,
                          notify=notify, queue=queue, principal=principal)  # fmt: skip
    except HitlError as exc:
        show_problem(exc)
        return
    st.session_state["qa_fork"] = row.fork_thread_id
    st.session_state["qa_notice"] = f"Fork {row.fork_thread_id}: {row.status}" + (f" ({row.error})" if row.error else "")
    st.rerun()


def _render_comparison(qa: QA, fork_thread_id: str, principal: Any) -> None:
    try:
        comparison = qa.compare(fork_thread_id, principal=principal)
    except HitlError as exc:
        show_problem(exc)
        return
    columns = st.columns(2, gap="large")
    for column, title, branch in ((columns[0], "Original", comparison.source), (columns[1], "Fork", comparison.branch)):
        with column:
            st.markdown(f"**{title}** · " + md_escape(f"{branch.thread_id} · {branch.status}"))
            st.caption("Answer")
            st.json(branch.answer, expanded=1)
            st.caption("Final output")
            with st.container(border=True):
                show_text(branch.final_output)
            st.caption(f"Tool calls after the fork point ({len(branch.tool_calls_after_fork)})")
            if branch.tool_calls_after_fork:
                st.dataframe(pd.DataFrame([{"tool": c["name"], "status": c["status"], "args": json.dumps(c["args"], ensure_ascii=False)[:200]}
                                           for c in branch.tool_calls_after_fork]), hide_index=True, width="stretch")  # fmt: skip
            with st.expander(f"Messages after the fork point ({len(branch.messages_after_fork)})"):
                render_conversation(branch.messages_after_fork, key=f"qa:cmp:{branch.thread_id}")
    if comparison.state_changes:
        st.markdown("**State that differs**")
        frame = changes_frame(comparison.state_changes).rename(columns={"proposed": "original", "sent": "fork"})
        st.dataframe(frame, hide_index=True, width="stretch")


# --------------------------------------------------------------------------- queues


def _render_queues(qa: QA, inbox: Inbox, reviewer: str) -> None:
    infos = qa.queues()
    if infos:
        st.dataframe(pd.DataFrame([{
            "queue": i.spec.name, "from": i.source, "graphs": ", ".join(i.spec.graphs) or "all", "outcomes": ", ".join(i.spec.outcomes) or "finished",
            "sample": f"{i.spec.sample_rate:.0%} (seed {i.spec.seed})", "rubrics": ", ".join(i.spec.rubrics),
            "N": i.spec.reviewers_per_item, "blind": i.spec.blind, "items": len(qa.items(i.spec.name)),
        } for i in infos]), hide_index=True, width="stretch")  # fmt: skip
    st.markdown("**New queue**")
    with st.form("qa_new_queue", enter_to_submit=False):
        first, second = st.columns(2)
        name = first.text_input("Name", placeholder="e.g. email-weekly")
        graphs = second.multiselect("Graphs", inbox.graph_ids(), placeholder="All graphs")
        outcomes = first.multiselect("Outcomes", list(OUTCOMES), placeholder="Every finished thread",
                                     help="completed / failed / resolved: the thread's status; rejected / edited: a reviewer rejected or edited a proposal.")  # fmt: skip
        nodes = second.text_input("Ran node(s)", placeholder="comma-separated, optional")
        since = first.date_input("Finished from (UTC)", value=None)
        until = second.date_input("Finished before (UTC)", value=None)
        metadata = first.text_input("Metadata filter (JSON)", placeholder='{"requested_by": "alice@example.com"}')
        state = second.text_input("State filter (JSON, dotted paths)", placeholder='{"status": "sent"}')
        rate = first.slider("Sample rate", 0.01, 1.0, 1.0, 0.01)
        seed = second.number_input("Seed", value=0, step=1)
        rubrics = first.multiselect("Rubrics", list(qa.config.rubrics), default=list(qa.config.rubrics))
        per_item = second.number_input("Reviewers per item (N)", min_value=1, max_value=20, value=1)
        blind = first.checkbox("Blind review", value=True)
        minutes = second.number_input("Reservation (minutes)", min_value=1, max_value=1440, value=15)
        created = st.form_submit_button("Create and sample", type="primary", icon=":material/add:")
    if created:
        try:
            spec = {
                "name": name.strip(), "graphs": graphs, "outcomes": outcomes,
                "nodes": [n.strip() for n in nodes.split(",") if n.strip()],
                "since": _iso_day(since), "until": _iso_day(until), "metadata": json.loads(metadata) if metadata.strip() else {},
                "state": json.loads(state) if state.strip() else {}, "sample_rate": float(rate), "seed": int(seed),
                "rubrics": rubrics, "reviewers_per_item": int(per_item), "blind": blind, "reservation_minutes": float(minutes),
            }  # fmt: skip
            queue = qa.create_queue(spec, created_by=reviewer or "page")
        except ValueError as exc:
            st.error(md_escape(f"A filter is not valid JSON: {exc}"), icon=":material/warning:")
            return
        except HitlError as exc:
            show_problem(exc)
            return
        st.session_state["qa_queue"] = queue.name
        st.session_state["qa_notice"] = f"Queue {queue.name} created with {len(qa.items(queue.name))} item(s)."
        st.rerun()


def _iso_day(day: date | None) -> str | None:
    return datetime.combine(day, time.min, timezone.utc).isoformat() if day else None
