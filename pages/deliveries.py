"""Webhooks: the notification outbox, each delivery's attempts, and a manual retry (logic in hitl.notify)."""

from __future__ import annotations

import streamlit as st

from hitl import HitlError
from hitl.notify import OUTBOX_STATES, delivery_attempts, load_config, outbox_counts, outbox_rows, retry_delivery
from hitl.ui import auth
from hitl.ui.guard import desk_errors, open_desk, show_problem

auth.route_through_app()  # never run unrouted (unguarded, no sidebar) from a first-request URL

st.session_state.setdefault("deliveries_state", "all")
st.session_state.setdefault("deliveries_selected", None)

inbox = open_desk()
st.title("Webhooks")

try:
    config = load_config(inbox.settings)
except HitlError as exc:
    show_problem(exc)
    config = None
if config is not None and not config.webhooks:
    st.info(
        "No webhooks are configured. Add `[[webhooks]]` entries (url, secret, events) to the "
        "HITL_CONFIG file — see `hitl.toml.example` — and restart the desk, or run "
        "`python -m hitl notify` beside it.",
        icon=":material/info:",
    )
elif config is not None:
    st.dataframe(
        [{"name": h.name, "url": h.url, "events": ", ".join(h.events), "timeout (s)": h.timeout,
          "max attempts": h.max_attempts} for h in config.webhooks],  # fmt: skip
        hide_index=True,
        width="stretch",
    )


def _retry(outbox_id: str) -> None:
    try:
        retry_delivery(inbox, outbox_id)
        st.session_state["deliveries_notice"] = f"Notification {outbox_id} is queued to be sent again."
    except HitlError as exc:
        st.session_state["deliveries_notice"] = str(exc)


with desk_errors():
    counts = outbox_counts(inbox)
    columns = st.columns(len(OUTBOX_STATES))
    for column, state in zip(columns, OUTBOX_STATES):
        column.metric(state.capitalize(), counts.get(state, 0))
    if notice := st.session_state.pop("deliveries_notice", None):
        st.toast(notice)

    failed = outbox_rows(inbox, state="failed", limit=50)
    if failed:
        st.subheader(f"Failed ({counts.get('failed', 0)})")
        for row in failed:
            left, right = st.columns([5, 1])
            left.text(
                f"{row.event_type} · {row.thread_id} · {row.endpoint}\n"
                f"{row.attempts} attempt(s), last {row.last_status or 'no answer'}: {row.last_error or ''}"
            )
            right.button("Retry", key=f"deliveries_retry_{row.id}", on_click=_retry, args=(row.id,), icon=":material/replay:")

    st.subheader("Outbox")
    state = st.selectbox("State", ["all", *OUTBOX_STATES], key="deliveries_state")
    rows = outbox_rows(inbox, state=None if state == "all" else state, limit=500)
    table = [
        {
            "created": row.created_at,
            "event": row.event_type,
            "thread": row.thread_id,
            "endpoint": row.endpoint,
            "state": row.state,
            "attempts": row.attempts,
            "last status": row.last_status,
            "last error": row.last_error,
            "next attempt": row.next_attempt_at if row.state == "pending" else None,
            "delivered": row.delivered_at,
        }
        for row in rows
    ]
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row")
    selected = picked.selection.rows if picked else []
    if selected:
        row = rows[selected[0]]
        st.subheader("Attempts")
        st.caption(f"Delivery id {row.id} (sent as X-HITL-Delivery; receivers drop duplicates by it)")
        st.dataframe(
            [
                {"attempt": a.attempt, "started": a.started_at, "status": a.status_code, "outcome": a.outcome,
                 "ms": a.duration_ms, "error": a.error, "response": a.response_excerpt}  # fmt: skip
                for a in delivery_attempts(inbox, row.id)
            ],
            hide_index=True,
            width="stretch",
        )
        if row.state in ("failed", "pending"):
            st.button("Send again now", key="deliveries_retry_selected", on_click=_retry, args=(row.id,), icon=":material/send:")
        with st.expander("Body"):
            st.code(row.body, language="json")
