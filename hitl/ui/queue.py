"""The Inbox page: the pending queue with filters, cursor pagination, selection and batch.

`render_inbox_page()` draws the filters and wraps `render_queue()` in a fragment that reruns
every HITL_REFRESH_SECONDS. Filters, the page cursor and the selection (by thread id, not row
number, so a refresh that adds or removes rows keeps the right threads selected) live in
`inbox_`-prefixed session_state keys. Tests call `render_queue()` directly.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from hitl import HitlError, Inbox, Page
from hitl.durations import humanize_seconds
from hitl.payloads import KINDS
from hitl.ui import keys
from hitl.ui.batch_view import render_batch, render_batch_results
from hitl.ui.deadlines import page_deadlines, time_left_label
from hitl.ui.guard import open_desk, show_problem
from hitl.ui.review_queue import SCOPE_PARAMS, WAITING_LONGER_THAN, QueueScope
from hitl.ui.state import bound, defaults
from hitl.ui.tables import QUEUE_COLUMN_HELP, queue_frame
from hitl.ui.text import escape_markdown, visible_controls

__all__ = ["render_inbox_page", "render_queue", "refresh_seconds", "WAITING_LONGER_THAN", "inbox_scope", "open_review", "PAGE_SIZES", "graph_filter"]

PAGE_SIZES = (25, 50, 100)
SORTS = ("Oldest first", "Newest first")
TABLE_KEY = "inbox_table"
KEYS_KEY = "inbox_keys"
ALL_GRAPHS = "All graphs"
ALL_KINDS = "All kinds"
DEFAULT_REFRESH_SECONDS = 10.0

_FILTER_DEFAULTS: dict[str, Any] = {
    "inbox_search": "",
    "inbox_graph": ALL_GRAPHS,
    "inbox_kind": ALL_KINDS,
    "inbox_waiting": "any time",
    "inbox_sort": SORTS[0],
}


def refresh_seconds() -> float | None:
    """HITL_REFRESH_SECONDS (default 10); 0 turns auto-refresh off."""
    raw = os.environ.get("HITL_REFRESH_SECONDS", "")
    try:
        seconds = float(raw) if raw.strip() else DEFAULT_REFRESH_SECONDS
    except ValueError:
        seconds = DEFAULT_REFRESH_SECONDS
    return seconds if seconds > 0 else None


def _init_state() -> None:
    defaults(
        {
            **_FILTER_DEFAULTS,
            "inbox_page_size": 50,
            "inbox_cursors": [None],  # the cursor of every page walked so far; the last is shown
            "inbox_selected": [],  # thread ids, so a refresh keeps the same threads selected
            "inbox_page_ids": [],  # thread ids of the rows drawn last, to map row numbers back
            "inbox_shown": {},  # thread id -> the interrupt ids the reviewer was shown
            "inbox_batch": None,  # the last batch's results, shown until dismissed
            "inbox_cursor": None,  # the keyboard's cursor row (a thread id)
        }
    )


def _first_page() -> None:
    # Another page or other filters: rows selected before are out of sight, so drop them
    # rather than batch-decide threads the reviewer can no longer see.
    st.session_state["inbox_cursors"] = [None]
    st.session_state["inbox_selected"] = []


def _clear_filters() -> None:
    st.session_state.update(_FILTER_DEFAULTS)
    _first_page()


def _filters_active() -> bool:
    return any(st.session_state[key] != value for key, value in _FILTER_DEFAULTS.items())


def render_inbox_page() -> None:
    """The whole Inbox page."""
    inbox = open_desk()
    _init_state()
    st.title("Inbox")
    every = refresh_seconds()
    st.caption(
        "Threads paused at `interrupt()`, waiting for a human. Select one row to open its review, "
        "or several of one kind to approve or reject them together."
        + (f" The list refreshes every {every:g} s." if every else "")
    )
    _adopt_url_scope()
    _render_filters(inbox)
    _mirror_scope_to_url()
    st.fragment(render_queue, run_every=every)()


def _adopt_url_scope() -> None:
    """A link with a queue scope (`/?kind=question&graph=payments`) sets the filters it names."""
    state = st.session_state
    given = {name: str(st.query_params.get(name)) for name in SCOPE_PARAMS if st.query_params.get(name)}
    if not given or given == state.get("inbox_url_scope"):
        return
    scope = QueueScope.from_params(given)
    state.update(
        inbox_graph=scope.graph or ALL_GRAPHS,
        inbox_kind=scope.kind or ALL_KINDS,
        inbox_search=scope.search or "",
        inbox_waiting=scope.waiting or "any time",
        inbox_sort=SORTS[1] if scope.newest_first else SORTS[0],
    )
    _first_page()
    if scope.ignored:
        st.caption(escape_markdown("Ignored in the link: " + "; ".join(scope.ignored)))


def _mirror_scope_to_url() -> None:
    """The URL always shows the Inbox's filters, so copying it shares this queue."""
    params = inbox_scope().params()
    for name in SCOPE_PARAMS:
        if name in params:
            if st.query_params.get(name) != params[name]:
                st.query_params[name] = params[name]
        elif name in st.query_params:
            del st.query_params[name]
    st.session_state["inbox_url_scope"] = params


def _render_filters(inbox: Inbox) -> None:
    try:
        graph_ids = inbox.graph_ids()
    except HitlError as exc:
        show_problem(exc)
        graph_ids = []
    search, graph, kind, waiting, sort = st.columns([3, 1.8, 1.6, 1.4, 1.4], vertical_alignment="bottom")
    bound(search.text_input, "Search", "inbox_search", on_change=_first_page,
          placeholder="thread id, recipient, tool name, any payload text…")  # fmt: skip
    graph_filter(graph, "inbox_graph", graph_ids, on_change=_first_page)
    bound(kind.selectbox, "Kind", "inbox_kind", on_change=_first_page, options=[ALL_KINDS, *KINDS])
    bound(waiting.selectbox, "Waiting longer than", "inbox_waiting", on_change=_first_page,
          options=list(WAITING_LONGER_THAN))  # fmt: skip
    bound(sort.selectbox, "Order", "inbox_sort", on_change=_first_page, options=list(SORTS))


def graph_filter(column: Any, key: str, graph_ids: list[str], *, on_change: Any) -> None:
    """The "Graph" selectbox in `column`, bound to `session_state[key]`: all graphs, each
    registered one, and the current choice even if its graph is no longer registered."""
    options = [ALL_GRAPHS, *graph_ids]
    if st.session_state[key] not in options:
        options.append(st.session_state[key])
    bound(column.selectbox, "Graph", key, on_change=on_change, options=options)


def _load_page(inbox: Inbox) -> Page:
    state = st.session_state
    query = {"limit": int(state["inbox_page_size"]), **inbox_scope().query()}
    page = inbox.pending(cursor=state["inbox_cursors"][-1], **query)
    if not page.items and len(state["inbox_cursors"]) > 1:
        # Everything on this page was decided meanwhile: go back to the first page.
        _first_page()
        page = inbox.pending(cursor=None, refresh=False, **query)
    return page


def render_queue() -> None:
    """The refreshing part of the Inbox: batch results, the table, pagination, actions."""
    _init_state()
    inbox = open_desk()
    state = st.session_state
    seen = dict(state["inbox_shown"])  # the interrupts on screen before this run
    render_batch_results()
    try:
        page = _load_page(inbox)
        _render_indexing(inbox.indexing())
    except HitlError as exc:
        show_problem(exc)
        return
    if page.total == 0:
        state["inbox_selected"] = []
        _render_empty()
        return

    ids = [item.thread_id for item in page.items]
    result = keys.keyboard("inbox", key=KEYS_KEY)
    _apply_key(keys.parse_key(getattr(result, "key", None)), ids)
    selected = list(state["inbox_selected"])
    state["inbox_page_ids"] = ids
    state["inbox_shown"] = {
        **{thread_id: seen[thread_id] for thread_id in selected if thread_id in seen},
        **{item.thread_id: [i.id for i in item.interrupts] for item in page.items},
    }
    rows = [ids.index(thread_id) for thread_id in selected if thread_id in ids]
    drawn = state.get(TABLE_KEY)
    if drawn is None or list(drawn.get("selection", {}).get("rows", [])) != rows:
        state[TABLE_KEY] = {"selection": {"rows": rows, "columns": [], "cells": []}}

    deadlines = page_deadlines(inbox, page.items)
    frame = queue_frame(page.items, time_left={tid: time_left_label(info) for tid, info in deadlines.items()})
    show_note = bool((frame["Note"] != "").any())
    show_deadline = bool(deadlines)
    urgent = {visible_controls(tid) for tid, info in deadlines.items() if info.expiring_soon or info.expired}
    st.space("small")  # room for the table's toolbar, which would cover the Order select
    cursor = state["inbox_cursor"] if state["inbox_cursor"] in ids else None
    marked = visible_controls(cursor) if cursor else None

    def tint(row: Any) -> list[str]:
        # The keyboard's cursor row is blue; rows about to expire are tinted so they stand out.
        color = "#bfdbfe" if row["Thread"] == marked else "#fde2e1" if row["Thread"] in urgent else ""
        return [f"background-color: {color}" if color else "" for _ in row]

    if cursor:
        st.caption(escape_markdown(f"Cursor: row {ids.index(cursor) + 1}, {cursor}. Enter or o opens it in Review, "
                                   "x ticks it, j/k move; ? lists every shortcut."))
    st.dataframe(
        frame.style.apply(tint, axis=1) if urgent or marked else frame,
        key=TABLE_KEY,
        on_select=_on_select,
        selection_mode="multi-row",
        hide_index=True,
        height=min(38 + 35 * len(frame), 38 + 35 * 20),
        column_order=[c for c in frame.columns if (c != "Note" or show_note) and (c != "Time left" or show_deadline)],
        column_config={
            "Thread": st.column_config.TextColumn("Thread", width=190),
            "Graph": st.column_config.TextColumn("Graph", width=115),
            "Kind": st.column_config.TextColumn("Kind", width=100),
            "Waiting": st.column_config.TextColumn("Waiting", width=75, help="Time since the thread paused"),
            "Time left": st.column_config.TextColumn("Time left", width=110, help="Until the timeout policy applies (HITL_CONFIG [[timeouts]]); tinted rows expire soon"),
            "Interrupts": st.column_config.NumberColumn("Interrupts", width=85, help="Pending interrupts on the thread"),
            "Tool": st.column_config.TextColumn("Tool", width=120, help=QUEUE_COLUMN_HELP["Tool"]),
            "Target": st.column_config.TextColumn("Target", width=150, help=QUEUE_COLUMN_HELP["Target"]),
            "Amount": st.column_config.NumberColumn("Amount", width=95, format="%.2f", help=QUEUE_COLUMN_HELP["Amount"]),
            "Summary": st.column_config.TextColumn("Summary", width="large", help=QUEUE_COLUMN_HELP["Summary"]),
            "Note": st.column_config.TextColumn("Note", help="Why the thread can only be viewed here"),
        },
    )  # fmt: skip
    _render_pagination(page)
    _render_actions(inbox, selected, {item.thread_id: item for item in page.items}, seen)


def _apply_key(pressed: str | None, ids: list[str]) -> None:
    """The Inbox's keyboard (hitl.ui.keys): j/k move the cursor row, x ticks it, o (Enter) opens
    it (or the one ticked row) in Review, in the Inbox's queue scope."""
    if pressed is None or not ids:
        return
    state = st.session_state
    cursor = state["inbox_cursor"] if state["inbox_cursor"] in ids else None
    if pressed in ("j", "k"):
        if cursor is None:
            state["inbox_cursor"] = ids[0] if pressed == "j" else ids[-1]
        else:
            step = 1 if pressed == "j" else -1
            state["inbox_cursor"] = ids[min(len(ids) - 1, max(0, ids.index(cursor) + step))]
    elif pressed == "x":
        target = cursor or ids[0]
        state["inbox_cursor"] = target
        chosen = list(state["inbox_selected"])
        state["inbox_selected"] = [t for t in chosen if t != target] if target in chosen else [*chosen, target]
    elif pressed == "o":
        chosen = [t for t in state["inbox_selected"] if t in ids]
        target = cursor or (chosen[0] if len(chosen) == 1 else None)
        if target is None:
            st.toast("Move the cursor to a row with j/k first (or tick one row), then press Enter.")
            return
        open_review(target)


def _render_indexing(progress: dict[str, Any]) -> None:
    """A progress bar while the desk's first index of the database runs in the background."""
    done, total = progress["done"], progress["total"]
    if done >= total:
        return
    left = progress.get("seconds_left")
    estimate = f", about {humanize_seconds(max(1.0, left))} left" if left is not None else ""
    st.progress(
        done / total if total else 0.0,
        text=f"Indexing this database for the first time: {done:,} of {total:,} threads{estimate}. "
        "The newest threads are listed first; the rest appear as they are indexed.",
    )


def _on_select() -> None:
    state = st.session_state
    rows = state[TABLE_KEY]["selection"]["rows"]
    ids = state["inbox_page_ids"]
    state["inbox_selected"] = [ids[row] for row in rows if 0 <= row < len(ids)]


def _render_empty() -> None:
    if _filters_active():
        st.info("No pending thread matches these filters.", icon=":material/search_off:")
        st.button("Clear filters", on_click=_clear_filters)
        return
    with st.container(border=True):
        st.subheader("Nothing is waiting for a review")
        st.write(
            "Threads show up here as soon as a graph pauses at `interrupt()`. "
            "Start one from **Start a run**, or load demo threads of every kind with `make seed` "
            "(or `python -m hitl.demo seed`) and they will appear on the next refresh."
        )
        st.page_link("pages/start.py", label="Start a run", icon=":material/play_arrow:")


def _next_page(cursor: str) -> None:
    st.session_state["inbox_cursors"] = [*st.session_state["inbox_cursors"], cursor]
    st.session_state["inbox_selected"] = []


def _previous_page() -> None:
    st.session_state["inbox_cursors"] = st.session_state["inbox_cursors"][:-1] or [None]
    st.session_state["inbox_selected"] = []


def _render_pagination(page: Page) -> None:
    state = st.session_state
    size = int(state["inbox_page_size"])
    first = (len(state["inbox_cursors"]) - 1) * size + 1
    last = first + len(page.items) - 1
    info, previous, following, per_page = st.columns([5, 1, 1, 1.3], vertical_alignment="center")
    info.caption(f"Showing {first:,}–{last:,} of {page.total:,} pending")
    previous.button(
        "Prev", icon=":material/chevron_left:", key="inbox_prev", width="stretch",
        disabled=len(state["inbox_cursors"]) <= 1, on_click=_previous_page,
    )  # fmt: skip
    following.button(
        "Next", icon=":material/chevron_right:", key="inbox_next", width="stretch",
        disabled=page.next_cursor is None, on_click=_next_page, args=(page.next_cursor,),
    )  # fmt: skip
    bound(per_page.selectbox, "Rows per page", "inbox_page_size", on_change=_first_page,
          options=list(PAGE_SIZES), label_visibility="collapsed",
          format_func=lambda n: f"{n} per page")  # fmt: skip


def _render_actions(inbox: Inbox, selected: list[str], on_page: dict[str, Any], seen: dict[str, list[str]]) -> None:
    if not selected:
        st.caption("Tip: tick a row's checkbox to select it.")
        return
    present = [on_page[thread_id] for thread_id in selected if thread_id in on_page]
    gone = [thread_id for thread_id in selected if thread_id not in on_page]
    if len(selected) == 1:
        with st.container(border=True):
            left, right = st.columns([4, 1], vertical_alignment="center")
            if not present:
                # Decided (here, elsewhere) or moved on: nothing is left to open, so drop the selection.
                st.session_state["inbox_selected"] = []
                left.caption(escape_markdown(f"{gone[0]} is no longer waiting in this list (it was decided, or it "
                                             "moved on); the selection was cleared."))
                return
            item = present[0]
            left.text(f"Selected: {item.thread_id} · {', '.join(item.kinds)} · {item.summary}")
            if right.button("Open review", type="primary", icon=":material/rate_review:", shortcut="O",
                            key="inbox_open", width="stretch"):  # fmt: skip
                open_review(selected[0])
        return
    render_batch(inbox, selected, present, gone, seen)


def inbox_scope() -> QueueScope:
    """The Inbox's filters, search and order as the queue Review walks (`hitl.ui.review_queue`)."""
    state = st.session_state
    return QueueScope(
        graph=None if state["inbox_graph"] == ALL_GRAPHS else state["inbox_graph"],
        kind=None if state["inbox_kind"] == ALL_KINDS else state["inbox_kind"],
        search=state["inbox_search"].strip() or None,
        waiting=None if WAITING_LONGER_THAN.get(state["inbox_waiting"]) is None else state["inbox_waiting"],
        newest_first=state["inbox_sort"] == SORTS[1],
    )


def open_review(thread_id: str) -> None:
    """Go to the Review page for one thread (deep link `?thread=ID`), in the Inbox's queue:
    its filters, search and order ride along as query parameters."""
    st.session_state["review_thread"] = thread_id
    st.switch_page("pages/review.py", query_params={"thread": thread_id, **inbox_scope().params()})


