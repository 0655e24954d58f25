"""Routes that decide: resume by interrupt id, approve/reject, batch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from hitl.api.convert import outcome_out
from hitl.api.deps import Decider, Desk, ThreadId, as_caller
from hitl.api.models import AUTH_ERRORS, DECIDE_ERRORS, ApproveIn, BatchIn, BatchOut, BatchResultOut, ResumeIn, ResumeOut
from hitl.errors import AlreadyDecided, InvalidAnswer
from hitl.inbox import Inbox

__all__ = ["router", "decided_meanwhile"]

router = APIRouter()


def decided_meanwhile(inbox: Inbox, thread_id: str, interrupt_id: str | None) -> AlreadyDecided | None:
    """`AlreadyDecided` when another reviewer's resume of this thread is running or done.

    `/approve` looks for the thread's pending interrupt first. Between the moment the winner's
    node finished (the checkpoint no longer shows the interrupt) and the moment its audit row
    is written, the loser finds neither a pending interrupt nor a decision in the audit log,
    and `Inbox.decide` says "no pending interrupt" (422). The winner's claim row, written
    before its resume started, tells the truth: someone decided it.
    """
    answerable = {item.id for item in inbox.store.pending_interrupts([thread_id])[thread_id] if item.answerable}
    if interrupt_id is None and answerable:
        return None
    if interrupt_id is not None and interrupt_id in answerable:
        return None
    if interrupt_id is not None:
        claim = inbox.store.claim_of(thread_id, interrupt_id)
        claim = {**claim, "interrupt_id": interrupt_id} if claim else None
    else:
        claim = inbox.store.decided_claim(thread_id)
    if claim is None or claim["state"] not in ("claimed", "done", "recovered"):
        return None
    return AlreadyDecided(claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id)


@router.post("/threads/{thread_id}/resume", response_model=ResumeOut, tags=["decide"], responses=DECIDE_ERRORS)
def resume(desk: Desk, thread_id: ThreadId, body: Annotated[ResumeIn, Body()], who: Decider) -> ResumeOut:
    """Answer pending interrupts (`{interrupt_id: answer}`) and resume the graph once."""
    inbox = desk.inbox()
    outcome = as_caller(inbox, who).resume(thread_id, body.answers, reviewer=who.reviewer, comment=body.comment)
    return outcome_out(outcome, thread_id, who.reviewer)


@router.post("/approve", response_model=ResumeOut, tags=["decide"], responses=DECIDE_ERRORS)
def approve(desk: Desk, body: ApproveIn, who: Decider) -> ResumeOut:
    """Approve or reject a thread's pending interrupt in the simple `{thread_id, approved, feedback}` shape."""
    inbox = desk.inbox()
    try:
        outcome = as_caller(inbox, who).decide(
            body.thread_id, approve=body.approved, reviewer=who.reviewer, comment=body.feedback,
            interrupt_id=body.interrupt_id,
        )  # fmt: skip
    except InvalidAnswer:
        decided = decided_meanwhile(inbox, body.thread_id, body.interrupt_id)
        if decided is None:
            raise
        raise decided from None
    return outcome_out(outcome, body.thread_id, who.reviewer)


@router.post("/batch", response_model=BatchOut, tags=["decide"], responses=AUTH_ERRORS)
def batch(desk: Desk, body: BatchIn, who: Decider) -> BatchOut:
    """One decision for many threads; one result per thread (a failure does not stop the rest)."""
    inbox = desk.inbox()
    results = as_caller(inbox, who).batch(body.thread_ids, approve=body.approved, reviewer=who.reviewer, comment=body.comment)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.result] = counts.get(result.result, 0) + 1
    return BatchOut(
        results=[BatchResultOut(thread_id=r.thread_id, result=r.result, message=r.message) for r in results],
        counts=counts,
    )
