"""The sweep: apply each expired interrupt's policy (reject, approve, escalate), exactly once across desks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from hitl import contracts
from hitl.services.resolve import resolve as resolve_thread
from hitl.services.resume_one import resume as resume_thread
from hitl.access import audit_context
from hitl.desk import Desk
from hitl.domain import PendingThread
from hitl.reading import pending_interrupt, pending_thread
from hitl.durations import format_duration
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, StoreError, UnknownGraph
from hitl.policy.deadlines import DeadlineInfo, interrupt_deadlines, moment_of
from hitl.policy.timeouts import SYSTEM_REVIEWER, TimeoutPolicy, policies_of
from hitl.storage.deadlines import ensure_deadline_tables, insert_escalation


def _watched_threads(inbox: Desk, policies: Sequence[TimeoutPolicy]) -> Iterator[list[PendingThread]]:
    """Pages of waiting threads a policy may cover (every graph when a policy has none)."""
    graphs: list[str | None] = [None]
    if all(p.graph for p in policies):
        graphs = list(dict.fromkeys(p.graph for p in policies))
    for graph_id in graphs:
        cursor = None
        while True:
            rows, cursor, _ = inbox.store.list_threads(status="waiting", limit=200, cursor=cursor, graph_id=graph_id)
            decoded = inbox.store.pending_interrupts([row.thread_id for row in rows])
            page = [pending_thread(row, decoded.get(row.thread_id, [])) for row in rows]
            # Threads the desk cannot resume (unknown graph, import error) stay for a human.
            yield [t for t in page if t.read_only_reason is None]
            if cursor is None:
                break


def sweep(inbox: Desk, *, now: datetime | float | None = None, dry_run: bool = False) -> Iterator[str]:
    """Apply the timeout policies to every expired interrupt; yields one line per action.

    Reject and approve are one-click answers (`quick_answer`) resumed as reviewer
    `system:timeout` (action "timeout", comment "expired after 24h") through the claim, so
    they are exactly-once against a reviewer answering at the same moment: whoever claims
    first wins. Escalation records
    the next level in `hitl_escalations` and the audit log (action "escalate").

    Args:
        inbox: the desk.
        now: the time to sweep at (tests); default the current time.
        dry_run: report what would happen, change nothing.
    """
    policies = policies_of(inbox)
    if not policies:
        yield "no timeout policies configured ([[timeouts]] in HITL_CONFIG): nothing to do"
        return
    if inbox.store.read_only and not dry_run:
        yield f"the database {inbox.store.display_url} is read-only: reporting only, nothing applied"
        dry_run = True
    moment = moment_of(now)
    inbox.refresh()
    expired: list[DeadlineInfo] = []
    watched = 0
    for page in _watched_threads(inbox, policies):
        infos = interrupt_deadlines(inbox, page, now=moment)
        watched += len(infos)
        expired += [info for info in infos.values() if info.expired]
    expired.sort(key=lambda info: info.deadline)
    counts = {"rejected": 0, "approved": 0, "escalated": 0, "skipped": 0}
    for info in expired:
        try:
            verb, line = apply_expiry(inbox, info, moment=moment, dry_run=dry_run)
        except StoreError as exc:
            yield f"error: {exc} (sweep stopped; run it again once the database is available)"
            counts["skipped"] += 1
            break
        counts[verb] = counts.get(verb, 0) + 1
        yield line
    prefix = "dry run: " if dry_run else ""
    yield (
        f"{prefix}{len(expired)} expired of {watched} waiting under a policy: {counts['rejected']} rejected, "
        f"{counts['approved']} approved, {counts['escalated']} escalated, {counts['skipped']} skipped"
    )


def apply_expiry(inbox: Desk, info: DeadlineInfo, *, moment: float, dry_run: bool) -> tuple[str, str]:
    """Apply one expired interrupt's policy; returns (counter, line)."""
    label = f"{info.thread_id} {info.interrupt_id[:12]} ({info.graph_id or '?'}/{info.kind})"
    overdue = max(1.0, -info.seconds_left)
    late = format_duration(round(overdue / 60) * 60 if overdue >= 600 else overdue)
    # Re-read just before acting: a reviewer may have answered or extended it meanwhile.
    fresh = interrupt_deadlines(inbox, [info.thread_id], now=moment).get((info.thread_id, info.interrupt_id))
    if fresh is None or not fresh.expired:
        return "skipped", f"{label}: answered or extended meanwhile; left alone"
    info = fresh
    policy = info.policy
    target = policy.next_level(info.level) if policy.on_expire == "escalate" else None
    if policy.on_expire == "escalate" and target is not None:
        if dry_run:
            return "escalated", f"{label}: expired {late} ago at level {info.level or '-'}: would escalate to {target}"
        return escalate(inbox, info, target, moment=moment, label=label)
    approve = (policy.on_expire_final if policy.on_expire == "escalate" else policy.on_expire) == "approve"
    verb = "approve" if approve else "reject"
    if dry_run:
        return ("approved" if approve else "rejected"), f"{label}: expired {late} ago: would {verb}"
    comment = f"expired after {format_duration(policy.expire_after)}"
    if policy.on_expire == "escalate":
        comment += f" at the last level ({info.level})"
    try:
        outcome = _decide_as_system(inbox, info, approve=approve, comment=comment)
    except AlreadyDecided as exc:
        return "skipped", f"{label}: {exc}"
    except UnknownGraph as exc:
        return "skipped", f"{label}: cannot be resumed from the desk ({exc}); left for a human"
    except InvalidAnswer as exc:
        if approve:
            return "skipped", f"{label}: cannot be approved automatically ({exc}); left pending for a human"
        return _resolve_instead(inbox, info, comment, label, reason=str(exc))
    if outcome is None:
        return "skipped", f"{label}: answered meanwhile; left alone"
    result = f"{verb}ed" if verb == "reject" else "approved"
    note = f": {outcome.error}" if outcome.error else ""
    return ("approved" if approve else "rejected"), f"{label}: expired {late} ago: {result} (graph {outcome.status}{note})"


def _decide_as_system(inbox: Desk, info: DeadlineInfo, *, approve: bool, comment: str) -> Any:
    """One-click answer as `system:timeout`, through the claim; None if no longer pending.

    Calls `hitl.services.resume_one` directly rather than `Inbox.decide`: the sweeper is not a signed-in
    reviewer (in login mode the Inbox would ask the UI's session for one), and the policy
    it applies was configured by whoever wrote HITL_CONFIG.
    """
    pending = [i for i in inbox.store.pending_interrupts([info.thread_id])[info.thread_id] if i.answerable]
    raw = next((i for i in pending if i.id == info.interrupt_id), None)
    if raw is None:
        return None
    item = pending_interrupt(raw)
    answer = contracts.quick(
        inbox.contract(item, info.graph_id), item.kind, item.value, approve=approve, comment=comment,
        reviewer=SYSTEM_REVIEWER, response_schema=item.response_schema,
    )  # fmt: skip
    return resume_thread(
        inbox, info.thread_id, {item.id: answer}, reviewer=SYSTEM_REVIEWER, comment=comment, action="timeout"
    )


def _resolve_instead(inbox: Desk, info: DeadlineInfo, comment: str, label: str, *, reason: str) -> tuple[str, str]:
    """Fail closed for a kind that has no one-click reject: close the thread, run nothing."""
    pending = [i for i in inbox.store.pending_interrupts([info.thread_id])[info.thread_id] if i.answerable]
    if len(pending) > 1:
        return "skipped", f"{label}: no one-click reject for this kind ({reason}) and other interrupts are pending; left for a human"
    try:
        resolve_thread(inbox, info.thread_id, reviewer=SYSTEM_REVIEWER, reason=f"{comment}; no one-click reject for kind {info.kind}")
    except HitlError as exc:
        return "skipped", f"{label}: could not close it ({exc}); left for a human"
    return "rejected", f"{label}: expired: no one-click reject for kind {info.kind}; thread marked resolved (nothing ran)"


def escalate(inbox: Desk, info: DeadlineInfo, target: str, *, moment: float, label: str) -> tuple[str, str]:
    store = inbox.store
    ensure_deadline_tables(store)
    comment = (
        f"no decision within {format_duration(info.policy.expire_after)} at level {info.level or '(unassigned)'}; "
        f"escalated to {target}"
    )
    with store.connection(write=True):
        inserted = insert_escalation(
            store, thread_id=info.thread_id, interrupt_id=info.interrupt_id, level=target, from_level=info.level,
            escalated_at=moment, reviewer=SYSTEM_REVIEWER,
        )  # fmt: skip
        if not inserted:
            return "skipped", f"{label}: already escalated to {target} (another sweeper)"
        store.append_audit(
            [
                {
                    "thread_id": info.thread_id,
                    "interrupt_id": info.interrupt_id,
                    "graph_id": info.graph_id,
                    "kind": info.kind,
                    "payload": audit_context(store, info.thread_id, info.interrupt_id).get("payload"),  # for [access]
                    "action": "escalate",
                    "answer": {"from_level": info.level, "to_level": target},
                    "reviewer": SYSTEM_REVIEWER,
                    "comment": comment,
                    "decided_at": moment,
                    "waited_seconds": moment - info.started_at.timestamp(),
                    "outcome": "escalated",
                }
            ]
        )
    return "escalated", f"{label}: {comment}; new deadline in {format_duration(info.policy.expire_after)}"
