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

A desk that dies anywhere after step 3 leaves a claim that goes stale; `recover_stale_claims`
settles it from the checkpointer: `recovered` when the resume committed, `unknown` when the
graph was running (the node may have run), `abandoned` when it never was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import is_invalid_resume
from langgraph.types import Command

from hitl import contracts, runner
from hitl.kinds import kind_of
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, NotAuthorized, ThreadNotFound, UnknownGraph
from hitl.outcome import OutcomeUnknown, UnknownOutcome
from hitl.access import ReviewItem, audit_context, requester_metadata, thread_requesters
from hitl.desk import Desk
from hitl.domain import OutcomeStatus, PendingInterrupt, ResumeOutcome
from hitl.reading import pending_interrupt
from hitl.services.access import gate
from hitl.store import RawInterrupt, checkpoint_time


__all__ = ["resume", "resume_many", "retry", "resolve", "recover_stale_claims", "unknown_outcome"]


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
    _check_answers(answers)
    reviewer = _reviewer_of(reviewer, principal)
    latest = store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    raw = store.pending_interrupts([thread_id])[thread_id]
    plan = _plan(inbox, thread_id, answers, raw, latest[1], comment=comment, principal=principal)
    if not plan.validated:  # only quorum votes: the graph did not run, nothing new is pending
        return ResumeOutcome(status="waiting", thread_id=thread_id, note=plan.note)
    try:
        store.claim(
            thread_id,
            list(plan.validated),
            reviewer=reviewer,
            answers=plan.validated,
            lease_seconds=inbox.settings.claim_lease_seconds,
            still_pending=lambda iid: _still_pending(store, thread_id, iid),
            runs_graph=True,
        )
    except OutcomeUnknown as exc:
        raise _refusal(inbox, thread_id, exc) from None
    outcome = _run(inbox, plan.graph, thread_id, plan.items, plan.validated, Command(resume=plan.validated), reviewer,
                   comment, action, graph_id=plan.graph_id)  # fmt: skip
    return replace(outcome, note=plan.note) if plan.note else outcome


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
    (`_invoke_many`, each run still bounded by the timeout) while one heartbeat renews all the
    chunk's leases, then ONE write transaction closes the claims and appends the audit rows,
    and the chunk's threads are re-indexed once. One thread's refusal, failure or
    refused answer never affects the others: each thread gets its outcome, or the
    `HitlError` `resume` would have raised for it.
    """
    store = inbox.store
    results: dict[str, ResumeOutcome | HitlError] = {}
    try:
        reviewer = _reviewer_of(reviewer, principal)
    except HitlError as exc:
        return {thread_id: exc for thread_id in requests}
    plans: dict[str, _Plan] = {}
    try:  # the chunk's requesters in one query; each _plan then reads them from the cache
        thread_requesters(store, list(requests), latest=metadata)
    except HitlError:
        pass  # each _plan looks its thread up again, and fails there if it must
    for thread_id, answers in requests.items():
        try:
            _check_answers(answers)
            plan = _plan(inbox, thread_id, answers, raw[thread_id], metadata[thread_id], comment=comment, principal=principal)
        except HitlError as exc:
            results[thread_id] = exc
            continue
        if plan.validated:
            plans[thread_id] = plan
        else:
            results[thread_id] = ResumeOutcome(status="waiting", thread_id=thread_id, note=plan.note)
    if not plans:
        return results
    try:
        refused = store.claim_each(
            {thread_id: plan.validated for thread_id, plan in plans.items()},
            reviewer=reviewer,
            lease_seconds=inbox.settings.claim_lease_seconds,
            still_pending=lambda thread_id, iid: _still_pending(store, thread_id, iid),
            runs_graph=True,
        )
    except HitlError as exc:  # e.g. the database stayed locked: nothing was claimed
        results.update({thread_id: exc for thread_id in plans})
        return results
    results.update(
        {thread_id: _refusal(inbox, thread_id, exc) if isinstance(exc, OutcomeUnknown) else exc for thread_id, exc in refused.items()}
    )
    plans = {thread_id: plan for thread_id, plan in plans.items() if thread_id not in refused}

    leases = _Leases(inbox, reviewer, {thread_id: list(plan.validated) for thread_id, plan in plans.items()})
    ran: dict[str, dict[str, Any]] = {}
    started: dict[str, float] = {}

    def late(thread_id: str, result: dict[str, Any]) -> None:
        plan = plans[thread_id]
        try:
            _finish(inbox, thread_id, plan.items, plan.validated, result, reviewer, comment, action,
                    started[thread_id], late=True)  # fmt: skip
        finally:
            leases.close(thread_id)

    def timed_out(thread_id: str, message: str) -> None:
        plan = plans[thread_id]
        try:
            _audit(inbox, thread_id, plan.items, plan.validated, reviewer, comment, action, started[thread_id],
                   outcome="timeout", error=message)  # fmt: skip
        except HitlError as exc:  # the timeout could not be recorded; the late end still closes the claim
            results[thread_id] = exc
            return
        results[thread_id] = ResumeOutcome(status="failed", error=message, thread_id=thread_id)

    try:
        runs = [(thread_id, plan.graph, Command(resume=plan.validated), plan.graph_id) for thread_id, plan in plans.items()]
        ran.update(_invoke_many(inbox, runs, started=started, on_timeout=timed_out, on_late=late))
        results.update(_close_chunk(inbox, {t: plans[t] for t in ran}, ran, started, reviewer, comment, action))
    except HitlError as exc:  # closing failed: the claims stay open and go stale, for recover_stale_claims
        for thread_id, result in ran.items():
            if thread_id not in results:
                plan = plans[thread_id]
                results[thread_id] = _unrecorded(thread_id, plan.validated, reviewer, started[thread_id], result, exc) or exc
    finally:
        for thread_id in ran:
            leases.close(thread_id)
    try:
        inbox.refresh(list(requests))
    except HitlError:
        pass  # the index catches up on the next refresh; the decisions are recorded
    return results


def _close_chunk(
    inbox: Desk,
    plans: dict[str, _Plan],
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
    ended = _ran_to_end(store, {t: plans[t].items for t in suspect}, suspect)
    recorded = _recorded_failures(store, {t: e for t, e in suspect.items() if t not in ended})
    indexed = _indexed(inbox, list(ran))
    outcomes: dict[str, ResumeOutcome | HitlError] = {}
    rows: list[dict[str, Any]] = []
    closes: list[tuple[str, list[str], str | None]] = []  # (thread, interrupts, new state; None: release)
    for thread_id, plan in plans.items():
        error = errors.get(thread_id)
        if error is not None and (is_invalid_resume(error) or _nothing_ran(error)):
            closes.append((thread_id, list(plan.validated), None))
            outcomes[thread_id] = error if _nothing_ran(error) else _refused_answer(error)
            continue
        state = "done"
        if thread_id in ended:
            status, error_text, new = "completed", _after_end_text(error), []
        elif error is not None and thread_id in suspect and thread_id not in recorded:
            state, status, error_text, new = "unknown", "unknown", _unknown_text(ran[thread_id]["nodes"], error), []
            outcomes[thread_id] = OutcomeUnknown(
                _unknown(thread_id, plan.validated, reviewer, started[thread_id], ran[thread_id], error_text)
            )
        elif error is not None:
            state, status, error_text, new = "failed", "failed", _error_text(error), []
        else:
            pending = [pending_interrupt(item) for item in remaining[thread_id]]
            status, error_text = _status(pending, failed_tasks.get(thread_id, []))
            new = [item for item in pending if item.id not in plan.validated]
        closes.append((thread_id, list(plan.validated), state))
        since, graph_id = indexed.get(thread_id, (None, None))
        rows += _decision_rows(thread_id, plan.items, plan.validated, reviewer, comment, action, started[thread_id],
                               outcome=status, error=error_text, indexed_since=since, graph_id=graph_id or plan.graph_id)  # fmt: skip
        if state != "unknown":
            outcomes[thread_id] = ResumeOutcome(status=status, new_interrupts=new, error=error_text, thread_id=thread_id)

    _record_decisions(inbox, rows, with_claims=lambda: store.close_claims(closes))
    return outcomes


def _ran_to_end(
    store: Any, items: Mapping[str, Mapping[str, PendingInterrupt]], errors: Mapping[str, BaseException]
) -> set[str]:
    """The threads whose run raised (`errors`) after the checkpointer had saved it to its
    end: the latest checkpoint is newer than the answered interrupts' and has nothing left
    (no interrupt, failed task or scheduled node). What the nodes did is saved, so the
    outcome is known: completed, with the error noted. A run stopped anywhere short of END
    stays "outcome unknown"."""
    errors = {t: e for t, e in errors.items() if not is_invalid_resume(e) and not _nothing_ran(e)}
    if not errors:
        return set()
    try:
        finished = store.finished(list(errors))
    except HitlError:  # where the threads live cannot be read now: nothing proves the end
        return set()
    return {
        thread_id
        for thread_id, checkpoint_id in finished.items()
        if all(item.checkpoint_id and checkpoint_id > item.checkpoint_id for item in items[thread_id].values())
    }


def _after_end_text(error: BaseException) -> str:
    return f"The run reached its end and was saved; then it raised {_error_text(error)}"


def _recorded_failures(store: Any, errors: Mapping[str, BaseException]) -> set[str]:
    """The threads whose run's error LangGraph recorded (an `__error__` write at the latest
    checkpoint with that error's text): the node raised, and the checkpointer says so."""
    if not errors:
        return set()
    try:
        raw = store.pending_interrupts(list(errors))
        tasks = store.failed_tasks_of(list(errors))
    except HitlError:  # where the threads live cannot be read (a server gone): nothing proves a record
        return set()
    recorded = set()
    for thread_id, error in errors.items():
        texts = [item.failed_error for item in raw[thread_id] if item.failed_error] + [text for _, text in tasks[thread_id]]
        # The saver keeps the error as text (its repr, or "Type: message"): this error is
        # recorded when a text names its type and message; an older attempt's error is not.
        message = str(error)
        if any(type(error).__name__ in text and (message in text or repr(message)[1:-1] in text) for text in texts):
            recorded.add(thread_id)
    return recorded


def _unknown_text(nodes: Sequence[str], error: BaseException) -> str:
    names = ", ".join(nodes) or "a node"
    return (
        f"outcome unknown: {names} started, then the run failed ({_error_text(error)}) without its result being "
        f"saved, so {names} may have run"
    )


def _unknown(
    thread_id: str, validated: Mapping[str, Any], reviewer: str, started: float, result: Mapping[str, Any], error_text: str,
    *, state: str = "unknown",
) -> UnknownOutcome:
    return UnknownOutcome(
        thread_id=thread_id,
        interrupt_ids=tuple(validated),
        reviewer=reviewer,
        answers=dict(validated),
        decided_at=datetime.fromtimestamp(started, timezone.utc),
        state=state,  # type: ignore[arg-type]
        may_run_twice=tuple(result.get("nodes") or ()),
        error=error_text,
    )


def _unrecorded(
    thread_id: str, validated: Mapping[str, Any], reviewer: str, started: float, result: Mapping[str, Any], exc: HitlError
) -> OutcomeUnknown | None:
    """The error for a run whose outcome the desk could not record (`exc`): `OutcomeUnknown`
    ("unrecorded") when the graph ran or may have (never "nothing changed"), else None."""
    error = result.get("error")
    if error is not None and (not result.get("nodes") or is_invalid_resume(error)):
        return None  # no node ran: nothing changed, the caller's StoreError says so
    what = f"the run failed ({_error_text(error)})" if error is not None else "the run finished"
    # The driver's own words: the StoreError's "nothing was changed" is not true here.
    cause = getattr(exc, "cause", None)
    why = _error_text(cause) if isinstance(cause, BaseException) else str(exc)
    return OutcomeUnknown(_unknown(thread_id, validated, reviewer, started, result, f"{what}; then recording it failed: {why}",
                                   state="unrecorded"))  # fmt: skip


def _refusal(inbox: Desk, thread_id: str, exc: OutcomeUnknown) -> OutcomeUnknown:
    """`exc` (from a claim) with the thread's recorded state: a dead desk's running claim is
    first recorded as outcome unknown (`recover_stale_claims`), then the error names the
    original decision, what may run twice and why."""
    try:
        if exc.outcome.state == "unrecorded":
            recover_stale_claims(inbox, thread_ids=[thread_id])
        found = unknown_outcome(inbox, thread_id)
    except HitlError:
        return exc  # the store failed again: the claim's own account is still true
    return OutcomeUnknown(found) if found is not None else exc


@dataclass(frozen=True)
class _Plan:
    """One thread's answers, checked and authorized, ready to be claimed."""

    graph: Any
    graph_id: str
    items: dict[str, PendingInterrupt]
    validated: dict[str, Any]
    """The answers that resume the graph now (empty when they were all recorded as quorum votes)."""
    note: str | None = None


def _check_answers(answers: Any) -> None:
    if not isinstance(answers, dict) or not answers:
        raise InvalidAnswer("Give at least one answer as {interrupt_id: answer}.")


def _reviewer_of(reviewer: str, principal: Any) -> str:
    """Who is deciding: the signed-in identity, or the typed name in local mode."""
    if principal is not None:
        if reviewer and reviewer != principal.identity:
            raise NotAuthorized(
                f"Reviewer {reviewer!r} is not the signed-in identity {principal.identity!r}; "
                "decisions are recorded under the signed-in identity."
            )
        reviewer = principal.identity
    if not reviewer or not str(reviewer).strip():
        raise InvalidAnswer("A reviewer name is required: every decision is recorded with who made it.")
    return reviewer


def _plan(
    inbox: Desk,
    thread_id: str,
    answers: dict[str, Any],
    raw: list[RawInterrupt],
    metadata: dict[str, Any],
    *,
    comment: str,
    principal: Any,
) -> _Plan:
    """Check answers against the thread's pending interrupts (`raw`, read fresh): ids, graph,
    kinds and schemas, then roles, four eyes and quorum. Raises what `resume` raises."""
    store = inbox.store
    by_id = {item.id: item for item in raw if item.answerable}
    failed = {item.id: item for item in raw if not item.answerable}
    for interrupt_id in answers:
        if interrupt_id in by_id:
            continue
        if interrupt_id in failed:
            raise InvalidAnswer(
                f"Interrupt {interrupt_id!r} on thread {thread_id!r} was already answered, then the "
                f"graph raised ({failed[interrupt_id].failed_error}). LangGraph keeps that answer, so "
                "it cannot be changed: retry the thread to run it again with the same answer, or mark "
                "it resolved.",
                field_errors={interrupt_id: "answered; the run failed"},
            )
        claim = store.claim_of(thread_id, interrupt_id)
        if claim and claim["state"] == "unknown":
            found = unknown_outcome(inbox, thread_id)
            if found is not None:
                raise OutcomeUnknown(found)
        if claim and claim["state"] in ("done", "recovered", "claimed"):
            raise AlreadyDecided(interrupt_id, reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id)
        pending = ", ".join(by_id) or "none"
        raise InvalidAnswer(
            f"Interrupt {interrupt_id!r} is not pending on thread {thread_id!r} (pending: {pending}). "
            "Reload the thread: it may have moved on.",
            field_errors={interrupt_id: "not pending"},
        )
    match = inbox.registry.match(metadata.get("graph_id"), [item.node for item in raw])
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be resumed from the desk: {match.note}.")
    # The requester is the thread's (pinned by the desk), carried into every checkpoint the run writes.
    requester = thread_requesters(store, [thread_id], latest={thread_id: metadata}).get(thread_id)
    graph = inbox.graph_with_requester(inbox.registry.graph(match.graph_id), requester)

    items = {iid: pending_interrupt(by_id[iid]) for iid in answers}
    for iid, item in items.items():
        if item.decode_error:
            raise InvalidAnswer(f"Interrupt {iid} cannot be answered: {item.decode_error}")
    validated: dict[str, Any] = {}
    field_errors: dict[str, str] = {}
    contract_of = {iid: inbox.contract(item, match.graph_id) for iid, item in items.items()}
    for iid, answer in answers.items():
        try:
            item = items[iid]
            validated[iid] = contracts.validate(contract_of[iid], item.kind, item.value, answer, item.response_schema)
        except InvalidAnswer as exc:
            field_errors.update({f"{iid}.{k}" if k else iid: v for k, v in (exc.field_errors or {"": str(exc)}).items()})
            if len(answers) == 1:
                raise
    if field_errors:
        raise InvalidAnswer("Some answers do not fit their request: " + "; ".join(f"{k}: {v}" for k, v in field_errors.items()), field_errors=field_errors)

    note = None
    if principal is not None:
        # Roles, four eyes and quorum. Votes that do not complete a quorum are recorded
        # and leave the graph paused; the rest resume it through the claim.
        for iid, answer in validated.items():
            if contract_of[iid].kind_shape and not contract_of[iid].shape_kind:  # approval_level records the approver
                validated[iid] = kind_of(items[iid].kind).stamp_approver(answer, principal.identity)
        review = {
            iid: ReviewItem.of(thread_id, match.graph_id, items[iid], requester, contract=contract_of[iid])
            for iid in validated
        }
        plan = gate(inbox, principal, review, validated, comment=comment)
        note = " ".join(plan.recorded.values()) or None
        validated = dict(plan.resume)
        items = {iid: items[iid] for iid in validated}
    return _Plan(graph=graph, graph_id=match.graph_id, items=items, validated=validated, note=note)


def _still_pending(store: Any, thread_id: str, interrupt_id: str) -> bool:
    return interrupt_id in {i.id for i in store.pending_interrupts([thread_id])[thread_id] if i.answerable}


def _run(
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
    leases = _Leases(inbox, reviewer, {thread_id: list(validated)})

    def late(result: dict[str, Any]) -> None:
        try:
            _finish(inbox, thread_id, items, validated, result, reviewer, comment, action, started, late=True)
        finally:
            leases.close(thread_id)

    def timed_out(message: str) -> None:
        _audit(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome="timeout", error=message)

    try:
        result = _invoke(inbox, graph, thread_id, command, graph_id, on_timeout=timed_out, on_late=late)
    except BaseException:
        leases.close(thread_id)
        raise
    if result is None:
        return ResumeOutcome(status="failed", error=_timeout_message(inbox), thread_id=thread_id)
    try:
        return _finish(inbox, thread_id, items, validated, result, reviewer, comment, action, started, late=False)
    finally:
        leases.close(thread_id)


def _invoke(
    inbox: Desk,
    graph: Any,
    thread_id: str,
    command: Any,
    graph_id: str | None,
    *,
    on_timeout: Callable[[str], None],
    on_late: Callable[[dict[str, Any]], None],
) -> dict[str, Any] | None:
    """`graph.invoke(command)` in a worker thread, waited for up to `resume_timeout_seconds`
    (`_invoke_many` with one run).

    Returns `{}` or `{"error": exc}`; None when the graph outlived the timeout: then
    `on_timeout(message)` ran, and `on_late(result)` runs in the worker when the graph ends
    (never before `on_timeout` returned).
    """
    finished = _invoke_many(
        inbox, [(thread_id, graph, command, graph_id)], started={},
        on_timeout=lambda _, message: on_timeout(message), on_late=lambda _, result: on_late(result),
    )  # fmt: skip
    return finished.get(thread_id)


class _NodeStarts(BaseCallbackHandler):
    """Notes the nodes a run starts: LangGraph reports each node's start to the run's
    callbacks before the node's code runs, so a run that failed with none noted ran nothing."""

    run_inline = True  # called in the run's own thread (or loop), before the node's code

    def __init__(self) -> None:
        self.nodes: list[str] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, parent_run_id: Any = None,
                       metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:  # fmt: skip
        if parent_run_id is None:
            return  # the graph itself
        node = (metadata or {}).get("langgraph_node") or kwargs.get("name") or "?"
        if node not in self.nodes:
            self.nodes.append(str(node))


def _call(graph: Any, thread_id: str, command: Any, graph_id: str | None, database_url: str) -> dict[str, Any]:
    """`graph.invoke(command)` on the thread (`ainvoke` on an async saver for an async graph):
    `{"nodes": [nodes started]}`, with `"error": exc` if it raised."""
    # Keep graph_id in the new checkpoints' metadata, as the first run put it there: without
    # it a finished thread (or one paused at a node several graphs share) can no longer be
    # matched to its graph and turns read-only.
    starts = _NodeStarts()
    config: dict[str, Any] = {"configurable": {"thread_id": thread_id}, "callbacks": [starts]}
    if graph_id:
        config["metadata"] = {"graph_id": graph_id}
    try:
        runner.invoke(graph, command, config, database_url=database_url)
    except BaseException as exc:  # recorded by the caller; never silently lost
        return {"error": exc, "nodes": list(starts.nodes)}
    return {"nodes": list(starts.nodes)}


def _invoke_many(
    inbox: Desk,
    runs: list[tuple[str, Any, Any, str | None]],
    *,
    started: dict[str, float],
    on_timeout: Callable[[str, str], None],
    on_late: Callable[[str, dict[str, Any]], None],
) -> dict[str, dict[str, Any]]:
    """Resumes [(thread, graph, command, graph_id)], one after another in ONE worker thread
    (for a batch chunk, a thread per run cost more than the desk's own work; `_invoke` is
    this with one run).

    Each run is still bounded by `resume_timeout_seconds` from its own start: a run that
    outlives it gets `on_timeout(thread, message)` and, when it ends, `on_late(thread,
    result)` in the worker (never before `on_timeout` returned); the runs queued behind it
    move to a fresh worker. Returns {thread: result} for the runs that ended in time;
    `started` receives every run's start time.
    """
    finished: dict[str, dict[str, Any]] = {}
    queue = list(runs)
    while queue:
        worker = _ChunkWorker(inbox, queue, started, on_late)
        timed_out, queue = worker.wait(finished)
        if timed_out is not None:
            try:
                on_timeout(timed_out, _timeout_message(inbox))
            finally:
                worker.late_ok.set()
    return finished


class _ChunkWorker:
    """Runs queued resumes in order in one thread; `wait` watches each one's deadline."""

    def __init__(
        self,
        inbox: Desk,
        runs: list[tuple[str, Any, Any, str | None]],
        started: dict[str, float],
        on_late: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self._runs = runs
        self._started = started
        self._on_late = on_late
        self._timeout = inbox.settings.resume_timeout_seconds
        self._database_url = inbox.store.url
        self._cond = threading.Condition()
        self._done: dict[str, dict[str, Any]] = {}
        self._current: tuple[str, float] | None = None  # (thread, monotonic start) of the running run
        self._next = 0  # index of the next run to start
        self._given_up = False  # the caller gave up on the current run: start nothing more
        self.late_ok = threading.Event()
        """Set by the caller once the timeout is recorded: the late end may be recorded then."""
        name = f"hitl-resume-{runs[0][0]}" + (f"+{len(runs) - 1}" if len(runs) > 1 else "")
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        for index, (thread_id, graph, command, graph_id) in enumerate(self._runs):
            with self._cond:
                if self._given_up:
                    return
                self._started[thread_id] = time.time()
                self._current = (thread_id, time.monotonic())
                self._next = index + 1
            result = _call(graph, thread_id, command, graph_id, self._database_url)
            with self._cond:
                late = self._given_up
                if not late:
                    self._done[thread_id] = result
                    self._current = None
                    if len(self._done) == len(self._runs):
                        self._cond.notify_all()
            if late:
                self.late_ok.wait()
                self._on_late(thread_id, result)
                return

    def wait(self, finished: dict[str, dict[str, Any]]) -> tuple[str | None, list[tuple[str, Any, Any, str | None]]]:
        """Wait for the runs. Adds the runs that ended in time to `finished`; returns the
        thread whose run outlived its timeout (None if none did) and the runs not started."""
        with self._cond:
            while len(self._done) < len(self._runs):
                current = self._current
                left = self._timeout if current is None else current[1] + self._timeout - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._given_up = True
                finished.update(self._done)
                return current[0], self._runs[self._next :]  # type: ignore[index]
            finished.update(self._done)
            return None, []


def _timeout_message(inbox: Desk) -> str:
    return (
        f"The graph did not finish within {inbox.settings.resume_timeout_seconds:g} s "
        "(HITL_RESUME_TIMEOUT_SECONDS); it is still running and its result will be recorded "
        "when it ends. The interrupt stays claimed until then."
    )


class _Leases:
    """Keeps the leases of this desk's open claims ahead of the clock until they are closed.

    A resume that outlived its lease would look like a dead desk's and could be taken over
    and run twice. One heartbeat thread renews every open claim of a resume (or of a batch
    chunk, whose later graphs wait their turn) in one transaction per beat; it stops when the
    last claim is closed. A desk that dies stops renewing, and its claims go stale after one
    lease.
    """

    def __init__(self, inbox: Desk, reviewer: str, claims: dict[str, list[str]]) -> None:
        self._store = inbox.store
        self._reviewer = reviewer
        self._lease = inbox.settings.claim_lease_seconds
        self._open = dict(claims)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if not self._open:
            self._stop.set()
            return
        name = f"hitl-lease-{next(iter(self._open))}" + (f"+{len(self._open) - 1}" if len(self._open) > 1 else "")
        threading.Thread(target=self._beat, name=name, daemon=True).start()

    def close(self, thread_id: str) -> None:
        """Stop renewing a thread's claims (closed, or about to be)."""
        with self._lock:
            self._open.pop(thread_id, None)
            if not self._open:
                self._stop.set()

    def _beat(self) -> None:
        while not self._stop.wait(max(self._lease / 3, 0.05)):
            with self._lock:
                claims = dict(self._open)
            try:
                self._store.renew_claims_of(claims, reviewer=self._reviewer, lease_seconds=self._lease)
            except HitlError:
                pass  # the next beat tries again; the leases are still running


def _finish(
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
    if error is not None and (is_invalid_resume(error) or _nothing_ran(error)):
        store.release_claims(thread_id, list(validated))
        if late:
            return ResumeOutcome(status="failed", error=str(error), thread_id=thread_id)
        raise error if _nothing_ran(error) else _refused_answer(error)
    remaining: list[PendingInterrupt] = []
    try:
        if error is None:
            state = "done"
            remaining = [pending_interrupt(item) for item in store.pending_interrupts([thread_id])[thread_id]]
            status, error_text = _status(remaining, store.failed_tasks(thread_id) if not remaining else [])
        elif thread_id in _ran_to_end(store, {thread_id: items}, {thread_id: error}):
            state, status, error_text = "done", "completed", _after_end_text(error)
        elif result.get("nodes") and thread_id not in _recorded_failures(store, {thread_id: error}):
            state, status, error_text = "unknown", "unknown", _unknown_text(result["nodes"], error)
        else:  # no node started, or LangGraph recorded the node's error: answerable or retryable as before
            state, status, error_text = "failed", "failed", _error_text(error)
        rows = _audit_rows(inbox, thread_id, items, validated, reviewer, comment, action, started,
                           outcome=status, error=error_text)  # fmt: skip
        _record_decisions(inbox, rows, with_claims=lambda: store.close_claims([(thread_id, list(validated), state)]))
    except HitlError as exc:
        unrecorded = _unrecorded(thread_id, validated, reviewer, started, result, exc)
        if unrecorded is None:
            raise
        if late:
            return ResumeOutcome(status="failed", error=str(unrecorded), thread_id=thread_id)
        raise unrecorded from exc
    try:
        inbox.refresh()
    except HitlError:
        pass  # the index catches up on the next refresh; the decision is recorded
    if state == "unknown":
        unknown = OutcomeUnknown(_unknown(thread_id, validated, reviewer, started, result, error_text))
        if late:
            return ResumeOutcome(status="failed", error=str(unknown), thread_id=thread_id)
        raise unknown
    new = [item for item in remaining if item.id not in validated]
    return ResumeOutcome(status=status, new_interrupts=new, error=error_text, thread_id=thread_id)  # type: ignore[arg-type]


def _nothing_ran(error: BaseException) -> bool:
    """Whether the graph refused the run before starting anything (a server backend's
    `nothing_ran` error: the thread moved on, it is busy, the server is unreachable): the
    claims are released and the error is the caller's."""
    return isinstance(error, HitlError) and getattr(error, "nothing_ran", False) is True


def _status(remaining: list[PendingInterrupt], failed_tasks: list[tuple[str, str]]) -> tuple[OutcomeStatus, str | None]:
    """A finished resume's outcome: interrupts still pending, else failed tasks, else completed."""
    if remaining:
        return "waiting", None
    error_text = "; ".join(f"{node}: {text}" for node, text in failed_tasks) or None
    return ("failed" if failed_tasks else "completed"), error_text


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _refused_answer(error: BaseException) -> InvalidAnswer:
    """The graph's own validation refused the answer (`is_invalid_resume`): nothing was saved."""
    return InvalidAnswer(
        f"The graph refused the answer: {_pydantic_summary(error)}. Nothing was saved; "
        "correct the answer and submit again.",
        field_errors=_pydantic_field_errors(error),
    )


def _audit(
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
    _record_decisions(
        inbox, _audit_rows(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome=outcome, error=error)
    )


def _audit_rows(
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
    """`_decision_rows` of one thread, with its graph and waiting time looked up."""
    indexed_since, graph_id = _indexed(inbox, [thread_id]).get(thread_id, (None, None))
    if not graph_id:
        try:
            latest = inbox.store.latest_checkpoint(thread_id)
        except HitlError:  # where the thread lives cannot be read now (a server gone): the row still is written
            latest = None
        graph_id = (latest[1] if latest else {}).get("graph_id")
    return _decision_rows(thread_id, items, validated, reviewer, comment, action, started, outcome=outcome, error=error,
                          indexed_since=indexed_since, graph_id=graph_id)  # fmt: skip


def _indexed(inbox: Desk, thread_ids: list[str]) -> dict[str, tuple[float | None, str | None]]:
    """(waiting_since, graph_id) of indexed threads, from the desk's index."""
    if not thread_ids:
        return {}
    marks = ",".join("?" for _ in thread_ids)
    rows = inbox.store.query(
        f"SELECT thread_id, waiting_since, graph_id FROM hitl_threads WHERE thread_id IN ({marks})", thread_ids
    )
    return {row[0]: (float(row[1]) if row[1] is not None else None, row[2]) for row in rows}


def _decision_rows(
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


def _record_decisions(inbox: Desk, rows: list[dict[str, Any]], *, with_claims: Callable[[], None] | None = None) -> None:
    """Append decisions to the audit log, then tell the `Inbox.on_decided` hooks (webhooks).

    `with_claims` (closing the decisions' claims) runs in the same write transaction.
    """
    with inbox.store.connection(write=True):
        if with_claims is not None:
            with_claims()
        seqs = inbox.store.append_audit(rows) if rows else []
    if rows:
        inbox.decided([{**row, "seq": seq} for row, seq in zip(rows, seqs)])


def retry(
    inbox: Desk, thread_id: str, *, reviewer: str, comment: str = "", accept_repeat: bool = False
) -> ResumeOutcome:
    """Run a failed thread's failed tasks again (`invoke(None)`), at most once at a time; or
    an outcome-unknown decision again with its original answers, when `accept_repeat` says
    the caller accepts that the nodes it started may run twice (see `UnknownOutcome.warning`).

    Raises:
        InvalidAnswer: nothing to retry, or an outcome-unknown decision without `accept_repeat`.
    """
    store = inbox.store
    latest = store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    recover_stale_claims(inbox, thread_ids=[thread_id])  # a dead desk's running claim: outcome unknown first
    unknown = unknown_outcome(inbox, thread_id)
    if unknown is not None:
        return _retry_unknown(inbox, thread_id, unknown, latest, reviewer=reviewer, comment=comment,
                              accept_repeat=accept_repeat)  # fmt: skip
    raw = store.pending_interrupts([thread_id])[thread_id]
    failed = {item.id: pending_interrupt(item) for item in raw if not item.answerable}
    if not failed and not store.failed_tasks(thread_id):
        raise InvalidAnswer(f"Thread {thread_id!r} has no failed task to retry.")
    graph, graph_id = _graph_for(inbox, thread_id, latest, raw, verb="retried")
    keys = list(failed) or [f"retry:{latest[0]}"]
    stored = {iid: (store.claim_of(thread_id, iid) or {}).get("answer") for iid in failed}
    store.claim(
        thread_id, keys, reviewer=reviewer, answers=stored, lease_seconds=inbox.settings.claim_lease_seconds,
        still_pending=lambda iid: True, runs_graph=True,
    )  # fmt: skip
    if not failed:
        failed = {keys[0]: pending_interrupt(RawInterrupt(
            thread_id=thread_id, checkpoint_id=latest[0], task_id="", node=None, id=keys[0], value=None, response_schema=None,
        ))}  # fmt: skip
        stored = {keys[0]: None}
    return _run(inbox, graph, thread_id, failed, stored, None, reviewer, comment, "retry", graph_id=graph_id)


def _graph_for(inbox: Desk, thread_id: str, latest: tuple[str, dict[str, Any]], raw: list[RawInterrupt], *, verb: str) -> tuple[Any, str]:
    """The thread's registered graph, bound to write its requester, and its id."""
    match = inbox.registry.match(latest[1].get("graph_id"), [item.node for item in raw])
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be {verb} from the desk: {match.note}.")
    requester = thread_requesters(inbox.store, [thread_id], latest={thread_id: latest[1]}).get(thread_id)
    return inbox.graph_with_requester(inbox.registry.graph(match.graph_id), requester), match.graph_id


def _retry_unknown(
    inbox: Desk,
    thread_id: str,
    unknown: UnknownOutcome,
    latest: tuple[str, dict[str, Any]],
    *,
    reviewer: str,
    comment: str,
    accept_repeat: bool,
) -> ResumeOutcome:
    """Resume an outcome-unknown decision again with its original answers (the interrupts
    the checkpointer still shows), or continue the run (`invoke(None)`) past those it does
    not, through a compare-and-set takeover of its `unknown` claims."""
    if not accept_repeat:
        raise InvalidAnswer(
            f"{unknown.warning} To retry anyway, confirm it: accept_repeat=True (on the Review page, tick the "
            "confirmation first).",
            field_errors={"accept_repeat": unknown.warning},
        )
    store = inbox.store
    raw = store.pending_interrupts([thread_id])[thread_id]
    graph, graph_id = _graph_for(inbox, thread_id, latest, raw, verb="retried")
    by_id = {item.id: item for item in raw if item.answerable}
    answers = dict(unknown.answers)
    items = {iid: pending_interrupt(by_id[iid]) if iid in by_id else _interrupt_of_record(inbox, thread_id, iid) for iid in answers}
    store.claim(
        thread_id, list(answers), reviewer=reviewer, answers=answers, lease_seconds=inbox.settings.claim_lease_seconds,
        still_pending=lambda iid: True, runs_graph=True, settle_unknown=True,
    )  # fmt: skip
    pending = {iid: answer for iid, answer in answers.items() if iid in by_id}
    when = unknown.decided_at.strftime("%Y-%m-%d %H:%M:%S UTC") if unknown.decided_at else "an unknown time"
    note = (
        f"explicit retry of {unknown.reviewer or 'another reviewer'}'s outcome-unknown decision of {when}, accepting "
        f"that {unknown.nodes_text} may run a second time"
    )
    command = Command(resume=pending) if pending else None
    return _run(inbox, graph, thread_id, items, answers, command, reviewer, f"{comment} ({note})" if comment else note,
                "retry", graph_id=graph_id)  # fmt: skip


def _interrupt_of_record(inbox: Desk, thread_id: str, interrupt_id: str) -> PendingInterrupt:
    """An interrupt no longer pending, as the audit log and the thread's checkpoints tell it
    (kind and payload, for the audit row and `[access]`)."""
    context = audit_context(inbox.store, thread_id, interrupt_id)
    return pending_interrupt(RawInterrupt(
        thread_id=thread_id, checkpoint_id="", task_id="", node=None, id=interrupt_id, value=context.get("payload"),
        response_schema=None,
    ))  # fmt: skip


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


def resolve(inbox: Desk, thread_id: str, *, reviewer: str, reason: str) -> None:
    """Close a thread without resuming it, recorded in the audit log (an outcome-unknown
    decision on it included: closed as resolved, nothing run)."""
    from langgraph.graph import END

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
    recover_stale_claims(inbox, thread_ids=[thread_id])  # a dead desk's running claim: outcome unknown first
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
    _record_decisions(inbox, rows, with_claims=lambda: store.close_claims([(thread_id, ids, "done")]))
    inbox.refresh()


def recover_stale_claims(
    inbox: Desk, *, resubmit: bool = False, thread_ids: Sequence[str] | None = None
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
      stored answer is in the audit row). With `resubmit`, that answer is then resumed again
      under its original reviewer (action "recovery") through a fresh claim: exactly once, and
      `AlreadyDecided` if someone answered it meanwhile. Unknown outcomes are never resubmitted.
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
        if outcome == "abandoned" and resubmit:
            outcome = _resubmit(inbox, thread_id, interrupt_id, claim)
        settled.append((thread_id, interrupt_id, outcome))
    return settled


def _resubmit(inbox: Desk, thread_id: str, interrupt_id: str, claim: dict[str, Any]) -> str:
    try:
        outcome = resume(
            inbox, thread_id, {interrupt_id: claim["answer"]}, reviewer=claim["reviewer"],
            comment="resubmitted: the desk that took this decision died before the resume started",
            action="recovery",
        )  # fmt: skip
    except HitlError as exc:
        return f"abandoned; not resubmitted: {exc}"
    return f"resubmitted: {outcome.status}"


def _pydantic_summary(error: BaseException) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in errors())
        except Exception:
            pass
    return str(error)


def _pydantic_field_errors(error: BaseException) -> dict[str, str]:
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return {"": str(error)}
    try:
        return {".".join(str(p) for p in e["loc"]): e["msg"] for e in errors()}
    except Exception:
        return {"": str(error)}
