"""Settle the claims of a desk that died mid-resume, from the checkpointer's truth."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from hitl.access import audit_context
from hitl.desk import Desk


def settle_stale_claims(
    inbox: Desk,
    *,
    thread_ids: Sequence[str] | None = None,
    on_abandoned: Callable[[str, str, dict[str, Any]], str] | None = None,
) -> list[tuple[str, str, str]]:
    """Settle claims whose desk died mid-resume (of these threads only, when given). Returns
    (thread, interrupt, result).

    Each is settled from the checkpointer's truth, its claim closed and its audit row
    appended in one transaction, exactly once across desks:

    * no longer pending → the resume did commit: `recovered`;
    * still pending and its desk was running the graph → the node may have run, but its
      result was not saved: `unknown` (claim state too), so the decision is refused as a
      plain new one until it is retried explicitly or resolved;
    * still pending with the node's error recorded by LangGraph → `failed` (retryable);
    * still pending and its desk never ran the graph → `abandoned`: answerable again (the
      stored answer is in the audit row); `on_abandoned(thread, interrupt, claim)` then runs once
      for it, after its claim is settled, and returns the result to report.
    """
    store = inbox.store
    settled = []
    for claim in store.stale_claim_rows(thread_ids):
        thread_id, interrupt_id = claim["thread_id"], claim["interrupt_id"]
        pending = {item.id: item for item in store.pending_interrupts([thread_id])[thread_id]}
        item = pending.get(interrupt_id)
        comment = "claim lease expired before the resume finished"
        error = None
        if item is None:
            state, outcome = "recovered", "recovered"
        elif item.failed_error:
            state, outcome, error = "failed", "failed", item.failed_error
        elif claim["runs_graph"]:
            state, outcome = "unknown", "unknown"
            comment += (
                "; its desk was running the graph and stopped (died, or lost the database) before the result was "
                f"saved, so {item.node or 'the node'} may have run: retry it explicitly or mark the thread resolved"
            )
        else:
            state, outcome = "failed", "abandoned"
        row = {
            "thread_id": thread_id,
            "interrupt_id": interrupt_id,
            **audit_context(store, thread_id, interrupt_id),  # graph, kind, payload: for [access]
            "action": "recovery",
            "answer": claim["answer"],
            "reviewer": claim["reviewer"],
            "comment": comment,
            "decided_at": time.time(),
            "outcome": outcome,
            "error": error,
        }
        if not store.settle_stale_claim(thread_id, interrupt_id, state=state, audit=row):
            continue  # another desk settled it first
        if outcome == "abandoned" and on_abandoned is not None:
            outcome = on_abandoned(thread_id, interrupt_id, claim)
        settled.append((thread_id, interrupt_id, outcome))
    return settled
