"""Resume a chunk of threads with the database work shared (for `Inbox.batch`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from langgraph.errors import is_invalid_resume
from langgraph.types import Command
from hitl.errors import HitlError
from hitl.outcome import OutcomeUnknown
from hitl.access import thread_requesters
from hitl.desk import Desk
from hitl.domain import ResumeOutcome
from hitl.reading import pending_interrupt
from hitl.store import RawInterrupt
from hitl.services.decision_log import audit_outcome, decision_rows, record_decisions
from hitl.services.leases import Leases
from hitl.storage.threads_sql import indexed_threads
from hitl.services.outcomes import after_end_text, nothing_ran, outcome_status, ran_to_end, recorded_failures, refused_answer, unknown_of, unknown_text, unrecorded
from hitl.services.resume_one import finish_run, refusal
from hitl.services.resume_plan import ResumePlan, check_answers, plan_resume, reviewer_of, still_pending
from hitl.services.runs import invoke_many
from hitl.services.outcomes import describe_error


def resume_many(
    inbox: Desk,
    requests: Mapping[str, dict[str, Any]],
    *,
    raw: Mapping[str, list[RawInterrupt]],
    metadata: Mapping[str, dict[str, Any]],
    reviewer: str = "",
    comment: str = "",
    action: str = "batch",
    principal: Any = None,
) -> dict[str, ResumeOutcome | HitlError]:
    """`resume` for a chunk of threads ({thread: answers}), for `Inbox.batch`.

    Same checks, claims, runs and records as `resume`, thread by thread, with the database
    work shared: `raw`/`metadata` are the chunk's pending interrupts and latest checkpoint
    metadata (read by the caller in one query each), every claim is taken in ONE write
    transaction (`Store.claim_each`), the graphs run one after the other in one worker thread
    (`invoke_many`, each run still bounded by the timeout) while one heartbeat renews all the
    chunk's leases, then ONE write transaction closes the claims and appends the audit rows,
    and the chunk's threads are re-indexed once. One thread's refusal, failure or
    refused answer never affects the others: each thread gets its outcome, or the
    `HitlError` `resume` would have raised for it.
    """
    results: dict[str, ResumeOutcome | HitlError] = {}
    try:
        reviewer = reviewer_of(reviewer, principal)
    except HitlError as exc:
        return {thread_id: exc for thread_id in requests}
    plans = _plan_chunk(inbox, requests, raw, metadata, results, comment=comment, principal=principal)
    plans = _claim_chunk(inbox, plans, results, reviewer=reviewer)
    if plans:
        _run_chunk(inbox, plans, results, reviewer=reviewer, comment=comment, action=action)
    try:
        inbox.refresh(list(requests))
    except HitlError:
        pass  # the index catches up on the next refresh; the decisions are recorded
    return results


def _plan_chunk(
    inbox: Desk,
    requests: Mapping[str, dict[str, Any]],
    raw: Mapping[str, list[RawInterrupt]],
    metadata: Mapping[str, dict[str, Any]],
    results: dict[str, ResumeOutcome | HitlError],
    *,
    comment: str,
    principal: Any,
) -> dict[str, ResumePlan]:
    """The plans of the threads whose answers resume their graph now; the others' outcome
    (a refusal, or votes recorded without resuming) goes into `results`."""
    plans: dict[str, ResumePlan] = {}
    try:  # the chunk's requesters in one query; each plan_resume then reads them from the cache
        thread_requesters(inbox.store, list(requests), latest=metadata)
    except HitlError:
        pass  # each plan_resume looks its thread up again, and fails there if it must
    for thread_id, answers in requests.items():
        try:
            check_answers(answers)
            plan = plan_resume(inbox, thread_id, answers, raw[thread_id], metadata[thread_id], comment=comment, principal=principal)
        except HitlError as exc:
            results[thread_id] = exc
            continue
        if plan.validated:
            plans[thread_id] = plan
        else:
            results[thread_id] = ResumeOutcome(status="waiting", thread_id=thread_id, note=plan.note)
    return plans


def _claim_chunk(
    inbox: Desk, plans: dict[str, ResumePlan], results: dict[str, ResumeOutcome | HitlError], *, reviewer: str
) -> dict[str, ResumePlan]:
    """Claim every plan's interrupts in ONE write transaction; returns the plans claimed (the
    refused ones' errors go into `results`)."""
    if not plans:
        return {}
    store = inbox.store
    try:
        refused = store.claim_each(
            {thread_id: plan.validated for thread_id, plan in plans.items()},
            reviewer=reviewer,
            lease_seconds=inbox.settings.claim_lease_seconds,
            still_pending=lambda thread_id, iid: still_pending(store, thread_id, iid),
            runs_graph=True,
        )
    except HitlError as exc:  # e.g. the database stayed locked: nothing was claimed
        results.update({thread_id: exc for thread_id in plans})
        return {}
    results.update(
        {thread_id: refusal(inbox, thread_id, exc) if isinstance(exc, OutcomeUnknown) else exc for thread_id, exc in refused.items()}
    )
    return {thread_id: plan for thread_id, plan in plans.items() if thread_id not in refused}


def _run_chunk(
    inbox: Desk,
    plans: dict[str, ResumePlan],
    results: dict[str, ResumeOutcome | HitlError],
    *,
    reviewer: str,
    comment: str,
    action: str,
) -> None:
    """Run the claimed plans' graphs one after the other under one heartbeat, then close
    their claims and record them in one write transaction; outcomes go into `results`."""
    leases = Leases(inbox, reviewer, {thread_id: list(plan.validated) for thread_id, plan in plans.items()})
    ran: dict[str, dict[str, Any]] = {}
    started: dict[str, float] = {}

    def late(thread_id: str, result: dict[str, Any]) -> None:
        plan = plans[thread_id]
        try:
            finish_run(inbox, thread_id, plan.items, plan.validated, result, reviewer, comment, action,
                       started[thread_id], late=True)  # fmt: skip
        finally:
            leases.close(thread_id)

    def timed_out(thread_id: str, message: str) -> None:
        plan = plans[thread_id]
        try:
            audit_outcome(inbox, thread_id, plan.items, plan.validated, reviewer, comment, action, started[thread_id],
                          outcome="timeout", error=message)  # fmt: skip
        except HitlError as exc:  # the timeout could not be recorded; the late end still closes the claim
            results[thread_id] = exc
            return
        results[thread_id] = ResumeOutcome(status="failed", error=message, thread_id=thread_id)

    try:
        runs = [(thread_id, plan.graph, Command(resume=plan.validated), plan.graph_id) for thread_id, plan in plans.items()]
        ran.update(invoke_many(inbox, runs, started=started, on_timeout=timed_out, on_late=late))
        results.update(_close_chunk(inbox, {t: plans[t] for t in ran}, ran, started, reviewer, comment, action))
    except HitlError as exc:  # closing failed: the claims stay open and go stale, for recover_stale_claims
        for thread_id, result in ran.items():
            if thread_id not in results:
                plan = plans[thread_id]
                results[thread_id] = unrecorded(thread_id, plan.validated, reviewer, started[thread_id], result, exc) or exc
    finally:
        for thread_id in ran:
            leases.close(thread_id)


def _close_chunk(
    inbox: Desk,
    plans: dict[str, ResumePlan],
    ran: dict[str, dict[str, Any]],
    started: dict[str, float],
    reviewer: str,
    comment: str,
    action: str,
) -> dict[str, ResumeOutcome | HitlError]:
    """Close the claims of a chunk's finished runs and record them, in one write transaction."""
    store = inbox.store
    errors = {thread_id: result["error"] for thread_id, result in ran.items() if result.get("error") is not None}
    succeeded = [thread_id for thread_id in ran if thread_id not in errors]
    remaining = store.pending_interrupts(succeeded)
    failed_tasks = store.failed_tasks_of([thread_id for thread_id in succeeded if not remaining[thread_id]])
    suspect = {t: e for t, e in errors.items() if ran[t].get("nodes") and not is_invalid_resume(e)}
    ended = ran_to_end(store, {t: plans[t].items for t in suspect}, suspect)
    recorded = recorded_failures(store, {t: e for t, e in suspect.items() if t not in ended})
    indexed = indexed_threads(inbox.store, list(ran))
    outcomes: dict[str, ResumeOutcome | HitlError] = {}
    rows: list[dict[str, Any]] = []
    closes: list[tuple[str, list[str], str | None]] = []  # (thread, interrupts, new state; None: release)
    for thread_id, plan in plans.items():
        error = errors.get(thread_id)
        if error is not None and (is_invalid_resume(error) or nothing_ran(error)):
            closes.append((thread_id, list(plan.validated), None))
            outcomes[thread_id] = error if nothing_ran(error) else refused_answer(error)
            continue
        state = "done"
        if thread_id in ended:
            status, error_text, new = "completed", after_end_text(error), []
        elif error is not None and thread_id in suspect and thread_id not in recorded:
            state, status, error_text, new = "unknown", "unknown", unknown_text(ran[thread_id]["nodes"], error), []
            outcomes[thread_id] = OutcomeUnknown(
                unknown_of(thread_id, plan.validated, reviewer, started[thread_id], ran[thread_id], error_text)
            )
        elif error is not None:
            state, status, error_text, new = "failed", "failed", describe_error(error), []
        else:
            pending = [pending_interrupt(item) for item in remaining[thread_id]]
            status, error_text = outcome_status(pending, failed_tasks.get(thread_id, []))
            new = [item for item in pending if item.id not in plan.validated]
        closes.append((thread_id, list(plan.validated), state))
        since, graph_id = indexed.get(thread_id, (None, None))
        rows += decision_rows(thread_id, plan.items, plan.validated, reviewer, comment, action, started[thread_id],
                               outcome=status, error=error_text, indexed_since=since, graph_id=graph_id or plan.graph_id)  # fmt: skip
        if state != "unknown":
            outcomes[thread_id] = ResumeOutcome(status=status, new_interrupts=new, error=error_text, thread_id=thread_id)

    record_decisions(inbox, rows, with_claims=lambda: store.close_claims(closes))
    return outcomes
