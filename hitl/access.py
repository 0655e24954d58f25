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

Four eyes: the identity in the thread's metadata `requested_by` may not approve its own
request. It may reject it (withdraw it), unless `requester_may_reject = false`: a rejection
lets nothing happen, so refusing it would only keep a request the requester no longer wants.

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

import base64
import fnmatch
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hitl.errors import HitlError, InvalidAnswer, NotAuthorized, StoreError
from hitl.store import _decode_cursor, _encode_cursor, _like_escape

if TYPE_CHECKING:
    from hitl.inbox import Inbox, Page, PendingInterrupt
    from hitl.store import Store

__all__ = [
    "Principal",
    "ReviewItem",
    "Rule",
    "QuorumRule",
    "IdentityMapping",
    "AccessPolicy",
    "Vote",
    "QuorumPlan",
    "approves",
    "approved_calls",
    "votes",
    "hidden_rows",
    "my_queue",
    "sync_facts",
]

Source = Literal["local", "oidc", "api", "cli", "test"]
"""Where a principal's identity was established."""

APPROVING_DECISIONS = ("approve", "edit", "accept")
"""HumanInTheLoopMiddleware / Agent Inbox decision types that let a tool call run."""


# --------------------------------------------------------------------------- principal


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is deciding: a verified identity and the roles the policy gives it."""

    identity: str
    """Email (else OIDC subject) or the API token's reviewer; recorded as the reviewer."""

    roles: frozenset[str] = frozenset()
    """Roles from `[[access.identities]]` (and an API token's own roles)."""

    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The identity provider's claims (st.user), or {} for API tokens."""

    source: Source = "oidc"
    """How the identity was established."""

    def __post_init__(self) -> None:
        if not isinstance(self.identity, str) or not self.identity.strip():
            raise NotAuthorized(
                f"A principal needs a non-empty identity, got {self.identity!r}. Sign in again, "
                "or configure the API token's reviewer."
            )

    @property
    def key(self) -> str:
        """The identity compared case-insensitively (emails)."""
        return self.identity.strip().lower()

    def describe_roles(self) -> str:
        """`"finance, manager"` or `"none"`."""
        return ", ".join(sorted(self.roles)) or "none"


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

    @classmethod
    def of(
        cls, thread_id: str, graph_id: str | None, interrupt: PendingInterrupt, requested_by: str | None = None
    ) -> ReviewItem:
        """From a `PendingInterrupt` of a thread."""
        return cls(
            thread_id=thread_id,
            interrupt_id=interrupt.id,
            graph_id=graph_id,
            kind=interrupt.kind,
            value=interrupt.value,
            requested_by=_clean(requested_by),
        )

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The tool calls the payload asks about."""
        from hitl.payloads import tool_calls

        return [dict(call) for call in tool_calls(self.value, self.kind)]  # type: ignore[arg-type]

    @property
    def tools(self) -> tuple[str, ...]:
        """Names of the tool calls, in order, without repeats."""
        return tuple(dict.fromkeys(call["name"] for call in self.calls))

    @property
    def level(self) -> str | None:
        """The approval level an approval_level payload asks for, lower-cased."""
        if self.kind != "approval_level" or not isinstance(self.value, Mapping):
            return None
        level = self.value.get("level")
        return str(level).strip().lower() if level not in (None, "") else None

    def describe(self) -> str:
        """`"make_payment on thread t1"`: what the item is, for messages."""
        what = ", ".join(self.tools) or (f"{self.level}-level approval" if self.level else f"{self.kind} item")
        return f"{what} on thread {self.thread_id!r}"


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

    def matches(self, item: ReviewItem) -> bool:
        if self.graphs and item.graph_id not in self.graphs:
            return False
        if self.kinds and item.kind not in self.kinds:
            return False
        if self.tools and not set(self.tools) & set(item.tools):
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
    reject_ends: bool = True

    def applies(self, item: ReviewItem, answer: Any = None) -> bool:
        """Whether this quorum governs the item (the payload's calls, or the answer's edits)."""
        if not self.matches(item):
            return False
        if self.min_amount is None:
            return True
        calls = item.calls
        if answer is not None:
            calls = calls + (approved_calls(item.kind, item.value, answer) or [])
        for call in calls:
            if self.tools and call["name"] not in self.tools:
                continue
            amount = _number((call.get("args") or {}).get(self.amount_field))
            if amount is not None and amount >= self.min_amount:
                return True
        return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
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

    def _role_problem(self, principal: Principal, item: ReviewItem) -> str | None:
        """Why the principal's roles do not cover the item, or None."""
        if not self.enabled:
            return None
        who = f"{principal.identity} (roles: {principal.describe_roles()})"
        if self.approval_levels and item.level and item.level not in principal.roles:
            return (
                f"{who} may not decide {item.describe()}: it needs the role {item.level!r}. "
                f"Ask an administrator to map this identity to {item.level!r} in [[access.identities]]."
            )
        matched = [rule for rule in self.rules if rule.matches(item)]
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

    def can_see(self, principal: Principal | None, item: ReviewItem) -> tuple[bool, str]:
        """Whether the principal may open the item (its payload is shown)."""
        if principal is None:
            return True, "local mode: no login, everyone may see everything"
        if self.viewers & principal.roles:
            return True, "viewer role"
        if item.requested_by and item.requested_by.lower() == principal.key:
            return True, "the requester may see their own request"
        problem = self._role_problem(principal, item)
        return (False, problem) if problem else (True, "allowed")

    def can_decide(
        self, principal: Principal | None, item: ReviewItem, *, approve: bool | None = None
    ) -> tuple[bool, str]:
        """Whether the principal may answer the item, and why (or why not).

        Args:
            principal: the reviewer; None is local mode (always allowed).
            item: the pending interrupt.
            approve: True to ask about approving, False about rejecting, None about deciding
                at all (True when at least one of the two is allowed).
        """
        if principal is None:
            return True, "local mode: no login, everyone may decide everything"
        problem = self._role_problem(principal, item)
        own = bool(self.four_eyes and item.requested_by and item.requested_by.lower() == principal.key)
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
                approve = None
                if answers is not None and item.interrupt_id in answers:
                    approve = approves(item.kind, item.value, answers[item.interrupt_id])
                allowed, reason = self.can_decide(principal, item, approve=approve)
            if not allowed:
                raise NotAuthorized(reason)

    def quorum_for(self, item: ReviewItem, answer: Any = None) -> QuorumRule | None:
        """The strictest quorum rule governing the item (most approvals), or None."""
        if not self.enabled:
            return None
        rules = [rule for rule in self.quorum if rule.applies(item, answer)]
        return max(rules, key=lambda rule: rule.approvals) if rules else None


def hidden_rows(policy: AccessPolicy, principal: Principal, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str]]:
    """Audit rows about items the principal may not see (its own decisions are never hidden),
    each with the reason."""
    hidden = []
    for row in rows:
        if str(row.get("reviewer") or "").strip().lower() == principal.key:
            continue
        payload = row.get("payload")
        try:
            value = json.loads(payload) if isinstance(payload, str) else payload
        except ValueError:
            value = None
        item = ReviewItem(
            thread_id=str(row.get("thread_id")), interrupt_id=str(row.get("interrupt_id") or ""),
            graph_id=row.get("graph_id"), kind=str(row.get("kind") or "json"), value=value,
        )  # fmt: skip
        allowed, reason = policy.can_see(principal, item)
        if not allowed:
            hidden.append((row, reason))
    return hidden


# --------------------------------------------------------------------------- answers


def approved_calls(kind: str, value: Any, answer: Any) -> list[dict[str, Any]] | None:
    """The tool calls an answer lets run (name and final args), or None for kinds without
    tool calls."""
    from hitl.payloads import tool_calls

    proposed = [dict(call) for call in tool_calls(value, kind)]  # type: ignore[arg-type]
    if kind == "tool_review":
        if not isinstance(answer, Mapping) or not answer.get("approved"):
            return []
        chosen = answer.get("approved_tools")
        if chosen is None:
            return proposed
        return [{"name": c.get("name"), "args": dict(c.get("args") or {})} for c in chosen if isinstance(c, Mapping)]
    if kind == "sensitive_tools":
        return proposed if isinstance(answer, Mapping) and answer.get("approved") else []
    if kind in ("hitl_request", "tool_approval"):
        decisions = answer.get("decisions") if kind == "hitl_request" and isinstance(answer, Mapping) else [answer]
        return _decided_calls(proposed, decisions or [], lambda d: d.get("edited_action"))
    if kind == "agent_inbox":
        responses = answer if isinstance(answer, list) else [answer]
        return _decided_calls(proposed, responses, lambda d: d.get("args"))
    return None


def _decided_calls(proposed: list[dict[str, Any]], decisions: Sequence[Any], edited: Any) -> list[dict[str, Any]]:
    out = []
    for call, decision in zip(proposed, decisions):
        if not isinstance(decision, Mapping) or decision.get("type") not in APPROVING_DECISIONS:
            continue
        if decision.get("type") == "edit" and isinstance(edited(decision), Mapping):
            change = edited(decision)
            out.append({"name": call["name"], "args": dict(change.get("args") or {})})
        else:
            out.append(call)
    return out


def approves(kind: str, value: Any, answer: Any) -> bool:
    """Whether the answer lets anything happen (an approval), rather than stopping it.

    Unknown kinds (schema, json) and state edits count as approvals: the desk cannot tell,
    so four eyes and quorum treat them the strict way.
    """
    calls = approved_calls(kind, value, answer)
    if calls is not None:
        return bool(calls)
    if kind == "confirm":
        return answer is True
    if kind == "edit":
        return isinstance(answer, Mapping) and answer.get("action") == "approve"
    if kind in ("question", "stage", "approval_level", "feedback"):
        return isinstance(answer, Mapping) and bool(answer.get("approved"))
    return True


def _agreement_key(item: ReviewItem, answer: Any) -> str | None:
    calls = approved_calls(item.kind, item.value, answer)
    if calls is None:
        return None
    return json.dumps(sorted(calls, key=lambda c: json.dumps(c, sort_keys=True, default=str)), sort_keys=True, default=str)


# --------------------------------------------------------------------------- tables

_TABLES = (
    """CREATE TABLE IF NOT EXISTS hitl_votes (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        voter TEXT NOT NULL,
        vote TEXT NOT NULL,
        answer TEXT,
        agreement TEXT,
        comment TEXT NOT NULL DEFAULT '',
        voted_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (thread_id, interrupt_id, voter)
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_access_facts (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        source_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        tools TEXT NOT NULL DEFAULT ',',
        level TEXT,
        requested_by TEXT,
        PRIMARY KEY (thread_id, interrupt_id)
    )""",
    "CREATE INDEX IF NOT EXISTS hitl_access_facts_source ON hitl_access_facts (thread_id, source_key)",
)


def ensure_tables(store: Store) -> None:
    """Create `hitl_votes` and `hitl_access_facts` once per store (portable SQL)."""
    if getattr(store, "_hitl_access_tables", False):
        return
    with store.connection(write=True) as conn:
        for statement in _TABLES:
            conn.execute(statement)
    store._hitl_access_tables = True  # type: ignore[attr-defined]


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


@dataclass(frozen=True, kw_only=True)
class QuorumPlan:
    """What `gate` decided for one resume call."""

    resume: dict[str, Any]
    """Answers to resume the graph with now (quorum reached, rejections, items without quorum)."""

    recorded: dict[str, str] = field(default_factory=dict)
    """interrupt_id -> note, for votes recorded without resuming."""


def gate(
    inbox: Inbox,
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
    policy = inbox.access
    policy.authorize(principal, items.values(), answers=validated)
    governed = {iid: policy.quorum_for(items[iid], validated[iid]) for iid in validated}
    if not any(governed.values()):
        return QuorumPlan(resume=dict(validated))
    ensure_tables(inbox.store)
    store = inbox.store
    resume_now: dict[str, Any] = {}
    recorded: dict[str, str] = {}
    pending_votes: list[tuple[str, str, Any, str | None]] = []
    for iid, answer in validated.items():
        rule = governed[iid]
        if rule is None:
            resume_now[iid] = answer
            continue
        item = items[iid]
        approving = approves(item.kind, item.value, answer)
        earlier = votes(store, item.thread_id, iid)
        approvals = [v for v in earlier if v.vote == "approve"]
        mine = next((v for v in earlier if v.voter.lower() == principal.key), None)
        if mine is not None and not (approving and len(approvals) >= rule.approvals):
            raise NotAuthorized(
                f"{principal.identity} already voted ({mine.vote}) on {item.describe()}; a quorum needs "
                f"{rule.approvals} distinct approvers, and each identity votes once."
            )
        key = _agreement_key(item, answer)
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
        rejected = not approves(item.kind, item.value, answer)
        if rejected and rule.reject_ends:
            resume_now[iid] = answer
        elif not rejected and approvals >= rule.approvals:
            resume_now[iid] = answer
        else:
            needed = max(rule.approvals - approvals, 0)
            verb = "Rejection" if rejected else "Approval"
            recorded[iid] = (
                f"{verb} by {principal.identity} recorded as a vote: {approvals} of {rule.approvals} approvals; "
                f"{needed} more distinct approver{'s' if needed != 1 else ''} needed before the graph resumes."
            )
    if recorded:
        _audit_votes(inbox, principal, items, validated, recorded, comment, now)
    return QuorumPlan(resume=resume_now, recorded=recorded)


def _audit_votes(
    inbox: Inbox,
    principal: Principal,
    items: Mapping[str, ReviewItem],
    validated: Mapping[str, Any],
    recorded: Mapping[str, str],
    comment: str,
    now: float,
) -> None:
    rows = inbox.store.query("SELECT waiting_since FROM hitl_threads WHERE thread_id = ?", (next(iter(items.values())).thread_id,))
    waiting_since = float(rows[0][0]) if rows else None
    inbox.store.append_audit(
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


# --------------------------------------------------------------------------- my queue


def _facts_key_sql() -> str:
    return "t.checkpoint_id || '|' || t.interrupt_ids"


def sync_facts(inbox: Inbox, *, batch: int = 500) -> int:
    """Rebuild `hitl_access_facts` for waiting threads whose pending interrupts changed.

    Returns how many threads were (re)decoded.
    """
    store = inbox.store
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
        decoded = store.pending_interrupts(ids)
        requesters = _requesters(store, ids)
        rows = []
        for thread_id, source_key, graph_id in chunk:
            for raw in decoded.get(thread_id, []):
                if not raw.answerable:
                    continue
                pending = inbox._interrupt(raw)
                item = ReviewItem.of(thread_id, graph_id, pending, requesters.get(thread_id))
                rows.append(
                    (
                        thread_id, raw.id, source_key, item.kind, "," + ",".join(item.tools) + ",",
                        item.level, item.requested_by.lower() if item.requested_by else None,
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


def _requesters(store: Store, thread_ids: Sequence[str]) -> dict[str, str]:
    """`requested_by` from each thread's latest root checkpoint metadata."""
    marks = ",".join("?" for _ in thread_ids)
    rows = store.query(
        f"""
        SELECT c.thread_id, c.metadata FROM checkpoints c
        JOIN (
            SELECT thread_id, MAX(checkpoint_id) AS checkpoint_id FROM checkpoints
            WHERE checkpoint_ns = '' AND thread_id IN ({marks}) GROUP BY thread_id
        ) l ON c.thread_id = l.thread_id AND c.checkpoint_ns = '' AND c.checkpoint_id = l.checkpoint_id
        """,
        thread_ids,
    )
    out = {}
    for thread_id, blob in rows:
        requester = _clean(_metadata(blob).get("requested_by"))
        if requester:
            out[thread_id] = requester
    return out


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
            params.append(f"%,{_like_escape(tool)},%")
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
        params.append(principal.key)
    clauses.append(
        "NOT EXISTS (SELECT 1 FROM hitl_votes v WHERE v.thread_id = f.thread_id "
        "AND v.interrupt_id = f.interrupt_id AND v.voter = ?)"
    )
    params.append(principal.key)
    return " AND ".join(clauses)


def my_queue(
    inbox: Inbox,
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
    from hitl.inbox import Page

    store = inbox.store
    if store.read_only:
        # Nothing can be decided on a read-only database, and the facts table cannot be
        # kept there: list unfiltered; opening an item still checks access.
        return inbox.pending(
            limit=limit, cursor=cursor, graph_id=graph_id, kind=kind, search=search,
            waiting_longer_than=waiting_longer_than, newest_first=newest_first, refresh=False,
        )  # fmt: skip
    sync_facts(inbox)
    where, params = store.thread_filter(
        alias="t", status="waiting", graph_id=graph_id, kind=kind, search=search, waiting_longer_than=waiting_longer_than
    )
    all_total = int(store.query("SELECT COUNT(*) FROM hitl_threads t WHERE " + " AND ".join(where), params)[0][0])
    mine_params = list(params)
    mine = (
        " AND EXISTS (SELECT 1 FROM hitl_access_facts f WHERE f.thread_id = t.thread_id AND "
        + decidable_sql(inbox.access, principal, mine_params)
        + ")"
    )
    base = "FROM hitl_threads t WHERE " + " AND ".join(where) + mine
    total = int(store.query("SELECT COUNT(*) " + base, mine_params)[0][0])
    page_sql, page_params = base, list(mine_params)
    op, order = ("<", "DESC") if newest_first else (">", "ASC")
    if cursor:
        since, after = _decode_cursor(cursor)
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
    decoded = store.pending_interrupts(ids)
    items = [inbox._pending_thread(by_id[tid], decoded.get(tid, [])) for tid in ids if tid in by_id]
    next_cursor = _encode_cursor(float(rows[-1][1]), rows[-1][0]) if more and rows else None
    return Page(items=items, next_cursor=next_cursor, total=total, waiting_on_others=all_total - total)
