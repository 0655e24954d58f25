"""The Threads page: every thread by status, and one thread read-only with its timeline.

The selected thread is kept in `threads_selected` and mirrored in the URL (`?thread=ID`), so a
thread can be linked to. Retry and Mark resolved are the only writes here, both recorded in
the audit log under the reviewer's name.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st

from hitl import HitlError, Inbox, ThreadView
from hitl.durations import humanize_age
from hitl.ui.desk import reviewer_name
from hitl.ui.guard import open_desk, show_problem
from hitl.ui.queue import ALL_GRAPHS, graph_filter, open_review
from hitl.ui.sidebar import STATUSES
from hitl.ui.state import bound, defaults
from hitl.ui.tables import last_decision, threads_frame, timeline_frame
from hitl.ui.text import escape_markdown, jsonable, visible_controls

__all__ = ["render_threads_page", "render_thread_detail"]

PAGE_SIZE = 50

_STATUS_HELP = {
    "waiting": "Paused at interrupt(), waiting for a reviewer.",
    "running": "Has work left to do and is not waiting for anyone (running now, or stopped mid-way).",
    "completed": "Ran to its end.",
    "failed": "A task raised: the error is in the latest checkpoint. Retry it, or mark it resolved.",
    "resolved": "Closed by a reviewer without resuming it.",
}


def _table_key(status: str) -> str:
    return f"threads_table_{status}"


def _first_pages() -> None:
    st.session_state["threads_cursors"] = {status: [None] for status in STATUSES}


def _select(thread_id: str | None) -> None:
    st.session_state["threads_selected"] = thread_id
    if thread_id:
        st.query_params["thread"] = thread_id
    else:
        st.query_params.pop("thread", None)


def render_threads_page() -> None:
    """The whole Threads page."""
    inbox = open_desk()
    defaults(
        {
            "threads_search": "",
            "threads_graph": ALL_GRAPHS,
            "threads_cursors": {status: [None] for status in STATUSES},
            "threads_page_ids": {status: [] for status in STATUSES},
            "threads_selected": None,
            "threads_flash": None,
        }
    )
    linked = st.query_params.get("thread")
    from_link = bool(linked and linked != st.session_state["threads_selected"])
    if from_link:
        st.session_state["threads_selected"] = linked
    st.title("Threads")
    st.caption(
        f"Every thread {'on the LangGraph server at ' + escape_markdown(inbox.store.threads_at) if inbox.store.threads_at else 'in the database'}, "
        "by status. Select one to read its timeline, state and "
        "decisions. Nothing here resumes a graph, except Retry and Mark resolved."
    )
    try:
        inbox.refresh()
        counts = inbox.counts()
        graph_ids = inbox.graph_ids()
    except HitlError as exc:
        show_problem(exc)
        return
    search, graph = st.columns([3, 2], vertical_alignment="bottom")
    bound(search.text_input, "Search", "threads_search", on_change=_first_pages,
          placeholder="thread id or payload text…")  # fmt: skip
    graph_filter(graph, "threads_graph", graph_ids, on_change=_first_pages)

    selected = st.session_state["threads_selected"]
    view: ThreadView | None = None
    problem: HitlError | None = None
    if selected:
        try:
            view = inbox.thread(selected)
        except HitlError as exc:
            problem = exc
    if from_link and view is not None:
        st.session_state["threads_tab"] = view.status.capitalize()  # open the tab the linked thread is in
    # Plain labels: the tab's state is its label, so a count in it would reset the tab on change.
    tabs = st.tabs([status.capitalize() for status in STATUSES], key="threads_tab", on_change="rerun")
    for status, tab in zip(STATUSES, tabs, strict=True):
        with tab:
            _render_status_table(inbox, status, counts.get(status, 0))

    flash = st.session_state.get("threads_flash")
    if flash:
        level, message = flash
        getattr(st, level)(escape_markdown(message))
        st.session_state["threads_flash"] = None
    if selected:
        st.divider()
        if problem is not None:
            show_problem(problem)
            st.button("Close", key="threads_close_missing", on_click=_select, args=(None,))
        elif view is not None:
            render_thread_detail(inbox, view)


def _render_status_table(inbox: Inbox, status: str, count: int) -> None:
    state = st.session_state
    cursors = state["threads_cursors"].setdefault(status, [None])
    st.caption(f"{count:,} {status}. {_STATUS_HELP[status]}")
    try:
        rows, next_cursor, total = inbox.threads(
            status,
            limit=PAGE_SIZE,
            cursor=cursors[-1],
            graph_id=None if state["threads_graph"] == ALL_GRAPHS else state["threads_graph"],
            search=state["threads_search"].strip() or None,
            refresh=False,
        )
    except HitlError as exc:
        show_problem(exc)
        return
    if not rows:
        st.text(f"No {status} threads" + (" match these filters." if total == 0 and _filtered() else "."))
        return
    ids = [row.thread_id for row in rows]
    state["threads_page_ids"][status] = ids
    wanted = [ids.index(state["threads_selected"])] if state["threads_selected"] in ids else []
    key = _table_key(status)
    drawn = state.get(key)
    if drawn is None or list(drawn.get("selection", {}).get("rows", [])) != wanted:
        state[key] = {"selection": {"rows": wanted, "columns": [], "cells": []}}
    _dataframe(threads_frame(rows, last=_last_decisions(inbox, rows)), key, status,
               max_rows=6 if state["threads_selected"] else 12)
    first = (len(cursors) - 1) * PAGE_SIZE + 1
    info, previous, following = st.columns([6, 1, 1], vertical_alignment="center")
    info.caption(f"Showing {first:,}–{first + len(rows) - 1:,} of {total:,}")
    previous.button("Prev", key=f"threads_prev_{status}", icon=":material/chevron_left:", width="stretch",
                    disabled=len(cursors) <= 1, on_click=_move, args=(status, None))  # fmt: skip
    following.button("Next", key=f"threads_next_{status}", icon=":material/chevron_right:", width="stretch",
                     disabled=next_cursor is None, on_click=_move, args=(status, next_cursor))  # fmt: skip


def _last_decisions(inbox: Inbox, rows: list[Any]) -> dict[str, dict[str, str]]:
    """For threads no longer paused (completed, resolved...), what their last decision was about."""
    out = {}
    for row in rows:
        if row.kinds:
            continue
        try:
            history = inbox.history(thread_id=row.thread_id)
        except HitlError:
            continue
        if not history.empty:
            out[row.thread_id] = last_decision(history.iloc[-1].to_dict())
    return out


def _dataframe(frame: Any, key: str, status: str, *, max_rows: int) -> None:
    show_note = bool((frame["Note"] != "").any())
    st.dataframe(
        frame,
        key=key,
        on_select=partial(_on_select, status),
        selection_mode="single-row",
        hide_index=True,
        height=min(38 + 35 * len(frame), 38 + 35 * max_rows),
        column_order=[c for c in frame.columns if c != "Status" and (c != "Note" or show_note)],
        column_config={
            "Thread": st.column_config.TextColumn(width=210),
            "Graph": st.column_config.TextColumn(width=130),
            "Kind": st.column_config.TextColumn(width=110),
            "Updated": st.column_config.TextColumn(width=90, help="Time since its latest checkpoint"),
            "Node": st.column_config.TextColumn("Paused at", width=120, help="Node(s) with a pending interrupt; for a "
                                                "thread that ended, who took its last decision"),
            "Summary": st.column_config.TextColumn(width="large"),
        },
    )


def _filtered() -> bool:
    return bool(st.session_state["threads_search"].strip() or st.session_state["threads_graph"] != ALL_GRAPHS)


def _move(status: str, cursor: str | None) -> None:
    cursors = st.session_state["threads_cursors"][status]
    st.session_state["threads_cursors"][status] = [*cursors, cursor] if cursor else (cursors[:-1] or [None])


def _on_select(status: str) -> None:
    rows = st.session_state[_table_key(status)]["selection"]["rows"]
    ids = st.session_state["threads_page_ids"][status]
    _select(ids[rows[0]] if rows and rows[0] < len(ids) else None)


def render_thread_detail(inbox: Inbox, view: ThreadView) -> None:
    """One thread, read-only: status, actions, errors, pending interrupts, timeline, state."""
    head, close = st.columns([6, 1], vertical_alignment="center")
    head.subheader("Thread detail")
    close.button("Close", key="threads_close", icon=":material/close:", on_click=_select, args=(None,), width="stretch")
    st.code(visible_controls(view.thread_id), language=None)
    paused = sorted({i.node for i in view.interrupts if i.node}) or list(view.next_nodes)
    facts = [
        ("Status", view.status),
        ("Graph", view.graph_id or "unknown"),
        ("Paused at" if view.interrupts else "Next", ", ".join(paused) or "—"),
        ("Checkpoints", f"{len(view.checkpoints):,}"),
        ("Decisions", f"{len(view.decisions):,}"),
    ]
    for column, (label, value) in zip(st.columns(len(facts)), facts, strict=True):
        with column:  # small label over a bold value: long graph and node names fit, unlike st.metric
            st.caption(label)
            st.markdown(f"**{escape_markdown(value)}**")
    if view.waiting_since:
        st.caption(f"Waiting for {humanize_age(view.waiting_since)}.")
    if view.read_only_reason:
        st.warning("Read-only: " + escape_markdown(view.read_only_reason))
    _render_actions(inbox, view)

    for node_name, error in view.errors:
        st.error(f"Task error in {escape_markdown(node_name)}", icon=":material/error:")
        st.code(visible_controls(error), language=None, wrap_lines=True)
    for interrupt in view.interrupts:
        label = f"Interrupt at {interrupt.node or '?'} · {interrupt.kind}"
        if interrupt.failed_error:
            label += " · answered, then the node failed"
        with st.expander(escape_markdown(label), expanded=not interrupt.failed_error):
            st.text(visible_controls(interrupt.summary))
            if interrupt.decode_error:
                st.code(visible_controls(interrupt.decode_error), language=None)
            else:
                st.json(jsonable(interrupt.value), expanded=1)
            if interrupt.failed_error:
                st.code(visible_controls(interrupt.failed_error), language=None, wrap_lines=True)

    st.markdown("#### Timeline")
    st.caption("Checkpoints (what the graph saved at each step) and the desk's decisions, oldest first.")
    timeline = timeline_frame(view)
    if timeline.empty:
        st.text("No checkpoints.")
    else:
        st.dataframe(
            timeline,
            hide_index=True,
            key="threads_timeline",
            placeholder="",
            column_config={
                "When": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                "Detail": st.column_config.TextColumn(width="large"),
                "Id": st.column_config.TextColumn("Checkpoint / interrupt id", width="small"),
            },
        )

    st.markdown("#### State")
    if not view.values:
        st.text("No state values.")
    for key, value in view.values.items():
        with st.expander(escape_markdown(key)):
            st.json(jsonable(value), expanded=2)
    with st.expander("Checkpoint metadata"):
        st.json(jsonable(view.metadata), expanded=1)


def _render_actions(inbox: Inbox, view: ThreadView) -> None:
    reviewer = reviewer_name()
    can_write = view.status not in ("completed", "resolved") and not view.read_only_reason
    if not (view.status == "waiting" or can_write):
        return
    columns = st.columns([1.2, 1, 1.3, 3], vertical_alignment="center")
    if view.status == "waiting" and columns[0].button(
        "Open in review", type="primary", icon=":material/rate_review:", key="threads_open_review", width="stretch"
    ):
        open_review(view.thread_id)
    if view.status == "failed" and can_write:
        if columns[1].button("Retry", icon=":material/replay:", key="threads_retry", disabled=not reviewer,
                             help="Run the failed task again; answers given before the failure are kept.",
                             width="stretch"):  # fmt: skip
            _retry(inbox, view.thread_id, reviewer)
    if can_write:
        with columns[2].popover("Mark resolved", icon=":material/task_alt:", width="stretch"):
            st.write("Close this thread without resuming it. The reason goes into the audit log.")
            reason = st.text_input("Reason", key="threads_resolve_reason", placeholder="e.g. handled by phone")
            if st.button("Mark resolved", type="primary", key="threads_resolve", disabled=not (reason.strip() and reviewer)):
                _resolve(inbox, view.thread_id, reviewer, reason)
    if not reviewer:
        columns[3].caption("Type your name in the sidebar to retry or resolve.")


def _retry(inbox: Inbox, thread_id: str, reviewer: str) -> None:
    try:
        outcome = inbox.retry(thread_id, reviewer=reviewer)
    except HitlError as exc:
        show_problem(exc)
        return
    messages = {
        "completed": ("success", f"Retried {thread_id}: the graph ran to its end."),
        "waiting": ("success", f"Retried {thread_id}: it paused again and is back in the Inbox."),
        "failed": ("error", f"Retried {thread_id}: it failed again: {outcome.error}"),
    }
    st.session_state["threads_flash"] = messages[outcome.status]
    st.rerun()


def _resolve(inbox: Inbox, thread_id: str, reviewer: str, reason: str) -> None:
    try:
        inbox.resolve(thread_id, reviewer=reviewer, reason=reason.strip())
    except HitlError as exc:
        show_problem(exc)
        return
    st.session_state["threads_flash"] = ("success", f"Marked {thread_id} resolved.")
    st.session_state.pop("threads_resolve_reason", None)
    st.rerun()
