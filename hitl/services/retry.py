"""Run a failed thread again, or an outcome-unknown decision with its original answers."""

from __future__ import annotations

from typing import Any
from langgraph.types import Command
from hitl.errors import InvalidAnswer, ThreadNotFound, UnknownGraph
from hitl.outcome import UnknownOutcome
from hitl.access import audit_context, thread_requesters
from hitl.desk import Desk
from hitl.domain import PendingInterrupt, ResumeOutcome
from hitl.reading import pending_interrupt
from hitl.store import RawInterrupt
from hitl.services.resume_one import run_resume
from hitl.services.stale_claims import settle_stale_claims
from hitl.services.unknown import unknown_outcome


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
    settle_stale_claims(inbox, thread_ids=[thread_id])  # a dead desk's running claim: outcome unknown first
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
    return run_resume(inbox, graph, thread_id, failed, stored, None, reviewer, comment, "retry", graph_id=graph_id)


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
    return run_resume(inbox, graph, thread_id, items, answers, command, reviewer, f"{comment} ({note})" if comment else note,
                "retry", graph_id=graph_id)  # fmt: skip


def _interrupt_of_record(inbox: Desk, thread_id: str, interrupt_id: str) -> PendingInterrupt:
    """An interrupt no longer pending, as the audit log and the thread's checkpoints tell it
    (kind and payload, for the audit row and `[access]`)."""
    context = audit_context(inbox.store, thread_id, interrupt_id)
    return pending_interrupt(RawInterrupt(
        thread_id=thread_id, checkpoint_id="", task_id="", node=None, id=interrupt_id, value=context.get("payload"),
        response_schema=None,
    ))  # fmt: skip
