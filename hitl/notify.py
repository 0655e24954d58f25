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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

import httpx

from hitl.config import Settings
from hitl.desk import Desk
from hitl.jsondata import json_safe
from hitl.errors import HitlError, StoreError
from hitl.reading import pending_interrupt


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

log = logging.getLogger(__name__)

EventType = Literal["approval_needed", "decision_made"]
EVENT_TYPES: tuple[EventType, ...] = ("approval_needed", "decision_made")

OutboxState = Literal["pending", "sending", "delivered", "failed"]
OUTBOX_STATES: tuple[OutboxState, ...] = ("pending", "sending", "delivered", "failed")

SIGNATURE_HEADER = "X-HITL-Signature"
TIMESTAMP_HEADER = "X-HITL-Timestamp"
DELIVERY_HEADER = "X-HITL-Delivery"
EVENT_HEADER = "X-HITL-Event"


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """One configured receiver (`[[webhooks]]` in HITL_CONFIG)."""

    name: str
    """Key of this endpoint's outbox rows: keep it stable, or old rows stay undelivered."""
    url: str
    secret: str = field(repr=False)
    events: tuple[EventType, ...] = ("approval_needed",)
    timeout: float = 10.0
    """Seconds per connect / write / read of one request."""
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0


@dataclass(frozen=True, kw_only=True)
class NotifyConfig:
    """The webhooks and delivery settings read from HITL_CONFIG."""

    webhooks: tuple[Webhook, ...] = ()
    lease_seconds: float = 60.0
    concurrency_per_endpoint: int = 4

    def subscribed(self, event_type: str) -> list[Webhook]:
        """Webhooks that want this event."""
        return [hook for hook in self.webhooks if event_type in hook.events]


def load_config(settings: Settings | Mapping[str, Any]) -> NotifyConfig:
    """Read `[notify]` and `[[webhooks]]` from the policy file (or a parsed policy dict).

    Raises:
        HitlError: an entry is malformed; the message names the entry and the fix.
    """
    policy = settings if isinstance(settings, Mapping) else settings.policy
    notify = policy.get("notify", {}) or {}
    if not isinstance(notify, Mapping):
        raise HitlError("[notify] in HITL_CONFIG must be a table, e.g. [notify]\\nmax_attempts = 8.")
    defaults = {
        "max_attempts": int(_positive(notify, "max_attempts", 8, "[notify]")),
        "backoff_base_seconds": _positive(notify, "backoff_base_seconds", 2.0, "[notify]"),
        "backoff_max_seconds": _positive(notify, "backoff_max_seconds", 600.0, "[notify]"),
    }
    entries = policy.get("webhooks", []) or []
    if not isinstance(entries, list):
        raise HitlError('webhooks in HITL_CONFIG must be an array of tables: [[webhooks]]\\nurl = "https://...".')
    webhooks: list[Webhook] = []
    for number, entry in enumerate(entries, start=1):
        webhooks.append(_webhook(entry, number, defaults))
    names = [hook.name for hook in webhooks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise HitlError(
            f"Webhooks {', '.join(duplicates)} are configured twice in HITL_CONFIG; give each [[webhooks]] "
            "entry its own url or name."
        )
    return NotifyConfig(
        webhooks=tuple(webhooks),
        lease_seconds=_positive(notify, "lease_seconds", 60.0, "[notify]"),
        concurrency_per_endpoint=int(_positive(notify, "concurrency_per_endpoint", 4, "[notify]")),
    )


def _webhook(entry: Any, number: int, defaults: dict[str, Any]) -> Webhook:
    where = f"[[webhooks]] entry #{number}"
    if not isinstance(entry, Mapping):
        raise HitlError(f"{where} in HITL_CONFIG must be a table with url and secret.")
    url = str(entry.get("url") or "")
    if not url.startswith(("http://", "https://")):
        raise HitlError(f"{where} has url={url!r}; expected an http:// or https:// URL the desk can POST to.")
    secret = entry.get("secret")
    if not secret and entry.get("secret_env"):
        secret = os.environ.get(str(entry["secret_env"]))
        if not secret:
            raise HitlError(f"{where} reads its secret from ${entry['secret_env']}, which is not set.")
    if not secret:
        raise HitlError(
            f"{where} ({url}) has no secret. Add secret = \"...\" or secret_env = \"VAR\": every "
            "notification is signed so receivers can reject forged ones."
        )
    events = entry.get("events", ["approval_needed"])
    if isinstance(events, str) or not isinstance(events, list) or not events:
        raise HitlError(f"{where} has events={events!r}; expected a list drawn from {list(EVENT_TYPES)}.")
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise HitlError(f"{where} lists unknown events {unknown}; use {list(EVENT_TYPES)}.")
    return Webhook(
        name=str(entry.get("name") or url),
        url=url,
        secret=str(secret),
        events=tuple(dict.fromkeys(events)),
        timeout=_positive(entry, "timeout", 10.0, where),
        max_attempts=int(_positive(entry, "max_attempts", defaults["max_attempts"], where)),
        backoff_base_seconds=_positive(entry, "backoff_base_seconds", defaults["backoff_base_seconds"], where),
        backoff_max_seconds=_positive(entry, "backoff_max_seconds", defaults["backoff_max_seconds"], where),
    )


def _positive(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise HitlError(f"{where} {key}={value!r} in HITL_CONFIG must be a positive number, e.g. {default:g}.")
    return float(value)


# --------------------------------------------------------------------------- signing


def sign(secret: str, timestamp: str, body: bytes | str) -> str:
    """The `X-HITL-Signature` value: `sha256=` + hex HMAC-SHA256 of `f"{timestamp}.{body}"`."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    body: bytes | str,
    signature: str | None,
    timestamp: str | None,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a received notification is authentic and fresh (for receivers and tests)."""
    if not signature or not timestamp:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _dumps(body: Mapping[str, Any]) -> str:
    return json.dumps(json_safe(body), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def _review_url(settings: Settings, thread_id: str) -> str:
    return f"{settings.review_url.rstrip('/')}/review?thread={quote(thread_id, safe='')}"


# --------------------------------------------------------------------------- tables

_OUTBOX_COLUMNS = (
    "id", "event_key", "event_type", "endpoint", "thread_id", "interrupt_id", "body", "state", "attempts",
    "retry_from", "next_attempt_at", "lease_until", "claimed_by", "last_status", "last_error", "created_at",
    "delivered_at",
)  # fmt: skip
_DELIVERY_COLUMNS = (
    "id", "outbox_id", "attempt", "worker", "started_at", "duration_ms", "status_code", "outcome", "error",
    "response_excerpt",
)  # fmt: skip

_ready_stores: weakref.WeakSet[Any] = weakref.WeakSet()
_ready_lock = threading.Lock()


def ensure_tables(inbox: Desk) -> None:
    """Refuse a read-only store: `hitl_outbox` and `hitl_deliveries` exist once a store is open
    (`hitl.storage.migrations`), but deliveries must be recorded."""
    store = inbox.store
    with _ready_lock:
        if store in _ready_stores:
            return
        if store.read_only:
            raise StoreError(
                f"The database {store.display_url} is read-only: webhook notifications need to record "
                "their deliveries. Fix the file's permissions, or run the watcher against a writable copy."
            )
        _ready_stores.add(store)


@dataclass(frozen=True, kw_only=True)
class OutboxRow:
    """One notification for one endpoint."""

    id: str
    event_key: str
    event_type: str
    endpoint: str
    thread_id: str
    interrupt_id: str | None
    body: str
    state: OutboxState
    attempts: int
    retry_from: int
    next_attempt_at: datetime
    lease_until: datetime | None
    claimed_by: str | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> OutboxRow:
        data = dict(zip(_OUTBOX_COLUMNS, row))
        for key in ("next_attempt_at", "lease_until", "created_at", "delivered_at"):
            data[key] = _when(data[key])
        data["attempts"] = int(data["attempts"])
        data["retry_from"] = int(data["retry_from"])
        data["last_status"] = None if data["last_status"] is None else int(data["last_status"])
        return cls(**data)


@dataclass(frozen=True, kw_only=True)
class DeliveryAttempt:
    """One HTTP attempt from the `hitl_deliveries` log."""

    id: str
    outbox_id: str
    attempt: int
    worker: str
    started_at: datetime
    duration_ms: float | None
    status_code: int | None
    outcome: Literal["delivered", "retry", "failed"]
    error: str | None
    response_excerpt: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> DeliveryAttempt:
        data = dict(zip(_DELIVERY_COLUMNS, row))
        data["started_at"] = _when(data["started_at"])
        data["attempt"] = int(data["attempt"])
        data["status_code"] = None if data["status_code"] is None else int(data["status_code"])
        return cls(**data)


def _when(seconds: Any) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(float(seconds), timezone.utc)


# --------------------------------------------------------------------------- enqueueing


def _insert_rows(inbox: Desk, rows: Iterable[dict[str, Any]]) -> int:
    """Insert outbox rows; an existing (event_key, endpoint) is left alone. Returns how many were new."""
    store = inbox.store
    columns = ("id", "event_key", "event_type", "endpoint", "thread_id", "interrupt_id", "body", "state",
               "next_attempt_at", "created_at")  # fmt: skip
    sql = store.dialect.sql(
        f"INSERT INTO hitl_outbox ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        "ON CONFLICT DO NOTHING"
    )
    added = 0
    rows = list(rows)
    if not rows:
        return 0
    with store.connection(write=True) as conn:
        for row in rows:
            added += max(0, conn.execute(sql, tuple(row[c] for c in columns)).rowcount or 0)
    return added


def _outbox_row(hook: Webhook, event_type: str, event_key: str, thread_id: str, interrupt_id: str | None,
                body: dict[str, Any], now: float) -> dict[str, Any]:  # fmt: skip
    row_id = uuid.uuid4().hex
    return {
        "id": row_id,
        "event_key": event_key,
        "event_type": event_type,
        "endpoint": hook.name,
        "thread_id": thread_id,
        "interrupt_id": interrupt_id,
        "body": _dumps({"event_id": row_id, **body}),
        "state": "pending",
        "next_attempt_at": now,
        "created_at": now,
    }


def _is_fork(store: Any, thread_id: str) -> bool:
    """A QA fork (`hitl_fork_of` in its metadata) is not a production request: no approval_needed."""
    latest = store.latest_checkpoint(thread_id)
    return bool(latest and isinstance(latest[1], dict) and latest[1].get("hitl_fork_of"))


def enqueue_approvals(inbox: Desk, thread_ids: Sequence[str], *, config: NotifyConfig | None = None) -> int:
    """Queue one `approval_needed` per pending interrupt of these threads, per subscribed endpoint.

    Idempotent: interrupts already queued for an endpoint are skipped before anything is decoded.
    Returns how many rows were added.
    """
    config = config or load_config(inbox.settings)
    hooks = config.subscribed("approval_needed")
    if not hooks or not thread_ids:
        return 0
    ensure_tables(inbox)
    store = inbox.store
    added = 0
    for start in range(0, len(thread_ids), 400):
        chunk = list(dict.fromkeys(thread_ids[start : start + 400]))
        marks = ",".join("?" for _ in chunk)
        waiting = store.query(
            f"SELECT thread_id, graph_id, interrupt_ids FROM hitl_threads WHERE status = 'waiting' AND thread_id IN ({marks})",
            chunk,
        )
        if not waiting:
            continue
        queued = {
            (key, endpoint)
            for key, endpoint in store.query(
                f"SELECT event_key, endpoint FROM hitl_outbox WHERE event_type = 'approval_needed' "
                f"AND thread_id IN ({','.join('?' for _ in waiting)})",
                [row[0] for row in waiting],
            )
        }
        missing = [
            row[0]
            for row in waiting
            if any(
                (f"approval_needed:{row[0]}:{iid}", hook.name) not in queued
                for iid in (row[2] or "").split(",")
                if iid
                for hook in hooks
            )
        ]
        missing = [thread_id for thread_id in missing if not _is_fork(store, thread_id)]
        if not missing:
            continue
        graph_of = {row[0]: row[1] for row in waiting}
        decoded = store.listed_interrupts(missing)
        now = time.time()
        rows = []
        for thread_id in missing:
            for raw in decoded.get(thread_id, []):
                if not raw.answerable:
                    continue
                item = pending_interrupt(raw)
                key = f"approval_needed:{thread_id}:{item.id}"
                body = {
                    "type": "approval_needed",
                    "thread_id": thread_id,
                    "interrupt_id": item.id,
                    "graph_id": graph_of.get(thread_id),
                    "kind": item.kind,
                    "summary": item.summary,
                    "data": item.value,
                    "response_schema": item.response_schema,
                    "timestamp": _iso(now),
                    "review_url": _review_url(inbox.settings, thread_id),
                }
                rows.extend(
                    _outbox_row(hook, "approval_needed", key, thread_id, item.id, body, now)
                    for hook in hooks
                    if (key, hook.name) not in queued
                )
        added += _insert_rows(inbox, rows)
    return added


def enqueue_decisions(inbox: Desk, decisions: Sequence[Mapping[str, Any]], *, config: NotifyConfig | None = None) -> int:
    """Queue one `decision_made` per audit row (as passed to `Inbox.on_decided` hooks)."""
    config = config or load_config(inbox.settings)
    hooks = config.subscribed("decision_made")
    if not hooks or not decisions:
        return 0
    ensure_tables(inbox)
    now = time.time()
    anchors = _audit_anchors(inbox, [decision.get("seq") for decision in decisions])
    rows = []
    for decision in decisions:
        thread_id = str(decision["thread_id"])
        interrupt_id = str(decision.get("interrupt_id") or "")
        decided_at = decision.get("decided_at") or now
        if isinstance(decided_at, datetime):
            decided_at = decided_at.timestamp()
        key = f"decision_made:{decision.get('seq') or uuid.uuid4().hex}"
        body = {
            "type": "decision_made",
            "thread_id": thread_id,
            "interrupt_id": interrupt_id,
            "graph_id": decision.get("graph_id"),
            "kind": decision.get("kind"),
            "action": decision.get("action"),
            "reviewer": decision.get("reviewer"),
            "comment": decision.get("comment") or "",
            "answer": decision.get("answer"),
            "outcome": decision.get("outcome"),
            "error": decision.get("error"),
            "decided_at": _iso(float(decided_at)),
            "timestamp": _iso(now),
            "review_url": _review_url(inbox.settings, thread_id),
            # This decision's audit row as SEQ:HASH: a receiver that keeps it can later prove,
            # with `python -m hitl audit verify --anchor SEQ:HASH`, that the row and every row
            # before it are still in the database, unchanged.
            "audit_anchor": anchors.get(decision.get("seq")),
        }
        rows.extend(_outbox_row(hook, "decision_made", key, thread_id, interrupt_id, body, now) for hook in hooks)
    return _insert_rows(inbox, rows)


def _audit_anchors(inbox: Desk, seqs: Sequence[Any]) -> dict[Any, str]:
    """{seq: "SEQ:row_hash"} of these audit rows (those that exist)."""
    wanted = sorted({int(seq) for seq in seqs if isinstance(seq, int) and not isinstance(seq, bool)})
    if not wanted:
        return {}
    rows = inbox.store.query(
        f"SELECT seq, row_hash FROM hitl_audit WHERE seq IN ({', '.join('?' for _ in wanted)})", wanted
    )
    return {int(seq): f"{int(seq)}:{row_hash}" for seq, row_hash in rows}


_attached: weakref.WeakSet[Any] = weakref.WeakSet()
_attach_lock = threading.Lock()


def attach(inbox: Desk, config: NotifyConfig | None = None) -> bool:
    """Hook the outbox into this inbox (once): refreshes queue approvals, decisions queue events.

    Hook failures are logged, never raised into the refresh or the decision: the watcher's
    reconcile pass queues whatever a failed hook missed. Returns False when no webhook is set.
    """
    config = config or load_config(inbox.settings)
    if not config.webhooks:
        return False
    with _attach_lock:
        if inbox in _attached:
            return True
        _attached.add(inbox)

    def on_indexed(thread_ids: list[str]) -> None:
        try:
            enqueue_approvals(inbox, thread_ids, config=config)
        except Exception:
            log.exception("Could not queue approval_needed notifications; the watcher will retry")

    def on_decided(rows: list[dict[str, Any]]) -> None:
        try:
            enqueue_decisions(inbox, rows, config=config)
        except Exception:
            log.exception("Could not queue decision_made notifications for %s", [r.get("thread_id") for r in rows])

    inbox.on_indexed(on_indexed)
    inbox.on_decided(on_decided)
    return True


# --------------------------------------------------------------------------- delivery

_DUE = "((state = 'pending' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until < ?))"


@dataclass(frozen=True, kw_only=True)
class _Claimed:
    id: str
    endpoint: str
    event_type: str
    body: str
    attempt: int
    budget_used: int
    """Attempts since the last manual retry, this one included."""


class Notifier:
    """Claims due outbox rows and sends them on a thread pool; one per watcher.

    Each endpoint gets at most `concurrency_per_endpoint` requests in flight, so an endpoint
    that hangs holds only its own share of the pool.
    """

    def __init__(
        self,
        inbox: Desk,
        *,
        config: NotifyConfig | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.inbox = inbox
        self.config = config or load_config(inbox.settings)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._hooks = {hook.name: hook for hook in self.config.webhooks}
        workers = max(1, self.config.concurrency_per_endpoint * len(self._hooks))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hitl-webhook")
        self._client = httpx.Client(follow_redirects=False, headers={"User-Agent": "hitl-desk"})
        self._in_flight: dict[str, set[Future[None]]] = {name: set() for name in self._hooks}
        self._lock = threading.Lock()
        self._reconciled_until = 0.0
        ensure_tables(inbox)

    # ------------------------------------------------------------------ passes

    def reconcile(self) -> int:
        """Queue approvals for waiting threads indexed since the last pass, by any process.

        The first pass covers every waiting thread (a backlog from before webhooks were set up).
        Later passes look back 60 s before the newest index time seen, because another process's
        index rows can commit a little after the time they carry.
        """
        if not self.config.subscribed("approval_needed"):
            return 0
        since = max(0.0, self._reconciled_until - 60.0)
        rows = self.inbox.store.query(
            "SELECT thread_id, updated_at FROM hitl_threads WHERE status = 'waiting' AND updated_at >= ? "
            "ORDER BY updated_at",
            (since,),
        )
        if not rows:
            return 0
        added = enqueue_approvals(self.inbox, [row[0] for row in rows], config=self.config)
        self._reconciled_until = max(self._reconciled_until, max(float(row[1]) for row in rows))
        return added

    def dispatch(self, *, due_before: float | None = None) -> int:
        """Claim due rows (up to each endpoint's free capacity) and start sending them.

        Args:
            due_before: only rows due by this time (a `--once` pass leaves later retries alone).
        """
        started = 0
        for name in self._hooks:
            with self._lock:
                self._in_flight[name] = {f for f in self._in_flight[name] if not f.done()}
                free = self.config.concurrency_per_endpoint - len(self._in_flight[name])
            if free <= 0:
                continue
            for claimed in self._claim(name, free, due_before):
                future = self._pool.submit(self._deliver, claimed)
                with self._lock:
                    self._in_flight[name].add(future)
                started += 1
        return started

    def busy(self) -> bool:
        """Whether a send is in flight."""
        with self._lock:
            return any(not f.done() for group in self._in_flight.values() for f in group)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for in-flight sends to be recorded; False if some were still running at the timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            futures = [f for group in self._in_flight.values() for f in group]
        for future in futures:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                future.result(timeout=remaining)
            except TimeoutError:
                return False
            except Exception:  # _deliver logs its own failures
                pass
        return True

    def next_due_in(self) -> float | None:
        """Seconds until the next pending row is due (0 when one is due now), or None."""
        marks = ",".join("?" for _ in self._hooks)
        rows = self.inbox.store.query(
            f"SELECT MIN(next_attempt_at) FROM hitl_outbox WHERE state = 'pending' AND endpoint IN ({marks})",
            list(self._hooks),
        )
        if not rows or rows[0][0] is None:
            return None
        return max(0.0, float(rows[0][0]) - time.time())

    def close(self, *, wait: bool = True) -> None:
        """Finish (or abandon, with wait=False) in-flight sends and release the pool."""
        self._pool.shutdown(wait=wait)
        self._client.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ one row

    def _claim(self, endpoint: str, limit: int, due_before: float | None = None) -> list[_Claimed]:
        store = self.inbox.store
        sql = store.dialect.sql
        hook = self._hooks[endpoint]
        now = time.time()
        due = now if due_before is None else min(now, due_before)
        lease_until = now + max(self.config.lease_seconds, 4 * hook.timeout)
        claimed = []
        with store.connection(write=True) as conn:
            candidates = conn.execute(
                sql(
                    f"SELECT id, event_type, body, attempts, retry_from FROM hitl_outbox WHERE endpoint = ? AND {_DUE} "
                    "ORDER BY next_attempt_at, created_at LIMIT ?"
                ),
                (endpoint, due, now, limit),
            ).fetchall()
            for row_id, event_type, body, attempts, retry_from in candidates:
                # The WHERE repeats the due test: of two workers racing for a row, one updates it.
                taken = conn.execute(
                    sql(
                        "UPDATE hitl_outbox SET state = 'sending', claimed_by = ?, lease_until = ?, "
                        f"attempts = attempts + 1 WHERE id = ? AND {_DUE}"
                    ),
                    (self.worker_id, lease_until, row_id, due, now),
                ).rowcount
                if taken == 1:
                    claimed.append(
                        _Claimed(
                            id=row_id,
                            endpoint=endpoint,
                            event_type=event_type,
                            body=body,
                            attempt=int(attempts) + 1,
                            budget_used=int(attempts) + 1 - int(retry_from),
                        )
                    )
        return claimed

    def _deliver(self, row: _Claimed) -> None:
        hook = self._hooks[row.endpoint]
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: row.event_type,
            DELIVERY_HEADER: row.id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(hook.secret, timestamp, row.body),
        }
        started = time.time()
        status: int | None = None
        excerpt: str | None = None
        retry_after: float | None = None
        try:
            response = self._client.post(hook.url, content=row.body.encode("utf-8"), headers=headers, timeout=hook.timeout)
            status = response.status_code
            excerpt = response.text[:500]
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if 200 <= status < 300:
                error, retryable = None, False
            else:
                error, retryable = f"HTTP {status} from {hook.url}", status == 429 or status >= 500
        except httpx.TimeoutException as exc:
            error, retryable = f"no answer within {hook.timeout:g} s ({type(exc).__name__})", True
        except httpx.TransportError as exc:
            error, retryable = f"{type(exc).__name__}: {exc}", True
        except Exception as exc:  # a bad URL or the like: retrying will not help
            error, retryable = f"{type(exc).__name__}: {exc}", False
        duration_ms = (time.time() - started) * 1000
        if error is None:
            state, outcome, next_at = "delivered", "delivered", started
        elif retryable and row.budget_used < hook.max_attempts:
            delay = min(hook.backoff_max_seconds, hook.backoff_base_seconds * 2 ** (row.budget_used - 1))
            if retry_after is not None:
                delay = min(hook.backoff_max_seconds, max(delay, retry_after))
            state, outcome, next_at = "pending", "retry", time.time() + delay
        else:
            state, outcome, next_at = "failed", "failed", started
            if retryable:
                error = f"{error}; gave up after {row.budget_used} attempt(s)"
        try:
            self._record(row, state=state, outcome=outcome, next_at=next_at, status=status, error=error,
                         excerpt=excerpt, started=started, duration_ms=duration_ms)  # fmt: skip
        except Exception:
            # The row stays leased; after the lease another pass sends it again (same delivery id).
            log.exception("Could not record the delivery of %s to %s", row.id, hook.url)

    def _record(self, row: _Claimed, *, state: str, outcome: str, next_at: float, status: int | None,
                error: str | None, excerpt: str | None, started: float, duration_ms: float) -> None:  # fmt: skip
        store = self.inbox.store
        sql = store.dialect.sql
        with store.connection(write=True) as conn:
            conn.execute(
                sql(
                    "UPDATE hitl_outbox SET state = ?, next_attempt_at = ?, lease_until = NULL, last_status = ?, "
                    "last_error = ?, delivered_at = ? WHERE id = ? AND claimed_by = ? AND state = 'sending'"
                ),
                (state, next_at, status, error, started if state == "delivered" else None, row.id, self.worker_id),
            )
            conn.execute(
                sql(
                    f"INSERT INTO hitl_deliveries ({', '.join(_DELIVERY_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _DELIVERY_COLUMNS)})"
                ),
                (uuid.uuid4().hex, row.id, row.attempt, self.worker_id, started, round(duration_ms, 1), status,
                 outcome, error, excerpt),  # fmt: skip
            )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the exponential backoff is used instead


# --------------------------------------------------------------------------- watcher


def run_watcher(
    inbox: Desk,
    once: bool = False,
    interval: float = 2.0,
    *,
    stop: threading.Event | None = None,
    config: NotifyConfig | None = None,
) -> None:
    """Refresh the inbox, queue notifications, deliver due ones; loop until `stop` is set.

    `python -m hitl notify` runs this. With `once`, one pass: everything due now is sent and
    awaited (retries it schedules are left for the next run). On stop (or Ctrl-C) in-flight
    sends finish and are recorded before it returns.

    Raises:
        HitlError: no webhook is configured, or the configuration is invalid.
    """
    config = config or load_config(inbox.settings)
    if not config.webhooks:
        raise HitlError(
            "No webhooks are configured. Add a [[webhooks]] entry (url, secret, events) to the "
            "HITL_CONFIG file; see hitl.toml.example."
        )
    stop = stop or threading.Event()
    attach(inbox, config)
    notifier = Notifier(inbox, config=config)
    log.info("Webhook watcher %s delivering to %s", notifier.worker_id, ", ".join(h.url for h in config.webhooks))
    next_scan = 0.0
    cutoff: float | None = None
    try:
        while not stop.is_set():
            if time.monotonic() >= next_scan and not (once and cutoff is not None):
                try:
                    inbox.refresh()  # on_indexed queues what this refresh found
                    notifier.reconcile()  # and this what other processes indexed
                except HitlError as exc:  # database locked or briefly unavailable: next scan
                    log.warning("Webhook scan failed: %s", exc)
                next_scan = time.monotonic() + interval
                cutoff = time.time() if once else None
            # Read before dispatching: a send finishing during dispatch() frees capacity this
            # round did not use, and a --once pass must come round again for it.
            was_busy = notifier.busy()
            try:
                started = notifier.dispatch(due_before=cutoff)
                due_in = None if once else notifier.next_due_in()
            except HitlError as exc:
                log.warning("Webhook dispatch failed: %s", exc)
                started, due_in = 0, None
            busy = notifier.busy()
            if once and not started and not was_busy and not busy:
                return
            # Sleep until the next scan or the next due retry; while sends are in flight, look
            # again soon, so capacity they free is used for rows already due.
            pause = 0.05 if once else next_scan - time.monotonic()
            if due_in is not None:
                pause = min(pause, due_in)
            if busy:
                pause = min(pause, 0.05)
            stop.wait(max(0.0, pause))
    except KeyboardInterrupt:
        pass
    finally:
        notifier.close(wait=True)


_background: dict[str, tuple[threading.Thread, threading.Event]] = {}
_background_lock = threading.Lock()


def start_background_notifier(inbox: Desk, *, interval: float = 2.0) -> threading.Thread | None:
    """Run the watcher in a daemon thread, once per process and database.

    Returns None without webhooks, or on a read-only database (where deliveries cannot be
    recorded: run `python -m hitl notify` against a writable one).
    """
    config = load_config(inbox.settings)
    if not config.webhooks:
        return None
    if inbox.store.read_only:
        log.warning("Webhook notifications are off: %s is read-only", inbox.store.display_url)
        return None
    with _background_lock:
        running = _background.get(inbox.store.url)
        if running and running[0].is_alive():
            return running[0]
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                try:
                    run_watcher(inbox, interval=interval, stop=stop, config=config)
                except Exception:  # keep notifying: log, pause, start over
                    log.exception("Webhook watcher stopped unexpectedly; restarting in %g s", interval)
                    stop.wait(interval)

        thread = threading.Thread(target=run, name="hitl-notifier", daemon=True)
        _background[inbox.store.url] = (thread, stop)
        thread.start()
        return thread


def stop_background_notifier(inbox: Desk, *, timeout: float | None = 30.0) -> None:
    """Stop this database's background notifier, letting in-flight sends finish."""
    with _background_lock:
        running = _background.pop(inbox.store.url, None)
    if running:
        running[1].set()
        running[0].join(timeout)


# --------------------------------------------------------------------------- the log


def outbox_rows(
    inbox: Desk, *, state: str | None = None, endpoint: str | None = None, thread_id: str | None = None, limit: int = 200
) -> list[OutboxRow]:
    """Notifications, newest first, optionally by state, endpoint or thread."""
    ensure_tables(inbox)
    where, params = [], []
    for column, value in (("state", state), ("endpoint", endpoint), ("thread_id", thread_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM hitl_outbox"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id LIMIT ?"
    return [OutboxRow.from_row(row) for row in inbox.store.query(sql, [*params, int(limit)])]


def outbox_counts(inbox: Desk) -> dict[str, int]:
    """How many notifications are in each state."""
    ensure_tables(inbox)
    return {state: int(n) for state, n in inbox.store.query("SELECT state, COUNT(*) FROM hitl_outbox GROUP BY state")}


def delivery_attempts(inbox: Desk, outbox_id: str | None = None, *, limit: int = 500) -> list[DeliveryAttempt]:
    """HTTP attempts, newest first: of one notification, or of all."""
    ensure_tables(inbox)
    sql = f"SELECT {', '.join(_DELIVERY_COLUMNS)} FROM hitl_deliveries"
    params: list[Any] = []
    if outbox_id is not None:
        sql += " WHERE outbox_id = ?"
        params.append(outbox_id)
    sql += " ORDER BY started_at DESC, attempt DESC LIMIT ?"
    return [DeliveryAttempt.from_row(row) for row in inbox.store.query(sql, [*params, int(limit)])]


def retry_delivery(inbox: Desk, outbox_id: str) -> OutboxRow:
    """Send a failed (or backing-off) notification again now, with a fresh attempt budget.

    Raises:
        HitlError: no such notification, or it was delivered or is being sent right now.
    """
    ensure_tables(inbox)
    store = inbox.store
    with store.connection(write=True) as conn:
        changed = conn.execute(
            store.dialect.sql(
                "UPDATE hitl_outbox SET state = 'pending', next_attempt_at = ?, retry_from = attempts "
                "WHERE id = ? AND state IN ('failed', 'pending')"
            ),
            (time.time(), outbox_id),
        ).rowcount
    rows = store.query(f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM hitl_outbox WHERE id = ?", (outbox_id,))
    if not rows:
        raise HitlError(f"Notification {outbox_id!r} is not in the outbox; reload the Webhooks page.")
    row = OutboxRow.from_row(rows[0])
    if not changed:
        raise HitlError(
            f"Notification {outbox_id} is {row.state}"
            + (" already; nothing to retry." if row.state == "delivered" else " right now; wait for this attempt to finish.")
        )
    return row
