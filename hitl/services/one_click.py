"""One-click approve or reject: the answer `Inbox.decide` sends for a thread's pending interrupt."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hitl import contracts
from hitl.desk import Desk
from hitl.errors import AlreadyDecided, InvalidAnswer, ThreadNotFound, UnknownGraph
from hitl.outcome import OutcomeUnknown
from hitl.reading import pending_interrupt
from hitl.services.unknown import unknown_outcome
from hitl.store import RawInterrupt

__all__ = ["one_click_answers"]


def one_click_answers(
    desk: Desk,
    thread_id: str,
    raw: list[RawInterrupt],
    *,
    approve: bool,
    reviewer: str,
    comment: str,
    interrupt_id: str | None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`decide`'s answer, {interrupt_id: answer}, for a thread's answerable pending interrupts `raw`.

    `metadata`: the thread's latest checkpoint metadata when the caller has read it (a batch
    reads its chunk's in one query); read here when None.
    """
    if not raw:
        raise _why_nothing_to_decide(desk, thread_id)
    if interrupt_id is None and len(raw) > 1:
        raise InvalidAnswer(
            f"Thread {thread_id!r} has {len(raw)} pending interrupts; name the one to decide "
            f"(one of {', '.join(i.id for i in raw)})."
        )
    target = next((i for i in raw if interrupt_id in (None, i.id)), None)
    if target is None:
        raise InvalidAnswer(f"Interrupt {interrupt_id!r} is not pending on thread {thread_id!r}.")
    item = pending_interrupt(target)
    if metadata is None:
        latest = desk.store.latest_checkpoint(thread_id)
        metadata = latest[1] if latest else {}
    match = desk.match_graph(thread_id, metadata, raw)
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be resumed from the desk: {match.note}.")
    answer = contracts.quick(
        desk.contract(item, match.graph_id), item.kind, item.value, approve=approve, comment=comment, reviewer=reviewer,
        response_schema=item.response_schema,
    )  # fmt: skip
    return {item.id: answer}


def _why_nothing_to_decide(desk: Desk, thread_id: str) -> Exception:
    """The error for a thread with nothing pending: unknown, decided (by whom), or idle."""
    if not desk.store.thread_exists(thread_id):
        return ThreadNotFound(thread_id)
    unknown = unknown_outcome(desk, thread_id)
    if unknown is not None:
        return OutcomeUnknown(unknown)
    last = _last_decision(desk.store.audit_rows(thread_id=thread_id))
    if last:
        return AlreadyDecided(
            last["interrupt_id"],
            reviewer=last["reviewer"],
            decided_at=datetime.fromtimestamp(float(last["decided_at"]), timezone.utc),
            thread_id=thread_id,
        )
    # A resume still in flight (its node ran, its audit row not yet written) holds the claim.
    claim = desk.store.decided_claim(thread_id)
    if claim is not None:
        return AlreadyDecided(claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id)
    return InvalidAnswer(f"Thread {thread_id!r} has no pending interrupt to decide.")


def _last_decision(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    decided = [r for r in rows if r["outcome"] in ("completed", "waiting", "resolved")]
    return decided[-1] if decided else None
