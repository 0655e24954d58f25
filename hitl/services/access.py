"""Access use cases over an open desk: quorum votes, the access facts and "my queue".

The rules themselves (who may see and decide what) are `hitl.access`; this module applies
them to a desk's database: `gate` records quorum votes before a resume, `sync_facts` keeps
`hitl_access_facts` in step with the index, `my_queue` pages what a principal may decide.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hitl.access.answers import agreement_key, approves
from hitl.access.items import ReviewItem
from hitl.access.names import match_key
from hitl.access.queue import decidable_sql
from hitl.access.rules import QuorumRule
from hitl.access.requesters import thread_requesters
from hitl.access.voting import votes
from hitl.domain import Principal
from hitl.desk import Desk
from hitl.errors import InvalidAnswer, NotAuthorized
from hitl.domain import Page
from hitl.reading import pending_interrupt, pending_thread, waiting_page
from hitl.storage.access_sql import (
    count_threads,
    drop_facts_not_waiting,
    ensure_access_tables,
    insert_vote,
    replace_facts,
    stale_fact_threads,
    thread_page_rows,
)
from hitl.storage.threads_sql import indexed_threads
from hitl.store import Store, decode_cursor, encode_cursor

__all__ = ["QuorumPlan", "gate", "sync_facts", "my_queue"]


@dataclass(frozen=True, kw_only=True)
class QuorumPlan:
    """What `gate` decided for one resume call."""

    resume: dict[str, Any]
    """Answers to resume the graph with now (quorum reached, rejections, items without quorum)."""

    recorded: dict[str, str] = field(default_factory=dict)
    """interrupt_id -> note, for votes recorded without resuming."""


def gate(
    desk: Desk,
    principal: Principal,
    items: Mapping[str, ReviewItem],
    validated: Mapping[str, Any],
    *,
    comment: str = "",
) -> QuorumPlan:
    """Authorize answers and apply quorum; returns which answers resume the graph now.

    Raises:
        NotAuthorized: a role, four-eyes or repeated-vote refusal; nothing recorded.
        InvalidAnswer: an approval disagrees with the calls approved by earlier votes.
    """
    policy = desk.access
    policy.authorize(principal, items.values(), answers=validated)
    governed = {iid: policy.quorum_for(items[iid], validated[iid]) for iid in validated}
    if not any(governed.values()):
        return QuorumPlan(resume=dict(validated))
    ensure_access_tables(desk.store)
    now = time.time()
    quorum = {iid: (items[iid], validated[iid], rule) for iid, rule in governed.items() if rule is not None}
    for iid, vote, answer, key in _new_votes(desk.store, principal, quorum):
        inserted = insert_vote(
            desk.store, thread_id=items[iid].thread_id, interrupt_id=iid, voter=principal.key, vote=vote,
            answer_json=json.dumps(answer, default=str), agreement=key, comment=comment or "", voted_at=now,
        )  # fmt: skip
        if not inserted:
            raise NotAuthorized(
                f"{principal.identity} already voted on {items[iid].describe()}; each identity votes once."
            )
    resume_now, recorded = _tally(desk.store, principal, quorum)
    resume_now = {iid: answer for iid, answer in validated.items() if iid not in quorum or iid in resume_now}
    if recorded:
        _audit_votes(desk, principal, items, validated, recorded, comment, now)
    return QuorumPlan(resume=resume_now, recorded=recorded)


_Quorum = Mapping[str, tuple[ReviewItem, Any, QuorumRule]]
"""interrupt_id -> (item, answer, the quorum rule governing it), for the answers under a quorum."""


def _new_votes(store: Store, principal: Principal, quorum: _Quorum) -> list[tuple[str, str, Any, str | None]]:
    """(interrupt, "approve" | "reject", answer, agreement key) of the votes to record, checked
    against the earlier votes: one vote per identity, approvals agreeing on the calls."""
    pending_votes: list[tuple[str, str, Any, str | None]] = []
    for iid, (item, answer, rule) in quorum.items():
        approving = approves(item.kind, item.value, answer, item.contract)
        earlier = votes(store, item.thread_id, iid)
        approvals = [v for v in earlier if v.vote == "approve"]
        mine = next((v for v in earlier if v.voter.lower() == principal.key), None)
        if mine is not None and not (approving and len(approvals) >= rule.approvals):
            raise NotAuthorized(
                f"{principal.identity} already voted ({mine.vote}) on {item.describe()}; a quorum needs "
                f"{rule.approvals} distinct approvers, and each identity votes once."
            )
        key = agreement_key(item, answer)
        if approving and key is not None:
            differing = [v for v in approvals if v.agreement not in (None, key)]
            if differing:
                raise InvalidAnswer(
                    f"{differing[0].voter} approved different tool calls or arguments for {item.describe()}. "
                    "Approvals under a quorum must agree: approve the calls as they approved them, or reject.",
                    field_errors={iid: "differs from the approvals already given"},
                )
        if mine is None:
            pending_votes.append((iid, "approve" if approving else "reject", answer, key))
    return pending_votes


def _tally(store: Store, principal: Principal, quorum: _Quorum) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers under a quorum that resume the graph now (quorum reached, or a rejection
    that ends it), and a note for each vote recorded without resuming."""
    resume_now: dict[str, Any] = {}
    recorded: dict[str, str] = {}
    for iid, (item, answer, rule) in quorum.items():
        tally = votes(store, item.thread_id, iid)
        approvals = sum(1 for v in tally if v.vote == "approve")
        rejected = not approves(item.kind, item.value, answer, item.contract)
        if rejected and rule.reject_ends:
            resume_now[iid] = answer
        elif not rejected and approvals >= rule.approvals:
            resume_now[iid] = answer
        else:
            needed = max(rule.approvals - approvals, 0)
            verb = "Rejection" if rejected else "Approval"
            why = rule.why(item, answer) or ""
            recorded[iid] = (
                f"{verb} by {principal.identity} recorded as a vote: {approvals} of {rule.approvals} approvals; "
                f"{needed} more distinct approver{'s' if needed != 1 else ''} needed before the graph resumes."
                + (f" The quorum applies because {why}." if "fails closed" in why else "")
            )
    return resume_now, recorded


def _audit_votes(
    desk: Desk,
    principal: Principal,
    items: Mapping[str, ReviewItem],
    validated: Mapping[str, Any],
    recorded: Mapping[str, str],
    comment: str,
    now: float,
) -> None:
    thread_id = next(iter(items.values())).thread_id
    waiting_since = indexed_threads(desk.store, [thread_id]).get(thread_id, (None, None))[0]
    desk.store.append_audit(
        [
            {
                "thread_id": items[iid].thread_id,
                "interrupt_id": iid,
                "graph_id": items[iid].graph_id,
                "kind": items[iid].kind,
                "action": "vote",
                "payload": items[iid].value,
                "answer": validated[iid],
                "reviewer": principal.identity,
                "comment": comment,
                "decided_at": now,
                "waited_seconds": (now - waiting_since) if waiting_since else None,
                "outcome": "voted",
                "error": note,
            }
            for iid, note in recorded.items()
        ]
    )


def sync_facts(desk: Desk, *, batch: int = 500) -> int:
    """Rebuild `hitl_access_facts` for waiting threads whose pending interrupts changed.

    Tool names are kept as `normalized_name` reads them, case-folded, as the rules match
    them; the requester is the thread's pinned one (`thread_requesters`). Returns how many
    threads were (re)decoded.
    """
    store = desk.store
    ensure_access_tables(store)
    stale = stale_fact_threads(store)
    done = 0
    for start in range(0, len(stale), batch):
        chunk = stale[start : start + batch]
        ids = [row[0] for row in chunk]
        decoded = store.listed_interrupts(ids)
        requesters = thread_requesters(store, ids, latest=store.listed_metadata(ids))
        rows = []
        for thread_id, source_key, graph_id in chunk:
            for raw in decoded.get(thread_id, []):
                if not raw.answerable:
                    continue
                pending = pending_interrupt(raw)
                item = ReviewItem.of(thread_id, graph_id, pending, requesters.get(thread_id))
                tools = dict.fromkeys(match_key(tool) for tool in item.tools)
                rows.append(
                    (
                        thread_id, raw.id, source_key, item.kind, "," + ",".join(tools) + ",",
                        item.level, match_key(item.requested_by) if item.requested_by else None,
                    )  # fmt: skip
                )
        replace_facts(store, ids, rows)
        done += len(chunk)
    if stale:
        drop_facts_not_waiting(store)
    return done


def my_queue(
    desk: Desk,
    principal: Principal,
    *,
    limit: int = 50,
    cursor: str | None = None,
    graph_id: str | None = None,
    kind: str | None = None,
    search: str | None = None,
    waiting_longer_than: float | None = None,
    newest_first: bool = False,
) -> Page:
    """The page of waiting threads with at least one interrupt this principal may decide.

    `Page.total` counts those threads; `Page.waiting_on_others` the other waiting threads
    under the same filters. Counting and filtering are SQL; only the page is decoded.
    """
    store = desk.store
    if store.read_only:
        # Nothing can be decided on a read-only database, and the facts table cannot be
        # kept there: list unfiltered; opening an item still checks access.
        return waiting_page(
            store, limit=limit, cursor=cursor, graph_id=graph_id, kind=kind, search=search,
            waiting_longer_than=waiting_longer_than, newest_first=newest_first,
        )  # fmt: skip
    sync_facts(desk)
    where, params = store.thread_filter(
        alias="t", status="waiting", graph_id=graph_id, kind=kind, search=search, waiting_longer_than=waiting_longer_than
    )
    all_total = count_threads(store, where, params)
    mine_params = list(params)
    decidable = decidable_sql(desk.access, principal, mine_params)
    total = count_threads(store, where, mine_params, decidable=decidable)
    rows = thread_page_rows(
        store, where, mine_params, decidable=decidable, after=decode_cursor(cursor) if cursor else None,
        newest_first=newest_first, limit=limit + 1,
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r[0] for r in rows]
    listed, _, _ = store.list_threads(status="waiting", thread_ids=ids, limit=max(len(ids), 1), newest_first=newest_first)
    by_id = {row.thread_id: row for row in listed}
    decoded = store.listed_interrupts(ids)
    items = [pending_thread(by_id[tid], decoded.get(tid, [])) for tid in ids if tid in by_id]
    next_cursor = encode_cursor(float(rows[-1][1]), rows[-1][0]) if more and rows else None
    return Page(items=items, next_cursor=next_cursor, total=total, waiting_on_others=all_total - total)
