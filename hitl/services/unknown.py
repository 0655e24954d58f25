"""A thread's outcome-unknown decision, read back from its claims and audit rows."""

from __future__ import annotations

from hitl.outcome import UnknownOutcome
from hitl.desk import Desk
from hitl.store import RawInterrupt


def unknown_outcome(inbox: Desk, thread_id: str) -> UnknownOutcome | None:
    """The thread's outcome-unknown decision (see `hitl.outcome`), or None.

    Its original answers and reviewer come from the claims, what went wrong from the
    audit row that recorded it, and what may run twice from the interrupts it answered
    (their nodes) or, when the checkpointer moved past them, the nodes the thread would run next.
    """
    store = inbox.store
    claims = store.unknown_claims(thread_id)
    if not claims:
        return None
    ids = [claim["interrupt_id"] for claim in claims]
    raw = {item.id: item for item in store.pending_interrupts([thread_id])[thread_id]}
    nodes = [raw[iid].node for iid in ids if iid in raw and raw[iid].node]
    if not nodes and any(iid not in raw for iid in ids):
        nodes = list(_next_nodes(inbox, thread_id, list(raw.values())))
    rows = [row for row in store.audit_rows(thread_id=thread_id, outcome="unknown") if row["interrupt_id"] in ids]
    last = rows[-1] if rows else {}
    return UnknownOutcome(
        thread_id=thread_id,
        interrupt_ids=tuple(ids),
        reviewer=claims[0]["reviewer"],
        answers={claim["interrupt_id"]: claim["answer"] for claim in claims},
        decided_at=claims[0]["claimed_at"],
        state="unknown",
        may_run_twice=tuple(dict.fromkeys(nodes)),
        error=last.get("error") or last.get("comment"),
    )


def _next_nodes(inbox: Desk, thread_id: str, raw: list[RawInterrupt]) -> tuple[str, ...]:
    latest = inbox.store.latest_checkpoint(thread_id)
    if latest is None:
        return ()
    try:
        match = inbox.registry.match(latest[1].get("graph_id"), [item.node for item in raw])
        if match.graph_id is None or match.note:
            return ()
        return tuple(inbox.registry.graph(match.graph_id).get_state({"configurable": {"thread_id": thread_id}}).next)
    except Exception:  # an unloadable graph or undecodable state: the message says "the resumed node"
        return ()
