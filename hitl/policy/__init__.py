"""Timeouts and escalation: the 24-hour rule, configured in the HITL_CONFIG TOML file.

```toml
[[timeouts]]
graph = "approval_chain"          # optional: only this graph id
kind = "approval_level"           # optional: only this payload kind
expire_after = "24h"              # "90s", "15m", "24h", "2d", "1w", "1h30m", or seconds
on_expire = "escalate"            # "reject" (the default: fail closed) | "approve" | "escalate"
escalate_to = ["manager", "director", "vp"]
on_expire_final = "reject"        # past the last level: "reject" (default) | "approve"
warn_before = "2h"                # "about to expire" from here on; default a fifth of expire_after

[[timeouts]]                      # neither graph nor kind: the default for every other item
expire_after = "3d"
```

The same policies may be written as tables: `[timeouts.default]` and named ones such as
`[timeouts.payments]` (with `graph`/`kind` keys). The most specific policy wins: graph and
kind, then graph, then kind, then the default; items no policy covers never expire.

The clock of an interrupt starts when it was requested (`requested_at` in the payload, an ISO
time or epoch seconds), else when the thread paused (`waiting_since`), and restarts at each
escalation. `deadline = start + expire_after (+ an extension granted at the current level)`.

`sweep` (run by `python -m hitl sweep` and by `start_background_sweeper`) applies the policy to
every expired interrupt as reviewer `system:timeout`: reject (one-click reject with the comment
"expired after 24h"; a kind that cannot be rejected in one click is marked resolved instead,
so nothing runs), approve, or escalate (a row in `hitl_escalations` moves the item to the next
level and restarts its clock; past the last level `on_expire_final` applies). Each step is in
the audit log: action "timeout" (the decision), "escalate", or "extend" (`extend_deadline`,
once per interrupt, with a reason).

The package, by responsibility: `sweeper` (the background thread) -> `expiry` (the sweep: apply expired
policies) -> `extend` (one extension per interrupt) -> `deadlines` (each interrupt's deadline)
-> `timeouts` (the `[[timeouts]]` policies). The SQL is `hitl.storage.deadlines`.
"""

from __future__ import annotations

from hitl.durations import parse_duration
from hitl.policy.deadlines import DeadlineInfo, deadline_info, escalated_levels, interrupt_deadlines
from hitl.policy.extend import extend_deadline
from hitl.policy.expiry import sweep
from hitl.policy.sweeper import BackgroundSweeper, start_background_sweeper
from hitl.policy.timeouts import SYSTEM_REVIEWER, OnExpire, TimeoutPolicy, load_policies, policy_for

__all__ = [
    "SYSTEM_REVIEWER",
    "OnExpire",
    "TimeoutPolicy",
    "DeadlineInfo",
    "BackgroundSweeper",
    "parse_duration",
    "load_policies",
    "policy_for",
    "deadline_info",
    "interrupt_deadlines",
    "escalated_levels",
    "extend_deadline",
    "sweep",
    "start_background_sweeper",
]
