"""`Notifier`: claims due outbox rows and sends them, signed, on a thread pool."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
import httpx
from hitl.desk import Desk
from hitl.storage.outbox import claim_due, next_due_at, record_delivery, threads_indexed_since
from hitl.notify.config import NotifyConfig, load_config
from hitl.notify.events import enqueue_approvals
from hitl.notify.rows import ensure_tables
from hitl.notify.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

log = logging.getLogger("hitl.notify")  # one logger for the whole of notify


@dataclass(frozen=True, kw_only=True)
class Claimed:
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
        rows = threads_indexed_since(self.inbox.store, since)
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
        due_at = next_due_at(self.inbox.store, list(self._hooks))
        return None if due_at is None else max(0.0, due_at - time.time())

    def close(self, *, wait: bool = True) -> None:
        """Finish (or abandon, with wait=False) in-flight sends and release the pool."""
        self._pool.shutdown(wait=wait)
        self._client.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ one row

    def _claim(self, endpoint: str, limit: int, due_before: float | None = None) -> list[Claimed]:
        hook = self._hooks[endpoint]
        now = time.time()
        taken = claim_due(
            self.inbox.store, endpoint, limit=limit, due=now if due_before is None else min(now, due_before), now=now,
            worker_id=self.worker_id, lease_until=now + max(self.config.lease_seconds, 4 * hook.timeout),
        )  # fmt: skip
        return [
            Claimed(id=row_id, endpoint=endpoint, event_type=event_type, body=body, attempt=attempts + 1,
                     budget_used=attempts + 1 - retry_from)  # fmt: skip
            for row_id, event_type, body, attempts, retry_from in taken
        ]

    def _deliver(self, row: Claimed) -> None:
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

    def _record(self, row: Claimed, *, state: str, outcome: str, next_at: float, status: int | None,
                error: str | None, excerpt: str | None, started: float, duration_ms: float) -> None:  # fmt: skip
        record_delivery(
            self.inbox.store, row.id, worker_id=self.worker_id, attempt=row.attempt, state=state, outcome=outcome,
            next_at=next_at, status=status, error=error, excerpt=excerpt, started=started, duration_ms=duration_ms,
        )  # fmt: skip


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the exponential backoff is used instead
