"""The QA page's other tabs: progress and agreement, adjudication, export, forks and comparison, queues."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from typing import Any

import pandas as pd
import streamlit as st

from hitl import HitlError, Inbox
from hitl.qa import QA
from hitl.qa.datasets import EXPORT_FORMATS
from hitl.qa.queues import OUTCOMES
from hitl.ui.context import md_escape, pretty_json, render_conversation, show_text
from hitl.ui.guard import show_problem
from hitl.ui.qa_scoring import current_item, editable_output, parsed_correction, score_widget, changes_frame, score_widgets_values

_FORMAT_LABELS = {"jsonl": "JSONL (LangSmith examples)", "csv": "CSV", "openai": "JSONL (OpenAI fine-tuning)"}


def _sync(qa: QA, name: str) -> None:
    try:
        added = qa.sync(name)
    except HitlError as exc:
        st.session_state["qa_error"] = str(exc)
        return
    st.session_state["qa_notice"] = f"{added} newly finished thread(s) sampled into {name}."


def render_progress(qa: QA, name: str) -> None:
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


def render_adjudication(qa: QA, name: str, reviewer: str, principal: Any) -> None:
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
            raw[rubric.name] = score_widget(rubric, f"{prefix}:{rubric.name}")
        correction = st.text_area("Reference output (optional)", value=editable_output(view.final_output), key=f"{prefix}:correction")
        comment = st.text_input("Why (optional)", key=f"{prefix}:comment")
        sent = st.form_submit_button("Record final scores", type="primary", icon=":material/gavel:")
    if sent:
        try:
            final = score_widgets_values(rubrics, raw)
            reference = None if correction == editable_output(view.final_output) else parsed_correction(correction, view.final_output)
            qa.adjudicate(name, chosen, adjudicator=reviewer, scores=final, correction=reference, comment=comment, principal=principal)
        except HitlError as exc:
            show_problem(exc)
            return
        st.session_state["qa_notice"] = f"Final scores for {chosen} recorded."
        st.rerun()


def render_export(qa: QA, name: str, principal: Any) -> None:
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


def render_forks(qa: QA, name: str, reviewer: str, principal: Any) -> None:
    st.caption("Pick a finished thread and an interrupt that was answered, give another answer (or edit the state at that "
               "checkpoint), and the desk runs the graph from there on a new thread. The original is left untouched; forks "
               "never count as production decisions and send no webhooks unless you ask.")  # fmt: skip
    thread_id = st.text_input("Thread", value=current_item(name) or "", key=f"qa_fork_thread:{name}")
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


def render_queues(qa: QA, inbox: Inbox, reviewer: str) -> None:
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
