"""Who may decide what: principals, roles, rules, four eyes and quorum.

Everything here is configured in the HITL_CONFIG TOML file, under `[access]`:

```toml
[access]
default = "allow"          # items no rule covers: "allow" (any signed-in reviewer) or "deny"
approval_levels = true     # approval_level payloads {"level": "manager"} need the role "manager"
four_eyes = true           # whoever started a run (metadata requested_by) may not approve it
requester_may_reject = true  # ...but may reject (withdraw) it
viewers = ["auditor"]      # roles that may open every item, read-only

[[access.identities]]      # identity -> roles, by exact identity (or a glob: "*@finance.example")
match = "alice@example.com"
roles = ["manager"]

[[access.identities]]      # ... or by an OIDC claim (a string or a list such as groups)
claim = "groups"
value = "finance"
roles = ["finance"]

[[access.rules]]           # every rule that matches an item must be satisfied:
tool = "make_payment"      #   graph / kind / tool select items (each a string or a list);
roles = ["finance"]        #   the reviewer needs one of `roles`

[[access.quorum]]          # M distinct approvers before the graph is resumed
tool = "make_payment"
min_amount = 10000         # on the call's `amount` argument (`amount_field` to change it)
approvals = 2
reject_ends = true         # one rejection resumes the graph with the rejection
```

Without an `[access]` section the desk is in open mode: everyone may decide everything (four
eyes still applies to a signed-in reviewer). `principal=None` everywhere means local mode: a
typed reviewer name, no checks at all, the behaviour before this module existed.

Four eyes: the thread's requester may not approve its own request, at any stage. It may
reject it (withdraw it), unless `requester_may_reject = false`: a rejection lets nothing
happen, so refusing it would only keep a request the requester no longer wants. The requester
is a property of the thread, not of its latest checkpoint: the first time the desk sees a
thread it reads `requested_by` from the thread's first checkpoint (the metadata the run was
started with) and pins it in `hitl_requesters`, never to change; every resume, retry and
resolve the desk runs writes it into the new checkpoints' metadata too (`with_requester`).

What the rules look at: an item's graph, kind and proposed tool calls, and, when an answer is
being sent, the calls that answer approves (`approved_calls`: a tool_review answer's
`approved_tools`, edited arguments and names of HITL-middleware / Agent Inbox edits). A call
the agent never proposed needs the roles its name needs, and an amount edited from 5,000 to
50,000 meets a `min_amount = 10000` quorum. Names (tools, graphs, levels) are compared as
`normalized_name` reads them, NFKC with invisible, zero-width and bidi characters removed,
case-folded: `make_pay\u200bment` is `make_payment`; `ReviewItem.describe` flags the difference.

Amounts (`min_amount`) are read by `read_amount` from any numeric type (`Decimal`, `Fraction`,
numpy scalars) or text with a currency ("$50,000.00", "50 000 EUR"), by magnitude, and FAIL
CLOSED: an amount that is present but cannot be read makes the rule apply, and the vote's note
says why.

History: every audit row is judged on its graph, kind, payload and answer; a row that lacks
them (recovery and takeover rows of older desks) is judged by `audit_context` (the interrupt's
other rows, the pending interrupt, the thread's checkpoints), and hidden from all but viewers
when nothing tells what it was about.

Quorum: an approval that does not complete the quorum is stored as a vote (`hitl_votes`,
unique per thread, interrupt and voter) and appended to the audit log (action "vote"); the
graph is not resumed. The approval that completes it resumes the graph through the normal
claim, so concurrent final votes resume it once: one wins the claim, the others get
`AlreadyDecided`. Approvals of tool calls must agree on the calls and their arguments (an
approver cannot change the amount the others approved). One rejection ends the vote by
resuming the graph with the rejection, unless `reject_ends = false` (then it is recorded and
the item waits for approvals).

"My queue" (`my_queue`) is answered with SQL over `hitl_access_facts`, one row per pending
interrupt (its kind, tool names, approval level, requester), kept in step with `hitl_threads`
the way the index is: rows whose thread moved to another checkpoint are rebuilt, decoding only
those threads.
"""

from __future__ import annotations

import fnmatch
import json
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hitl import contracts
from hitl.amounts import is_invisible, read_amount
from hitl.contracts import Contract
from hitl.domain import PendingInterrupt, Principal, Source
from hitl.errors import HitlError, NotAuthorized, StoreError
from hitl.kinds import kind_of
from hitl.payloads import classify, tool_calls
from hitl.store import Store, like_escape


__all__ = [
    "Principal",
    "ReviewItem",
    "Rule",
    "QuorumRule",
    "IdentityMapping",
    "AccessPolicy",
    "Vote",
    "approves",
    "approved_calls",
    "audit_context",
    "normalized_name",
    "name_note",
    "read_amount",
    "thread_requesters",
    "votes",
    "hidden_rows",
]

# --------------------------------------------------------------------------- items


@dataclass(frozen=True, kw_only=True)
class ReviewItem:
    """One pending interrupt with the context the rules look at."""

    thread_id: str
    interrupt_id: str
    graph_id: str | None
    kind: str
    value: Any
    requested_by: str | None = None
    """The thread's requester, as the desk pinned it when it first saw the thread
    (`thread_requesters`), not whatever the latest checkpoint's metadata says."""
    contract: Contract | None = field(default=None, compare=False)
    """What the graph expects back (`hitl.contracts`): answers are read under it, so a plain
    `True` to a yes/no node is the approval it is. None reads answers in the kind's own shape."""

    @classmethod
    def of(
        cls,
        thread_id: str,
        graph_id: str | None,
        interrupt: PendingInterrupt,
        requested_by: str | None = None,
        *,
        contract: Contract | None = None,
    ) -> ReviewItem:
        """From a `PendingInterrupt` of a thread."""
        return cls(
            thread_id=thread_id,
            interrupt_id=interrupt.id,
            graph_id=graph_id,
            kind=interrupt.kind,
            value=interrupt.value,
            requested_by=_clean(requested_by),
            contract=contract,
        )

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The tool calls the payload asks about."""
        return [dict(call) for call in tool_calls(self.value, self.kind)]  # type: ignore[arg-type]

    @property
    def tools(self) -> tuple[str, ...]:
        """Names of the tool calls, in order, without repeats, as the payload spells them."""
        return tuple(dict.fromkeys(call["name"] for call in self.calls))

    @property
    def level(self) -> str | None:
        """The approval level an approval_level payload asks for, normalised and lower-cased."""
        if self.kind != "approval_level" or not isinstance(self.value, Mapping):
            return None
        level = self.value.get("level")
        if level in (None, ""):
            return None
        return normalized_name(str(level)).lower() or None

    @property
    def name_notes(self) -> tuple[str, ...]:
        """One note per tool name (and graph id) that is not what it looks like: it holds
        invisible, bidi or compatibility characters, so the rules read it normalised."""
        notes = [name_note(name, what="tool name") for name in self.tools]
        if self.graph_id:
            notes.append(name_note(self.graph_id, what="graph id"))
        return tuple(note for note in notes if note)

    def describe(self) -> str:
        """`"make_payment on thread t1"`: what the item is, for messages (invisible characters
        shown as `<U+200B>`, and flagged)."""
        what = ", ".join(shown_name(tool) for tool in self.tools) or (
            f"{self.level}-level approval" if self.level else f"{self.kind} item"
        )
        notes = self.name_notes
        return f"{what} on thread {self.thread_id!r}" + (f" ({'; '.join(notes)})" if notes else "")


# --------------------------------------------------------------------------- names

def normalized_name(name: str) -> str:
    """A tool, graph or level name as access rules read it: NFKC, invisible characters
    (zero-width, bidi controls, tags, fillers...) removed, outer whitespace stripped.

    `make_pay\u200bment` and the fullwidth `ｍａｋｅ_ｐａｙｍｅｎｔ` both read as `make_payment`.
    """
    text = unicodedata.normalize("NFKC", str(name))
    return "".join(char for char in text if not is_invisible(char)).strip()


def match_key(name: str) -> str:
    """What rule selectors compare: the normalised name, case-folded."""
    return normalized_name(name).casefold()


def _same_identity(requester: str | None, principal: Principal) -> bool:
    """Whether the requester is the principal, compared normalised (a zero-width character in
    `requested_by` does not make bob someone else for four eyes)."""
    return bool(requester) and match_key(requester) == match_key(principal.identity)


def shown_name(name: str) -> str:
    """The name with each invisible character written out as `<U+200B>`."""
    return "".join(f"<U+{ord(char):04X}>" if is_invisible(char) else char for char in str(name))


def name_note(name: str, *, what: str = "tool name") -> str | None:
    """Why `name` is not what it looks like, or None when it is (it equals its normalised form)."""
    name = str(name)
    normal = normalized_name(name)
    if normal == name:
        return None
    hidden = [char for char in dict.fromkeys(name) if is_invisible(char)]
    if hidden:
        listed = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c in hidden)
        why = f"contains invisible characters ({listed})"
    elif name.strip() != name:
        why = "has leading or trailing spaces"
    else:
        why = "is written with look-alike (compatibility) characters"
    return f"the {what} {shown_name(name)!r} {why}; access rules read it as {normal!r}"


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _names(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise HitlError(f"{where}: `{key}` must be a string or a list of strings, got {value!r}. Fix HITL_CONFIG.")


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, kw_only=True)
class _Selector:
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
        if self.tools and not {match_key(t) for t in self.tools} & _tool_keys(item, answer):
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
            "graphs": _names(entry.get("graph", entry.get("graphs")), "graph", where),
            "kinds": _names(entry.get("kind", entry.get("kinds")), "kind", where),
            "tools": _names(entry.get("tool", entry.get("tools")), "tool", where),
        }


def _tool_keys(item: ReviewItem, answer: Any = None) -> set[str]:
    """Match keys of the tools the payload proposes plus those the answer approves."""
    keys = {match_key(name) for name in item.tools}
    if answer is not None:
        keys |= {match_key(str(call.get("name"))) for call in _answer_calls(item, answer)}
    return keys


def _answer_calls(item: ReviewItem, answer: Any) -> list[dict[str, Any]]:
    """The calls `answer` lets run; [] when it approves none or cannot be read (an audit
    row's answer is not validated)."""
    try:
        return approved_calls(item.kind, item.value, answer, item.contract) or []
    except Exception:  # a hostile or malformed stored answer
        return []


@dataclass(frozen=True, kw_only=True)
class Rule(_Selector):
    """Items matching the selectors may be decided only by holders of one of `roles`."""

    roles: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class QuorumRule(_Selector):
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
        for call in [*item.calls, *(_answer_calls(item, answer) if answer is not None else [])]:
            name = str(call.get("name"))
            if wanted and match_key(name) not in wanted:
                continue
            raw = _field(call.get("args"), self.amount_field)
            try:
                amount = read_amount(raw)
            except ValueError as exc:
                unreadable = unreadable or (
                    f"the {shown_name(name)} argument {self.amount_field!r} = {_short(raw)} cannot be read as an "
                    f"amount ({exc}), so the rule for amounts of {self.min_amount:g} or more applies (it fails closed)"
                )
                continue
            if amount is not None and abs(amount) >= self.min_amount:
                return f"{shown_name(name)} {self.amount_field} {_short(raw)} is at least {self.min_amount:g}"
        return unreadable


def _field(args: Any, path: str) -> Any:
    """`args[path]`, following a dotted path through mappings; None when absent."""
    value = args
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> float | None:
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


# --------------------------------------------------------------------------- policy


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
            roles = frozenset(r.lower() for r in _names(entry.get("roles"), "roles", where))
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
            roles = _names(entry.get("roles"), "roles", where)
            if not roles:
                raise HitlError(f'{where} needs `roles = ["..."]`: who may decide the items it selects.')
            rules.append(Rule(roles=frozenset(r.lower() for r in roles), **_Selector.parse(entry, where)))
        quorum = []
        for index, entry in enumerate(section.get("quorum", [])):
            where = f"[[access.quorum]] entry {index + 1}"
            approvals = entry.get("approvals")
            if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 1:
                raise HitlError(f"{where}: `approvals` must be a whole number of at least 1, got {approvals!r}.")
            min_amount = entry.get("min_amount")
            if min_amount is not None and _number(min_amount) is None:
                raise HitlError(f"{where}: `min_amount` must be a number, got {min_amount!r}.")
            quorum.append(
                QuorumRule(
                    approvals=approvals,
                    min_amount=_number(min_amount),
                    amount_field=str(entry.get("amount_field", "amount")),
                    reject_ends=bool(entry.get("reject_ends", True)),
                    **_Selector.parse(entry, where),
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
            viewers=frozenset(r.lower() for r in _names(section.get("viewers"), "viewers", "[access]")),
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
        if _same_identity(item.requested_by, principal):
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
        own = bool(self.four_eyes and _same_identity(item.requested_by, principal))
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


def hidden_rows(
    policy: AccessPolicy, principal: Principal, rows: Iterable[Mapping[str, Any]], *, store: Store | None = None
) -> list[tuple[Mapping[str, Any], str]]:
    """Audit rows about items the principal may not see (its own decisions are never hidden),
    each with the reason.

    A row is judged on its graph, kind and payload, on what its answer approves, and on its
    thread's requester. A row that does not say what it was about (recovery and takeover
    rows written before they carried it) borrows that from another row of its interrupt, or,
    given the `store`, from `audit_context`; a row that still cannot be judged but records
    an answer is hidden from all but viewers: it fails closed.
    """
    rows = list(rows)
    if not policy.enabled:
        return []
    known: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
    for row in rows:
        if row.get("kind") and _loads(row.get("payload")) is not None:
            known.setdefault(_row_key(row), (row.get("graph_id"), row.get("kind"), _loads(row.get("payload"))))
    requesters: dict[str, str] = {}
    if store is not None:
        try:
            requesters = thread_requesters(store, [str(row.get("thread_id")) for row in rows])
        except HitlError:
            requesters = {}
    viewer = bool(policy.viewers & principal.roles)
    looked_up: dict[tuple[str, str], dict[str, Any]] = {}
    hidden = []
    for row in rows:
        if str(row.get("reviewer") or "").strip().lower() == principal.key:
            continue
        key = _row_key(row)
        graph_id, kind, value = row.get("graph_id"), row.get("kind"), _loads(row.get("payload"))
        answer = _loads(row.get("answer"))
        # Only a row with an answer can tell what its payload did not (the store writes a
        # missing payload as JSON null); a resolve row without either is judged as it is.
        if (not kind or value is None) and answer is not None:
            context = known.get(key)
            if context is None and store is not None:
                if key not in looked_up:
                    looked_up[key] = audit_context(store, *key)
                found = looked_up[key]
                context = (found.get("graph_id"), found.get("kind"), found.get("payload")) if found.get("kind") else None
                graph_id = graph_id or found.get("graph_id")
            if context is not None:
                graph_id, kind = graph_id or context[0], kind or context[1]
                value = context[2] if value is None else value
        if not kind and answer is not None and not viewer:
            hidden.append((row, (
                f"{principal.identity} may not see this audit row: it records an answer but not what it "
                "answered (graph, kind, payload), so [access] cannot tell who may see it. Ask for a viewer role."
            )))  # fmt: skip
            continue
        item = ReviewItem(
            thread_id=key[0], interrupt_id=key[1], graph_id=graph_id, kind=str(kind or "json"), value=value,
            requested_by=requesters.get(key[0]),
        )  # fmt: skip
        allowed, reason = policy.can_see(principal, item, answer=answer)
        if not allowed:
            hidden.append((row, reason))
    return hidden


def _row_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row.get("thread_id")), str(row.get("interrupt_id") or "")


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def audit_context(store: Store, thread_id: str, interrupt_id: str, *, history: int = 100) -> dict[str, Any]:
    """What an audit row about this interrupt should carry so `[access]` can judge it:
    `graph_id`, `kind` and `payload` (the interrupt value), each where it can be found.

    Looked up, in order: the audit log's other rows of the interrupt, the thread's pending
    interrupts, its last `history` checkpoints (an interrupt already resumed), and, for the
    graph, the desk's index. For rows that do not know them (recovery, takeover); never raises.
    """
    found: dict[str, Any] = {}
    try:
        rows = store.query(
            "SELECT graph_id, kind, payload FROM hitl_audit WHERE thread_id = ? AND interrupt_id = ? "
            "AND kind IS NOT NULL AND payload IS NOT NULL AND payload <> 'null' ORDER BY seq DESC LIMIT 1",
            (thread_id, interrupt_id),
        )
        if rows:
            found = {"graph_id": rows[0][0], "kind": rows[0][1], "payload": _loads(rows[0][2])}
    except Exception:  # no audit table yet, a database error: look elsewhere
        pass
    if "kind" not in found:
        try:
            for raw in store.pending_interrupts([thread_id]).get(thread_id, []):
                if raw.id == interrupt_id and not raw.decode_error:
                    found.update(kind=classify(raw.value, raw.response_schema), payload=raw.value)
        except Exception:
            pass
    if "kind" not in found:
        try:
            found.update(_interrupt_in_history(store, thread_id, interrupt_id, history, classify))
        except Exception:
            pass
    if not found.get("graph_id"):
        try:
            rows = store.query("SELECT graph_id FROM hitl_threads WHERE thread_id = ?", (thread_id,))
            graph_id = rows[0][0] if rows else None
            if not graph_id:
                latest = store.latest_checkpoint(thread_id)
                graph_id = latest[1].get("graph_id") if latest else None
            if graph_id:
                found["graph_id"] = graph_id
        except Exception:
            pass
    return found


def _interrupt_in_history(store: Store, thread_id: str, interrupt_id: str, limit: int, classify: Any) -> dict[str, Any]:
    # Materialised at once: SqliteSaver.list holds its lock while the generator is open.
    for saved in list(store.saver.list({"configurable": {"thread_id": thread_id}}, limit=limit)):
        for _task, channel, value in saved.pending_writes or []:
            if channel != "__interrupt__":
                continue
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if getattr(item, "id", None) == interrupt_id:
                    schema = getattr(item, "response_schema", None)
                    payload = getattr(item, "value", None)
                    return {"kind": classify(payload, schema if isinstance(schema, dict) else None), "payload": payload}
    return {}


# --------------------------------------------------------------------------- answers


def approved_calls(kind: str, value: Any, answer: Any, contract: Contract | None = None) -> list[dict[str, Any]] | None:
    """The tool calls an answer lets run (name and final args), or None for kinds without
    tool calls.

    This is what the rules are evaluated on besides the payload: a tool_review answer's
    `approved_tools` as sent, the edited arguments (and, should an edit rename the call, the
    new name) of hitl_request, tool_approval and agent_inbox edits (`PayloadKind.approved_calls`).
    Under a contract that is not the kind's own shape (a yes/no node gating tool calls), an
    approving answer lets every proposed call run.
    """
    meaning = contracts.approves(contract, answer)
    if meaning is None:
        return kind_of(kind).approved_calls(value, answer)
    proposed = [dict(call) for call in kind_of(kind).tool_calls(value)]
    if not proposed:
        return None
    return proposed if meaning else []


def approves(kind: str, value: Any, answer: Any, contract: Contract | None = None) -> bool:
    """Whether the answer lets anything happen (an approval), rather than stopping it.

    Read under the interrupt's contract when it is not the kind's own shape (`True` to a
    yes/no node approves; anything but the contract's rejection counts as approval). Unknown
    kinds (schema, json) and state edits count as approvals: the desk cannot tell, so four
    eyes and quorum treat them the strict way.
    """
    meaning = contracts.approves(contract, answer)
    if meaning is not None:
        return meaning
    return kind_of(kind).approves(value, answer)


def agreement_key(item: ReviewItem, answer: Any) -> str | None:
    calls = approved_calls(item.kind, item.value, answer, item.contract)
    if calls is None:
        return None
    return json.dumps(sorted(calls, key=lambda c: json.dumps(c, sort_keys=True, default=str)), sort_keys=True, default=str)


# --------------------------------------------------------------------------- tables

def ensure_tables(store: Store) -> None:
    """`hitl_votes`, `hitl_access_facts` and `hitl_requesters` exist once the store is open
    (`hitl.storage.migrations` creates them); kept for callers that still ask."""


# --------------------------------------------------------------------------- votes


@dataclass(frozen=True, kw_only=True)
class Vote:
    """One recorded vote on an interrupt under a quorum."""

    thread_id: str
    interrupt_id: str
    voter: str
    vote: Literal["approve", "reject"]
    comment: str
    voted_at: float
    answer: Any = None
    agreement: str | None = None
    """For approvals of tool calls: the approved calls as canonical JSON (they must agree)."""


def votes(store: Store, thread_id: str, interrupt_id: str | None = None) -> list[Vote]:
    """Votes on a thread (or one interrupt), oldest first; [] on a store that cannot have them."""
    try:
        ensure_tables(store)
    except StoreError:
        return []
    sql = (
        "SELECT thread_id, interrupt_id, voter, vote, comment, voted_at, answer, agreement "
        "FROM hitl_votes WHERE thread_id = ?"
    )
    params: list[Any] = [thread_id]
    if interrupt_id is not None:
        sql += " AND interrupt_id = ?"
        params.append(interrupt_id)
    rows = store.query(sql + " ORDER BY voted_at, voter", params)
    return [
        Vote(
            thread_id=r[0], interrupt_id=r[1], voter=r[2], vote=r[3], comment=r[4], voted_at=float(r[5]),
            answer=json.loads(r[6]) if r[6] else None, agreement=r[7],
        )  # fmt: skip
        for r in rows
    ]








# --------------------------------------------------------------------------- my queue






# --------------------------------------------------------------------------- requesters


def thread_requesters(
    store: Store, thread_ids: Sequence[str], *, latest: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, str]:
    """Each thread's requester (`requested_by`), a property of the thread, not of a checkpoint.

    The first time the desk looks a thread up, its requester is read from the thread's first
    root checkpoint (the metadata the run was started with), else from its latest one, and
    pinned in `hitl_requesters`; from then on that row is the answer, whatever later
    checkpoints say (a resume by another process may drop or change `requested_by`). A thread
    that has no requester yet gets no row, so one seen later is still pinned. Threads without
    a requester are left out. On a read-only database nothing is pinned.

    Args:
        store: the desk's store.
        thread_ids: the threads.
        latest: {thread: latest root checkpoint metadata} the caller already read, to skip
            reading it again.
    """
    ids = list(dict.fromkeys(str(t) for t in thread_ids))
    if not ids:
        return {}
    if not store.read_only:
        ensure_tables(store)
    # Pinned requesters never change, and neither does a thread's first checkpoint, so both
    # are cached for the store's life: a decision then costs no query for them.
    cache = _requester_cache(store)
    out: dict[str, str] = {}
    to_pin: list[tuple[str, str, str, float]] = []
    misses = []
    for thread_id in ids:
        hit = cache.get(thread_id, _MISSING)
        if isinstance(hit, str):
            out[thread_id] = hit
        elif hit is None and latest is not None and thread_id in latest:
            requester = _clean((latest.get(thread_id) or {}).get("requested_by"))
            if requester is not None:
                out[thread_id] = requester
                to_pin.append((thread_id, requester, "", time.time()))
        else:
            misses.append(thread_id)
    pinned_table = True
    for start in range(0, len(misses), 500):
        chunk = misses[start : start + 500]
        try:
            rows = _requester_rows(store, chunk, pinned=pinned_table, with_latest=latest is None)
        except StoreError:
            if not store.read_only or not pinned_table:
                raise
            pinned_table = False  # a read-only database from before pinning: no table to read
            rows = _requester_rows(store, chunk, pinned=False, with_latest=latest is None)
        for thread_id, pinned, first_id, first_meta, last_id, last_meta in rows:
            if pinned:
                out[thread_id] = cache[thread_id] = pinned
                continue
            requester = _clean(_metadata(first_meta).get("requested_by"))
            source = first_id
            if requester is None:
                cache[thread_id] = None  # the first checkpoint names nobody: only the latest can
                last = latest.get(thread_id) if latest is not None else _metadata(last_meta)
                requester = _clean((last or {}).get("requested_by"))
                source = last_id or first_id
            if requester is not None:
                out[thread_id] = requester
                to_pin.append((thread_id, requester, str(source or ""), time.time()))
        if latest is not None:
            # No checkpoint in this database (a thread on a LangGraph server): the thread's
            # metadata the caller read is its own, the requester it was started with.
            found = {row[0] for row in rows}
            for thread_id in chunk:
                requester = _clean((latest.get(thread_id) or {}).get("requested_by")) if thread_id not in found else None
                if requester is not None:
                    out[thread_id] = requester
                    to_pin.append((thread_id, requester, "", time.time()))
    if to_pin and not store.read_only:
        pinned_now = _pin(store, to_pin)
        if pinned_now is not None:  # else not pinned this time: derived again next time, same answer
            out.update(pinned_now)
            cache.update(pinned_now)
    return out


_MISSING = object()


def _requester_cache(store: Store) -> dict[str, str | None]:
    """{thread: pinned requester, or None when its first checkpoint names none} for this store."""
    cache = store.__dict__.setdefault("_hitl_requesters", {})
    if len(cache) > 200_000:
        cache.clear()
    return cache


def _requester_rows(store: Store, thread_ids: Sequence[str], *, pinned: bool, with_latest: bool) -> list[tuple]:
    """(thread, pinned requester, first checkpoint id and metadata, latest id and metadata) in
    one query; checkpoint metadata is read only for threads without a pinned requester."""
    marks = ",".join("?" for _ in thread_ids)
    skip = "r.thread_id IS NULL AND " if pinned else ""
    latest_cols = "b.last_id, l.metadata" if with_latest else "b.last_id, NULL"
    latest_join = (
        f"LEFT JOIN checkpoints l ON {skip}l.thread_id = b.thread_id AND l.checkpoint_ns = '' "
        "AND l.checkpoint_id = b.last_id AND b.last_id <> b.first_id"
        if with_latest
        else ""
    )
    sql = f"""
        SELECT b.thread_id, {"r.requested_by" if pinned else "NULL"}, b.first_id, f.metadata, {latest_cols}
        FROM (
            SELECT thread_id, MIN(checkpoint_id) AS first_id, MAX(checkpoint_id) AS last_id FROM checkpoints
            WHERE checkpoint_ns = '' AND thread_id IN ({marks}) GROUP BY thread_id
        ) b
        {"LEFT JOIN hitl_requesters r ON r.thread_id = b.thread_id" if pinned else ""}
        LEFT JOIN checkpoints f ON {skip}f.thread_id = b.thread_id AND f.checkpoint_ns = '' AND f.checkpoint_id = b.first_id
        {latest_join}
    """
    return store.query(sql, list(thread_ids))


def _pin(store: Store, rows: list[tuple[str, str, str, float]]) -> dict[str, str] | None:
    """Pin requesters (first writer wins); returns what is pinned for those threads now, or
    None when the database refused the write (e.g. locked)."""
    try:
        with store.connection(write=True) as conn:
            conn.executemany(
                store.dialect.sql(
                    "INSERT INTO hitl_requesters (thread_id, requested_by, checkpoint_id, pinned_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (thread_id) DO NOTHING"
                ),
                rows,
            )
        ids = [row[0] for row in rows]
        marks = ",".join("?" for _ in ids)
        found = store.query(f"SELECT thread_id, requested_by FROM hitl_requesters WHERE thread_id IN ({marks})", ids)
    except StoreError:
        return None
    return {thread_id: requester for thread_id, requester in found}


def requester_metadata(requester: str | None) -> dict[str, str]:
    """The metadata that carries a thread's requester into the checkpoints a resume writes."""
    return {"requested_by": requester} if requester else {}




def _metadata(blob: Any) -> dict[str, Any]:
    if isinstance(blob, dict):
        return blob
    if blob is None:
        return {}
    try:
        data = json.loads(bytes(blob).decode("utf-8") if isinstance(blob, (bytes, memoryview)) else blob)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _in(column: str, values: Sequence[str], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({','.join('?' for _ in values)})"


def _match_sql(selector: _Selector, params: list[Any]) -> str:
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


