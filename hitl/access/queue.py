"""\"My queue\": the predicate of what a principal may decide, mirroring `AccessPolicy.can_decide`."""

from __future__ import annotations

from typing import Any
from hitl.domain import Principal
from hitl.storage.access_sql import Selection, decidable_predicate
from hitl.access.names import match_key
from hitl.access.policy import AccessPolicy
from hitl.access.rules import Selector


def _selection(selector: Selector) -> Selection:
    return selector.graphs, selector.kinds, [match_key(tool) for tool in selector.tools]


def decidable_sql(policy: AccessPolicy, principal: Principal, params: list[Any]) -> str:
    """A predicate over `f` (hitl_access_facts) and `t` (hitl_threads): the principal may
    decide this interrupt and has not voted on it. Mirrors `AccessPolicy.can_decide`."""
    enabled = policy.enabled
    return decidable_predicate(
        params,
        refused=[_selection(rule) for rule in policy.rules if not rule.roles & principal.roles] if enabled else [],
        levels=sorted(principal.roles) if enabled and policy.approval_levels else None,
        covered=[_selection(rule) for rule in policy.rules] if enabled and policy.default == "deny" else None,
        levels_cover=policy.approval_levels,
        requester_key=match_key(principal.identity) if policy.four_eyes else None,
        voter=principal.key,
    )
