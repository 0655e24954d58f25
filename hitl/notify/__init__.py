"""Webhook notifications: a persisted outbox, signed POSTs, retries with backoff.

When an interrupt becomes pending, every webhook subscribed to `approval_needed` gets one
POST for it; after each recorded decision, those subscribed to `decision_made` get one too.

How a notification travels, and why:

1. **Enqueue.** One row per (event, endpoint) goes into `hitl_outbox`, whose unique key
   `(event_key, endpoint)` makes enqueueing idempotent: `approval_needed:<thread>:<interrupt>`
   can be offered any number of times, by any number of processes, and is stored once.
   Two paths offer it: the `Inbox.on_indexed` hook (immediate, in the process that refreshed
   the index) and the watcher's reconcile pass over `hitl_threads` (catches threads another
   process indexed, and a backlog that existed before webhooks were configured).
2. **Claim.** A worker takes due rows with a conditional `UPDATE ... WHERE state = 'pending'
   AND next_attempt_at <= now` (or a `sending` row whose lease ran out), so two watchers never
   send the same row at once; the row is leased to the worker for the duration of the send.
3. **Send.** Each endpoint has its own share of a thread pool and a per-request timeout, so a
   receiver that hangs delays only its own deliveries.
4. **Record.** Every attempt goes into `hitl_deliveries` (status code, error, duration); the
   outbox row becomes `delivered`, `pending` again with exponential backoff (5xx, 429,
   timeouts, connection errors), or `failed` (other 4xx, attempts exhausted). Failed rows can
   be retried by hand (`retry_delivery`, the Webhooks page).

A stopped watcher finishes its in-flight sends before it exits, so a restart neither loses nor
repeats a notification. A watcher that *crashes* mid-send leaves the row leased; after the lease
it is sent again with the same `X-HITL-Delivery` id, which receivers use to drop duplicates.

Receivers verify `X-HITL-Signature: sha256=<hex>`, the HMAC-SHA256 of
`f"{X-HITL-Timestamp}.{raw body}"` with the endpoint's secret, and reject old timestamps
(`verify_signature` does both).

Configuration (HITL_CONFIG):

    [notify]                      # optional; these are the defaults
    backoff_base_seconds = 2.0    # first retry after 2 s, then 4, 8, ... capped at backoff_max_seconds
    backoff_max_seconds = 600.0
    max_attempts = 8
    lease_seconds = 60.0          # at least 4 x the endpoint timeout is used
    concurrency_per_endpoint = 4

    [[webhooks]]
    name = "ops"                  # optional; defaults to the url (it keys the outbox rows)
    url = "https://example.com/hitl"
    secret = "..."                # or secret_env = "HITL_WEBHOOK_SECRET"
    events = ["approval_needed", "decision_made"]   # default ["approval_needed"]
    timeout = 10.0

The package, by responsibility: `watcher` (the loop, the background notifier) -> `notifier`
(claim and send) -> `events` (queue notifications) -> `rows` (outbox rows, attempts, retry) ->
`config` (the `[notify]` section), `signing` (headers and HMAC). The SQL is `hitl.storage.outbox`.
"""

from __future__ import annotations

from hitl.notify.config import EVENT_TYPES, OUTBOX_STATES, EventType, NotifyConfig, Webhook, load_config
from hitl.notify.events import attach, enqueue_approvals, enqueue_decisions
from hitl.notify.rows import DeliveryAttempt, OutboxRow, delivery_attempts, ensure_tables, outbox_counts, outbox_rows, retry_delivery
from hitl.notify.notifier import Notifier
from hitl.notify.signing import sign, verify_signature
from hitl.notify.watcher import run_watcher, start_background_notifier, stop_background_notifier

__all__ = [
    "EVENT_TYPES",
    "EventType",
    "Webhook",
    "NotifyConfig",
    "OutboxRow",
    "DeliveryAttempt",
    "Notifier",
    "load_config",
    "attach",
    "enqueue_approvals",
    "enqueue_decisions",
    "run_watcher",
    "start_background_notifier",
    "stop_background_notifier",
    "ensure_tables",
    "retry_delivery",
    "OUTBOX_STATES",
    "outbox_rows",
    "outbox_counts",
    "delivery_attempts",
    "sign",
    "verify_signature",
]
