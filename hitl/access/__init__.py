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

The package, by responsibility (each module imports only those listed after it):
`history` (which audit rows a principal may see) -> `policy` (`AccessPolicy`) -> `rules`
(selectors, role and quorum rules) -> `answers` (what an answer approves) -> `items`
(`ReviewItem`) -> `names` (how names are compared); beside them `requesters` (four eyes'
requester, pinned), `voting` (quorum votes) and `queue_sql` ("my queue" as SQL).
"""

from __future__ import annotations

from hitl.access.answers import agreement_key, approved_calls, approves
from hitl.access.history import audit_context, hidden_rows
from hitl.access.items import ReviewItem
from hitl.access.names import match_key, name_note, normalized_name
from hitl.access.policy import AccessPolicy
from hitl.access.requesters import requester_metadata, thread_requesters
from hitl.access.rules import IdentityMapping, QuorumRule, Rule
from hitl.access.voting import Vote, votes
from hitl.amounts import read_amount
from hitl.domain import Principal

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
    "agreement_key",
    "match_key",
    "requester_metadata",
]
