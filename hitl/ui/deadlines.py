"""Deadlines on the page: time left per inbox row, and a once-only extension on the review page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from hitl import HitlError, Inbox
from hitl.durations import format_duration
from hitl.policy import DeadlineInfo, deadline_info, extend_deadline
from hitl.ui.context import md_escape, show_alert

__all__ = ["time_left_label", "page_deadlines", "render_deadline"]

EXTENSIONS = ("4h", "24h", "3d")


def time_left_label(info: DeadlineInfo | None) -> str:
    """'5 h left', '45 min left · soon', 'expired'; '' without a policy."""
    if info is None:
        return ""
    if info.expired:
        return "expired"
    label = f"{format_duration(info.seconds_left)} left"
    return f"{label} · soon" if info.expiring_soon else label


def page_deadlines(inbox: Inbox, items: list[Any]) -> dict[str, DeadlineInfo]:
    """Deadlines of the visible page only; an error in the policy file hides them, not the queue."""
    try:
        return deadline_info(inbox, items)
    except HitlError:
        return {}


def render_deadline(inbox: Inbox, thread_id: str, *, reviewer: str) -> None:
    """The thread's deadline, what happens then, and an 'extend once' form."""
    infos = page_deadlines(inbox, [thread_id])
    info = infos.get(thread_id)
    if info is None:
        return
    when = f"{info.deadline:%Y-%m-%d %H:%M} UTC"
    level = f" Waiting on: {info.level}." if info.level else ""
    message = f"Deadline {when} ({time_left_label(info)}); then: {info.on_expire}.{level}"
    show_alert("warning" if info.expiring_soon or info.expired else "info", message)
    if info.extended or info.expired:
        st.caption("This deadline was already extended once." if info.extended else "The sweeper applies the policy on its next pass.")
        return
    with st.expander("Extend the deadline (once, with a reason)"):
        extra = st.selectbox("By", EXTENSIONS, index=1, key=f"deadline:{thread_id}:extra")
        reason = st.text_input("Reason", key=f"deadline:{thread_id}:reason", placeholder="e.g. waiting for the invoice copy")
        if st.button("Extend", key=f"deadline:{thread_id}:extend", icon=":material/more_time:"):
            try:
                extended = extend_deadline(inbox, thread_id, reviewer=reviewer, reason=reason, extra=extra,
                                           interrupt_id=info.interrupt_id)
            except HitlError as error:
                show_alert("error", str(error))
            else:
                st.success(md_escape(f"Deadline moved to {extended.deadline:%Y-%m-%d %H:%M} UTC."))
