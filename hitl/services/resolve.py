"""Close a thread without resuming it, recorded in the audit log."""

from __future__ import annotations

import time
from typing import Any

from langgraph.graph import END
from hitl.errors import HitlError, InvalidAnswer, ThreadNotFound, UnknownGraph
from hitl.access import audit_context, requester_metadata, thread_requesters
from hitl.desk import Desk
from hitl.reading import pending_interrupt
from hitl.services.decision_log import record_decisions
from hitl.services.stale_claims import settle_stale_claims


def resolve(inbox: Desk, thread_id: str, *, reviewer: str, reason: str) -> None:
    """Close a thread without resuming it, recorded in the audit log (an outcome-unknown
    decision on it included: closed as resolved, nothing run)."""
    if not reason or not reason.strip():
        raise InvalidAnswer("Marking a thread resolved needs a reason; it goes into the audit log.")
    store = inbox.store
    latest = store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    _, metadata = latest
    raw = store.pending_interrupts([thread_id])[thread_id]
    match = inbox.registry.match(metadata.get("graph_id"), [item.node for item in raw])
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be changed from the desk: {match.note}.")
    graph = inbox.registry.graph(match.graph_id)
    settle_stale_claims(inbox, thread_ids=[thread_id])  # a dead desk's running claim: outcome unknown first
    unknown = [claim["interrupt_id"] for claim in store.unknown_claims(thread_id)]
    ids = list(dict.fromkeys([item.id for item in raw] + unknown)) or [f"resolved:{thread_id}"]
    store.claim(
        thread_id, ids, reviewer=reviewer, answers={}, lease_seconds=inbox.settings.claim_lease_seconds,
        still_pending=lambda iid: True, settle_unknown=True,
    )  # fmt: skip
    started = time.time()
    try:
        graph.update_state(
            {"configurable": {"thread_id": thread_id},
             "metadata": {"hitl_resolved": reason, "hitl_reviewer": reviewer, "graph_id": match.graph_id,
                          **requester_metadata(thread_requesters(store, [thread_id]).get(thread_id))}},
            None,
            as_node=END,
        )
    except Exception as exc:
        # Nothing changed: the claims go back to what they were (an unknown outcome stays unknown).
        store.close_claims([(thread_id, [iid for iid in ids if iid not in unknown], "failed"), (thread_id, unknown, "unknown")])
        raise HitlError(f"Could not mark thread {thread_id!r} resolved: {type(exc).__name__}: {exc}") from exc
    items = {item.id: pending_interrupt(item) for item in raw}

    def about(iid: str) -> dict[str, Any]:
        if iid in items:
            return {"graph_id": match.graph_id, "kind": items[iid].kind, "payload": items[iid].value}
        return {"graph_id": match.graph_id, "kind": None, "payload": None,
                **(audit_context(store, thread_id, iid) if iid in unknown else {})}  # fmt: skip

    rows = [
        {
            "thread_id": thread_id,
            "interrupt_id": iid,
            **about(iid),
            "action": "resolve",
            "answer": None,
            "reviewer": reviewer,
            "comment": reason,
            "decided_at": started,
            "waited_seconds": None,
            "outcome": "resolved",
            "error": None,
        }
        for iid in ids
    ]
    record_decisions(inbox, rows, with_claims=lambda: store.close_claims([(thread_id, ids, "done")]))
    inbox.refresh()
