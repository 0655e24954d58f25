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
from hitl.access.queue_sql import decidable_sql
from hitl.access.requesters import thread_requesters
from hitl.access.votes import ensure_tables, votes
from hitl.domain import Principal
from hitl.desk import Desk
from hitl.errors import InvalidAnswer, NotAuthorized
from hitl.domain import Page
from hitl.reading import pending_interrupt, pending_thread, waiting_page
from hitl.store import decode_cursor, encode_cursor

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
    ensure_tables(desk.store)
    store = desk.store
    resume_now: dict[str, Any] = {}
    recorded: dict[str, str] = {}
    pending_votes: list[tuple[str, str, Any, str | None]] = []
    for iid, answer in validated.items():
        rule = governed[iid]
        if rule is None:
            resume_now[iid] = answer
            continue
        item = items[iid]
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
    now = time.time()
    for iid, vote, answer, key in pending_votes:
        with store.connection(write=True) as conn:
            inserted = conn.execute(
                store.dialect.sql(
                    "INSERT INTO hitl_votes (thread_id, interrupt_id, voter, vote, answer, agreement, comment, voted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id, voter) DO NOTHING"
                ),
                (items[iid].thread_id, iid, principal.key, vote, json.dumps(answer, default=str), key, comment or "", now),
            ).rowcount
        if not inserted:
            raise NotAuthorized(
                f"{principal.identity} already voted on {items[iid].describe()}; each identity votes once."
            )
    for iid, answer in validated.items():
        rule = governed[iid]
        if rule is None:
            continue
        item = items[iid]
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
    if recorded:
        _audit_votes(desk, principal, items, validated, recorded, comment, now)
    return QuorumPlan(resume=resume_now, recorded=recorded)


def _audit_votes(
    desk: Desk,
    principal: Principal,
    items: Mapping[str, ReviewItem],
    validated: Mapping[str, Any],
    recorded: Mapping[str, str],
    comment: str,
    now: float,
) -> None:
    rows = desk.store.query("SELECT waiting_since FROM hitl_threads WHERE thread_id = ?", (next(iter(items.values())).thread_id,))
    waiting_since = float(rows[0][0]) if rows else None
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


def _facts_key_sql() -> str:
    # The leading version makes facts written by an older desk stale once, so they are
    # rebuilt with what this one keeps (normalised tool names, pinned requesters).
    return "'f3|' || t.checkpoint_id || '|' || t.interrupt_ids"


def sync_facts(desk: Desk, *, batch: int = 500) -> int:
    """Rebuild `hitl_access_facts` for waiting threads whose pending interrupts changed.

    Tool names are kept as `normalized_name` reads them, case-folded, as the rules match
    them; the requester is the thread's pinned one (`thread_requesters`). Returns how many
    threads were (re)decoded.
    """
    store = desk.store
    ensure_tables(store)
    stale = store.query(
        f"SELECT t.thread_id, {_facts_key_sql()}, t.graph_id FROM hitl_threads t WHERE t.status = 'waiting' "
        "AND NOT EXISTS (SELECT 1 FROM hitl_access_facts f WHERE f.thread_id = t.thread_id "
        f"AND f.source_key = {_facts_key_sql()})"
    )
    done = 0
    for start in range(0, len(stale), batch):
        chunk = stale[start : start + batch]
        ids = [row[0] for row in chunk]
        decoded = store.listed_interrupts(ids)
        requesters = thread_requesters(store, ids)
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
        with store.connection(write=True) as conn:
            for thread_id in ids:
                conn.execute(store.dialect.sql("DELETE FROM hitl_access_facts WHERE thread_id = ?"), (thread_id,))
            for row in rows:
                conn.execute(
                    store.dialect.sql(
                        "INSERT INTO hitl_access_facts (thread_id, interrupt_id, source_key, kind, tools, level, "
                        "requested_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id) DO UPDATE SET "
                        "source_key = excluded.source_key, kind = excluded.kind, tools = excluded.tools, "
                        "level = excluded.level, requested_by = excluded.requested_by"
                    ),
                    row,
                )
        done += len(chunk)
    if stale:
        store.execute_write(
            "DELETE FROM hitl_access_facts WHERE thread_id NOT IN "
            "(SELECT thread_id FROM hitl_threads WHERE status = 'waiting')"
        )
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
    all_total = int(store.query("SELECT COUNT(*) FROM hitl_threads t WHERE " + " AND ".join(where), params)[0][0])
    mine_params = list(params)
    mine = (
        " AND EXISTS (SELECT 1 FROM hitl_access_facts f WHERE f.thread_id = t.thread_id AND "
        + decidable_sql(desk.access, principal, mine_params)
        + ")"
    )
    base = "FROM hitl_threads t WHERE " + " AND ".join(where) + mine
    total = int(store.query("SELECT COUNT(*) " + base, mine_params)[0][0])
    page_sql, page_params = base, list(mine_params)
    op, order = ("<", "DESC") if newest_first else (">", "ASC")
    if cursor:
        since, after = decode_cursor(cursor)
        page_sql += f" AND (t.waiting_since {op} ? OR (t.waiting_since = ? AND t.thread_id {op} ?))"
        page_params.extend([since, since, after])
    rows = store.query(
        f"SELECT t.thread_id, t.waiting_since {page_sql} ORDER BY t.waiting_since {order}, t.thread_id {order} LIMIT ?",
        [*page_params, limit + 1],
    )
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r[0] for r in rows]
    listed, _, _ = store.list_threads(status="waiting", thread_ids=ids, limit=max(len(ids), 1), newest_first=newest_first)
    by_id = {row.thread_id: row for row in listed}
    decoded = store.listed_interrupts(ids)
    items = [pending_thread(by_id[tid], decoded.get(tid, [])) for tid in ids if tid in by_id]
    next_cursor = encode_cursor(float(rows[-1][1]), rows[-1][0]) if more and rows else None
    return Page(items=items, next_cursor=next_cursor, total=total, waiting_on_others=all_total - total)
