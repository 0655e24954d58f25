"""What a principal may see of a thread: hidden threads in listings, refused thread views."""

from __future__ import annotations

from dataclasses import replace

from hitl.access import ReviewItem, thread_requesters
from hitl.desk import Desk
from hitl.domain import Principal
from hitl.reading import pending_interrupt
from hitl.store import RawInterrupt, ThreadRow

__all__ = ["hidden_by", "redacted", "why_hidden"]


def hidden_by(
    desk: Desk, principal: Principal, thread_id: str, graph_id: str | None, raw: list[RawInterrupt], requested_by: str | None
) -> str | None:
    """Why the principal may not see the thread, judged by its interrupts `raw`: hidden
    when it may see none of them (the first refusal's reason); None when it may see one,
    or when there are none to judge by."""
    seen = [desk.access.can_see(principal, ReviewItem.of(thread_id, graph_id, pending_interrupt(i), requested_by)) for i in raw]
    if seen and not any(allowed for allowed, _ in seen):
        return next(reason for allowed, reason in seen if not allowed)
    return None


def redacted(desk: Desk, rows: list[ThreadRow], principal: Principal) -> list[ThreadRow]:
    """`rows` with the summary of each thread the principal may not see replaced by why."""
    ids = [row.thread_id for row in rows if row.summary]
    if not ids:
        return rows
    raw = desk.store.pending_interrupts(ids)
    requesters = thread_requesters(desk.store, ids)
    hidden: dict[str, str] = {}
    for row in rows:
        requested_by = requesters.get(row.thread_id)
        reason = hidden_by(desk, principal, row.thread_id, row.graph_id, raw.get(row.thread_id) or [], requested_by)
        if reason is not None:
            hidden[row.thread_id] = reason
    return [
        replace(row, summary=f"(hidden: {why_hidden(hidden[row.thread_id])})") if row.thread_id in hidden else row
        for row in rows
    ]


def why_hidden(reason: str) -> str:
    """The core of an access refusal, short enough for a table cell:
    "bob (roles: none) may not decide X: tool X needs one of the roles finance. Ask ..." ->
    "tool X needs one of the roles finance"."""
    decided = reason.split(" may not decide ", 1)[-1]
    why = decided.split(": ", 1)[1] if ": " in decided else decided
    return why.split(". Ask ", 1)[0].rstrip(".")
