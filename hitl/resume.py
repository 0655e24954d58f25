"""Resume a graph once per interrupt: validate, claim, `Command(resume=...)`, audit.

Order of events, and why:

1. Read the thread's pending interrupts fresh from the checkpointer (not the index).
2. Validate every answer for its kind and response_schema: a bad answer changes nothing.
3. Claim the interrupts in one transaction (a unique key per interrupt): a second reviewer
   gets `AlreadyDecided`, whatever process they are in. The claim stores the answer, so a
   desk that dies mid-resume loses no decision.
4. `graph.invoke(Command(resume={interrupt_id: answer}))` in a worker thread, bounded by
   `resume_timeout_seconds`.
5. Close the claims (`done`, or `failed`: answerable again) and append one audit row per
   interrupt with the outcome.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from langgraph.errors import is_invalid_resume
from langgraph.types import Command

from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, NotAuthorized, StoreError, ThreadNotFound, UnknownGraph
from hitl.store import RawInterrupt, checkpoint_time

if TYPE_CHECKING:
    from hitl.inbox import Inbox, PendingInterrupt, ResumeOutcome

__all__ = ["resume", "resolve", "recover_stale_claims"]


def resume(
    inbox: Inbox,
    thread_id: str,
    answers: dict[str, Any],
    *,
    reviewer: str = "",
    comment: str = "",
    action: str = "decision",
    principal: Any = None,
) -> ResumeOutcome:
    """See `Inbox.resume`."""
    from hitl.decisions import validate_answer
    from hitl.inbox import ResumeOutcome

    store = inbox.store
    if not isinstance(answers, dict) or not answers:
        raise InvalidAnswer("Give at least one answer as {interrupt_id: answer}.")
    if principal is not None:
        if reviewer and reviewer != principal.identity:
            raise NotAuthorized(
                f"Reviewer {reviewer!r} is not the signed-in identity {principal.identity!r}; "
                "decisions are recorded under the signed-in identity."
            )
        reviewer = principal.identity
    if not reviewer or not str(reviewer).strip():
        raise InvalidAnswer("A reviewer name is required: every decision is recorded with who made it.")
    latest = store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    _, metadata = latest
    raw = store.pending_interrupts([thread_id])[thread_id]
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
    graph = inbox.registry.graph(match.graph_id)

    items = {iid: inbox._interrupt(by_id[iid]) for iid in answers}
    for iid, item in items.items():
        if item.decode_error:
            raise InvalidAnswer(f"Interrupt {iid} cannot be answered: {item.decode_error}")
    validated: dict[str, Any] = {}
    field_errors: dict[str, str] = {}
    for iid, answer in answers.items():
        try:
            validated[iid] = validate_answer(items[iid].kind, items[iid].value, answer, items[iid].response_schema)
        except InvalidAnswer as exc:
            field_errors.update({f"{iid}.{k}" if k else iid: v for k, v in (exc.field_errors or {"": str(exc)}).items()})
            if len(answers) == 1:
                raise
    if field_errors:
        raise InvalidAnswer("Some answers do not fit their request: " + "; ".join(f"{k}: {v}" for k, v in field_errors.items()), field_errors=field_errors)

    note = None
    if principal is not None:
        # Roles, four eyes and quorum. Votes that do not complete a quorum are recorded
        # and leave the graph paused; the rest resume it through the claim below.
        from hitl.access import ReviewItem, gate

        for iid, answer in validated.items():
            if items[iid].kind == "approval_level" and isinstance(answer, dict) and answer.get("approved"):
                validated[iid] = {**answer, "approver_id": principal.identity}
        review = {
            iid: ReviewItem.of(thread_id, match.graph_id, items[iid], metadata.get("requested_by")) for iid in validated
        }
        plan = gate(inbox, principal, review, validated, comment=comment)
        note = " ".join(plan.recorded.values()) or None
        if not plan.resume:  # only votes: the graph did not run, nothing new is pending
            return ResumeOutcome(status="waiting", thread_id=thread_id, note=note)
        validated = dict(plan.resume)
        items = {iid: items[iid] for iid in validated}

    store.claim(
        thread_id,
        list(validated),
        reviewer=reviewer,
        answers=validated,
        lease_seconds=inbox.settings.claim_lease_seconds,
        still_pending=lambda iid: iid in {i.id for i in store.pending_interrupts([thread_id])[thread_id] if i.answerable},
    )
    outcome = _run(inbox, graph, thread_id, items, validated, Command(resume=validated), reviewer, comment, action,
                   graph_id=match.graph_id)
    return replace(outcome, note=note) if note else outcome


def _run(
    inbox: Inbox,
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
    from hitl.inbox import ResumeOutcome

    started = time.time()
    result: dict[str, Any] = {}
    done = threading.Event()
    timed_out = threading.Event()
    # Decides, once, whether the caller (in time) or the worker (late) closes the resume.
    handover = threading.Lock()

    def run() -> None:
        try:
            # Keep graph_id in the new checkpoints' metadata, as the first run put it there:
            # without it a finished thread (or one paused at a node several graphs share)
            # can no longer be matched to its graph and turns read-only.
            config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
            if graph_id:
                config["metadata"] = {"graph_id": graph_id}
            graph.invoke(command, config)
        except BaseException as exc:  # recorded below; never silently lost
            result["error"] = exc
        finally:
            with handover:
                done.set()
                late = timed_out.is_set()
            if late:
                _finish(inbox, thread_id, items, validated, result, reviewer, comment, action, started, late=True)

    lease = inbox.settings.claim_lease_seconds

    def heartbeat() -> None:
        # While the graph runs, keep the claim's lease ahead of the clock: a resume that
        # outlives its lease would look like a dead desk's and could be taken over and run
        # twice. A desk that dies stops renewing, and its claim goes stale after one lease.
        while not done.wait(max(lease / 3, 0.05)):
            try:
                inbox.store.renew_claims(thread_id, list(validated), reviewer=reviewer, lease_seconds=lease)
            except HitlError:
                pass  # the next beat tries again; the lease is still running

    worker = threading.Thread(target=run, name=f"hitl-resume-{thread_id}", daemon=True)
    worker.start()
    threading.Thread(target=heartbeat, name=f"hitl-lease-{thread_id}", daemon=True).start()
    if not done.wait(inbox.settings.resume_timeout_seconds):
        with handover:
            if not done.is_set():
                timed_out.set()
                message = (
                    f"The graph did not finish within {inbox.settings.resume_timeout_seconds:g} s "
                    "(HITL_RESUME_TIMEOUT_SECONDS); it is still running and its result will be recorded "
                    "when it ends. The interrupt stays claimed until then."
                )
                _audit(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome="timeout", error=message)
                return ResumeOutcome(status="failed", error=message, thread_id=thread_id)
    return _finish(inbox, thread_id, items, validated, result, reviewer, comment, action, started, late=False)


def _finish(
    inbox: Inbox,
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
    from hitl.inbox import ResumeOutcome

    store = inbox.store
    error = result.get("error")
    if error is not None and is_invalid_resume(error):
        store.release_claims(thread_id, list(validated))
        if late:
            return ResumeOutcome(status="failed", error=str(error), thread_id=thread_id)
        raise InvalidAnswer(
            f"The graph refused the answer: {_pydantic_summary(error)}. Nothing was saved; "
            "correct the answer and submit again.",
            field_errors=_pydantic_field_errors(error),
        )
    if error is not None:
        message = f"{type(error).__name__}: {error}"
        store.finish_claims(thread_id, list(validated), state="failed")
        _audit(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome="failed", error=message)
        inbox.refresh()
        return ResumeOutcome(status="failed", error=message, thread_id=thread_id)
    store.finish_claims(thread_id, list(validated), state="done")
    remaining = [inbox._interrupt(item) for item in store.pending_interrupts([thread_id])[thread_id]]
    status = "waiting" if remaining else "completed"
    failed = store.failed_tasks(thread_id) if not remaining else []
    if failed:
        status = "failed"
    error_text = "; ".join(f"{node}: {text}" for node, text in failed) or None
    _audit(inbox, thread_id, items, validated, reviewer, comment, action, started, outcome=status, error=error_text)
    try:
        inbox.refresh()
    except HitlError:
        pass  # the index catches up on the next refresh; the decision is recorded
    new = [item for item in remaining if item.id not in validated]
    return ResumeOutcome(status=status, new_interrupts=new, error=error_text, thread_id=thread_id)


def _audit(
    inbox: Inbox,
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
    latest = inbox.store.latest_checkpoint(thread_id)
    metadata = latest[1] if latest else {}
    row = inbox.store.query(
        "SELECT waiting_since, graph_id FROM hitl_threads WHERE thread_id = ?", (thread_id,)
    )
    indexed_since = float(row[0][0]) if row else None
    graph_id = (row[0][1] if row else None) or metadata.get("graph_id")

    def waited(iid: str) -> float | None:
        # The interrupt's own checkpoint says when it began waiting, even for a thread the
        # index has not seen yet (decided straight after the agent paused).
        checkpoint_id = getattr(items[iid], "checkpoint_id", "")
        since = checkpoint_time(checkpoint_id).timestamp() if checkpoint_id else indexed_since
        return None if since is None else max(0.0, started - since)

    _record_decisions(
        inbox,
        [
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
    )


def _record_decisions(inbox: Inbox, rows: list[dict[str, Any]]) -> None:
    """Append decisions to the audit log, then tell the `Inbox.on_decided` hooks (webhooks)."""
    seqs = inbox.store.append_audit(rows)
    inbox._decided([{**row, "seq": seq} for row, seq in zip(rows, seqs)])


def retry(inbox: Inbox, thread_id: str, *, reviewer: str, comment: str = "") -> ResumeOutcome:
    """Run a failed thread's failed tasks again (`invoke(None)`), at most once at a time."""
    store = inbox.store
    latest = store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    raw = store.pending_interrupts([thread_id])[thread_id]
    failed = {item.id: inbox._interrupt(item) for item in raw if not item.answerable}
    if not failed and not store.failed_tasks(thread_id):
        raise InvalidAnswer(f"Thread {thread_id!r} has no failed task to retry.")
    match = inbox.registry.match(latest[1].get("graph_id"), [item.node for item in raw])
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be retried from the desk: {match.note}.")
    graph = inbox.registry.graph(match.graph_id)
    keys = list(failed) or [f"retry:{latest[0]}"]
    stored = {iid: (store.claim_of(thread_id, iid) or {}).get("answer") for iid in failed}
    store.claim(
        thread_id, keys, reviewer=reviewer, answers=stored, lease_seconds=inbox.settings.claim_lease_seconds,
        still_pending=lambda iid: True,
    )  # fmt: skip
    if not failed:
        failed = {keys[0]: inbox._interrupt(RawInterrupt(
            thread_id=thread_id, checkpoint_id=latest[0], task_id="", node=None, id=keys[0], value=None, response_schema=None,
        ))}  # fmt: skip
        stored = {keys[0]: None}
    return _run(inbox, graph, thread_id, failed, stored, None, reviewer, comment, "retry", graph_id=match.graph_id)


def resolve(inbox: Inbox, thread_id: str, *, reviewer: str, reason: str) -> None:
    """Close a thread without resuming it, recorded in the audit log."""
    from langgraph.graph import END

    if not reason or not reason.strip():
        raise InvalidAnswer("Marking a thread resolved needs a reason; it goes into the audit log.")
    latest = inbox.store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    _, metadata = latest
    raw = inbox.store.pending_interrupts([thread_id])[thread_id]
    match = inbox.registry.match(metadata.get("graph_id"), [item.node for item in raw])
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be changed from the desk: {match.note}.")
    graph = inbox.registry.graph(match.graph_id)
    ids = [item.id for item in raw] or [f"resolved:{thread_id}"]
    inbox.store.claim(
        thread_id, ids, reviewer=reviewer, answers={}, lease_seconds=inbox.settings.claim_lease_seconds,
        still_pending=lambda iid: True,
    )  # fmt: skip
    started = time.time()
    try:
        graph.update_state(
            {"configurable": {"thread_id": thread_id},
             "metadata": {"hitl_resolved": reason, "hitl_reviewer": reviewer, "graph_id": match.graph_id}},
            None,
            as_node=END,
        )
    except Exception as exc:
        inbox.store.finish_claims(thread_id, ids, state="failed")
        raise HitlError(f"Could not mark thread {thread_id!r} resolved: {type(exc).__name__}: {exc}") from exc
    inbox.store.finish_claims(thread_id, ids, state="done")
    items = {item.id: inbox._interrupt(item) for item in raw}
    _record_decisions(
        inbox,
        [
            {
                "thread_id": thread_id,
                "interrupt_id": iid,
                "graph_id": match.graph_id,
                "kind": items[iid].kind if iid in items else None,
                "action": "resolve",
                "payload": items[iid].value if iid in items else None,
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
    )
    inbox.refresh()


def recover_stale_claims(inbox: Inbox, *, resubmit: bool = False) -> list[tuple[str, str, str]]:
    """Settle claims whose desk died mid-resume. Returns (thread, interrupt, result).

    Still pending in the checkpointer → the claim is released (answerable again, the
    stored answer is in the audit log as `abandoned`); no longer pending → the resume did
    commit: the claim is closed and the decision recorded as `recovered`, exactly once.
    With `resubmit`, an abandoned claim's stored answer is then resumed again under its
    original reviewer (action "recovery"), through a fresh claim: exactly once, and
    `AlreadyDecided` if someone answered it meanwhile.
    """
    store = inbox.store
    settled = []
    for thread_id, interrupt_id in store.stale_claims():
        claim = store.claim_of(thread_id, interrupt_id)
        if claim is None or claim["state"] != "claimed":
            continue
        pending = {item.id for item in store.pending_interrupts([thread_id])[thread_id]}
        still = interrupt_id in pending
        with store.connection(write=True) as conn:
            changed = conn.execute(
                store.dialect.sql(
                    "UPDATE hitl_claims SET state = ?, finished_at = ? WHERE thread_id = ? AND interrupt_id = ? "
                    "AND state = 'claimed' AND lease_until < ?"
                ),
                ("failed" if still else "recovered", time.time(), thread_id, interrupt_id, time.time()),
            ).rowcount
        if not changed:
            continue
        outcome = "abandoned" if still else "recovered"
        store.append_audit(
            [
                {
                    "thread_id": thread_id,
                    "interrupt_id": interrupt_id,
                    "action": "recovery",
                    "answer": claim["answer"],
                    "reviewer": claim["reviewer"],
                    "comment": "claim lease expired before the resume finished",
                    "decided_at": time.time(),
                    "outcome": outcome,
                }
            ]
        )
        if still and resubmit:
            outcome = _resubmit(inbox, thread_id, interrupt_id, claim)
        settled.append((thread_id, interrupt_id, outcome))
    return settled


def _resubmit(inbox: Inbox, thread_id: str, interrupt_id: str, claim: dict[str, Any]) -> str:
    try:
        outcome = resume(
            inbox, thread_id, {interrupt_id: claim["answer"]}, reviewer=claim["reviewer"],
            comment="resubmitted: the desk that took this decision died before the resume finished",
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
