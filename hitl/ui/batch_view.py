"""The Inbox page's batch actions: approve or reject the selected threads, with a confirmation over a size and a results table."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import streamlit as st

from hitl import HitlError, Inbox
from hitl.ui.desk import reviewer_name
from hitl.ui.guard import show_problem
from hitl.ui.tables import batch_blockers, batch_confirm_line, batch_frame, batch_preview
from hitl.ui.text import escape_markdown


def render_batch(inbox: Inbox, selected: list[str], present: list[Any], gone: list[str], seen: dict[str, list[str]]) -> None:
    count = len(selected)
    kinds = sorted({", ".join(item.kinds) for item in present})
    blockers = batch_blockers(present)
    reviewer = reviewer_name()
    with st.container(border=True):
        st.subheader(f"Batch: {count} threads" + (f" of kind {escape_markdown(kinds[0])}" if len(kinds) == 1 else ""))
        if gone:
            st.caption(
                f"{len(gone)} of them left the queue since you selected them (someone else decided them, or "
                "they moved on); the batch sends nothing for those and reports what happened."
            )
        if blockers:
            st.warning("Batch is off for this selection.\n\n" + "\n".join(f"- {escape_markdown(r)}" for r in blockers))
        elif not reviewer:
            st.warning("Type your name in the sidebar first: it is recorded on every decision.")
        comment = st.text_input(
            "Comment for every thread",
            key="inbox_batch_comment",
            placeholder="optional; sent as the reason when rejecting",
            help="Recorded with each decision in the audit log. When rejecting, it is also the "
            "reason the agent receives.",
        )
        disabled = bool(blockers) or not reviewer
        preview, tally = batch_preview(present)
        risky = bool(tally["money"] or tally["deletes"]) or count > BATCH_CONFIRM_OVER
        with st.expander(f"What Approve all {count} will run", expanded=risky, icon=":material/preview:"):
            st.dataframe(preview, hide_index=True, key="inbox_batch_preview", height=min(38 + 35 * len(preview), 38 + 35 * 10),
                         column_config={"Amount": st.column_config.NumberColumn(format="%.2f"),
                                        "Approving": st.column_config.TextColumn(width="large")})  # fmt: skip
        waiting = st.session_state.get(BATCH_CONFIRM_KEY)
        if waiting is not None and waiting["ids"] != sorted(selected):
            waiting = st.session_state[BATCH_CONFIRM_KEY] = None  # the selection changed: ask again
        if waiting is not None and not disabled:
            st.warning(escape_markdown(batch_confirm_line(count, tally)), icon=":material/priority_high:")
            yes_col, no_col, _ = st.columns([1.4, 1, 2.6])
            confirmed = yes_col.button(f"Confirm: approve all {count}", type="primary", key="inbox_batch_confirm",
                                       width="stretch")  # fmt: skip
            no_col.button("Cancel", key="inbox_batch_cancel", width="stretch", on_click=_forget_batch_confirm)
            if confirmed:
                st.session_state[BATCH_CONFIRM_KEY] = None
                # Answered at the interrupts shown when Approve was clicked: a thread that moved
                # on while the confirmation waited comes back "changed", unanswered.
                _run_batch(inbox, selected, waiting["seen"], approve=True, reviewer=reviewer, comment=comment)
            return
        approve_col, reject_col, _ = st.columns([1, 1, 3])
        approve = approve_col.button(f"Approve all {count}", type="primary", icon=":material/done_all:",
                                     key="inbox_batch_approve", disabled=disabled, width="stretch")  # fmt: skip
        reject = reject_col.button(f"Reject all {count}", icon=":material/block:", key="inbox_batch_reject",
                                   disabled=disabled, width="stretch")  # fmt: skip
        if approve and risky:
            # Money, deletions or a large batch: a preview was shown; a second step sends it.
            st.session_state[BATCH_CONFIRM_KEY] = {"ids": sorted(selected), "seen": dict(seen)}
            st.rerun()
        if approve or reject:
            _run_batch(inbox, selected, seen, approve=approve, reviewer=reviewer, comment=comment)


BATCH_CONFIRM_OVER = 10
"""A batch approval of more threads than this asks for confirmation (as do money and deletions)."""


BATCH_CONFIRM_KEY = "inbox_batch_confirming"
"""session_state key: a batch approval waiting for its confirmation (the sorted thread ids, and
the interrupts shown when Approve was clicked)."""


def _forget_batch_confirm() -> None:
    st.session_state[BATCH_CONFIRM_KEY] = None


def _run_batch(
    inbox: Inbox, thread_ids: list[str], seen: dict[str, list[str]], *, approve: bool, reviewer: str, comment: str
) -> None:
    verb = "Approving" if approve else "Rejecting"
    bar = st.progress(0.0, text=f"{verb} {len(thread_ids)} threads…")

    def progress(done: int, total: int, result: Any) -> None:
        bar.progress(done / total, text=f"{verb}: {done} of {total} done ({escape_markdown(result.thread_id)}: {result.result})")

    try:
        # Each thread is answered only at the interrupt the reviewer was shown: one that moved
        # on meanwhile comes back "changed", unanswered.
        shown = {tid: ids[0] for tid, ids in seen.items() if len(ids) == 1}
        # Chunks of 10: the progress bar moves while a page of up to 100 threads is decided.
        results = inbox.batch(
            thread_ids, approve=approve, reviewer=reviewer, comment=comment, progress=progress, seen=shown, chunk_size=10
        )
    except HitlError as exc:  # the batch itself could not run (e.g. the database went away)
        show_problem(exc)
        return
    by_thread = {result.thread_id: asdict(result) for result in results}
    st.session_state["inbox_batch"] = {
        "approve": approve,
        "comment": comment,
        "results": [by_thread[thread_id] for thread_id in thread_ids],
    }
    st.session_state["inbox_selected"] = []
    st.session_state.pop("inbox_batch_comment", None)
    st.rerun()  # the whole app: the sidebar counts and the queue now reflect the decisions


def _dismiss_batch() -> None:
    st.session_state["inbox_batch"] = None


def render_batch_results() -> None:
    batch = st.session_state.get("inbox_batch")
    if not batch:
        return
    results = batch["results"]
    tally: dict[str, int] = {}
    for result in results:
        tally[result["result"]] = tally.get(result["result"], 0) + 1
    verb = "Approved" if batch["approve"] else "Rejected"
    line = f"{verb} {len(results)} threads: " + ", ".join(f"{n} {name}" for name, n in tally.items())
    ok = set(tally) <= {"completed", "waiting"}
    with st.container(border=True):
        (st.success if ok else st.warning)(escape_markdown(line), icon=":material/task_alt:" if ok else ":material/warning:")
        st.dataframe(batch_frame(results), hide_index=True, key="inbox_batch_table",
                     column_config={"Details": st.column_config.TextColumn(width="large")})  # fmt: skip
        st.button("Dismiss", key="inbox_batch_dismiss", on_click=_dismiss_batch)
