"""Resume a graph once per interrupt: validate, claim, `Command(resume=...)`, audit.

Order of events, and why:

1. Read the thread's pending interrupts fresh from the checkpointer (not the index).
2. Validate every answer for its kind and response_schema: a bad answer changes nothing.
3. Claim the interrupts in one transaction (a unique key per interrupt): a second reviewer
   gets `AlreadyDecided`, whatever process they are in. The claim stores the answer, so a
   desk that dies mid-resume loses no decision.
4. `graph.invoke(Command(resume={interrupt_id: answer}))` in a worker thread, bounded by
   `resume_timeout_seconds`. The run reports each node it starts (a callback), so a failure
   before any node started is known to have run nothing.
5. In ONE write transaction, close the claims and append one audit row per interrupt with
   the outcome: `done`; `failed` (no node started, or a node raised and LangGraph recorded
   it: answerable again, or retryable with the same answer); or `unknown` when a node
   started and the run then failed without LangGraph recording why (the checkpoint write
   failed: SQLite locked, PostgreSQL gone). Such a node may have run, so the decision is not
   offered again as a plain one (`hitl.outcome.OutcomeUnknown`): it needs an explicit
   `retry(..., accept_repeat=True)` or `resolve`.

A desk that dies anywhere after step 3 leaves a claim that goes stale; `hitl.services.recovery.recover_stale_claims`
settles it from the checkpointer: `recovered` when the resume committed, `unknown` when the
graph was running (the node may have run), `abandoned` when it never was.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from langgraph.errors import is_invalid_resume
from langgraph.types import Command

from hitl.errors import HitlError, ThreadNotFound
from hitl.outcome import OutcomeUnknown
from hitl.desk import Desk
from hitl.domain import PendingInterrupt, ResumeOutcome
from hitl.reading import pending_interrupt
from hitl.services.decision_log import audit_outcome, audit_rows, record_decisions
from hitl.services.leases import Leases
from hitl.services.outcomes import after_end_text, nothing_ran, outcome_status, ran_to_end, recorded_failures, refused_answer, unknown_of, unknown_text, unrecorded
from hitl.services.resume_plan import check_answers, plan_resume, reviewer_of, still_pending
from hitl.services.runs import invoke_one, timeout_message
from hitl.services.stale_claims import settle_stale_claims
from hitl.services.unknown import unknown_outcome
from hitl.services.outcomes import describe_error


__all__ = ["resume", "refusal", "run_resume", "finish_run"]


def resume(
    inbox: Desk,
    thread_id: str,
    answers: dict[str, Any],
    *,
    reviewer: str = "",
    comment: str = "",
    action: str = "decision",
    principal: Any = None,
) -> ResumeOutcome:
    """See `Inbox.resume`."""
    store = inbox.store
    check_answers(answers)
    reviewer = reviewer_of(reviewer, principal)
    latest = store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    raw = store.pending_interrupts([thread_id])[thread_id]
    plan = plan_resume(inbox, thread_id, answers, raw, latest[1], comment=comment, principal=principal)
    if not plan.validated:  # only quorum votes: the graph did not run, nothing new is pending
        return ResumeOutcome(status="waiting", thread_id=thread_id, note=plan.note)
    try:
        store.claim(
            thread_id,
            list(plan.validated),
            reviewer=reviewer,
            answers=plan.validated,
            lease_seconds=inbox.settings.claim_lease_seconds,
            still_pending=lambda iid: still_pending(store, thread_id, iid),
            runs_graph=True,
        )
    except OutcomeUnknown as exc:
        raise refusal(inbox, thread_id, exc) from None
    outcome = run_resume(inbox, plan.graph, thread_id, plan.items, plan.validated, Command(resume=plan.validated), reviewer,
                   comment, action, graph_id=plan.graph_id)  # fmt: skip
    return replace(outcome, note=plan.note) if plan.note else outcome


def refusal(inbox: Desk, thread_id: str, exc: OutcomeUnknown) -> OutcomeUnknown:
    """`exc` (from a claim) with the thread's recorded state: a dead desk's running claim is
    first recorded as outcome unknown (`recover_stale_claims`), then the error names the
    original decision, what may run twice and why."""
    try:
        if exc.outcome.state == "unrecorded":
            settle_stale_claims(inbox, thread_ids=[thread_id])
        found = unknown_outcome(inbox, thread_id)
    except HitlError:
        return exc  # the store failed again: the claim's own account is still true
    return OutcomeUnknown(found) if found is not None else exc


def run_resume(
    inbox: Desk,
    graph: Any,
    thread_id: str,
    items: dict[str, PendingInterrupt],
    validated: dict[str, Any],
    command: Any,
    reviewer: str,
    comment: str,
    action: str,
    *,
    graph_id: str | None = None,
) -> ResumeOutcome:
    started = time.time()
    leases = Leases(inbox, reviewer, {thread_id: list(validated)})

    def late(result: dict[str, Any]) -> None:
        try:
            finish_run(inbox, thread_id, items, validated, result, reviewer, comment, action, started, late=True)
        finally:
            leases.close(thread_id)

    def timed_out(message: str) -> None:
        audit_outcome(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome="timeout", error=message)

    try:
        result = invoke_one(inbox, graph, thread_id, command, graph_id, on_timeout=timed_out, on_late=late)
    except BaseException:
        leases.close(thread_id)
        raise
    if result is None:
        return ResumeOutcome(status="failed", error=timeout_message(inbox), thread_id=thread_id)
    try:
        return finish_run(inbox, thread_id, items, validated, result, reviewer, comment, action, started, late=False)
    finally:
        leases.close(thread_id)


def finish_run(
    inbox: Desk,
    thread_id: str,
    items: dict[str, PendingInterrupt],
    validated: dict[str, Any],
    result: dict[str, Any],
    reviewer: str,
    comment: str,
    action: str,
    started: float,
    *,
    late: bool,
) -> ResumeOutcome:
    """Close a finished run's claims and append its audit rows, in ONE write transaction.

    Raises (unless `late`, when the caller is gone and the outcome is only recorded):
        InvalidAnswer: the graph refused the answer; the claims are released.
        OutcomeUnknown: a node started and the run failed without LangGraph recording why
            (recorded as `unknown`), or the desk could not record a run that did start
            ("unrecorded": the claims stay open for `recover_stale_claims`).
    """
    store = inbox.store
    error = result.get("error")
    if error is not None and (is_invalid_resume(error) or nothing_ran(error)):
        store.release_claims(thread_id, list(validated))
        if late:
            return ResumeOutcome(status="failed", error=str(error), thread_id=thread_id)
        raise error if nothing_ran(error) else refused_answer(error)
    remaining: list[PendingInterrupt] = []
    try:
        if error is None:
            state = "done"
            remaining = [pending_interrupt(item) for item in store.pending_interrupts([thread_id])[thread_id]]
            status, error_text = outcome_status(remaining, store.failed_tasks(thread_id) if not remaining else [])
        elif thread_id in ran_to_end(store, {thread_id: items}, {thread_id: error}):
            state, status, error_text = "done", "completed", after_end_text(error)
        elif result.get("nodes") and thread_id not in recorded_failures(store, {thread_id: error}):
            state, status, error_text = "unknown", "unknown", unknown_text(result["nodes"], error)
        else:  # no node started, or LangGraph recorded the node's error: answerable or retryable as before
            state, status, error_text = "failed", "failed", describe_error(error)
        rows = audit_rows(inbox, thread_id, items, validated, reviewer, comment, action, started,
                           outcome=status, error=error_text)  # fmt: skip
        record_decisions(inbox, rows, with_claims=lambda: store.close_claims([(thread_id, list(validated), state)]))
    except HitlError as exc:
        unrecorded_error = unrecorded(thread_id, validated, reviewer, started, result, exc)
        if unrecorded_error is None:
            raise
        if late:
            return ResumeOutcome(status="failed", error=str(unrecorded_error), thread_id=thread_id)
        raise unrecorded_error from exc
    try:
        inbox.refresh()
    except HitlError:
        pass  # the index catches up on the next refresh; the decision is recorded
    if state == "unknown":
        unknown = OutcomeUnknown(unknown_of(thread_id, validated, reviewer, started, result, error_text))
        if late:
            return ResumeOutcome(status="failed", error=str(unknown), thread_id=thread_id)
        raise unknown
    new = [item for item in remaining if item.id not in validated]
    return ResumeOutcome(status=status, new_interrupts=new, error=error_text, thread_id=thread_id)  # type: ignore[arg-type]


