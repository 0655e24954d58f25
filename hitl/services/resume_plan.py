"""Check a resume's answers against the thread's pending interrupts, its graph, contracts and access rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from hitl import contracts
from hitl.kinds import kind_of
from hitl.errors import AlreadyDecided, InvalidAnswer, NotAuthorized, UnknownGraph
from hitl.outcome import OutcomeUnknown
from hitl.access import ReviewItem, thread_requesters
from hitl.desk import Desk
from hitl.domain import PendingInterrupt
from hitl.reading import pending_interrupt
from hitl.services.access import gate
from hitl.store import RawInterrupt
from hitl.services.unknown import unknown_outcome


@dataclass(frozen=True)
class ResumePlan:
    """One thread's answers, checked and authorized, ready to be claimed."""

    graph: Any
    graph_id: str
    items: dict[str, PendingInterrupt]
    validated: dict[str, Any]
    """The answers that resume the graph now (empty when they were all recorded as quorum votes)."""
    note: str | None = None


def check_answers(answers: Any) -> None:
    if not isinstance(answers, dict) or not answers:
        raise InvalidAnswer("Give at least one answer as {interrupt_id: answer}.")


def reviewer_of(reviewer: str, principal: Any) -> str:
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


def plan_resume(
    inbox: Desk,
    thread_id: str,
    answers: dict[str, Any],
    raw: list[RawInterrupt],
    metadata: dict[str, Any],
    *,
    comment: str,
    principal: Any,
) -> ResumePlan:
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
    return ResumePlan(graph=graph, graph_id=match.graph_id, items=items, validated=validated, note=note)


def still_pending(store: Any, thread_id: str, interrupt_id: str) -> bool:
    return interrupt_id in {i.id for i in store.pending_interrupts([thread_id])[thread_id] if i.answerable}
