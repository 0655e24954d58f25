"""`AccessPolicy`: the parsed `[access]` section, and who may see, decide and approve what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from hitl.domain import Principal, Source
from hitl.errors import HitlError, NotAuthorized
from hitl.access.answers import approves
from hitl.access.items import ReviewItem
from hitl.access.names import name_list, same_identity
from hitl.access.rules import IdentityMapping, QuorumRule, Rule, Selector, config_number


@dataclass(frozen=True, kw_only=True)
class AccessPolicy:
    """The parsed `[access]` section of HITL_CONFIG."""

    enabled: bool = False
    """False without an `[access]` section: open mode, every reviewer may decide everything."""

    identities: tuple[IdentityMapping, ...] = ()
    rules: tuple[Rule, ...] = ()
    quorum: tuple[QuorumRule, ...] = ()
    default: Literal["allow", "deny"] = "allow"
    approval_levels: bool = True
    four_eyes: bool = True
    requester_may_reject: bool = True
    viewers: frozenset[str] = frozenset()

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any] | None) -> AccessPolicy:
        """Parse the HITL_CONFIG dict; a bad entry raises `HitlError` naming it."""
        section = (policy or {}).get("access")
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise HitlError(f"[access] in HITL_CONFIG must be a table, got {section!r}.")
        default = section.get("default", "allow")
        if default not in ("allow", "deny"):
            raise HitlError(f'[access] default = {default!r} is not valid; use "allow" or "deny".')
        identities = []
        for index, entry in enumerate(section.get("identities", [])):
            where = f"[[access.identities]] entry {index + 1}"
            roles = frozenset(r.lower() for r in name_list(entry.get("roles"), "roles", where))
            if "match" in entry:
                identities.append(IdentityMapping(roles=roles, match=str(entry["match"])))
            elif "claim" in entry and "value" in entry:
                identities.append(IdentityMapping(roles=roles, claim=str(entry["claim"]), value=entry["value"]))
            else:
                raise HitlError(
                    f'{where} needs `match = "alice@example.com"` or `claim = "groups", value = "finance"`, '
                    f"got {dict(entry)!r}."
                )
        rules = []
        for index, entry in enumerate(section.get("rules", [])):
            where = f"[[access.rules]] entry {index + 1}"
            roles = name_list(entry.get("roles"), "roles", where)
            if not roles:
                raise HitlError(f'{where} needs `roles = ["..."]`: who may decide the items it selects.')
            rules.append(Rule(roles=frozenset(r.lower() for r in roles), **Selector.parse(entry, where)))
        quorum = []
        for index, entry in enumerate(section.get("quorum", [])):
            where = f"[[access.quorum]] entry {index + 1}"
            approvals = entry.get("approvals")
            if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 1:
                raise HitlError(f"{where}: `approvals` must be a whole number of at least 1, got {approvals!r}.")
            min_amount = entry.get("min_amount")
            if min_amount is not None and config_number(min_amount) is None:
                raise HitlError(f"{where}: `min_amount` must be a number, got {min_amount!r}.")
            quorum.append(
                QuorumRule(
                    approvals=approvals,
                    min_amount=config_number(min_amount),
                    amount_field=str(entry.get("amount_field", "amount")),
                    reject_ends=bool(entry.get("reject_ends", True)),
                    **Selector.parse(entry, where),
                )
            )
        return cls(
            enabled=True,
            identities=tuple(identities),
            rules=tuple(rules),
            quorum=tuple(quorum),
            default=default,
            approval_levels=bool(section.get("approval_levels", True)),
            four_eyes=bool(section.get("four_eyes", True)),
            requester_may_reject=bool(section.get("requester_may_reject", True)),
            viewers=frozenset(r.lower() for r in name_list(section.get("viewers"), "viewers", "[access]")),
        )

    # ------------------------------------------------------------------ identities

    def principal(
        self,
        identity: str,
        *,
        claims: Mapping[str, Any] | None = None,
        roles: Iterable[str] = (),
        source: Source = "oidc",
    ) -> Principal:
        """The principal for an identity: its own `roles` plus those the mappings give."""
        claims = dict(claims or {})
        mapped = {r.lower() for r in roles}
        for mapping in self.identities:
            if mapping.applies(identity, claims):
                mapped |= mapping.roles
        return Principal(identity=identity.strip(), roles=frozenset(mapped), claims=claims, source=source)

    # ------------------------------------------------------------------ checks

    def _role_problem(self, principal: Principal, item: ReviewItem, answer: Any = None) -> str | None:
        """Why the principal's roles do not cover the item (or what `answer` approves), or None."""
        if not self.enabled:
            return None
        who = f"{principal.identity} (roles: {principal.describe_roles()})"
        if self.approval_levels and item.level and item.level not in principal.roles:
            return (
                f"{who} may not decide {item.describe()}: it needs the role {item.level!r}. "
                f"Ask an administrator to map this identity to {item.level!r} in [[access.identities]]."
            )
        matched = [rule for rule in self.rules if rule.matches(item, answer)]
        for rule in matched:
            if not rule.roles & principal.roles:
                needed = ", ".join(sorted(rule.roles))
                return (
                    f"{who} may not decide {item.describe()}: {rule.describe()} needs one of the roles "
                    f"{needed}. Ask an administrator to add the role in [[access.identities]]."
                )
        if self.default == "deny" and not matched and not (self.approval_levels and item.level):
            return (
                f"{who} may not decide {item.describe()}: no [[access.rules]] entry covers it and "
                '[access] default = "deny".'
            )
        return None

    def can_see(self, principal: Principal | None, item: ReviewItem, *, answer: Any = None) -> tuple[bool, str]:
        """Whether the principal may open the item (its payload is shown), and a recorded
        `answer` to it (what that approves counts too)."""
        if principal is None:
            return True, "local mode: no login, everyone may see everything"
        if self.viewers & principal.roles:
            return True, "viewer role"
        if same_identity(item.requested_by, principal):
            return True, "the requester may see their own request"
        problem = self._role_problem(principal, item, answer)
        return (False, problem) if problem else (True, "allowed")

    def can_decide(
        self, principal: Principal | None, item: ReviewItem, *, approve: bool | None = None, answer: Any = None
    ) -> tuple[bool, str]:
        """Whether the principal may answer the item, and why (or why not).

        Args:
            principal: the reviewer; None is local mode (always allowed).
            item: the pending interrupt.
            approve: True to ask about approving, False about rejecting, None about deciding
                at all (True when at least one of the two is allowed).
            answer: the answer about to be sent; the rules then also cover the tool calls it
                approves (an injected or renamed call needs the roles its name needs).
        """
        if principal is None:
            return True, "local mode: no login, everyone may decide everything"
        problem = self._role_problem(principal, item, answer)
        own = bool(self.four_eyes and same_identity(item.requested_by, principal))
        if problem and not own:
            return False, problem
        if own:
            refusal = (
                f"Four eyes: {principal.identity} started this run (requested_by) and may not approve "
                f"their own request ({item.describe()}); another reviewer has to approve it."
            )
            if approve is True or not self.requester_may_reject:
                return False, refusal
            return True, "the requester may reject (withdraw) their own request, not approve it"
        return True, "allowed"

    def authorize(
        self,
        principal: Principal | None,
        items: Iterable[ReviewItem],
        *,
        answers: Mapping[str, Any] | None = None,
        see_only: bool = False,
    ) -> None:
        """Raise `NotAuthorized` with the reason when the principal may not see or decide `items`.

        With `answers` ({interrupt_id: validated answer}) each answer is checked as an
        approval or a rejection (four eyes); without, deciding at all is checked.
        """
        if principal is None:
            return
        for item in items:
            if see_only:
                allowed, reason = self.can_see(principal, item)
            else:
                approve, answer = None, None
                if answers is not None and item.interrupt_id in answers:
                    answer = answers[item.interrupt_id]
                    approve = approves(item.kind, item.value, answer, item.contract)
                allowed, reason = self.can_decide(principal, item, approve=approve, answer=answer)
            if not allowed:
                raise NotAuthorized(reason)

    def quorum_for(self, item: ReviewItem, answer: Any = None) -> QuorumRule | None:
        """The strictest quorum rule governing the item (most approvals), or None."""
        if not self.enabled:
            return None
        rules = [rule for rule in self.quorum if rule.applies(item, answer)]
        return max(rules, key=lambda rule: rule.approvals) if rules else None
