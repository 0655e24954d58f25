"""The outbox and its delivery log as the desk shows them: rows, attempts, counts, a manual retry."""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

from hitl.config import Settings
from hitl.desk import Desk
from hitl.errors import HitlError, StoreError
from hitl.jsondata import json_safe
from hitl.notify.config import OutboxState
from hitl.storage.outbox import DELIVERY_COLUMNS, OUTBOX_COLUMNS, delivery_query, outbox_query, outbox_row, outbox_state_counts, reset_for_retry


def compact_json(body: Mapping[str, Any]) -> str:
    return json.dumps(json_safe(body), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def iso_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def review_url(settings: Settings, thread_id: str) -> str:
    return f"{settings.review_url.rstrip('/')}/review?thread={quote(thread_id, safe='')}"


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
        data = dict(zip(OUTBOX_COLUMNS, row))
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
        data = dict(zip(DELIVERY_COLUMNS, row))
        data["started_at"] = _when(data["started_at"])
        data["attempt"] = int(data["attempt"])
        data["status_code"] = None if data["status_code"] is None else int(data["status_code"])
        return cls(**data)


def _when(seconds: Any) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(float(seconds), timezone.utc)


def outbox_rows(
    inbox: Desk, *, state: str | None = None, endpoint: str | None = None, thread_id: str | None = None, limit: int = 200
) -> list[OutboxRow]:
    """Notifications, newest first, optionally by state, endpoint or thread."""
    ensure_tables(inbox)
    filters = {"state": state, "endpoint": endpoint, "thread_id": thread_id}
    return [OutboxRow.from_row(row) for row in outbox_query(inbox.store, filters=filters, limit=limit)]


def outbox_counts(inbox: Desk) -> dict[str, int]:
    """How many notifications are in each state."""
    ensure_tables(inbox)
    return outbox_state_counts(inbox.store)


def delivery_attempts(inbox: Desk, outbox_id: str | None = None, *, limit: int = 500) -> list[DeliveryAttempt]:
    """HTTP attempts, newest first: of one notification, or of all."""
    ensure_tables(inbox)
    return [DeliveryAttempt.from_row(row) for row in delivery_query(inbox.store, outbox_id, limit=limit)]


def retry_delivery(inbox: Desk, outbox_id: str) -> OutboxRow:
    """Send a failed (or backing-off) notification again now, with a fresh attempt budget.

    Raises:
        HitlError: no such notification, or it was delivered or is being sent right now.
    """
    ensure_tables(inbox)
    changed = reset_for_retry(inbox.store, outbox_id, now=time.time())
    found = outbox_row(inbox.store, outbox_id)
    if found is None:
        raise HitlError(f"Notification {outbox_id!r} is not in the outbox; reload the Webhooks page.")
    row = OutboxRow.from_row(found)
    if not changed:
        raise HitlError(
            f"Notification {outbox_id} is {row.state}"
            + (" already; nothing to retry." if row.state == "delivered" else " right now; wait for this attempt to finish.")
        )
    return row
