"""The `[[timeouts]]` policies of HITL_CONFIG: which interrupts expire when, and what happens then."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from hitl.desk import Desk
from hitl.errors import HitlError
from hitl.durations import parse_duration


SYSTEM_REVIEWER = "system:timeout"
"""The reviewer recorded for decisions and escalations the sweeper makes."""


OnExpire = Literal["reject", "approve", "escalate"]
"""What happens to an interrupt past its deadline."""


_ON_EXPIRE: tuple[str, ...] = ("reject", "approve", "escalate")


_POLICY_KEYS = frozenset(
    {"graph", "kind", "expire_after", "on_expire", "escalate_to", "on_expire_final", "warn_before", "name"}
)


@dataclass(frozen=True, kw_only=True)
class TimeoutPolicy:
    """One `[[timeouts]]` entry of HITL_CONFIG."""

    name: str
    """The table's name (`default`, `payments`) or `timeouts[N]` for array entries."""

    graph: str | None = None
    """Only interrupts of this graph id; None matches every graph."""

    kind: str | None = None
    """Only interrupts of this payload kind; None matches every kind."""

    expire_after: float
    """Seconds an interrupt may wait (at each level) before the policy applies."""

    on_expire: OnExpire = "reject"
    """What happens at the deadline; reject by default, so nothing runs unapproved."""

    escalate_to: tuple[str, ...] = ()
    """Levels in order (e.g. manager, director, vp); used when `on_expire` is escalate."""

    on_expire_final: Literal["reject", "approve"] = "reject"
    """What happens at the deadline of the last level."""

    warn_before: float
    """Seconds before the deadline from which the item counts as about to expire."""

    @property
    def specificity(self) -> int:
        """2 for a graph, 1 for a kind: the most specific matching policy wins."""
        return (2 if self.graph else 0) + (1 if self.kind else 0)

    def matches(self, graph_id: str | None, kind: str | None) -> bool:
        """Whether this policy covers an interrupt of this graph and kind."""
        return (self.graph is None or self.graph == graph_id) and (self.kind is None or self.kind == kind)

    def next_level(self, level: str | None) -> str | None:
        """The level an item at `level` escalates to, or None past the last one."""
        if not self.escalate_to:
            return None
        if level not in self.escalate_to:
            return self.escalate_to[0]
        index = self.escalate_to.index(level) + 1
        return self.escalate_to[index] if index < len(self.escalate_to) else None


def load_policies(policy: Mapping[str, Any]) -> list[TimeoutPolicy]:
    """The timeout policies of a parsed HITL_CONFIG (`Settings.policy`), in file order.

    Raises:
        HitlError: a policy has an unknown key, a bad duration or an unknown action.
    """
    raw = policy.get("timeouts")
    if raw is None:
        return []
    entries: list[tuple[str, Any]]
    if isinstance(raw, list):
        entries = [(f"timeouts[{index}]", entry) for index, entry in enumerate(raw)]
    elif isinstance(raw, dict):
        entries = list(raw.items())
    else:
        raise HitlError(f"HITL_CONFIG: `timeouts` must be [[timeouts]] entries or [timeouts.NAME] tables, not {type(raw).__name__}.")
    return [_policy(name, entry) for name, entry in entries]


def _policy(name: str, entry: Any) -> TimeoutPolicy:
    where = f"HITL_CONFIG [{name}]" if not name.startswith("timeouts[") else f"HITL_CONFIG {name}"
    if not isinstance(entry, dict):
        raise HitlError(f"{where} must be a table of settings, not {entry!r}.")
    if "default" in entry and isinstance(entry["default"], dict):
        raise HitlError(
            f"{where} contains a [timeouts.default] table: after [[timeouts]] entries TOML nests it "
            "inside the last entry. Write the default as a [[timeouts]] entry without graph and kind."
        )
    unknown = sorted(set(entry) - _POLICY_KEYS)
    if unknown:
        raise HitlError(f"{where} has unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_POLICY_KEYS))}.")
    if "expire_after" not in entry:
        raise HitlError(f'{where} needs expire_after, e.g. expire_after = "24h".')
    expire_after = parse_duration(entry["expire_after"], name=f"{where} expire_after")
    on_expire = entry.get("on_expire", "reject")
    if on_expire not in _ON_EXPIRE:
        raise HitlError(f"{where} on_expire = {on_expire!r}; use one of {', '.join(_ON_EXPIRE)} (reject is the default).")
    final = entry.get("on_expire_final", "reject")
    if final not in ("reject", "approve"):
        raise HitlError(f"{where} on_expire_final = {final!r}; use reject (the default) or approve.")
    levels = entry.get("escalate_to", [])
    if isinstance(levels, str):
        levels = [levels]
    if not isinstance(levels, list) or not all(isinstance(level, str) and level.strip() for level in levels):
        raise HitlError(f'{where} escalate_to must be a list of level names, e.g. ["manager", "director", "vp"].')
    if on_expire == "escalate" and not levels:
        raise HitlError(f'{where} escalates but has no escalate_to levels; add e.g. escalate_to = ["director", "vp"].')
    warn = entry.get("warn_before")
    for key in ("graph", "kind"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise HitlError(f"{where} {key} must be a string, not {entry[key]!r}.")
    return TimeoutPolicy(
        name=str(entry.get("name") or name),
        graph=entry.get("graph") or None,
        kind=entry.get("kind") or None,
        expire_after=expire_after,
        on_expire=on_expire,
        escalate_to=tuple(level.strip() for level in levels),
        on_expire_final=final,
        warn_before=parse_duration(warn, name=f"{where} warn_before") if warn is not None else expire_after / 5,
    )


def policy_for(policies: Sequence[TimeoutPolicy], graph_id: str | None, kind: str | None) -> TimeoutPolicy | None:
    """The most specific policy covering this graph and kind (the first in the file on a tie)."""
    best: TimeoutPolicy | None = None
    for candidate in policies:
        if candidate.matches(graph_id, kind) and (best is None or candidate.specificity > best.specificity):
            best = candidate
    return best


def policies_of(inbox: Desk) -> list[TimeoutPolicy]:
    cached = inbox.__dict__.get("_timeout_policies")
    if cached is None or cached[0] is not inbox.settings.policy:
        cached = (inbox.settings.policy, load_policies(inbox.settings.policy))
        inbox.__dict__["_timeout_policies"] = cached
    return cached[1]
