"""The History page: the audit log with filters, CSV export, charts and the chain check.

`?thread=ID` narrows the page to one thread's decision trail (the Review page links here).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pandas as pd
import streamlit as st

from hitl import HitlError
from hitl.durations import humanize_seconds
from hitl.qa import QA
from hitl.qa.analytics import DecisionAnalytics, decision_analytics
from hitl.ui.charts import approval_rate_per_graph, decisions_per_day, time_to_decision
from hitl.ui.guard import open_desk, show_problem
from hitl.ui.state import bound, defaults
from hitl.ui.tables import approval_rates, csv_bytes, filter_history, history_table, with_verdicts
from hitl.ui.text import escape_markdown

__all__ = ["render_history_page"]

_FILTERS = {
    "history_reviewers": [],
    "history_graphs": [],
    "history_kinds": [],
    "history_outcomes": [],
    "history_from": None,
    "history_to": None,
}


def _clear_filters() -> None:
    st.session_state.update({key: (list(v) if isinstance(v, list) else v) for key, v in _FILTERS.items()})


def _all_threads() -> None:
    st.query_params.pop("thread", None)


def render_history_page() -> None:
    """The whole History page."""
    inbox = open_desk()
    defaults({key: (list(v) if isinstance(v, list) else v) for key, v in _FILTERS.items()})
    thread_id = st.query_params.get("thread") or None
    st.title("History")
    st.caption("Every decision the desk recorded: who answered what, when, and what happened next. Append-only and hash-chained.")
    try:
        report = inbox.verify_audit()
        frame = inbox.history(thread_id=thread_id)
    except HitlError as exc:
        show_problem(exc)
        return
    if report.ok:
        st.success(f"Audit chain intact: {report.rows:,} rows verified, none edited, inserted or deleted.", icon=":material/verified_user:")
    else:
        st.error(
            f"Audit chain broken at row {report.first_bad_seq}: {escape_markdown(report.problem)}. "
            "Someone changed the audit table outside the desk; restore it from a backup and investigate.",
            icon=":material/gpp_bad:",
        )
    if thread_id:
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.info(f"Decision trail of thread {escape_markdown(thread_id)}", icon=":material/filter_alt:")
        right.button("Show all threads", key="history_all_threads", on_click=_all_threads, width="stretch")
    if frame.empty:
        st.info(
            "No decisions recorded yet" + (" for this thread." if thread_id else ". Decide something in the Inbox and it shows up here."),
            icon=":material/inbox:",
        )
        return
    frame = with_verdicts(frame)
    filtered = _render_filters(frame)
    _render_summary(filtered)
    if not filtered.empty:
        _render_charts(filtered)
        _render_analytics(inbox, filtered)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    st.download_button(
        f"Download CSV ({len(filtered):,} rows)",
        data=csv_bytes(filtered),
        file_name=f"hitl-audit-{thread_id + '-' if thread_id else ''}{stamp}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="history_csv",
        on_click="ignore",
        help="The filtered rows with every audit column, including the payload shown and the hash chain.",
    )
    st.dataframe(
        history_table(filtered),
        hide_index=True,
        key="history_table",
        height=min(38 + 35 * max(len(filtered), 1), 38 + 35 * 15),
        column_config={
            "Comment": st.column_config.TextColumn(width="medium"),
            "Answer": st.column_config.TextColumn(width="large"),
            "Seq": st.column_config.NumberColumn(help="Position in the append-only audit chain"),
        },
    )


def _options(frame: pd.DataFrame, column: str, state_key: str) -> list[str]:
    options = sorted(str(v) for v in frame[column].dropna().unique())
    st.session_state[state_key] = [v for v in st.session_state[state_key] if v in options]
    return options


def _render_filters(frame: pd.DataFrame) -> pd.DataFrame:
    days = frame["decided_at"].dt.date
    first_day, last_day = days.min(), days.max()
    for key in ("history_from", "history_to"):
        value = st.session_state[key]
        if value is not None and not isinstance(value, date):
            st.session_state[key] = None
    reviewers, graphs, kinds, outcomes, start, end = st.columns([1.3, 1.3, 1.3, 1.3, 1, 1], vertical_alignment="bottom")
    bound(reviewers.multiselect, "Reviewer", "history_reviewers", options=_options(frame, "reviewer", "history_reviewers"),
          placeholder="All reviewers")  # fmt: skip
    bound(graphs.multiselect, "Graph", "history_graphs", options=_options(frame, "graph_id", "history_graphs"),
          placeholder="All graphs")  # fmt: skip
    bound(kinds.multiselect, "Kind", "history_kinds", options=_options(frame, "kind", "history_kinds"),
          placeholder="All kinds")  # fmt: skip
    bound(outcomes.multiselect, "Outcome", "history_outcomes", options=_options(frame, "outcome", "history_outcomes"),
          placeholder="All outcomes")  # fmt: skip
    bound(start.date_input, "From (UTC)", "history_from", min_value=min(first_day, date(2000, 1, 1)),
          max_value=max(last_day, datetime.now(timezone.utc).date()), format="YYYY-MM-DD")  # fmt: skip
    bound(end.date_input, "To (UTC)", "history_to", min_value=min(first_day, date(2000, 1, 1)),
          max_value=max(last_day, datetime.now(timezone.utc).date()), format="YYYY-MM-DD")  # fmt: skip
    state = st.session_state
    filtered = filter_history(
        frame,
        reviewers=state["history_reviewers"],
        graphs=state["history_graphs"],
        kinds=state["history_kinds"],
        outcomes=state["history_outcomes"],
        date_from=state["history_from"],
        date_to=state["history_to"],
    )
    if len(filtered) != len(frame):
        note, clear = st.columns([5, 1], vertical_alignment="center")
        note.caption(f"{len(filtered):,} of {len(frame):,} decisions match the filters.")
        clear.button("Clear filters", key="history_clear", on_click=_clear_filters, width="stretch")
    return filtered


def _render_summary(frame: pd.DataFrame) -> None:
    rates = approval_rates(frame)
    decided = int(rates["decisions"].sum()) if not rates.empty else 0
    approved = int(rates["approved"].sum()) if not rates.empty else 0
    waited = frame["waited_seconds"].dropna()
    total, rate, median, people = st.columns(4)
    total.metric("Decisions", f"{len(frame):,}")
    rate.metric("Approval rate", f"{approved / decided:.0%}" if decided else "—",
                help="Approved as is or edited, over approve/reject/feedback decisions.")  # fmt: skip
    median.metric("Median time to decision", humanize_seconds(waited.median()) if len(waited) else "—")
    people.metric("Reviewers", f"{frame['reviewer'].nunique():,}")


CHART_HEIGHT = 230


def _render_charts(frame: pd.DataFrame) -> None:
    first, second, third = st.columns(3)
    first.altair_chart(decisions_per_day(frame), width="stretch", height=CHART_HEIGHT)
    if approval_rates(frame).empty:
        second.text("No approve/reject decisions in these rows.")
    else:
        rows = len(approval_rates(frame))
        second.altair_chart(approval_rate_per_graph(frame), width="stretch", height=max(CHART_HEIGHT, 26 * rows + 80))
    if frame["waited_seconds"].notna().any():
        third.altair_chart(time_to_decision(frame), width="stretch", height=CHART_HEIGHT)
    else:
        third.text("No waiting times recorded in these rows.")


def _analytics(inbox: Any, frame: pd.DataFrame) -> DecisionAnalytics:
    """Analytics over the filtered rows, QA forks left out (they are experiments, not production decisions)."""
    try:
        return QA.of(inbox).decision_analytics(frame)
    except HitlError:  # a broken [qa] section must not hide History: no forks can be told apart then
        return decision_analytics(frame)


def _rate_table(frame: pd.DataFrame, key: str, title: str) -> pd.DataFrame:
    return pd.DataFrame({
        title: frame[key],
        "Decisions": frame["decisions"],
        "Approved": frame["approve_rate"].map("{:.0%}".format),
        "Edited": frame["edit_rate"].map("{:.0%}".format),
        "Rejected": frame["reject_rate"].map("{:.0%}".format),
        "Median time to decide": [humanize_seconds(s) for s in frame["median_seconds"]],
    })  # fmt: skip


def _render_analytics(inbox: Any, frame: pd.DataFrame) -> None:
    """Per graph and per tool: how often reviewers approve, edit or reject, and how long they take; the most-edited fields."""
    result = _analytics(inbox, frame)
    st.subheader("Decision analytics", anchor=False)
    st.caption(
        f"Over the {result.decisions:,} reviewer decisions in these rows (not resolutions, timeouts or QA forks). "
        "Edited: approved after changing what the agent proposed."
    )
    if not result.decisions:
        st.text("No reviewer decisions in these rows.")
        return
    by_graph, by_tool = st.columns(2)
    by_graph.dataframe(_rate_table(result.by_graph, "graph_id", "Graph"), hide_index=True, width="stretch", key="history_by_graph")
    if result.by_tool.empty:
        by_tool.text("No tool calls were judged in these rows.")
    else:
        by_tool.dataframe(_rate_table(result.by_tool, "tool", "Tool"), hide_index=True, width="stretch", key="history_by_tool")
    st.markdown("**Most-edited fields**")
    if result.edited_fields.empty:
        st.text("Reviewers approved proposals as they were: no field was edited.")
    else:
        fields = result.edited_fields.head(15).rename(columns={"graph_id": "Graph", "kind": "Kind", "field": "Field", "edits": "Edits"})
        st.dataframe(fields, hide_index=True, width="stretch", key="history_edited_fields")
