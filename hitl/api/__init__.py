"""REST API over the desk: list, read, decide and audit interrupts from scripts and bots.

    uvicorn hitl.api:app --port 8000      # or `make api`

The module-level `app` opens its `Inbox` from the environment (HITL_DATABASE_URL, HITL_GRAPHS,
HITL_CONFIG) on the first request; `create_app(inbox, tokens=...)` builds one over a given desk.

Every endpoint but `GET /healthz` needs `Authorization: Bearer <token>`. Tokens come from the
HITL_CONFIG file and from `HITL_API_TOKENS`; each names the reviewer recorded in the audit log:

    [[api.tokens]]
    token_sha256 = "<hex sha256 of the token>"   # or token = "..." (keep the file private)
    reviewer = "alice@example.com"
    roles = ["finance"]                           # kept on the principal for policies
    scopes = ["read", "decide"]                   # default both; "read" alone cannot decide

    HITL_API_TOKENS="token1:alice@example.com,token2:bob@example.com"

Errors share one body, `{"error": code, "message": text, "details": {...}}`:

| status | error | when |
|---|---|---|
| 401 | `unauthorized` | no bearer token, or not a configured one |
| 403 | `not_authorized` | the token may not do this (scope, or a policy said no) |
| 404 | `thread_not_found`, `not_found` | no such thread / route |
| 409 | `already_decided` | someone answered first: `details.decided_by`, `details.decided_at` |
| 409 | `unknown_graph` | the thread's graph is not registered here (read-only thread) |
| 409 | `outcome_unknown` | a resume of this decision may have run a node whose result was not saved: `details.state` ("unknown": retry or resolve it; "unrecorded": settled after the claim lease), `details.decided_by`, `details.decided_at`, `details.answers`, `details.may_run_twice`, `details.choices`; nothing was run by this call |
| 422 | `invalid_answer`, `invalid_request` | `details.field_errors`: {field path: message} |
| 503 | `store_unavailable` | the database is locked, read-only or unreachable; nothing changed |
| 500 | `internal_error` | a bug; the traceback is in the server log under `details.reference` |
"""

from __future__ import annotations

from hitl.api.factory import create_app
from hitl.api.tokens import ApiPrincipal, ApiToken, load_tokens

__all__ = ["app", "create_app", "ApiToken", "ApiPrincipal", "load_tokens"]

app = create_app()
