"""The audit rows of a resume, appended with the claims they close in one write transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from hitl.errors import HitlError
from hitl.desk import Desk
from hitl.domain import PendingInterrupt
from hitl.store import checkpoint_time
from hitl.storage.threads_sql import indexed_threads


def audit_outcome(
    inbox: Desk,
    thread_id: str,
    items: dict[str, PendingInterrupt],
    validated: dict[str, Any],
    reviewer: str,
    comment: str,
    action: str,
    started: float,
    *,
    outcome: str,
    error: str | None,
) -> None:
    record_decisions(
        inbox, audit_rows(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome=outcome, error=error)
    )


def audit_rows(
    inbox: Desk,
    thread_id: str,
    items: dict[str, PendingInterrupt],
    validated: dict[str, Any],
    reviewer: str,
    comment: str,
    action: str,
    started: float,
    *,
    outcome: str,
    error: str | None,
) -> list[dict[str, Any]]:
    """`decision_rows` of one thread, with its graph and waiting time looked up."""
    indexed_since, graph_id = indexed_threads(inbox.store, [thread_id]).get(thread_id, (None, None))
    if not graph_id:
        try:
            latest = inbox.store.latest_checkpoint(thread_id)
        except HitlError:  # where the thread lives cannot be read now (a server gone): the row still is written
            latest = None
        graph_id = (latest[1] if latest else {}).get("graph_id")
    return decision_rows(thread_id, items, validated, reviewer, comment, action, started, outcome=outcome, error=error,
                          indexed_since=indexed_since, graph_id=graph_id)  # fmt: skip


def decision_rows(
    thread_id: str,
    items: dict[str, PendingInterrupt],
    validated: dict[str, Any],
    reviewer: str,
    comment: str,
    action: str,
    started: float,
    *,
    outcome: str,
    error: str | None,
    indexed_since: float | None,
    graph_id: str | None,
) -> list[dict[str, Any]]:
    """One audit row per answered interrupt of a resume."""

    def waited(iid: str) -> float | None:
        # The interrupt's own checkpoint says when it began waiting, even for a thread the
        # index has not seen yet (decided straight after the agent paused).
        checkpoint_id = getattr(items[iid], "checkpoint_id", "")
        since = checkpoint_time(checkpoint_id).timestamp() if checkpoint_id else indexed_since
        return None if since is None else max(0.0, started - since)

    return [
        {
            "thread_id": thread_id,
            "interrupt_id": iid,
            "graph_id": graph_id,
            "kind": items[iid].kind,
            "action": action,
            "payload": items[iid].value,
            "answer": answer,
            "reviewer": reviewer,
            "comment": comment,
            "decided_at": started,
            "waited_seconds": waited(iid),
            "outcome": outcome,
            "error": error,
        }
        for iid, answer in validated.items()
    ]


def record_decisions(inbox: Desk, rows: list[dict[str, Any]], *, with_claims: Callable[[], None] | None = None) -> None:
    """Append decisions to the audit log, then tell the `Inbox.on_decided` hooks.

    `with_claims` (closing the decisions' claims) and the `Inbox.on_deciding` hooks (the
    webhook outbox) run in the same write transaction: all of it commits, or none.
    """
    with inbox.store.connection(write=True):
        if with_claims is not None:
            with_claims()
        seqs = inbox.store.append_audit(rows) if rows else []
        recorded = [{**row, "seq": seq} for row, seq in zip(rows, seqs)]
        if recorded:
            inbox.deciding(recorded)  # the webhook outbox's rows: committed with the audit rows
    if recorded:
        inbox.decided(recorded)
