"""The `[access]` rules: selectors over graph, kind and tool; role rules, quorum rules, identity mappings."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from hitl.amounts import read_amount
from hitl.access.answers import approved_calls
from hitl.access.items import ReviewItem
from hitl.access.names import match_key, name_list, shown_name


@dataclass(frozen=True, kw_only=True)
class Selector:
    graphs: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()

    def matches(self, item: ReviewItem, answer: Any = None) -> bool:
        """Whether the item is selected: its graph, kind, and the tools its payload proposes
        or its `answer` approves (names compared normalised, see `normalized_name`)."""
        if self.graphs and match_key(item.graph_id or "") not in {match_key(g) for g in self.graphs}:
            return False
        if self.kinds and item.kind not in self.kinds:
            return False
        if self.tools and not {match_key(t) for t in self.tools} & tool_keys(item, answer):
            return False
        return True

    def describe(self) -> str:
        parts = []
        if self.tools:
            parts.append("tool " + "/".join(self.tools))
        if self.kinds:
            parts.append("kind " + "/".join(self.kinds))
        if self.graphs:
            parts.append("graph " + "/".join(self.graphs))
        return " in ".join(parts) or "every item"

    @staticmethod
    def parse(entry: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
        return {
            "graphs": name_list(entry.get("graph", entry.get("graphs")), "graph", where),
            "kinds": name_list(entry.get("kind", entry.get("kinds")), "kind", where),
            "tools": name_list(entry.get("tool", entry.get("tools")), "tool", where),
        }


def tool_keys(item: ReviewItem, answer: Any = None) -> set[str]:
    """Match keys of the tools the payload proposes plus those the answer approves."""
    keys = {match_key(name) for name in item.tools}
    if answer is not None:
        keys |= {match_key(str(call.get("name"))) for call in answer_calls(item, answer)}
    return keys


def answer_calls(item: ReviewItem, answer: Any) -> list[dict[str, Any]]:
    """The calls `answer` lets run; [] when it approves none or cannot be read (an audit
    row's answer is not validated)."""
    try:
        return approved_calls(item.kind, item.value, answer, item.contract) or []
    except Exception:  # a hostile or malformed stored answer
        return []


@dataclass(frozen=True, kw_only=True)
class Rule(Selector):
    """Items matching the selectors may be decided only by holders of one of `roles`."""

    roles: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class QuorumRule(Selector):
    """Items matching the selectors (and, for tool calls, `amount >= min_amount`) need
    `approvals` distinct approvers."""

    approvals: int
    min_amount: float | None = None
    amount_field: str = "amount"
    """The call argument holding the amount; a dotted path (`payment.amount`) for nested ones."""
    reject_ends: bool = True

    def applies(self, item: ReviewItem, answer: Any = None) -> bool:
        """Whether this quorum governs the item (the payload's calls, or the answer's edits)."""
        return self.why(item, answer) is not None

    def why(self, item: ReviewItem, answer: Any = None) -> str | None:
        """Why this quorum governs the item, or None when it does not.

        Amounts are read from the payload's calls and from what the answer approves (edited
        arguments included), by magnitude, in any numeric type or as text with a currency
        ("$50,000.00", "50 000 EUR"). A call whose amount is present but cannot be read
        makes the rule apply: it fails closed, and the reason says so.
        """
        if not self.matches(item, answer):
            return None
        if self.min_amount is None:
            return f"{self.describe()} needs {self.approvals} approvals"
        wanted = {match_key(t) for t in self.tools}
        unreadable = None
        for call in [*item.calls, *(answer_calls(item, answer) if answer is not None else [])]:
            name = str(call.get("name"))
            if wanted and match_key(name) not in wanted:
                continue
            raw = amount_at(call.get("args"), self.amount_field)
            try:
                amount = read_amount(raw)
            except ValueError as exc:
                unreadable = unreadable or (
                    f"the {shown_name(name)} argument {self.amount_field!r} = {short_repr(raw)} cannot be read as an "
                    f"amount ({exc}), so the rule for amounts of {self.min_amount:g} or more applies (it fails closed)"
                )
                continue
            if amount is not None and abs(amount) >= self.min_amount:
                return f"{shown_name(name)} {self.amount_field} {short_repr(raw)} is at least {self.min_amount:g}"
        return unreadable


def amount_at(args: Any, path: str) -> Any:
    """`args[path]`, following a dotted path through mappings; None when absent."""
    value = args
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def config_number(value: Any) -> float | None:
    """`read_amount`, with None for what cannot be read (for configuration values)."""
    try:
        return read_amount(value)
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class IdentityMapping:
    """`match` an identity (glob) or a `claim` holding `value`; gives `roles`."""

    roles: frozenset[str]
    match: str | None = None
    claim: str | None = None
    value: Any = None

    def applies(self, identity: str, claims: Mapping[str, Any]) -> bool:
        if self.match is not None:
            return fnmatch.fnmatchcase(identity.lower(), self.match.lower())
        held = claims.get(self.claim or "")
        if isinstance(held, (list, tuple, set, frozenset)):
            return self.value in held
        return held is not None and held == self.value
