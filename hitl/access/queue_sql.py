"""The SQL predicate of "my queue": what a principal may decide, mirroring `AccessPolicy.can_decide`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from hitl.domain import Principal
from hitl.store import like_escape
from hitl.access.names import match_key
from hitl.access.policy import AccessPolicy
from hitl.access.rules import Selector


def _in(column: str, values: Sequence[str], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({','.join('?' for _ in values)})"


def _match_sql(selector: Selector, params: list[Any]) -> str:
    parts = []
    if selector.graphs:
        parts.append(_in("t.graph_id", selector.graphs, params))
    if selector.kinds:
        parts.append(_in("f.kind", selector.kinds, params))
    if selector.tools:
        likes = []
        for tool in selector.tools:
            likes.append("f.tools LIKE ? ESCAPE '\\'")
            params.append(f"%,{like_escape(match_key(tool))},%")
        parts.append("(" + " OR ".join(likes) + ")")
    return "(" + " AND ".join(parts) + ")" if parts else "(1 = 1)"


def decidable_sql(policy: AccessPolicy, principal: Principal, params: list[Any]) -> str:
    """A predicate over `f` (hitl_access_facts) and `t` (hitl_threads): the principal may
    decide this interrupt and has not voted on it. Mirrors `AccessPolicy.can_decide`."""
    clauses = []
    if policy.enabled:
        for rule in policy.rules:
            if not rule.roles & principal.roles:
                clauses.append("NOT " + _match_sql(rule, params))
        if policy.approval_levels:
            if principal.roles:
                clauses.append("(f.level IS NULL OR " + _in("f.level", sorted(principal.roles), params) + ")")
            else:
                clauses.append("f.level IS NULL")
        if policy.default == "deny":
            covered = [_match_sql(rule, params) for rule in policy.rules]
            if policy.approval_levels:
                covered.append("f.level IS NOT NULL")
            clauses.append("(" + " OR ".join(covered or ["1 = 0"]) + ")")
    if policy.four_eyes:
        # Own requests are not in the queue: there is nothing to approve there (a requester
        # may still open and reject them by link).
        clauses.append("(f.requested_by IS NULL OR f.requested_by <> ?)")
        params.append(match_key(principal.identity))
    clauses.append(
        "NOT EXISTS (SELECT 1 FROM hitl_votes v WHERE v.thread_id = f.thread_id "
        "AND v.interrupt_id = f.interrupt_id AND v.voter = ?)"
    )
    params.append(principal.key)
    return " AND ".join(clauses)
